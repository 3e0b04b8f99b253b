/* Training throughput of the CPU backend (forward + backward + SGD update),
 * and OpenBLAS sgemm GFLOP/s on the same threads: the practical limit.
 *
 *   bench_train --genome G --size HxW --init-channels C --batch B [--threads T] [--steps N]
 *   bench_train --sgemm [--threads T]
 *   bench_train ... --profile     also the time per backend entry, and per convolution
 *                                 shape with its GFLOP/s (stderr)
 *   bench_train ... --kernels auto|own|direct|winograd   the 3x3 convolutions
 *                                 (worker.cpu_kernels)
 *
 * Prints one line of key=value pairs; bench/b_train.sh compares it with
 * PyTorch on the same network. train_gflops counts a multiply-add as 2 FLOPs,
 * as sgemm's 2n^3 does, so the two are comparable; mflops is the DESIGN.md
 * counter (the search objective), which counts a multiply-add as 1. */
#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "a4nn/nn.h"

void openblas_set_num_threads(int num_threads);

/* CPU time of the process (all threads): on a shared machine it depends far
 * less on the other load than wall time does */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double sgemm_gflops(int threads)
{
    openblas_set_num_threads(threads);
    const int n = 1536;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    for (long i = 0; i < (long)n * n; i++)
        a[i] = (float)(i % 13) * 0.01f, b[i] = (float)(i % 7) * 0.02f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double t0 = a4nn_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double g = 2.0 * n * n * (double)n / (a4nn_now() - t0) / 1e9;
        if (g > best)
            best = g;
    }
    free(a), free(b), free(c);
    return best;
}

/* Forward FLOPs of one image with a multiply-add as 2: the DESIGN.md counter
 * plus one more per multiply-add of conv and linear layers (out x cin x k^2,
 * in x out); element-wise ops (bias, BN, ReLU, pooling) stay as counted. */
static double forward_flops_2mac(const a4nn_arch *a)
{
    double total = 0;
    for (int i = 0; i < a->n_ops; i++) {
        const a4nn_op *op = &a->ops[i];
        const a4nn_shape *in = &a->tensor[op->in[0]], *out = &a->tensor[op->out];
        double macs = 0;
        if (op->kind == A4NN_OP_CONV)
            macs = (double)out->c * out->h * out->w * in->c * op->kernel * op->kernel;
        else if (op->kind == A4NN_OP_LINEAR)
            macs = (double)in->c * in->h * in->w * out->c;
        total += op->mflops * 1e6 + macs;
    }
    return total;
}

/* --profile: every backend entry the network calls is wrapped in a timer;
 * convolutions are split by kernel size (3x3: the direct kernels, 1x1: sgemm) */
enum { P_CONV3_F, P_CONV3_B, P_CONV1_F, P_CONV1_B, P_BN_F, P_BN_B, P_BNRELU_F, P_BNRELU_B,
       P_RELU_F, P_RELU_B, P_POOL_F, P_POOL_B, P_CAT_F, P_CAT_B, P_ZERO, P_OTHER, P_N };
static const char *prof_name[P_N] = {
    "conv3x3 forward", "conv3x3 backward", "conv1x1 forward", "conv1x1 backward",
    "batchnorm forward", "batchnorm backward", "bn+relu forward", "bn+relu backward",
    "relu forward", "relu backward", "maxpool forward", "maxpool backward",
    "concat forward", "concat backward", "zero (gradients)", "gap, linear, loss, sgd"};
static double prof_s[P_N];
static a4nn_backend orig;
/* and per convolution shape: forward and backward seconds, calls */
enum { MAX_SHAPES = 64 };
static struct {
    a4nn_conv_desc d;
    double s[2];
    long calls;
} prof_shape[MAX_SHAPES];
static int n_prof_shapes;
static void shape_add(const a4nn_conv_desc *d, int backward, double s)
{
    int i = 0;
    while (i < n_prof_shapes && memcmp(&prof_shape[i].d, d, sizeof *d))
        i++;
    if (i == MAX_SHAPES)
        return;
    if (i == n_prof_shapes)
        prof_shape[n_prof_shapes++].d = *d;
    prof_shape[i].s[backward] += s;
    prof_shape[i].calls += !backward;
}
#define TIMED(slot, call)                                                                    \
    do {                                                                                     \
        double t0_ = a4nn_now();                                                             \
        call;                                                                                \
        prof_s[slot] += a4nn_now() - t0_;                                                    \
    } while (0)
static void p_conv_f(void *c, const a4nn_conv_desc *d, const float *x, const float *w,
                     const float *b, float *y)
{
    double t0 = a4nn_now();
    TIMED(d->k == 1 ? P_CONV1_F : P_CONV3_F, orig.conv_forward(c, d, x, w, b, y));
    shape_add(d, 0, a4nn_now() - t0);
}
static void p_conv_fs(void *c, const a4nn_conv_desc *d, const float *x, const float *w,
                      const float *b, float *y, double *st)
{
    double t0 = a4nn_now();
    TIMED(d->k == 1 ? P_CONV1_F : P_CONV3_F, orig.conv_forward_stats(c, d, x, w, b, y, st));
    shape_add(d, 0, a4nn_now() - t0);
}
static void p_conv_b(void *c, const a4nn_conv_desc *d, const float *x, const float *w,
                     const float *dy, float *dx, float *dw, float *db, int acc)
{
    double t0 = a4nn_now();
    TIMED(d->k == 1 ? P_CONV1_B : P_CONV3_B, orig.conv_backward(c, d, x, w, dy, dx, dw, db, acc));
    shape_add(d, 1, a4nn_now() - t0);
}
/* the BatchNorm + ReLU backward it runs inside counts as the convolution's */
static void p_conv_bnr_b(void *c, const a4nn_conv_desc *d, const float *x, const float *w,
                         const float *y, const float *dz, size_t dzs, const float *g,
                         const float *b, const float *sm, const float *si, float *dg, float *dbt,
                         float *dx, float *dw, float *db, int acc)
{
    double t0 = a4nn_now();
    TIMED(d->k == 1 ? P_CONV1_B : P_CONV3_B,
          orig.conv_bn_relu_backward(c, d, x, w, y, dz, dzs, g, b, sm, si, dg, dbt, dx, dw, db,
                                     acc));
    shape_add(d, 1, a4nn_now() - t0);
}
static void p_bn_f(void *c, int n, int ch, int hw, const float *x, const float *g, const float *b,
                   float *rm, float *rv, float *sm, float *si, float *y, int tr, float m, float e)
{
    TIMED(P_BN_F, orig.bn_forward(c, n, ch, hw, x, g, b, rm, rv, sm, si, y, tr, m, e));
}
static void p_bnr_f(void *c, int n, int ch, int hw, const float *x, const float *g,
                    const float *b, float *rm, float *rv, float *sm, float *si, float *y,
                    size_t ys, int tr, float m, float e, const double *st)
{
    TIMED(P_BNRELU_F,
          orig.bn_relu_forward(c, n, ch, hw, x, g, b, rm, rv, sm, si, y, ys, tr, m, e, st));
}
static void p_bn_b(void *c, int n, int ch, int hw, const float *x, const float *dy,
                   const float *g, const float *sm, const float *si, float *dx, float *dg,
                   float *db)
{
    TIMED(P_BN_B, orig.bn_backward(c, n, ch, hw, x, dy, g, sm, si, dx, dg, db));
}
static void p_bnr_b(void *c, int n, int ch, int hw, const float *x, const float *dy,
                    size_t dys, const float *g, const float *b, const float *sm, const float *si,
                    float *dx, float *dg, float *db, int acc)
{
    TIMED(P_BNRELU_B,
          orig.bn_relu_backward(c, n, ch, hw, x, dy, dys, g, b, sm, si, dx, dg, db, acc));
}
static void p_relu_f(void *c, size_t n, const float *x, float *y)
{
    TIMED(P_RELU_F, orig.relu_forward(c, n, x, y));
}
static void p_relu_b(void *c, size_t n, const float *y, const float *dy, float *dx)
{
    TIMED(P_RELU_B, orig.relu_backward(c, n, y, dy, dx));
}
static void p_pool_f(void *c, int n, int ch, int h, int w, const float *x, float *y)
{
    TIMED(P_POOL_F, orig.maxpool_forward(c, n, ch, h, w, x, y));
}
static void p_pool_b(void *c, int n, int ch, int h, int w, const float *x, const float *dy,
                     float *dx, int acc)
{
    TIMED(P_POOL_B, orig.maxpool_backward(c, n, ch, h, w, x, dy, dx, acc));
}
static void p_cat_f(void *c, int n, int cs, int cd, int off, int hw, const float *s, float *d)
{
    TIMED(P_CAT_F, orig.concat_forward(c, n, cs, cd, off, hw, s, d));
}
static void p_cat_b(void *c, int n, int cs, int cd, int off, int hw, const float *d, float *s)
{
    TIMED(P_CAT_B, orig.concat_backward(c, n, cs, cd, off, hw, d, s));
}
static void p_zero(void *c, float *p, size_t n) { TIMED(P_ZERO, orig.zero(c, p, n)); }

static void profile_backend(a4nn_backend *be)
{
    orig = *be;
    be->conv_forward = p_conv_f, be->conv_backward = p_conv_b;
    if (be->conv_forward_stats)
        be->conv_forward_stats = p_conv_fs;
    if (be->conv_bn_relu_backward)
        be->conv_bn_relu_backward = p_conv_bnr_b;
    be->bn_forward = p_bn_f, be->bn_backward = p_bn_b;
    if (be->bn_relu_forward)
        be->bn_relu_forward = p_bnr_f, be->bn_relu_backward = p_bnr_b;
    be->relu_forward = p_relu_f, be->relu_backward = p_relu_b;
    be->maxpool_forward = p_pool_f, be->maxpool_backward = p_pool_b;
    be->concat_forward = p_cat_f, be->concat_backward = p_cat_b;
    be->zero = p_zero;
}

static void profile_print(double step_total)
{
    double known = 0;
    for (int i = 0; i < P_OTHER; i++)
        known += prof_s[i];
    prof_s[P_OTHER] = step_total - known;
    for (int i = 0; i < P_N; i++)
        if (prof_s[i] > 0)
            fprintf(stderr, "profile %-22s %8.1f ms %5.1f %%\n", prof_name[i], 1e3 * prof_s[i],
                    100 * prof_s[i] / step_total);
    /* convolutions by shape: time and GFLOP/s (a multiply-add = 2 FLOPs) */
    for (int i = 0; i < n_prof_shapes; i++) {
        const a4nn_conv_desc *d = &prof_shape[i].d;
        const double f = 2.0 * d->n * d->c_out * d->h_out * d->w_out * d->c_in * d->k * d->k *
                         prof_shape[i].calls;
        fprintf(stderr,
                "profile conv %2dx%-2d %3d->%-3d %3dx%-3d pad %d n %3d: %5ld calls, forward "
                "%7.1f ms %5.1f GFLOP/s, backward %7.1f ms %5.1f GFLOP/s, %5.1f %% of the step\n",
                d->k, d->k, d->c_in, d->c_out, d->h_in, d->w_in, d->pad, d->n,
                prof_shape[i].calls, 1e3 * prof_shape[i].s[0], f / prof_shape[i].s[0] / 1e9,
                1e3 * prof_shape[i].s[1], 2 * f / prof_shape[i].s[1] / 1e9,
                100 * (prof_shape[i].s[0] + prof_shape[i].s[1]) / step_total);
    }
}

int main(int argc, char **argv)
{
    const char *genome = NULL;
    int h = 127, w = 127, init_channels = 24, batch = 32, threads = omp_get_num_procs(),
        steps = 5, sgemm = 0, profile = 0;
    a4nn_cpu_kernels kernels = A4NN_CPU_KERNELS_AUTO;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--sgemm")) sgemm = 1;
        else if (!strcmp(argv[i], "--profile")) profile = 1;
        else if (!strcmp(argv[i], "--genome")) genome = v, i++;
        else if (!strcmp(argv[i], "--size")) { if (sscanf(v, "%dx%d", &h, &w) != 2) a4nn_die("bad --size"); i++; }
        else if (!strcmp(argv[i], "--init-channels")) init_channels = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch")) batch = atoi(v), i++;
        else if (!strcmp(argv[i], "--threads")) threads = atoi(v), i++;
        else if (!strcmp(argv[i], "--steps")) steps = atoi(v), i++;
        else if (!strcmp(argv[i], "--kernels")) {
            const int k = a4nn_cpu_kernels_parse(v);
            if (k < 0)
                a4nn_die("bench_train: --kernels auto|own|direct|winograd");
            kernels = (a4nn_cpu_kernels)k;
            i++;
        }
        else a4nn_die("bench_train: unknown option %s", argv[i]);
    }
    if (sgemm) {
        printf("sgemm_gflops=%.2f threads=%d\n", sgemm_gflops(threads), threads);
        return 0;
    }
    if (!genome)
        a4nn_die("bench_train: --genome is required");
    a4nn_error err;
    a4nn_genome g;
    a4nn_arch *arch = malloc(sizeof *arch);
    if (a4nn_genome_parse(genome, 0, 4, &g, &err) || a4nn_arch_build(&g, 1, h, w, init_channels, 2, arch, &err))
        a4nn_die("bench_train: %s", err.msg);
    a4nn_backend *be = a4nn_backend_cpu_create(threads, &err);
    if (!be)
        a4nn_die("bench_train: %s", err.msg);
    a4nn_backend_cpu_kernels(be, kernels);
    if (profile)
        profile_backend(be);
    a4nn_net *net = a4nn_net_alloc(arch, batch, be, 1, &err);
    if (!net)
        a4nn_die("bench_train: %s", err.msg);
    a4nn_train_config cfg;
    a4nn_train_config_defaults(&cfg);
    cfg.batch = batch;
    a4nn_trainer *t = a4nn_trainer_alloc(net, &cfg, &err);
    if (!t)
        a4nn_die("bench_train: %s", err.msg);
    float *x, *labels = malloc(sizeof(float) * batch);
    uint8_t *y;
    if (a4nn_synthetic_dataset(batch, 1, h, w, 3, &x, &y, &err))
        a4nn_die("bench_train: %s", err.msg);
    for (int i = 0; i < batch; i++)
        labels[i] = y[i];
    /* warm-up: first-touch, caches */
    if (a4nn_trainer_step(t, x, labels, batch, 0.01, NULL, NULL, &err) != A4NN_OK)
        a4nn_die("bench_train: %s", err.msg);
    if (profile) /* after the warm-up: only the timed steps count */
        memset(prof_s, 0, sizeof prof_s), memset(prof_shape, 0, sizeof prof_shape), n_prof_shapes = 0;
    double t0 = a4nn_now(), c0 = cpu_seconds();
    for (int s = 0; s < steps; s++)
        if (a4nn_trainer_step(t, x, labels, batch, 0.01, NULL, NULL, &err) != A4NN_OK)
            a4nn_die("bench_train: %s", err.msg);
    double sec = a4nn_now() - t0, ips = steps * batch / sec, cpu = cpu_seconds() - c0;
    /* training FLOPs ~ 3x the forward pass (forward, input and weight
     * gradients), a multiply-add counted as 2 like sgemm */
    const double fwd = forward_flops_2mac(arch);
    printf("images_per_s=%.2f train_gflops=%.3f mflops=%.4f fwd_mflop_2mac=%.4f params=%ld "
           "step_s=%.4f threads=%d cpu_images_per_s=%.2f\n",
           ips, 3.0 * fwd * ips / 1e9, arch->mflops, fwd / 1e6, arch->params, sec / steps,
           threads, steps * batch / cpu);
    if (profile)
        profile_print(sec);
    a4nn_trainer_free(t);
    a4nn_net_free(net);
    a4nn_backend_free(be);
    free(arch), free(x), free(y), free(labels);
    return 0;
}
