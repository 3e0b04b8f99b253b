/* Replay of recorded learning curves through a policy, as the analytics rank
 * would see them during a search, and the figures that judge the policy. */
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <string.h>

#include "penguin_internal.h"

double a4nn_spearman(const double *x, const double *y, int n)
{
    if (n < 2)
        return NAN;
    double *work = a4nn_malloc(sizeof(double) * 2 * (size_t)n);
    /* GSL ranks ties by their average rank, then takes Pearson's r */
    double r = gsl_stats_spearman(x, 1, y, 1, (size_t)n, work);
    free(work);
    return r;
}

/* on_front[i] = 1 when model i is non-dominated in (acc up, MFLOPs down) */
static void front_of(int n, const double *acc, const double *mflops, int *on_front)
{
    for (int i = 0; i < n; i++) {
        on_front[i] = isfinite(mflops[i]) && isfinite(acc[i]);
        for (int j = 0; j < n && on_front[i]; j++)
            if (j != i && isfinite(mflops[j]) && isfinite(acc[j]) &&
                a4nn_penguin_dominates(mflops[j], acc[j], mflops[i], acc[i]))
                on_front[i] = 0;
    }
}

void a4nn_replay_metrics(int n, const double *final, const double *fitness, const double *mflops,
                         const int *converged, long epochs_used, long epochs_budget,
                         a4nn_replay_summary *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->epochs_saved_pct =
        epochs_budget ? 100.0 * (1.0 - (double)epochs_used / (double)epochs_budget) : 0;
    sum->rho = a4nn_spearman(fitness, final, n);
    int *on_true = a4nn_malloc(sizeof(int) * (size_t)(n ? n : 1));
    int *on_policy = a4nn_malloc(sizeof(int) * (size_t)(n ? n : 1));
    front_of(n, final, mflops, on_true);
    front_of(n, fitness, mflops, on_policy);
    for (int i = 0; i < n; i++) {
        double d = fabs(fitness[i] - final[i]);
        sum->mean_abs_fitness_err += d / n;
        if (converged[i]) {
            sum->mean_abs_err += d;
            sum->max_abs_err = fmax(sum->max_abs_err, d);
            sum->n_converged++;
        }
        sum->policy_front_size += on_policy[i];
        if (!on_true[i])
            continue;
        sum->front_size++;
        sum->front_kept += on_policy[i];
        /* what a user loses at this model's FLOPs by trusting the policy's front */
        double best = -INFINITY;
        for (int s = 0; s < n; s++)
            if (on_policy[s] && mflops[s] <= mflops[i] && final[s] > best)
                best = final[s];
        sum->front_regret = fmax(sum->front_regret, isfinite(best) ? final[i] - best : 50.0);
    }
    if (sum->n_converged)
        sum->mean_abs_err /= sum->n_converged;
    free(on_true);
    free(on_policy);
}

int a4nn_penguin_replay(const a4nn_penguin_config *cfg, a4nn_curve_registry *curves,
                        const a4nn_curve_set *set, int workers, a4nn_replay_row *rows,
                        a4nn_replay_summary *sum, a4nn_error *err)
{
    memset(sum, 0, sizeof *sum);
    if (workers < 1)
        return a4nn_errorf(err, "penguin: replay needs at least 1 worker (%d given)", workers);
    a4nn_penguin *p = a4nn_penguin_alloc(cfg, curves, err);
    if (!p)
        return A4NN_ERR;
    const int n = set->n_models, budget = p->cfg.budget;
    double t0 = a4nn_now();
    a4nn_front front;
    a4nn_front_init(&front);
    a4nn_penguin_model *slot_model = a4nn_malloc(sizeof *slot_model * (size_t)workers);
    int *slot = a4nn_malloc(sizeof(int) * (size_t)workers);
    int next = 0, busy = 0, rc = A4NN_OK;
    for (int w = 0; w < workers; w++) {
        slot[w] = next < n ? next++ : -1;
        busy += slot[w] >= 0;
        a4nn_penguin_model_init(&slot_model[w]);
    }
    /* rounds: each busy slot observes one epoch of its model, in slot order */
    while (busy && rc == A4NN_OK) {
        for (int w = 0; w < workers && rc == A4NN_OK; w++) {
            if (slot[w] < 0)
                continue;
            const a4nn_curve_record *r = &set->models[slot[w]];
            a4nn_penguin_model *m = &slot_model[w];
            a4nn_penguin_decision d = {0};
            const int e = m->n, last = (r->n_epochs < budget ? r->n_epochs : budget) - 1;
            const a4nn_penguin_epoch ep = {e, r->val_acc[e], r->train_acc[e], r->mflops};
            if ((rc = a4nn_penguin_observe(p, m, &ep, &front, &d, err)))
                break;
            if (!d.stop && e < last)
                continue;
            a4nn_replay_row *row = &rows[slot[w]];
            row->converged_epoch = m->converged_epoch;
            row->epochs_used = m->n;
            row->fitness = a4nn_penguin_fitness(m);
            row->final_observed = r->val_acc[r->n_epochs - 1];
            if (isfinite(r->mflops) && isfinite(row->fitness))
                a4nn_front_add(&front, r->mflops, row->fitness);
            if (d.finished)
                a4nn_penguin_learn(p, m->acc, m->train, m->n, r->mflops);
            a4nn_penguin_model_init(m);
            slot[w] = next < n ? next++ : -1;
            busy -= slot[w] < 0;
        }
    }
    if (rc == A4NN_OK) {
        double *final = a4nn_malloc(sizeof(double) * 3 * (size_t)n);
        double *fitness = final + n, *mflops = final + 2 * n;
        int *conv = a4nn_malloc(sizeof(int) * (size_t)n);
        long used = 0, full = 0;
        for (int i = 0; i < n; i++) {
            final[i] = rows[i].final_observed;
            fitness[i] = rows[i].fitness;
            mflops[i] = set->models[i].mflops;
            conv[i] = rows[i].converged_epoch >= 0;
            used += rows[i].epochs_used;
            full += set->models[i].n_epochs < budget ? set->models[i].n_epochs : budget;
        }
        a4nn_replay_metrics(n, final, fitness, mflops, conv, used, full, sum);
        free(final);
        free(conv);
    }
    sum->seconds = a4nn_now() - t0;
    free(slot);
    free(slot_model);
    a4nn_front_free(&front);
    a4nn_penguin_free(p);
    return rc;
}
