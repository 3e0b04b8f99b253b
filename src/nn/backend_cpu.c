/* CPU backend: convolutions as im2col + OpenBLAS sgemm, one image per OpenMP
 * thread (OpenBLAS itself single-threaded inside the parallel loop, which
 * measures faster than threading each small GEMM on a few cores). Per-thread
 * weight-gradient accumulators are reduced in thread order, so results are
 * deterministic for a given thread count. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "a4nn/nn.h"

void openblas_set_num_threads(int num_threads);

typedef struct {
    int n_threads;
    size_t ws_floats;  /* per-thread workspace size */
    float **ws;        /* [n_threads] im2col / col2im buffers */
    size_t acc_floats; /* per-thread weight-gradient accumulators */
    float **acc;
} cpu_ctx;

static void ensure(float **buf, size_t *have, size_t need, int n)
{
    if (*have >= need)
        return;
    for (int t = 0; t < n; t++) {
        free(buf[t]);
        buf[t] = a4nn_malloc(need * sizeof(float));
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
static void cpu_zero(void *ctx, float *p, size_t n) { memset(p, 0, n * sizeof(float)); }

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

/* the adjoint of im2col: accumulates output rows [oy0, oy1) of col into x */
static void col2im(const float *col, int c, int h, int w, int k, int pad, int oy0, int oy1,
                   int wo, float *x)
{
    const int ho = oy1 - oy0;
    for (int ci = 0; ci < c; ci++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const float *row = col + ((size_t)(ci * k + ky) * k + kx) * ho * wo;
                int x0 = kx - pad;
                int lo = x0 < 0 ? -x0 : 0;
                int hi = wo < w - x0 ? wo : w - x0;
                for (int oy = 0; oy < ho; oy++) {
                    int iy = oy0 + oy + ky - pad;
                    if (iy < 0 || iy >= h)
                        continue;
                    const float *r = row + (size_t)oy * wo;
                    float *dst = x + ((size_t)ci * h + iy) * w + x0;
                    for (int ox = lo; ox < hi; ox++)
                        dst[ox] += r[ox];
                }
            }
}

static int direct_1x1(const a4nn_conv_desc *d) { return d->k == 1 && d->pad == 0; }

/* Output rows per tile: the column matrix of a tile (K x rows*w_out floats)
 * stays within about 384 KiB, so im2col writes it into L2 and the GEMM packs
 * it from there instead of from memory. */
static int tile_rows(const a4nn_conv_desc *d)
{
    const size_t K = (size_t)d->c_in * d->k * d->k, budget = 384 * 1024 / sizeof(float);
    size_t rows = budget / (K * (size_t)d->w_out);
    if (rows < 1)
        rows = 1;
    return rows > (size_t)d->h_out ? d->h_out : (int)rows;
}

static void cpu_conv_forward(void *vctx, const a4nn_conv_desc *d, const float *x, const float *w,
                             const float *b, float *y)
{
    cpu_ctx *ctx = vctx;
    const int K = d->c_in * d->k * d->k, HWo = d->h_out * d->w_out, tr = tile_rows(d);
    const size_t xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)d->c_out * HWo;
    if (!direct_1x1(d))
        ensure(ctx->ws, &ctx->ws_floats, (size_t)K * tr * d->w_out, ctx->n_threads);
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int i = 0; i < d->n; i++) {
        float *yi = y + i * ys;
        if (direct_1x1(d)) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->c_out, HWo, K, 1.0f, w, K,
                        x + i * xs, HWo, 0.0f, yi, HWo);
        } else {
            float *ws = ctx->ws[omp_get_thread_num()];
            for (int oy = 0; oy < d->h_out; oy += tr) {
                int oy1 = oy + tr < d->h_out ? oy + tr : d->h_out, n = (oy1 - oy) * d->w_out;
                im2col(x + i * xs, d->c_in, d->h_in, d->w_in, d->k, d->pad, oy, oy1, d->w_out, ws);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->c_out, n, K, 1.0f, w, K,
                            ws, n, 0.0f, yi + (size_t)oy * d->w_out, HWo);
            }
        }
        if (d->bias && b)
            for (int co = 0; co < d->c_out; co++) {
                float bv = b[co], *r = yi + (size_t)co * HWo;
                for (int p = 0; p < HWo; p++)
                    r[p] += bv;
            }
    }
}

static void cpu_conv_backward(void *vctx, const a4nn_conv_desc *d, const float *x,
                              const float *w, const float *dy, float *dx, float *dw, float *db)
{
    cpu_ctx *ctx = vctx;
    const int K = d->c_in * d->k * d->k, HWo = d->h_out * d->w_out, tr = tile_rows(d);
    const size_t xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)d->c_out * HWo;
    const size_t wsz = (size_t)d->c_out * K, accsz = wsz + (size_t)d->c_out;
    const int nt = ctx->n_threads;
    if (!direct_1x1(d)) /* a column tile and its gradient */
        ensure(ctx->ws, &ctx->ws_floats, 2 * (size_t)K * tr * d->w_out, nt);
    ensure(ctx->acc, &ctx->acc_floats, accsz, nt);
    for (int t = 0; t < nt; t++)
        memset(ctx->acc[t], 0, accsz * sizeof(float));
#pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num();
        float *ws = ctx->ws[t], *acc = ctx->acc[t];
#pragma omp for schedule(static)
        for (int i = 0; i < d->n; i++) {
            const float *dyi = dy + i * ys;
            if (direct_1x1(d)) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->c_out, K, HWo, 1.0f, dyi,
                            HWo, x + i * xs, HWo, 1.0f, acc, K);
                if (dx)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, HWo, d->c_out, 1.0f,
                                w, K, dyi, HWo, 1.0f, dx + i * xs, HWo);
            } else {
                float *dcol = ws + (size_t)K * tr * d->w_out;
                for (int oy = 0; oy < d->h_out; oy += tr) {
                    int oy1 = oy + tr < d->h_out ? oy + tr : d->h_out, n = (oy1 - oy) * d->w_out;
                    const float *dyt = dyi + (size_t)oy * d->w_out;
                    im2col(x + i * xs, d->c_in, d->h_in, d->w_in, d->k, d->pad, oy, oy1,
                           d->w_out, ws);
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->c_out, K, n, 1.0f,
                                dyt, HWo, ws, n, 1.0f, acc, K);
                    if (dx) {
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, n, d->c_out,
                                    1.0f, w, K, dyt, HWo, 0.0f, dcol, n);
                        col2im(dcol, d->c_in, d->h_in, d->w_in, d->k, d->pad, oy, oy1, d->w_out,
                               dx + i * xs);
                    }
                }
            }
            if (d->bias)
                for (int co = 0; co < d->c_out; co++) {
                    const float *r = dyi + (size_t)co * HWo;
                    float s = 0;
                    for (int p = 0; p < HWo; p++)
                        s += r[p];
                    acc[wsz + co] += s;
                }
        }
    }
    memcpy(dw, ctx->acc[0], wsz * sizeof(float));
    if (d->bias && db)
        memcpy(db, ctx->acc[0] + wsz, (size_t)d->c_out * sizeof(float));
    for (int t = 1; t < nt; t++) {
        const float *a = ctx->acc[t];
        for (size_t j = 0; j < wsz; j++)
            dw[j] += a[j];
        if (d->bias && db)
            for (int co = 0; co < d->c_out; co++)
                db[co] += a[wsz + co];
    }
}

static void cpu_bn_forward(void *vctx, int n, int c, int hw, const float *x, const float *gamma,
                           const float *beta, float *rmean, float *rvar, float *smean,
                           float *sinvstd, float *y, int train, float momentum, float eps)
{
    cpu_ctx *ctx = vctx;
    const size_t cs = (size_t)c * hw;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int ch = 0; ch < c; ch++) {
        float mean, invstd;
        if (train) {
            double s = 0, ss = 0;
            for (int i = 0; i < n; i++) {
                const float *p = x + i * cs + (size_t)ch * hw;
                float ls = 0;
                for (int j = 0; j < hw; j++)
                    ls += p[j];
                s += ls;
            }
            const double m = (double)n * hw, mu = s / m;
            for (int i = 0; i < n; i++) {
                const float *p = x + i * cs + (size_t)ch * hw;
                float lss = 0, fmu = (float)mu;
                for (int j = 0; j < hw; j++) {
                    float dlt = p[j] - fmu;
                    lss += dlt * dlt;
                }
                ss += lss;
            }
            double var = ss / m;
            mean = (float)mu;
            invstd = (float)(1.0 / sqrt(var + eps));
            smean[ch] = mean;
            sinvstd[ch] = invstd;
            double unbiased = m > 1 ? ss / (m - 1) : var;
            rmean[ch] = (1 - momentum) * rmean[ch] + momentum * mean;
            rvar[ch] = (float)((1 - momentum) * rvar[ch] + momentum * unbiased);
        } else {
            mean = rmean[ch];
            invstd = 1.0f / sqrtf(rvar[ch] + eps);
        }
        const float g = gamma[ch] * invstd, bb = beta[ch] - mean * g;
        for (int i = 0; i < n; i++) {
            const float *p = x + i * cs + (size_t)ch * hw;
            float *q = y + i * cs + (size_t)ch * hw;
            for (int j = 0; j < hw; j++)
                q[j] = p[j] * g + bb;
        }
    }
}

static void cpu_bn_backward(void *vctx, int n, int c, int hw, const float *x, const float *dy,
                            const float *gamma, const float *smean, const float *sinvstd,
                            float *dx, float *dgamma, float *dbeta)
{
    cpu_ctx *ctx = vctx;
    const size_t cs = (size_t)c * hw;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (int ch = 0; ch < c; ch++) {
        const float mu = smean[ch], is = sinvstd[ch];
        double sdy = 0, sdyx = 0;
        for (int i = 0; i < n; i++) {
            const float *p = x + i * cs + (size_t)ch * hw, *g = dy + i * cs + (size_t)ch * hw;
            float a = 0, b = 0;
            for (int j = 0; j < hw; j++) {
                a += g[j];
                b += g[j] * (p[j] - mu);
            }
            sdy += a;
            sdyx += b;
        }
        const double m = (double)n * hw;
        dgamma[ch] = (float)(sdyx * is);
        dbeta[ch] = (float)sdy;
        /* dx = gamma*is/m * (m dy - sum dy - xhat * sum(dy xhat)) */
        const float k1 = gamma[ch] * is, mdy = (float)(sdy / m),
                    k2 = (float)(sdyx * is * is / m);
        for (int i = 0; i < n; i++) {
            const float *p = x + i * cs + (size_t)ch * hw, *g = dy + i * cs + (size_t)ch * hw;
            float *q = dx + i * cs + (size_t)ch * hw;
            for (int j = 0; j < hw; j++)
                q[j] += k1 * (g[j] - mdy - (p[j] - mu) * k2);
        }
    }
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

static void cpu_maxpool_backward(void *vctx, int n, int c, int h, int w, const float *x,
                                 const float *dy, float *dx)
{
    cpu_ctx *ctx = vctx;
    const int ho = h / 2, wo = w / 2;
#pragma omp parallel for schedule(static) num_threads(ctx->n_threads)
    for (long pc = 0; pc < (long)n * c; pc++) {
        const float *p = x + pc * h * w;
        const float *g = dy + pc * ho * wo;
        float *q = dx + pc * h * w;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                int base = (2 * oy) * w + 2 * ox, best = base;
                const int cand[3] = {base + 1, base + w, base + w + 1};
                for (int j = 0; j < 3; j++)
                    if (p[cand[j]] > p[best])
                        best = cand[j];
                q[best] += g[oy * wo + ox];
            }
    }
}

static void cpu_gap_forward(void *vctx, int n, int c, int hw, const float *x, float *y)
{
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
    const size_t len = (size_t)c_src * hw;
    for (int i = 0; i < n; i++)
        memcpy(dst + ((size_t)i * c_dst + off) * hw, src + i * len, len * sizeof(float));
}

static void cpu_concat_backward(void *vctx, int n, int c_src, int c_dst, int off, int hw,
                                const float *ddst, float *dsrc)
{
    const size_t len = (size_t)c_src * hw;
    for (int i = 0; i < n; i++) {
        const float *g = ddst + ((size_t)i * c_dst + off) * hw;
        float *q = dsrc + i * len;
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
    for (int t = 0; t < ctx->n_threads; t++) {
        free(ctx->ws[t]);
        free(ctx->acc[t]);
    }
    free(ctx->ws);
    free(ctx->acc);
    free(ctx);
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
    ctx->acc = a4nn_calloc((size_t)n_threads, sizeof(float *));
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
