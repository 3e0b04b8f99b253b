/* Parity of the CPU backend's Winograd F(4x4, 3x3) convolutions (kernels
 * "winograd": on every padded 3x3 shape, whatever the rule) with its
 * direct ones (the reference path, itself checked against the definition
 * in test_nn_kernels): forward, input gradient and weight
 * gradient, in full, at the padded 3x3 shapes the search space builds for
 * init_channels 8, 16, 24 on 32x32, 64x64 and 127x127 inputs (batch 2), and
 * at channel counts and sizes that leave partial register blocks, tiles and
 * tile blocks.
 *
 * Tolerance: Winograd's transforms multiply and divide by up to 8 and 24
 * (the points 0, +-1, +-2), so its fp32 rounding error is a few hundred
 * ulps of the values' scale rather than the direct sum's few: measured
 * here up to about 2e-6 of the reference's RMS for y and dx and 1e-5 for
 * dw (a sum over the batch's positions); 1e-4 of the RMS leaves an order of
 * magnitude while any wrong transform entry or tile gives O(1). */
#include <math.h>

#include "nnutil.h"

/* max |a - b| over the RMS of b */
static double rel_err(const float *a, const float *b, size_t n)
{
    double ss = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        ss += (double)b[i] * b[i];
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= m)) /* NaN too */
            m = isnan(e) ? INFINITY : e;
    }
    return m / sqrt(ss / (double)n + 1e-30);
}

enum { Y, DX, DW, DB, N_OUT };

/* forward and backward of one convolution on be: y, dx (added to dx0), dw, db */
static void run(a4nn_backend *be, const a4nn_conv_desc *d, const float *x, const float *w,
                const float *b, const float *dy, const float *dx0, float *out[N_OUT])
{
    const size_t xs = (size_t)d->n * d->c_in * d->h_in * d->w_in;
    memcpy(out[DX], dx0, sizeof(float) * xs);
    be->conv_forward(be->ctx, d, x, w, b, out[Y]);
    be->conv_backward(be->ctx, d, x, w, dy, out[DX], out[DW], d->bias ? out[DB] : NULL, 1);
}

static void check(a4nn_backend *own, a4nn_backend *ref, int n, int c_in, int c_out, int h,
                  int w, int bias)
{
    a4nn_conv_desc d = {n, c_in, h, w, c_out, h, w, 3, 1, bias};
    a4nn_rng r;
    a4nn_rng_seed(&r, (uint64_t)(c_in * 1000003 + c_out * 1009 + h * 31 + w));
    const size_t sz[N_OUT] = {(size_t)n * c_out * h * w, (size_t)n * c_in * h * w,
                              (size_t)c_out * c_in * 9, (size_t)c_out};
    float *x = randn(sz[DX], &r), *wt = randn(sz[DW], &r), *b = randn(sz[DB], &r),
          *dy = randn(sz[Y], &r), *dx0 = randn(sz[DX], &r);
    float *o[2][N_OUT];
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < N_OUT; k++)
            o[v][k] = malloc(sizeof(float) * sz[k]);
    run(own, &d, x, wt, b, dy, dx0, o[0]);
    run(ref, &d, x, wt, b, dy, dx0, o[1]);
    for (size_t i = 0; i < sz[DX]; i++) /* the gradients alone, without dx0 */
        o[0][DX][i] -= dx0[i], o[1][DX][i] -= dx0[i];
    const char *name[N_OUT] = {"y", "dx", "dw", "db"};
    for (int k = 0; k < (bias ? N_OUT : DB); k++) {
        const double e = rel_err(o[0][k], o[1][k], sz[k]);
        if (!(e < 1e-4))
            fail_msg("%d x %d -> %d, %dx%d: %s off by %.3g of its RMS", n, c_in, c_out, h, w,
                     name[k], e);
    }
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < N_OUT; k++)
            free(o[v][k]);
    free(x), free(wt), free(b), free(dy), free(dx0);
}

/* the padded 3x3 convolutions C -> C, 2C -> 2C, 4C -> 4C after the first
 * (unpadded) one and each pooling, on one input size */
static void check_search_space(int size)
{
    a4nn_backend *own = cpu_backend(2, A4NN_CPU_KERNELS_WINOGRAD),
                 *ref = cpu_backend(2, A4NN_CPU_KERNELS_DIRECT);
    const int cs[] = {8, 16, 24};
    for (int a = 0; a < 3; a++)
        for (int p = 0, s = size - 2; p < 3; p++, s /= 2)
            check(own, ref, 2, cs[a] << p, cs[a] << p, s, s, 0);
    a4nn_backend_free(own);
    a4nn_backend_free(ref);
}

static void test_winograd_32(void **state) { (void)state; check_search_space(32); }
static void test_winograd_64(void **state) { (void)state; check_search_space(64); }
static void test_winograd_127(void **state) { (void)state; check_search_space(127); }

/* channel counts off the register blocks, sizes off the 4x4 tiles and the
 * tile blocks, a bias, one and two threads */
static void test_winograd_odd(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++) {
        a4nn_backend *own = cpu_backend(t, A4NN_CPU_KERNELS_WINOGRAD),
                     *ref = cpu_backend(t, A4NN_CPU_KERNELS_DIRECT);
        check(own, ref, 3, 5, 11, 9, 13, 0);
        check(own, ref, 2, 7, 3, 37, 70, 1);
        check(own, ref, 1, 24, 24, 125, 126, 0);
        check(own, ref, 2, 13, 40, 8, 8, 1);
        check(own, ref, 2, 3, 4, 3, 2, 0);
        check(own, ref, 2, 16, 16, 47, 47, 0); /* 12 tiles across: rows of 3 blocks */
        a4nn_backend_free(own);
        a4nn_backend_free(ref);
    }
}

/* the same thread count gives the same bits, whichever thread ran a chunk */
static void test_winograd_deterministic(void **state)
{
    (void)state;
    a4nn_backend *be = cpu_backend(2, A4NN_CPU_KERNELS_WINOGRAD);
    a4nn_conv_desc d = {6, 16, 40, 40, 16, 40, 40, 3, 1, 0};
    a4nn_rng r;
    a4nn_rng_seed(&r, 5);
    const size_t xs = (size_t)6 * 16 * 40 * 40, ws = 16 * 16 * 9;
    float *x = randn(xs, &r), *w = randn(ws, &r), *dy = randn(xs, &r);
    float *dx[2], *dw[2];
    for (int v = 0; v < 2; v++) {
        dx[v] = calloc(xs, sizeof(float)), dw[v] = malloc(sizeof(float) * ws);
        be->conv_backward(be->ctx, &d, x, w, dy, dx[v], dw[v], NULL, 1);
    }
    assert_memory_equal(dw[0], dw[1], sizeof(float) * ws);
    assert_memory_equal(dx[0], dx[1], sizeof(float) * xs);
    for (int v = 0; v < 2; v++)
        free(dx[v]), free(dw[v]);
    free(x), free(w), free(dy);
    a4nn_backend_free(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_winograd_odd),
        cmocka_unit_test(test_winograd_32),
        cmocka_unit_test(test_winograd_64),
        cmocka_unit_test(test_winograd_127),
        cmocka_unit_test(test_winograd_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
