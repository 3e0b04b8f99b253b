/* nn: networks built from a decoded genome (a4nn_arch), their training, and
 * the backend interface that the CPU and CUDA implementations fill in. */
#ifndef A4NN_NN_H
#define A4NN_NN_H

#include <stddef.h>
#include <stdint.h>

#include "a4nn/search.h"
#include "a4nn/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- backend interface ---------------------------------------------------
 * A backend is a table of functions over its own buffers ("device" memory:
 * host memory for the CPU backend, GPU memory for CUDA). Tensors are NCHW
 * float32. Unless stated otherwise an output is overwritten; entries marked
 * "accumulates" add into their output (+=), because in a network DAG a tensor
 * that feeds several ops receives the sum of their gradients. */

typedef struct {
    int n, c_in, h_in, w_in; /* input  [n, c_in, h_in, w_in] */
    int c_out, h_out, w_out; /* output [n, c_out, h_out, w_out] */
    int k, pad;              /* square kernel, stride 1 */
    int bias;                /* has a bias of c_out */
} a4nn_conv_desc;

/* What a backend supports (a4nn_backend.caps). */
enum {
    /* its buffers are host memory: datasets are used in place, not copied */
    A4NN_BACKEND_HOST_MEMORY = 1u << 0,
    /* takes the CUDA switches of a4nn_cuda_configure (TF32, profiling, ...) */
    A4NN_BACKEND_CUDA_OPTIONS = 1u << 1,
};

typedef struct a4nn_backend a4nn_backend;
struct a4nn_backend {
    const char *name;
    unsigned caps; /* A4NN_BACKEND_* flags */
    void *ctx;     /* the backend's own state: handles, workspaces, caches */

    /* The entries below return nothing; a backend whose device fails keeps
     * the first failure and reports it here (A4NN_ERR and its message) from
     * then on. Callers check it after each training step or pass. NULL: the
     * backend cannot fail after creation (the CPU backend). */
    int (*status)(void *ctx, a4nn_error *err);

    /* NULL when out of memory */
    float *(*alloc)(void *ctx, size_t n_floats);
    void (*free)(void *ctx, float *p);
    void (*upload)(void *ctx, float *dst, const float *src, size_t n_floats);
    void (*download)(void *ctx, float *dst, const float *src, size_t n_floats);
    void (*zero)(void *ctx, float *p, size_t n_floats);

    /* y = conv(x, w) + b; w is [c_out, c_in, k, k] */
    void (*conv_forward)(void *ctx, const a4nn_conv_desc *d, const float *x, const float *w,
                         const float *b, float *y);
    /* Optional (NULL: not offered): conv_forward, and also the batch mean
     * and biased variance of each channel of y into stats (host memory,
     * [c_out] means then [c_out] variances) for the BatchNorm that reads y
     * next, computed while each image's output is in cache */
    void (*conv_forward_stats)(void *ctx, const a4nn_conv_desc *d, const float *x,
                               const float *w, const float *b, float *y, double *stats);
    /* dw, db overwritten; dx (may be NULL) accumulates when dx_accumulate
     * is nonzero, else is overwritten (the network passes 0 where the
     * convolution is its input's only consumer, so that gradient needs no
     * zeroing) */
    void (*conv_backward)(void *ctx, const a4nn_conv_desc *d, const float *x, const float *w,
                          const float *dy, float *dx, float *dw, float *db, int dx_accumulate);

    /* BatchNorm2d over [n, c, hw]. train: batch statistics, saved into
     * save_mean/save_invstd, and running stats updated with momentum (PyTorch
     * semantics: running = (1 - m) running + m batch, unbiased variance).
     * eval: running statistics. */
    void (*bn_forward)(void *ctx, int n, int c, int hw, const float *x, const float *gamma,
                       const float *beta, float *running_mean, float *running_var,
                       float *save_mean, float *save_invstd, float *y, int train,
                       float momentum, float eps);
    /* dgamma, dbeta overwritten; dx accumulates (training-mode gradient) */
    void (*bn_backward)(void *ctx, int n, int c, int hw, const float *x, const float *dy,
                        const float *gamma, const float *save_mean, const float *save_invstd,
                        float *dx, float *dgamma, float *dbeta);

    /* Optional (NULL: the network runs BatchNorm and ReLU one by one):
     * BatchNorm then ReLU in one pass, y = max(0, bn(x)) with bn_forward's
     * arguments, image i of y at y + i * y_stride (c * hw, or more where y
     * is a channel slice of a wider tensor, e.g. a concatenation's). The
     * backward takes the ReLU's gradient dy (image i at dy + i * dy_stride)
     * and recomputes the ReLU's mask from x with the forward's scale and
     * shift, so it needs beta and not y; dgamma and dbeta overwritten; dx
     * accumulates when dx_accumulate is nonzero, else is overwritten (the
     * network passes 0 where the BatchNorm is its input's only consumer, so
     * that gradient needs no zeroing). In training, batch_stats (host
     * memory, or NULL: computed from x) are x's per-channel batch mean and
     * biased variance, [c] each, as conv_forward_stats gives them. */
    void (*bn_relu_forward)(void *ctx, int n, int c, int hw, const float *x, const float *gamma,
                            const float *beta, float *running_mean, float *running_var,
                            float *save_mean, float *save_invstd, float *y, size_t y_stride,
                            int train, float momentum, float eps, const double *batch_stats);
    void (*bn_relu_backward)(void *ctx, int n, int c, int hw, const float *x, const float *dy,
                             size_t dy_stride, const float *gamma, const float *beta,
                             const float *save_mean, const float *save_invstd, float *dx,
                             float *dgamma, float *dbeta, int dx_accumulate);

    /* Optional (NULL: the network runs bn_relu_backward, then
     * conv_backward): the backward of a convolution whose output y only a
     * fused BatchNorm + ReLU reads, from that ReLU's gradient dz (image i
     * at dz + i * dz_stride): bn_relu_backward's (dgamma, dbeta
     * overwritten), whose input gradient, the convolution's output
     * gradient, is not stored, then conv_backward's. */
    void (*conv_bn_relu_backward)(void *ctx, const a4nn_conv_desc *d, const float *x,
                                  const float *w, const float *y, const float *dz,
                                  size_t dz_stride, const float *gamma, const float *beta,
                                  const float *save_mean, const float *save_invstd,
                                  float *dgamma, float *dbeta, float *dx, float *dw, float *db,
                                  int dx_accumulate);

    void (*relu_forward)(void *ctx, size_t n, const float *x, float *y);
    /* dx accumulates dy where y > 0 */
    void (*relu_backward)(void *ctx, size_t n, const float *y, const float *dy, float *dx);

    /* 2x2 stride 2, floor; [n, c, h, w] -> [n, c, h/2, w/2] */
    void (*maxpool_forward)(void *ctx, int n, int c, int h, int w, const float *x, float *y);
    /* dx gets dy at the (first) argmax of each window: accumulated when
     * dx_accumulate is nonzero, else dx is overwritten (zero elsewhere; the
     * network passes 0 where the pooling is its input's only consumer) */
    void (*maxpool_backward)(void *ctx, int n, int c, int h, int w, const float *x,
                             const float *dy, float *dx, int dx_accumulate);

    /* global average pool [n, c, h, w] -> [n, c]; backward accumulates */
    void (*gap_forward)(void *ctx, int n, int c, int hw, const float *x, float *y);
    void (*gap_backward)(void *ctx, int n, int c, int hw, const float *dy, float *dx);

    /* y[n, out] = x[n, in] w[out, in]^T + b[out]; dw, db overwritten, dx accumulates */
    void (*linear_forward)(void *ctx, int n, int in, int out, const float *x, const float *w,
                           const float *b, float *y);
    void (*linear_backward)(void *ctx, int n, int in, int out, const float *x, const float *w,
                            const float *dy, float *dx, float *dw, float *db);

    /* Channel-slice copy for concatenation: for each image, channels
     * [0, c_src) of src ([n, c_src, hw]) go to channels [off, off + c_src) of
     * dst ([n, c_dst, hw]). Forward overwrites; backward (slice_back) adds the
     * slice of dst into src, i.e. accumulates a gradient. */
    void (*concat_forward)(void *ctx, int n, int c_src, int c_dst, int off, int hw,
                           const float *src, float *dst);
    void (*concat_backward)(void *ctx, int n, int c_src, int c_dst, int off, int hw,
                            const float *ddst, float *dsrc);

    /* Mean softmax cross-entropy of logits [n, k] against labels (a buffer of
     * n labels stored as floats on the device). Writes dlogits (already
     * divided by n; may be NULL in evaluation) and returns the summed loss
     * and the number of correct argmax predictions through host pointers. */
    void (*softmax_xent)(void *ctx, int n, int k, const float *logits, const float *labels,
                         float *dlogits, double *loss_sum, int *correct);

    /* sum of squares of n floats (for gradient-norm clipping) */
    double (*sumsq)(void *ctx, size_t n, const float *x);
    void (*scale)(void *ctx, size_t n, float *x, float s);
    /* PyTorch SGD: v = momentum v + (g + wd w); w -= lr v */
    void (*sgd_step)(void *ctx, size_t n, float *w, const float *g, float *v, float lr,
                     float momentum, float weight_decay);

    /* Batch assembly: x[i] = images[idx[i]] (sample_size floats each) and
     * y[i] = labels[idx[i]], from a dataset resident on the device (see
     * dataset_upload); idx is a host array of n indices. */
    void (*gather)(void *ctx, const float *images, const float *labels, const long *idx, int n,
                   size_t sample_size, float *x, float *y);

    void (*destroy)(void *ctx);
};

/* CPU backend: Winograd F(4x4, 3x3) or direct 3x3 convolutions for up to
 * 128 channels, OpenBLAS GEMMs otherwise, fused BatchNorm + ReLU, OpenMP
 * over the batch; in builds with oneDNN, oneDNN's 3x3 convolutions on the
 * shapes where they measure faster (a4nn_cpu_kernels). n_threads <= 0 uses
 * all cores. */
a4nn_backend *a4nn_backend_cpu_create(int n_threads, a4nn_error *err);

/* How the CPU backend runs its 3x3 convolutions (worker.cpu_kernels). */
typedef enum {
    /* oneDNN's on the shapes where it measures faster (builds with oneDNN),
     * else the backend's Winograd ones where they measure faster, the
     * direct kernels elsewhere; the default */
    A4NN_CPU_KERNELS_AUTO = 0,
    /* the direct kernels only: the reference the others are compared with */
    A4NN_CPU_KERNELS_DIRECT = 1,
    /* the backend's own kernels: Winograd where it measures faster, direct
     * elsewhere (no oneDNN) */
    A4NN_CPU_KERNELS_OWN = 2,
    /* Winograd on every padded 3x3 convolution, direct elsewhere (no
     * oneDNN): for tests and measurements */
    A4NN_CPU_KERNELS_WINOGRAD = 3,
} a4nn_cpu_kernels;
/* "auto", "direct", "own", "winograd" (worker.cpu_kernels, bench_train
 * --kernels) */
const char *a4nn_cpu_kernels_name(a4nn_cpu_kernels k);
/* the setting of that name, or -1 */
int a4nn_cpu_kernels_parse(const char *name);
/* Selects k on a CPU backend (other backends: no effect). */
void a4nn_backend_cpu_kernels(a4nn_backend *be, a4nn_cpu_kernels k);
/* 1 when this build has oneDNN (make prints it). */
int a4nn_onednn_available(void);
/* 1 when a CPU backend in auto mode runs the convolution d through oneDNN:
 * this build has it and the per-shape rule (src/nn/conv_onednn.c) picks it. */
int a4nn_cpu_conv_onednn(const a4nn_conv_desc *d);
#ifdef A4NN_CUDA
/* CUDA backend: cuDNN convolutions/BatchNorm, cuBLAS GEMM, one device. */
a4nn_backend *a4nn_backend_cuda_create(int device, a4nn_error *err);
#endif
/* "cpu", "cuda" or "auto" (CUDA when built in and a GPU is visible). */
a4nn_backend *a4nn_backend_create(const char *name, int n_threads, int device, a4nn_error *err);
void a4nn_backend_free(a4nn_backend *be);
/* A4NN_OK, or A4NN_ERR with the backend's first failure (see status). */
int a4nn_backend_status(a4nn_backend *be, a4nn_error *err);
/* 1 when this build has the CUDA backend and a GPU is visible. */
int a4nn_cuda_available(void);

/* Runtime switches of the CUDA backend (all off by default; the worker's
 * config keys worker.tf32, worker.cuda_profile, worker.cuda_verbose,
 * worker.cudnn_bn, worker.cudnn_exact). */
typedef struct {
    int tf32;        /* TF32 tensor cores in cuDNN and cuBLAS */
    int profile;     /* time every backend entry (synchronising), print at exit */
    int verbose;     /* print the convolution algorithms chosen per shape */
    int cudnn_bn;    /* cuDNN's BatchNorm instead of the backend's own kernels */
    int cudnn_exact; /* no FFT/Winograd convolution algorithms when TF32 is off */
} a4nn_cuda_options;
/* Applies o to a backend with A4NN_BACKEND_CUDA_OPTIONS. On any other backend
 * (or a build without CUDA) an error if any switch is on, else A4NN_OK. */
int a4nn_cuda_configure(a4nn_backend *be, const a4nn_cuda_options *o, a4nn_error *err);
/* TF32 alone (the other switches unchanged); an error unless the backend
 * takes CUDA options. */
int a4nn_cuda_set_tf32(a4nn_backend *be, int on, a4nn_error *err);

/* ---- networks --------------------------------------------------------------- */

typedef struct a4nn_net a4nn_net;

/* Allocates every buffer once for batches of up to max_batch images and
 * initialises weights (He normal for conv/linear weights, BN gamma 1 beta 0,
 * biases 0) from seed. */
a4nn_net *a4nn_net_alloc(const a4nn_arch *arch, int max_batch, a4nn_backend *be, uint64_t seed,
                         a4nn_error *err);
void a4nn_net_free(a4nn_net *net);

/* Forward pass of `batch` images x (device buffer [batch, c, h, w]); returns
 * the device buffer of logits [batch, n_classes], or NULL with err set (a
 * batch larger than the network's, a failed backend). train selects
 * BatchNorm batch statistics (and updates running statistics). */
const float *a4nn_net_forward(a4nn_net *net, const float *x, int batch, int train,
                              a4nn_error *err);
/* Backward pass from dlogits (device, [batch, n_classes]) after a training
 * forward pass: fills the flat gradient buffer. A4NN_OK or A4NN_ERR. */
int a4nn_net_backward(a4nn_net *net, const float *dlogits, int batch, a4nn_error *err);

/* All parameters and all gradients are each one contiguous device buffer,
 * so allreduce, clipping, the optimizer and checkpoints are one call each. */
size_t a4nn_net_param_count(const a4nn_net *net);
float *a4nn_net_params(a4nn_net *net);
float *a4nn_net_grads(a4nn_net *net);
/* BatchNorm running means and variances, also contiguous. */
size_t a4nn_net_buffer_count(const a4nn_net *net);
float *a4nn_net_buffers(a4nn_net *net);
a4nn_backend *a4nn_net_backend(a4nn_net *net);
const a4nn_arch *a4nn_net_arch(const a4nn_net *net);

/* ---- datasets and training ---------------------------------------------- */

/* A split held in host memory, already normalised. */
typedef struct {
    const float *images; /* [n, c, h, w] */
    const uint8_t *labels;
    long n;
    int c, h, w;
} a4nn_dataset_view;

/* A small seeded synthetic two-class image set: class 1 images carry a
 * faint oriented stripe pattern, both classes Gaussian noise. Caller frees
 * images and labels with free(). */
int a4nn_synthetic_dataset(long n, int c, int h, int w, uint64_t seed, float **images,
                           uint8_t **labels, a4nn_error *err);

/* Datasets kept resident on a backend (in GPU memory on cuda) across
 * trainers, so that a worker copies its training and validation sets to the
 * device once, not once per model. A trainer without one keeps its own. A
 * dataset is recognised by its host arrays: they must stay unchanged while
 * the cache lives. */
typedef struct a4nn_data_cache a4nn_data_cache;
a4nn_data_cache *a4nn_data_cache_alloc(a4nn_backend *be);
void a4nn_data_cache_free(a4nn_data_cache *c);
/* How many datasets it has made resident (copied) so far. */
long a4nn_data_cache_uploads(const a4nn_data_cache *c);

typedef struct {
    int epochs; /* budget: the cosine schedule spans it */
    int batch;
    double lr, momentum, weight_decay, clip;
    uint64_t seed;
    /* Optional data parallelism over a group of group_size ranks (MPI or
     * NCCL), each training batch/group_size images of every global batch
     * (group_rank selects the slice) and evaluating its share of the
     * validation set. allreduce_mean replaces a device buffer of n floats
     * by its mean over the group: the gradients after backward (before
     * clipping), and the BatchNorm running statistics after each epoch, so
     * every rank evaluates and checkpoints the same network. allreduce_sum
     * replaces n host doubles by their sum over the group (epoch statistics).
     * Both return A4NN_OK or A4NN_ERR and get allreduce_ctx. */
    int (*allreduce_mean)(float *buf, size_t n, void *ctx);
    int (*allreduce_sum)(double *v, int n, void *ctx);
    void *allreduce_ctx;
    int group_rank, group_size;
    a4nn_data_cache *data_cache; /* optional; must outlive the trainer */
} a4nn_train_config;

void a4nn_train_config_defaults(a4nn_train_config *cfg);

typedef struct {
    int epoch;
    double train_acc, val_acc; /* percent */
    double train_loss, val_loss;
    double seconds;
    int stopped; /* should_stop interrupted the epoch */
    long images;
} a4nn_epoch_stats;

typedef struct a4nn_trainer a4nn_trainer;

a4nn_trainer *a4nn_trainer_alloc(a4nn_net *net, const a4nn_train_config *cfg, a4nn_error *err);
void a4nn_trainer_free(a4nn_trainer *t);

/* Trains one epoch (batch order seeded by seed and epoch, so a resumed run
 * repeats it exactly) at the cosine-scheduled learning rate, then evaluates on
 * val. should_stop (may be NULL) is polled between batches; when it returns
 * nonzero the epoch ends early with stats->stopped set. In a group it is a
 * collective: every rank calls it equally often and must get the same
 * answer; the statistics are those of the whole group. */
int a4nn_trainer_epoch(a4nn_trainer *t, const a4nn_dataset_view *train,
                       const a4nn_dataset_view *val, int epoch, a4nn_epoch_stats *stats,
                       int (*should_stop)(void *), void *stop_ctx, a4nn_error *err);
/* Accuracy (percent) and mean loss of the network in evaluation mode. In a
 * group every rank evaluates its share and all get the totals (collective). */
int a4nn_trainer_evaluate(a4nn_trainer *t, const a4nn_dataset_view *val, double *acc,
                          double *loss, a4nn_error *err);
/* One SGD step on explicit device buffers x and labels: the mean loss into
 * *loss, the correct predictions into *correct (either may be NULL).
 * A4NN_ERR when the group's gradient allreduce or the backend fails. */
int a4nn_trainer_step(a4nn_trainer *t, const float *x, const float *labels, int batch,
                      double lr, double *loss, int *correct, a4nn_error *err);
/* Learning rate of a (0-based) epoch: cosine annealing over the budget. */
double a4nn_cosine_lr(double lr0, int epoch, int epochs);

/* Checkpoint: parameters, BatchNorm buffers, momentum and the next epoch, as
 * one host float array of a4nn_trainer_state_size() floats. */
size_t a4nn_trainer_state_size(const a4nn_trainer *t);
void a4nn_trainer_state_save(a4nn_trainer *t, int next_epoch, float *state);
int a4nn_trainer_state_load(a4nn_trainer *t, const float *state, size_t n, int *next_epoch,
                            a4nn_error *err);

#ifdef __cplusplus
}
#endif

#endif
