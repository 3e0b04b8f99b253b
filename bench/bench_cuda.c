/* Training throughput of the CUDA backend on one GPU: forward, backward,
 * gradient clipping and SGD on batches gathered on the device from a
 * device-resident synthetic image pool (127x127, one channel, the XFEL
 * shape). Prints one line of key=value pairs; bench/b_cuda.sh compares it
 * with PyTorch eager (bench/torch_gpu.py) on the same GPU and precision.
 *
 *   bench_cuda --genome G [--size HxW] [--init-channels C] [--batch B]
 *              [--steps N] [--tf32 0|1] [--pool P] [--epoch-images N]
 *              [--profile] [--verbose] [--cudnn-bn] [--cudnn-exact]
 *   (the switches of a4nn_cuda_options: time per backend entry, the chosen
 *   convolution algorithms, cuDNN's BatchNorm, no FFT/Winograd algorithms)
 *   bench_cuda --pick CSV     the genomes with the lowest, median and highest
 *                             MFLOPs in a curves CSV, one "mflops genome" a line */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/nn.h"
#include "a4nn/search.h"

typedef struct {
    double mflops;
    char genome[128];
} entry;

static int by_mflops(const void *a, const void *b)
{
    double x = ((const entry *)a)->mflops, y = ((const entry *)b)->mflops;
    return (x > y) - (x < y);
}

static int pick(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        a4nn_die("bench_cuda: cannot open %s", path);
    entry *e = NULL;
    int n = 0, cap = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char *q1 = strchr(line, '"'), *q2 = q1 ? strchr(q1 + 1, '"') : NULL,
             *last = strrchr(line, ',');
        if (!q1 || !q2 || !last || last < q2 || q2 - q1 - 1 >= 128)
            continue;
        entry t;
        memcpy(t.genome, q1 + 1, (size_t)(q2 - q1 - 1));
        t.genome[q2 - q1 - 1] = 0;
        t.mflops = atof(last + 1);
        int seen = 0;
        for (int i = 0; i < n && !seen; i++)
            seen = !strcmp(e[i].genome, t.genome);
        if (seen)
            continue;
        if (n == cap)
            e = realloc(e, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *e);
        if (!e)
            a4nn_die("bench_cuda: out of memory");
        e[n++] = t;
    }
    fclose(f);
    if (!n)
        a4nn_die("bench_cuda: no genomes in %s", path);
    qsort(e, (size_t)n, sizeof *e, by_mflops);
    const int at[3] = {0, n / 2, n - 1};
    for (int i = 0; i < 3; i++)
        printf("%.4f %s\n", e[at[i]].mflops, e[at[i]].genome);
    free(e);
    return 0;
}

int main(int argc, char **argv)
{
    const char *genome = NULL;
    int h = 127, w = 127, c0 = 24, batch = 128, steps = 100, tf32 = 0, pool = 2048;
    a4nn_cuda_options opt = {0, 0, 0, 0, 0};
    long epoch_images = 63508;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--pick"))
            return pick(v);
        else if (!strcmp(argv[i], "--genome")) genome = v, i++;
        else if (!strcmp(argv[i], "--size")) { if (sscanf(v, "%dx%d", &h, &w) != 2) a4nn_die("bench_cuda: bad --size '%s'", v); i++; }
        else if (!strcmp(argv[i], "--init-channels")) c0 = atoi(v), i++;
        else if (!strcmp(argv[i], "--batch")) batch = atoi(v), i++;
        else if (!strcmp(argv[i], "--steps")) steps = atoi(v), i++;
        else if (!strcmp(argv[i], "--tf32")) tf32 = atoi(v), i++;
        else if (!strcmp(argv[i], "--pool")) pool = atoi(v), i++;
        else if (!strcmp(argv[i], "--profile")) opt.profile = 1;
        else if (!strcmp(argv[i], "--verbose")) opt.verbose = 1;
        else if (!strcmp(argv[i], "--cudnn-bn")) opt.cudnn_bn = 1;
        else if (!strcmp(argv[i], "--cudnn-exact")) opt.cudnn_exact = 1;
        else if (!strcmp(argv[i], "--epoch-images")) epoch_images = atol(v), i++;
        else a4nn_die("bench_cuda: unknown option %s (see the comment at the top of bench/bench_cuda.c)", argv[i]);
    }
    if (argc == 1) { /* as run by bench/run.sh: the comparison lives in b_cuda.sh */
        printf("bench_cuda: pass --genome G, or run bench/b_cuda.sh for the comparison "
               "with PyTorch\n");
        return 0;
    }
    if (!genome)
        a4nn_die("bench_cuda: --genome is required");
    if (batch < 1 || steps < 1 || pool < 1 || h < 8 || w < 8 || c0 < 1)
        a4nn_die("bench_cuda: bad sizes");
    if (!a4nn_cuda_available()) {
        printf("SKIPPED: no CUDA GPU visible\n");
        return 0;
    }
    a4nn_error err;
    a4nn_genome g;
    if (a4nn_genome_parse(genome, 0, 4, &g, &err) != A4NN_OK)
        a4nn_die("bench_cuda: genome: %s", err.msg);
    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    if (a4nn_arch_build(&g, 1, h, w, c0, 2, arch, &err) != A4NN_OK)
        a4nn_die("bench_cuda: %s", err.msg);
    a4nn_backend *be = a4nn_backend_create("cuda", 0, 0, &err);
    opt.tf32 = tf32;
    if (!be || a4nn_cuda_configure(be, &opt, &err) != A4NN_OK)
        a4nn_die("bench_cuda: %s", err.msg);
    a4nn_net *net = a4nn_net_alloc(arch, batch, be, 1, &err);
    if (!net)
        a4nn_die("bench_cuda: %s", err.msg);
    a4nn_train_config cfg;
    a4nn_train_config_defaults(&cfg);
    cfg.batch = batch;
    a4nn_trainer *t = a4nn_trainer_alloc(net, &cfg, &err);
    if (!t)
        a4nn_die("bench_cuda: %s", err.msg);

    /* synthetic pool: the same seeded images the library generates */
    float *img;
    uint8_t *lab;
    if (a4nn_synthetic_dataset(pool, 1, h, w, 7, &img, &lab, &err) != A4NN_OK)
        a4nn_die("bench_cuda: %s", err.msg);
    const size_t sample = (size_t)h * w;
    float *flab = a4nn_malloc((size_t)pool * sizeof(float));
    for (int i = 0; i < pool; i++)
        flab[i] = lab[i];
    float *d_img = be->alloc(be->ctx, sample * pool), *d_lab = be->alloc(be->ctx, (size_t)pool);
    float *x = be->alloc(be->ctx, sample * batch), *y = be->alloc(be->ctx, (size_t)batch);
    be->upload(be->ctx, d_img, img, sample * pool);
    be->upload(be->ctx, d_lab, flab, (size_t)pool);
    long *idx = a4nn_malloc((size_t)batch * sizeof(long));
    a4nn_rng r;
    a4nn_rng_seed(&r, 3);

    double loss = 0;
    int correct;
    for (int s = -5; s < steps; s++) { /* 5 warm-up steps find the algorithms */
        if (s == 0)
            loss = 0;
        static double t0;
        if (s == 0)
            t0 = a4nn_now();
        for (int i = 0; i < batch; i++)
            idx[i] = (long)a4nn_rng_below(&r, (uint64_t)pool);
        be->gather(be->ctx, d_img, d_lab, idx, batch, sample, x, y);
        if (a4nn_trainer_step(t, x, y, batch, 0.01, &loss, &correct, &err) != A4NN_OK)
            a4nn_die("bench_cuda: %s", err.msg);
        if (s == steps - 1) {
            double sec = a4nn_now() - t0; /* trainer_step ends on a host sync */
            double ips = (double)steps * batch / sec;
            printf("images_per_s=%.1f step_s=%.5f epoch_s=%.2f epoch_images=%ld mflops=%.2f "
                   "params=%ld batch=%d tf32=%d loss=%.4f\n",
                   ips, sec / steps, (double)epoch_images / ips, epoch_images, arch->mflops,
                   arch->params, batch, tf32, loss);
        }
    }
    be->free(be->ctx, d_img);
    be->free(be->ctx, d_lab);
    be->free(be->ctx, x);
    be->free(be->ctx, y);
    free(img), free(lab), free(flab), free(idx), free(arch);
    a4nn_trainer_free(t);
    a4nn_net_free(net);
    a4nn_backend_free(be);
    return 0;
}
