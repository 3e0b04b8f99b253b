/* Training throughput of the CPU backend (forward + backward + SGD update),
 * and OpenBLAS sgemm GFLOP/s on the same threads: the practical limit.
 *
 *   bench_train --genome G --size HxW --init-channels C --batch B [--threads T] [--steps N]
 *   bench_train --sgemm [--threads T]
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

int main(int argc, char **argv)
{
    const char *genome = NULL;
    int h = 127, w = 127, init_channels = 24, batch = 32, threads = omp_get_num_procs(),
        steps = 5, sgemm = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--sgemm")) sgemm = 1;
        else if (!strcmp(argv[i], "--genome")) genome = v, i++;
        else if (!strcmp(argv[i], "--size")) { if (sscanf(v, "%dx%d", &h, &w) != 2) a4nn_die("bad --size"); i++; }
        else if (!strcmp(argv[i], "--init-channels")) init_channels = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch")) batch = atoi(v), i++;
        else if (!strcmp(argv[i], "--threads")) threads = atoi(v), i++;
        else if (!strcmp(argv[i], "--steps")) steps = atoi(v), i++;
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
    a4nn_trainer_free(t);
    a4nn_net_free(net);
    a4nn_backend_free(be);
    free(arch), free(x), free(y), free(labels);
    return 0;
}
