/* oneDNN convolutions for the CPU backend (see conv_onednn.h). Per shape a
 * cache entry keeps the three primitives (forward, backward data, backward
 * weights) and the reorders between the NCHW tensors of the backend table
 * and the blocked layouts oneDNN chose; the blocked tensors live in scratch
 * buffers shared by all shapes. oneDNN threads with OpenMP: every call sets
 * the OpenMP thread count to the backend's for its duration (primitives are
 * created and run with the same count, so results are reproducible for a
 * given thread count). */
#include "conv_onednn.h"

/* The rule, measured on one thread of an AVX-512 Xeon (bench/README.md).
 * bench_onednn, single convolutions: on maps up to 16x16 with channel counts
 * that fill oneDNN's 16-channel blocks, its training step of a padded 3x3
 * convolution, reorders from and to NCHW included, took 0.45-0.87 of the
 * direct kernels' time; at 8 and 24 channels and on the first convolution
 * 1.25-3.4x. bench_train --profile, per shape inside whole networks: on
 * maps up to 62x62 at 48-96 channels oneDNN's forward and backward were
 * 1.2-1.5x faster, at 32 channels the same, at 16 channels slower.
 * On AVX2 (Zen 3, bench/README.md) the direct kernels ran 16 -> 16 channels
 * on 15x15 maps 1.22x faster than oneDNN, 32-96 on 15x15 even (0.96-1.03x),
 * on 7x7 0.70-0.75x: there the small maps need 32 channels and more. */
int a4nn_cpu_conv_onednn(const a4nn_conv_desc *d)
{
    const int map = d->h_in * d->w_in;
#ifdef __AVX512F__
    const int small_c = 16;
#else
    const int small_c = 32;
#endif
    return a4nn_onednn_available() && d->k == 3 && d->pad == 1 && !d->bias &&
           d->c_in % 16 == 0 && d->c_out % 16 == 0 &&
           ((map <= 16 * 16 && d->c_in >= small_c && d->c_out >= small_c) ||
            (d->c_in >= 48 && d->c_out >= 48 && map <= 64 * 64));
}

#ifndef A4NN_ONEDNN

int a4nn_onednn_available(void) { return 0; }

onednn_convs *onednn_convs_create(int n_threads)
{
    (void)n_threads;
    return NULL;
}
void onednn_convs_free(onednn_convs *o) { (void)o; }
int onednn_conv_forward(onednn_convs *o, const a4nn_conv_desc *d, const float *x, const float *w,
                        float *y)
{
    return A4NN_ERR;
}
int onednn_conv_backward(onednn_convs *o, const a4nn_conv_desc *d, const float *x,
                         const float *w, const float *dy, float *dx, float *dw)
{
    return A4NN_ERR;
}

#else

#include <dnnl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

int a4nn_onednn_available(void) { return 1; }

/* A tensor handed over between the backend (user, NCHW) and a primitive
 * (blk, its layout): the reorder between them, NULL when the layouts agree
 * and the primitive works on the user's buffer directly. */
typedef struct {
    dnnl_memory_t user, blk;
    dnnl_primitive_t reorder; /* user -> blk for inputs, blk -> user for outputs */
    size_t blk_bytes;
} port;

enum { FWD, BWD_W, BWD_D };                  /* the three primitives */
enum { S_X, S_Y, S_DY, S_W, S_WD, N_SCRATCH }; /* the shared blocked buffers */

typedef struct {
    a4nn_conv_desc d;
    dnnl_primitive_t prim[3];
    port fx, fw, fy;    /* forward: x, w in; y out */
    port wx, wdy, wdw;  /* backward weights: x, dy in; dw out */
    port ddy, dw, ddx;  /* backward data: dy, w in; dx out (accumulating) */
    int ddy_from_wdy;   /* backward data takes dy in backward weights' layout */
} conv_entry;

enum { MAX_ENTRIES = 48 };

struct onednn_convs {
    int n_threads;
    dnnl_engine_t eng;
    dnnl_stream_t st;
    conv_entry *e[MAX_ENTRIES];
    int n;
    void *scratch[N_SCRATCH];
    size_t scratch_bytes[N_SCRATCH];
};

/* runs with the backend's OpenMP thread count, then restores the caller's */
typedef struct {
    int saved;
} threads_scope;
static threads_scope threads_enter(const onednn_convs *o)
{
    threads_scope s = {omp_get_max_threads()};
    omp_set_num_threads(o->n_threads);
    return s;
}
static void threads_leave(threads_scope s) { omp_set_num_threads(s.saved); }

static void port_free(port *p)
{
    if (p->reorder)
        dnnl_primitive_destroy(p->reorder);
    if (p->user)
        dnnl_memory_destroy(p->user);
    if (p->blk)
        dnnl_memory_destroy(p->blk);
    memset(p, 0, sizeof *p);
}

/* user: the NCHW (OIHW) desc; blk: the primitive's; out: blk -> user;
 * accumulate: the reorder adds into the user's tensor (always reorders) */
static int port_init(port *p, dnnl_engine_t eng, const dnnl_memory_desc_t *user,
                     const dnnl_memory_desc_t *blk, int out, int accumulate)
{
    memset(p, 0, sizeof *p);
    if (dnnl_memory_create(&p->user, user, eng, DNNL_MEMORY_NONE) != dnnl_success ||
        dnnl_memory_create(&p->blk, blk, eng, DNNL_MEMORY_NONE) != dnnl_success)
        return A4NN_ERR;
    p->blk_bytes = dnnl_memory_desc_get_size(blk);
    if (dnnl_memory_desc_equal(user, blk) && !accumulate)
        return A4NN_OK;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    int ok = 1;
    if (accumulate)
        ok = dnnl_primitive_attr_create(&attr) == dnnl_success &&
             dnnl_post_ops_create(&po) == dnnl_success &&
             dnnl_post_ops_append_sum(po, 1.0f) == dnnl_success &&
             dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
    dnnl_primitive_desc_t pd = NULL;
    ok = ok && dnnl_reorder_primitive_desc_create(&pd, out ? blk : user, eng, out ? user : blk,
                                                  eng, attr) == dnnl_success;
    ok = ok && dnnl_primitive_create(&p->reorder, pd) == dnnl_success;
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return ok ? A4NN_OK : A4NN_ERR;
}

/* points the port at the user's buffer and, when it reorders, a scratch one */
static void port_bind(port *p, const float *user, void *scratch)
{
    dnnl_memory_set_data_handle(p->user, (void *)user);
    dnnl_memory_set_data_handle(p->blk, p->reorder ? scratch : (void *)user);
}

static int port_move(onednn_convs *o, const port *p, int out)
{
    if (!p->reorder)
        return A4NN_OK;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, out ? p->blk : p->user},
                            {DNNL_ARG_TO, out ? p->user : p->blk}};
    return dnnl_primitive_execute(p->reorder, o->st, 2, a) == dnnl_success ? A4NN_OK : A4NN_ERR;
}

/* one primitive: its inputs p0 (unless already in place: move0 = 0) and p1
 * into its layouts, the primitive, its output back to the user's layout */
static int step(onednn_convs *o, dnnl_primitive_t prim, int a0, const port *p0, int move0,
                int a1, const port *p1, int a2, const port *out)
{
    dnnl_exec_arg_t a[3] = {{a0, p0->blk}, {a1, p1->blk}, {a2, out->blk}};
    if ((move0 && port_move(o, p0, 0) != A4NN_OK) || port_move(o, p1, 0) != A4NN_OK ||
        dnnl_primitive_execute(prim, o->st, 3, a) != dnnl_success)
        return A4NN_ERR;
    return port_move(o, out, 1);
}

static void entry_free(conv_entry *e)
{
    if (!e)
        return;
    for (int i = 0; i < 3; i++)
        if (e->prim[i])
            dnnl_primitive_destroy(e->prim[i]);
    port *ports[] = {&e->fx, &e->fw, &e->fy, &e->wx, &e->wdy, &e->wdw, &e->ddy, &e->dw, &e->ddx};
    for (size_t i = 0; i < sizeof ports / sizeof *ports; i++)
        port_free(ports[i]);
    free(e);
}

static const dnnl_memory_desc_t *md_of(const_dnnl_primitive_desc_t pd, dnnl_query_t q)
{
    return dnnl_primitive_desc_query_md(pd, q, 0);
}

static conv_entry *entry_create(onednn_convs *o, const a4nn_conv_desc *d, dnnl_alg_kind_t alg)
{
    const dnnl_dims_t xd = {d->n, d->c_in, d->h_in, d->w_in},
                      yd = {d->n, d->c_out, d->h_out, d->w_out},
                      wd = {d->c_out, d->c_in, d->k, d->k}, stride = {1, 1},
                      pad = {d->pad, d->pad};
    dnnl_memory_desc_t ux, uy, uw, ax, ay, aw;
    dnnl_convolution_desc_t fd, bd, wdsc;
    dnnl_primitive_desc_t pd[3] = {NULL, NULL, NULL};
    conv_entry *e = calloc(1, sizeof *e);
    int ok = e != NULL;
    ok = ok && dnnl_memory_desc_init_by_tag(&ux, 4, xd, dnnl_f32, dnnl_nchw) == dnnl_success &&
         dnnl_memory_desc_init_by_tag(&uy, 4, yd, dnnl_f32, dnnl_nchw) == dnnl_success &&
         dnnl_memory_desc_init_by_tag(&uw, 4, wd, dnnl_f32, dnnl_oihw) == dnnl_success &&
         dnnl_memory_desc_init_by_tag(&ax, 4, xd, dnnl_f32, dnnl_format_tag_any) ==
             dnnl_success &&
         dnnl_memory_desc_init_by_tag(&ay, 4, yd, dnnl_f32, dnnl_format_tag_any) ==
             dnnl_success &&
         dnnl_memory_desc_init_by_tag(&aw, 4, wd, dnnl_f32, dnnl_format_tag_any) == dnnl_success;
    ok = ok &&
         dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, alg,
                                            &ax, &aw, NULL, &ay, stride, pad, pad) ==
             dnnl_success &&
         dnnl_convolution_backward_data_desc_init(&bd, alg, &ax, &aw, &ay,
                                                  stride, pad, pad) == dnnl_success &&
         dnnl_convolution_backward_weights_desc_init(&wdsc, alg, &ax, &aw,
                                                     NULL, &ay, stride, pad,
                                                     pad) == dnnl_success;
    ok = ok && dnnl_primitive_desc_create(&pd[FWD], &fd, NULL, o->eng, NULL) == dnnl_success &&
         dnnl_primitive_desc_create(&pd[BWD_D], &bd, NULL, o->eng, pd[FWD]) == dnnl_success &&
         dnnl_primitive_desc_create(&pd[BWD_W], &wdsc, NULL, o->eng, pd[FWD]) == dnnl_success;
    for (int i = 0; i < 3 && ok; i++)
        ok = dnnl_primitive_create(&e->prim[i], pd[i]) == dnnl_success;
    if (ok) {
        e->d = *d;
        const dnnl_memory_desc_t *wdy = md_of(pd[BWD_W], dnnl_query_diff_dst_md),
                                 *ddy = md_of(pd[BWD_D], dnnl_query_diff_dst_md);
        e->ddy_from_wdy = dnnl_memory_desc_equal(wdy, ddy);
        ok = port_init(&e->fx, o->eng, &ux, md_of(pd[FWD], dnnl_query_src_md), 0, 0) == A4NN_OK &&
             port_init(&e->fw, o->eng, &uw, md_of(pd[FWD], dnnl_query_weights_md), 0, 0) ==
                 A4NN_OK &&
             port_init(&e->fy, o->eng, &uy, md_of(pd[FWD], dnnl_query_dst_md), 1, 0) ==
                 A4NN_OK &&
             port_init(&e->wx, o->eng, &ux, md_of(pd[BWD_W], dnnl_query_src_md), 0, 0) ==
                 A4NN_OK &&
             port_init(&e->wdy, o->eng, &uy, wdy, 0, 0) == A4NN_OK &&
             port_init(&e->wdw, o->eng, &uw, md_of(pd[BWD_W], dnnl_query_diff_weights_md), 1,
                       0) == A4NN_OK &&
             port_init(&e->ddy, o->eng, &uy, ddy, 0, 0) == A4NN_OK &&
             port_init(&e->dw, o->eng, &uw, md_of(pd[BWD_D], dnnl_query_weights_md), 0, 0) ==
                 A4NN_OK &&
             port_init(&e->ddx, o->eng, &ux, md_of(pd[BWD_D], dnnl_query_diff_src_md), 1, 1) ==
                 A4NN_OK;
    }
    for (int i = 0; i < 3; i++)
        if (pd[i])
            dnnl_primitive_desc_destroy(pd[i]);
    if (!ok) {
        entry_free(e);
        return NULL;
    }
    return e;
}

/* Winograd F(4x4, 3x3) does a quarter of the multiply-adds of the direct
 * convolution, at the price of transforms that cost per channel. Measured in
 * whole networks (bench_train --threads 1, DNNL_VERBOSE timings per shape),
 * a training step of oneDNN's Winograd (forward and both gradients) took
 * 0.45-0.92 of its direct convolution's time at 32-192 channels (maps 7x7 to
 * 62x62), and 1.6x at 16 channels. Where it cannot run (a CPU without
 * AVX-512) the direct convolution does. */
static conv_entry *entry_create_best(onednn_convs *o, const a4nn_conv_desc *d)
{
    conv_entry *e = NULL;
    if (d->c_in >= 32 && d->c_out >= 32)
        e = entry_create(o, d, dnnl_convolution_winograd);
    return e ? e : entry_create(o, d, dnnl_convolution_direct);
}

static int same_shape(const a4nn_conv_desc *a, const a4nn_conv_desc *b)
{
    return a->n == b->n && a->c_in == b->c_in && a->h_in == b->h_in && a->w_in == b->w_in &&
           a->c_out == b->c_out && a->h_out == b->h_out && a->w_out == b->w_out &&
           a->k == b->k && a->pad == b->pad && a->bias == b->bias;
}

/* the shape's entry, created on first use; the oldest goes when full */
static conv_entry *entry_of(onednn_convs *o, const a4nn_conv_desc *d)
{
    for (int i = 0; i < o->n; i++)
        if (same_shape(&o->e[i]->d, d))
            return o->e[i];
    conv_entry *e = entry_create_best(o, d);
    if (!e)
        return NULL;
    if (o->n == MAX_ENTRIES) {
        entry_free(o->e[0]);
        memmove(o->e, o->e + 1, (MAX_ENTRIES - 1) * sizeof *o->e);
        o->n--;
    }
    o->e[o->n++] = e;
    return e;
}

/* scratch buffer s of at least bytes (contents not kept) */
static void *scratch(onednn_convs *o, int s, size_t bytes)
{
    if (o->scratch_bytes[s] < bytes) {
        free(o->scratch[s]);
        o->scratch[s] = NULL;
        o->scratch_bytes[s] = 0;
        if (posix_memalign(&o->scratch[s], 64, bytes) != 0)
            return o->scratch[s] = NULL;
        o->scratch_bytes[s] = bytes;
    }
    return o->scratch[s];
}

onednn_convs *onednn_convs_create(int n_threads)
{
    onednn_convs *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->n_threads = n_threads;
    if (dnnl_engine_create(&o->eng, dnnl_cpu, 0) != dnnl_success) {
        free(o);
        return NULL;
    }
    if (dnnl_stream_create(&o->st, o->eng, dnnl_stream_default_flags) != dnnl_success) {
        dnnl_engine_destroy(o->eng);
        free(o);
        return NULL;
    }
    return o;
}

void onednn_convs_free(onednn_convs *o)
{
    if (!o)
        return;
    for (int i = 0; i < o->n; i++)
        entry_free(o->e[i]);
    for (int s = 0; s < N_SCRATCH; s++)
        free(o->scratch[s]);
    dnnl_stream_destroy(o->st);
    dnnl_engine_destroy(o->eng);
    free(o);
}

int onednn_conv_forward(onednn_convs *o, const a4nn_conv_desc *d, const float *x, const float *w,
                        float *y)
{
    threads_scope ts = threads_enter(o);
    conv_entry *e = entry_of(o, d);
    void *sx = e ? scratch(o, S_X, e->fx.blk_bytes) : NULL,
         *sw = e ? scratch(o, S_W, e->fw.blk_bytes) : NULL,
         *sy = e ? scratch(o, S_Y, e->fy.blk_bytes) : NULL;
    int rc = A4NN_ERR;
    if (sx && sw && sy) {
        port_bind(&e->fx, x, sx);
        port_bind(&e->fw, w, sw);
        port_bind(&e->fy, y, sy);
        rc = step(o, e->prim[FWD], DNNL_ARG_SRC, &e->fx, 1, DNNL_ARG_WEIGHTS, &e->fw,
                  DNNL_ARG_DST, &e->fy);
        if (rc == A4NN_OK && dnnl_stream_wait(o->st) != dnnl_success)
            rc = A4NN_ERR;
    }
    threads_leave(ts);
    return rc;
}

/* the weight gradient first (x and dy in blocked layouts), then the input
 * gradient, which reuses the blocked dy when its layout is the same and
 * writes the blocked dx over the blocked x, no longer needed */
int onednn_conv_backward(onednn_convs *o, const a4nn_conv_desc *d, const float *x,
                         const float *w, const float *dy, float *dx, float *dw)
{
    threads_scope ts = threads_enter(o);
    conv_entry *e = entry_of(o, d);
    const size_t bx = e ? (e->wx.blk_bytes > e->ddx.blk_bytes ? e->wx.blk_bytes
                                                               : e->ddx.blk_bytes)
                        : 0;
    void *sx = e ? scratch(o, S_X, bx) : NULL,
         *sdy = e ? scratch(o, S_DY, e->wdy.blk_bytes) : NULL,
         *sw = e ? scratch(o, S_W, e->wdw.blk_bytes) : NULL,
         *sdy2 = e && dx && !e->ddy_from_wdy ? scratch(o, S_Y, e->ddy.blk_bytes) : sdy,
         *swd = e && dx ? scratch(o, S_WD, e->dw.blk_bytes) : sw;
    int rc = A4NN_ERR;
    if (sx && sdy && sw && sdy2 && swd) {
        port_bind(&e->wx, x, sx);
        port_bind(&e->wdy, dy, sdy);
        port_bind(&e->wdw, dw, sw);
        rc = step(o, e->prim[BWD_W], DNNL_ARG_SRC, &e->wx, 1, DNNL_ARG_DIFF_DST, &e->wdy,
                  DNNL_ARG_DIFF_WEIGHTS, &e->wdw);
        if (rc == A4NN_OK && dx) {
            /* dy in the input gradient's layout: already there, or reordered */
            port_bind(&e->ddy, dy, e->ddy_from_wdy ? sdy : sdy2);
            port_bind(&e->dw, w, swd);
            port_bind(&e->ddx, dx, sx);
            rc = step(o, e->prim[BWD_D], DNNL_ARG_DIFF_DST, &e->ddy, !e->ddy_from_wdy,
                      DNNL_ARG_WEIGHTS, &e->dw, DNNL_ARG_DIFF_SRC, &e->ddx);
        }
        if (rc == A4NN_OK && dnnl_stream_wait(o->st) != dnnl_success)
            rc = A4NN_ERR;
    }
    threads_leave(ts);
    return rc;
}

#endif
