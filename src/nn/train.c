/* Training loop: SGD with momentum and weight decay, cosine learning rate
 * over the epoch budget, gradient-norm clipping, seeded batch order;
 * checkpoints; and a small synthetic dataset for tests. */
#include <math.h>
#include <string.h>

#include "a4nn/nn.h"

void a4nn_train_config_defaults(a4nn_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 25;
    cfg->batch = 128;
    cfg->lr = 0.025;
    cfg->momentum = 0.9;
    cfg->weight_decay = 3e-4;
    cfg->clip = 5.0;
    cfg->seed = 1;
    cfg->group_rank = 0;
    cfg->group_size = 1;
}

double a4nn_cosine_lr(double lr0, int epoch, int epochs)
{
    if (epochs <= 0)
        return lr0;
    return 0.5 * lr0 * (1.0 + cos(M_PI * (double)epoch / (double)epochs));
}

/* A dataset as the backend sees it: images and float labels in its memory. */
typedef struct {
    const float *host_images;
    const uint8_t *host_labels;
    long n;
    size_t sample;
    float *images; /* backend buffers (owned unless the backend shares host memory) */
    float *labels;
    int owned_images;
} resident;

/* The last two datasets made resident (train, validation). */
struct a4nn_data_cache {
    a4nn_backend *be;
    resident data[2];
    int next_slot;
    long uploads;
};

a4nn_data_cache *a4nn_data_cache_alloc(a4nn_backend *be)
{
    a4nn_data_cache *c = a4nn_calloc(1, sizeof *c);
    c->be = be;
    return c;
}

static void resident_release(a4nn_backend *be, resident *r)
{
    if (r->owned_images && r->images)
        be->free(be->ctx, r->images);
    if (r->labels)
        be->free(be->ctx, r->labels);
    memset(r, 0, sizeof *r);
}

void a4nn_data_cache_free(a4nn_data_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < 2; i++)
        resident_release(c->be, &c->data[i]);
    free(c);
}

long a4nn_data_cache_uploads(const a4nn_data_cache *c) { return c->uploads; }

struct a4nn_trainer {
    a4nn_net *net;
    a4nn_train_config cfg;
    a4nn_backend *be;
    float *x, *y, *dlogits, *momentum;
    long *idx;
    size_t sample;
    int local_batch;
    a4nn_data_cache *cache; /* cfg.data_cache, or the trainer's own */
    int own_cache;
};

a4nn_trainer *a4nn_trainer_alloc(a4nn_net *net, const a4nn_train_config *cfg, a4nn_error *err)
{
    if (cfg->batch < 1 || cfg->epochs < 1 || cfg->lr <= 0 || cfg->momentum < 0 ||
        cfg->weight_decay < 0 || cfg->clip < 0 || cfg->group_size < 1 || cfg->group_rank < 0 ||
        cfg->group_rank >= cfg->group_size)
        return a4nn_errorf(err, "bad training configuration (batch %d, epochs %d, lr %g, "
                                "group %d/%d)",
                           cfg->batch, cfg->epochs, cfg->lr, cfg->group_rank, cfg->group_size),
               NULL;
    if (cfg->group_size > 1 && (!cfg->allreduce_mean || !cfg->allreduce_sum))
        return a4nn_errorf(err, "a group of %d ranks needs allreduce_mean and allreduce_sum",
                           cfg->group_size),
               NULL;
    if (cfg->group_size > 1 && cfg->batch < 2 * cfg->group_size)
        return a4nn_errorf(err, "batch %d is too small for a group of %d ranks (each needs at "
                                "least 2 images for BatchNorm)",
                           cfg->batch, cfg->group_size),
               NULL;
    if (cfg->data_cache && cfg->data_cache->be != a4nn_net_backend(net))
        return a4nn_errorf(err, "the data cache belongs to another backend"), NULL;
    a4nn_trainer *t = a4nn_calloc(1, sizeof *t);
    t->net = net;
    t->cfg = *cfg;
    t->be = a4nn_net_backend(net);
    const a4nn_arch *a = a4nn_net_arch(net);
    t->sample = (size_t)a->tensor[0].c * a->tensor[0].h * a->tensor[0].w;
    t->local_batch = (cfg->batch + cfg->group_size - 1) / cfg->group_size;
    int mb = t->local_batch > cfg->batch ? t->local_batch : cfg->batch;
    t->x = t->be->alloc(t->be->ctx, t->sample * (size_t)mb);
    t->y = t->be->alloc(t->be->ctx, (size_t)mb);
    t->dlogits = t->be->alloc(t->be->ctx, (size_t)mb * (size_t)a->n_classes);
    size_t np = a4nn_net_param_count(net);
    t->momentum = t->be->alloc(t->be->ctx, np);
    t->idx = a4nn_calloc((size_t)mb, sizeof(long));
    t->cache = cfg->data_cache ? cfg->data_cache : a4nn_data_cache_alloc(t->be);
    t->own_cache = !cfg->data_cache;
    if (!t->x || !t->y || !t->dlogits || !t->momentum) {
        const char *where = t->be->name;
        a4nn_trainer_free(t);
        return a4nn_errorf(err, "out of %s memory for the trainer's buffers", where), NULL;
    }
    t->be->zero(t->be->ctx, t->momentum, np);
    return t;
}

void a4nn_trainer_free(a4nn_trainer *t)
{
    if (!t)
        return;
    if (t->own_cache)
        a4nn_data_cache_free(t->cache);
    t->be->free(t->be->ctx, t->x);
    t->be->free(t->be->ctx, t->y);
    t->be->free(t->be->ctx, t->dlogits);
    t->be->free(t->be->ctx, t->momentum);
    free(t->idx);
    free(t);
}

/* Makes a dataset resident on the backend once (the CPU backend uses the host
 * images in place; a GPU backend copies them to device memory once). */
static const resident *make_resident(a4nn_trainer *t, const a4nn_dataset_view *v,
                                      a4nn_error *err)
{
    a4nn_data_cache *c = t->cache;
    for (int i = 0; i < 2; i++)
        if (c->data[i].host_images == v->images && c->data[i].host_labels == v->labels &&
            c->data[i].n == v->n && c->data[i].sample == t->sample)
            return &c->data[i];
    resident *r = &c->data[c->next_slot];
    c->next_slot ^= 1;
    resident_release(t->be, r);
    r->host_images = v->images;
    r->host_labels = v->labels;
    r->n = v->n;
    r->sample = t->sample;
    size_t total = t->sample * (size_t)v->n;
    if (t->be->caps & A4NN_BACKEND_HOST_MEMORY) {
        r->images = (float *)v->images;
    } else {
        r->images = t->be->alloc(t->be->ctx, total);
        r->owned_images = 1;
        if (r->images)
            t->be->upload(t->be->ctx, r->images, v->images, total);
    }
    r->labels = t->be->alloc(t->be->ctx, (size_t)v->n);
    if (!r->images || !r->labels) {
        resident_release(t->be, r);
        return a4nn_errorf(err, "out of %s memory for a dataset of %ld images", t->be->name,
                           v->n),
               NULL;
    }
    float *fl = a4nn_malloc(sizeof(float) * (size_t)(v->n ? v->n : 1));
    for (long i = 0; i < v->n; i++)
        fl[i] = (float)v->labels[i];
    t->be->upload(t->be->ctx, r->labels, fl, (size_t)v->n);
    free(fl);
    if (a4nn_backend_status(t->be, err) != A4NN_OK) {
        resident_release(t->be, r);
        return NULL;
    }
    c->uploads++;
    return r;
}

static int check_view(const a4nn_trainer *t, const a4nn_dataset_view *v, const char *what,
                      a4nn_error *err)
{
    const a4nn_shape *in = &a4nn_net_arch(t->net)->tensor[0];
    if (v->c != in->c || v->h != in->h || v->w != in->w)
        return a4nn_errorf(err, "%s images are %dx%dx%d but the network expects %dx%dx%d", what,
                           v->c, v->h, v->w, in->c, in->h, in->w);
    if (v->n < 1)
        return a4nn_errorf(err, "%s set is empty", what);
    const int k = a4nn_net_arch(t->net)->n_classes;
    for (long i = 0; i < v->n; i++)
        if (v->labels[i] >= k)
            return a4nn_errorf(err, "%s label %ld is %d, outside 0..%d", what, i, v->labels[i],
                               k - 1);
    return A4NN_OK;
}

int a4nn_trainer_step(a4nn_trainer *t, const float *x, const float *labels, int batch,
                      double lr, double *loss, int *correct, a4nn_error *err)
{
    a4nn_backend *be = t->be;
    a4nn_net *net = t->net;
    const a4nn_arch *a = a4nn_net_arch(net);
    const float *logits = a4nn_net_forward(net, x, batch, 1, err);
    if (!logits)
        return A4NN_ERR;
    double sum = 0;
    int ok = 0;
    be->softmax_xent(be->ctx, batch, a->n_classes, logits, labels, t->dlogits, &sum, &ok);
    if (a4nn_net_backward(net, t->dlogits, batch, err) != A4NN_OK)
        return A4NN_ERR;
    const size_t np = a4nn_net_param_count(net);
    float *g = a4nn_net_grads(net);
    if (t->cfg.group_size > 1 && t->cfg.allreduce_mean(g, np, t->cfg.allreduce_ctx) != A4NN_OK)
        return a4nn_errorf(err, "gradient allreduce over the worker group failed");
    if (t->cfg.clip > 0) {
        double norm = sqrt(be->sumsq(be->ctx, np, g));
        if (norm > t->cfg.clip) /* as torch.nn.utils.clip_grad_norm_ */
            be->scale(be->ctx, np, g, (float)(t->cfg.clip / (norm + 1e-6)));
    }
    be->sgd_step(be->ctx, np, a4nn_net_params(net), g, t->momentum, (float)lr,
                 (float)t->cfg.momentum, (float)t->cfg.weight_decay);
    if (a4nn_backend_status(be, err) != A4NN_OK)
        return A4NN_ERR;
    if (loss)
        *loss = sum / batch;
    if (correct)
        *correct = ok;
    return A4NN_OK;
}

int a4nn_trainer_evaluate(a4nn_trainer *t, const a4nn_dataset_view *val, double *acc,
                          double *loss, a4nn_error *err)
{
    if (check_view(t, val, "validation", err) != A4NN_OK)
        return A4NN_ERR;
    const resident *r = make_resident(t, val, err);
    if (!r)
        return A4NN_ERR;
    a4nn_backend *be = t->be;
    const a4nn_arch *a = a4nn_net_arch(t->net);
    /* in a group each rank evaluates its contiguous share */
    const int g = t->cfg.group_size, gr = t->cfg.group_rank;
    const long lo = val->n * gr / g, hi = val->n * (gr + 1) / g;
    double sums[2] = {0, 0}; /* correct, loss */
    for (long s = lo; s < hi; s += t->cfg.batch) {
        int b = (int)(hi - s < t->cfg.batch ? hi - s : t->cfg.batch);
        for (int i = 0; i < b; i++)
            t->idx[i] = s + i;
        be->gather(be->ctx, r->images, r->labels, t->idx, b, t->sample, t->x, t->y);
        const float *logits = a4nn_net_forward(t->net, t->x, b, 0, err);
        if (!logits)
            return A4NN_ERR;
        double l;
        int c;
        be->softmax_xent(be->ctx, b, a->n_classes, logits, t->y, NULL, &l, &c);
        sums[0] += c;
        sums[1] += l;
    }
    if (g > 1 && t->cfg.allreduce_sum(sums, 2, t->cfg.allreduce_ctx) != A4NN_OK)
        return a4nn_errorf(err, "evaluation: allreduce over the worker group failed");
    *acc = 100.0 * sums[0] / (double)val->n;
    *loss = sums[1] / (double)val->n;
    return A4NN_OK;
}

int a4nn_trainer_epoch(a4nn_trainer *t, const a4nn_dataset_view *train,
                       const a4nn_dataset_view *val, int epoch, a4nn_epoch_stats *st,
                       int (*should_stop)(void *), void *stop_ctx, a4nn_error *err)
{
    memset(st, 0, sizeof *st);
    st->epoch = epoch;
    if (check_view(t, train, "training", err) != A4NN_OK)
        return A4NN_ERR;
    const double t0 = a4nn_now();
    const resident *r = make_resident(t, train, err);
    if (!r)
        return A4NN_ERR;
    a4nn_backend *be = t->be;

    /* the batch order depends on seed and epoch only: resumable, and the
     * same whatever the group size */
    long *perm = a4nn_malloc(sizeof(long) * (size_t)train->n);
    for (long i = 0; i < train->n; i++)
        perm[i] = i;
    a4nn_rng rng;
    a4nn_rng_seed(&rng, a4nn_seed_mix(t->cfg.seed, 0x65706f6368ULL + (uint64_t)epoch));
    for (long i = train->n - 1; i > 0; i--) {
        long j = (long)a4nn_rng_below(&rng, (uint64_t)i + 1);
        long tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    const double lr = a4nn_cosine_lr(t->cfg.lr, epoch, t->cfg.epochs);
    const int B = t->cfg.batch, g = t->cfg.group_size, gr = t->cfg.group_rank;
    long seen = 0, correct = 0;
    double loss_sum = 0;
    for (long s = 0; s < train->n; s += B) {
        int b = (int)(train->n - s < B ? train->n - s : B);
        /* this rank's slice of the global batch */
        int lo = (int)((long)b * gr / g), hi = (int)((long)b * (gr + 1) / g);
        int lb = hi - lo;
        if (b < 2 * g || lb < 1) /* too few images for batch statistics: skip */
            break;
        if (should_stop && should_stop(stop_ctx)) {
            st->stopped = 1;
            break;
        }
        for (int i = 0; i < lb; i++)
            t->idx[i] = perm[s + lo + i];
        be->gather(be->ctx, r->images, r->labels, t->idx, lb, t->sample, t->x, t->y);
        int ok;
        double l;
        if (a4nn_trainer_step(t, t->x, t->y, lb, lr, &l, &ok, err) != A4NN_OK) {
            free(perm);
            return A4NN_ERR;
        }
        loss_sum += l * lb;
        correct += ok;
        seen += lb;
    }
    free(perm);
    if (g > 1) {
        /* one set of BatchNorm statistics for the whole group, and the
         * epoch's figures over all its images */
        const size_t nb = a4nn_net_buffer_count(t->net);
        double sums[3] = {(double)seen, (double)correct, loss_sum};
        if ((nb && t->cfg.allreduce_mean(a4nn_net_buffers(t->net), nb, t->cfg.allreduce_ctx) !=
                       A4NN_OK) ||
            t->cfg.allreduce_sum(sums, 3, t->cfg.allreduce_ctx) != A4NN_OK)
            return a4nn_errorf(err, "epoch %d: allreduce over the worker group failed", epoch);
        seen = (long)sums[0], correct = (long)sums[1], loss_sum = sums[2];
    }
    st->images = seen;
    st->train_acc = seen ? 100.0 * (double)correct / (double)seen : 0;
    st->train_loss = seen ? loss_sum / (double)seen : 0;
    if (!st->stopped && val &&
        a4nn_trainer_evaluate(t, val, &st->val_acc, &st->val_loss, err) != A4NN_OK)
        return A4NN_ERR;
    st->seconds = a4nn_now() - t0;
    return A4NN_OK;
}

size_t a4nn_trainer_state_size(const a4nn_trainer *t)
{
    /* header (magic, next epoch, sizes), params, buffers, momentum */
    return 4 + 2 * a4nn_net_param_count(t->net) + a4nn_net_buffer_count(t->net);
}

static const float STATE_MAGIC = 4.4e4f;

void a4nn_trainer_state_save(a4nn_trainer *t, int next_epoch, float *state)
{
    const size_t np = a4nn_net_param_count(t->net), nb = a4nn_net_buffer_count(t->net);
    state[0] = STATE_MAGIC;
    state[1] = (float)next_epoch;
    state[2] = (float)np;
    state[3] = (float)nb;
    t->be->download(t->be->ctx, state + 4, a4nn_net_params(t->net), np);
    t->be->download(t->be->ctx, state + 4 + np, a4nn_net_buffers(t->net), nb);
    t->be->download(t->be->ctx, state + 4 + np + nb, t->momentum, np);
}

int a4nn_trainer_state_load(a4nn_trainer *t, const float *state, size_t n, int *next_epoch,
                            a4nn_error *err)
{
    const size_t np = a4nn_net_param_count(t->net), nb = a4nn_net_buffer_count(t->net);
    if (n != a4nn_trainer_state_size(t) || state[0] != STATE_MAGIC || state[2] != (float)np ||
        state[3] != (float)nb)
        return a4nn_errorf(err, "checkpoint does not match this network (%zu values, expected "
                                "%zu)",
                           n, a4nn_trainer_state_size(t));
    if (!(state[1] >= 0) || state[1] > 1e6f)
        return a4nn_errorf(err, "checkpoint has a bad epoch counter");
    *next_epoch = (int)state[1];
    t->be->upload(t->be->ctx, a4nn_net_params(t->net), state + 4, np);
    t->be->upload(t->be->ctx, a4nn_net_buffers(t->net), state + 4 + np, nb);
    t->be->upload(t->be->ctx, t->momentum, state + 4 + np + nb, np);
    return A4NN_OK;
}

int a4nn_synthetic_dataset(long n, int c, int h, int w, uint64_t seed, float **images,
                           uint8_t **labels, a4nn_error *err)
{
    if (n < 1 || c < 1 || h < 4 || w < 4)
        return a4nn_errorf(err, "bad synthetic dataset shape %ldx%dx%dx%d", n, c, h, w);
    const size_t sample = (size_t)c * h * w;
    float *x = a4nn_malloc(sizeof(float) * sample * (size_t)n);
    uint8_t *y = a4nn_malloc((size_t)n);
    a4nn_rng rng;
    a4nn_rng_seed(&rng, a4nn_seed_mix(seed, 0x73796e7468ULL));
    for (long i = 0; i < n; i++) {
        y[i] = (uint8_t)(i & 1); /* balanced */
        /* a random phase and a Gaussian blob at a random place: class 1 adds
         * a diagonal stripe pattern a network must learn to see */
        double phase = 2 * M_PI * a4nn_rng_uniform(&rng);
        double cx = h * (0.3 + 0.4 * a4nn_rng_uniform(&rng));
        double cy = w * (0.3 + 0.4 * a4nn_rng_uniform(&rng));
        for (int ch = 0; ch < c; ch++)
            for (int r = 0; r < h; r++)
                for (int q = 0; q < w; q++) {
                    double v = 0.5 * a4nn_rng_normal(&rng);
                    double d2 = ((r - cx) * (r - cx) + (q - cy) * (q - cy)) / (0.05 * h * w);
                    v += exp(-d2);
                    if (y[i])
                        v += 0.6 * sin(0.9 * (r + q) + phase);
                    x[i * sample + ((size_t)ch * h + r) * w + q] = (float)v;
                }
    }
    *images = x;
    *labels = y;
    return A4NN_OK;
}
