/* Parity of the CPU backend's oneDNN convolutions (worker.cpu_kernels =
 * auto) with its direct kernels (= direct), which test_nn_kernels checks
 * against double-precision references: at every 3x3 shape of the search
 * space for init_channels 8, 16, 24 on 32x32, 64x64 and 127x127 inputs that
 * the per-shape rule sends to oneDNN, on one and two threads, every entry of
 * the output, the input gradient (which accumulates into what the buffer
 * held) and the weight gradient (overwritten); the same results when run
 * again on cached primitives, and at a second batch size in between.
 * Skipped in builds without oneDNN. */
#include <math.h>

#include "nnutil.h"

typedef struct {
    float *y, *dx, *dw;
} conv_out;

/* forward and backward of d on be; dx starts as dx0, y and dw as garbage
 * (both must be overwritten) */
static conv_out run_conv(a4nn_backend *be, const a4nn_conv_desc *d, const float *x,
                         const float *w, const float *dy, const float *dx0)
{
    const size_t xs = (size_t)d->n * d->c_in * d->h_in * d->w_in,
                 ys = (size_t)d->n * d->c_out * d->h_out * d->w_out,
                 ws = (size_t)d->c_out * d->c_in * d->k * d->k;
    conv_out o = {malloc(sizeof(float) * ys), malloc(sizeof(float) * xs),
                  malloc(sizeof(float) * ws)};
    for (size_t i = 0; i < ys; i++)
        o.y[i] = 1e30f;
    for (size_t i = 0; i < ws; i++)
        o.dw[i] = 1e30f;
    memcpy(o.dx, dx0, sizeof(float) * xs);
    be->conv_forward(be->ctx, d, x, w, NULL, o.y);
    be->conv_backward(be->ctx, d, x, w, dy, o.dx, o.dw, NULL, 1);
    return o;
}

static void out_free(conv_out *o) { free(o->y), free(o->dx), free(o->dw); }

/* a and b agree within tol; returns whether they are bit-identical */
static int compare(const float *a, const float *b, size_t n, double tol)
{
    int same = 1;
    for (size_t i = 0; i < n; i++) {
        assert_close(a[i], b[i], tol);
        same &= a[i] == b[i];
    }
    return same;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* checks one shape; 1 when the rule sends it to oneDNN */
static int check_shape(a4nn_backend *dnn, a4nn_backend *direct, int n, int c, int size)
{
    a4nn_conv_desc d = {n, c, size, size, c, size, size, 3, 1, 0};
    if (!a4nn_cpu_conv_onednn(&d))
        return 0;
    a4nn_rng r;
    a4nn_rng_seed(&r, (uint64_t)(c * 1009 + size));
    const size_t xs = (size_t)n * c * size * size, ws = (size_t)c * c * 9;
    float *x = randn(xs, &r), *w = randn(ws, &r), *dy = randn(xs, &r), *dx0 = randn(xs, &r);
    conv_out a = run_conv(dnn, &d, x, w, dy, dx0), b = run_conv(direct, &d, x, w, dy, dx0);
    /* sums of 9c products of unit normals, and of n size^2 for dw */
    const double tol = 1e-4 * sqrt(9.0 * c), wtol = 1e-4 * sqrt((double)n * size * size);
    int same = compare(a.y, b.y, xs, tol);
    for (size_t i = 0; i < xs; i++) /* what backward added to dx0 */
        assert_close(a.dx[i] - dx0[i], b.dx[i] - dx0[i], tol);
    same &= compare(a.dw, b.dw, ws, wtol);
    /* oneDNN ran (its sums go in another order than the direct kernels') */
    assert_false(same);

    /* a smaller batch on the same layer (its own primitives), then the first
     * batch again on the cached ones: the same bits as the first run */
    a4nn_conv_desc d1 = d;
    d1.n = n - 1;
    conv_out s = run_conv(dnn, &d1, x, w, dy, dx0), t = run_conv(direct, &d1, x, w, dy, dx0);
    compare(s.y, t.y, xs / n * (n - 1), tol);
    compare(s.dw, t.dw, ws, wtol);
    conv_out again = run_conv(dnn, &d, x, w, dy, dx0);
    assert_true(same_bits(again.y, a.y, xs));
    assert_true(same_bits(again.dx, a.dx, xs));
    assert_true(same_bits(again.dw, a.dw, ws));

    /* without an input gradient: the weight gradient alone, the same */
    float *dw = malloc(sizeof(float) * ws);
    dnn->conv_backward(dnn->ctx, &d, x, w, dy, NULL, dw, NULL, 1);
    assert_true(same_bits(dw, a.dw, ws));

    free(dw), free(x), free(w), free(dy), free(dx0);
    out_free(&a), out_free(&b), out_free(&s), out_free(&t), out_free(&again);
    return 1;
}

/* padded C -> C, 2C -> 2C, 4C -> 4C convolutions on the maps after the first
 * (unpadded) one and each 2x2 pooling, for C = 8, 16, 24 */
static int check_search_space(int size, int threads)
{
    a4nn_backend *dnn = cpu_backend(threads, A4NN_CPU_KERNELS_AUTO),
                 *direct = cpu_backend(threads, A4NN_CPU_KERNELS_DIRECT);
    const int cs[] = {8, 16, 24};
    int routed = 0;
    for (int a = 0; a < 3; a++)
        for (int p = 0, s = size - 2; p < 3; p++, s /= 2)
            routed += check_shape(dnn, direct, s <= 16 ? 6 : 3, cs[a] << p, s);
    a4nn_backend_free(dnn);
    a4nn_backend_free(direct);
    return routed;
}

static void test_onednn_32(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++)
        assert_true(check_search_space(32, t) >= 3); /* 32 on 15x15, 32 on 7x7, ... */
}

static void test_onednn_64(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++)
        assert_true(check_search_space(64, t) >= 3); /* 32, 64, 96 on 15x15 */
}

/* at 127x127 the 48 and 96 channels of C = 24 on 62x62 and 31x31, and
 * the 64 of C = 16 on 31x31 */
static void test_onednn_127(void **state)
{
    (void)state;
    assert_int_equal(check_search_space(127, 1), 3);
}

/* the rule leaves the first convolution, 8 and 24 channels, 16 and 32
 * channels on maps over 16x16, any map over 64x64, 1x1 and unpadded ones to
 * the direct kernels; a direct backend never uses oneDNN */
static void test_rule(void **state)
{
    (void)state;
    const a4nn_conv_desc first = {32, 1, 127, 127, 24, 125, 125, 3, 0, 0},
                         c8 = {128, 8, 30, 30, 8, 30, 30, 3, 1, 0},
                         c24 = {32, 24, 62, 62, 24, 62, 62, 3, 1, 0},
                         c48 = {32, 48, 62, 62, 48, 62, 62, 3, 1, 0},
                         c48l = {32, 48, 125, 125, 48, 125, 125, 3, 1, 0},
                         c32 = {32, 32, 62, 62, 32, 62, 62, 3, 1, 0},
                         c48s = {32, 48, 15, 15, 48, 15, 15, 3, 1, 0},
                         pw = {32, 48, 15, 15, 48, 15, 15, 1, 0, 0};
    assert_false(a4nn_cpu_conv_onednn(&first));
    assert_false(a4nn_cpu_conv_onednn(&c8));
    assert_false(a4nn_cpu_conv_onednn(&c24));
    assert_true(a4nn_cpu_conv_onednn(&c48));
    assert_false(a4nn_cpu_conv_onednn(&c48l));
    assert_false(a4nn_cpu_conv_onednn(&c32));
    assert_true(a4nn_cpu_conv_onednn(&c48s));
    assert_false(a4nn_cpu_conv_onednn(&pw));
    /* switching a backend to direct and back gives each path's own bits */
    a4nn_backend *be = cpu_backend(2, A4NN_CPU_KERNELS_DIRECT),
                 *direct = cpu_backend(2, A4NN_CPU_KERNELS_DIRECT),
                 *dnn = cpu_backend(2, A4NN_CPU_KERNELS_AUTO);
    a4nn_conv_desc d = {4, 32, 7, 7, 32, 7, 7, 3, 1, 0};
    a4nn_rng r;
    a4nn_rng_seed(&r, 3);
    const size_t xs = 4 * 32 * 49, ws = 32 * 32 * 9;
    float *x = randn(xs, &r), *w = randn(ws, &r), *dy = randn(xs, &r), *dx0 = randn(xs, &r);
    conv_out a = run_conv(be, &d, x, w, dy, dx0), b = run_conv(direct, &d, x, w, dy, dx0);
    assert_true(same_bits(a.y, b.y, xs) && same_bits(a.dx, b.dx, xs) && same_bits(a.dw, b.dw, ws));
    a4nn_backend_cpu_kernels(be, A4NN_CPU_KERNELS_AUTO);
    conv_out c = run_conv(be, &d, x, w, dy, dx0), e = run_conv(dnn, &d, x, w, dy, dx0);
    assert_true(same_bits(c.y, e.y, xs) && same_bits(c.dx, e.dx, xs) && same_bits(c.dw, e.dw, ws));
    out_free(&a), out_free(&b), out_free(&c), out_free(&e);
    free(x), free(w), free(dy), free(dx0);
    a4nn_backend_free(be), a4nn_backend_free(direct), a4nn_backend_free(dnn);
}

static void test_no_onednn(void **state)
{
    (void)state;
    TEST_SKIP("this build has no oneDNN (apt-get install libdnnl-dev, then make)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule),
        cmocka_unit_test(test_onednn_32),
        cmocka_unit_test(test_onednn_64),
        cmocka_unit_test(test_onednn_127),
    };
    const struct CMUnitTest skipped[] = {cmocka_unit_test(test_no_onednn)};
    if (!a4nn_onednn_available())
        return cmocka_run_group_tests(skipped, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
