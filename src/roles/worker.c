/* roles: the worker. A loop over TASK / EPOCH / STOP: one genome at a time,
 * its epochs from the epoch source (training or replay, epoch_source.h, which
 * the loop does not tell apart), an EPOCH per epoch, STOP honoured between
 * batches, a checkpoint per epoch. In a worker group the leader does all of
 * that; the other ranks receive the task from it, run their slice of every
 * batch and stop when it stops. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "epoch_source.h"

typedef struct {
    const a4nn_role_ctx *ctx;
    a4nn_group *group; /* NULL: a worker of one rank */
    int leader;        /* this rank talks to the search and the analytics */
    int model_id;
    int stop;        /* STOP received for the current model */
    int shutdown;    /* SHUTDOWN waiting from the search */
    int interrupted; /* this rank got a signal */
    int mpi_failed;
} poll_state;

static double unix_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

/* Receives pending STOP messages; notes SHUTDOWN and signals. */
static void poll_messages(poll_state *ps)
{
    const a4nn_role_ctx *ctx = ps->ctx;
    if (*ctx->interrupted)
        ps->interrupted = 1;
    for (;;) {
        int flag = 0, src = -1;
        a4nn_msg_stop m;
        if (a4nn_probe(ctx, MPI_ANY_SOURCE, A4NN_TAG_STOP, &flag, &src, NULL, NULL) != A4NN_OK ||
            (flag && a4nn_recv_stop(ctx, src, &m, NULL) != A4NN_OK)) {
            ps->mpi_failed = 1;
            return;
        }
        if (!flag)
            break;
        if (m.model_id == ps->model_id)
            ps->stop = 1; /* a STOP for a model already done is stale: dropped */
    }
    int flag = 0;
    if (a4nn_probe(ctx, 0, A4NN_TAG_SHUTDOWN, &flag, NULL, NULL, NULL) != A4NN_OK)
        ps->mpi_failed = 1;
    if (flag)
        ps->shutdown = 1;
}

/* Between batches: the leader polls for STOP and SHUTDOWN; in a group all
 * ranks then agree (one small allreduce, bit 1: stop, bit 2: a rank got a
 * signal), so that they leave the batch loop together. */
static int should_stop(void *p)
{
    poll_state *ps = p;
    int local = 0;
    if (ps->leader) {
        poll_messages(ps);
        local = ps->stop || ps->shutdown || ps->interrupted || ps->mpi_failed;
    }
    if (!ps->group)
        return local;
    int flags = (local ? 1 : 0) | (ps->interrupted || *ps->ctx->interrupted ? 2 : 0), all = 0;
    if (MPI_Allreduce(&flags, &all, 1, MPI_INT, MPI_BOR, a4nn_group_comm(ps->group)) !=
        MPI_SUCCESS) {
        ps->mpi_failed = 1;
        return 1;
    }
    if (all & 2)
        ps->interrupted = 1;
    return all != 0;
}

/* What a group leader passes on to the other ranks of its group. */
enum { GROUP_TASK = 1, GROUP_SHUTDOWN = 2 };
typedef struct {
    int32_t kind, interrupt;
    a4nn_msg_task task;
} group_cmd;

/* Leader: sends cmd to the group. Other ranks: waits for one (nonblocking
 * broadcast with short naps, so that an idle rank does not spin). */
static int group_cmd_bcast(poll_state *ps, group_cmd *cmd, a4nn_error *err)
{
    MPI_Request req;
    A4NN_CHECK_MPI(MPI_Ibcast(cmd, sizeof *cmd, MPI_BYTE, 0, a4nn_group_comm(ps->group), &req));
    double nap = 1e-4;
    for (;;) {
        int done = 0;
        A4NN_CHECK_MPI(MPI_Test(&req, &done, MPI_STATUS_IGNORE));
        if (done)
            return A4NN_OK;
        a4nn_role_nap(nap);
        nap = nap < 0.002 ? nap * 2 : 0.002;
    }
}

static int send_epoch(const a4nn_role_ctx *ctx, const a4nn_msg_task *task, double mflops,
                      const a4nn_epoch_row *row, int replayed, a4nn_error *err)
{
    const int model_id = task->model_id;
    a4nn_msg_epoch m;
    memset(&m, 0, sizeof m);
    m.model_id = model_id;
    m.front_version = task->front_version;
    m.epoch_budget = task->epoch_budget;
    m.epoch = row->epoch;
    m.worker = ctx->rank;
    m.replayed = replayed;
    m.train_acc = row->train_acc;
    m.val_acc = row->val_acc;
    m.loss = row->loss;
    m.seconds = row->seconds;
    m.mflops = mflops;
    m.prediction = m.uncertainty = NAN;
    return a4nn_send_epoch(ctx, a4nn_analytics_rank(ctx, model_id), &m, err);
}

/* One model on this rank: its curve so far, the checkpoint it goes to and
 * the source's state (kept after every epoch, so that an interrupt between
 * scheduled checkpoints still saves the last whole epoch). */
typedef struct {
    const a4nn_msg_task *task;
    a4nn_arch arch;
    a4nn_epoch_row *rows;
    int n_rows, saved, next, budget; /* saved: epochs in the checkpoint file */
    float *state;
    size_t n_state;
    char ckpt[1100];
    a4nn_checkpoint_info ck;
} model_run;

/* The model's network (input shape from the source), its source state, the
 * DONE it will send. */
static int model_begin(const a4nn_role_ctx *ctx, epoch_source *src, model_run *mr,
                       a4nn_msg_done *done, a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    const a4nn_msg_task *task = mr->task;
    a4nn_genome g;
    if (a4nn_genome_parse(task->genome, cfg->n_phases, cfg->n_nodes, &g, err) != A4NN_OK ||
        a4nn_arch_build(&g, src->input.c, src->input.h, src->input.w, cfg->init_channels, 2,
                        &mr->arch, err) != A4NN_OK)
        return A4NN_ERR;
    memset(done, 0, sizeof *done);
    done->model_id = task->model_id;
    done->worker = ctx->rank;
    done->mflops = mr->arch.mflops;
    done->params = mr->arch.params;
    done->start_time = unix_now();
    done->reason = A4NN_STOP_BUDGET;
    done->epoch_budget = task->epoch_budget;
    mr->budget = task->epoch_budget;
    mr->rows = a4nn_calloc((size_t)mr->budget + 1, sizeof *mr->rows);
    a4nn_checkpoint_path(ctx->dir, task->model_id, mr->ckpt, sizeof mr->ckpt);
    mr->ck.model_id = task->model_id;
    snprintf(mr->ck.genome, sizeof mr->ck.genome, "%s", task->genome);
    if (src->type->begin(src, task, &mr->arch, err) != A4NN_OK)
        return A4NN_ERR;
    mr->n_state = src->type->state_size(src);
    mr->state = a4nn_malloc((mr->n_state ? mr->n_state : 1) * sizeof *mr->state);
    return A4NN_OK;
}

/* Leader: continues from this model's checkpoint (only one of this very
 * genome), sending its epochs again as replayed. */
static int model_resume(const a4nn_role_ctx *ctx, epoch_source *src, model_run *mr,
                        a4nn_msg_done *done, a4nn_error *err)
{
    int found = 0, cn = 0, rc = A4NN_OK;
    a4nn_checkpoint_info got;
    a4nn_epoch_row *crows = NULL;
    float *cstate = NULL;
    size_t cns = 0;
    if (a4nn_checkpoint_read(mr->ckpt, &found, &got, &crows, &cn, &cstate, &cns, err) != A4NN_OK)
        return A4NN_ERR;
    if (found && got.model_id == mr->task->model_id && !strcmp(got.genome, mr->task->genome) &&
        got.next_epoch == cn && cn <= mr->budget && cns == mr->n_state) {
        int ne = got.next_epoch;
        if (mr->n_state == 0 ||
            (src->type->state_load(src, cstate, cns, &ne, err) == A4NN_OK && ne == got.next_epoch)) {
            mr->next = mr->saved = mr->n_rows = cn;
            memcpy(mr->rows, crows, (size_t)cn * sizeof *mr->rows);
            for (int i = 0; i < cn && rc == A4NN_OK; i++) {
                rc = send_epoch(ctx, mr->task, mr->arch.mflops, &mr->rows[i], 1, err);
                done->seconds += mr->rows[i].seconds;
            }
        }
    }
    free(crows);
    free(cstate);
    return rc;
}

/* A worker group starts where its leader's checkpoint says, from the same
 * weights, BatchNorm statistics and momentum. */
static int group_start(const a4nn_role_ctx *ctx, epoch_source *src, poll_state *ps,
                       model_run *mr, a4nn_error *err)
{
    MPI_Comm gc = a4nn_group_comm(src->group);
    int32_t start = mr->next;
    A4NN_CHECK_MPI(MPI_Bcast(&start, 1, MPI_INT32_T, 0, gc));
    if (start > 0 && mr->n_state > 0) {
        if (mr->n_state > (size_t)INT_MAX)
            return a4nn_errorf(err, "worker %d: a training state of %zu values is too large "
                                    "to broadcast", ctx->rank, mr->n_state);
        if (ps->leader)
            src->type->state_save(src, start, mr->state);
        A4NN_CHECK_MPI(MPI_Bcast(mr->state, (int)mr->n_state, MPI_FLOAT, 0, gc));
        int ne = 0;
        if (!ps->leader &&
            src->type->state_load(src, mr->state, mr->n_state, &ne, err) != A4NN_OK)
            return A4NN_ERR;
    }
    mr->next = start;
    return A4NN_OK;
}

static int write_checkpoint(const a4nn_role_ctx *ctx, model_run *mr, a4nn_error *err)
{
    mr->ck.next_epoch = mr->n_rows;
    if (a4nn_checkpoint_write(mr->ckpt, &mr->ck, mr->rows, mr->n_rows, mr->state, mr->n_state,
                              err) != A4NN_OK)
        return A4NN_ERR;
    mr->saved = mr->n_rows;
    return A4NN_OK;
}

/* Epochs until the budget, a STOP, SHUTDOWN or a signal; the leader reports
 * and checkpoints each for the group. */
static int model_epochs(const a4nn_role_ctx *ctx, epoch_source *src, poll_state *ps,
                        model_run *mr, a4nn_msg_done *done, a4nn_error *err)
{
    const int every = ctx->cfg->checkpoint_every;
    for (int e = mr->next; e < mr->budget; e++) {
        if (should_stop(ps))
            break;
        a4nn_epoch_row row;
        int stopped = 0;
        if (src->type->epoch(src, e, should_stop, ps, &row, &stopped, err) != A4NN_OK)
            return A4NN_ERR;
        if (stopped)
            break;
        mr->rows[mr->n_rows++] = row;
        done->seconds += row.seconds;
        if (!ps->leader)
            continue;
        if (send_epoch(ctx, mr->task, mr->arch.mflops, &row, 0, err) != A4NN_OK)
            return A4NN_ERR;
        if (every > 0 && mr->n_state > 0)
            src->type->state_save(src, e + 1, mr->state);
        if (every > 0 && ((e + 1) % every == 0 || e + 1 == mr->budget) &&
            write_checkpoint(ctx, mr, err) != A4NN_OK)
            return A4NN_ERR;
    }
    return A4NN_OK;
}

/* Trains or replays one task (whichever the source does); the leader fills
 * the DONE: why it ended, the last accuracy, the times. */
static int run_task(const a4nn_role_ctx *ctx, epoch_source *src, const a4nn_msg_task *task,
                    poll_state *ps, a4nn_msg_done *done, a4nn_error *err)
{
    model_run mr;
    memset(&mr, 0, sizeof mr);
    mr.task = task;
    int rc = model_begin(ctx, src, &mr, done, err);
    if (rc == A4NN_OK && ps->leader)
        rc = model_resume(ctx, src, &mr, done, err);
    if (rc == A4NN_OK && src->group)
        rc = group_start(ctx, src, ps, &mr, err);
    if (rc == A4NN_OK)
        rc = model_epochs(ctx, src, ps, &mr, done, err);
    if (rc == A4NN_OK && ps->leader)
        poll_messages(ps);
    if (rc == A4NN_OK && ps->mpi_failed)
        rc = a4nn_errorf(err, "worker %d: MPI failed while polling for STOP", ctx->rank);
    if (rc == A4NN_OK && ps->leader) {
        if (ps->stop)
            done->reason = A4NN_STOP_CONVERGED;
        else if (mr.n_rows < mr.budget)
            done->reason = A4NN_STOP_INTERRUPTED;
        if (done->reason == A4NN_STOP_INTERRUPTED && ctx->cfg->checkpoint_every > 0 &&
            mr.n_rows > mr.saved)
            rc = write_checkpoint(ctx, &mr, err);
        done->epochs_trained = done->epochs_run = mr.n_rows;
        done->last_val_acc = mr.n_rows ? mr.rows[mr.n_rows - 1].val_acc : NAN;
        done->end_time = unix_now();
    }
    src->type->end(src);
    free(mr.state);
    free(mr.rows);
    return rc;
}

/* One task on this rank, with the poll state reset for its model; a signal
 * seen while it ran sets *interrupted. */
static int task_once(const a4nn_role_ctx *ctx, epoch_source *src, const a4nn_msg_task *task,
                     poll_state *ps, a4nn_msg_done *done, int *interrupted, a4nn_error *err)
{
    ps->model_id = task->model_id;
    ps->stop = ps->shutdown = 0;
    ps->interrupted = *interrupted;
    if (run_task(ctx, src, task, ps, done, err) != A4NN_OK)
        return A4NN_ERR;
    if (ps->interrupted)
        *interrupted = 1;
    return A4NN_OK;
}

/* A rank of a group other than its leader: trains whatever the leader passes
 * on until it passes on SHUTDOWN. Sets *interrupted. */
static int member_loop(const a4nn_role_ctx *ctx, epoch_source *src, poll_state *ps,
                       int *interrupted, a4nn_error *err)
{
    for (;;) {
        group_cmd cmd;
        if (group_cmd_bcast(ps, &cmd, err) != A4NN_OK)
            return A4NN_ERR;
        if (*ctx->interrupted)
            *interrupted = 1;
        if (cmd.kind == GROUP_SHUTDOWN) {
            if (cmd.interrupt)
                *interrupted = 1;
            return A4NN_OK;
        }
        if (cmd.kind != GROUP_TASK)
            return a4nn_errorf(err, "worker %d: unexpected command %d from the group leader",
                               ctx->rank, (int)cmd.kind);
        cmd.task.genome[sizeof cmd.task.genome - 1] = '\0';
        a4nn_msg_done done;
        if (task_once(ctx, src, &cmd.task, ps, &done, interrupted, err) != A4NN_OK)
            return A4NN_ERR;
    }
}

/* The worker of the protocol (a group's leader, or a worker of one rank):
 * TASKs from the search until SHUTDOWN, then BYE to the analytics ranks. */
static int leader_loop(const a4nn_role_ctx *ctx, epoch_source *src, poll_state *ps,
                       int *interrupted, a4nn_error *err)
{
    int rc = A4NN_OK;
    double nap = 1e-4;
    for (;;) {
        int flag = 0, tag = -1;
        if ((rc = a4nn_probe(ctx, 0, MPI_ANY_TAG, &flag, NULL, &tag, err)) != A4NN_OK)
            break;
        if (*ctx->interrupted)
            *interrupted = 1;
        if (!flag) {
            /* drain stale STOPs while idle */
            ps->model_id = -1;
            poll_messages(ps);
            a4nn_role_nap(nap);
            nap = nap < 0.002 ? nap * 2 : 0.002;
            continue;
        }
        nap = 1e-4;
        group_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        if (tag == A4NN_TAG_SHUTDOWN) {
            a4nn_msg_shutdown m;
            if ((rc = a4nn_recv_shutdown(ctx, 0, &m, err)) != A4NN_OK)
                break;
            if (m.interrupt)
                *interrupted = 1;
            cmd.kind = GROUP_SHUTDOWN;
            cmd.interrupt = m.interrupt;
            if (ps->group && group_cmd_bcast(ps, &cmd, err) != A4NN_OK)
                rc = A4NN_ERR;
            break;
        }
        if (tag != A4NN_TAG_TASK) {
            rc = a4nn_errorf(err, "worker %d: unexpected message tag %d from the search",
                             ctx->rank, tag);
            break;
        }
        a4nn_msg_task *task = &cmd.task;
        if ((rc = a4nn_recv_task(ctx, 0, task, err)) != A4NN_OK)
            break;
        cmd.kind = GROUP_TASK;
        if (ps->group && group_cmd_bcast(ps, &cmd, err) != A4NN_OK) {
            rc = A4NN_ERR;
            break;
        }
        a4nn_msg_done done;
        if (task_once(ctx, src, task, ps, &done, interrupted, err) != A4NN_OK) {
            rc = A4NN_ERR;
            break;
        }
        if ((rc = a4nn_send_done(ctx, a4nn_analytics_rank(ctx, task->model_id), &done, err)) !=
            A4NN_OK)
            break;
        ps->model_id = -1;
    }
    for (int a = 0; a < ctx->n_analytics && rc == A4NN_OK; a++)
        rc = a4nn_send_bye(ctx, ctx->size - ctx->n_analytics + a, err);
    return rc;
}

int a4nn_role_worker(const a4nn_role_ctx *ctx, a4nn_error *err)
{
    epoch_source *src = NULL;
    if (epoch_source_open(ctx, &src, err) != A4NN_OK) {
        epoch_source_free(src);
        return A4NN_ERR;
    }
    poll_state ps = {.ctx = ctx, .group = src->group, .model_id = -1};
    ps.leader = !src->group || a4nn_group_rank(src->group) == 0;
    int interrupted = 0;
    int rc = ps.leader ? leader_loop(ctx, src, &ps, &interrupted, err)
                       : member_loop(ctx, src, &ps, &interrupted, err);
    epoch_source_free(src);
    if (rc == A4NN_OK && interrupted)
        return 1;
    return rc;
}
