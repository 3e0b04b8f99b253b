/* Stopping policies, the Pareto front they consult, learning-curve files and
 * the replay of recorded curves through a policy. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "a4nn/penguin.h"

void a4nn_penguin_config_defaults(a4nn_penguin_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->curve, sizeof cfg->curve, "default");
    cfg->policy = A4NN_POLICY_SEED;
    cfg->window = 3;
    cfg->start_epoch = 3;
    cfg->budget = 25;
    cfg->tolerance = cfg->z = cfg->min_sigma = -1;
    cfg->envelope = cfg->require_convergence = cfg->fit = -1;
}

a4nn_penguin_config a4nn_penguin_config_resolved(const a4nn_penguin_config *cfg)
{
    a4nn_penguin_config r = *cfg;
    int seed = cfg->policy == A4NN_POLICY_SEED, pareto = cfg->policy == A4NN_POLICY_PARETO;
    if (r.tolerance < 0)
        r.tolerance = seed ? 0.5 : 0.25;
    if (r.envelope < 0)
        r.envelope = !seed;
    if (r.fit < 0)
        r.fit = seed ? A4NN_FIT_REFERENCE : A4NN_FIT_ROBUST;
    if (r.z < 0)
        r.z = 2;
    if (r.min_sigma < 0)
        r.min_sigma = 3;
    if (r.require_convergence < 0)
        r.require_convergence = pareto;
    return r;
}

const char *a4nn_policy_name(a4nn_policy p)
{
    switch (p) {
    case A4NN_POLICY_SEED: return "seed";
    case A4NN_POLICY_ENSEMBLE: return "ensemble";
    case A4NN_POLICY_PARETO: return "pareto";
    }
    return "?";
}

static int parse_num(const char *key, const char *v, double lo, double hi, double *out,
                     a4nn_error *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (!*v || *end || errno || !(d >= lo && d <= hi))
        return a4nn_errorf(err, "penguin.%s: bad value '%s' (expected a number in [%g, %g])",
                           key, v, lo, hi);
    *out = d;
    return A4NN_OK;
}

int a4nn_penguin_config_set(a4nn_penguin_config *cfg, const char *key, const char *v,
                            a4nn_error *err)
{
    double d = 0;
    if (!strcmp(key, "curve")) {
        if (!*v || strlen(v) >= sizeof cfg->curve)
            return a4nn_errorf(err, "penguin.curve: bad value '%s'", v);
        snprintf(cfg->curve, sizeof cfg->curve, "%s", v);
        return A4NN_OK;
    }
    if (!strcmp(key, "policy")) {
        for (int p = A4NN_POLICY_SEED; p <= A4NN_POLICY_PARETO; p++)
            if (!strcmp(v, a4nn_policy_name((a4nn_policy)p))) {
                cfg->policy = (a4nn_policy)p;
                return A4NN_OK;
            }
        return a4nn_errorf(err, "penguin.policy: bad value '%s' (expected seed, ensemble or "
                                "pareto)",
                           v);
    }
    if (!strcmp(key, "select")) {
        if (strcmp(v, "weighted") && strcmp(v, "best"))
            return a4nn_errorf(err, "penguin.select: bad value '%s' (expected weighted or best)",
                               v);
        cfg->select_best = !strcmp(v, "best");
        return A4NN_OK;
    }
    if (!strcmp(key, "fit")) {
        if (!strcmp(v, "reference"))
            cfg->fit = A4NN_FIT_REFERENCE;
        else if (!strcmp(v, "robust"))
            cfg->fit = A4NN_FIT_ROBUST;
        else
            return a4nn_errorf(err, "penguin.fit: bad value '%s' (expected reference or "
                                    "robust)",
                               v);
        return A4NN_OK;
    }
    struct {
        const char *name;
        double lo, hi;
        int integer;
    } keys[] = {{"window", 1, 100, 1},    {"tolerance", 0, 100, 0}, {"start_epoch", 1, 1000, 1},
                {"budget", 1, 1000, 1},   {"z", 0, 100, 0},         {"min_sigma", 0, 100, 0},
                {"envelope", 0, 1, 1},    {"pessimism", 0, 100, 0}, {"require_convergence", 0, 1, 1}};
    for (size_t i = 0; i < A4NN_ARRAY_LEN(keys); i++) {
        if (strcmp(key, keys[i].name))
            continue;
        if (parse_num(key, v, keys[i].lo, keys[i].hi, &d, err))
            return A4NN_ERR;
        if (keys[i].integer && d != floor(d))
            return a4nn_errorf(err, "penguin.%s: bad value '%s' (expected an integer)", key, v);
        if (!strcmp(key, "window")) cfg->window = (int)d;
        else if (!strcmp(key, "tolerance")) cfg->tolerance = d;
        else if (!strcmp(key, "start_epoch")) cfg->start_epoch = (int)d;
        else if (!strcmp(key, "budget")) cfg->budget = (int)d;
        else if (!strcmp(key, "z")) cfg->z = d;
        else if (!strcmp(key, "envelope")) cfg->envelope = (int)d;
        else if (!strcmp(key, "pessimism")) cfg->pessimism = d;
        else if (!strcmp(key, "require_convergence")) cfg->require_convergence = (int)d;
        else cfg->min_sigma = d;
        return A4NN_OK;
    }
    return a4nn_errorf(err, "penguin: unknown key '%s' (known: curve, policy, fit, select, window, "
                            "tolerance, start_epoch, budget, z, min_sigma, envelope, pessimism, "
                            "require_convergence)",
                       key);
}

/* ---- Pareto front ---------------------------------------------------------------- */

void a4nn_front_init(a4nn_front *f) { memset(f, 0, sizeof *f); }
void a4nn_front_free(a4nn_front *f)
{
    free(f->mflops);
    free(f->acc);
    memset(f, 0, sizeof *f);
}

static int dominates(double m1, double a1, double m2, double a2)
{
    return m1 <= m2 && a1 >= a2 && (m1 < m2 || a1 > a2);
}

int a4nn_front_would_enter(const a4nn_front *f, double mflops, double acc)
{
    for (int i = 0; i < f->n; i++)
        if (dominates(f->mflops[i], f->acc[i], mflops, acc) ||
            (f->mflops[i] == mflops && f->acc[i] == acc))
            return 0;
    return 1;
}

int a4nn_front_add(a4nn_front *f, double mflops, double acc)
{
    if (!a4nn_front_would_enter(f, mflops, acc))
        return 0;
    int k = 0;
    for (int i = 0; i < f->n; i++)
        if (!dominates(mflops, acc, f->mflops[i], f->acc[i])) {
            f->mflops[k] = f->mflops[i];
            f->acc[k++] = f->acc[i];
        }
    f->n = k;
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 16;
        f->mflops = a4nn_realloc(f->mflops, sizeof(double) * (size_t)f->cap);
        f->acc = a4nn_realloc(f->acc, sizeof(double) * (size_t)f->cap);
    }
    f->mflops[f->n] = mflops;
    f->acc[f->n++] = acc;
    return 1;
}

/* ---- the per-model tracker ------------------------------------------------------- */

struct a4nn_penguin {
    a4nn_penguin_config cfg;
    a4nn_curve_registry *curves;
    const a4nn_curve *curve;
    a4nn_fitter *fitter;
};

a4nn_penguin *a4nn_penguin_alloc(const a4nn_penguin_config *cfg, a4nn_curve_registry *curves,
                                 a4nn_error *err)
{
    const a4nn_curve *c = a4nn_curve_find(curves, cfg->curve);
    if (!c)
        return a4nn_errorf(err, "penguin.curve: unknown curve '%s'", cfg->curve), NULL;
    if (cfg->start_epoch + 1 < c->n_params)
        return a4nn_errorf(err, "penguin.start_epoch: %d gives %d points, fewer than the %d "
                                "parameters of curve '%s'",
                           cfg->start_epoch, cfg->start_epoch + 1, c->n_params, c->name),
               NULL;
    a4nn_penguin *p = a4nn_calloc(1, sizeof *p);
    p->cfg = a4nn_penguin_config_resolved(cfg);
    p->curves = curves;
    p->curve = c;
    p->fitter = a4nn_fitter_alloc((a4nn_fit_mode)p->cfg.fit);
    return p;
}

void a4nn_penguin_free(a4nn_penguin *p)
{
    if (!p)
        return;
    a4nn_fitter_free(p->fitter);
    free(p);
}

void a4nn_penguin_model_init(a4nn_penguin_model *m)
{
    m->n = 0;
    m->converged_epoch = -1;
    m->fitness = NAN;
}

/* Model selection over the whole family: the curve of least AIC, or the
 * AIC-weighted model average (Burnham & Anderson): w_i ~ exp(-AIC_i / 2),
 * where the spread between curves adds to the uncertainty. */
static void ensemble_predict(a4nn_penguin *p, const double *x, const double *y, int n,
                             double *pred, double *sigma)
{
    int nc = a4nn_curve_count(p->curves), m = 0;
    a4nn_fit fits[64];
    double best = INFINITY;
    for (int i = 0; i < nc && m < 64; i++) {
        a4nn_curve_fit(p->fitter, a4nn_curve_at(p->curves, i), x, y, n, p->cfg.budget, &fits[m]);
        /* a curve that predicts outside [0, 100] describes no accuracy */
        if (fits[m].ok && fits[m].prediction >= 0 && fits[m].prediction <= 100 &&
            isfinite(fits[m].sigma)) {
            if (fits[m].aic < best)
                best = fits[m].aic;
            m++;
        }
    }
    *pred = *sigma = NAN;
    if (!m)
        return;
    if (p->cfg.select_best) {
        for (int i = 0; i < m; i++)
            if (fits[i].aic == best) {
                *pred = fits[i].prediction;
                *sigma = fits[i].sigma;
                return;
            }
    }
    double wsum = 0, mean = 0, var = 0;
    for (int i = 0; i < m; i++)
        wsum += exp(-(fits[i].aic - best) / 2);
    for (int i = 0; i < m; i++)
        mean += exp(-(fits[i].aic - best) / 2) / wsum * fits[i].prediction;
    for (int i = 0; i < m; i++) {
        double w = exp(-(fits[i].aic - best) / 2) / wsum, d = fits[i].prediction - mean;
        var += w * (fits[i].sigma * fits[i].sigma + d * d);
    }
    *pred = mean;
    *sigma = sqrt(var);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The seed rule: the last `window` epochs all have a prediction in [0, 100],
 * all within `tolerance` of their median. */
static int window_converged(const a4nn_penguin_config *cfg, const a4nn_penguin_model *m)
{
    if (m->n < cfg->window)
        return 0;
    double v[128];
    int w = cfg->window < 128 ? cfg->window : 128;
    for (int i = 0; i < w; i++) {
        v[i] = m->pred[m->n - 1 - i];
        if (!(v[i] >= 0 && v[i] <= 100))
            return 0;
    }
    qsort(v, (size_t)w, sizeof(double), cmp_double);
    double med = w % 2 ? v[w / 2] : 0.5 * (v[w / 2 - 1] + v[w / 2]);
    for (int i = 0; i < w; i++)
        if (fabs(v[i] - med) > cfg->tolerance)
            return 0;
    return 1;
}

int a4nn_penguin_observe(a4nn_penguin *p, a4nn_penguin_model *m, int epoch, double val_acc,
                         double mflops, const a4nn_front *front, a4nn_penguin_decision *out,
                         a4nn_error *err)
{
    memset(out, 0, sizeof *out);
    if (epoch != m->n)
        return a4nn_errorf(err, "penguin: epoch %d observed after %d epochs (out of order)",
                           epoch, m->n);
    if (m->n >= A4NN_PENGUIN_MAX_EPOCHS)
        return a4nn_errorf(err, "penguin: more than %d epochs", A4NN_PENGUIN_MAX_EPOCHS);
    m->acc[m->n] = val_acc;
    m->pred[m->n] = NAN;
    m->sigma[m->n] = NAN;
    m->n++;
    const a4nn_penguin_config *cfg = &p->cfg;
    if (epoch >= cfg->start_epoch && isfinite(val_acc)) {
        double x[A4NN_PENGUIN_MAX_EPOCHS], y[A4NN_PENGUIN_MAX_EPOCHS];
        for (int i = 0; i < m->n; i++) {
            x[i] = i;
            /* the envelope: validation dips of a noisy curve are not where
             * training ends up, so fit the best accuracy seen so far */
            y[i] = cfg->envelope && i > 0 && y[i - 1] > m->acc[i] ? y[i - 1] : m->acc[i];
        }
        double pred = NAN, sigma = NAN;
        if (cfg->policy != A4NN_POLICY_SEED) {
            ensemble_predict(p, x, y, m->n, &pred, &sigma);
        } else {
            a4nn_fit fit;
            a4nn_curve_fit(p->fitter, p->curve, x, y, m->n, cfg->budget, &fit);
            if (fit.ok)
                pred = fit.prediction, sigma = fit.sigma;
        }
        m->pred[epoch] = pred;
        m->sigma[epoch] = sigma;
    }
    out->has_prediction = isfinite(m->pred[epoch]);
    out->prediction = m->pred[epoch];
    out->sigma = m->sigma[epoch];
    if (cfg->policy != A4NN_POLICY_PARETO) {
        if (m->converged_epoch < 0 && window_converged(cfg, m)) {
            m->converged_epoch = epoch;
            m->fitness = m->pred[epoch];
        }
        out->converged = out->stop = m->converged_epoch >= 0;
    } else if (m->converged_epoch < 0 && front && front->n > 0 && out->has_prediction &&
               epoch >= cfg->start_epoch + cfg->window - 1 && out->prediction >= 0 &&
               out->prediction <= 100) {
        /* pareto: a model trains on while it might still reach the front;
         * it stops once even the optimistic end of its prediction (and its
         * best measured accuracy) would be dominated by the current front */
        double s = isfinite(out->sigma) && out->sigma > cfg->min_sigma ? out->sigma
                                                                        : cfg->min_sigma;
        double best_case = out->prediction + cfg->z * s;
        for (int i = 0; i < m->n; i++)
            if (m->acc[i] > best_case)
                best_case = m->acc[i];
        if (best_case > 100) /* no accuracy beats 100 %: without this cap a model
                                with a wide interval could never be stopped */
            best_case = 100;
        if (!a4nn_front_would_enter(front, mflops, best_case) &&
            (!cfg->require_convergence || window_converged(cfg, m))) {
            m->converged_epoch = epoch;
            m->fitness = out->prediction - cfg->pessimism * s;
        }
        out->converged = out->stop = m->converged_epoch >= 0;
    }
    out->fitness = a4nn_penguin_fitness(m);
    return A4NN_OK;
}

double a4nn_penguin_fitness(const a4nn_penguin_model *m)
{
    if (m->converged_epoch >= 0)
        return m->fitness;
    return m->n ? m->acc[m->n - 1] : NAN;
}

/* ---- learning-curve files ---------------------------------------------------------- */

/* Splits one CSV line in place (double quotes protect commas). */
static int split_csv(char *line, char **field, int max)
{
    int n = 0;
    char *s = line;
    for (;;) {
        if (n == max)
            return -1;
        if (*s == '"') {
            field[n++] = ++s;
            char *q = strchr(s, '"');
            if (!q)
                return -1;
            *q = '\0';
            s = q + 1;
        } else {
            field[n++] = s;
            s += strcspn(s, ",\r\n");
        }
        if (*s == ',') {
            *s++ = '\0';
            continue;
        }
        *s = '\0';
        return n;
    }
}

static int col(char **names, int n, const char *want)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], want))
            return i;
    return -1;
}

static double parse_value(const char *s, int *ok)
{
    if (!strcmp(s, "inf") || !strcmp(s, "nan") || !strcmp(s, "") || !strcmp(s, "-inf"))
        return NAN;
    char *end;
    double v = strtod(s, &end);
    if (*end)
        *ok = 0;
    return v;
}

int a4nn_curves_read(const char *path, a4nn_curve_set *set, a4nn_error *err)
{
    memset(set, 0, sizeof *set);
    size_t len;
    char *text = a4nn_read_file(path, &len, err);
    if (!text)
        return A4NN_ERR;
    /* every error is formatted before `text` is freed: the fields point into it */
    int rc = A4NN_OK;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    char hdr_buf[1024];
    char *names[32];
    if (!line || strlen(line) >= sizeof hdr_buf) {
        rc = a4nn_errorf(err, "%s: empty file or bad header", path);
        goto done;
    }
    strcpy(hdr_buf, line);
    int nh = split_csv(hdr_buf, names, 32);
    int c_epoch = col(names, nh, "epoch"), c_val = col(names, nh, "val_accs"),
        c_train = col(names, nh, "train_accs"), c_pred = col(names, nh, "predictions"),
        c_conv = col(names, nh, "converged"), c_gen = col(names, nh, "genome"),
        c_flops = col(names, nh, "flops");
    if (c_epoch < 0 || c_val < 0) {
        rc = a4nn_errorf(err, "%s: header needs at least the columns epoch and val_accs", path);
        goto done;
    }
    int cap = 0, lineno = 1;
    a4nn_curve_record *cur = NULL;
    while ((line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        if (!*line || *line == '\r')
            continue;
        char *f[32];
        int nf = split_csv(line, f, 32);
        if (nf != nh) {
            rc = a4nn_errorf(err, "%s:%d: %d fields, the header has %d", path, lineno, nf, nh);
            goto done;
        }
        int ok = 1;
        double ep = parse_value(f[c_epoch], &ok);
        double val = parse_value(f[c_val], &ok);
        if (!ok || !(ep >= 0) || ep != floor(ep) || !(val >= 0 && val <= 100)) {
            rc = a4nn_errorf(err, "%s:%d: bad epoch '%s' or val_accs '%s' (accuracies are "
                                  "percentages)",
                             path, lineno, f[c_epoch], f[c_val]);
            goto done;
        }
        if (ep == 0) {
            if (set->n_models == cap) {
                cap = cap ? 2 * cap : 64;
                set->models = a4nn_realloc(set->models, sizeof(a4nn_curve_record) * (size_t)cap);
            }
            cur = &set->models[set->n_models++];
            memset(cur, 0, sizeof *cur);
            cur->train_acc = a4nn_calloc(A4NN_PENGUIN_MAX_EPOCHS, sizeof(double));
            cur->val_acc = a4nn_calloc(A4NN_PENGUIN_MAX_EPOCHS, sizeof(double));
            cur->ref_pred = a4nn_calloc(A4NN_PENGUIN_MAX_EPOCHS, sizeof(double));
            cur->ref_converged = a4nn_calloc(A4NN_PENGUIN_MAX_EPOCHS, sizeof(int));
            if (c_gen >= 0)
                snprintf(cur->genome, sizeof cur->genome, "%s", f[c_gen]);
            cur->mflops = c_flops >= 0 ? parse_value(f[c_flops], &ok) : NAN;
        }
        if (!cur || ep != cur->n_epochs || cur->n_epochs >= A4NN_PENGUIN_MAX_EPOCHS) {
            rc = a4nn_errorf(err, "%s:%d: epoch %g out of sequence", path, lineno, ep);
            goto done;
        }
        int e = cur->n_epochs++;
        cur->val_acc[e] = val;
        cur->train_acc[e] = c_train >= 0 ? parse_value(f[c_train], &ok) : NAN;
        cur->ref_pred[e] = c_pred >= 0 ? parse_value(f[c_pred], &ok) : NAN;
        cur->ref_converged[e] = c_conv >= 0 && !strcmp(f[c_conv], "True");
        if (!ok) {
            rc = a4nn_errorf(err, "%s:%d: a value in train_accs, predictions or flops is not a "
                                  "number",
                             path, lineno);
            goto done;
        }
    }
    if (set->n_models == 0)
        rc = a4nn_errorf(err, "%s: no learning curves", path);
done:
    free(text);
    if (rc != A4NN_OK)
        a4nn_curves_free(set);
    return rc;
}

void a4nn_curves_free(a4nn_curve_set *set)
{
    for (int i = 0; i < set->n_models; i++) {
        free(set->models[i].train_acc);
        free(set->models[i].val_acc);
        free(set->models[i].ref_pred);
        free(set->models[i].ref_converged);
    }
    free(set->models);
    memset(set, 0, sizeof *set);
}

int a4nn_curves_pick(const a4nn_curve_set *set, const char *genome)
{
    for (int i = 0; i < set->n_models; i++)
        if (!strcmp(set->models[i].genome, genome))
            return i;
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = genome; *c; c++)
        h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return (int)(h % (uint64_t)set->n_models);
}

int a4nn_penguin_replay(const a4nn_penguin_config *cfg, a4nn_curve_registry *curves,
                        const a4nn_curve_set *set, a4nn_replay_row *rows,
                        a4nn_replay_summary *sum, a4nn_error *err)
{
    memset(sum, 0, sizeof *sum);
    a4nn_penguin *p = a4nn_penguin_alloc(cfg, curves, err);
    if (!p)
        return A4NN_ERR;
    double t0 = a4nn_now();
    a4nn_front front;
    a4nn_front_init(&front);
    a4nn_penguin_model *m = a4nn_malloc(sizeof *m);
    long used = 0, budget = 0;
    for (int i = 0; i < set->n_models; i++) {
        const a4nn_curve_record *r = &set->models[i];
        a4nn_penguin_model_init(m);
        a4nn_penguin_decision d = {0};
        int e = 0;
        for (; e < r->n_epochs && e < cfg->budget; e++) {
            if (a4nn_penguin_observe(p, m, e, r->val_acc[e], r->mflops, &front, &d, err)) {
                free(m);
                a4nn_front_free(&front);
                a4nn_penguin_free(p);
                return A4NN_ERR;
            }
            if (d.stop)
                break;
        }
        a4nn_replay_row *row = &rows[i];
        row->converged_epoch = m->converged_epoch;
        row->epochs_used = m->converged_epoch >= 0 ? m->converged_epoch + 1 : m->n;
        row->fitness = a4nn_penguin_fitness(m);
        row->final_observed = r->val_acc[r->n_epochs - 1];
        used += row->epochs_used;
        budget += r->n_epochs < cfg->budget ? r->n_epochs : cfg->budget;
        if (row->converged_epoch >= 0) {
            double e2 = fabs(row->fitness - row->final_observed);
            sum->mean_abs_err += e2;
            if (e2 > sum->max_abs_err)
                sum->max_abs_err = e2;
            sum->n_converged++;
        }
        if (isfinite(r->mflops))
            a4nn_front_add(&front, r->mflops, row->fitness);
    }
    if (sum->n_converged)
        sum->mean_abs_err /= sum->n_converged;
    /* does stopping early lose a model of the full-training front? */
    for (int i = 0; i < set->n_models; i++) {
        const double mi = set->models[i].mflops;
        int on_true = 1, on_fit = 1;
        for (int j = 0; j < set->n_models; j++) {
            const double mj = set->models[j].mflops;
            if (j == i || !isfinite(mi) || !isfinite(mj))
                continue;
            if (dominates(mj, rows[j].final_observed, mi, rows[i].final_observed))
                on_true = 0;
            if (dominates(mj, rows[j].fitness, mi, rows[i].fitness))
                on_fit = 0;
        }
        if (on_true && isfinite(mi)) {
            sum->front_size++;
            sum->front_kept += on_fit;
        }
    }
    sum->epochs_saved_pct = budget ? 100.0 * (double)(budget - used) / (double)budget : 0;
    sum->seconds = a4nn_now() - t0;
    free(m);
    a4nn_front_free(&front);
    a4nn_penguin_free(p);
    return A4NN_OK;
}
