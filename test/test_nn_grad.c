/* Finite-difference gradient checks of every layer and of whole decoded
 * networks, on the CPU backend. The loss is the mean softmax cross-entropy;
 * analytic gradients from a4nn_net_backward are compared with central
 * differences of the loss computed in double from the float logits. */
#include <math.h>

#include "a4nn/nn.h"
#include "testutil.h"

/* ---- a tiny builder of hand-made architectures ------------------------- */

static int push_tensor(a4nn_arch *a, int c, int h, int w)
{
    a->tensor[a->n_tensors] = (a4nn_shape){c, h, w};
    return a->n_tensors++;
}

static int push_op(a4nn_arch *a, a4nn_op_kind kind, const int *in, int n_in, int c_out, int k,
                   int pad, int bias)
{
    a4nn_shape x = a->tensor[in[0]];
    int c = x.c, h = x.h, w = x.w;
    long params = 0;
    switch (kind) {
    case A4NN_OP_CONV:
        h = x.h + 2 * pad - k + 1, w = x.w + 2 * pad - k + 1, c = c_out;
        params = (long)c_out * x.c * k * k + (bias ? c_out : 0);
        break;
    case A4NN_OP_BN: params = 2L * x.c; break;
    case A4NN_OP_CONCAT:
        c = 0;
        for (int i = 0; i < n_in; i++)
            c += a->tensor[in[i]].c;
        break;
    case A4NN_OP_MAXPOOL: h /= 2, w /= 2; break;
    case A4NN_OP_GAP: h = w = 1; break;
    case A4NN_OP_LINEAR:
        params = (long)x.c * x.h * x.w * c_out + c_out;
        c = c_out, h = w = 1;
        break;
    default: break;
    }
    int t = push_tensor(a, c, h, w);
    a4nn_op *op = &a->ops[a->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = kind, op->n_in = n_in, op->out = t, op->kernel = k, op->pad = pad;
    op->bias = bias, op->params = params, op->phase = -1;
    memcpy(op->in, in, sizeof(int) * (size_t)n_in);
    a->params += params;
    return t;
}

static int op1(a4nn_arch *a, a4nn_op_kind kind, int x) { return push_op(a, kind, &x, 1, 0, 0, 0, 0); }
static int conv(a4nn_arch *a, int x, int c, int k, int pad, int bias)
{
    return push_op(a, A4NN_OP_CONV, &x, 1, c, k, pad, bias);
}
static void head(a4nn_arch *a, int x)
{
    x = op1(a, A4NN_OP_GAP, x);
    a->output = push_op(a, A4NN_OP_LINEAR, &x, 1, 2, 0, 0, 1);
    a->n_classes = 2;
}

/* ---- gradient check -------------------------------------------------------- */

typedef struct {
    a4nn_backend *be;
    a4nn_net *net;
    float *x, *labels, *dlogits;
    int batch;
} fixture;

static double loss_of(fixture *f)
{
    const a4nn_arch *a = a4nn_net_arch(f->net);
    const float *z = a4nn_net_forward(f->net, f->x, f->batch, 1, NULL);
    assert_non_null(z);
    double loss;
    int correct;
    f->be->softmax_xent(f->be->ctx, f->batch, a->n_classes, z, f->labels, f->dlogits, &loss,
                        &correct);
    return loss / f->batch;
}

static void fixture_init(fixture *f, const a4nn_arch *a, int batch, uint64_t seed)
{
    a4nn_error err;
    f->be = a4nn_backend_cpu_create(2, &err);
    assert_non_null(f->be);
    f->net = a4nn_net_alloc(a, batch, f->be, seed, &err);
    if (!f->net)
        fail_msg("net_alloc: %s", err.msg);
    f->batch = batch;
    size_t sample = (size_t)a->tensor[0].c * a->tensor[0].h * a->tensor[0].w;
    f->x = malloc(sizeof(float) * sample * batch);
    f->labels = malloc(sizeof(float) * batch);
    f->dlogits = malloc(sizeof(float) * batch * a->n_classes);
    a4nn_rng r;
    a4nn_rng_seed(&r, seed + 17);
    for (size_t i = 0; i < sample * batch; i++)
        f->x[i] = (float)a4nn_rng_normal(&r);
    for (int i = 0; i < batch; i++)
        f->labels[i] = (float)(i % 2);
    /* larger BN/linear scales make the loss more sensitive to everything */
    float *p = a4nn_net_params(f->net);
    size_t np = a4nn_net_param_count(f->net);
    for (size_t i = 0; i < np; i++)
        p[i] += 0.2f * (float)a4nn_rng_normal(&r);
}

static void fixture_free(fixture *f)
{
    a4nn_net_free(f->net);
    a4nn_backend_free(f->be);
    free(f->x);
    free(f->labels);
    free(f->dlogits);
}

/* A naive double-precision reference forward pass of the same architecture
 * with the same parameter layout as the network (per op: conv w then b, BN
 * gamma then beta, linear w then b). Central differences of its loss with a
 * tiny step are free of float noise and practically never straddle a ReLU or
 * max-pool kink, so they are the ground truth for the float gradients. */
static double reference_loss(const a4nn_arch *a, const double *p, const float *x, const float *labels,
                             int batch, double *logits_out)
{
    double **v = calloc((size_t)a->n_tensors, sizeof(double *));
    size_t sz0 = (size_t)a->tensor[0].c * a->tensor[0].h * a->tensor[0].w;
    v[0] = malloc(sizeof(double) * sz0 * batch);
    for (size_t i = 0; i < sz0 * batch; i++)
        v[0][i] = x[i];
    size_t off = 0;
    for (int o = 0; o < a->n_ops; o++) {
        const a4nn_op *op = &a->ops[o];
        const a4nn_shape X = a->tensor[op->in[0]], Y = a->tensor[op->out];
        size_t ysz = (size_t)Y.c * Y.h * Y.w, xsz = (size_t)X.c * X.h * X.w;
        double *y = calloc(ysz * batch, sizeof(double));
        const double *in = v[op->in[0]];
        switch (op->kind) {
        case A4NN_OP_CONV: {
            int k = op->kernel;
            const double *w = p + off, *b = p + off + (size_t)Y.c * X.c * k * k;
            for (int n = 0; n < batch; n++)
                for (int co = 0; co < Y.c; co++)
                    for (int oy = 0; oy < Y.h; oy++)
                        for (int ox = 0; ox < Y.w; ox++) {
                            double s = op->bias ? b[co] : 0;
                            for (int ci = 0; ci < X.c; ci++)
                                for (int ky = 0; ky < k; ky++)
                                    for (int kx = 0; kx < k; kx++) {
                                        int iy = oy + ky - op->pad, ix = ox + kx - op->pad;
                                        if (iy < 0 || iy >= X.h || ix < 0 || ix >= X.w)
                                            continue;
                                        s += w[((co * X.c + ci) * k + ky) * k + kx] *
                                             in[n * xsz + ((size_t)ci * X.h + iy) * X.w + ix];
                                    }
                            y[n * ysz + ((size_t)co * Y.h + oy) * Y.w + ox] = s;
                        }
            break;
        }
        case A4NN_OP_BN: {
            int hw = X.h * X.w;
            for (int c = 0; c < X.c; c++) {
                double m = 0, var = 0;
                for (int n = 0; n < batch; n++)
                    for (int j = 0; j < hw; j++)
                        m += in[n * xsz + (size_t)c * hw + j];
                m /= (double)batch * hw;
                for (int n = 0; n < batch; n++)
                    for (int j = 0; j < hw; j++) {
                        double d = in[n * xsz + (size_t)c * hw + j] - m;
                        var += d * d;
                    }
                var /= (double)batch * hw;
                for (int n = 0; n < batch; n++)
                    for (int j = 0; j < hw; j++) {
                        size_t q = n * xsz + (size_t)c * hw + j;
                        y[q] = (in[q] - m) / sqrt(var + 1e-5) * p[off + c] + p[off + X.c + c];
                    }
            }
            break;
        }
        case A4NN_OP_RELU:
            for (size_t i = 0; i < ysz * batch; i++)
                y[i] = in[i] > 0 ? in[i] : 0;
            break;
        case A4NN_OP_CONCAT:
            for (int n = 0; n < batch; n++) {
                size_t dst = n * ysz;
                for (int j = 0; j < op->n_in; j++) {
                    const a4nn_shape S = a->tensor[op->in[j]];
                    size_t ssz = (size_t)S.c * S.h * S.w;
                    memcpy(y + dst, v[op->in[j]] + n * ssz, ssz * sizeof(double));
                    dst += ssz;
                }
            }
            break;
        case A4NN_OP_MAXPOOL:
            for (int n = 0; n < batch; n++)
                for (int c = 0; c < X.c; c++)
                    for (int oy = 0; oy < Y.h; oy++)
                        for (int ox = 0; ox < Y.w; ox++) {
                            const double *r = in + n * xsz + ((size_t)c * X.h + 2 * oy) * X.w + 2 * ox;
                            double m = fmax(fmax(r[0], r[1]), fmax(r[X.w], r[X.w + 1]));
                            y[n * ysz + ((size_t)c * Y.h + oy) * Y.w + ox] = m;
                        }
            break;
        case A4NN_OP_GAP:
            for (int n = 0; n < batch; n++)
                for (int c = 0; c < X.c; c++) {
                    double s = 0;
                    for (int j = 0; j < X.h * X.w; j++)
                        s += in[n * xsz + (size_t)c * X.h * X.w + j];
                    y[n * ysz + c] = s / (X.h * X.w);
                }
            break;
        case A4NN_OP_LINEAR:
            for (int n = 0; n < batch; n++)
                for (int k = 0; k < Y.c; k++) {
                    double s = p[off + (size_t)Y.c * xsz + k];
                    for (size_t j = 0; j < xsz; j++)
                        s += p[off + k * xsz + j] * in[n * xsz + j];
                    y[n * ysz + k] = s;
                }
            break;
        }
        off += (size_t)op->params;
        v[op->out] = y;
    }
    const double *z = v[a->output];
    int k = a->n_classes;
    double loss = 0;
    for (int n = 0; n < batch; n++) {
        double m = z[n * k];
        for (int j = 1; j < k; j++)
            m = fmax(m, z[n * k + j]);
        double s = 0;
        for (int j = 0; j < k; j++)
            s += exp(z[n * k + j] - m);
        loss += log(s) + m - z[n * k + (int)labels[n]];
    }
    if (logits_out)
        memcpy(logits_out, z, sizeof(double) * batch * k);
    for (int t = 0; t < a->n_tensors; t++)
        free(v[t]);
    free(v);
    return loss / batch;
}

/* Checks up to max_checks parameters spread over the whole vector. Returns
 * the number checked. */
static int check_gradients(fixture *f, int max_checks, const char *what)
{
    const a4nn_arch *a = a4nn_net_arch(f->net);
    double loss = loss_of(f);
    assert_int_equal(a4nn_net_backward(f->net, f->dlogits, f->batch, NULL), A4NN_OK);
    size_t np = a4nn_net_param_count(f->net);
    const float *pf = a4nn_net_params(f->net), *g = a4nn_net_grads(f->net);
    double *p = malloc(sizeof(double) * np);
    for (size_t i = 0; i < np; i++)
        p[i] = pf[i];
    /* the float forward pass agrees with the double reference */
    double *zr = malloc(sizeof(double) * f->batch * a->n_classes);
    double ref = reference_loss(a, p, f->x, f->labels, f->batch, zr);
    const float *z = a4nn_net_forward(f->net, f->x, f->batch, 1, NULL);
    assert_non_null(z);
    for (int i = 0; i < f->batch * a->n_classes; i++)
        assert_close(z[i], zr[i], 1e-3 * (1 + fabs(zr[i])));
    assert_close(loss, ref, 1e-4 * (1 + ref));
    size_t step = np / (size_t)max_checks + 1;
    int checked = 0;
    double worst = 0;
    for (size_t i = 0; i < np; i += step) {
        const double eps = 1e-6, keep = p[i];
        p[i] = keep + eps;
        double lp = reference_loss(a, p, f->x, f->labels, f->batch, NULL);
        p[i] = keep - eps;
        double lm = reference_loss(a, p, f->x, f->labels, f->batch, NULL);
        p[i] = keep;
        double num = (lp - lm) / (2 * eps), e = fabs(num - g[i]);
        if (e > 1e-2 * fabs(num) + 2e-5)
            fail_msg("%s: parameter %zu: analytic %.8g, numeric %.8g", what, i, (double)g[i], num);
        if (e / (fabs(num) + 1e-4) > worst)
            worst = e / (fabs(num) + 1e-4);
        checked++;
    }
    printf("%s: %d of %zu parameters checked, worst relative error %.2e\n", what, checked, np,
           worst);
    free(p);
    free(zr);
    return checked;
}

/* The layer under test sits between two convolutions, so the first conv's
 * weight gradient checks the layer's input gradient too. */
static void check_layer(a4nn_op_kind kind, int k, int pad, int bias, const char *name)
{
    a4nn_arch *a = calloc(1, sizeof *a);
    int x = push_tensor(a, 2, 9, 9);
    x = conv(a, x, 3, 3, 1, 0);
    switch (kind) {
    case A4NN_OP_CONV: x = conv(a, x, 4, k, pad, bias); break;
    case A4NN_OP_CONCAT: {
        int y = conv(a, x, 2, 1, 0, 0);
        int in[3] = {x, y, x};
        x = push_op(a, A4NN_OP_CONCAT, in, 3, 0, 0, 0, 0);
        break;
    }
    case A4NN_OP_LINEAR: break; /* the head's linear layer is the one under test */
    default: x = op1(a, kind, x); break;
    }
    x = conv(a, x, 3, 3, 1, 1);
    head(a, x);
    fixture f;
    fixture_init(&f, a, 4, 42);
    assert_true(check_gradients(&f, 300, name) > 20);
    fixture_free(&f);
    free(a);
}

static void test_grad_conv3_pad1(void **s) { (void)s; check_layer(A4NN_OP_CONV, 3, 1, 0, "conv3x3 pad 1"); }
static void test_grad_conv3_pad0(void **s) { (void)s; check_layer(A4NN_OP_CONV, 3, 0, 0, "conv3x3 pad 0"); }
static void test_grad_conv1(void **s) { (void)s; check_layer(A4NN_OP_CONV, 1, 0, 0, "conv1x1"); }
static void test_grad_conv_bias(void **s) { (void)s; check_layer(A4NN_OP_CONV, 3, 1, 1, "conv3x3 + bias"); }
static void test_grad_bn(void **s) { (void)s; check_layer(A4NN_OP_BN, 0, 0, 0, "batchnorm"); }
static void test_grad_relu(void **s) { (void)s; check_layer(A4NN_OP_RELU, 0, 0, 0, "relu"); }
static void test_grad_concat(void **s) { (void)s; check_layer(A4NN_OP_CONCAT, 0, 0, 0, "concat"); }
static void test_grad_maxpool(void **s) { (void)s; check_layer(A4NN_OP_MAXPOOL, 0, 0, 0, "maxpool"); }
static void test_grad_linear_gap(void **s) { (void)s; check_layer(A4NN_OP_LINEAR, 0, 0, 0, "gap + linear"); }

static void check_genome(const char *text, const char *name)
{
    a4nn_genome g;
    a4nn_error err;
    if (a4nn_genome_parse(text, 0, 4, &g, &err) != A4NN_OK)
        fail_msg("%s", err.msg);
    a4nn_arch *a = malloc(sizeof *a);
    if (a4nn_arch_build(&g, 1, 13, 13, 3, 2, a, &err) != A4NN_OK)
        fail_msg("%s", err.msg);
    fixture f;
    fixture_init(&f, a, 3, 7);
    /* a second backward pass gives the same gradients: every activation
     * gradient starts the pass from zero (or is overwritten) */
    const size_t np = a4nn_net_param_count(f.net);
    float *g1 = malloc(sizeof(float) * np);
    for (int pass = 0; pass < 2; pass++) {
        loss_of(&f);
        assert_int_equal(a4nn_net_backward(f.net, f.dlogits, f.batch, NULL), A4NN_OK);
        if (pass == 0)
            memcpy(g1, a4nn_net_grads(f.net), sizeof(float) * np);
    }
    assert_memory_equal(g1, a4nn_net_grads(f.net), sizeof(float) * np);
    free(g1);
    assert_true(check_gradients(&f, 400, name) > 20);
    fixture_free(&f);
    free(a);
}

static void test_grad_network_mixed(void **s)
{
    (void)s;
    check_genome("[[0,0,0,1,1,0,1],[1,1,0,0,0,0,0],[0,1,1,0,0,1,0]]", "network (DESIGN.md example)");
}
static void test_grad_network_inactive_phase(void **s)
{
    (void)s;
    check_genome("[[1,0,1,0,0,1,0],[0,0,0,0,0,0,0],[0,1,0,1,0,0,1]]", "network with an inactive phase");
}
static void test_grad_network_all_bits(void **s)
{
    (void)s;
    check_genome("[[1,1,1,1,1,1,1],[1,1,1,1,1,1,1],[1,1,1,1,1,1,1]]", "network with all bits on");
}
static void test_grad_network_residual_only(void **s)
{
    (void)s;
    /* residual-only phases are inactive; one active phase keeps a conv */
    check_genome("[[0,0,0,0,0,0,1],[1,0,0,0,0,0,1],[0,0,0,0,0,0,1]]", "network with residual-only phases");
}

/* ---- BatchNorm train vs eval --------------------------------------------- */

static void test_batchnorm_train_vs_eval(void **s)
{
    (void)s;
    a4nn_error err;
    a4nn_backend *be = a4nn_backend_cpu_create(1, &err);
    const int n = 4, c = 2, hw = 5;
    float x[40], y[40], gamma[2] = {1.5f, 0.5f}, beta[2] = {0.1f, -0.2f};
    float rm[2] = {0, 0}, rv[2] = {1, 1}, sm[2], si[2];
    for (int i = 0; i < 40; i++)
        x[i] = (float)(i % 7) + 3.0f * (float)((i / hw) % c);
    be->bn_forward(be->ctx, n, c, hw, x, gamma, beta, rm, rv, sm, si, y, 1, 0.1f, 1e-5f);
    for (int ch = 0; ch < c; ch++) {
        /* train mode: batch statistics, output has mean beta and std gamma */
        double s1 = 0, s2 = 0, xm = 0, xv = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                double v = y[(i * c + ch) * hw + j];
                s1 += v, s2 += v * v;
                xm += x[(i * c + ch) * hw + j];
            }
        double m = n * hw;
        xm /= m;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                double d = x[(i * c + ch) * hw + j] - xm;
                xv += d * d;
            }
        assert_close(s1 / m, beta[ch], 1e-5);
        assert_close(sqrt(s2 / m - (s1 / m) * (s1 / m)), gamma[ch], 1e-3);
        /* running statistics: momentum 0.1 toward the mean and unbiased variance */
        assert_close(rm[ch], 0.1 * xm, 1e-5);
        assert_close(rv[ch], 0.9 + 0.1 * xv / (m - 1), 1e-4);
    }
    /* eval mode uses the running statistics, not the batch */
    float rm2[2] = {1.0f, -2.0f}, rv2[2] = {4.0f, 0.25f};
    be->bn_forward(be->ctx, n, c, hw, x, gamma, beta, rm2, rv2, sm, si, y, 0, 0.1f, 1e-5f);
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < hw; j++) {
                int k = (i * c + ch) * hw + j;
                double want = (x[k] - rm2[ch]) / sqrt(rv2[ch] + 1e-5) * gamma[ch] + beta[ch];
                assert_close(y[k], want, 1e-4);
            }
    assert_close(rm2[0], 1.0, 0); /* eval leaves the running statistics alone */
    assert_close(rv2[1], 0.25, 0);
    a4nn_backend_free(be);
}

/* ---- optimizer ---------------------------------------------------------------- */

static void test_sgd_step_by_hand(void **s)
{
    (void)s;
    a4nn_error err;
    a4nn_backend *be = a4nn_backend_cpu_create(1, &err);
    float w[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.3f, 0.1f, -0.4f}, v[3] = {0.2f, 0.0f, -0.1f};
    be->sgd_step(be->ctx, 3, w, g, v, 0.1f, 0.9f, 0.01f);
    /* v = 0.9 v + g + 0.01 w ; w -= 0.1 v */
    double v0 = 0.9 * 0.2 + 0.3 + 0.01 * 1.0, v1 = 0.1 + 0.01 * -2.0,
           v2 = 0.9 * -0.1 - 0.4 + 0.01 * 0.5;
    assert_close(v[0], v0, 1e-6);
    assert_close(v[1], v1, 1e-6);
    assert_close(v[2], v2, 1e-6);
    assert_close(w[0], 1.0 - 0.1 * v0, 1e-6);
    assert_close(w[1], -2.0 - 0.1 * v1, 1e-6);
    assert_close(w[2], 0.5 - 0.1 * v2, 1e-6);
    /* cosine schedule: full at 0, half at the middle, near zero at the end */
    assert_close(a4nn_cosine_lr(0.025, 0, 25), 0.025, 1e-12);
    assert_close(a4nn_cosine_lr(0.025, 25, 50), 0.0125, 1e-12);
    assert_close(a4nn_cosine_lr(0.025, 24, 25), 0.5 * 0.025 * (1 + cos(M_PI * 24 / 25)), 1e-12);
    a4nn_backend_free(be);
}

/* One trainer step against the same update computed by hand from the
 * network's own gradient, with clipping active. */
static void test_trainer_step_clips_and_updates(void **s)
{
    (void)s;
    a4nn_arch *a = calloc(1, sizeof *a);
    int x = push_tensor(a, 1, 6, 6);
    x = conv(a, x, 2, 3, 1, 0);
    head(a, x);
    fixture f;
    fixture_init(&f, a, 4, 3);
    size_t np = a4nn_net_param_count(f.net);
    float *p = a4nn_net_params(f.net);
    for (size_t i = 0; i < np; i++)
        p[i] *= 20.0f; /* large weights: large gradients, so clipping engages */
    float *p0 = malloc(sizeof(float) * np), *g = malloc(sizeof(float) * np);
    memcpy(p0, p, sizeof(float) * np);
    loss_of(&f);
    assert_int_equal(a4nn_net_backward(f.net, f.dlogits, f.batch, NULL), A4NN_OK);
    memcpy(g, a4nn_net_grads(f.net), sizeof(float) * np);
    double norm = 0;
    for (size_t i = 0; i < np; i++)
        norm += (double)g[i] * g[i];
    norm = sqrt(norm);
    a4nn_train_config cfg;
    a4nn_train_config_defaults(&cfg);
    cfg.clip = norm / 4; /* guaranteed to clip */
    cfg.batch = 4;
    a4nn_error err;
    a4nn_trainer *t = a4nn_trainer_alloc(f.net, &cfg, &err);
    assert_non_null(t);
    assert_int_equal(a4nn_trainer_step(t, f.x, f.labels, 4, 0.05, NULL, NULL, &err), A4NN_OK);
    double scale = cfg.clip / (norm + 1e-6);
    for (size_t i = 0; i < np; i++) {
        double want = p0[i] - 0.05 * (g[i] * scale + 3e-4 * p0[i]); /* v starts at 0 */
        assert_close(p[i], want, 1e-4 * (1 + fabs(want)));
    }
    a4nn_trainer_free(t);
    free(p0);
    free(g);
    fixture_free(&f);
    free(a);
}


/* A convolution large enough to be split into several im2col tiles (64
 * channels of 40x40: a few output rows per tile) against direct loops in
 * double precision, forward and backward. */
static void test_tiled_conv_matches_direct(void **s)
{
    (void)s;
    const int n = 2, ci = 64, co = 8, h = 40, w = 40, k = 3, pad = 1;
    a4nn_conv_desc d = {n, ci, h, w, co, h, w, k, pad, 1};
    size_t xs = (size_t)n * ci * h * w, ys = (size_t)n * co * h * w, ws = (size_t)co * ci * k * k;
    float *x = malloc(sizeof(float) * xs), *wt = malloc(sizeof(float) * ws), b[8];
    float *y = malloc(sizeof(float) * ys), *dy = malloc(sizeof(float) * ys);
    float *dx = calloc(xs, sizeof(float)), *dw = malloc(sizeof(float) * ws), db[8];
    a4nn_rng r;
    a4nn_rng_seed(&r, 99);
    for (size_t i = 0; i < xs; i++) x[i] = (float)a4nn_rng_normal(&r);
    for (size_t i = 0; i < ws; i++) wt[i] = (float)a4nn_rng_normal(&r) * 0.05f;
    for (size_t i = 0; i < ys; i++) dy[i] = (float)a4nn_rng_normal(&r);
    for (int i = 0; i < co; i++) b[i] = 0.1f * i;
    a4nn_error err;
    a4nn_backend *be = a4nn_backend_cpu_create(2, &err);
    be->conv_forward(be->ctx, &d, x, wt, b, y);
    be->conv_backward(be->ctx, &d, x, wt, dy, dx, dw, db, 1);
    double *rdw = calloc(ws, sizeof(double)), *rdx = calloc(xs, sizeof(double));
    for (int i = 0; i < n; i++)
        for (int o = 0; o < co; o++)
            for (int oy = 0; oy < h; oy++)
                for (int ox = 0; ox < w; ox++) {
                    double acc = b[o], g = dy[((size_t)(i * co + o) * h + oy) * w + ox];
                    for (int c = 0; c < ci; c++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy + ky - pad, ix = ox + kx - pad;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                    continue;
                                size_t xi = ((size_t)(i * ci + c) * h + iy) * w + ix;
                                size_t wi = ((size_t)(o * ci + c) * k + ky) * k + kx;
                                acc += (double)wt[wi] * x[xi];
                                rdw[wi] += g * x[xi];
                                rdx[xi] += g * wt[wi];
                            }
                    assert_close(y[((size_t)(i * co + o) * h + oy) * w + ox], acc, 1e-3 * (1 + fabs(acc)));
                }
    for (size_t i = 0; i < ws; i++)
        assert_close(dw[i], rdw[i], 1e-3 * (1 + fabs(rdw[i])));
    for (size_t i = 0; i < xs; i++)
        assert_close(dx[i], rdx[i], 1e-3 * (1 + fabs(rdx[i])));
    free(x), free(wt), free(y), free(dy), free(dx), free(dw), free(rdw), free(rdx);
    a4nn_backend_free(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_conv3_pad1),
        cmocka_unit_test(test_grad_conv3_pad0),
        cmocka_unit_test(test_grad_conv1),
        cmocka_unit_test(test_grad_conv_bias),
        cmocka_unit_test(test_grad_bn),
        cmocka_unit_test(test_grad_relu),
        cmocka_unit_test(test_grad_concat),
        cmocka_unit_test(test_grad_maxpool),
        cmocka_unit_test(test_grad_linear_gap),
        cmocka_unit_test(test_grad_network_mixed),
        cmocka_unit_test(test_grad_network_inactive_phase),
        cmocka_unit_test(test_grad_network_all_bits),
        cmocka_unit_test(test_grad_network_residual_only),
        cmocka_unit_test(test_tiled_conv_matches_direct),
        cmocka_unit_test(test_batchnorm_train_vs_eval),
        cmocka_unit_test(test_sgd_step_by_hand),
        cmocka_unit_test(test_trainer_step_clips_and_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
