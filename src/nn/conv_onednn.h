/* oneDNN convolutions inside the CPU backend: the 3x3 convolutions of the
 * shapes where oneDNN measured faster than the direct kernels
 * (bench/README.md), on the backend table's NCHW tensors through reorders
 * to oneDNN's blocked layouts (the rule: a4nn_cpu_conv_onednn). Without
 * oneDNN in the build (A4NN_ONEDNN) create returns NULL and the CPU
 * backend runs its own kernels only. */
#ifndef A4NN_NN_CONV_ONEDNN_H
#define A4NN_NN_CONV_ONEDNN_H

#include "a4nn/nn.h"

typedef struct onednn_convs onednn_convs;

/* n_threads: the CPU backend's; oneDNN's OpenMP regions use the same. NULL
 * without oneDNN or when its engine cannot be created. */
onednn_convs *onednn_convs_create(int n_threads);
void onednn_convs_free(onednn_convs *o);

/* The backend table's semantics: y overwritten; dw overwritten, dx (may be
 * NULL) accumulates. No bias. Primitives are created once per shape and
 * kept. A4NN_ERR when oneDNN cannot run the shape (nothing written but
 * possibly y, dw: the caller runs its own kernel instead). */
int onednn_conv_forward(onednn_convs *o, const a4nn_conv_desc *d, const float *x, const float *w,
                        float *y);
int onednn_conv_backward(onednn_convs *o, const a4nn_conv_desc *d, const float *x,
                         const float *w, const float *dy, float *dx, float *dw);

#endif
