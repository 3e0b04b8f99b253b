/* roles: where a worker's epochs come from (private to src/roles). The worker
 * role asks "run the next epoch of this model, give me its accuracy" and does
 * not know whether the answer is trained (cpu, cuda, a worker group) or
 * replayed from recorded learning curves. A new source is one file that fills
 * an epoch_source_type, chosen in epoch_source_open (source_train.c). */
#ifndef A4NN_EPOCH_SOURCE_H
#define A4NN_EPOCH_SOURCE_H

#include "a4nn/commons.h"
#include "a4nn/gpu.h"
#include "a4nn/nn.h"
#include "a4nn/roles.h"
#include "a4nn/search.h"

typedef struct epoch_source epoch_source;

typedef struct {
    const char *name;
    /* Prepares model task (network arch, input src->input) for epoch 0. */
    int (*begin)(epoch_source *src, const a4nn_msg_task *task, const a4nn_arch *arch,
                 a4nn_error *err);
    /* Floats of the state a checkpoint keeps (0: the epoch number is all). */
    size_t (*state_size)(epoch_source *src);
    void (*state_save)(epoch_source *src, int next_epoch, float *state);
    int (*state_load)(epoch_source *src, const float *state, size_t n, int *next_epoch,
                      a4nn_error *err);
    /* Runs epoch e into row; should_stop(arg) is polled as it goes, and when
     * it cuts the epoch short *stopped is set (the row is not valid). */
    int (*epoch)(epoch_source *src, int e, int (*should_stop)(void *), void *arg,
                 a4nn_epoch_row *row, int *stopped, a4nn_error *err);
    void (*end)(epoch_source *src); /* the model is done */
    void (*free)(epoch_source *src);
} epoch_source_type;

struct epoch_source {
    const epoch_source_type *type;
    a4nn_shape input;   /* of the models' networks: the dataset's (or the recorded one) */
    a4nn_group *group;  /* the worker group this rank trains in, or NULL */
    void *state;
};

/* The source of this job's workers (worker.backend); collective over the
 * worker ranks for the training backends. */
int epoch_source_open(const a4nn_role_ctx *ctx, epoch_source **out, a4nn_error *err);
void epoch_source_free(epoch_source *src);

extern const epoch_source_type epoch_source_train;  /* cpu, cuda, worker groups */
extern const epoch_source_type epoch_source_replay; /* recorded learning curves */
int epoch_source_replay_open(const a4nn_role_ctx *ctx, epoch_source *src, a4nn_error *err);
int epoch_source_train_open(const a4nn_role_ctx *ctx, epoch_source *src, a4nn_error *err);

#endif
