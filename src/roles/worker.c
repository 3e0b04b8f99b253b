/* roles: the worker. Trains (cpu/cuda) or replays one genome at a time, sends
 * an EPOCH per epoch, honours STOP between batches, checkpoints per epoch. */
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

#define MPI_TRY(call, what)                                                                \
    do {                                                                                   \
        if ((call) != MPI_SUCCESS)                                                         \
            return a4nn_errorf(err, "worker %d: MPI %s failed", ctx->rank, what);          \
    } while (0)

typedef struct {
    const a4nn_role_ctx *ctx;
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
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(MPI_ANY_SOURCE, A4NN_TAG_STOP, ctx->comm, &flag, &st) != MPI_SUCCESS) {
            ps->mpi_failed = 1;
            return;
        }
        if (!flag)
            break;
        a4nn_msg_stop m;
        if (MPI_Recv(&m, sizeof m, MPI_BYTE, st.MPI_SOURCE, A4NN_TAG_STOP, ctx->comm,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            ps->mpi_failed = 1;
            return;
        }
        if (m.model_id == ps->model_id)
            ps->stop = 1; /* a STOP for a model already done is stale: dropped */
    }
    int flag = 0;
    if (MPI_Iprobe(0, A4NN_TAG_SHUTDOWN, ctx->comm, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        ps->mpi_failed = 1;
    if (flag)
        ps->shutdown = 1;
}

static int should_stop(void *p)
{
    poll_state *ps = p;
    poll_messages(ps);
    return ps->stop || ps->shutdown || ps->interrupted || ps->mpi_failed;
}

typedef struct {
    /* cpu/cuda */
    a4nn_backend *be;
    a4nn_split train, val;
    float *syn_x, *syn_vx;
    uint8_t *syn_y, *syn_vy;
    a4nn_dataset_view tv, vv;
    /* replay */
    a4nn_curve_set curves;
    int have_curves;
    double mean_mflops; /* of the recorded curves: replayed epochs take time in proportion */
} worker_env;

static int uses_gpu(const a4nn_config *cfg)
{
    return cfg->backend == A4NN_WORKER_CUDA ||
           (cfg->backend == A4NN_WORKER_AUTO && a4nn_gpu_count() > 0);
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
    int device = 0;
    if (uses_gpu(cfg)) {
        /* one GPU per worker by node-local rank (shared round robin when the
         * node runs more workers than it has GPUs) */
        int n_gpu = a4nn_gpu_count();
        if (n_gpu < 1)
            return a4nn_errorf(err, "worker %d: worker.backend = cuda but no GPU is visible "
                                    "(or this build has no CUDA backend)", ctx->rank);
        device = ctx->local_rank % n_gpu;
    }
    env->be = a4nn_backend_create(uses_gpu(cfg) ? "cuda" : "cpu", cfg->threads,
                                  device, err);
    if (!env->be)
        return A4NN_ERR;
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
    MPI_TRY(MPI_Send(&m, sizeof m, MPI_BYTE, a4nn_analytics_rank(ctx, model_id), A4NN_TAG_EPOCH,
                     ctx->comm),
            "send EPOCH");
    return A4NN_OK;
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
    {
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
    poll_messages(ps);
    if (ps->mpi_failed) {
        rc = a4nn_errorf(err, "worker %d: MPI failed while polling for STOP", ctx->rank);
        goto out;
    }
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

int a4nn_role_worker(const a4nn_role_ctx *ctx, a4nn_error *err)
{
    worker_env env;
    if (env_init(ctx, &env, err) != A4NN_OK) {
        env_free(&env);
        return A4NN_ERR;
    }
    poll_state ps = {.ctx = ctx, .model_id = -1};
    int rc = A4NN_OK, interrupted = 0;
    double nap = 1e-4;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (MPI_Iprobe(0, MPI_ANY_TAG, ctx->comm, &flag, &st) != MPI_SUCCESS) {
            rc = a4nn_errorf(err, "worker %d: MPI_Iprobe failed", ctx->rank);
            break;
        }
        if (*ctx->interrupted)
            interrupted = 1;
        if (!flag) {
            /* drain stale STOPs while idle */
            ps.model_id = -1;
            poll_messages(&ps);
            a4nn_role_nap(nap);
            nap = nap < 0.002 ? nap * 2 : 0.002;
            continue;
        }
        nap = 1e-4;
        if (st.MPI_TAG == A4NN_TAG_SHUTDOWN) {
            a4nn_msg_shutdown m;
            if (MPI_Recv(&m, sizeof m, MPI_BYTE, 0, A4NN_TAG_SHUTDOWN, ctx->comm,
                         MPI_STATUS_IGNORE) != MPI_SUCCESS) {
                rc = a4nn_errorf(err, "worker %d: MPI_Recv SHUTDOWN failed", ctx->rank);
                break;
            }
            if (m.interrupt)
                interrupted = 1;
            break;
        }
        if (st.MPI_TAG != A4NN_TAG_TASK) {
            rc = a4nn_errorf(err, "worker %d: unexpected message tag %d from the search",
                             ctx->rank, st.MPI_TAG);
            break;
        }
        a4nn_msg_task task;
        if (MPI_Recv(&task, sizeof task, MPI_BYTE, 0, A4NN_TAG_TASK, ctx->comm,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS) {
            rc = a4nn_errorf(err, "worker %d: MPI_Recv TASK failed", ctx->rank);
            break;
        }
        task.genome[sizeof task.genome - 1] = '\0';
        ps.model_id = task.model_id;
        ps.stop = ps.shutdown = 0;
        ps.interrupted = interrupted;
        a4nn_msg_done done;
        if (run_task(ctx, &env, &task, &ps, &done, err) != A4NN_OK) {
            rc = A4NN_ERR;
            break;
        }
        if (ps.interrupted)
            interrupted = 1;
        if (MPI_Send(&done, sizeof done, MPI_BYTE, a4nn_analytics_rank(ctx, task.model_id),
                     A4NN_TAG_DONE, ctx->comm) != MPI_SUCCESS) {
            rc = a4nn_errorf(err, "worker %d: MPI_Send DONE failed", ctx->rank);
            break;
        }
        ps.model_id = -1;
    }
    if (rc == A4NN_OK) {
        int32_t bye = ctx->rank;
        for (int a = 0; a < ctx->n_analytics; a++)
            if (MPI_Send(&bye, 1, MPI_INT32_T, ctx->size - ctx->n_analytics + a, A4NN_TAG_BYE,
                         ctx->comm) != MPI_SUCCESS) {
                rc = a4nn_errorf(err, "worker %d: MPI_Send BYE failed", ctx->rank);
                break;
            }
    }
    env_free(&env);
    if (rc == A4NN_OK && interrupted)
        return 1;
    return rc;
}
