/* oneDNN (libdnnl) convolutions against the CPU backend's, per shape: one
 * training step's forward, input gradient and weight gradient of a stride-1
 * convolution on [n, c, h, w] tensors, the same threads.
 *
 *   bench_onednn [--threads T] [--reps R]
 *
 * The shapes: every 3x3 one of the search space at init_channels 8, 16 and
 * 24 on 32x32 (batch 128), 64x64 (64) and 127x127 (32) inputs, the first
 * convolutions and two 1x1 ones. The CPU backend runs its direct kernels
 * (worker.cpu_kernels = direct). oneDNN is measured twice:
 * "onednn" with the reorders between the NCHW tensors of the backend table
 * and the blocked layouts oneDNN chooses (what a backend behind that table
 * would run), and "onednn-blocked" without them (the bound if every tensor
 * stayed in oneDNN's layout). Prints one line per shape: images per second
 * through that convolution's training step (batch / the best of R
 * repetitions) and a4nn's speed relative to oneDNN with the reorders. */
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/nn.h"

#define CHECK(x)                                                                              \
    do {                                                                                      \
        dnnl_status_t s_ = (x);                                                               \
        if (s_ != dnnl_success)                                                               \
            a4nn_die("bench_onednn: %s failed (%d)", #x, (int)s_);                            \
    } while (0)

typedef struct {
    dnnl_engine_t eng;
    dnnl_stream_t st;
} dnn;

/* a memory of desc md over host buffer p (NULL: allocated by oneDNN) */
static dnnl_memory_t mem(dnn *e, const dnnl_memory_desc_t *md, void *p)
{
    dnnl_memory_t m;
    CHECK(dnnl_memory_create(&m, md, e->eng, p ? p : DNNL_MEMORY_ALLOCATE));
    return m;
}

static const dnnl_memory_desc_t *query(const_dnnl_primitive_desc_t pd, dnnl_query_t q)
{
    return dnnl_primitive_desc_query_md(pd, q, 0);
}

static dnnl_primitive_t prim(const_dnnl_primitive_desc_t pd)
{
    dnnl_primitive_t p;
    CHECK(dnnl_primitive_create(&p, pd));
    return p;
}

/* a reorder between memories a and b (NULL when their layouts are equal) */
static dnnl_primitive_t reorder(dnn *e, dnnl_memory_t a, dnnl_memory_t b)
{
    const dnnl_memory_desc_t *ma, *mb;
    CHECK(dnnl_memory_get_memory_desc(a, &ma));
    CHECK(dnnl_memory_get_memory_desc(b, &mb));
    if (dnnl_memory_desc_equal(ma, mb))
        return NULL;
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_reorder_primitive_desc_create(&pd, ma, e->eng, mb, e->eng, NULL));
    dnnl_primitive_t p = prim(pd);
    dnnl_primitive_desc_destroy(pd);
    return p;
}

static void run_reorder(dnn *e, dnnl_primitive_t r, dnnl_memory_t a, dnnl_memory_t b)
{
    if (!r)
        return;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, a}, {DNNL_ARG_TO, b}};
    CHECK(dnnl_primitive_execute(r, e->st, 2, args));
}

/* seconds of one run of a convolution primitive with its 3 arguments */
static double timed_exec(dnn *e, dnnl_primitive_t p, const dnnl_exec_arg_t *args)
{
    const double t0 = a4nn_now();
    CHECK(dnnl_primitive_execute(p, e->st, 3, args));
    CHECK(dnnl_stream_wait(e->st));
    return a4nn_now() - t0;
}

typedef struct {
    int n, c_in, c_out, h, w, k, pad;
} shape;

/* best of reps, seconds: a4nn's conv_forward + conv_backward */
static double time_a4nn(const shape *s, int threads, int reps, float *x, float *wt, float *y,
                        float *dy, float *dx, float *dw)
{
    a4nn_error err;
    a4nn_backend *be = a4nn_backend_cpu_create(threads, &err);
    if (!be)
        a4nn_die("bench_onednn: %s", err.msg);
    a4nn_backend_cpu_kernels(be, A4NN_CPU_KERNELS_DIRECT); /* never oneDNN's here */
    const int ho = s->h + 2 * s->pad - s->k + 1, wo = s->w + 2 * s->pad - s->k + 1;
    a4nn_conv_desc d = {s->n, s->c_in, s->h, s->w, s->c_out, ho, wo, s->k, s->pad, 0};
    double best = 1e30;
    for (int r = 0; r <= reps; r++) { /* the first is a warm-up */
        double t0 = a4nn_now();
        be->conv_forward(be->ctx, &d, x, wt, NULL, y);
        be->conv_backward(be->ctx, &d, x, wt, dy, dx, dw, NULL, 1);
        double t = a4nn_now() - t0;
        if (r && t < best)
            best = t;
    }
    a4nn_backend_free(be);
    return best;
}

/* best of reps, seconds, with and without the reorders from and to NCHW */
static void time_onednn(dnn *e, const shape *s, int reps, float *x, float *wt, float *y,
                        float *dy, float *dx, float *dw, double *with, double *without)
{
    const int ho = s->h + 2 * s->pad - s->k + 1, wo = s->w + 2 * s->pad - s->k + 1;
    dnnl_dims_t xd = {s->n, s->c_in, s->h, s->w}, yd = {s->n, s->c_out, ho, wo},
                wd = {s->c_out, s->c_in, s->k, s->k}, st = {1, 1}, pad = {s->pad, s->pad};
    dnnl_memory_desc_t ux, uy, uw, ax, ay, aw;
    CHECK(dnnl_memory_desc_init_by_tag(&ux, 4, xd, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&uy, 4, yd, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&uw, 4, wd, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&ax, 4, xd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&ay, 4, yd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&aw, 4, wd, dnnl_f32, dnnl_format_tag_any));
    dnnl_convolution_desc_t fd, bd, wdsc;
    CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                             &ax, &aw, NULL, &ay, st, pad, pad));
    CHECK(dnnl_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &ax, &aw, &ay,
                                                   st, pad, pad));
    CHECK(dnnl_convolution_backward_weights_desc_init(&wdsc, dnnl_convolution_direct, &ax, &aw,
                                                      NULL, &ay, st, pad, pad));
    dnnl_primitive_desc_t fpd, bpd, wpd;
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, e->eng, NULL));
    CHECK(dnnl_primitive_desc_create(&bpd, &bd, NULL, e->eng, fpd));
    CHECK(dnnl_primitive_desc_create(&wpd, &wdsc, NULL, e->eng, fpd));
    dnnl_primitive_t fp = prim(fpd), bp = prim(bpd), wp = prim(wpd);
    /* user (NCHW) memories and the primitives' own */
    dnnl_memory_t mx = mem(e, &ux, x), my = mem(e, &uy, y), mw = mem(e, &uw, wt),
                  mdy = mem(e, &uy, dy), mdx = mem(e, &ux, dx), mdw = mem(e, &uw, dw);
    dnnl_memory_t fx = mem(e, query(fpd, dnnl_query_src_md), NULL),
                  fw = mem(e, query(fpd, dnnl_query_weights_md), NULL),
                  fy = mem(e, query(fpd, dnnl_query_dst_md), NULL),
                  bdy = mem(e, query(bpd, dnnl_query_diff_dst_md), NULL),
                  bw = mem(e, query(bpd, dnnl_query_weights_md), NULL),
                  bdx = mem(e, query(bpd, dnnl_query_diff_src_md), NULL),
                  wx = mem(e, query(wpd, dnnl_query_src_md), NULL),
                  wdy = mem(e, query(wpd, dnnl_query_diff_dst_md), NULL),
                  wdw = mem(e, query(wpd, dnnl_query_diff_weights_md), NULL);
    dnnl_primitive_t r_x = reorder(e, mx, fx), r_w = reorder(e, mw, fw), r_y = reorder(e, fy, my),
                     r_dy = reorder(e, mdy, bdy), r_bw = reorder(e, mw, bw),
                     r_dx = reorder(e, bdx, mdx), r_wx = reorder(e, mx, wx),
                     r_wdy = reorder(e, mdy, wdy), r_dw = reorder(e, wdw, mdw);
    dnnl_exec_arg_t fa[3] = {{DNNL_ARG_SRC, fx}, {DNNL_ARG_WEIGHTS, fw}, {DNNL_ARG_DST, fy}},
                    ba[3] = {{DNNL_ARG_DIFF_DST, bdy},
                             {DNNL_ARG_WEIGHTS, bw},
                             {DNNL_ARG_DIFF_SRC, bdx}},
                    wa[3] = {{DNNL_ARG_SRC, wx},
                             {DNNL_ARG_DIFF_DST, wdy},
                             {DNNL_ARG_DIFF_WEIGHTS, wdw}};
    *with = *without = 1e30;
    for (int r = 0; r <= reps; r++) {
        double t0 = a4nn_now(), tr = 0;
        run_reorder(e, r_x, mx, fx);
        run_reorder(e, r_w, mw, fw);
        CHECK(dnnl_stream_wait(e->st));
        tr += timed_exec(e, fp, fa);
        run_reorder(e, r_y, fy, my);
        run_reorder(e, r_dy, mdy, bdy);
        run_reorder(e, r_bw, mw, bw);
        CHECK(dnnl_stream_wait(e->st));
        tr += timed_exec(e, bp, ba);
        run_reorder(e, r_dx, bdx, mdx);
        run_reorder(e, r_wx, mx, wx);
        run_reorder(e, r_wdy, mdy, wdy);
        CHECK(dnnl_stream_wait(e->st));
        tr += timed_exec(e, wp, wa);
        run_reorder(e, r_dw, wdw, mdw);
        CHECK(dnnl_stream_wait(e->st));
        double t = a4nn_now() - t0;
        if (r && t < *with)
            *with = t;
        if (r && tr < *without)
            *without = tr;
    }
    dnnl_primitive_t all[] = {fp, bp, wp, r_x, r_w, r_y, r_dy, r_bw, r_dx, r_wx, r_wdy, r_dw};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (all[i])
            dnnl_primitive_destroy(all[i]);
    dnnl_memory_t ms[] = {mx, my, mw, mdy, mdx, mdw, fx, fw, fy, bdy, bw, bdx, wx, wdy, wdw};
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
        dnnl_memory_destroy(ms[i]);
    dnnl_primitive_desc_destroy(fpd), dnnl_primitive_desc_destroy(bpd),
        dnnl_primitive_desc_destroy(wpd);
}

int main(int argc, char **argv)
{
    int threads = omp_get_num_procs(), reps = 5;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        if (!strcmp(argv[i], "--threads")) threads = atoi(v), i++;
        else if (!strcmp(argv[i], "--reps")) reps = atoi(v), i++;
        else a4nn_die("bench_onednn: unknown option %s", argv[i]);
    }
    omp_set_num_threads(threads); /* oneDNN's OpenMP runtime */
    dnn e;
    CHECK(dnnl_engine_create(&e.eng, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&e.st, e.eng, dnnl_stream_default_flags));
    /* every 3x3 shape of the search space at init_channels C = 8, 16, 24 on
     * 32x32 (batch 128), 64x64 (batch 64) and 127x127 (batch 32): C channels
     * on the map after the first convolution, 2C and 4C after each pooling;
     * plus the first convolutions and two 1x1 ones */
    shape shapes[64];
    int ns = 0;
    const int sizes[3] = {32, 64, 127}, batches[3] = {128, 64, 32}, chans[3] = {8, 16, 24};
    for (int si = 0; si < 3; si++) {
        const int b = batches[si];
        shapes[ns++] = (shape){b, 1, 8, sizes[si], sizes[si], 3, 0};
        for (int ci = 0; ci < 3; ci++)
            for (int p = 0, m = sizes[si] - 2; p < 3; p++, m /= 2)
                shapes[ns++] = (shape){b, chans[ci] << p, chans[ci] << p, m, m, 3, 1};
    }
    shapes[ns++] = (shape){32, 1, 24, 127, 127, 3, 0};
    shapes[ns++] = (shape){128, 16, 8, 30, 30, 1, 0};
    shapes[ns++] = (shape){32, 48, 24, 125, 125, 1, 0};
    printf("threads=%d, best of %d: images/s through forward + input gradient + weight "
           "gradient\n",
           threads, reps);
    printf("%-28s %9s %9s %15s %12s\n", "shape [n,ci->co,hxw,k]", "a4nn", "onednn",
           "onednn-blocked", "a4nn/onednn");
    a4nn_rng rng;
    a4nn_rng_seed(&rng, 5);
    for (int i = 0; i < ns; i++) {
        const shape *s = &shapes[i];
        const int ho = s->h + 2 * s->pad - s->k + 1, wo = s->w + 2 * s->pad - s->k + 1;
        const size_t nx = (size_t)s->n * s->c_in * s->h * s->w,
                     ny = (size_t)s->n * s->c_out * ho * wo,
                     nw = (size_t)s->c_out * s->c_in * s->k * s->k;
        float *x = malloc(nx * 4), *dx = malloc(nx * 4), *y = malloc(ny * 4),
              *dy = malloc(ny * 4), *w = malloc(nw * 4), *dw = malloc(nw * 4);
        for (size_t j = 0; j < nx; j++)
            x[j] = (float)a4nn_rng_normal(&rng), dx[j] = 0;
        for (size_t j = 0; j < ny; j++)
            dy[j] = (float)a4nn_rng_normal(&rng);
        for (size_t j = 0; j < nw; j++)
            w[j] = (float)a4nn_rng_normal(&rng);
        double ta = time_a4nn(s, threads, reps, x, w, y, dy, dx, dw), with, without;
        time_onednn(&e, s, reps, x, w, y, dy, dx, dw, &with, &without);
        char name[64];
        snprintf(name, sizeof name, "[%d,%d->%d,%dx%d,%d]", s->n, s->c_in, s->c_out, s->h, s->w,
                 s->k);
        printf("%-28s %9.1f %9.1f %15.1f %11.2fx\n", name, s->n / ta, s->n / with,
               s->n / without, with / ta);
        free(x), free(dx), free(y), free(dy), free(w), free(dw);
    }
    dnnl_stream_destroy(e.st);
    dnnl_engine_destroy(e.eng);
    return 0;
}
