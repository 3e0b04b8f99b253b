/* Parity of the CPU backend's fast kernels with references:
 *   - the direct convolution (forward, input and weight gradients) against
 *     double-precision sums straight from the definition, at every
 *     convolution shape the search space builds for init_channels 8, 16, 24
 *     on 32x32, 64x64 and 127x127 inputs (sampled entries, batch 2), and in
 *     full at odd channel counts and sizes;
 *   - fused BatchNorm + ReLU against BatchNorm then ReLU, forward and
 *     backward, in full, and with y and dy as strided channel slices;
 *   - the batch statistics of a convolution's output computed inside the
 *     convolution, and BatchNorm + ReLU from them; BatchNorm + ReLU's
 *     backward inside the convolution's against the two one after the other;
 *   - max pooling's and the convolutions' overwriting backward against
 *     their accumulating one;
 *   - the threaded zeroing of gradient buffers at lengths that do not split
 *     evenly.
 * The gradient checks of whole networks are in test_nn_grad; oneDNN's
 * convolutions are compared with the direct ones in test_nn_onednn. */
#include <math.h>

#include "nnutil.h"

typedef struct {
    float *x, *w, *y, *dy, *dx, *dx0, *dw, *db;
} conv_bufs;

static double ref_y(const a4nn_conv_desc *d, const float *x, const float *w, int i, int co,
                    int oy, int ox)
{
    double s = 0;
    for (int ci = 0; ci < d->c_in; ci++)
        for (int ky = 0; ky < d->k; ky++)
            for (int kx = 0; kx < d->k; kx++) {
                int iy = oy + ky - d->pad, ix = ox + kx - d->pad;
                if (iy < 0 || iy >= d->h_in || ix < 0 || ix >= d->w_in)
                    continue;
                s += (double)w[((co * d->c_in + ci) * d->k + ky) * d->k + kx] *
                     x[(((size_t)i * d->c_in + ci) * d->h_in + iy) * d->w_in + ix];
            }
    return s;
}

static double ref_dx(const a4nn_conv_desc *d, const float *w, const float *dy, int i, int ci,
                     int iy, int ix)
{
    double s = 0;
    for (int co = 0; co < d->c_out; co++)
        for (int ky = 0; ky < d->k; ky++)
            for (int kx = 0; kx < d->k; kx++) {
                int oy = iy - ky + d->pad, ox = ix - kx + d->pad;
                if (oy < 0 || oy >= d->h_out || ox < 0 || ox >= d->w_out)
                    continue;
                s += (double)w[((co * d->c_in + ci) * d->k + ky) * d->k + kx] *
                     dy[(((size_t)i * d->c_out + co) * d->h_out + oy) * d->w_out + ox];
            }
    return s;
}

static double ref_dw(const a4nn_conv_desc *d, const float *x, const float *dy, int co, int ci,
                     int ky, int kx)
{
    double s = 0;
    for (int i = 0; i < d->n; i++)
        for (int oy = 0; oy < d->h_out; oy++)
            for (int ox = 0; ox < d->w_out; ox++) {
                int iy = oy + ky - d->pad, ix = ox + kx - d->pad;
                if (iy < 0 || iy >= d->h_in || ix < 0 || ix >= d->w_in)
                    continue;
                s += (double)dy[(((size_t)i * d->c_out + co) * d->h_out + oy) * d->w_out + ox] *
                     x[(((size_t)i * d->c_in + ci) * d->h_in + iy) * d->w_in + ix];
            }
    return s;
}

/* Runs forward and backward once and compares `samples` entries of y, dx and
 * dw (all of them when samples <= 0) with the references. */
static void check_conv(a4nn_backend *be, int n, int c_in, int c_out, int h, int w, int k, int pad,
                       int samples)
{
    a4nn_conv_desc d = {n, c_in, h, w, c_out, h + 2 * pad - k + 1, w + 2 * pad - k + 1, k, pad, 0};
    a4nn_rng r;
    a4nn_rng_seed(&r, (uint64_t)(c_in * 1000003 + c_out * 1009 + h * 31 + k));
    const size_t xs = (size_t)n * c_in * h * w, ys = (size_t)n * c_out * d.h_out * d.w_out,
                 ws = (size_t)c_out * c_in * k * k;
    float *x = randn(xs, &r), *wt = randn(ws, &r), *dy = randn(ys, &r), *dx0 = randn(xs, &r);
    float *y = malloc(sizeof(float) * ys), *dx = malloc(sizeof(float) * xs),
          *dw = malloc(sizeof(float) * ws);
    memcpy(dx, dx0, sizeof(float) * xs);
    be->conv_forward(be->ctx, &d, x, wt, NULL, y);
    be->conv_backward(be->ctx, &d, x, wt, dy, dx, dw, NULL, 1);
    const double scale = sqrt((double)c_in * k * k); /* size of a sum of products */
    const int full = samples <= 0;
    const long ny = full ? (long)ys : samples, nx = full ? (long)xs : samples,
               nw = full ? (long)ws : samples;
    for (long s = 0; s < ny; s++) {
        size_t j = full ? (size_t)s : (size_t)a4nn_rng_below(&r, ys);
        int ox = (int)(j % d.w_out), oy = (int)(j / d.w_out % d.h_out),
            co = (int)(j / ((size_t)d.w_out * d.h_out) % c_out),
            i = (int)(j / ((size_t)d.w_out * d.h_out * c_out));
        assert_close(y[j], ref_y(&d, x, wt, i, co, oy, ox), 1e-4 * scale);
    }
    const double xscale = sqrt((double)c_out * k * k);
    for (long s = 0; s < nx; s++) {
        size_t j = full ? (size_t)s : (size_t)a4nn_rng_below(&r, xs);
        int ix = (int)(j % w), iy = (int)(j / w % h), ci = (int)(j / ((size_t)w * h) % c_in),
            i = (int)(j / ((size_t)w * h * c_in));
        assert_close(dx[j] - dx0[j], ref_dx(&d, wt, dy, i, ci, iy, ix), 1e-4 * xscale);
    }
    const double wscale = sqrt((double)n * d.h_out * d.w_out);
    for (long s = 0; s < nw; s++) {
        size_t j = full ? (size_t)s : (size_t)a4nn_rng_below(&r, ws);
        int kx = (int)(j % k), ky = (int)(j / k % k), ci = (int)(j / ((size_t)k * k) % c_in),
            co = (int)(j / ((size_t)k * k * c_in));
        assert_close(dw[j], ref_dw(&d, x, dy, co, ci, ky, kx), 1e-4 * wscale);
    }
    free(x), free(wt), free(dy), free(dx0), free(y), free(dx), free(dw);
}

/* the direct kernels (test_nn_onednn and test_nn_winograd compare the
 * others with them) */
static a4nn_backend *cpu(int threads) { return cpu_backend(threads, A4NN_CPU_KERNELS_DIRECT); }

/* The convolutions of the search space: the first phase's unpadded 3x3 one
 * from the 1-channel image, then padded 3x3 C -> C, 2C -> 2C, 4C -> 4C after
 * each 2x2 pooling; the 1x1 ones after a phase's concatenation (up to 6
 * nodes' outputs) and from one phase's channels to the next one's. */
static void check_search_space(int size)
{
    a4nn_backend *be = cpu(2);
    const int cs[] = {8, 16, 24};
    for (int a = 0; a < 3; a++) {
        const int c = cs[a];
        int s = size - 2;
        check_conv(be, 2, 1, c, size, size, 3, 0, 300);
        for (int p = 0; p < 3; p++, s /= 2) {
            check_conv(be, 2, c << p, c << p, s, s, 3, 1, 300);
            check_conv(be, 2, 3 * (c << p), c << p, s, s, 1, 0, 300);
            if (p < 2)
                check_conv(be, 2, c << p, c << (p + 1), s / 2, s / 2, 1, 0, 300);
        }
    }
    a4nn_backend_free(be);
}

static void test_conv_32(void **state) { (void)state; check_search_space(32); }
static void test_conv_64(void **state) { (void)state; check_search_space(64); }
static void test_conv_127(void **state) { (void)state; check_search_space(127); }

/* every entry, at channel counts that are not multiples of the register
 * blocks, odd sizes, and on one and two threads */
static void test_conv_full_odd(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++) {
        a4nn_backend *be = cpu(t);
        check_conv(be, 3, 3, 5, 9, 11, 3, 1, 0);
        check_conv(be, 2, 7, 13, 6, 5, 3, 0, 0);
        check_conv(be, 2, 5, 3, 33, 17, 3, 1, 0);
        /* 1x1: the GEMM path */
        check_conv(be, 2, 6, 9, 8, 8, 1, 0, 0);
        check_conv(be, 3, 24, 8, 30, 30, 1, 0, 0);
        check_conv(be, 2, 13, 17, 11, 7, 1, 0, 0);
        check_conv(be, 2, 7, 5, 1, 5, 1, 0, 0);
        /* a map large enough for the weight gradient's position chunks
         * (the small ones above take its per-tap GEMM path) */
        check_conv(be, 2, 5, 11, 40, 37, 3, 1, 0);
        a4nn_backend_free(be);
    }
}

static void test_bn_relu_fused(void **state)
{
    (void)state;
    a4nn_backend *be = cpu(2);
    assert_non_null(be->bn_relu_forward);
    assert_non_null(be->bn_relu_backward);
    const int n = 3, c = 5, hw = 37;
    const size_t total = (size_t)n * c * hw;
    a4nn_rng r;
    a4nn_rng_seed(&r, 77);
    float *x = randn(total, &r), *dy = randn(total, &r), *dx0 = randn(total, &r);
    float *gamma = randn(c, &r), *beta = randn(c, &r);
    for (size_t i = 0; i < total; i++)
        x[i] = 3.0f + 2.0f * x[i]; /* an offset, as BN inputs have */
    for (int train = 0; train <= 1; train++) {
        float rm[2][5], rv[2][5], sm[2][5], si[2][5];
        for (int v = 0; v < 2; v++)
            for (int ch = 0; ch < c; ch++)
                rm[v][ch] = 0.1f * ch, rv[v][ch] = 1.0f + 0.2f * ch;
        float *z = malloc(sizeof(float) * total), *y1 = malloc(sizeof(float) * total),
              *y2 = malloc(sizeof(float) * total);
        /* reference: BatchNorm, then ReLU */
        be->bn_forward(be->ctx, n, c, hw, x, gamma, beta, rm[0], rv[0], sm[0], si[0], z, train,
                       0.1f, 1e-5f);
        be->relu_forward(be->ctx, total, z, y1);
        be->bn_relu_forward(be->ctx, n, c, hw, x, gamma, beta, rm[1], rv[1], sm[1], si[1], y2,
                            (size_t)c * hw, train, 0.1f, 1e-5f, NULL);
        for (size_t i = 0; i < total; i++)
            assert_close(y2[i], y1[i], 1e-6);
        for (int ch = 0; ch < c; ch++) {
            assert_close(rm[1][ch], rm[0][ch], 1e-6);
            assert_close(rv[1][ch], rv[0][ch], 1e-6);
        }
        if (train) {
            float *dz = calloc(total, sizeof(float)), *dxa = malloc(sizeof(float) * total),
                  *dxb = malloc(sizeof(float) * total), dg[2][5], dbt[2][5];
            memcpy(dxa, dx0, sizeof(float) * total);
            memcpy(dxb, dx0, sizeof(float) * total);
            be->relu_backward(be->ctx, total, y1, dy, dz);
            be->bn_backward(be->ctx, n, c, hw, x, dz, gamma, sm[0], si[0], dxa, dg[0], dbt[0]);
            be->bn_relu_backward(be->ctx, n, c, hw, x, dy, (size_t)c * hw, gamma, beta, sm[1],
                                 si[1], dxb, dg[1], dbt[1], 1);
            for (size_t i = 0; i < total; i++)
                assert_close(dxb[i], dxa[i], 1e-5);
            /* overwriting: whatever dx held is gone, the gradient alone is left */
            for (size_t i = 0; i < total; i++)
                dxb[i] = 1e3f + (float)i;
            be->bn_relu_backward(be->ctx, n, c, hw, x, dy, (size_t)c * hw, gamma, beta, sm[1],
                                 si[1], dxb, dg[1], dbt[1], 0);
            for (size_t i = 0; i < total; i++)
                assert_close(dxb[i], dxa[i] - dx0[i], 1e-5);
            for (int ch = 0; ch < c; ch++) {
                assert_close(dg[1][ch], dg[0][ch], 1e-4);
                assert_close(dbt[1][ch], dbt[0][ch], 1e-4);
            }
            /* y and dy as a channel slice (from channel 2 on) of a tensor
             * of c + 3 channels, as in a concatenation: the same floats */
            const size_t ws = (size_t)(c + 3) * hw, off = 2 * (size_t)hw;
            float *wide = malloc(sizeof(float) * n * ws), *dwide = malloc(sizeof(float) * n * ws),
                  *dxc = malloc(sizeof(float) * total), dgc[5], dbc[5];
            for (size_t i = 0; i < n * ws; i++)
                wide[i] = dwide[i] = -7.0f;
            be->bn_relu_forward(be->ctx, n, c, hw, x, gamma, beta, rm[1], rv[1], sm[1], si[1],
                                wide + off, ws, train, 0.1f, 1e-5f, NULL);
            for (int i = 0; i < n; i++)
                for (size_t j = 0; j < ws; j++) {
                    const float v = wide[i * ws + j];
                    if (j < off || j >= off + (size_t)c * hw)
                        assert_true(v == -7.0f); /* the other channels untouched */
                    else
                        assert_true(v == y2[i * (size_t)c * hw + j - off]);
                }
            for (int i = 0; i < n; i++)
                memcpy(dwide + i * ws + off, dy + i * (size_t)c * hw, sizeof(float) * c * hw);
            be->bn_relu_backward(be->ctx, n, c, hw, x, dwide + off, ws, gamma, beta, sm[1], si[1],
                                 dxc, dgc, dbc, 0);
            for (size_t i = 0; i < total; i++)
                assert_true(dxc[i] == dxb[i]);
            for (int ch = 0; ch < c; ch++)
                assert_true(dgc[ch] == dg[1][ch] && dbc[ch] == dbt[1][ch]);
            free(wide), free(dwide), free(dxc);
            free(dz), free(dxa), free(dxb);
        }
        free(z), free(y1), free(y2);
    }
    free(x), free(dy), free(dx0), free(gamma), free(beta);
    a4nn_backend_free(be);
}

/* max pooling's backward, overwriting: the same floats as accumulating
 * into zeros, at odd sizes (the left-out row and column) and with ties
 * (the first argmax wins) */
static void test_maxpool_overwrite(void **state)
{
    (void)state;
    const int n = 2, c = 3, h = 7, w = 9;
    const size_t nx = (size_t)n * c * h * w, ny = (size_t)n * c * (h / 2) * (w / 2);
    a4nn_rng r;
    a4nn_rng_seed(&r, 99);
    float *x = randn(nx, &r), *dy = randn(ny, &r), *da = calloc(nx, sizeof(float)),
          *db = malloc(sizeof(float) * nx);
    for (size_t i = 0; i < nx; i++) {
        x[i] = floorf(2.0f * x[i]); /* few values: many ties */
        db[i] = 5.0f;               /* anything: overwritten */
    }
    for (int t = 1; t <= 2; t++) {
        a4nn_backend *be = cpu(t);
        memset(da, 0, sizeof(float) * nx);
        be->maxpool_backward(be->ctx, n, c, h, w, x, dy, da, 1);
        be->maxpool_backward(be->ctx, n, c, h, w, x, dy, db, 0);
        for (size_t i = 0; i < nx; i++)
            assert_true(db[i] == da[i]);
        a4nn_backend_free(be);
    }
    /* the first argmax of a window of ties is its top-left float */
    const float xt[4] = {1, 1, 1, 1}, g = 3;
    float d[4] = {7, 7, 7, 7};
    a4nn_backend *be = cpu(1);
    be->maxpool_backward(be->ctx, 1, 1, 2, 2, xt, &g, d, 0);
    assert_true(d[0] == 3 && d[1] == 0 && d[2] == 0 && d[3] == 0);
    a4nn_backend_free(be);
    free(x), free(dy), free(da), free(db);
}

/* The shapes of the tests of the convolution entries that feed BatchNorm
 * (n, c_in, c_out, h, w, k, pad): odd sizes and channel counts, the grid's
 * position chunks, im2col over 128 channels, and shapes of the searches at
 * 8, 16 and 24 channels on 32x32, 64x64, 63x63 and 127x127 maps; and the
 * kernel choices that take every convolution path (direct 3x3, 1x1 sgemm,
 * im2col + sgemm, Winograd and, where built with it, oneDNN) */
static const int conv_shapes[][7] = {
    {3, 8, 8, 30, 30, 3, 1},     {2, 1, 8, 32, 32, 3, 0},    {2, 5, 11, 40, 37, 3, 1},
    {5, 16, 16, 15, 15, 3, 1},   {3, 24, 8, 30, 30, 1, 0},   {2, 13, 17, 11, 7, 1, 0},
    {2, 130, 5, 6, 7, 3, 1},     {2, 16, 16, 64, 64, 3, 1},  {2, 32, 32, 15, 15, 3, 1},
    {1, 24, 24, 127, 127, 3, 1}, {2, 48, 24, 63, 63, 1, 0},  {4, 24, 24, 32, 32, 3, 1},
    {1, 3, 4, 5, 5, 3, 1},
};
#define N_CONV_SHAPES (sizeof conv_shapes / sizeof *conv_shapes)
static const a4nn_cpu_kernels conv_kernels[] = {A4NN_CPU_KERNELS_DIRECT, A4NN_CPU_KERNELS_OWN,
                                                A4NN_CPU_KERNELS_AUTO};
#define N_CONV_KERNELS (sizeof conv_kernels / sizeof *conv_kernels)

/* the convolution of conv_shapes[s], with or without a bias */
static a4nn_conv_desc shape_desc(size_t s, int bias)
{
    const int *S = conv_shapes[s];
    return (a4nn_conv_desc){S[0], S[1], S[3], S[4], S[2], S[3] + 2 * S[6] - S[5] + 1,
                            S[4] + 2 * S[6] - S[5] + 1, S[5], S[6], bias};
}

/* The convolution backward overwriting its input gradient: the floats of
 * accumulating into zeros (dx filled with anything beforehand), dw alike,
 * on every path: direct 3x3 (padded, unpadded, the grid's position chunks),
 * 1x1 sgemm, im2col + sgemm (over 128 channels), Winograd and oneDNN
 * (KERNELS_AUTO, where built with it), on one and two threads */
static void test_conv_dx_overwrite(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++)
        for (size_t kk = 0; kk < N_CONV_KERNELS; kk++) {
            a4nn_backend *be = cpu_backend(t, conv_kernels[kk]);
            for (size_t s = 0; s < N_CONV_SHAPES; s++) {
                a4nn_conv_desc d = shape_desc(s, 0);
                a4nn_rng r;
                a4nn_rng_seed(&r, 7 + s);
                const size_t xs = (size_t)d.n * d.c_in * d.h_in * d.w_in,
                             ys = (size_t)d.n * d.c_out * d.h_out * d.w_out,
                             ws = (size_t)d.c_out * d.c_in * d.k * d.k;
                float *x = randn(xs, &r), *w = randn(ws, &r), *dy = randn(ys, &r),
                      *da = calloc(xs, sizeof(float)), *db = randn(xs, &r),
                      *dwa = malloc(sizeof(float) * ws), *dwb = malloc(sizeof(float) * ws);
                be->conv_backward(be->ctx, &d, x, w, dy, da, dwa, NULL, 1);
                be->conv_backward(be->ctx, &d, x, w, dy, db, dwb, NULL, 0);
                for (size_t i = 0; i < xs; i++)
                    assert_close(db[i], da[i], 1e-6 * (1 + fabsf(da[i])));
                for (size_t i = 0; i < ws; i++)
                    assert_true(dwb[i] == dwa[i]);
                free(x), free(w), free(dy), free(da), free(db), free(dwa), free(dwb);
            }
            a4nn_backend_free(be);
        }
}

/* conv_forward_stats: the same y as conv_forward, the batch mean and
 * biased variance of each channel of y as double-precision sums over y
 * give them (with a bias that puts the channels' means well above their
 * spread), and BatchNorm + ReLU from those statistics as from its own, on
 * every convolution path, on one and two threads */
static void test_conv_forward_stats(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++)
        for (size_t kk = 0; kk < N_CONV_KERNELS; kk++) {
            a4nn_backend *be = cpu_backend(t, conv_kernels[kk]);
            assert_non_null(be->conv_forward_stats);
            for (size_t s = 0; s < N_CONV_SHAPES; s++) {
                a4nn_conv_desc d = shape_desc(s, 1);
                a4nn_rng r;
                a4nn_rng_seed(&r, 11 + s);
                const int co = d.c_out, hw = d.h_out * d.w_out;
                const size_t xs = (size_t)d.n * d.c_in * d.h_in * d.w_in,
                             ys = (size_t)d.n * co * hw, ws = (size_t)co * d.c_in * d.k * d.k;
                float *x = randn(xs, &r), *w = randn(ws, &r), *b = randn(co, &r),
                      *y1 = malloc(sizeof(float) * ys), *y2 = malloc(sizeof(float) * ys);
                for (int ch = 0; ch < co; ch++)
                    b[ch] = 20.0f + 5.0f * b[ch];
                double *st = malloc(sizeof(double) * 2 * co);
                be->conv_forward(be->ctx, &d, x, w, b, y1);
                be->conv_forward_stats(be->ctx, &d, x, w, b, y2, st);
                for (size_t i = 0; i < ys; i++)
                    assert_true(y2[i] == y1[i]);
                for (int ch = 0; ch < co; ch++) {
                    double sum = 0, sq = 0;
                    for (int i = 0; i < d.n; i++)
                        for (int j = 0; j < hw; j++)
                            sum += y1[((size_t)i * co + ch) * hw + j];
                    const double mean = sum / ((double)d.n * hw);
                    for (int i = 0; i < d.n; i++)
                        for (int j = 0; j < hw; j++) {
                            const double v = y1[((size_t)i * co + ch) * hw + j] - mean;
                            sq += v * v;
                        }
                    const double var = sq / ((double)d.n * hw);
                    assert_close(st[ch], mean, 1e-6 * (fabs(mean) + sqrt(var)));
                    assert_close(st[co + ch], var, 1e-5 * var);
                }
                /* BatchNorm + ReLU from them: what it computes itself */
                float *gamma = randn(co, &r), *beta = randn(co, &r),
                      *z1 = malloc(sizeof(float) * ys), *z2 = malloc(sizeof(float) * ys);
                float *rm = calloc(4 * (size_t)co, sizeof(float)), *rv = rm + co,
                      *rm2 = rm + 2 * co, *rv2 = rm + 3 * co;
                float *sv = malloc(sizeof(float) * 4 * co);
                for (int ch = 0; ch < co; ch++)
                    rv[ch] = rv2[ch] = 1.0f;
                be->bn_relu_forward(be->ctx, d.n, co, hw, y1, gamma, beta, rm, rv, sv, sv + co,
                                    z1, (size_t)co * hw, 1, 0.1f, 1e-5f, NULL);
                be->bn_relu_forward(be->ctx, d.n, co, hw, y1, gamma, beta, rm2, rv2,
                                    sv + 2 * co, sv + 3 * co, z2, (size_t)co * hw, 1, 0.1f,
                                    1e-5f, st);
                for (size_t i = 0; i < ys; i++)
                    assert_close(z2[i], z1[i], 1e-4 * (1 + fabsf(z1[i])));
                for (int ch = 0; ch < co; ch++) {
                    assert_close(sv[2 * co + ch], sv[ch], 1e-5 * (1 + fabsf(sv[ch])));
                    assert_close(sv[3 * co + ch], sv[co + ch], 1e-4 * sv[co + ch]);
                    assert_close(rm2[ch], rm[ch], 1e-5 * (1 + fabsf(rm[ch])));
                    /* two float accumulations of up to 16k values, in orders that
                     * depend on the build's optimisation: as close as invstd */
                    assert_close(rv2[ch], rv[ch], 1e-4 * rv[ch]);
                }
                free(x), free(w), free(b), free(y1), free(y2), free(st), free(gamma),
                    free(beta), free(z1), free(z2), free(rm), free(sv);
            }
            a4nn_backend_free(be);
        }
}

/* conv_bn_relu_backward: the floats of bn_relu_backward (overwriting a
 * stored output gradient) then conv_backward, with the ReLU's gradient
 * as a channel slice of a wider tensor, dx accumulated and overwritten, on
 * every convolution path, on one and two threads */
static void test_conv_bn_relu_backward(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++)
        for (size_t kk = 0; kk < N_CONV_KERNELS; kk++) {
            a4nn_backend *be = cpu_backend(t, conv_kernels[kk]);
            assert_non_null(be->conv_bn_relu_backward);
            for (size_t s = 0; s < N_CONV_SHAPES; s++)
                for (int acc = 0; acc <= 1; acc++) {
                    a4nn_conv_desc d = shape_desc(s, s % 2);
                    a4nn_rng r;
                    a4nn_rng_seed(&r, 23 + s);
                    const int co = d.c_out, hw = d.h_out * d.w_out;
                    const size_t xs = (size_t)d.n * d.c_in * d.h_in * d.w_in,
                                 ys = (size_t)d.n * co * hw,
                                 ws = (size_t)co * d.c_in * d.k * d.k,
                                 zs = (size_t)(co + 2) * hw; /* dz: channels 1..co of co + 2 */
                    float *x = randn(xs, &r), *w = randn(ws, &r), *dzw = randn(d.n * zs, &r),
                          *y = malloc(sizeof(float) * ys), *dy = malloc(sizeof(float) * ys),
                          *gamma = randn(co, &r), *beta = randn(co, &r),
                          *sm = malloc(sizeof(float) * co), *si = malloc(sizeof(float) * co),
                          *rm = calloc(2 * (size_t)co, sizeof(float)), *rv = rm + co,
                          *z = malloc(sizeof(float) * ys), *dx0 = randn(xs, &r);
                    float *o[2][5]; /* dx, dw, db, dgamma, dbeta: reference, fused */
                    const size_t on[5] = {xs, ws, (size_t)co, (size_t)co, (size_t)co};
                    for (int v = 0; v < 2; v++)
                        for (int e = 0; e < 5; e++)
                            o[v][e] = malloc(sizeof(float) * on[e]);
                    be->conv_forward(be->ctx, &d, x, w, NULL, y);
                    be->bn_relu_forward(be->ctx, d.n, co, hw, y, gamma, beta, rm, rv, sm, si, z,
                                        (size_t)co * hw, 1, 0.1f, 1e-5f, NULL);
                    const float *dz = dzw + hw;
                    for (size_t i = 0; i < xs; i++) /* overwriting: anything */
                        o[0][0][i] = o[1][0][i] = acc ? dx0[i] : 9.0f;
                    be->bn_relu_backward(be->ctx, d.n, co, hw, y, dz, zs, gamma, beta, sm, si,
                                         dy, o[0][3], o[0][4], 0);
                    be->conv_backward(be->ctx, &d, x, w, dy, o[0][0], o[0][1],
                                      d.bias ? o[0][2] : NULL, acc);
                    be->conv_bn_relu_backward(be->ctx, &d, x, w, y, dz, zs, gamma, beta, sm, si,
                                              o[1][3], o[1][4], o[1][0], o[1][1],
                                              d.bias ? o[1][2] : NULL, acc);
                    for (int e = 0; e < 5; e++) {
                        if (e == 2 && !d.bias)
                            continue;
                        for (size_t i = 0; i < on[e]; i++)
                            assert_close(o[1][e][i], o[0][e][i], 1e-6 * (1 + fabsf(o[0][e][i])));
                    }
                    for (int v = 0; v < 2; v++)
                        for (int e = 0; e < 5; e++)
                            free(o[v][e]);
                    free(x), free(w), free(dzw), free(y), free(dy), free(gamma), free(beta),
                        free(sm), free(si), free(rm), free(z), free(dx0);
                }
            a4nn_backend_free(be);
        }
}

/* the threaded zeroing of gradient buffers: every float of any length, nothing past it */
static void test_zero_every_length(void **state)
{
    (void)state;
    for (int t = 1; t <= 3; t++) {
        a4nn_backend *be = cpu(t);
        const size_t lens[] = {1, 33, 65537, 100003, 1u << 20};
        for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
            const size_t n = lens[l];
            float *p = malloc(sizeof(float) * (n + 1));
            for (size_t i = 0; i <= n; i++)
                p[i] = 1.0f;
            be->zero(be->ctx, p, n);
            size_t nonzero = 0;
            for (size_t i = 0; i < n; i++)
                nonzero += p[i] != 0.0f;
            assert_int_equal(nonzero, 0);
            assert_true(p[n] == 1.0f);
            free(p);
        }
        a4nn_backend_free(be);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_full_odd),
        cmocka_unit_test(test_conv_32),
        cmocka_unit_test(test_conv_64),
        cmocka_unit_test(test_conv_127),
        cmocka_unit_test(test_bn_relu_fused),
        cmocka_unit_test(test_maxpool_overwrite),
        cmocka_unit_test(test_conv_dx_overwrite),
        cmocka_unit_test(test_conv_forward_stats),
        cmocka_unit_test(test_conv_bn_relu_backward),
        cmocka_unit_test(test_zero_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
