#include <math.h>

#include "xfel_kernel.h"

/* exp(i phi) for phi of any size: phi = 2 pi n + t with |t| <= pi (Cody and
 * Waite's two-part 2 pi keeps t exact to float rounding), then the sine and
 * cosine of h = t / 2 from their Taylor series (|h| <= pi / 2: truncation
 * error below 6e-8) and the double-angle formulas. One range reduction
 * serves both, and without branches the loop vectorises. */
#define INV_2PI 0.15915494309189535f
#define TWO_PI_HI 6.28125f                   /* few bits: n * TWO_PI_HI is exact */
#define TWO_PI_LO 1.9353071795864769253e-3f /* 2 pi - TWO_PI_HI */

void a4nn_structure_sum(float qx, float qy, float qz, const float *x, const float *y,
                        const float *z, int n, float *re, float *im)
{
    float sr = 0, si = 0;
#pragma omp simd reduction(+ : sr, si)
    for (int j = 0; j < n; j++) {
        float ph = qx * x[j] + qy * y[j] + qz * z[j];
        float k = floorf(ph * INV_2PI + 0.5f);
        float h = 0.5f * ((ph - k * TWO_PI_HI) - k * TWO_PI_LO), h2 = h * h;
        float s = h * (1 + h2 * (-1.0f / 6 + h2 * (1.0f / 120 + h2 * (-1.0f / 5040 +
                  h2 * (1.0f / 362880 + h2 * (-1.0f / 39916800))))));
        float c = 1 + h2 * (-0.5f + h2 * (1.0f / 24 + h2 * (-1.0f / 720 + h2 * (1.0f / 40320 +
                  h2 * (-1.0f / 3628800 + h2 * (1.0f / 479001600))))));
        sr += c * c - s * s;
        si += 2 * s * c;
    }
    *re = sr;
    *im = si;
}

/* The previous kernel, kept as the benchmark's baseline: two loops, one for
 * cosines and one for sines (in one loop GCC fuses sinf and cosf into a
 * scalar sincosf call; apart each vectorises into libmvec's SIMD versions). */
void a4nn_structure_sum_libmvec(float qx, float qy, float qz, const float *x, const float *y,
                                const float *z, int n, float *re, float *im)
{
    float sr = 0, si = 0;
#pragma omp simd reduction(+ : sr)
    for (int j = 0; j < n; j++)
        sr += cosf(qx * x[j] + qy * y[j] + qz * z[j]);
#pragma omp simd reduction(+ : si)
    for (int j = 0; j < n; j++)
        si += sinf(qx * x[j] + qy * y[j] + qz * z[j]);
    *re = sr;
    *im = si;
}
