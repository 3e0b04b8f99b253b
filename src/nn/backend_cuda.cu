/* CUDA backend: cuDNN convolutions, cuBLAS for the linear layer, and kernels
 * of its own for BatchNorm (two-pass per-channel reductions; several times faster
 * than cuDNN's NCHW BatchNorm here, which cudnn_bn selects instead) and
 * everything else. Everything runs on the legacy
 * default stream of the device chosen at creation, so work from other code
 * on that stream (NCCL allreduce of the gradients, copies) is ordered with it.
 *
 * Convolution algorithms are found once per shape (cudnnFind*, fastest one
 * that fits the workspace cap) and cached; one workspace is shared and grown.
 * TF32 is off by default (exact fp32, comparable with the CPU backend);
 * a4nn_cuda_configure turns it on for cuDNN and cuBLAS, with the other
 * runtime switches (a4nn_cuda_options).
 *
 * A failing CUDA call inside an entry is kept (the first one, for the
 * process: a failed CUDA context stays failed) and reported by the status
 * entry, which the network and trainer check after every pass. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
extern "C" {
#include "a4nn/nn.h"
}
#include "cuda_check.h"

/* the first failure of a CUDA call inside a backend entry */
static char cuda_failure[400];

void a4nn_cuda_fail(const char *call, const char *what, const char *file, int line)
{
    if (!cuda_failure[0])
        snprintf(cuda_failure, sizeof cuda_failure, "%s: %s (%s:%d)", call, what, file, line);
}

namespace {

const size_t WS_CAP = (size_t)2 << 30; /* largest workspace an algorithm may ask for */

struct conv_entry {
    a4nn_conv_desc d;
    cudnnTensorDescriptor_t x, y, b;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
};

struct cuda_ctx {
    int device;
    int tf32;
    int exact_algos; /* no FFT/Winograd convolution algorithms (cudnn_exact) */
    int verbose;     /* print the algorithms chosen per shape */
    int profile;     /* time every entry (synchronising) */
    double prof_s[32];
    long prof_n[32];
    cudnnHandle_t dnn;
    cublasHandle_t blas;
    void *ws;
    size_t ws_size;
    conv_entry *convs;
    int n_convs, cap_convs;
    cudnnTensorDescriptor_t t4, tp; /* scratch descriptors for BatchNorm */
    /* reductions: device partial sums and pinned host results */
    double *d_red;
    int *d_cnt;
    double *h_red;
    int *h_cnt;
    long *d_idx;
    size_t idx_cap;
    int cudnn_bn;       /* cuDNN's BatchNorm instead of the kernels here */
    double *bn_part;    /* BatchNorm partial sums */
    size_t bn_part_cap; /* doubles */
    float *bn_coef;     /* per-channel coefficients */
    size_t bn_coef_cap; /* floats */
};

const char *const PROF_NAMES[] = {"conv_fwd", "conv_bwd", "bn_fwd", "bn_bwd", "relu_fwd",
                                  "relu_bwd", "pool_fwd", "pool_bwd", "gap_fwd", "gap_bwd",
                                  "linear_fwd", "linear_bwd", "concat_fwd", "concat_bwd",
                                  "softmax", "sumsq", "scale", "sgd", "gather", "zero"};
enum { P_CONV_F, P_CONV_B, P_BN_F, P_BN_B, P_RELU_F, P_RELU_B, P_POOL_F, P_POOL_B, P_GAP_F,
       P_GAP_B, P_LIN_F, P_LIN_B, P_CAT_F, P_CAT_B, P_SOFTMAX, P_SUMSQ, P_SCALE, P_SGD,
       P_GATHER, P_ZERO, P_COUNT };

struct prof_scope {
    cuda_ctx *c;
    int k;
    double t0;
    prof_scope(void *ctx, int kind) : c((cuda_ctx *)ctx), k(kind), t0(0)
    {
        if (c->profile) {
            cudaDeviceSynchronize();
            t0 = a4nn_now();
        }
    }
    ~prof_scope()
    {
        if (c->profile) {
            cudaDeviceSynchronize();
            c->prof_s[k] += a4nn_now() - t0;
            c->prof_n[k]++;
        }
    }
};
#define PROF(kind) prof_scope prof_(vctx, kind)

inline unsigned blocks_for(size_t n, unsigned threads = 256)
{
    size_t b = (n + threads - 1) / threads;
    if (b > 65535u * 8u)
        b = 65535u * 8u; /* grid-stride loops cover the rest */
    return (unsigned)(b ? b : 1);
}

#define GRID_STRIDE(i, n)                                                       \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n);     \
         i += (size_t)gridDim.x * blockDim.x)

__global__ void k_relu_fwd(size_t n, const float *x, float *y)
{
    GRID_STRIDE(i, n) y[i] = x[i] > 0.f ? x[i] : 0.f;
}
__global__ void k_relu_bwd(size_t n, const float *y, const float *dy, float *dx)
{
    GRID_STRIDE(i, n) if (y[i] > 0.f) dx[i] += dy[i];
}

__global__ void k_maxpool_fwd(size_t total, int h, int w, const float *x, float *y)
{
    const int ho = h / 2, wo = w / 2;
    GRID_STRIDE(i, total)
    {
        size_t pc = i / ((size_t)ho * wo);
        int r = (int)(i % ((size_t)ho * wo)), oy = r / wo, ox = r % wo;
        const float *p = x + pc * h * w + (size_t)(2 * oy) * w + 2 * ox;
        float m = p[0];
        m = p[1] > m ? p[1] : m;
        m = p[w] > m ? p[w] : m;
        m = p[w + 1] > m ? p[w + 1] : m;
        y[i] = m;
    }
}
__global__ void k_maxpool_bwd(size_t total, int h, int w, const float *x, const float *dy,
                              float *dx)
{
    const int ho = h / 2, wo = w / 2;
    GRID_STRIDE(i, total)
    {
        size_t pc = i / ((size_t)ho * wo);
        int r = (int)(i % ((size_t)ho * wo)), oy = r / wo, ox = r % wo;
        size_t base = pc * h * w + (size_t)(2 * oy) * w + 2 * ox;
        const size_t off[4] = {0, 1, (size_t)w, (size_t)w + 1};
        size_t best = base;
        float m = x[base];
        for (int j = 1; j < 4; j++)
            if (x[base + off[j]] > m)
                m = x[base + off[j]], best = base + off[j];
        dx[best] += dy[i]; /* windows do not overlap: no races */
    }
}

/* one warp per (image, channel) row */
__global__ void k_gap_fwd(int rows, int hw, const float *x, float *y)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= rows)
        return;
    const float *p = x + (size_t)row * hw;
    float s = 0.f;
    for (int j = lane; j < hw; j += 32)
        s += p[j];
    for (int o = 16; o > 0; o /= 2)
        s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0)
        y[row] = s / hw;
}
__global__ void k_gap_bwd(size_t total, int hw, const float *dy, float *dx)
{
    GRID_STRIDE(i, total) dx[i] += dy[i / hw] / hw;
}

__global__ void k_bias_rows(size_t total, int out, const float *b, float *y)
{
    GRID_STRIDE(i, total) y[i] += b[i % out];
}
/* db[j] = sum_i dy[i, j]; one warp per output column */
__global__ void k_col_sum(int n, int out, const float *dy, float *db)
{
    int j = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (j >= out)
        return;
    float s = 0.f;
    for (int i = lane; i < n; i += 32)
        s += dy[(size_t)i * out + j];
    for (int o = 16; o > 0; o /= 2)
        s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0)
        db[j] = s;
}

__global__ void k_concat_fwd(size_t total, int c_src, int c_dst, int off, int hw,
                             const float *src, float *dst)
{
    const size_t img = (size_t)c_src * hw;
    GRID_STRIDE(i, total)
    {
        size_t n = i / img, r = i % img;
        dst[n * c_dst * hw + (size_t)off * hw + r] = src[i];
    }
}
__global__ void k_concat_bwd(size_t total, int c_src, int c_dst, int off, int hw,
                             const float *ddst, float *dsrc)
{
    const size_t img = (size_t)c_src * hw;
    GRID_STRIDE(i, total)
    {
        size_t n = i / img, r = i % img;
        dsrc[i] += ddst[n * c_dst * hw + (size_t)off * hw + r];
    }
}

/* Single block: per-sample softmax cross-entropy in double, reduced in a
 * fixed order so the result does not depend on scheduling. */
__global__ void k_softmax_xent(int n, int k, const float *logits, const float *labels,
                               float *dlogits, double *loss_out, int *correct_out)
{
    __shared__ double sl[256];
    __shared__ int sc[256];
    double loss = 0;
    int ok = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
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
                    (float)((exp((double)(z[j] - m)) / s - (j == y ? 1.0 : 0.0)) / n);
    }
    sl[threadIdx.x] = loss;
    sc[threadIdx.x] = ok;
    __syncthreads();
    for (int o = blockDim.x / 2; o > 0; o /= 2) {
        if ((int)threadIdx.x < o) {
            sl[threadIdx.x] += sl[threadIdx.x + o];
            sc[threadIdx.x] += sc[threadIdx.x + o];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        *loss_out = sl[0];
        *correct_out = sc[0];
    }
}

const int RED_BLOCKS = 512;
__global__ void k_sumsq_partial(size_t n, const float *x, double *part)
{
    __shared__ double s[256];
    double a = 0;
    GRID_STRIDE(i, n) a += (double)x[i] * x[i];
    s[threadIdx.x] = a;
    __syncthreads();
    for (int o = blockDim.x / 2; o > 0; o /= 2) {
        if ((int)threadIdx.x < o)
            s[threadIdx.x] += s[threadIdx.x + o];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        part[blockIdx.x] = s[0];
}
__global__ void k_sum_final(int m, double *part)
{
    __shared__ double s[256];
    double a = 0;
    for (int i = threadIdx.x; i < m; i += blockDim.x)
        a += part[i];
    s[threadIdx.x] = a;
    __syncthreads();
    for (int o = blockDim.x / 2; o > 0; o /= 2) {
        if ((int)threadIdx.x < o)
            s[threadIdx.x] += s[threadIdx.x + o];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        part[m] = s[0];
}

__global__ void k_scale(size_t n, float *x, float s)
{
    GRID_STRIDE(i, n) x[i] *= s;
}
__global__ void k_sgd(size_t n, float *w, const float *g, float *v, float lr, float mom, float wd)
{
    GRID_STRIDE(i, n)
    {
        float d = g[i] + wd * w[i];
        float vi = mom * v[i] + d;
        v[i] = vi;
        w[i] -= lr * vi;
    }
}

/* blockIdx.y: sample in the batch; x within the sample */
__global__ void k_gather(const float *images, const float *labels, const long *idx,
                         size_t sample, float *x, float *y)
{
    const int i = blockIdx.y;
    const long src = idx[i];
    const float *p = images + (size_t)src * sample;
    float *q = x + (size_t)i * sample;
    for (size_t j = blockIdx.x * (size_t)blockDim.x + threadIdx.x; j < sample;
         j += (size_t)gridDim.x * blockDim.x)
        q[j] = p[j];
    if (blockIdx.x == 0 && threadIdx.x == 0)
        y[i] = labels[src];
}


/* ---- BatchNorm kernels (NCHW, per-channel statistics) -------------------
 * Pass 1 reduces per (channel, block) partial sums; pass 2 finalises per
 * channel in double; pass 3 applies the per-channel affine map. */
const int BN_THREADS = 256;

__device__ inline void block_sum2(double &a, double &b)
{
    __shared__ double sa[BN_THREADS], sb[BN_THREADS];
    sa[threadIdx.x] = a;
    sb[threadIdx.x] = b;
    __syncthreads();
    for (int o = BN_THREADS / 2; o > 0; o /= 2) {
        if ((int)threadIdx.x < o) {
            sa[threadIdx.x] += sa[threadIdx.x + o];
            sb[threadIdx.x] += sb[threadIdx.x + o];
        }
        __syncthreads();
    }
    a = sa[0];
    b = sb[0];
}

/* blockIdx.y = channel; partial sums of x and x^2 (shift: first element) */
__global__ void k_bn_stats(int n, int c, int hw, const float *x, double *part)
{
    const int ch = blockIdx.y;
    const size_t m = (size_t)n * hw;
    const float shift = x[(size_t)ch * hw];
    float s = 0.f, ss = 0.f;
    for (size_t j = blockIdx.x * (size_t)BN_THREADS + threadIdx.x; j < m;
         j += (size_t)gridDim.x * BN_THREADS) {
        size_t i = j / hw, k = j % hw;
        float v = x[(i * c + ch) * hw + k] - shift;
        s += v;
        ss += v * v;
    }
    double a = s, b = ss;
    block_sum2(a, b);
    if (threadIdx.x == 0) {
        part[((size_t)ch * gridDim.x + blockIdx.x) * 2] = a;
        part[((size_t)ch * gridDim.x + blockIdx.x) * 2 + 1] = b;
    }
}

__global__ void k_bn_stats_final(int n, int c, int hw, int nb, const float *x,
                                 const double *part, const float *gamma, const float *beta,
                                 float *rmean, float *rvar, float *smean, float *sinvstd,
                                 float *coef, float momentum, float eps)
{
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c)
        return;
    double s = 0, ss = 0;
    for (int b = 0; b < nb; b++) {
        s += part[((size_t)ch * nb + b) * 2];
        ss += part[((size_t)ch * nb + b) * 2 + 1];
    }
    const double m = (double)n * hw, shift = x[(size_t)ch * hw];
    const double dm = s / m, var = fmax(ss / m - dm * dm, 0.0), mean = shift + dm;
    const float invstd = (float)(1.0 / sqrt(var + eps));
    smean[ch] = (float)mean;
    sinvstd[ch] = invstd;
    const double unbiased = m > 1 ? var * m / (m - 1) : var;
    rmean[ch] = (1 - momentum) * rmean[ch] + momentum * (float)mean;
    rvar[ch] = (float)((1 - momentum) * rvar[ch] + momentum * unbiased);
    const float g = gamma[ch] * invstd;
    coef[2 * ch] = g;
    coef[2 * ch + 1] = beta[ch] - (float)mean * g;
}

__global__ void k_bn_eval_coef(int c, const float *gamma, const float *beta, const float *rmean,
                               const float *rvar, float *coef, float eps)
{
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c)
        return;
    const float g = gamma[ch] / sqrtf(rvar[ch] + eps);
    coef[2 * ch] = g;
    coef[2 * ch + 1] = beta[ch] - rmean[ch] * g;
}

__global__ void k_bn_apply(size_t total, int c, int hw, const float *x, const float *coef,
                           float *y)
{
    GRID_STRIDE(i, total)
    {
        int ch = (int)((i / hw) % c);
        y[i] = x[i] * coef[2 * ch] + coef[2 * ch + 1];
    }
}

/* partial sums of dy and dy * (x - mean) */
__global__ void k_bn_bwd_stats(int n, int c, int hw, const float *x, const float *dy,
                               const float *smean, double *part)
{
    const int ch = blockIdx.y;
    const size_t m = (size_t)n * hw;
    const float mu = smean[ch];
    float s = 0.f, sx = 0.f;
    for (size_t j = blockIdx.x * (size_t)BN_THREADS + threadIdx.x; j < m;
         j += (size_t)gridDim.x * BN_THREADS) {
        size_t i = j / hw, k = j % hw, at = (i * c + ch) * hw + k;
        float g = dy[at];
        s += g;
        sx += g * (x[at] - mu);
    }
    double a = s, b = sx;
    block_sum2(a, b);
    if (threadIdx.x == 0) {
        part[((size_t)ch * gridDim.x + blockIdx.x) * 2] = a;
        part[((size_t)ch * gridDim.x + blockIdx.x) * 2 + 1] = b;
    }
}

__global__ void k_bn_bwd_final(int n, int c, int hw, int nb, const double *part,
                               const float *gamma, const float *smean, const float *sinvstd,
                               float *dgamma, float *dbeta, float *coef)
{
    int ch = blockIdx.x * blockDim.x + threadIdx.x;
    if (ch >= c)
        return;
    double sdy = 0, sdyx = 0;
    for (int b = 0; b < nb; b++) {
        sdy += part[((size_t)ch * nb + b) * 2];
        sdyx += part[((size_t)ch * nb + b) * 2 + 1];
    }
    const double m = (double)n * hw, is = sinvstd[ch];
    dgamma[ch] = (float)(sdyx * is);
    dbeta[ch] = (float)sdy;
    coef[3 * ch] = gamma[ch] * (float)is;      /* k1 */
    coef[3 * ch + 1] = (float)(sdy / m);       /* mean dy */
    coef[3 * ch + 2] = (float)(sdyx * is * is / m); /* k2 */
}

__global__ void k_bn_bwd_apply(size_t total, int c, int hw, const float *x, const float *dy,
                               const float *smean, const float *coef, float *dx)
{
    GRID_STRIDE(i, total)
    {
        int ch = (int)((i / hw) % c);
        dx[i] += coef[3 * ch] * (dy[i] - coef[3 * ch + 1] - (x[i] - smean[ch]) * coef[3 * ch + 2]);
    }
}

/* ---- memory ------------------------------------------------------------- */

float *cu_alloc(void *vctx, size_t n)
{
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, (n ? n : 1) * sizeof(float));
    if (e != cudaSuccess) {
        cudaGetLastError(); /* out of memory is not sticky: the caller reports it */
        return NULL;
    }
    return (float *)p;
}
void cu_free(void *vctx, float *p)
{
    if (p)
        CUDA_CHECK(cudaFree(p));
}
void cu_upload(void *vctx, float *dst, const float *src, size_t n)
{
    CUDA_CHECK(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyHostToDevice));
}
void cu_download(void *vctx, float *dst, const float *src, size_t n)
{
    CUDA_CHECK(cudaMemcpy(dst, src, n * sizeof(float), cudaMemcpyDeviceToHost));
}
void cu_zero(void *vctx, float *p, size_t n)
{
    PROF(P_ZERO);
    CUDA_CHECK(cudaMemsetAsync(p, 0, n * sizeof(float), 0));
}

void ensure_ws(cuda_ctx *c, size_t need)
{
    if (need <= c->ws_size)
        return;
    if (c->ws) {
        CUDA_CHECK(cudaFree(c->ws));
        c->ws = NULL;
    }
    CUDA_CHECK(cudaMalloc(&c->ws, need));
    c->ws_size = need;
}

/* ---- convolution -------------------------------------------------------- */

/* FFT and Winograd algorithms trade a little accuracy for speed. They are
 * allowed (as in PyTorch's cudnn.benchmark) unless cudnn_exact is set. */
bool approximate(cudnnConvolutionFwdAlgo_t a)
{
    return a == CUDNN_CONVOLUTION_FWD_ALGO_FFT || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}
bool approximate(cudnnConvolutionBwdDataAlgo_t a)
{
    return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT ||
           a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
           a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD ||
           a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
}
bool approximate(cudnnConvolutionBwdFilterAlgo_t a)
{
    return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT ||
           a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
           a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
}

template <typename P> int pick(const P *perf, int n, int exact, size_t *mem)
{
    for (int i = 0; i < n; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= WS_CAP &&
            !(exact && approximate(perf[i].algo))) {
            *mem = perf[i].memory;
            return i;
        }
    A4NN_FAIL_("cudnnFind*Algorithm", "cuDNN found no usable convolution algorithm");
    *mem = 0;
    return 0;
}

conv_entry *conv_lookup(cuda_ctx *c, const a4nn_conv_desc *d)
{
    for (int i = 0; i < c->n_convs; i++)
        if (!memcmp(&c->convs[i].d, d, sizeof *d))
            return &c->convs[i];
    if (c->n_convs == c->cap_convs) {
        c->cap_convs = c->cap_convs ? 2 * c->cap_convs : 32;
        conv_entry *grown =
            (conv_entry *)realloc(c->convs, (size_t)c->cap_convs * sizeof(conv_entry));
        if (!grown) {
            A4NN_FAIL_("realloc", "out of memory for the convolution cache");
            c->cap_convs = c->n_convs;
            return NULL;
        }
        c->convs = grown;
    }
    conv_entry *e = &c->convs[c->n_convs];
    memset(e, 0, sizeof *e);
    e->d = *d;
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&e->x));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&e->y));
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&e->b));
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&e->w));
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&e->conv));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(e->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->n,
                                           d->c_in, d->h_in, d->w_in));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(e->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d->n,
                                           d->c_out, d->h_out, d->w_out));
    CUDNN_CHECK(
        cudnnSetTensor4dDescriptor(e->b, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, d->c_out, 1, 1));
    CUDNN_CHECK(cudnnSetFilter4dDescriptor(e->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, d->c_out,
                                           d->c_in, d->k, d->k));
    CUDNN_CHECK(cudnnSetConvolution2dDescriptor(e->conv, d->pad, d->pad, 1, 1, 1, 1,
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    const cudnnMathType_t math = c->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    CUDNN_CHECK(cudnnSetConvolutionMathType(e->conv, math));
    int got = 0;
    size_t mem = 0, need = 0;
    {
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithm(c->dnn, e->x, e->w, e->conv, e->y,
                                                         CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &got,
                                                         perf));
        e->fwd = perf[pick(perf, got, c->exact_algos && !c->tf32, &mem)].algo;
        need = mem > need ? mem : need;
    }
    {
        cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(
            c->dnn, e->w, e->y, e->conv, e->x, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf));
        e->bwd_data = perf[pick(perf, got, c->exact_algos && !c->tf32, &mem)].algo;
        need = mem > need ? mem : need;
    }
    {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(
            c->dnn, e->x, e->y, e->conv, e->w, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got,
            perf));
        e->bwd_filter = perf[pick(perf, got, c->exact_algos && !c->tf32, &mem)].algo;
        need = mem > need ? mem : need;
    }
    if (c->verbose)
        fprintf(stderr, "a4nn: cuda conv n%d %dx%dx%d -> %dx%dx%d k%d p%d: fwd %d bwd-data %d "
                "bwd-filter %d, workspace %zu\n", d->n, d->c_in, d->h_in, d->w_in, d->c_out,
                d->h_out, d->w_out, d->k, d->pad, (int)e->fwd, (int)e->bwd_data,
                (int)e->bwd_filter, need);
    /* the math type stays as chosen: FMA only unless TF32 is on */
    CUDNN_CHECK(cudnnSetConvolutionMathType(e->conv, math));
    ensure_ws(c, need);
    c->n_convs++;
    return e;
}

void conv_cache_clear(cuda_ctx *c)
{
    for (int i = 0; i < c->n_convs; i++) {
        conv_entry *e = &c->convs[i];
        cudnnDestroyTensorDescriptor(e->x);
        cudnnDestroyTensorDescriptor(e->y);
        cudnnDestroyTensorDescriptor(e->b);
        cudnnDestroyFilterDescriptor(e->w);
        cudnnDestroyConvolutionDescriptor(e->conv);
    }
    c->n_convs = 0;
}

void cu_conv_forward(void *vctx, const a4nn_conv_desc *d, const float *x, const float *w,
                     const float *b, float *y)
{
    PROF(P_CONV_F);
    cuda_ctx *c = (cuda_ctx *)vctx;
    conv_entry *e = conv_lookup(c, d);
    if (!e)
        return;
    const float one = 1.f, zero = 0.f;
    CUDNN_CHECK(cudnnConvolutionForward(c->dnn, &one, e->x, x, e->w, w, e->conv, e->fwd, c->ws,
                                        c->ws_size, &zero, e->y, y));
    if (b)
        CUDNN_CHECK(cudnnAddTensor(c->dnn, &one, e->b, b, &one, e->y, y));
}

void cu_conv_backward(void *vctx, const a4nn_conv_desc *d, const float *x, const float *w,
                      const float *dy, float *dx, float *dw, float *db, int dx_accumulate)
{
    PROF(P_CONV_B);
    cuda_ctx *c = (cuda_ctx *)vctx;
    conv_entry *e = conv_lookup(c, d);
    if (!e)
        return;
    const float one = 1.f, zero = 0.f;
    CUDNN_CHECK(cudnnConvolutionBackwardFilter(c->dnn, &one, e->x, x, e->y, dy, e->conv,
                                               e->bwd_filter, c->ws, c->ws_size, &zero, e->w, dw));
    if (db)
        CUDNN_CHECK(cudnnConvolutionBackwardBias(c->dnn, &one, e->y, dy, &zero, e->b, db));
    if (dx)
        CUDNN_CHECK(cudnnConvolutionBackwardData(c->dnn, &one, e->w, w, e->y, dy, e->conv,
                                                 e->bwd_data, c->ws, c->ws_size,
                                                 dx_accumulate ? &one : &zero, e->x, dx));
}

/* ---- BatchNorm ---------------------------------------------------------- */

/* blocks per channel for the reductions: about 4 waves of the device */
int bn_blocks(int n, int ch, int hw)
{
    size_t per = ((size_t)n * hw + BN_THREADS - 1) / BN_THREADS; /* enough to cover */
    size_t want = (size_t)(1024 + ch - 1) / ch;
    size_t nb = per < want ? per : want;
    return (int)(nb ? nb : 1);
}

void bn_scratch(cuda_ctx *c, int ch, int nb)
{
    size_t need = (size_t)ch * nb * 2;
    if (need > c->bn_part_cap) {
        if (c->bn_part)
            CUDA_CHECK(cudaFree(c->bn_part));
        CUDA_CHECK(cudaMalloc((void **)&c->bn_part, need * sizeof(double)));
        c->bn_part_cap = need;
    }
    if ((size_t)ch * 3 > c->bn_coef_cap) {
        if (c->bn_coef)
            CUDA_CHECK(cudaFree(c->bn_coef));
        CUDA_CHECK(cudaMalloc((void **)&c->bn_coef, (size_t)ch * 3 * sizeof(float)));
        c->bn_coef_cap = (size_t)ch * 3;
    }
}

void bn_desc(cuda_ctx *c, int n, int ch, int hw)
{
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(c->t4, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, ch, hw, 1));
    CUDNN_CHECK(cudnnSetTensor4dDescriptor(c->tp, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, ch, 1, 1));
}

void cu_bn_forward(void *vctx, int n, int ch, int hw, const float *x, const float *gamma,
                   const float *beta, float *rmean, float *rvar, float *smean, float *sinvstd,
                   float *y, int train, float momentum, float eps)
{
    PROF(P_BN_F);
    cuda_ctx *c = (cuda_ctx *)vctx;
    if (!c->cudnn_bn) {
        const size_t total = (size_t)n * ch * hw;
        const int nb = bn_blocks(n, ch, hw);
        bn_scratch(c, ch, nb);
        if (train) {
            k_bn_stats<<<dim3(nb, ch), BN_THREADS>>>(n, ch, hw, x, c->bn_part);
            CUDA_KERNEL_CHECK();
            k_bn_stats_final<<<(ch + 127) / 128, 128>>>(n, ch, hw, nb, x, c->bn_part, gamma, beta,
                                                       rmean, rvar, smean, sinvstd, c->bn_coef,
                                                       momentum, eps);
        } else {
            k_bn_eval_coef<<<(ch + 127) / 128, 128>>>(ch, gamma, beta, rmean, rvar, c->bn_coef,
                                                     eps);
        }
        CUDA_KERNEL_CHECK();
        k_bn_apply<<<blocks_for(total), 256>>>(total, ch, hw, x, c->bn_coef, y);
        CUDA_KERNEL_CHECK();
        return;
    }
    bn_desc(c, n, ch, hw);
    const float one = 1.f, zero = 0.f;
    double e = eps < CUDNN_BN_MIN_EPSILON ? CUDNN_BN_MIN_EPSILON : eps;
    if (train)
        /* cuDNN's running variance is the unbiased one, as in PyTorch */
        CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
            c->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, c->t4, x, c->t4, y, c->tp, gamma, beta,
            momentum, rmean, rvar, e, smean, sinvstd));
    else
        CUDNN_CHECK(cudnnBatchNormalizationForwardInference(c->dnn, CUDNN_BATCHNORM_SPATIAL, &one,
                                                            &zero, c->t4, x, c->t4, y, c->tp,
                                                            gamma, beta, rmean, rvar, e));
}

void cu_bn_backward(void *vctx, int n, int ch, int hw, const float *x, const float *dy,
                    const float *gamma, const float *smean, const float *sinvstd, float *dx,
                    float *dgamma, float *dbeta)
{
    PROF(P_BN_B);
    cuda_ctx *c = (cuda_ctx *)vctx;
    if (!c->cudnn_bn) {
        const size_t total = (size_t)n * ch * hw;
        const int nb = bn_blocks(n, ch, hw);
        bn_scratch(c, ch, nb);
        k_bn_bwd_stats<<<dim3(nb, ch), BN_THREADS>>>(n, ch, hw, x, dy, smean, c->bn_part);
        CUDA_KERNEL_CHECK();
        k_bn_bwd_final<<<(ch + 127) / 128, 128>>>(n, ch, hw, nb, c->bn_part, gamma, smean,
                                                 sinvstd, dgamma, dbeta, c->bn_coef);
        CUDA_KERNEL_CHECK();
        k_bn_bwd_apply<<<blocks_for(total), 256>>>(total, ch, hw, x, dy, smean, c->bn_coef, dx);
        CUDA_KERNEL_CHECK();
        return;
    }
    bn_desc(c, n, ch, hw);
    const float one = 1.f, zero = 0.f;
    CUDNN_CHECK(cudnnBatchNormalizationBackward(c->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &one, &one,
                                                &zero, c->t4, x, c->t4, dy, c->t4, dx, c->tp,
                                                gamma, dgamma, dbeta, CUDNN_BN_MIN_EPSILON, smean,
                                                sinvstd));
}

/* ---- elementwise, pooling, linear --------------------------------------- */

void cu_relu_forward(void *vctx, size_t n, const float *x, float *y)
{
    PROF(P_RELU_F);
    k_relu_fwd<<<blocks_for(n), 256>>>(n, x, y);
    CUDA_KERNEL_CHECK();
}
void cu_relu_backward(void *vctx, size_t n, const float *y, const float *dy, float *dx)
{
    PROF(P_RELU_B);
    k_relu_bwd<<<blocks_for(n), 256>>>(n, y, dy, dx);
    CUDA_KERNEL_CHECK();
}
void cu_maxpool_forward(void *vctx, int n, int ch, int h, int w, const float *x, float *y)
{
    PROF(P_POOL_F);
    size_t total = (size_t)n * ch * (h / 2) * (w / 2);
    if (!total)
        return;
    k_maxpool_fwd<<<blocks_for(total), 256>>>(total, h, w, x, y);
    CUDA_KERNEL_CHECK();
}
void cu_maxpool_backward(void *vctx, int n, int ch, int h, int w, const float *x, const float *dy,
                         float *dx, int dx_accumulate)
{
    PROF(P_POOL_B);
    if (!dx_accumulate) /* overwritten: zero, then the same scatter */
        CUDA_CHECK(cudaMemsetAsync(dx, 0, (size_t)n * ch * h * w * sizeof(float), 0));
    size_t total = (size_t)n * ch * (h / 2) * (w / 2);
    if (!total)
        return;
    k_maxpool_bwd<<<blocks_for(total), 256>>>(total, h, w, x, dy, dx);
    CUDA_KERNEL_CHECK();
}
void cu_gap_forward(void *vctx, int n, int ch, int hw, const float *x, float *y)
{
    PROF(P_GAP_F);
    int rows = n * ch;
    k_gap_fwd<<<(rows + 7) / 8, 256>>>(rows, hw, x, y);
    CUDA_KERNEL_CHECK();
}
void cu_gap_backward(void *vctx, int n, int ch, int hw, const float *dy, float *dx)
{
    PROF(P_GAP_B);
    size_t total = (size_t)n * ch * hw;
    k_gap_bwd<<<blocks_for(total), 256>>>(total, hw, dy, dx);
    CUDA_KERNEL_CHECK();
}

void cu_linear_forward(void *vctx, int n, int in, int out, const float *x, const float *w,
                       const float *b, float *y)
{
    PROF(P_LIN_F);
    cuda_ctx *c = (cuda_ctx *)vctx;
    const float one = 1.f, zero = 0.f;
    /* column-major: y^T[out, n] = w^T... i.e. Y(out x n) = W(in x out)^T X(in x n) */
    CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, in, x, in,
                             &zero, y, out));
    if (b) {
        size_t total = (size_t)n * out;
        k_bias_rows<<<blocks_for(total), 256>>>(total, out, b, y);
        CUDA_KERNEL_CHECK();
    }
}
void cu_linear_backward(void *vctx, int n, int in, int out, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db)
{
    PROF(P_LIN_B);
    cuda_ctx *c = (cuda_ctx *)vctx;
    const float one = 1.f, zero = 0.f;
    /* dW(in x out) = X(in x n) dY(out x n)^T */
    CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy, out,
                             &zero, dw, in));
    if (dx) /* dX(in x n) += W(in x out) dY(out x n) */
        CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, w, in, dy,
                                 out, &one, dx, in));
    if (db) {
        k_col_sum<<<(out + 7) / 8, 256>>>(n, out, dy, db);
        CUDA_KERNEL_CHECK();
    }
}

void cu_concat_forward(void *vctx, int n, int c_src, int c_dst, int off, int hw, const float *src,
                       float *dst)
{
    PROF(P_CAT_F);
    size_t total = (size_t)n * c_src * hw;
    k_concat_fwd<<<blocks_for(total), 256>>>(total, c_src, c_dst, off, hw, src, dst);
    CUDA_KERNEL_CHECK();
}
void cu_concat_backward(void *vctx, int n, int c_src, int c_dst, int off, int hw,
                        const float *ddst, float *dsrc)
{
    PROF(P_CAT_B);
    size_t total = (size_t)n * c_src * hw;
    k_concat_bwd<<<blocks_for(total), 256>>>(total, c_src, c_dst, off, hw, ddst, dsrc);
    CUDA_KERNEL_CHECK();
}

void cu_softmax_xent(void *vctx, int n, int k, const float *logits, const float *labels,
                     float *dlogits, double *loss_sum, int *correct)
{
    PROF(P_SOFTMAX);
    cuda_ctx *c = (cuda_ctx *)vctx;
    k_softmax_xent<<<1, 256>>>(n, k, logits, labels, dlogits, c->d_red, c->d_cnt);
    CUDA_KERNEL_CHECK();
    CUDA_CHECK(cudaMemcpyAsync(c->h_red, c->d_red, sizeof(double), cudaMemcpyDeviceToHost, 0));
    CUDA_CHECK(cudaMemcpyAsync(c->h_cnt, c->d_cnt, sizeof(int), cudaMemcpyDeviceToHost, 0));
    CUDA_CHECK(cudaStreamSynchronize(0));
    *loss_sum = c->h_red[0];
    *correct = c->h_cnt[0];
}

double cu_sumsq(void *vctx, size_t n, const float *x)
{
    PROF(P_SUMSQ);
    cuda_ctx *c = (cuda_ctx *)vctx;
    unsigned b = blocks_for(n);
    if (b > (unsigned)RED_BLOCKS)
        b = RED_BLOCKS;
    k_sumsq_partial<<<b, 256>>>(n, x, c->d_red);
    CUDA_KERNEL_CHECK();
    k_sum_final<<<1, 256>>>((int)b, c->d_red);
    CUDA_KERNEL_CHECK();
    CUDA_CHECK(cudaMemcpyAsync(c->h_red, c->d_red + b, sizeof(double), cudaMemcpyDeviceToHost, 0));
    CUDA_CHECK(cudaStreamSynchronize(0));
    return c->h_red[0];
}

void cu_scale(void *vctx, size_t n, float *x, float s)
{
    PROF(P_SCALE);
    k_scale<<<blocks_for(n), 256>>>(n, x, s);
    CUDA_KERNEL_CHECK();
}
void cu_sgd_step(void *vctx, size_t n, float *w, const float *g, float *v, float lr, float mom,
                 float wd)
{
    PROF(P_SGD);
    k_sgd<<<blocks_for(n), 256>>>(n, w, g, v, lr, mom, wd);
    CUDA_KERNEL_CHECK();
}

void cu_gather(void *vctx, const float *images, const float *labels, const long *idx, int n,
               size_t sample, float *x, float *y)
{
    PROF(P_GATHER);
    cuda_ctx *c = (cuda_ctx *)vctx;
    if (n <= 0)
        return;
    if ((size_t)n > c->idx_cap) {
        if (c->d_idx)
            CUDA_CHECK(cudaFree(c->d_idx));
        CUDA_CHECK(cudaMalloc((void **)&c->d_idx, (size_t)n * sizeof(long)));
        c->idx_cap = (size_t)n;
    }
    /* synchronous copy: the host index array may change right after */
    CUDA_CHECK(cudaMemcpy(c->d_idx, idx, (size_t)n * sizeof(long), cudaMemcpyHostToDevice));
    unsigned bx = (unsigned)((sample + 255) / 256);
    if (bx > 64)
        bx = 64;
    dim3 grid(bx ? bx : 1, (unsigned)n);
    k_gather<<<grid, 256>>>(images, labels, c->d_idx, sample, x, y);
    CUDA_KERNEL_CHECK();
}

void cu_destroy(void *vctx)
{
    cuda_ctx *c = (cuda_ctx *)vctx;
    if (!c)
        return;
    cudaDeviceSynchronize();
    if (c->profile) {
        double total = 0;
        for (int k = 0; k < P_COUNT; k++)
            total += c->prof_s[k];
        for (int k = 0; k < P_COUNT; k++)
            if (c->prof_n[k])
                fprintf(stderr, "a4nn: cuda profile %-10s %8ld calls %9.3f s %5.1f %%\n",
                        PROF_NAMES[k], c->prof_n[k], c->prof_s[k], 100 * c->prof_s[k] / total);
    }
    conv_cache_clear(c);
    free(c->convs);
    if (c->t4)
        cudnnDestroyTensorDescriptor(c->t4);
    if (c->tp)
        cudnnDestroyTensorDescriptor(c->tp);
    if (c->dnn)
        cudnnDestroy(c->dnn);
    if (c->blas)
        cublasDestroy(c->blas);
    cudaFree(c->ws);
    cudaFree(c->d_red);
    cudaFree(c->d_cnt);
    cudaFree(c->d_idx);
    cudaFree(c->bn_part);
    cudaFree(c->bn_coef);
    cudaFreeHost(c->h_red);
    cudaFreeHost(c->h_cnt);
    free(c);
}

int ctx_init(cuda_ctx *c, int device, a4nn_error *err)
{
    int count = 0;
    CUDA_TRY(cudaGetDeviceCount(&count), err, A4NN_ERR);
    if (device < 0 || device >= count)
        return a4nn_errorf(err, "CUDA device %d does not exist (%d visible)", device, count);
    c->device = device;
    CUDA_TRY(cudaSetDevice(device), err, A4NN_ERR);
    CUDNN_TRY(cudnnCreate(&c->dnn), err, A4NN_ERR);
    CUBLAS_TRY(cublasCreate(&c->blas), err, A4NN_ERR);
    CUBLAS_TRY(cublasSetMathMode(c->blas, CUBLAS_PEDANTIC_MATH), err, A4NN_ERR);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&c->t4), err, A4NN_ERR);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&c->tp), err, A4NN_ERR);
    CUDA_TRY(cudaMalloc((void **)&c->d_red, (RED_BLOCKS + 1) * sizeof(double)), err, A4NN_ERR);
    CUDA_TRY(cudaMalloc((void **)&c->d_cnt, sizeof(int)), err, A4NN_ERR);
    CUDA_TRY(cudaMallocHost((void **)&c->h_red, sizeof(double)), err, A4NN_ERR);
    CUDA_TRY(cudaMallocHost((void **)&c->h_cnt, sizeof(int)), err, A4NN_ERR);
    return A4NN_OK;
}

int cu_status(void *vctx, a4nn_error *err)
{
    (void)vctx;
    if (cuda_failure[0])
        return a4nn_errorf(err, "cuda backend: %s", cuda_failure);
    return A4NN_OK;
}

} // namespace

extern "C" a4nn_backend *a4nn_backend_cuda_create(int device, a4nn_error *err)
{
    cuda_ctx *c = (cuda_ctx *)calloc(1, sizeof *c);
    if (!c)
        return a4nn_errorf(err, "out of memory"), (a4nn_backend *)NULL;
    if (ctx_init(c, device, err) != A4NN_OK) {
        cu_destroy(c);
        return NULL;
    }
    a4nn_backend *be = (a4nn_backend *)calloc(1, sizeof *be);
    if (!be) {
        cu_destroy(c);
        return a4nn_errorf(err, "out of memory"), (a4nn_backend *)NULL;
    }
    be->name = "cuda";
    be->caps = A4NN_BACKEND_CUDA_OPTIONS;
    be->ctx = c;
    be->status = cu_status;
    be->alloc = cu_alloc;
    be->free = cu_free;
    be->upload = cu_upload;
    be->download = cu_download;
    be->zero = cu_zero;
    be->conv_forward = cu_conv_forward;
    be->conv_backward = cu_conv_backward;
    be->bn_forward = cu_bn_forward;
    be->bn_backward = cu_bn_backward;
    be->relu_forward = cu_relu_forward;
    be->relu_backward = cu_relu_backward;
    be->maxpool_forward = cu_maxpool_forward;
    be->maxpool_backward = cu_maxpool_backward;
    be->gap_forward = cu_gap_forward;
    be->gap_backward = cu_gap_backward;
    be->linear_forward = cu_linear_forward;
    be->linear_backward = cu_linear_backward;
    be->concat_forward = cu_concat_forward;
    be->concat_backward = cu_concat_backward;
    be->softmax_xent = cu_softmax_xent;
    be->sumsq = cu_sumsq;
    be->scale = cu_scale;
    be->sgd_step = cu_sgd_step;
    be->gather = cu_gather;
    be->destroy = cu_destroy;
    return be;
}

extern "C" int a4nn_cuda_available(void)
{
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError(); /* clear the error state */
        return 0;
    }
    return count > 0;
}

extern "C" int a4nn_cuda_configure(a4nn_backend *be, const a4nn_cuda_options *o,
                                   a4nn_error *err)
{
    if (!be || !(be->caps & A4NN_BACKEND_CUDA_OPTIONS)) {
        if (o->tf32 || o->profile || o->verbose || o->cudnn_bn || o->cudnn_exact)
            return a4nn_errorf(err, "the CUDA switches (TF32, profiling, cuDNN choices) need "
                                    "the cuda backend, not %s",
                               be ? be->name : "none");
        return A4NN_OK;
    }
    cuda_ctx *c = (cuda_ctx *)be->ctx;
    c->tf32 = o->tf32 != 0;
    c->profile = o->profile != 0;
    c->verbose = o->verbose != 0;
    c->cudnn_bn = o->cudnn_bn != 0;
    c->exact_algos = o->cudnn_exact != 0;
    CUBLAS_TRY(cublasSetMathMode(c->blas,
                                 c->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH),
               err, A4NN_ERR);
    conv_cache_clear(c); /* algorithms are chosen again under the new switches */
    return A4NN_OK;
}

extern "C" int a4nn_cuda_set_tf32(a4nn_backend *be, int on, a4nn_error *err)
{
    if (!be || !(be->caps & A4NN_BACKEND_CUDA_OPTIONS))
        return a4nn_errorf(err, "TF32 needs the cuda backend, not %s", be ? be->name : "none");
    const cuda_ctx *c = (const cuda_ctx *)be->ctx;
    a4nn_cuda_options o = {on, c->profile, c->verbose, c->cudnn_bn, c->exact_algos};
    return a4nn_cuda_configure(be, &o, err);
}
