/* The CPU backend's vector basics, shared by its direct and Winograd
 * convolution kernels: GCC vector types of the widest registers the build
 * targets, and weights packed in blocks of DCO output channels (the
 * register blocks of both kernels). */
#ifndef A4NN_NN_CPU_SIMD_H
#define A4NN_NN_CPU_SIMD_H

#include <stddef.h>
#include <string.h>

#ifdef __AVX512F__ /* 32 vector registers of 16 floats */
enum { VL = 16, DCO = 8 };
#else
enum { VL = 8, DCO = 4 };
#endif
#ifndef __AVX__
/* a portable build (ARCH= , SSE only) emulates the 8-float vectors with two
 * SSE registers; GCC then warns that passing them by value has no AVX ABI.
 * These helpers are static inline and never cross a translation unit, so
 * no caller can disagree with the ABI. */
#pragma GCC diagnostic ignored "-Wpsabi"
#endif
typedef float vecf __attribute__((vector_size(VL * sizeof(float))));

static inline vecf loadv(const float *p)
{
    vecf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void storev(float *p, vecf v) { memcpy(p, &v, sizeof v); }

/* the sum of a vector's lanes, in lane order */
static inline float hsumv(vecf v)
{
    float s = 0;
    for (int l = 0; l < VL; l++)
        s += v[l];
    return s;
}

static inline size_t round_dco(int c) { return (size_t)(c + DCO - 1) / DCO * DCO; }

/* w [co][c][kk] -> blocks of DCO output channels: pk[cb][c][kk][DCO], zero-filled */
static inline void pack_weights(const float *w, int co, int c, int kk, float *pk)
{
    for (int cb = 0; cb < co; cb += DCO)
        for (int ci = 0; ci < c; ci++)
            for (int t = 0; t < kk; t++)
                for (int j = 0; j < DCO; j++)
                    pk[(((size_t)cb * c + (size_t)ci * DCO) * kk) + (size_t)t * DCO + j] =
                        cb + j < co ? w[((size_t)(cb + j) * c + ci) * kk + t] : 0.0f;
}

#endif
