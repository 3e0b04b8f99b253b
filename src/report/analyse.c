/* report: Pareto front, hypervolume, similarity map and summary numbers. */
#include "a4nn/report.h"

#include <math.h>
#include <string.h>

#include "a4nn/commons.h"
#include "a4nn/search.h"

static int dominates(const a4nn_report_model *a, const a4nn_report_model *b)
{
    const double x[2] = {100.0 - a->fitness, a->mflops}, y[2] = {100.0 - b->fitness, b->mflops};
    return a4nn_dominates(2, x, y);
}

static int usable(const a4nn_report_model *m)
{
    return !isnan(m->fitness) && !isnan(m->mflops);
}

int a4nn_report_run_analyse(a4nn_report_run *run, a4nn_error *err)
{
    const int n = run->n_models;
    for (int i = 0; i < n; i++) {
        a4nn_report_model *m = &run->models[i];
        m->on_front = usable(m);
        for (int j = 0; j < n && m->on_front; j++)
            if (j != i && usable(&run->models[j]) && dominates(&run->models[j], m))
                m->on_front = 0;
        m->map_x = m->map_y = 0.0;
    }
    /* nearest earlier architectures, when the commons stores none: for each
     * model, the 3 most similar models with a lower id (trained before it) */
    int have_nb = 0;
    for (int i = 0; i < n; i++)
        have_nb |= run->models[i].n_nb > 0;
    if (!have_nb && n > 1) {
        a4nn_genome *known = a4nn_malloc(sizeof *known * (size_t)n);
        double *fit = a4nn_malloc(sizeof *fit * (size_t)n);
        int *kid = a4nn_malloc(sizeof *kid * (size_t)n), nk = 0;
        for (int i = 0; i < n; i++) {
            a4nn_report_model *m = &run->models[i];
            if (!m->has_genome)
                continue;
            if (nk > 0) {
                a4nn_neighbour nb[3];
                int k = a4nn_tracker_nearest(&m->genome, known, fit, nk, 3, nb, err);
                if (k < 0) {
                    free(known), free(fit), free(kid);
                    return A4NN_ERR;
                }
                m->nb = a4nn_calloc((size_t)k, sizeof *m->nb);
                for (int j = 0; j < k; j++)
                    m->nb[j] = (a4nn_report_nb){kid[nb[j].index], nb[j].similarity, nb[j].hamming,
                                                nb[j].graph_edit, nb[j].fitness};
                m->n_nb = k;
            }
            known[nk] = m->genome;
            fit[nk] = m->fitness;
            kid[nk++] = m->id;
        }
        free(known), free(fit), free(kid);
    }
    /* similarity map over the models whose genome is known */
    int k = 0;
    int *idx = a4nn_malloc(sizeof *idx * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++)
        if (run->models[i].has_genome)
            idx[k++] = i;
    if (k >= 2) {
        a4nn_genome *g = a4nn_malloc(sizeof *g * (size_t)k);
        double *d = a4nn_malloc(sizeof *d * (size_t)k * k), *xy = a4nn_malloc(sizeof *xy * 2 * k);
        for (int i = 0; i < k; i++)
            g[i] = run->models[idx[i]].genome;
        int rc = a4nn_tracker_distance_matrix(g, k, A4NN_DIST_LCS, d, err);
        if (rc == A4NN_OK)
            rc = a4nn_tracker_mds(d, k, 2, xy, err);
        if (rc == A4NN_OK)
            for (int i = 0; i < k; i++) {
                run->models[idx[i]].map_x = xy[2 * i];
                run->models[idx[i]].map_y = xy[2 * i + 1];
            }
        free(g), free(d), free(xy), free(idx);
        return rc;
    }
    free(idx);
    return A4NN_OK;
}

typedef struct {
    double a, b;
} pt;
static int cmp_pt(const void *x, const void *y)
{
    const pt *p = x, *q = y;
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->b > q->b) - (p->b < q->b);
}

double a4nn_report_hypervolume(const double *f1, const double *f2, int n, double r1, double r2)
{
    pt *p = a4nn_malloc(sizeof *p * (size_t)(n > 0 ? n : 1));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (f1[i] < r1 && f2[i] < r2)
            p[m++] = (pt){f1[i], f2[i]};
    qsort(p, (size_t)m, sizeof *p, cmp_pt);
    /* sweep along f1: each front point adds the slab from its f1 to the
     * next front point's f1 (or r1), of height r2 - its f2 */
    double hv = 0.0, best2 = r2;
    for (int i = 0; i < m; i++) {
        if (p[i].b >= best2)
            continue;
        double next1 = r1;
        for (int j = i + 1; j < m; j++)
            if (p[j].b < p[i].b) {
                next1 = p[j].a;
                break;
            }
        hv += (next1 - p[i].a) * (r2 - p[i].b);
        best2 = p[i].b;
    }
    free(p);
    return hv;
}

void a4nn_report_summarize(const a4nn_report_run *run, double ref_mflops, a4nn_report_summary *s)
{
    memset(s, 0, sizeof *s);
    const int n = run->n_models;
    s->models = n;
    s->best_accuracy = s->best_val = NAN;
    double maxmf = 0.0;
    double t0 = INFINITY, t1 = -INFINITY, busy = 0.0;
    int times_known = n > 0;
    int seen[4096] = {0}, nw = 0;
    for (int i = 0; i < n; i++) {
        const a4nn_report_model *m = &run->models[i];
        s->epochs_used += m->epochs_trained;
        s->epochs_budget += run->budget;
        s->seconds_used += m->train_seconds;
        if (m->epochs_trained > 0 && m->epochs_trained < run->budget)
            s->seconds_saved += (run->budget - m->epochs_trained) * (m->train_seconds / m->epochs_trained);
        if (!isnan(m->fitness) && (isnan(s->best_accuracy) || m->fitness > s->best_accuracy))
            s->best_accuracy = m->fitness;
        if (!isnan(m->last_val) && (isnan(s->best_val) || m->last_val > s->best_val))
            s->best_val = m->last_val;
        if (m->on_front)
            s->front_size++;
        if (!isnan(m->mflops) && m->mflops > maxmf)
            maxmf = m->mflops;
        if (m->worker >= 0 && m->worker < 4096 && !seen[m->worker]++)
            nw++;
        if (isnan(m->start_time) || isnan(m->end_time))
            times_known = 0;
        else {
            t0 = fmin(t0, m->start_time);
            t1 = fmax(t1, m->end_time);
            busy += m->end_time - m->start_time;
        }
    }
    s->workers = nw;
    s->saved_pct = s->epochs_budget ? 100.0 * (1.0 - (double)s->epochs_used / s->epochs_budget) : 0.0;
    s->ref_mflops = ref_mflops > 0 ? ref_mflops : 1.1 * maxmf;
    double *f1 = a4nn_malloc(sizeof *f1 * (size_t)(n > 0 ? n : 1));
    double *f2 = a4nn_malloc(sizeof *f2 * (size_t)(n > 0 ? n : 1));
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(run->models[i].fitness) && !isnan(run->models[i].mflops)) {
            f1[k] = 100.0 - run->models[i].fitness;
            f2[k++] = run->models[i].mflops;
        }
    s->hypervolume = a4nn_report_hypervolume(f1, f2, k, 100.0, s->ref_mflops);
    free(f1), free(f2);
    s->makespan = s->idle_fraction = NAN;
    if (times_known && nw > 0 && t1 > t0) {
        s->makespan = t1 - t0;
        s->idle_fraction = 1.0 - busy / (nw * s->makespan);
    }
}

void a4nn_report_summary_print(const a4nn_report_run *run, const a4nn_report_summary *s, FILE *out)
{
    fprintf(out, "run %s (%s)\n", run->name, run->dir);
    fprintf(out, "  models %d, workers %d, epoch budget %d per model\n", s->models, s->workers,
            run->budget);
    fprintf(out, "  epochs used %ld of %ld (saved %.1f %%), training %.1f s, ~%.1f s saved\n",
            s->epochs_used, s->epochs_budget, s->saved_pct, s->seconds_used, s->seconds_saved);
    fprintf(out, "  best accuracy %.2f %% (fitness), best measured %.2f %%\n", s->best_accuracy,
            s->best_val);
    fprintf(out, "  Pareto front %d model%s, hypervolume %.4g (ref: error 100 %%, %.4g MFLOPs)\n",
            s->front_size, s->front_size == 1 ? "" : "s", s->hypervolume, s->ref_mflops);
    if (!isnan(s->makespan))
        fprintf(out, "  makespan %.1f s, worker idle %.1f %%\n", s->makespan,
                100.0 * s->idle_fraction);
}
