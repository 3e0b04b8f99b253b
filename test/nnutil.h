/* Helpers of the tests of the network module's CPU kernels. */
#ifndef A4NN_TEST_NNUTIL_H
#define A4NN_TEST_NNUTIL_H

#include "testutil.h"

#include "a4nn/nn.h"

/* n standard normal floats (malloc'd) */
static inline float *randn(size_t n, a4nn_rng *r)
{
    float *p = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        p[i] = (float)a4nn_rng_normal(r);
    return p;
}

/* a CPU backend of the given threads running the kernels k */
static inline a4nn_backend *cpu_backend(int threads, a4nn_cpu_kernels k)
{
    a4nn_error err;
    a4nn_backend *be = a4nn_backend_cpu_create(threads, &err);
    assert_non_null(be);
    a4nn_backend_cpu_kernels(be, k);
    return be;
}

#endif
