/* roles: the worker. Trains (cpu/cuda) or replays one genome at a time, sends
 * an EPOCH per epoch, honours STOP between batches, checkpoints per epoch.
 * In a worker group the leader does all of that; the other ranks receive the
 * task from it, train their slice of every batch and stop when it stops. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "a4nn/commons.h"
#include "a4nn/data.h"
#include "a4nn/gpu.h"
#include "a4nn/nn.h"
#include "a4nn/penguin.h"
#include "a4nn/roles.h"
#include "a4nn/search.h"

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
    const a4nn_role_ctx *ctx = ps->ctx;
    if (MPI_Ibcast(cmd, sizeof *cmd, MPI_BYTE, 0, a4nn_group_comm(ps->group), &req) !=
        MPI_SUCCESS)
        return a4nn_errorf(err, "worker %d: MPI_Ibcast to the worker group failed", ctx->rank);
    double nap = 1e-4;
    for (;;) {
        int done = 0;
        if (MPI_Test(&req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return a4nn_errorf(err, "worker %d: MPI_Test on the worker group failed", ctx->rank);
        if (done)
            return A4NN_OK;
        a4nn_role_nap(nap);
        nap = nap < 0.002 ? nap * 2 : 0.002;
    }
}

typedef struct {
    /* cpu/cuda */
    a4nn_backend *be;
    a4nn_group *group; /* worker.group_size > 1 */
    a4nn_data_cache *cache; /* the data sets on the backend, for every model */
    a4nn_split train, val;
    float *syn_x, *syn_vx;
    uint8_t *syn_y, *syn_vy;
    a4nn_dataset_view tv, vv;
    /* replay */
    a4nn_curve_set curves;
    int have_curves;
    double mean_mflops; /* of the recorded curves: replayed epochs take time in proportion */
} worker_env;

/* Whether the workers train on GPUs: for auto, only when every worker rank
 * sees one (the ranks of a group must agree; collective over the workers). */
static int uses_gpu(const a4nn_role_ctx *ctx, int *gpu, a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    if (cfg->backend != A4NN_WORKER_AUTO) {
        *gpu = cfg->backend == A4NN_WORKER_CUDA;
        return A4NN_OK;
    }
    int have = a4nn_gpu_count() > 0, all = 0;
    if (MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_MIN, ctx->workers) != MPI_SUCCESS)
        return a4nn_errorf(err, "worker %d: MPI_Allreduce among the workers failed", ctx->rank);
    *gpu = all;
    return A4NN_OK;
}

static int env_init(const a4nn_role_ctx *ctx, worker_env *env, a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    memset(env, 0, sizeof *env);
    if (cfg->backend == A4NN_WORKER_REPLAY) {
        if (a4nn_curves_read(cfg->replay_curves, &env->curves, err) != A4NN_OK)
            return A4NN_ERR;
        env->have_curves = 1;
        if (env->curves.n_models < 1)
            return a4nn_errorf(err, "replay: %s holds no curves", cfg->replay_curves);
        double sum = 0;
        int n = 0;
        for (int i = 0; i < env->curves.n_models; i++)
            if (isfinite(env->curves.models[i].mflops) && env->curves.models[i].mflops > 0)
                sum += env->curves.models[i].mflops, n++;
        env->mean_mflops = n ? sum / n : NAN;
        return A4NN_OK;
    }
    int gpu = 0, device = 0;
    if (uses_gpu(ctx, &gpu, err) != A4NN_OK)
        return A4NN_ERR;
    /* one GPU per worker rank by its rank among the node's workers; several
     * per GPU only with worker.gpu_share */
    if (gpu && a4nn_gpu_select(ctx->workers, cfg->gpu_share, &device, err) != A4NN_OK)
        return A4NN_ERR;
    env->be = a4nn_backend_create(gpu ? "cuda" : "cpu", cfg->threads, device, err);
    if (!env->be)
        return A4NN_ERR;
    env->cache = a4nn_data_cache_alloc(env->be);
    const a4nn_cuda_options cuda = {cfg->tf32, cfg->cuda_profile, cfg->cuda_verbose,
                                    cfg->cudnn_bn, cfg->cudnn_exact};
    if (gpu && a4nn_cuda_configure(env->be, &cuda, err) != A4NN_OK)
        return A4NN_ERR;
    if (cfg->group_size > 1) {
        env->group = a4nn_group_create(ctx->workers, cfg->group_size,
                                       gpu ? A4NN_GROUP_NCCL : A4NN_GROUP_MPI, err);
        if (!env->group)
            return A4NN_ERR;
        const int w = a4nn_group_index(env->group);
        if (a4nn_group_rank(env->group) == 0 && ctx->rank != a4nn_worker_rank(ctx, w))
            return a4nn_errorf(err, "worker %d: leads group %d, whose leader is rank %d",
                               ctx->rank, w, a4nn_worker_rank(ctx, w));
    }
    if (cfg->synthetic) {
        long n = cfg->train_count > 0 ? cfg->train_count : 512;
        long nv = cfg->val_count > 0 ? cfg->val_count : 128;
        int s = cfg->synthetic_size;
        if (a4nn_synthetic_dataset(n, 1, s, s, a4nn_seed_mix(cfg->seed, 0xDA7A), &env->syn_x,
                                   &env->syn_y, err) != A4NN_OK ||
            a4nn_synthetic_dataset(nv, 1, s, s, a4nn_seed_mix(cfg->seed, 0xDA7B), &env->syn_vx,
                                   &env->syn_vy, err) != A4NN_OK)
            return A4NN_ERR;
        env->tv = (a4nn_dataset_view){env->syn_x, env->syn_y, n, 1, s, s};
        env->vv = (a4nn_dataset_view){env->syn_vx, env->syn_vy, nv, 1, s, s};
        return A4NN_OK;
    }
    if (a4nn_dataset_read(cfg->file, "train", 0, cfg->train_count, 1, &env->train, err) !=
            A4NN_OK ||
        a4nn_dataset_read(cfg->file, "test", 0, cfg->val_count, 1, &env->val, err) != A4NN_OK)
        return A4NN_ERR;
    env->tv = (a4nn_dataset_view){env->train.images, env->train.labels, env->train.n,
                                  env->train.c, env->train.h, env->train.w};
    env->vv = (a4nn_dataset_view){env->val.images, env->val.labels, env->val.n, env->val.c,
                                  env->val.h, env->val.w};
    return A4NN_OK;
}

static void env_free(worker_env *env)
{
    if (env->group)
        a4nn_group_free(env->group);
    a4nn_data_cache_free(env->cache);
    if (env->be)
        a4nn_backend_free(env->be);
    a4nn_split_free(&env->train);
    a4nn_split_free(&env->val);
    free(env->syn_x);
    free(env->syn_y);
    free(env->syn_vx);
    free(env->syn_vy);
    if (env->have_curves)
        a4nn_curves_free(&env->curves);
}

static int send_epoch(const a4nn_role_ctx *ctx, const a4nn_msg_task *task, double mflops,
                      const a4nn_epoch_row *row, int replayed, a4nn_error *err)
{
    const int model_id = task->model_id;
    a4nn_msg_epoch m;
    memset(&m, 0, sizeof m);
    m.model_id = model_id;
    m.front_version = task->front_version;
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

/* Trains or replays one task. Sets *reason. */
static int run_task(const a4nn_role_ctx *ctx, worker_env *env, const a4nn_msg_task *task,
                    poll_state *ps, a4nn_msg_done *done, a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    a4nn_genome g;
    if (a4nn_genome_parse(task->genome, cfg->n_phases, cfg->n_nodes, &g, err) != A4NN_OK)
        return A4NN_ERR;
    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    int in_c = 1, in_h = 127, in_w = 127;
    if (cfg->backend != A4NN_WORKER_REPLAY)
        in_c = env->tv.c, in_h = env->tv.h, in_w = env->tv.w;
    if (a4nn_arch_build(&g, in_c, in_h, in_w, cfg->init_channels, 2, arch, err) != A4NN_OK) {
        free(arch);
        return A4NN_ERR;
    }
    memset(done, 0, sizeof *done);
    done->model_id = task->model_id;
    done->worker = ctx->rank;
    done->mflops = arch->mflops;
    done->params = arch->params;
    done->start_time = unix_now();
    done->reason = A4NN_STOP_BUDGET;

    char ckpt[1100];
    a4nn_checkpoint_path(ctx->dir, task->model_id, ckpt, sizeof ckpt);
    int budget = task->epoch_budget, next = 0, n_rows = 0;
    a4nn_epoch_row *rows = a4nn_calloc((size_t)budget + 1, sizeof *rows);
    a4nn_net *net = NULL;
    a4nn_trainer *tr = NULL;
    float *state = NULL;
    size_t n_state = 0;
    int rc = A4NN_OK;
    const a4nn_curve_record *curve = NULL;

    if (cfg->backend == A4NN_WORKER_REPLAY) {
        curve = &env->curves.models[a4nn_curves_pick(&env->curves, task->genome)];
        if (curve->n_epochs < 1) {
            rc = a4nn_errorf(err, "replay: an empty curve in %s", cfg->replay_curves);
            goto out;
        }
    } else {
        a4nn_train_config tc;
        a4nn_train_config_defaults(&tc);
        tc.epochs = budget;
        tc.batch = cfg->batch;
        tc.lr = cfg->lr;
        tc.momentum = cfg->momentum;
        tc.weight_decay = cfg->weight_decay;
        tc.clip = cfg->clip;
        tc.seed = task->seed;
        tc.data_cache = env->cache;
        if (env->group)
            a4nn_group_configure(env->group, &tc);
        net = a4nn_net_alloc(arch, cfg->batch, env->be, task->seed, err);
        if (!net) {
            rc = A4NN_ERR;
            goto out;
        }
        tr = a4nn_trainer_alloc(net, &tc, err);
        if (!tr) {
            rc = A4NN_ERR;
            goto out;
        }
        n_state = a4nn_trainer_state_size(tr);
        state = a4nn_malloc(n_state * sizeof *state);
    }

    /* resume from this model's checkpoint (only one of this very genome) */
    a4nn_checkpoint_info ck = {.model_id = task->model_id};
    snprintf(ck.genome, sizeof ck.genome, "%s", task->genome);
    if (ps->leader) {
        int found = 0, cn = 0;
        a4nn_checkpoint_info got;
        a4nn_epoch_row *crows = NULL;
        float *cstate = NULL;
        size_t cns = 0;
        if (a4nn_checkpoint_read(ckpt, &found, &got, &crows, &cn, &cstate, &cns, err) !=
            A4NN_OK) {
            rc = A4NN_ERR;
            goto out;
        }
        if (found && got.model_id == task->model_id && !strcmp(got.genome, task->genome) &&
            got.next_epoch == cn && cn <= budget &&
            (cfg->backend == A4NN_WORKER_REPLAY ? cns == 0 : cns == n_state)) {
            int ok = 1;
            if (tr) {
                int ne = 0;
                ok = a4nn_trainer_state_load(tr, cstate, cns, &ne, err) == A4NN_OK &&
                     ne == got.next_epoch;
            }
            if (ok) {
                next = got.next_epoch;
                n_rows = cn;
                memcpy(rows, crows, (size_t)cn * sizeof *rows);
                for (int i = 0; i < n_rows && rc == A4NN_OK; i++) {
                    rc = send_epoch(ctx, task, arch->mflops, &rows[i], 1, err);
                    done->seconds += rows[i].seconds;
                }
            }
        }
        free(crows);
        free(cstate);
        if (rc != A4NN_OK)
            goto out;
    }
    if (env->group) {
        /* the group starts where its leader's checkpoint says, from the same
         * weights, BatchNorm statistics and momentum */
        MPI_Comm gc = a4nn_group_comm(env->group);
        int32_t start = next;
        if (MPI_Bcast(&start, 1, MPI_INT32_T, 0, gc) != MPI_SUCCESS) {
            rc = a4nn_errorf(err, "worker %d: MPI_Bcast of the start epoch failed", ctx->rank);
            goto out;
        }
        if (start > 0) {
            if (n_state > (size_t)INT_MAX) {
                rc = a4nn_errorf(err, "worker %d: a training state of %zu values is too large "
                                      "to broadcast", ctx->rank, n_state);
                goto out;
            }
            if (ps->leader)
                a4nn_trainer_state_save(tr, start, state);
            if (MPI_Bcast(state, (int)n_state, MPI_FLOAT, 0, gc) != MPI_SUCCESS) {
                rc = a4nn_errorf(err, "worker %d: MPI_Bcast of the training state failed",
                                 ctx->rank);
                goto out;
            }
            int ne = 0;
            if (!ps->leader && a4nn_trainer_state_load(tr, state, n_state, &ne, err) != A4NN_OK) {
                rc = A4NN_ERR;
                goto out;
            }
        }
        next = start;
    }
    int saved = n_rows; /* epochs in the checkpoint file */

    for (int e = next; e < budget; e++) {
        if (should_stop(ps))
            break;
        a4nn_epoch_row row = {.epoch = e};
        if (cfg->backend == A4NN_WORKER_REPLAY) {
            /* an epoch takes time in proportion to the recorded model's MFLOPs */
            double length = cfg->replay_epoch_seconds;
            if (isfinite(curve->mflops) && curve->mflops > 0 && isfinite(env->mean_mflops))
                length *= curve->mflops / env->mean_mflops;
            double t0 = a4nn_now(), left = length;
            int stopped = 0;
            while (left > 0) {
                a4nn_role_nap(left < 0.005 ? left : 0.005);
                left = length - (a4nn_now() - t0);
                if (should_stop(ps)) {
                    stopped = 1;
                    break;
                }
            }
            if (stopped)
                break;
            int k = e < curve->n_epochs ? e : curve->n_epochs - 1;
            row.train_acc = curve->train_acc[k];
            row.val_acc = curve->val_acc[k];
            row.loss = NAN;
            row.seconds = a4nn_now() - t0;
        } else {
            a4nn_epoch_stats st;
            if (a4nn_trainer_epoch(tr, &env->tv, &env->vv, e, &st, should_stop, ps, err) !=
                A4NN_OK) {
                rc = A4NN_ERR;
                goto out;
            }
            if (st.stopped)
                break; /* a partial epoch is not reported */
            row.train_acc = st.train_acc;
            row.val_acc = st.val_acc;
            row.loss = st.train_loss;
            row.seconds = st.seconds;
        }
        rows[n_rows++] = row;
        done->seconds += row.seconds;
        if (!ps->leader)
            continue; /* the leader reports and checkpoints for the group */
        if ((rc = send_epoch(ctx, task, arch->mflops, &row, 0, err)) != A4NN_OK)
            goto out;
        /* the state after every epoch stays in memory, so that an interrupt
         * between scheduled checkpoints still saves the last whole epoch */
        if (tr && cfg->checkpoint_every > 0)
            a4nn_trainer_state_save(tr, e + 1, state);
        if (cfg->checkpoint_every > 0 &&
            ((e + 1) % cfg->checkpoint_every == 0 || e + 1 == budget)) {
            ck.next_epoch = e + 1;
            if ((rc = a4nn_checkpoint_write(ckpt, &ck, rows, n_rows, state, tr ? n_state : 0,
                                            err)) != A4NN_OK)
                goto out;
            saved = n_rows;
        }
    }
    if (ps->leader)
        poll_messages(ps);
    if (ps->mpi_failed) {
        rc = a4nn_errorf(err, "worker %d: MPI failed while polling for STOP", ctx->rank);
        goto out;
    }
    if (!ps->leader)
        goto out;
    if (ps->stop)
        done->reason = A4NN_STOP_CONVERGED;
    else if (n_rows < budget)
        done->reason = A4NN_STOP_INTERRUPTED;
    if (done->reason == A4NN_STOP_INTERRUPTED && cfg->checkpoint_every > 0 && n_rows > saved) {
        ck.next_epoch = n_rows;
        if ((rc = a4nn_checkpoint_write(ckpt, &ck, rows, n_rows, state, tr ? n_state : 0, err)) !=
            A4NN_OK)
            goto out;
    }
    done->epochs_trained = done->epochs_run = n_rows;
    done->last_val_acc = n_rows ? rows[n_rows - 1].val_acc : NAN;
    done->end_time = unix_now();
out:
    if (tr)
        a4nn_trainer_free(tr);
    if (net)
        a4nn_net_free(net);
    free(state);
    free(rows);
    free(arch);
    return rc;
}

/* One task on this rank, with the poll state reset for its model; a signal
 * seen while it ran sets *interrupted. */
static int task_once(const a4nn_role_ctx *ctx, worker_env *env, const a4nn_msg_task *task,
                     poll_state *ps, a4nn_msg_done *done, int *interrupted, a4nn_error *err)
{
    ps->model_id = task->model_id;
    ps->stop = ps->shutdown = 0;
    ps->interrupted = *interrupted;
    if (run_task(ctx, env, task, ps, done, err) != A4NN_OK)
        return A4NN_ERR;
    if (ps->interrupted)
        *interrupted = 1;
    return A4NN_OK;
}

/* A rank of a group other than its leader: trains whatever the leader passes
 * on until it passes on SHUTDOWN. Sets *interrupted. */
static int member_loop(const a4nn_role_ctx *ctx, worker_env *env, poll_state *ps,
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
        if (task_once(ctx, env, &cmd.task, ps, &done, interrupted, err) != A4NN_OK)
            return A4NN_ERR;
    }
}

/* The worker of the protocol (a group's leader, or a worker of one rank):
 * TASKs from the search until SHUTDOWN, then BYE to the analytics ranks. */
static int leader_loop(const a4nn_role_ctx *ctx, worker_env *env, poll_state *ps,
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
        if (task_once(ctx, env, task, ps, &done, interrupted, err) != A4NN_OK) {
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
    worker_env env;
    if (env_init(ctx, &env, err) != A4NN_OK) {
        env_free(&env);
        return A4NN_ERR;
    }
    poll_state ps = {.ctx = ctx, .group = env.group, .model_id = -1};
    ps.leader = !env.group || a4nn_group_rank(env.group) == 0;
    int interrupted = 0;
    int rc = ps.leader ? leader_loop(ctx, &env, &ps, &interrupted, err)
                       : member_loop(ctx, &env, &ps, &interrupted, err);
    env_free(&env);
    if (rc == A4NN_OK && interrupted)
        return 1;
    return rc;
}
