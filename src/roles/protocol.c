/* roles: the message protocol: one send and one receive per message type,
 * and the rank arithmetic every role shares. */
#include <string.h>
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

/* ---- the typed protocol ----------------------------------------------------- */
static const char *tag_name(int tag)
{
    static const char *const names[] = {"TASK", "EPOCH", "STOP", "DONE", "SHUTDOWN",
                                        "PREDICTION", "BYE", "FRONT"};
    return tag >= A4NN_TAG_TASK && tag <= A4NN_TAG_FRONT ? names[tag - A4NN_TAG_TASK] : "?";
}

/* "rank 3: MPI_Send DONE to rank 0 failed (protocol.c:NN): <MPI's reason>" */
static int mpi_fail(const a4nn_role_ctx *ctx, int rc, const char *what, int tag, int peer,
                    a4nn_error *err)
{
    char call[96];
    snprintf(call, sizeof call, "rank %d: %s %s %s rank %d", ctx->rank, what, tag_name(tag),
             !strcmp(what, "MPI_Send") ? "to" : "from", peer);
    return a4nn_mpi_error(err, rc, call, __FILE__, __LINE__);
}

static int send_bytes(const a4nn_role_ctx *ctx, const void *m, size_t size, int dest, int tag,
                      a4nn_error *err)
{
    int rc = MPI_Send(m, (int)size, MPI_BYTE, dest, tag, ctx->comm);
    return rc == MPI_SUCCESS ? A4NN_OK : mpi_fail(ctx, rc, "MPI_Send", tag, dest, err);
}

static int recv_bytes(const a4nn_role_ctx *ctx, void *m, size_t size, int src, int tag,
                      int *from, a4nn_error *err)
{
    MPI_Status st;
    int rc = MPI_Recv(m, (int)size, MPI_BYTE, src, tag, ctx->comm, &st);
    if (rc != MPI_SUCCESS)
        return mpi_fail(ctx, rc, "MPI_Recv", tag, src, err);
    if (from)
        *from = st.MPI_SOURCE;
    return A4NN_OK;
}

int a4nn_send_task(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_task *m, a4nn_error *err)
{
    return send_bytes(ctx, m, sizeof *m, dest, A4NN_TAG_TASK, err);
}

int a4nn_recv_task(const a4nn_role_ctx *ctx, int src, a4nn_msg_task *m, a4nn_error *err)
{
    if (recv_bytes(ctx, m, sizeof *m, src, A4NN_TAG_TASK, NULL, err) != A4NN_OK)
        return A4NN_ERR;
    m->genome[sizeof m->genome - 1] = '\0';
    return A4NN_OK;
}

int a4nn_send_epoch(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_epoch *m, a4nn_error *err)
{
    return send_bytes(ctx, m, sizeof *m, dest, A4NN_TAG_EPOCH, err);
}

int a4nn_recv_epoch(const a4nn_role_ctx *ctx, int src, a4nn_msg_epoch *m, int *from,
                    a4nn_error *err)
{
    return recv_bytes(ctx, m, sizeof *m, src, A4NN_TAG_EPOCH, from, err);
}

int a4nn_send_prediction(const a4nn_role_ctx *ctx, const a4nn_msg_epoch *m, a4nn_error *err)
{
    return send_bytes(ctx, m, sizeof *m, 0, A4NN_TAG_PREDICTION, err);
}

int a4nn_recv_prediction(const a4nn_role_ctx *ctx, int src, a4nn_msg_epoch *m, a4nn_error *err)
{
    return recv_bytes(ctx, m, sizeof *m, src, A4NN_TAG_PREDICTION, NULL, err);
}

int a4nn_send_stop(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_stop *m, a4nn_error *err)
{
    return send_bytes(ctx, m, sizeof *m, dest, A4NN_TAG_STOP, err);
}

int a4nn_recv_stop(const a4nn_role_ctx *ctx, int src, a4nn_msg_stop *m, a4nn_error *err)
{
    return recv_bytes(ctx, m, sizeof *m, src, A4NN_TAG_STOP, NULL, err);
}

int a4nn_send_done(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_done *m, a4nn_error *err)
{
    return send_bytes(ctx, m, sizeof *m, dest, A4NN_TAG_DONE, err);
}

int a4nn_recv_done(const a4nn_role_ctx *ctx, int src, a4nn_msg_done *m, int *from,
                   a4nn_error *err)
{
    return recv_bytes(ctx, m, sizeof *m, src, A4NN_TAG_DONE, from, err);
}

int a4nn_send_shutdown(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_shutdown *m,
                       a4nn_error *err)
{
    return send_bytes(ctx, m, sizeof *m, dest, A4NN_TAG_SHUTDOWN, err);
}

int a4nn_recv_shutdown(const a4nn_role_ctx *ctx, int src, a4nn_msg_shutdown *m, a4nn_error *err)
{
    return recv_bytes(ctx, m, sizeof *m, src, A4NN_TAG_SHUTDOWN, NULL, err);
}

int a4nn_send_bye(const a4nn_role_ctx *ctx, int dest, a4nn_error *err)
{
    int32_t who = ctx->rank;
    int rc = MPI_Send(&who, 1, MPI_INT32_T, dest, A4NN_TAG_BYE, ctx->comm);
    return rc == MPI_SUCCESS ? A4NN_OK : mpi_fail(ctx, rc, "MPI_Send", A4NN_TAG_BYE, dest, err);
}

int a4nn_recv_bye(const a4nn_role_ctx *ctx, int src, int *who, a4nn_error *err)
{
    int32_t w = -1;
    int rc = MPI_Recv(&w, 1, MPI_INT32_T, src, A4NN_TAG_BYE, ctx->comm, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS)
        return mpi_fail(ctx, rc, "MPI_Recv", A4NN_TAG_BYE, src, err);
    if (who)
        *who = w;
    return A4NN_OK;
}

int a4nn_send_front(const a4nn_role_ctx *ctx, const a4nn_msg_front *m, const double *curve,
                    a4nn_error *err)
{
    for (int a = 0; a < ctx->n_analytics; a++) {
        int dest = ctx->size - ctx->n_analytics + a, rc;
        if (send_bytes(ctx, m, sizeof *m, dest, A4NN_TAG_FRONT, err) != A4NN_OK)
            return A4NN_ERR;
        if (m->n_curve > 0 &&
            (rc = MPI_Send(curve, 2 * m->n_curve, MPI_DOUBLE, dest, A4NN_TAG_CURVE, ctx->comm)) !=
                MPI_SUCCESS)
            return mpi_fail(ctx, rc, "MPI_Send", A4NN_TAG_CURVE, dest, err);
    }
    return A4NN_OK;
}

int a4nn_recv_front(const a4nn_role_ctx *ctx, int src, a4nn_msg_front *m, double **curve,
                    a4nn_error *err)
{
    *curve = NULL;
    if (recv_bytes(ctx, m, sizeof *m, src, A4NN_TAG_FRONT, NULL, err) != A4NN_OK)
        return A4NN_ERR;
    if (m->n_curve <= 0)
        return A4NN_OK;
    *curve = a4nn_malloc(sizeof(double) * 2 * (size_t)m->n_curve);
    int rc = MPI_Recv(*curve, 2 * m->n_curve, MPI_DOUBLE, src, A4NN_TAG_CURVE, ctx->comm,
                      MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) {
        free(*curve);
        *curve = NULL;
        return mpi_fail(ctx, rc, "MPI_Recv", A4NN_TAG_CURVE, src, err);
    }
    return A4NN_OK;
}

int a4nn_probe(const a4nn_role_ctx *ctx, int src, int tag, int *flag, int *from, int *tag_out,
               a4nn_error *err)
{
    MPI_Status st;
    int rc = MPI_Iprobe(src, tag, ctx->comm, flag, &st);
    if (rc != MPI_SUCCESS)
        return mpi_fail(ctx, rc, "MPI_Iprobe", tag, src, err);
    if (*flag && from)
        *from = st.MPI_SOURCE;
    if (*flag && tag_out)
        *tag_out = st.MPI_TAG;
    return A4NN_OK;
}
