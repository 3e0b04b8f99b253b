/* app: a trained network as a file (format "a4nn-model", HDF5), written by
 * `a4nn train --save` and `a4nn export --format pytorch`, read by
 * `a4nn predict` and by the exported Python module (a4nn_model.py):
 *
 *   attributes  format = "a4nn-model", version, genome, n_phases, n_nodes,
 *               init_channels, in_c, in_h, in_w, n_classes, output (tensor id
 *               of the logits), bn_eps, model_id and epochs (-1: unknown)
 *   ops         int32 [n_ops, 6 + A4NN_MAX_OP_INPUTS]: kind (a4nn_op_kind),
 *               n_in, out, kernel, pad, bias, in[...]
 *   tensors     int32 [n_tensors, 3]: c, h, w
 *   params      float32: every parameter in operation order (nn module layout)
 *   buffers     float32: BatchNorm running means and variances */
#ifndef A4NN_APP_MODEL_H
#define A4NN_APP_MODEL_H

#include <stddef.h>

#include "a4nn/nn.h"
#include "a4nn/search.h"

typedef struct {
    char genome[256];
    int n_phases, n_nodes, init_channels, in_c, in_h, in_w, n_classes;
    int model_id, epochs; /* -1: unknown */
    size_t n_params, n_buffers;
    float *params, *buffers; /* host copies */
} app_model;

/* Fills m's weights from a network (host copies; m's other fields are the
 * caller's). */
void app_model_take_weights(app_model *m, a4nn_net *net);
int app_model_write(const char *path, const app_model *m, a4nn_error *err);
int app_model_read(const char *path, app_model *m, a4nn_error *err);
void app_model_free(app_model *m);
/* Builds m's network on be for batches of up to batch images, with m's
 * weights; arch is filled (caller-owned, it must outlive the network). */
a4nn_net *app_model_net(const app_model *m, a4nn_backend *be, int batch, a4nn_arch *arch,
                        a4nn_error *err);

/* a4nn_model.py as text chunks (NULL-terminated). */
extern const char *const app_pytorch_module[];

#endif
