#include <math.h>

#include "xfel_kernel.h"

/* Two loops, one for cosines and one for sines: with sinf and cosf of the
 * same argument in one loop GCC fuses them into a scalar sincosf call, while
 * apart each vectorises into libmvec's SIMD versions. */
void a4nn_structure_sum(float qx, float qy, float qz, const float *x, const float *y,
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
