/* roles: shared helpers of the message protocol. */
#include <time.h>

#include "a4nn/roles.h"

const char *a4nn_stop_reason_name(int reason)
{
    switch (reason) {
    case A4NN_STOP_BUDGET: return "budget";
    case A4NN_STOP_CONVERGED: return "converged";
    case A4NN_STOP_INTERRUPTED: return "interrupted";
    }
    return "unknown";
}

int a4nn_analytics_rank(const a4nn_role_ctx *ctx, int model_id)
{
    return ctx->size - ctx->n_analytics + (model_id % ctx->n_analytics);
}

int a4nn_worker_rank(const a4nn_role_ctx *ctx, int w)
{
    return 1 + w * ctx->group_size;
}

int a4nn_worker_index(const a4nn_role_ctx *ctx, int rank)
{
    if (rank < 1 || (rank - 1) % ctx->group_size)
        return -1;
    int w = (rank - 1) / ctx->group_size;
    return w < ctx->n_workers ? w : -1;
}

void a4nn_role_nap(double seconds)
{
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
}
