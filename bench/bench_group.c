/* Data-parallel training throughput of a worker group on the CPU backend
 * against one rank on the same global batch, in the same run:
 *
 *   mpirun -np P bench_group --genome G [--size HxW] [--init-channels C]
 *                            [--batch B] [--threads T] [--steps N]
 *
 * Phase 1: rank 0 alone trains N steps of B images (T threads). Phase 2: the
 * P ranks as one group train N steps of the same global batch, each rank B/P
 * images, gradients averaged by MPI_Allreduce. Prints one line of key=value
 * pairs: both throughputs, their ratio (speedup), the efficiency (speedup /
 * P) and the share of the group's step spent in the allreduce. bench/b_group.sh
 * runs it; run alone (one rank) it says so and exits. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/gpu.h"
#include "a4nn/nn.h"

typedef struct {
    a4nn_group *group;
    double seconds; /* spent in the gradient allreduce */
} timed_group;

static int timed_allreduce(float *buf, size_t n, void *ctx)
{
    timed_group *tg = ctx;
    double t0 = a4nn_now();
    int rc = a4nn_group_allreduce(buf, n, tg->group);
    tg->seconds += a4nn_now() - t0;
    return rc;
}

static int group_sum(double *v, int n, void *ctx) { return a4nn_group_sum(v, n, ((timed_group *)ctx)->group); }

/* Images per second of `steps` training steps of `local` images each, after
 * one warm-up step. */
static double train_rate(const a4nn_arch *arch, int threads, int global, int local,
                         timed_group *tg, int steps)
{
    a4nn_error err;
    a4nn_backend *be = a4nn_backend_cpu_create(threads, &err);
    if (!be)
        a4nn_die("bench_group: %s", err.msg);
    a4nn_net *net = a4nn_net_alloc(arch, global, be, 1, &err);
    if (!net)
        a4nn_die("bench_group: %s", err.msg);
    a4nn_train_config cfg;
    a4nn_train_config_defaults(&cfg);
    cfg.batch = global;
    if (tg) {
        a4nn_group_configure(tg->group, &cfg);
        cfg.allreduce_mean = timed_allreduce;
        cfg.allreduce_sum = group_sum;
        cfg.allreduce_ctx = tg;
    }
    a4nn_trainer *t = a4nn_trainer_alloc(net, &cfg, &err);
    if (!t)
        a4nn_die("bench_group: %s", err.msg);
    float *x, *labels = malloc(sizeof(float) * (size_t)local);
    uint8_t *y;
    const a4nn_shape *in = &arch->tensor[0];
    if (a4nn_synthetic_dataset(local, in->c, in->h, in->w, 3, &x, &y, &err))
        a4nn_die("bench_group: %s", err.msg);
    for (int i = 0; i < local; i++)
        labels[i] = y[i];
    if (a4nn_trainer_step(t, x, labels, local, 0.01, NULL, NULL, &err) != A4NN_OK) /* warm-up */
        a4nn_die("bench_group: %s", err.msg);
    if (tg) {
        tg->seconds = 0;
        MPI_Barrier(a4nn_group_comm(tg->group));
    }
    double t0 = a4nn_now();
    for (int s = 0; s < steps; s++)
        if (a4nn_trainer_step(t, x, labels, local, 0.01, NULL, NULL, &err) != A4NN_OK)
            a4nn_die("bench_group: %s", err.msg);
    double sec = a4nn_now() - t0;
    a4nn_trainer_free(t);
    a4nn_net_free(net);
    a4nn_backend_free(be);
    free(x), free(y), free(labels);
    return (double)steps * global / sec;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *genome = NULL;
    int h = 127, w = 127, init_channels = 24, batch = 32, threads = 1, steps = 3;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--genome")) genome = v, i++;
        else if (!strcmp(argv[i], "--size")) { if (sscanf(v, "%dx%d", &h, &w) != 2) a4nn_die("bad --size"); i++; }
        else if (!strcmp(argv[i], "--init-channels")) init_channels = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch")) batch = atoi(v), i++;
        else if (!strcmp(argv[i], "--threads")) threads = atoi(v), i++;
        else if (!strcmp(argv[i], "--steps")) steps = atoi(v), i++;
        else a4nn_die("bench_group: unknown option %s", argv[i]);
    }
    if (size < 2) {
        printf("bench_group: a group needs several ranks; bench/b_group.sh runs it under "
               "mpirun -np 2\n");
        MPI_Finalize();
        return 0;
    }
    if (!genome)
        genome = "[[0,1,0,1,1,1,0],[0,0,0,0,0,0,0],[1,0,1,1,0,0,0]]";
    if (batch % size || batch / size < 2 || steps < 1)
        a4nn_die("bench_group: --batch %d must be a multiple of %d ranks, 2 images each", batch,
                 size);
    a4nn_error err;
    a4nn_genome g;
    a4nn_arch *arch = malloc(sizeof *arch);
    if (a4nn_genome_parse(genome, 0, 4, &g, &err) ||
        a4nn_arch_build(&g, 1, h, w, init_channels, 2, arch, &err))
        a4nn_die("bench_group: %s", err.msg);

    double single = 0;
    if (rank == 0)
        single = train_rate(arch, threads, batch, batch, NULL, steps);
    MPI_Barrier(MPI_COMM_WORLD);
    timed_group tg = {a4nn_group_create(MPI_COMM_WORLD, size, A4NN_GROUP_MPI, &err), 0};
    if (!tg.group)
        a4nn_die("bench_group: %s", err.msg);
    double grouped = train_rate(arch, threads, batch, batch / size, &tg, steps);
    double ar = tg.seconds, ar_max;
    MPI_Reduce(&ar, &ar_max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        const double step = batch / grouped; /* seconds per global batch */
        printf("ranks=%d threads_per_rank=%d batch=%d size=%dx%d init_channels=%d mflops=%.2f "
               "params=%ld single_images_per_s=%.2f group_images_per_s=%.2f speedup=%.3f "
               "efficiency_pct=%.1f allreduce_pct=%.1f\n",
               size, threads, batch, h, w, init_channels, arch->mflops, arch->params, single,
               grouped, grouped / single, 100 * grouped / single / size,
               100 * ar_max / steps / step);
    }
    a4nn_group_free(tg.group);
    free(arch);
    MPI_Finalize();
    return 0;
}
