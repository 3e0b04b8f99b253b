/* The hot loop of the simulator, compiled on its own with -ffast-math so
 * that GCC vectorises it. */
#ifndef A4NN_XFEL_KERNEL_H
#define A4NN_XFEL_KERNEL_H

/* re + i im = sum_j exp(i q . r_j) over n scatterers (structure-factor sum):
 * one shared range reduction and polynomials for sine and cosine */
void a4nn_structure_sum(float qx, float qy, float qz, const float *x, const float *y,
                        const float *z, int n, float *re, float *im);
/* the same through glibc's SIMD sinf and cosf (libmvec): the previous kernel */
void a4nn_structure_sum_libmvec(float qx, float qy, float qz, const float *x, const float *y,
                                const float *z, int n, float *re, float *im);

#endif
