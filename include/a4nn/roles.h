/* roles: the three MPI roles of `a4nn run` and their message protocol.
 *
 *   rank 0                      search (NSGA-II), the only writer of the commons
 *   ranks 1 .. size-A-1         workers: train (cpu/cuda) or replay a genome
 *   ranks size-A .. size-1      analytics (A = analytics.ranks): PENGUIN per
 *                               model, models sharded by id % A
 *
 * Workers form groups of G = worker.group_size consecutive ranks that train
 * one model together (data parallel). The first rank of a group, its leader,
 * is "the worker" of the protocol: it gets the TASKs and SHUTDOWN, sends the
 * EPOCHs, DONEs and BYEs, receives the STOPs and writes the checkpoints; it
 * passes TASK and SHUTDOWN on to the group and decides with it, batch by
 * batch, when to stop. With G = 1 every worker rank is a leader.
 *
 * Flow of one model: search --TASK--> worker --EPOCH...--> analytics
 * --PREDICTION (the epoch with its prediction)--> search; analytics --STOP-->
 * worker once the prediction has converged; worker --DONE--> analytics, which
 * completes it (fitness, epochs counted up to the stop) and forwards it to the
 * search. Messages from one sender arrive in order, so the search sees every
 * epoch of a model before its DONE. At the end the search sends SHUTDOWN to
 * the workers, each worker sends BYE to every analytics rank, and each
 * analytics rank sends BYE to the search once all workers said so and the
 * search has sent its last FRONT (the fitness of every finished model goes to
 * every analytics rank, so the pareto policy sees the whole current front:
 * as each model finishes in asynchronous mode, at each generation barrier in
 * generational mode). A FRONT of a model that trained to the budget is
 * followed by its learning curve (CURVE, the validation accuracies as
 * doubles): the front policy calibrates on the curves of the models finished
 * before a model was dispatched, on every analytics rank alike.
 *
 * Every message is a fixed struct sent as bytes (one binary on one kind of
 * node). Waiting ranks poll with MPI_Iprobe and short sleeps, never spin. */
#ifndef A4NN_ROLES_H
#define A4NN_ROLES_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <mpi.h>

#include "a4nn/config.h"
#include "a4nn/util.h"

enum {
    A4NN_TAG_TASK = 601,
    A4NN_TAG_EPOCH,
    A4NN_TAG_STOP,
    A4NN_TAG_DONE,
    A4NN_TAG_SHUTDOWN,
    A4NN_TAG_PREDICTION,
    A4NN_TAG_BYE,
    A4NN_TAG_FRONT,
    A4NN_TAG_CURVE
};

enum { A4NN_STOP_BUDGET = 0, A4NN_STOP_CONVERGED = 1, A4NN_STOP_INTERRUPTED = 2 };
const char *a4nn_stop_reason_name(int reason);

#define A4NN_GENOME_TEXT 256

/* epoch_budget: the model's epochs at most; the search sets it from
 * train.epochs, and the worker and the analytics rank take it from here.
 * front_version: how many FRONT messages the search had sent when it
 * dispatched the task. The analytics rank decides on the model's epochs only
 * once it has received that many, so in generational mode (where FRONTs go
 * out at the generation barrier) every model is judged against the front of
 * the generations before it, whatever the number of workers and timing. */
typedef struct {
    int32_t model_id, epoch_budget, front_version;
    uint64_t seed;
    char genome[A4NN_GENOME_TEXT];
} a4nn_msg_task;

/* EPOCH (worker -> analytics) and PREDICTION (analytics -> search);
 * epoch_budget: the TASK's, which the analytics rank judges the model by */
typedef struct {
    int32_t model_id, epoch, worker, replayed, front_version, epoch_budget;
    double train_acc, val_acc, loss, seconds, mflops;
    int32_t has_prediction, converged;
    double prediction, uncertainty;
} a4nn_msg_epoch;

typedef struct {
    int32_t model_id, epoch;
    double predicted;
} a4nn_msg_stop;

/* epochs_trained: epochs of the learning curve, up to the STOP decision;
 * epochs_run: epochs the worker actually trained (more when a STOP arrived
 * while it was already in the next epoch). */
typedef struct {
    int32_t model_id, worker, epochs_trained, epochs_run, reason, has_prediction, epoch_budget;
    double fitness, prediction, mflops, last_val_acc, seconds, start_time, end_time;
    int64_t params;
} a4nn_msg_done;

typedef struct {
    int32_t interrupt;
} a4nn_msg_shutdown;

/* FRONT (search -> every analytics rank): a finished model's (MFLOPs,
 * fitness), for the pareto and front stopping policies; end = 1 is the last
 * FRONT. n_curve > 0: the model trained to the budget and a CURVE of
 * 2 n_curve doubles follows: its validation accuracies, then its training
 * accuracies. */
typedef struct {
    int32_t end, n_curve;
    double mflops, fitness;
} a4nn_msg_front;

/* What every role needs to know about the job. */
typedef struct {
    MPI_Comm comm;
    int rank, size;
    int n_workers, n_analytics; /* worker groups; their leaders: a4nn_worker_rank */
    int group_size;             /* worker ranks per group */
    MPI_Comm workers;           /* the worker ranks (MPI_COMM_NULL elsewhere) */
    const a4nn_config *cfg;
    const char *dir;     /* run directory */
    int resume;          /* continue the run in dir */
    volatile sig_atomic_t *interrupted; /* set by SIGTERM/SIGUSR1 */
    FILE *log;           /* rank 0: progress also goes here (may be NULL) */
    int quiet;           /* rank 0: no progress lines on stdout */
} a4nn_role_ctx;

/* Rank of the analytics rank that owns model id. */
int a4nn_analytics_rank(const a4nn_role_ctx *ctx, int model_id);
/* Rank of the leader of worker group w (0 .. n_workers-1); the group, 0 ..
 * n_workers-1, that a leader rank leads, or -1 for any other rank. */
int a4nn_worker_rank(const a4nn_role_ctx *ctx, int w);
int a4nn_worker_index(const a4nn_role_ctx *ctx, int rank);

/* Run one role to the end. Return A4NN_OK, A4NN_ERR (err filled), or, for the
 * search and workers, 1 when the run was interrupted (resumable). */
int a4nn_role_search(const a4nn_role_ctx *ctx, a4nn_error *err);
int a4nn_role_worker(const a4nn_role_ctx *ctx, a4nn_error *err);
int a4nn_role_analytics(const a4nn_role_ctx *ctx, a4nn_error *err);

/* ---- the typed protocol: one send and one receive per message -----------
 * Every function returns A4NN_OK or A4NN_ERR with err naming the message,
 * the peer and MPI's own reason. A receive takes the source (or
 * MPI_ANY_SOURCE) and writes the sender to *from when from is non-NULL. */
int a4nn_send_task(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_task *m, a4nn_error *err);
int a4nn_recv_task(const a4nn_role_ctx *ctx, int src, a4nn_msg_task *m, a4nn_error *err);
int a4nn_send_epoch(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_epoch *m, a4nn_error *err);
int a4nn_recv_epoch(const a4nn_role_ctx *ctx, int src, a4nn_msg_epoch *m, int *from,
                    a4nn_error *err);
int a4nn_send_prediction(const a4nn_role_ctx *ctx, const a4nn_msg_epoch *m, a4nn_error *err);
int a4nn_recv_prediction(const a4nn_role_ctx *ctx, int src, a4nn_msg_epoch *m, a4nn_error *err);
int a4nn_send_stop(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_stop *m, a4nn_error *err);
int a4nn_recv_stop(const a4nn_role_ctx *ctx, int src, a4nn_msg_stop *m, a4nn_error *err);
int a4nn_send_done(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_done *m, a4nn_error *err);
int a4nn_recv_done(const a4nn_role_ctx *ctx, int src, a4nn_msg_done *m, int *from,
                   a4nn_error *err);
int a4nn_send_shutdown(const a4nn_role_ctx *ctx, int dest, const a4nn_msg_shutdown *m,
                       a4nn_error *err);
int a4nn_recv_shutdown(const a4nn_role_ctx *ctx, int src, a4nn_msg_shutdown *m, a4nn_error *err);
/* BYE carries the sender's rank */
int a4nn_send_bye(const a4nn_role_ctx *ctx, int dest, a4nn_error *err);
int a4nn_recv_bye(const a4nn_role_ctx *ctx, int src, int *who, a4nn_error *err);

/* FRONT to every analytics rank, with the 2 n_curve accuracies of curve
 * (validation, then training) after it; receiving allocates *curve (NULL
 * when n_curve is 0; the caller frees). */
int a4nn_send_front(const a4nn_role_ctx *ctx, const a4nn_msg_front *m, const double *curve,
                    a4nn_error *err);
int a4nn_recv_front(const a4nn_role_ctx *ctx, int src, a4nn_msg_front *m, double **curve,
                    a4nn_error *err);
/* Whether a message from src (or MPI_ANY_SOURCE) with tag (or MPI_ANY_TAG)
 * is waiting: *flag, and its source and tag. */
int a4nn_probe(const a4nn_role_ctx *ctx, int src, int tag, int *flag, int *from, int *tag_out,
               a4nn_error *err);

/* Sleeps a short while (polling back-off), in seconds. */
void a4nn_role_nap(double seconds);

#endif
