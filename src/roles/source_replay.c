/* roles: the replay epoch source. A model replays the recorded learning curve
 * its genome maps to (a4nn_curves_pick); an epoch takes
 * worker.replay_epoch_seconds, in proportion to the recorded model's MFLOPs,
 * so the search, analytics and protocol run at hundreds of ranks on one node. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/penguin.h"
#include "epoch_source.h"

typedef struct {
    const a4nn_config *cfg;
    a4nn_curve_set curves;
    double mean_mflops; /* of the recorded curves */
    const a4nn_curve_record *curve; /* of the current model */
} replay_state;

int epoch_source_replay_open(const a4nn_role_ctx *ctx, epoch_source *src, a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    replay_state *r = a4nn_calloc(1, sizeof *r);
    src->type = &epoch_source_replay;
    src->state = r;
    /* the curves were recorded on the original experiments' patterns */
    src->input = (a4nn_shape){1, A4NN_REFERENCE_SIDE, A4NN_REFERENCE_SIDE};
    r->cfg = cfg;
    if (a4nn_curves_read(cfg->replay_curves, &r->curves, err) != A4NN_OK)
        return A4NN_ERR;
    if (r->curves.n_models < 1)
        return a4nn_errorf(err, "replay: %s holds no curves", cfg->replay_curves);
    double sum = 0;
    int n = 0;
    for (int i = 0; i < r->curves.n_models; i++)
        if (isfinite(r->curves.models[i].mflops) && r->curves.models[i].mflops > 0)
            sum += r->curves.models[i].mflops, n++;
    r->mean_mflops = n ? sum / n : NAN;
    return A4NN_OK;
}

static int replay_begin(epoch_source *src, const a4nn_msg_task *task, const a4nn_arch *arch,
                        a4nn_error *err)
{
    replay_state *r = src->state;
    r->curve = &r->curves.models[a4nn_curves_pick(&r->curves, task->genome)];
    if (r->curve->n_epochs < 1)
        return a4nn_errorf(err, "replay: an empty curve in %s", r->cfg->replay_curves);
    return A4NN_OK;
}

static size_t replay_state_size(epoch_source *src) { return 0; }

static void replay_state_save(epoch_source *src, int next_epoch, float *state) {}

static int replay_state_load(epoch_source *src, const float *state, size_t n, int *next_epoch,
                             a4nn_error *err)
{
    return A4NN_OK; /* the checkpoint's epoch count is the whole state */
}

static int replay_epoch(epoch_source *src, int e, int (*should_stop)(void *), void *arg,
                        a4nn_epoch_row *row, int *stopped, a4nn_error *err)
{
    replay_state *r = src->state;
    const a4nn_curve_record *curve = r->curve;
    double length = r->cfg->replay_epoch_seconds;
    if (isfinite(curve->mflops) && curve->mflops > 0 && isfinite(r->mean_mflops))
        length *= curve->mflops / r->mean_mflops;
    double t0 = a4nn_now(), left = length;
    *stopped = 0;
    while (left > 0) {
        a4nn_role_nap(left < 0.005 ? left : 0.005);
        left = length - (a4nn_now() - t0);
        if (should_stop(arg)) {
            *stopped = 1;
            return A4NN_OK;
        }
    }
    int k = e < curve->n_epochs ? e : curve->n_epochs - 1;
    *row = (a4nn_epoch_row){.epoch = e, .train_acc = curve->train_acc[k],
                            .val_acc = curve->val_acc[k], .loss = NAN,
                            .seconds = a4nn_now() - t0};
    return A4NN_OK;
}

static void replay_end(epoch_source *src) { ((replay_state *)src->state)->curve = NULL; }

static void replay_free(epoch_source *src)
{
    replay_state *r = src->state;
    if (r)
        a4nn_curves_free(&r->curves);
    free(r);
}

const epoch_source_type epoch_source_replay = {
    .name = "replay",
    .begin = replay_begin,
    .state_size = replay_state_size,
    .state_save = replay_state_save,
    .state_load = replay_state_load,
    .epoch = replay_epoch,
    .end = replay_end,
    .free = replay_free,
};
