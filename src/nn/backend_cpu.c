/* CPU backend: padded 3x3 convolutions on wide maps as Winograd F(4x4, 3x3)
 * (winograd.c), other 3x3 ones of up to 128 channels as a direct,
 * register-blocked kernel, 1x1 ones as OpenBLAS sgemm, larger ones as im2col
 * + sgemm; one image per OpenMP thread (OpenBLAS itself single-threaded
 * inside the parallel loop, which measures faster than threading each small
 * GEMM on a few cores); BatchNorm + ReLU fused. The weight gradients
 * accumulate per fixed chunk of images and are reduced in chunk order, so
 * results are deterministic for a given thread count. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "a4nn/nn.h"
#include "conv_onednn.h"
#include "cpu_simd.h"
#include "winograd.h"

void openblas_set_num_threads(int num_threads);

typedef struct {
    int n_threads;
    size_t ws_floats;  /* per-thread workspace size */
    float **ws;        /* [n_threads] im2col buffers */
    size_t acc_floats; /* weight-gradient accumulators, one per chunk of images */
    float **acc;       /* [n_chunks] */
    int n_chunks;
    size_t wt_floats; /* flipped, transposed weights of the input gradient */
    float *wt;
    size_t pk_floats; /* weights packed for the direct convolution */
    float *pk;
    int winograd;      /* Winograd: 0 never, 1 on the shapes of use_winograd(), 2 always */
    size_t wu_floats;  /* the Winograd weights G g G^T, packed */
    float *wu;
    onednn_convs *dnn; /* oneDNN's convolutions (A4NN_CPU_KERNELS_AUTO), or NULL */
    size_t st_doubles; /* conv_forward_stats: per image and channel, sum and squares */
    double *st;
    /* conv_bn_relu_backward: the coefficients of each channel's gradient,
     * one image's output gradient per thread, or the whole batch's for
     * oneDNN */
    size_t bnk_n, dyt_floats, dyb_floats;
    void *bnk;
    float **dyt, *dyb;
} cpu_ctx;

static int use_winograd(const cpu_ctx *ctx, const a4nn_conv_desc *d);

/* the shapes oneDNN runs faster go to it, but for those where the
 * backend's Winograd is picked too: 48 -> 48 channels on 62x62 maps, where
 * it ran forward and backward 1.35x faster than oneDNN's Winograd
 * (bench/README.md). On a failure in oneDNN (it cannot create the shape's
 * primitives) the backend's own kernels run. */
static int use_onednn(const cpu_ctx *ctx, const a4nn_conv_desc *d)
{
    return ctx->dnn && a4nn_cpu_conv_onednn(d) && !use_winograd(ctx, d);
}

/* Winograd F(4x4, 3x3) (winograd.h) does a quarter of the direct kernels'
 * multiplies plus transforms that cost per channel, not per channel pair,
 * and it vectorises its transforms over the 4x4 tiles of a tile row. On one
 * thread here (bench/README.md) it ran padded 3x3 convolutions of 24 to 48
 * channels on maps from 62x62 (16 tiles and more across: whole vectors)
 * 1.6-2.5x faster than the direct kernels, 16 channels 1.5x on 125x125 and
 * about even on 62x62, 8 channels no faster; on maps of 31x31 and less,
 * where a tile row fills half a vector or less, it was slower than the
 * direct kernels or oneDNN but for 32 channels (even). */
static int use_winograd(const cpu_ctx *ctx, const a4nn_conv_desc *d)
{
    return ctx->winograd && d->k == 3 && d->pad == 1 && d->h_out == d->h_in &&
           d->w_out == d->w_in &&
           (ctx->winograd == 2 || (d->w_in >= 61 && d->c_in >= 16 && d->c_out >= 16));
}

/* workspaces start on a cache line: the kernels' aligned rows (grids,
 * accumulators) then never straddle two */
static void ensure(float **buf, size_t *have, size_t need, int n)
{
    if (*have >= need)
        return;
    for (int t = 0; t < n; t++) {
        free(buf[t]);
        void *p = NULL;
        if (posix_memalign(&p, 64, need * sizeof(float)) != 0)
            a4nn_die("out of memory allocating %zu bytes", need * sizeof(float));
        buf[t] = p;
    }
    *have = need;
}

static float *cpu_alloc(void *ctx, size_t n)
{
    (void)ctx;
    /* 64-byte alignment for vector loads */
    void *p = NULL;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0)
        return NULL;
    return p;
}
static void cpu_free(void *ctx, float *p) { free(p); }
static void cpu_copy(void *ctx, float *dst, const float *src, size_t n)
{
    memcpy(dst, src, n * sizeof(float));
}
/* gradient buffers are large (tens of MB at 127x127): split over the threads */
static void cpu_zero(void *vctx, float *p, size_t n)
{
    const cpu_ctx *ctx = vctx;
    const size_t nt = (size_t)ctx->n_threads, part = ((n + nt - 1) / nt + 15) & ~(size_t)15;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads) if (n > (1u << 16))
    for (int t = 0; t < ctx->n_threads; t++) {
        const size_t lo = t * part, hi = lo + part < n ? lo + part : n;
        if (lo < hi)
            memset(p + lo, 0, (hi - lo) * sizeof(float));
    }
}

/* Output rows [oy0, oy1) of the column matrix:
 * col[(ci*k + ky)*k + kx][(oy - oy0)*wo + ox] = x[ci][oy + ky - pad][ox + kx - pad] */
static void im2col(const float *x, int c, int h, int w, int k, int pad, int oy0, int oy1, int wo,
                   float *col)
{
    const int ho = oy1 - oy0;
    for (int ci = 0; ci < c; ci++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                float *row = col + ((size_t)(ci * k + ky) * k + kx) * ho * wo;
                int x0 = kx - pad; /* input column of output column 0 */
                int lo = x0 < 0 ? -x0 : 0;
                int hi = wo < w - x0 ? wo : w - x0;
                for (int oy = 0; oy < ho; oy++) {
                    int iy = oy0 + oy + ky - pad;
                    float *r = row + (size_t)oy * wo;
                    if (iy < 0 || iy >= h || hi <= lo) {
                        memset(r, 0, sizeof(float) * (size_t)wo);
                        continue;
                    }
                    const float *src = x + ((size_t)ci * h + iy) * w + x0;
                    for (int ox = 0; ox < lo; ox++)
                        r[ox] = 0;
                    memcpy(r + lo, src + lo, sizeof(float) * (size_t)(hi - lo));
                    for (int ox = hi; ox < wo; ox++)
                        r[ox] = 0;
                }
            }
}

static int direct_1x1(const a4nn_conv_desc *d) { return d->k == 1 && d->pad == 0; }

/* Output rows per tile: the column matrix of a tile (K x rows*wo floats)
 * stays within about 384 KiB, so im2col writes it into L2 and the GEMM packs
 * it from there instead of from memory. */
static int tile_rows(int K, int ho, int wo)
{
    const size_t budget = 384 * 1024 / sizeof(float);
    size_t rows = budget / ((size_t)K * (size_t)wo);
    if (rows < 1)
        rows = 1;
    return rows > (size_t)ho ? ho : (int)rows;
}

/* One image of a stride-1 convolution: y (beta 0: overwrite, 1: add) =
 * conv(x [c, h, w], wt [co, c, k, k], pad) of co x ho x wo, as im2col tiles
 * and sgemm, col a workspace of K * tile_rows(K, ho, wo) * wo floats.
 * Overwriting clears y and adds: given a beta other than 1, OpenBLAS scales
 * C in a pass of its own (sgemm_beta), slower than the memset. */
static void conv_image(const float *x, int c, int h, int w, const float *wt, int co, int k,
                       int pad, int ho, int wo, float beta, float *col, float *y)
{
    const int K = c * k * k, HWo = ho * wo;
    if (beta == 0.0f) {
        memset(y, 0, (size_t)co * HWo * sizeof(float));
        beta = 1.0f;
    }
    if (k == 1 && pad == 0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, HWo, K, 1.0f, wt, K, x, HWo,
                    beta, y, HWo);
        return;
    }
    const int tr = tile_rows(K, ho, wo);
    for (int oy = 0; oy < ho; oy += tr) {
        int oy1 = oy + tr < ho ? oy + tr : ho, n = (oy1 - oy) * wo;
        im2col(x, c, h, w, k, pad, oy, oy1, wo, col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, co, n, K, 1.0f, wt, K, col, n, beta,
                    y + (size_t)oy * wo, HWo);
    }
}

/* ---- direct convolution for few channels -------------------------------
 * With few channels im2col + sgemm spends most of its time copying (the
 * column matrix is k*k times the input) and in GEMMs too thin for OpenBLAS's
 * kernels. The direct path copies an image once into a zero-padded one,
 * computes on the padded-width grid (output position q = oy * wp + ox; the
 * columns ox >= wo are computed and discarded), and keeps blocks of DCO
 * output channels x DQ positions in vector registers. The input gradient is
 * the same kernel on the padded output gradient with flipped, transposed
 * weights; the weight gradient correlates the gridded output gradient with
 * the padded input (on small maps as one sgemm per tap). */
#ifdef __AVX512F__
enum { DQV = 2 }; /* 8 x 2 accumulators of the 32 registers */
#define KEEP_IN_REG(v) ((void)0)
#define UNROLL_KY
#else
/* 4 x 3 accumulators of the 16 ymm registers (with 3 input vectors and a
 * broadcast weight): 4 x 2 left the FMAs waiting on the adds before them,
 * and GCC read each input vector 4 times as an FMA memory operand (12
 * loads per 8 FMAs); here 7 per 12 (bench/README.md, AVX2) */
enum { DQV = 3 };
/* pins a vector to a register: the FMAs then use it, not its memory (a
 * ymm register: needs AVX) */
#ifdef __AVX__
#define KEEP_IN_REG(v) __asm__("" : "+x"(v))
#else
#define KEEP_IN_REG(v) ((void)0)
#endif
/* the forward kernel's 3x3 taps unrolled whole: without the loop over kernel
 * rows GCC no longer spills an accumulator per row; 8 -> 8 channels on
 * 30x30 ran 74 -> 84 GFLOP/s, 16 -> 16 on 15x15 68 -> 81 */
#define UNROLL_KY _Pragma("GCC unroll 3")
#endif
enum { DQ = DQV * VL, DCHUNK = 32 * DQ, DW_L1 = 40 * 1024 };

typedef struct {
    int c, h, w, k, pad; /* input channels and size, kernel, padding */
    int hp, wp, ho, wo;  /* padded input, output */
    int n;               /* grid positions: ho * wp rounded up to DQ */
    size_t cs;           /* floats per padded channel, with room for the overreads */
} dgeom;

static dgeom dgeom_of(int c, int h, int w, int k, int pad)
{
    dgeom g = {c, h, w, k, pad, h + 2 * pad, w + 2 * pad, 0, 0, 0, 0};
    g.ho = g.hp - k + 1;
    g.wo = g.wp - k + 1;
    g.n = (g.ho * g.wp + DQ - 1) / DQ * DQ;
    g.cs = ((size_t)g.n + (size_t)(k - 1) * g.wp + (size_t)k + DQ + 15) & ~(size_t)15;
    return g;
}

/* Up to the 4C = 96 channels of init_channels 24 the direct path measured
 * faster than im2col + sgemm here (bench/README.md); 1x1 convolutions are
 * plain GEMMs already. */
static int use_direct(const a4nn_conv_desc *d)
{
    return d->k > 1 && d->c_out <= 128 && d->c_in <= 128 && d->pad < d->k;
}

/* n floats from s to d in vectors, the last one overlapping (n >= VL) */
static inline void copy_row(float *d, const float *s, int n)
{
    if (n < VL) {
        memcpy(d, s, (size_t)n * sizeof(float));
        return;
    }
    for (int i = 0; i < n - VL; i += VL)
        storev(d + i, loadv(s + i));
    storev(d + n - VL, loadv(s + n - VL));
}

/* only the padding is zeroed: the image rows are written once (inline
 * vector copies: a memcpy and a memset call per row of 30 floats cost
 * about as much as the copy itself) */
static void pad_image(const dgeom *g, const float *x, float *xp)
{
    const size_t top = (size_t)g->pad * g->wp + g->pad, /* first image float */
        end = top + (size_t)g->h * g->wp;               /* past the last row's right pad */
    const vecf zero = {0};
    for (int ci = 0; ci < g->c; ci++) {
        float *d = xp + ci * g->cs;
        memset(d, 0, top * sizeof(float));
        for (int iy = 0; iy < g->h; iy++) {
            float *r = d + top + (size_t)iy * g->wp; /* then its right and the next left pad */
            copy_row(r, x + ((size_t)ci * g->h + iy) * g->w, g->w);
            /* whole vectors: what they write past the pads the next row
             * overwrites, or the zeroing after the last row (cs - end >= DQ) */
            for (int p = 0; p < 2 * g->pad; p += VL)
                storev(r + g->w + p, zero);
        }
        memset(d + end, 0, (g->cs - end) * sizeof(float));
    }
}

/* yg[co][g->n] = conv of the padded image xp with the packed weights; k is
 * a constant where inlined for 3x3 */
static inline __attribute__((always_inline)) void
direct_forward_k(const dgeom *g, const float *xp, const float *pk, int co, float *yg, const int k)
{
    const int kk = k * k;
    for (int q0 = 0; q0 < g->n; q0 += DCHUNK) {
        const int q1 = q0 + DCHUNK < g->n ? q0 + DCHUNK : g->n;
        for (int cb = 0; cb < co; cb += DCO) {
            const float *wb = pk + (size_t)cb * g->c * kk;
            const int nj = co - cb < DCO ? co - cb : DCO;
            for (int q = q0; q < q1; q += DQ) {
                vecf a[DCO][DQV] = {{{0}}};
                for (int ci = 0; ci < g->c; ci++) {
                    const float *xc = xp + ci * g->cs + q, *wc = wb + (size_t)ci * kk * DCO;
                    UNROLL_KY
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            const float *xs = xc + ky * g->wp + kx;
                            vecf xv[DQV];
                            for (int v = 0; v < DQV; v++) {
                                xv[v] = loadv(xs + v * VL);
                                KEEP_IN_REG(xv[v]);
                            }
                            const float *wt = wc + (ky * k + kx) * DCO;
                            for (int j = 0; j < DCO; j++)
                                for (int v = 0; v < DQV; v++)
                                    a[j][v] += wt[j] * xv[v];
                        }
                }
                for (int j = 0; j < nj; j++)
                    for (int v = 0; v < DQV; v++)
                        storev(yg + (size_t)(cb + j) * g->n + q + v * VL, a[j][v]);
            }
        }
    }
}

static void direct_forward(const dgeom *g, const float *xp, const float *pk, int co, float *yg)
{
    if (g->k == 3)
        direct_forward_k(g, xp, pk, co, yg, 3);
    else
        direct_forward_k(g, xp, pk, co, yg, g->k);
}

/* y [co][ho][wo] = (or += with add) the valid positions of the grid yg */
static void from_grid(const dgeom *g, const float *yg, int co, int add, float *y)
{
    for (int c = 0; c < co; c++)
        for (int oy = 0; oy < g->ho; oy++) {
            const float *r = yg + (size_t)c * g->n + (size_t)oy * g->wp;
            float *o = y + ((size_t)c * g->ho + oy) * g->wo;
            if (add)
                for (int ox = 0; ox < g->wo; ox++)
                    o[ox] += r[ox];
            else
                copy_row(o, r, g->wo);
        }
}

/* the output gradient dy [co][ho][wo] on the grid, zero at discarded positions */
static void to_grid(const dgeom *g, const float *dy, int co, float *dg)
{
    for (int c = 0; c < co; c++) {
        float *r = dg + (size_t)c * g->n;
        memset(r, 0, (size_t)g->n * sizeof(float));
        for (int oy = 0; oy < g->ho; oy++)
            copy_row(r + (size_t)oy * g->wp, dy + ((size_t)c * g->ho + oy) * g->wo, g->wo);
    }
}

/* dwv [co][c][kk][VL] += correlation of the gridded output gradient dg
 * (channel stride ds) with the padded input xp, in VL partial sums per
 * weight (summed once per batch): blocks of DCO output channels x 3 taps of
 * a kernel row stay in registers over a chunk of positions */
static inline __attribute__((always_inline)) void
direct_dweights_k(const dgeom *g, const float *xp, const float *dg, size_t ds, int co,
                  float *dwv, const int k)
{
    const int kk = k * k;
    /* positions per chunk: the chunk of DCO output-gradient rows stays in L1
     * (40 of the 48 KiB) while every input channel and tap row passes over it */
    const int nch = (int)(((size_t)g->n * DCO * sizeof(float) + DW_L1 - 1) / DW_L1),
              qc = ((g->n + nch - 1) / nch + VL - 1) / VL * VL;
    for (int cb = 0; cb < co; cb += DCO) {
        const int nj = co - cb < DCO ? co - cb : DCO;
        const float *dr[DCO];
        for (int j = 0; j < DCO; j++) /* missing channels repeat one; discarded */
            dr[j] = dg + (size_t)(cb + (j < nj ? j : 0)) * ds;
        for (int q0 = 0; q0 < g->n; q0 += qc) {
            const int q1 = q0 + qc < g->n ? q0 + qc : g->n;
            for (int ci = 0; ci < g->c; ci++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx0 = 0; kx0 < k; kx0 += 3) {
                        const float *xs = xp + ci * g->cs + ky * g->wp + kx0;
                        vecf a[DCO][3] = {{{0}}};
                        for (int q = q0; q < q1; q += VL) {
                            vecf x0 = loadv(xs + q), x1 = loadv(xs + q + 1),
                                 x2 = loadv(xs + q + 2);
                            KEEP_IN_REG(x0);
                            KEEP_IN_REG(x1);
                            KEEP_IN_REG(x2);
                            for (int j = 0; j < DCO; j++) {
                                vecf d = loadv(dr[j] + q);
                                KEEP_IN_REG(d);
                                a[j][0] += d * x0;
                                a[j][1] += d * x1;
                                a[j][2] += d * x2;
                            }
                        }
                        const int nt = k - kx0 < 3 ? k - kx0 : 3;
                        for (int j = 0; j < nj; j++)
                            for (int t = 0; t < nt; t++) {
                                float *o = dwv + (((size_t)(cb + j) * g->c + ci) * kk +
                                                  ky * k + kx0 + t) * VL;
                                storev(o, loadv(o) + a[j][t]);
                            }
                    }
        }
    }
}

static void direct_dweights(const dgeom *g, const float *xp, const float *dg, size_t ds, int co,
                            float *dwv)
{
    if (g->k == 3)
        direct_dweights_k(g, xp, dg, ds, co, dwv, 3);
    else
        direct_dweights_k(g, xp, dg, ds, co, dwv, g->k);
}

/* dwt [kk][co][c] += the same correlation as k*k sgemm calls: on the grid a
 * tap is an offset into the padded input, so tap t's weight gradient is
 * dg [co x n] times the rows xp + c*cs + offset(t) transposed, a GEMM with
 * the image's positions as its long inner dimension and no im2col. */
static void gemm_dweights(const dgeom *g, const float *xp, const float *dg, size_t ds, int co,
                          float *dwt)
{
    for (int ky = 0; ky < g->k; ky++)
        for (int kx = 0; kx < g->k; kx++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, co, g->c, g->n, 1.0f, dg, (int)ds,
                        xp + (size_t)ky * g->wp + kx, (int)g->cs, 1.0f,
                        dwt + (size_t)(ky * g->k + kx) * co * g->c, g->c);
}

/* On small maps (up to about 20x20) the direct kernel's registers are
 * flushed after a few positions per channel and tap row; there the k*k
 * GEMMs measured 1.2-1.4x faster (bench/README.md, AVX-512). On AVX2 the
 * direct kernel with its inputs in registers ran 15x15 maps (n 264) 1.7x
 * faster than the GEMMs (16 channels) and 7x7 ones about even. */
static int use_gemm_dweights(const dgeom *g)
{
#ifdef __AVX512F__
    return g->n <= 512;
#else
    return g->n <= 128;
#endif
}

/* Per channel of one image's output y [c][hw], still in cache: the sum
 * (st[2 ch]) and the sum of squares about the image's own mean (st[2 ch +
 * 1]), from one pass of sums shifted by the channel's first value (so the
 * squares keep their precision), in two vectors of partial sums each: one
 * chain of adds waited on the add before it; stats_combine merges the
 * images. */
static void image_stats(const float *y, int c, int hw, double *st)
{
    for (int ch = 0; ch < c; ch++) {
        const float *p = y + (size_t)ch * hw, shift = p[0];
        vecf s0 = {0}, s1 = {0}, q0 = {0}, q1 = {0};
        int j = 0;
        for (; j + 2 * VL <= hw; j += 2 * VL) {
            const vecf a = loadv(p + j) - shift, b = loadv(p + j + VL) - shift;
            s0 += a;
            s1 += b;
            q0 += a * a;
            q1 += b * b;
        }
        s0 += s1;
        q0 += q1;
        float s = hsumv(s0), q = hsumv(q0);
        for (; j < hw; j++) {
            const float v = p[j] - shift;
            s += v;
            q += v * v;
        }
        double m2 = (double)q - (double)s * s / hw;
        st[2 * ch] = (double)s + (double)shift * hw;
        st[2 * ch + 1] = m2 > 0 ? m2 : 0;
    }
}

/* stats [2c]: the batch mean, then the biased variance, of each channel from
 * the per-image sums of image_stats (the parallel-variance formula: the
 * images' squares plus their means' spread), in image order */
static void stats_combine(const double *st, int n, int c, int hw, double *stats)
{
    const double m = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        double s = 0, q = 0;
        for (int i = 0; i < n; i++)
            s += st[((size_t)i * c + ch) * 2];
        const double mean = s / m;
        for (int i = 0; i < n; i++) {
            const double *e = st + ((size_t)i * c + ch) * 2, dm = e[0] / hw - mean;
            q += e[1] + hw * dm * dm;
        }
        stats[ch] = mean;
        stats[c + ch] = q / m;
    }
}

/* the convolution forward; with stats, also the batch statistics of y for
 * the BatchNorm that reads it next (conv_forward_stats), taken from each
 * image's output while it is in cache instead of in a pass of their own */
static void conv_forward(cpu_ctx *ctx, const a4nn_conv_desc *d, const float *x, const float *w,
                         const float *b, float *y, double *stats)
{
    const int HWo = d->h_out * d->w_out;
    double *st = NULL;
    if (stats) {
        const size_t need = (size_t)d->n * d->c_out * 2;
        if (ctx->st_doubles < need) {
            free(ctx->st);
            ctx->st = a4nn_calloc(need, sizeof(double));
            ctx->st_doubles = need;
        }
        st = ctx->st;
    }
    if (use_onednn(ctx, d) && onednn_conv_forward(ctx->dnn, d, x, w, y) == A4NN_OK) {
        if (st) {
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
            for (int i = 0; i < d->n; i++)
                image_stats(y + (size_t)i * d->c_out * HWo, d->c_out, HWo,
                            st + (size_t)i * d->c_out * 2);
            stats_combine(st, d->n, d->c_out, HWo, stats);
        }
        return;
    }
    const int K = d->c_in * d->k * d->k;
    const size_t xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)d->c_out * HWo;
    const int wino = use_winograd(ctx, d), direct = !wino && use_direct(d);
    const dgeom g = dgeom_of(d->c_in, d->h_in, d->w_in, d->k, d->pad);
    const wino_geom wg = wino_geom_of(d->c_in, d->c_out, d->h_in, d->w_in);
    if (wino) {
        ensure(&ctx->wu, &ctx->wu_floats, wino_u_floats(d->c_out, d->c_in), 1);
        wino_pack(w, d->c_out, d->c_in, ctx->wu);
        ensure(ctx->ws, &ctx->ws_floats, wino_ws_floats(&wg), ctx->n_threads);
    } else if (direct) {
        ensure(&ctx->pk, &ctx->pk_floats, round_dco(d->c_out) * K, 1);
        pack_weights(w, d->c_out, d->c_in, d->k * d->k, ctx->pk);
        ensure(ctx->ws, &ctx->ws_floats, d->c_in * g.cs + (size_t)d->c_out * g.n,
               ctx->n_threads);
    } else if (!direct_1x1(d)) {
        ensure(ctx->ws, &ctx->ws_floats,
               (size_t)K * tile_rows(K, d->h_out, d->w_out) * d->w_out, ctx->n_threads);
    }
    /* images to whichever thread is free (each on its own: deterministic) */
#pragma omp parallel for schedule(dynamic, 1) num_threads(ctx->n_threads)
    for (int i = 0; i < d->n; i++) {
        float *yi = y + i * ys, *ws = ctx->ws[omp_get_thread_num()];
        if (wino) {
            wino_forward_image(&wg, x + i * xs, ctx->wu, 0, ws, yi);
        } else if (direct) {
            pad_image(&g, x + i * xs, ws);
            direct_forward(&g, ws, ctx->pk, d->c_out, ws + d->c_in * g.cs);
            from_grid(&g, ws + d->c_in * g.cs, d->c_out, 0, yi);
        } else {
            conv_image(x + i * xs, d->c_in, d->h_in, d->w_in, w, d->c_out, d->k, d->pad,
                       d->h_out, d->w_out, 0.0f, ws, yi);
        }
        if (d->bias && b)
            for (int co = 0; co < d->c_out; co++) {
                float bv = b[co], *r = yi + (size_t)co * HWo;
                for (int p = 0; p < HWo; p++)
                    r[p] += bv;
            }
        if (st)
            image_stats(yi, d->c_out, HWo, st + (size_t)i * d->c_out * 2);
    }
    if (st)
        stats_combine(st, d->n, d->c_out, HWo, stats);
}

static void cpu_conv_forward(void *vctx, const a4nn_conv_desc *d, const float *x, const float *w,
                             const float *b, float *y)
{
    conv_forward(vctx, d, x, w, b, y, NULL);
}

static void cpu_conv_forward_stats(void *vctx, const a4nn_conv_desc *d, const float *x,
                                   const float *w, const float *b, float *y, double *stats)
{
    conv_forward(vctx, d, x, w, b, y, stats);
}

/* BatchNorm's affine map, one function for the forward pass and for the
 * backward's ReLU mask, with one rounding either way (this file is built
 * with -ffp-contract=fast, which could contract one use and not the
 * other): the mask recomputed from x is exactly the forward's y > 0 */
static inline float bn_affine(float x, float g, float b)
{
#ifdef __FMA__
    return fmaf(x, g, b);
#else
    return x * g + b; /* no FMA instructions: nothing to contract */
#endif
}

/* BatchNorm forward, then ReLU when relu is set; image i of y starts at
 * y + i * ys */
static void bn_forward(cpu_ctx *ctx, int n, int c, int hw, const float *x, const float *gamma,
                       const float *beta, float *rmean, float *rvar, float *smean,
                       float *sinvstd, float *y, size_t ys, int train, float momentum, float eps,
                       int relu, const double *stats)
{
    const size_t cs = (size_t)c * hw;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int ch = 0; ch < c; ch++) {
        float mean, invstd;
        if (train) {
            const double m = (double)n * hw;
            double var;
            if (stats) { /* from the convolution that wrote x */
                mean = (float)stats[ch];
                var = stats[c + ch];
            } else {
                /* one pass: sums of v = x - shift and v^2, shifted by a
                 * value of the channel so that the variance keeps its
                 * precision */
                const float shift = x[(size_t)ch * hw];
                double s = 0, ss = 0;
                for (int i = 0; i < n; i++) {
                    const float *p = x + i * cs + (size_t)ch * hw;
                    float ls = 0, lss = 0;
#pragma omp simd reduction(+ : ls, lss)
                    for (int j = 0; j < hw; j++) {
                        const float v = p[j] - shift;
                        ls += v;
                        lss += v * v;
                    }
                    s += ls;
                    ss += lss;
                }
                const double ms = s / m;
                var = ss / m - ms * ms;
                mean = (float)(shift + ms);
            }
            if (var < 0)
                var = 0;
            invstd = (float)(1.0 / sqrt(var + eps));
            smean[ch] = mean;
            sinvstd[ch] = invstd;
            double unbiased = m > 1 ? var * m / (m - 1) : var;
            rmean[ch] = (1 - momentum) * rmean[ch] + momentum * mean;
            rvar[ch] = (float)((1 - momentum) * rvar[ch] + momentum * unbiased);
        } else {
            mean = rmean[ch];
            invstd = 1.0f / sqrtf(rvar[ch] + eps);
        }
        const float g = gamma[ch] * invstd, bb = beta[ch] - mean * g;
        for (int i = 0; i < n; i++) {
            const float *p = x + i * cs + (size_t)ch * hw;
            float *q = y + i * ys + (size_t)ch * hw;
            if (relu) {
#pragma omp simd
                for (int j = 0; j < hw; j++) {
                    float v = bn_affine(p[j], g, bb);
                    q[j] = v > 0 ? v : 0;
                }
            } else {
#pragma omp simd
                for (int j = 0; j < hw; j++)
                    q[j] = bn_affine(p[j], g, bb);
            }
        }
    }
}

static void cpu_bn_forward(void *vctx, int n, int c, int hw, const float *x, const float *gamma,
                           const float *beta, float *rmean, float *rvar, float *smean,
                           float *sinvstd, float *y, int train, float momentum, float eps)
{
    bn_forward(vctx, n, c, hw, x, gamma, beta, rmean, rvar, smean, sinvstd, y, (size_t)c * hw,
               train, momentum, eps, 0, NULL);
}

static void cpu_bn_relu_forward(void *vctx, int n, int c, int hw, const float *x,
                                const float *gamma, const float *beta, float *rmean, float *rvar,
                                float *smean, float *sinvstd, float *y, size_t y_stride,
                                int train, float momentum, float eps, const double *stats)
{
    bn_forward(vctx, n, c, hw, x, gamma, beta, rmean, rvar, smean, sinvstd, y, y_stride, train,
               momentum, eps, 1, stats);
}

/* bn_affine on a vector, rounded alike (one FMA where the target has FMA
 * instructions, else a multiply and an add, as bn_affine) */
#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif
typedef int veci __attribute__((vector_size(VL * sizeof(int))));
static inline vecf bn_affine_v(vecf x, vecf g, vecf b)
{
#if defined(__AVX512F__) /* VL 16 */
    return (vecf)_mm512_fmadd_ps((__m512)x, (__m512)g, (__m512)b);
#elif defined(__FMA__) /* VL 8 */
    return (vecf)_mm256_fmadd_ps((__m256)x, (__m256)g, (__m256)b);
#else
    return x * g + b;
#endif
}

/* The coefficients of a channel's BatchNorm (+ ReLU) input gradient:
 * the forward's scale and shift (for the ReLU's mask), the mean, and
 * dx = k1 * (dy - mdy - (x - mu) * k2) */
typedef struct {
    float fg, fb, mu, k1, mdy, k2;
} bn_coef;

/* BatchNorm backward's first pass over channel ch: sums of dy (the ReLU's
 * gradient masked where the forward's bn_affine(x) <= 0 when beta is
 * given) and of dy * (x - mean) into dgamma, dbeta and the coefficients.
 * Image i of dy starts at dy + i * dys. */
static bn_coef bn_sums(int n, int c, int hw, int ch, const float *x, const float *dy, size_t dys,
                       const float *gamma, const float *beta, const float *smean,
                       const float *sinvstd, float *dgamma, float *dbeta)
{
    const size_t cs = (size_t)c * hw;
    const float mu = smean[ch], is = sinvstd[ch];
    /* the forward's scale and shift (bn_forward, train) */
    const float fg = beta ? gamma[ch] * is : 0, fb = beta ? beta[ch] - mu * fg : 0;
    double sdy = 0, sdyx = 0;
    /* two vectors of partial sums per sum, in registers (GCC's omp simd
     * reduction kept them on the stack, each add waiting on a store) */
    const vecf zero = {0}, vg = zero + fg, vb = zero + fb, vmu = zero + mu;
    for (int i = 0; i < n; i++) {
        const float *p = x + i * cs + (size_t)ch * hw, *g = dy + i * dys + (size_t)ch * hw;
        vecf a0 = zero, a1 = zero, b0 = zero, b1 = zero;
        int j = 0;
        for (; j + 2 * VL <= hw; j += 2 * VL) {
            const vecf p0 = loadv(p + j), p1 = loadv(p + j + VL);
            vecf g0 = loadv(g + j), g1 = loadv(g + j + VL);
            if (beta) { /* the ReLU's mask */
                g0 = (vecf)((veci)g0 & (bn_affine_v(p0, vg, vb) > zero));
                g1 = (vecf)((veci)g1 & (bn_affine_v(p1, vg, vb) > zero));
            }
            a0 += g0;
            a1 += g1;
            b0 += g0 * (p0 - vmu);
            b1 += g1 * (p1 - vmu);
        }
        a0 += a1;
        b0 += b1;
        float a = hsumv(a0), b = hsumv(b0);
        for (; j < hw; j++) {
            const float gj = !beta || bn_affine(p[j], fg, fb) > 0 ? g[j] : 0;
            a += gj;
            b += gj * (p[j] - mu);
        }
        sdy += a;
        sdyx += b;
    }
    const double m = (double)n * hw;
    dgamma[ch] = (float)(sdyx * is);
    dbeta[ch] = (float)sdy;
    /* dx = gamma*is/m * (m dy - sum dy - xhat * sum(dy xhat)) */
    return (bn_coef){fg, fb, mu, gamma[ch] * is, (float)(sdy / m), (float)(sdyx * is * is / m)};
}

/* hw floats of the input gradient q from x (p) and dy (g): with relu, of
 * BatchNorm + ReLU (the mask from x), overwritten unless acc; without,
 * accumulated */
static inline void bn_dx_row(const bn_coef *k, int relu, int acc, const float *p, const float *g,
                             float *q, int hw)
{
    const float fg = k->fg, fb = k->fb, mu = k->mu, k1 = k->k1, mdy = k->mdy, k2 = k->k2;
    /* g[j] read whatever the mask: read under it, GCC made masked loads */
    if (relu && !acc) {
#pragma omp simd
        for (int j = 0; j < hw; j++) {
            const float gj = g[j];
            q[j] = k1 * ((bn_affine(p[j], fg, fb) > 0 ? gj : 0) - mdy - (p[j] - mu) * k2);
        }
    } else if (relu) {
#pragma omp simd
        for (int j = 0; j < hw; j++) {
            const float gj = g[j];
            q[j] += k1 * ((bn_affine(p[j], fg, fb) > 0 ? gj : 0) - mdy - (p[j] - mu) * k2);
        }
    } else {
#pragma omp simd
        for (int j = 0; j < hw; j++)
            q[j] += k1 * (g[j] - mdy - (p[j] - mu) * k2);
    }
}

/* The input gradient of a stride-1 convolution is itself one: dx +=
 * conv(dy, w flipped in space and transposed in channels, pad k-1-pad).
 * This keeps the im2col + sgemm path (with beta 1 accumulating into dx)
 * instead of a col2im scatter. */
/* The output gradient of a convolution whose output y only a BatchNorm +
 * ReLU reads, as that one's input gradient from the ReLU's gradient dz
 * (image i at dz + i * dzs) and the coefficients k [c_out]: made one image
 * at a time where the convolution's backward reads it (conv_bn_relu_backward) */
typedef struct {
    const float *y, *dz;
    size_t dzs;
    const bn_coef *k;
} bn_grad;

/* image i of the output gradient bg describes into q [c_out][hw] */
static void bn_grad_image(const bn_grad *bg, int c, int hw, int i, float *q)
{
    for (int ch = 0; ch < c; ch++)
        bn_dx_row(&bg->k[ch], 1, 0, bg->y + ((size_t)i * c + ch) * hw,
                  bg->dz + i * bg->dzs + (size_t)ch * hw, q + (size_t)ch * hw, hw);
}

/* the convolution backward; with bg (dy NULL), from the output gradient it
 * describes */
static void conv_backward(cpu_ctx *ctx, const a4nn_conv_desc *d, const float *x, const float *w,
                          const float *dy, float *dx, float *dw, float *db, int dx_acc,
                          const bn_grad *bg)
{
    if (bg && use_onednn(ctx, d)) { /* oneDNN takes the whole batch's */
        const int hw = d->h_out * d->w_out;
        const size_t ys = (size_t)d->c_out * hw;
        ensure(&ctx->dyb, &ctx->dyb_floats, ys * d->n, 1);
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
        for (int i = 0; i < d->n; i++)
            bn_grad_image(bg, d->c_out, hw, i, ctx->dyb + i * ys);
        dy = ctx->dyb;
        bg = NULL;
    }
    if (use_onednn(ctx, d)) {
        /* oneDNN's input gradient adds into dx */
        if (dx && !dx_acc)
            cpu_zero(ctx, dx, (size_t)d->n * d->c_in * d->h_in * d->w_in), dx_acc = 1;
        if (onednn_conv_backward(ctx->dnn, d, x, w, dy, dx, dw) == A4NN_OK)
            return;
    }
    const int k = d->k, kk = k * k, K = d->c_in * kk, HWo = d->h_out * d->w_out;
    const int Kt = d->c_out * kk; /* the input-gradient convolution's K */
    const size_t xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)d->c_out * HWo;
    const int nt = ctx->n_threads, tr = tile_rows(K, d->h_out, d->w_out);
    const int wino = use_winograd(ctx, d), direct = !wino && use_direct(d);
    /* Winograd's geometries of the weight and the input gradient */
    const wino_geom wg = wino_geom_of(d->c_in, d->c_out, d->h_in, d->w_in),
                    wgt = wino_geom_of(d->c_out, d->c_in, d->h_out, d->w_out);
    /* the input's and the input gradient's geometries */
    const dgeom gx = dgeom_of(d->c_in, d->h_in, d->w_in, k, d->pad),
                gt = dgeom_of(d->c_out, d->h_out, d->w_out, k, k - 1 - d->pad);
    const int gdw = direct && use_gemm_dweights(&gx);
    /* When both geometries share the padded width (a "same" convolution),
     * the padded output gradient of the input-gradient pass, from its first
     * image float on, is the output gradient on the input's grid: its
     * padding columns are the grid's discarded ones. One copy then serves
     * both passes (dy_grid: where the grid starts in it). */
    const int shared = direct && gt.wp == gx.wp;
    const size_t dy_grid = shared ? (size_t)gt.pad * gt.wp + gt.pad : 0,
                 dg_stride = shared ? gt.cs : (size_t)gx.n,
                 lead = (16 - dy_grid % 16) % 16; /* puts the grid on a cache line */
    /* the direct path's workspace: the padded input, then (lead floats on)
     * the output gradient at dg_at, its padded copy when not shared, and
     * the input gradient's grid at xg_at */
    const size_t dg_at = (size_t)d->c_in * gx.cs + lead,
                 xg_at = (size_t)d->c_in * gx.cs + 16 + (size_t)d->c_out * gt.cs +
                         (shared ? 0 : (size_t)d->c_out * gx.n);
    /* per-thread accumulators: the weight gradient (VL partial sums each on
     * the direct kernel's path, tap-major on the GEMM one, transformed on
     * Winograd's), then the bias gradient */
    const size_t wsz = (size_t)d->c_out * K,
                 wpart = wino ? (size_t)WINO_XI * d->c_out * d->c_in
                              : direct && !gdw ? wsz * VL : wsz,
                 accsz = wpart + (size_t)d->c_out;
    if (wino) {
        ensure(ctx->ws, &ctx->ws_floats, wino_ws_floats(&wg), nt);
    } else if (direct) {
        ensure(ctx->ws, &ctx->ws_floats,
               dx ? xg_at + (size_t)d->c_in * gt.n
                  : (size_t)d->c_in * gx.cs + 16 + (size_t)d->c_out * dg_stride,
               nt);
    } else if (!direct_1x1(d)) {
        size_t fw = (size_t)K * tr * d->w_out,
               bw = dx ? (size_t)Kt * tile_rows(Kt, d->h_in, d->w_in) * d->w_in : 0;
        ensure(ctx->ws, &ctx->ws_floats, fw > bw ? fw : bw, nt);
    }
    ensure(ctx->acc, &ctx->acc_floats, accsz, ctx->n_chunks);
    if (bg)
        ensure(ctx->dyt, &ctx->dyt_floats, ys, nt);
    float *wt = NULL;
    if (dx) { /* wt[ci][co][ky][kx] = w[co][ci][k-1-ky][k-1-kx] */
        ensure(&ctx->wt, &ctx->wt_floats, wsz, 1);
        wt = ctx->wt;
        for (int co = 0; co < d->c_out; co++)
            for (int ci = 0; ci < d->c_in; ci++)
                for (int q = 0; q < kk; q++)
                    wt[((size_t)ci * d->c_out + co) * kk + q] =
                        w[((size_t)co * d->c_in + ci) * kk + (kk - 1 - q)];
        if (wino) {
            ensure(&ctx->wu, &ctx->wu_floats, wino_u_floats(d->c_in, d->c_out), 1);
            wino_pack(wt, d->c_in, d->c_out, ctx->wu);
        } else if (direct) {
            ensure(&ctx->pk, &ctx->pk_floats, round_dco(d->c_in) * Kt, 1);
            pack_weights(wt, d->c_in, d->c_out, kk, ctx->pk);
        }
    }
    const int nch = ctx->n_chunks;
    for (int c = 0; c < nch; c++)
        memset(ctx->acc[c], 0, accsz * sizeof(float));
#pragma omp parallel num_threads(nt)
    {
        float *ws = ctx->ws[omp_get_thread_num()];
        /* each chunk of images into its own accumulator, the chunks to
         * whichever thread is free: a thread that lost its core for a while
         * holds up the other less */
#pragma omp for schedule(dynamic, 1)
        for (int c = 0; c < nch; c++) {
            float *acc = ctx->acc[c];
            for (int i = c * d->n / nch; i < (c + 1) * d->n / nch; i++) {
                const float *dyi = bg ? NULL : dy + i * ys, *xi = x + i * xs;
                if (bg) { /* in this thread's cache from here on */
                    float *t = ctx->dyt[omp_get_thread_num()];
                    bn_grad_image(bg, d->c_out, HWo, i, t);
                    dyi = t;
                }
                if (wino) {
                    wino_dweights_image(&wg, xi, dyi, ws, acc);
                    if (dx)
                        wino_forward_image(&wgt, dyi, ctx->wu, dx_acc, ws, dx + i * xs);
                } else if (direct) {
                    float *xp = ws, *dgb = ws + dg_at, *dg = dgb + dy_grid;
                    pad_image(&gx, xi, xp);
                    if (shared)
                        pad_image(&gt, dyi, dgb);
                    else
                        to_grid(&gx, dyi, d->c_out, dg);
                    if (gdw)
                        gemm_dweights(&gx, xp, dg, dg_stride, d->c_out, acc);
                    else
                        direct_dweights(&gx, xp, dg, dg_stride, d->c_out, acc);
                    if (dx) {
                        float *dyp = shared ? dgb : dg + (size_t)d->c_out * gx.n,
                              *xg = ws + xg_at;
                        if (!shared)
                            pad_image(&gt, dyi, dyp);
                        direct_forward(&gt, dyp, ctx->pk, d->c_in, xg);
                        from_grid(&gt, xg, d->c_in, dx_acc, dx + i * xs);
                    }
                } else if (direct_1x1(d)) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->c_out, K, HWo, 1.0f,
                                dyi, HWo, xi, HWo, 1.0f, acc, K);
                    if (dx) { /* overwriting: cleared, then added (conv_image) */
                        if (!dx_acc)
                            memset(dx + i * xs, 0, xs * sizeof(float));
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, HWo, d->c_out, 1.0f,
                                    w, K, dyi, HWo, 1.0f, dx + i * xs, HWo);
                    }
                } else {
                    for (int oy = 0; oy < d->h_out; oy += tr) {
                        int oy1 = oy + tr < d->h_out ? oy + tr : d->h_out,
                            n = (oy1 - oy) * d->w_out;
                        im2col(xi, d->c_in, d->h_in, d->w_in, k, d->pad, oy, oy1, d->w_out, ws);
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->c_out, K, n, 1.0f,
                                    dyi + (size_t)oy * d->w_out, HWo, ws, n, 1.0f, acc, K);
                    }
                    if (dx)
                        conv_image(dyi, d->c_out, d->h_out, d->w_out, wt, d->c_in, k,
                                   k - 1 - d->pad, d->h_in, d->w_in, dx_acc ? 1.0f : 0.0f, ws,
                                   dx + i * xs);
                }
                if (d->bias)
                    for (int co = 0; co < d->c_out; co++) {
                        const float *r = dyi + (size_t)co * HWo;
                        float s = 0;
                        for (int p = 0; p < HWo; p++)
                            s += r[p];
                        acc[wpart + co] += s;
                    }
            }
        }
    }
    /* reduced in chunk order (and lane order): deterministic for a given
     * thread count, whichever thread ran a chunk */
    const size_t lanes = wpart / wsz;
    if (wino) { /* transformed: sum, then back to [co][c][3][3] */
        for (int c = 1; c < nch; c++)
            for (size_t j = 0; j < wpart; j++)
                ctx->acc[0][j] += ctx->acc[c][j];
        wino_dweights_finish(ctx->acc[0], d->c_out, d->c_in, dw);
    } else if (gdw) {
        for (size_t j = 0; j < wsz; j++) { /* [kk][co][c] -> [co][c][kk] */
            float sum = 0;
            for (int c = 0; c < nch; c++)
                sum += ctx->acc[c][j % kk * (wsz / kk) + j / kk];
            dw[j] = sum;
        }
    } else {
        for (size_t j = 0; j < wsz; j++) {
            float sum = 0;
            for (int c = 0; c < nch; c++)
                for (size_t l = 0; l < lanes; l++)
                    sum += ctx->acc[c][j * lanes + l];
            dw[j] = sum;
        }
    }
    if (d->bias && db)
        for (int co = 0; co < d->c_out; co++) {
            float sum = 0;
            for (int c = 0; c < nch; c++)
                sum += ctx->acc[c][wpart + co];
            db[co] = sum;
        }
}

static void cpu_conv_backward(void *vctx, const a4nn_conv_desc *d, const float *x,
                              const float *w, const float *dy, float *dx, float *dw, float *db,
                              int dx_acc)
{
    conv_backward(vctx, d, x, w, dy, dx, dw, db, dx_acc, NULL);
}

/* BatchNorm + ReLU's backward folded into the backward of the convolution
 * that feeds it: the sums pass, then the input gradient made image by
 * image where the convolution reads it (it is never stored: its write and
 * the convolution's read of it were two of the fused backward's passes
 * over memory) */
static void cpu_conv_bn_relu_backward(void *vctx, const a4nn_conv_desc *d, const float *x,
                                      const float *w, const float *y, const float *dz,
                                      size_t dz_stride, const float *gamma, const float *beta,
                                      const float *smean, const float *sinvstd, float *dgamma,
                                      float *dbeta, float *dx, float *dw, float *db, int dx_acc)
{
    cpu_ctx *ctx = vctx;
    const int c = d->c_out, hw = d->h_out * d->w_out;
    if (ctx->bnk_n < (size_t)c) {
        free(ctx->bnk);
        ctx->bnk = a4nn_calloc((size_t)c, sizeof(bn_coef));
        ctx->bnk_n = (size_t)c;
    }
    bn_coef *k = ctx->bnk;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int ch = 0; ch < c; ch++)
        k[ch] = bn_sums(d->n, c, hw, ch, y, dz, dz_stride, gamma, beta, smean, sinvstd, dgamma,
                        dbeta);
    const bn_grad bg = {y, dz, dz_stride, k};
    conv_backward(ctx, d, x, w, NULL, dx, dw, db, dx_acc, &bg);
}

/* BatchNorm backward; with beta, of BatchNorm + ReLU: the gradient dy is
 * the ReLU's and passes only where the forward's bn_affine(x) > 0 (the
 * mask recomputed from x, so the ReLU's output is not read). Image i of dy
 * starts at dy + i * dys. dx accumulates when acc is nonzero, else is
 * overwritten. Two passes over x and dy per channel: the sums, then dx. */
static void bn_backward(cpu_ctx *ctx, int n, int c, int hw, const float *x, const float *dy,
                        size_t dys, const float *gamma, const float *beta, const float *smean,
                        const float *sinvstd, float *dx, float *dgamma, float *dbeta, int acc)
{
    const size_t cs = (size_t)c * hw;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int ch = 0; ch < c; ch++) {
        const bn_coef k =
            bn_sums(n, c, hw, ch, x, dy, dys, gamma, beta, smean, sinvstd, dgamma, dbeta);
        for (int i = 0; i < n; i++) {
            const size_t o = i * cs + (size_t)ch * hw;
            bn_dx_row(&k, beta != NULL, acc, x + o, dy + i * dys + (size_t)ch * hw, dx + o, hw);
        }
    }
}

static void cpu_bn_backward(void *vctx, int n, int c, int hw, const float *x, const float *dy,
                            const float *gamma, const float *smean, const float *sinvstd,
                            float *dx, float *dgamma, float *dbeta)
{
    bn_backward(vctx, n, c, hw, x, dy, (size_t)c * hw, gamma, NULL, smean, sinvstd, dx, dgamma,
                dbeta, 1);
}

static void cpu_bn_relu_backward(void *vctx, int n, int c, int hw, const float *x,
                                 const float *dy, size_t dy_stride, const float *gamma,
                                 const float *beta, const float *smean, const float *sinvstd,
                                 float *dx, float *dgamma, float *dbeta, int dx_accumulate)
{
    bn_backward(vctx, n, c, hw, x, dy, dy_stride, gamma, beta, smean, sinvstd, dx, dgamma, dbeta,
                dx_accumulate);
}

static void cpu_relu_forward(void *vctx, size_t n, const float *x, float *y)
{
    cpu_ctx *ctx = vctx;
#pragma omp parallel for simd schedule(static) num_threads(ctx->n_threads)
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0 ? x[i] : 0;
}

static void cpu_relu_backward(void *vctx, size_t n, const float *y, const float *dy, float *dx)
{
    cpu_ctx *ctx = vctx;
#pragma omp parallel for simd schedule(static) num_threads(ctx->n_threads)
    for (size_t i = 0; i < n; i++)
        dx[i] += y[i] > 0 ? dy[i] : 0;
}

static void cpu_maxpool_forward(void *vctx, int n, int c, int h, int w, const float *x, float *y)
{
    cpu_ctx *ctx = vctx;
    const int ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (long pc = 0; pc < (long)n * c; pc++) {
        const float *p = x + pc * h * w;
        float *q = y + pc * ho * wo;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                const float *r = p + (2 * oy) * w + 2 * ox;
                float m = r[0];
                if (r[1] > m) m = r[1];
                if (r[w] > m) m = r[w];
                if (r[w + 1] > m) m = r[w + 1];
                q[oy * wo + ox] = m;
            }
    }
}

/* Which of a 2x2 window's floats (a b / c d) is its first maximum, 0-3,
 * comparing in that order: the one choice both forms of the backward make */
static inline int window_argmax(float a, float b, float c, float d)
{
    int k = 0;
    float m = a;
    if (b > m)
        m = b, k = 1;
    if (c > m)
        m = c, k = 2;
    if (d > m)
        k = 3;
    return k;
}

/* Overwriting (acc 0), each window's four floats are written once, the
 * gradient at the first argmax and zeros elsewhere (and the row and column
 * that floor pooling leaves out zeroed), so the input gradient needs no
 * zeroing pass; accumulating, the gradient is added at the argmax. */
static void cpu_maxpool_backward(void *vctx, int n, int c, int h, int w, const float *x,
                                 const float *dy, float *dx, int acc)
{
    cpu_ctx *ctx = vctx;
    const int ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (long pc = 0; pc < (long)n * c; pc++) {
        const float *p = x + pc * h * w;
        const float *g = dy + pc * ho * wo;
        float *q = dx + pc * h * w;
        for (int oy = 0; oy < ho; oy++) {
            const float *r0 = p + (2 * oy) * w, *r1 = r0 + w, *gr = g + oy * wo;
            float *q0 = q + (2 * oy) * w, *q1 = q0 + w;
            if (acc) {
                for (int ox = 0; ox < wo; ox++) {
                    const int b = 2 * ox,
                              k = window_argmax(r0[b], r0[b + 1], r1[b], r1[b + 1]);
                    (k < 2 ? q0 : q1)[b + (k & 1)] += gr[ox];
                }
            } else {
#pragma omp simd
                for (int ox = 0; ox < wo; ox++) {
                    const int b = 2 * ox,
                              k = window_argmax(r0[b], r0[b + 1], r1[b], r1[b + 1]);
                    const float gv = gr[ox];
                    q0[b] = k == 0 ? gv : 0;
                    q0[b + 1] = k == 1 ? gv : 0;
                    q1[b] = k == 2 ? gv : 0;
                    q1[b + 1] = k == 3 ? gv : 0;
                }
                if (w & 1)
                    q0[w - 1] = q1[w - 1] = 0;
            }
        }
        if (!acc && (h & 1))
            memset(q + (size_t)(h - 1) * w, 0, (size_t)w * sizeof(float));
    }
}

static void cpu_gap_forward(void *vctx, int n, int c, int hw, const float *x, float *y)
{
    const cpu_ctx *ctx = vctx;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads) if ((long)n * c * hw > (1L << 16))
    for (long pc = 0; pc < (long)n * c; pc++) {
        const float *p = x + pc * hw;
        double s = 0;
        for (int j = 0; j < hw; j++)
            s += p[j];
        y[pc] = (float)(s / hw);
    }
}

static void cpu_gap_backward(void *vctx, int n, int c, int hw, const float *dy, float *dx)
{
    const cpu_ctx *ctx = vctx;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads) if ((long)n * c * hw > (1L << 16))
    for (long pc = 0; pc < (long)n * c; pc++) {
        float g = dy[pc] / (float)hw, *q = dx + pc * hw;
        for (int j = 0; j < hw; j++)
            q[j] += g;
    }
}

static void cpu_linear_forward(void *vctx, int n, int in, int out, const float *x,
                               const float *w, const float *b, float *y)
{
    for (int i = 0; i < n; i++)
        memcpy(y + (size_t)i * out, b, sizeof(float) * (size_t)out);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in, 1.0f, y,
                out);
}

static void cpu_linear_backward(void *vctx, int n, int in, int out, const float *x,
                                const float *w, const float *dy, float *dx, float *dw, float *db)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in, 0.0f,
                dw, in);
    for (int o = 0; o < out; o++) {
        float s = 0;
        for (int i = 0; i < n; i++)
            s += dy[(size_t)i * out + o];
        db[o] = s;
    }
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out, w, in,
                    1.0f, dx, in);
}

static void cpu_concat_forward(void *vctx, int n, int c_src, int c_dst, int off, int hw,
                               const float *src, float *dst)
{
    const cpu_ctx *ctx = vctx;
    const size_t len = (size_t)c_src * hw;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int i = 0; i < n; i++)
        memcpy(dst + ((size_t)i * c_dst + off) * hw, src + i * len, len * sizeof(float));
}

static void cpu_concat_backward(void *vctx, int n, int c_src, int c_dst, int off, int hw,
                                const float *ddst, float *dsrc)
{
    const cpu_ctx *ctx = vctx;
    const size_t len = (size_t)c_src * hw;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int i = 0; i < n; i++) {
        const float *g = ddst + ((size_t)i * c_dst + off) * hw;
        float *q = dsrc + i * len;
#pragma omp simd
        for (size_t j = 0; j < len; j++)
            q[j] += g[j];
    }
}

static void cpu_softmax_xent(void *vctx, int n, int k, const float *logits, const float *labels,
                             float *dlogits, double *loss_sum, int *correct)
{
    double loss = 0;
    int ok = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        int y = (int)labels[i], best = 0;
        float m = z[0];
        for (int j = 1; j < k; j++)
            if (z[j] > m)
                m = z[j], best = j;
        double s = 0;
        for (int j = 0; j < k; j++)
            s += exp((double)(z[j] - m));
        loss += log(s) - (double)(z[y] - m);
        ok += best == y;
        if (dlogits)
            for (int j = 0; j < k; j++)
                dlogits[(size_t)i * k + j] =
                    (float)((exp((double)(z[j] - m)) / s - (j == y)) / n);
    }
    *loss_sum = loss;
    *correct = ok;
}

static double cpu_sumsq(void *vctx, size_t n, const float *x)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

static void cpu_scale(void *vctx, size_t n, float *x, float s)
{
    for (size_t i = 0; i < n; i++)
        x[i] *= s;
}

static void cpu_sgd_step(void *vctx, size_t n, float *w, const float *g, float *v, float lr,
                         float momentum, float wd)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        v[i] = momentum * v[i] + d;
        w[i] -= lr * v[i];
    }
}

static void cpu_gather(void *vctx, const float *images, const float *labels, const long *idx,
                       int n, size_t sample, float *x, float *y)
{
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * sample, images + (size_t)idx[i] * sample, sample * sizeof(float));
        y[i] = labels[idx[i]];
    }
}

static void cpu_destroy(void *vctx)
{
    cpu_ctx *ctx = vctx;
    for (int t = 0; t < ctx->n_threads; t++)
        free(ctx->ws[t]);
    for (int c = 0; c < ctx->n_chunks; c++)
        free(ctx->acc[c]);
    free(ctx->ws);
    free(ctx->acc);
    free(ctx->wt);
    free(ctx->pk);
    free(ctx->wu);
    free(ctx->st);
    free(ctx->bnk);
    for (int t = 0; t < ctx->n_threads; t++)
        free(ctx->dyt[t]);
    free(ctx->dyt);
    free(ctx->dyb);
    onednn_convs_free(ctx->dnn);
    free(ctx);
}

const char *a4nn_cpu_kernels_name(a4nn_cpu_kernels k)
{
    static const char *const name[] = {"auto", "direct", "own", "winograd"};
    return k >= 0 && k <= A4NN_CPU_KERNELS_WINOGRAD ? name[k] : "auto";
}

int a4nn_cpu_kernels_parse(const char *name)
{
    for (int k = 0; k <= A4NN_CPU_KERNELS_WINOGRAD; k++)
        if (!strcmp(name, a4nn_cpu_kernels_name(k)))
            return k;
    return -1;
}

void a4nn_backend_cpu_kernels(a4nn_backend *be, a4nn_cpu_kernels k)
{
    if (be->destroy != cpu_destroy)
        return;
    cpu_ctx *ctx = be->ctx;
    ctx->winograd = k == A4NN_CPU_KERNELS_DIRECT ? 0 : k == A4NN_CPU_KERNELS_WINOGRAD ? 2 : 1;
    if (k != A4NN_CPU_KERNELS_AUTO) {
        onednn_convs_free(ctx->dnn);
        ctx->dnn = NULL;
    } else if (!ctx->dnn) {
        ctx->dnn = onednn_convs_create(ctx->n_threads);
    }
}

a4nn_backend *a4nn_backend_cpu_create(int n_threads, a4nn_error *err)
{
    if (n_threads <= 0)
        n_threads = omp_get_num_procs();
    if (n_threads > 1024)
        return a4nn_errorf(err, "bad thread count %d", n_threads), NULL;
    /* parallelism comes from OpenMP over images; each GEMM runs on one thread */
    openblas_set_num_threads(1);
    cpu_ctx *ctx = a4nn_calloc(1, sizeof *ctx);
    ctx->n_threads = n_threads;
    ctx->ws = a4nn_calloc((size_t)n_threads, sizeof(float *));
    ctx->dyt = a4nn_calloc((size_t)n_threads, sizeof(float *));
    /* on one thread one chunk: the images in order, as a plain loop */
    ctx->n_chunks = n_threads > 1 ? 4 * n_threads : 1;
    ctx->acc = a4nn_calloc((size_t)ctx->n_chunks, sizeof(float *));
    a4nn_backend *be = a4nn_calloc(1, sizeof *be);
    *be = (a4nn_backend){
        .name = "cpu",
        .caps = A4NN_BACKEND_HOST_MEMORY,
        .ctx = ctx,
        .alloc = cpu_alloc,
        .free = cpu_free,
        .upload = cpu_copy,
        .download = cpu_copy,
        .zero = cpu_zero,
        .conv_forward = cpu_conv_forward,
        .conv_backward = cpu_conv_backward,
        .bn_forward = cpu_bn_forward,
        .bn_backward = cpu_bn_backward,
        .conv_forward_stats = cpu_conv_forward_stats,
        .conv_bn_relu_backward = cpu_conv_bn_relu_backward,
        .bn_relu_forward = cpu_bn_relu_forward,
        .bn_relu_backward = cpu_bn_relu_backward,
        .relu_forward = cpu_relu_forward,
        .relu_backward = cpu_relu_backward,
        .maxpool_forward = cpu_maxpool_forward,
        .maxpool_backward = cpu_maxpool_backward,
        .gap_forward = cpu_gap_forward,
        .gap_backward = cpu_gap_backward,
        .linear_forward = cpu_linear_forward,
        .linear_backward = cpu_linear_backward,
        .concat_forward = cpu_concat_forward,
        .concat_backward = cpu_concat_backward,
        .softmax_xent = cpu_softmax_xent,
        .sumsq = cpu_sumsq,
        .scale = cpu_scale,
        .sgd_step = cpu_sgd_step,
        .gather = cpu_gather,
        .destroy = cpu_destroy,
    };
    a4nn_backend_cpu_kernels(be, A4NN_CPU_KERNELS_AUTO);
    return be;
}

int a4nn_cuda_available(void);

a4nn_backend *a4nn_backend_create(const char *name, int n_threads, int device, a4nn_error *err)
{
    if (!strcmp(name, "cpu"))
        return a4nn_backend_cpu_create(n_threads, err);
    if (!strcmp(name, "cuda") || !strcmp(name, "auto")) {
#ifdef A4NN_CUDA
        if (a4nn_cuda_available())
            return a4nn_backend_cuda_create(device, err);
        if (!strcmp(name, "cuda"))
            return a4nn_errorf(err, "backend cuda: no GPU is visible"), NULL;
#else
        if (!strcmp(name, "cuda"))
            return a4nn_errorf(err, "backend cuda: this build has no CUDA backend "
                                    "(rebuild with make CUDA=1)"),
                   NULL;
#endif
        return a4nn_backend_cpu_create(n_threads, err);
    }
    return a4nn_errorf(err, "unknown backend '%s' (expected cpu, cuda or auto)", name), NULL;
}

void a4nn_backend_free(a4nn_backend *be)
{
    if (!be)
        return;
    if (be->destroy)
        be->destroy(be->ctx);
    free(be);
}

int a4nn_backend_status(a4nn_backend *be, a4nn_error *err)
{
    return be->status ? be->status(be->ctx, err) : A4NN_OK;
}

#ifndef A4NN_CUDA
int a4nn_cuda_available(void) { return 0; }

int a4nn_cuda_configure(a4nn_backend *be, const a4nn_cuda_options *o, a4nn_error *err)
{
    (void)be;
    if (o->tf32 || o->profile || o->verbose || o->cudnn_bn || o->cudnn_exact)
        return a4nn_errorf(err, "the CUDA switches (TF32, profiling, cuDNN choices) need the "
                                "cuda backend, and this build has no CUDA");
    return A4NN_OK;
}

int a4nn_cuda_set_tf32(a4nn_backend *be, int on, a4nn_error *err)
{
    (void)be;
    (void)on;
    return a4nn_errorf(err, "TF32 needs the cuda backend, and this build has no CUDA");
}
#endif
