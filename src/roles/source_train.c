/* roles: the training epoch source: the nn module trains the model on this
 * rank's backend (cpu, or cuda with one GPU per worker rank), alone or as one
 * rank of a worker group (data parallel), on the run's dataset, which stays
 * resident on the backend across models. Also the choice of the source. */
#include <stdlib.h>
#include <string.h>

#include "a4nn/data.h"
#include "a4nn/gpu.h"
#include "epoch_source.h"

typedef struct {
    const a4nn_config *cfg;
    a4nn_backend *be;
    a4nn_data_cache *cache; /* the data sets on the backend, for every model */
    a4nn_split train, val;
    float *syn_x, *syn_vx;
    uint8_t *syn_y, *syn_vy;
    a4nn_dataset_view tv, vv;
    a4nn_net *net; /* of the current model */
    a4nn_trainer *tr;
} train_state;

int epoch_source_open(const a4nn_role_ctx *ctx, epoch_source **out, a4nn_error *err)
{
    epoch_source *src = a4nn_calloc(1, sizeof *src);
    *out = src;
    if (ctx->cfg->backend == A4NN_WORKER_REPLAY)
        return epoch_source_replay_open(ctx, src, err);
    return epoch_source_train_open(ctx, src, err);
}

void epoch_source_free(epoch_source *src)
{
    if (!src)
        return;
    if (src->type)
        src->type->free(src);
    free(src);
}

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
    A4NN_CHECK_MPI(MPI_Allreduce(&have, &all, 1, MPI_INT, MPI_MIN, ctx->workers));
    *gpu = all;
    return A4NN_OK;
}

/* The backend (and GPU), and the worker group of this rank. */
static int open_backend(const a4nn_role_ctx *ctx, epoch_source *src, train_state *t,
                        a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    int gpu = 0, device = 0;
    if (uses_gpu(ctx, &gpu, err) != A4NN_OK)
        return A4NN_ERR;
    /* one GPU per worker rank by its rank among the node's workers; several
     * per GPU only with worker.gpu_share */
    if (gpu && a4nn_gpu_select(ctx->workers, cfg->gpu_share, &device, err) != A4NN_OK)
        return A4NN_ERR;
    t->be = a4nn_backend_create(gpu ? "cuda" : "cpu", cfg->threads, device, err);
    if (!t->be)
        return A4NN_ERR;
    a4nn_backend_cpu_kernels(t->be, (a4nn_cpu_kernels)cfg->cpu_kernels);
    t->cache = a4nn_data_cache_alloc(t->be);
    const a4nn_cuda_options cuda = {cfg->tf32, cfg->cuda_profile, cfg->cuda_verbose,
                                    cfg->cudnn_bn, cfg->cudnn_exact};
    if (gpu && a4nn_cuda_configure(t->be, &cuda, err) != A4NN_OK)
        return A4NN_ERR;
    if (cfg->group_size > 1) {
        src->group = a4nn_group_create(ctx->workers, cfg->group_size,
                                       gpu ? A4NN_GROUP_NCCL : A4NN_GROUP_MPI, err);
        if (!src->group)
            return A4NN_ERR;
        const int w = a4nn_group_index(src->group);
        if (a4nn_group_rank(src->group) == 0 && ctx->rank != a4nn_worker_rank(ctx, w))
            return a4nn_errorf(err, "worker %d: leads group %d, whose leader is rank %d",
                               ctx->rank, w, a4nn_worker_rank(ctx, w));
    }
    return A4NN_OK;
}

/* The dataset (file or synthetic); the models' input shape is its own. */
static int open_data(const a4nn_config *cfg, train_state *t, a4nn_error *err)
{
    if (cfg->synthetic) {
        long n = cfg->train_count > 0 ? cfg->train_count : 512;
        long nv = cfg->val_count > 0 ? cfg->val_count : 128;
        int s = cfg->synthetic_size;
        if (a4nn_synthetic_dataset(n, 1, s, s, a4nn_seed_mix(cfg->seed, 0xDA7A), &t->syn_x,
                                   &t->syn_y, err) != A4NN_OK ||
            a4nn_synthetic_dataset(nv, 1, s, s, a4nn_seed_mix(cfg->seed, 0xDA7B), &t->syn_vx,
                                   &t->syn_vy, err) != A4NN_OK)
            return A4NN_ERR;
        t->tv = (a4nn_dataset_view){t->syn_x, t->syn_y, n, 1, s, s};
        t->vv = (a4nn_dataset_view){t->syn_vx, t->syn_vy, nv, 1, s, s};
        return A4NN_OK;
    }
    if (a4nn_dataset_read(cfg->file, "train", 0, cfg->train_count, 1, &t->train, err) !=
            A4NN_OK ||
        a4nn_dataset_read(cfg->file, "test", 0, cfg->val_count, 1, &t->val, err) != A4NN_OK)
        return A4NN_ERR;
    t->tv = (a4nn_dataset_view){t->train.images, t->train.labels, t->train.n,
                                t->train.c, t->train.h, t->train.w};
    t->vv = (a4nn_dataset_view){t->val.images, t->val.labels, t->val.n, t->val.c,
                                t->val.h, t->val.w};
    return A4NN_OK;
}

int epoch_source_train_open(const a4nn_role_ctx *ctx, epoch_source *src, a4nn_error *err)
{
    train_state *t = a4nn_calloc(1, sizeof *t);
    src->type = &epoch_source_train;
    src->state = t;
    t->cfg = ctx->cfg;
    if (open_backend(ctx, src, t, err) != A4NN_OK || open_data(ctx->cfg, t, err) != A4NN_OK)
        return A4NN_ERR;
    src->input = (a4nn_shape){t->tv.c, t->tv.h, t->tv.w};
    return A4NN_OK;
}

static int train_begin(epoch_source *src, const a4nn_msg_task *task, const a4nn_arch *arch,
                       a4nn_error *err)
{
    train_state *t = src->state;
    const a4nn_config *cfg = t->cfg;
    a4nn_train_config tc;
    a4nn_train_config_defaults(&tc);
    tc.epochs = task->epoch_budget;
    tc.batch = cfg->batch;
    tc.lr = cfg->lr;
    tc.momentum = cfg->momentum;
    tc.weight_decay = cfg->weight_decay;
    tc.clip = cfg->clip;
    tc.seed = task->seed;
    tc.data_cache = t->cache;
    if (src->group)
        a4nn_group_configure(src->group, &tc);
    t->net = a4nn_net_alloc(arch, cfg->batch, t->be, task->seed, err);
    if (!t->net)
        return A4NN_ERR;
    t->tr = a4nn_trainer_alloc(t->net, &tc, err);
    return t->tr ? A4NN_OK : A4NN_ERR;
}

static size_t train_state_size(epoch_source *src)
{
    return a4nn_trainer_state_size(((train_state *)src->state)->tr);
}

static void train_state_save(epoch_source *src, int next_epoch, float *state)
{
    a4nn_trainer_state_save(((train_state *)src->state)->tr, next_epoch, state);
}

static int train_state_load(epoch_source *src, const float *state, size_t n, int *next_epoch,
                            a4nn_error *err)
{
    return a4nn_trainer_state_load(((train_state *)src->state)->tr, state, n, next_epoch, err);
}

static int train_epoch(epoch_source *src, int e, int (*should_stop)(void *), void *arg,
                       a4nn_epoch_row *row, int *stopped, a4nn_error *err)
{
    train_state *t = src->state;
    a4nn_epoch_stats st;
    if (a4nn_trainer_epoch(t->tr, &t->tv, &t->vv, e, &st, should_stop, arg, err) != A4NN_OK)
        return A4NN_ERR;
    *stopped = st.stopped; /* a partial epoch is not reported */
    *row = (a4nn_epoch_row){.epoch = e, .train_acc = st.train_acc, .val_acc = st.val_acc,
                            .loss = st.train_loss, .seconds = st.seconds};
    return A4NN_OK;
}

static void train_end(epoch_source *src)
{
    train_state *t = src->state;
    if (t->tr)
        a4nn_trainer_free(t->tr);
    if (t->net)
        a4nn_net_free(t->net);
    t->tr = NULL;
    t->net = NULL;
}

static void train_free(epoch_source *src)
{
    train_state *t = src->state;
    if (!t)
        return;
    train_end(src);
    if (src->group)
        a4nn_group_free(src->group);
    a4nn_data_cache_free(t->cache);
    if (t->be)
        a4nn_backend_free(t->be);
    a4nn_split_free(&t->train);
    a4nn_split_free(&t->val);
    free(t->syn_x);
    free(t->syn_y);
    free(t->syn_vx);
    free(t->syn_vy);
    free(t);
}

const epoch_source_type epoch_source_train = {
    .name = "train",
    .begin = train_begin,
    .state_size = train_state_size,
    .state_save = train_state_save,
    .state_load = train_state_load,
    .epoch = train_epoch,
    .end = train_end,
    .free = train_free,
};
