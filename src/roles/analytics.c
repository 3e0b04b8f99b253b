/* roles: the analytics rank. PENGUIN per model (models sharded by id): sends
 * STOP to the worker once the policy says so, and every epoch with its
 * prediction, then the completed DONE, to the search. The search's FRONTs
 * bring the finished models and, for those trained to the budget, their
 * curves, on which a population-informed policy calibrates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/penguin.h"
#include "a4nn/roles.h"

typedef struct {
    int active;
    int stopped, stop_epoch;
    int worker;
    double seconds;
    a4nn_penguin_model pm;
    int has_pred;
    double last_pred;
} model_state;

typedef struct {
    model_state **m;
    int cap;
} model_table;

static model_state *get_model(model_table *t, int id)
{
    if (id >= t->cap) {
        int cap = t->cap ? t->cap : 64;
        while (cap <= id)
            cap *= 2;
        t->m = a4nn_realloc(t->m, (size_t)cap * sizeof *t->m);
        memset(t->m + t->cap, 0, (size_t)(cap - t->cap) * sizeof *t->m);
        t->cap = cap;
    }
    if (!t->m[id]) {
        t->m[id] = a4nn_calloc(1, sizeof **t->m);
        a4nn_penguin_model_init(&t->m[id]->pm);
    }
    return t->m[id];
}

static void drop_model(model_table *t, int id)
{
    if (id < t->cap) {
        free(t->m[id]);
        t->m[id] = NULL;
    }
}

/* Receives one FRONT from the search (blocking) into the front, and the
 * curve that follows it into the policy's population. */
static int recv_front(const a4nn_role_ctx *ctx, a4nn_penguin *pg, a4nn_front *front,
                      int *n_front, int *front_end, a4nn_error *err)
{
    a4nn_msg_front f;
    double *curve;
    if (a4nn_recv_front(ctx, 0, &f, &curve, err) != A4NN_OK)
        return A4NN_ERR;
    if (curve && pg)
        a4nn_penguin_learn(pg, curve, curve + f.n_curve, f.n_curve, f.mflops);
    free(curve);
    if (f.end) {
        *front_end = 1;
        return A4NN_OK;
    }
    (*n_front)++;
    if (isfinite(f.fitness))
        a4nn_front_add(front, f.mflops, f.fitness);
    return A4NN_OK;
}

int a4nn_role_analytics(const a4nn_role_ctx *ctx, a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    a4nn_penguin_config pc;
    if (a4nn_config_penguin(cfg, &pc, err) != A4NN_OK)
        return A4NN_ERR;
    a4nn_curve_registry *reg = NULL;
    a4nn_penguin *pg = NULL;
    if (cfg->penguin) {
        reg = a4nn_curve_registry_alloc();
        pg = a4nn_penguin_alloc(&pc, reg, err);
        if (!pg) {
            a4nn_curve_registry_free(reg);
            return A4NN_ERR;
        }
    }
    model_table tab = {0};
    a4nn_front front;
    a4nn_front_init(&front);
    int byes = 0, front_end = 0, n_front = 0, rc = A4NN_OK;
    double nap = 1e-4;
    while (byes < ctx->n_workers || !front_end) {
        int flag = 0, src = -1, tag = -1;
        if ((rc = a4nn_probe(ctx, MPI_ANY_SOURCE, MPI_ANY_TAG, &flag, &src, &tag, err)) != A4NN_OK)
            break;
        if (!flag) {
            a4nn_role_nap(nap);
            nap = nap < 0.002 ? nap * 2 : 0.002;
            continue;
        }
        nap = 1e-4;
        if (tag == A4NN_TAG_BYE) {
            if ((rc = a4nn_recv_bye(ctx, src, NULL, err)) != A4NN_OK)
                break;
            byes++;
        } else if (tag == A4NN_TAG_FRONT) {
            if ((rc = recv_front(ctx, pg, &front, &n_front, &front_end, err)) != A4NN_OK)
                break;
        } else if (tag == A4NN_TAG_EPOCH) {
            a4nn_msg_epoch m;
            if ((rc = a4nn_recv_epoch(ctx, src, &m, NULL, err)) != A4NN_OK)
                break;
            if (m.model_id < 0) {
                rc = a4nn_errorf(err, "analytics %d: bad model id %d", ctx->rank, m.model_id);
                break;
            }
            /* the front this model is judged against: every FRONT the search
             * had sent when it dispatched the model (already on its way) */
            while (rc == A4NN_OK && n_front < m.front_version && !front_end)
                rc = recv_front(ctx, pg, &front, &n_front, &front_end, err);
            if (rc != A4NN_OK)
                break;
            model_state *ms = get_model(&tab, m.model_id);
            ms->worker = src;
            if (ms->stopped || m.epoch != ms->pm.n)
                continue; /* after a STOP, or a repeat: not part of the curve */
            ms->seconds += m.seconds;
            m.has_prediction = 0;
            m.converged = 0;
            m.prediction = m.uncertainty = NAN;
            if (pg) {
                a4nn_penguin_decision d;
                const a4nn_penguin_epoch ep = {m.epoch, m.val_acc, m.train_acc, m.mflops};
                if (a4nn_penguin_observe(pg, &ms->pm, &ep, &front, &d, err) != A4NN_OK) {
                    rc = A4NN_ERR;
                    break;
                }
                m.has_prediction = d.has_prediction;
                m.converged = d.converged;
                m.prediction = d.prediction;
                m.uncertainty = d.sigma;
                if (d.has_prediction) {
                    ms->has_pred = 1;
                    ms->last_pred = d.prediction;
                }
                if (d.stop && m.epoch + 1 < m.epoch_budget) {
                    ms->stopped = 1;
                    ms->stop_epoch = m.epoch;
                    a4nn_msg_stop s = {m.model_id, m.epoch, d.fitness};
                    if ((rc = a4nn_send_stop(ctx, src, &s, err)) != A4NN_OK)
                        break;
                }
            } else {
                ms->pm.acc[ms->pm.n] = m.val_acc;
                ms->pm.n++;
            }
            if ((rc = a4nn_send_prediction(ctx, &m, err)) != A4NN_OK)
                break;
        } else if (tag == A4NN_TAG_DONE) {
            a4nn_msg_done d;
            if ((rc = a4nn_recv_done(ctx, src, &d, NULL, err)) != A4NN_OK)
                break;
            model_state *ms = get_model(&tab, d.model_id);
            int n = ms->pm.n;
            if (ms->stopped)
                d.reason = A4NN_STOP_CONVERGED;
            else if (d.reason != A4NN_STOP_INTERRUPTED)
                d.reason = n >= d.epoch_budget ? A4NN_STOP_BUDGET : A4NN_STOP_INTERRUPTED;
            d.epochs_trained = n;
            d.last_val_acc = n ? ms->pm.acc[n - 1] : NAN;
            d.fitness = pg ? a4nn_penguin_fitness(&ms->pm) : d.last_val_acc;
            d.has_prediction = ms->has_pred;
            d.prediction = ms->has_pred ? ms->last_pred : NAN;
            d.seconds = ms->seconds;
            drop_model(&tab, d.model_id);
            if ((rc = a4nn_send_done(ctx, 0, &d, err)) != A4NN_OK)
                break;
        } else {
            rc = a4nn_errorf(err, "analytics %d: unexpected message tag %d from rank %d",
                             ctx->rank, tag, src);
            break;
        }
    }
    if (rc == A4NN_OK)
        rc = a4nn_send_bye(ctx, 0, err);
    a4nn_front_free(&front);
    for (int i = 0; i < tab.cap; i++)
        free(tab.m[i]);
    free(tab.m);
    a4nn_penguin_free(pg);
    if (reg)
        a4nn_curve_registry_free(reg);
    return rc;
}
