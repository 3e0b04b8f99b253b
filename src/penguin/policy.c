/* Stopping policies (one table of named policies), the Pareto front they
 * consult, the per-model tracker and learning-curve files. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "a4nn/search.h"
#include "penguin_internal.h"

void a4nn_penguin_config_defaults(a4nn_penguin_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->curve, sizeof cfg->curve, "default");
    cfg->policy = a4nn_policy_find("front");
    snprintf(cfg->policy_label, sizeof cfg->policy_label, "front");
    cfg->fixed_epochs = 10;
    cfg->window = 3;
    cfg->start_epoch = 3;
    cfg->budget = 25;
    cfg->tolerance = cfg->z = cfg->min_sigma = -1;
    cfg->envelope = cfg->require_convergence = cfg->fit = -1;
    cfg->calibrate_after = 5;
    cfg->min_epochs = 2;
    cfg->chance = 50;
}

a4nn_penguin_config a4nn_penguin_config_resolved(const a4nn_penguin_config *cfg)
{
    a4nn_penguin_config r = *cfg;
    if (r.policy->defaults)
        r.policy->defaults(&r);
    /* what no policy set: the robust settings */
    if (r.tolerance < 0)
        r.tolerance = 0.25;
    if (r.envelope < 0)
        r.envelope = 1;
    if (r.fit < 0)
        r.fit = A4NN_FIT_ROBUST;
    if (r.z < 0)
        r.z = 2;
    if (r.min_sigma < 0)
        r.min_sigma = 3;
    if (r.require_convergence < 0)
        r.require_convergence = 0;
    return r;
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

static int set_policy(a4nn_penguin_config *cfg, const char *v, a4nn_error *err)
{
    const a4nn_policy *pol = a4nn_policy_find(v);
    if (pol && !strncmp(v, "fixed:", 6)) {
        double k = 0;
        if (parse_num("policy", v + 6, 1, 1000, &k, err) || k != floor(k))
            return a4nn_errorf(err, "penguin.policy: bad value '%s' (fixed:K, K epochs, an "
                                    "integer in [1, 1000])",
                               v);
        cfg->fixed_epochs = (int)k;
    }
    if (!pol || strlen(v) >= sizeof cfg->policy_label) {
        char known[256] = "";
        for (int i = 0; i < a4nn_policy_count(); i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                     i ? ", " : "", a4nn_policy_at(i)->name);
        return a4nn_errorf(err, "penguin.policy: bad value '%s' (expected %s)", v, known);
    }
    cfg->policy = pol;
    snprintf(cfg->policy_label, sizeof cfg->policy_label, "%s", v);
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
    if (!strcmp(key, "policy"))
        return set_policy(cfg, v, err);
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
        int *i;
        double *d;
    } keys[] = {{"window", 1, 100, 1, &cfg->window, NULL},
                {"tolerance", 0, 100, 0, NULL, &cfg->tolerance},
                {"start_epoch", 1, 1000, 1, &cfg->start_epoch, NULL},
                {"budget", 1, 1000, 1, &cfg->budget, NULL},
                {"z", 0, 100, 0, NULL, &cfg->z},
                {"min_sigma", 0, 100, 0, NULL, &cfg->min_sigma},
                {"envelope", 0, 1, 1, &cfg->envelope, NULL},
                {"pessimism", 0, 100, 0, NULL, &cfg->pessimism},
                {"require_convergence", 0, 1, 1, &cfg->require_convergence, NULL},
                {"calibrate_after", 2, 1000, 1, &cfg->calibrate_after, NULL},
                {"min_epochs", 1, 1000, 1, &cfg->min_epochs, NULL},
                {"chance", 0, 100, 0, NULL, &cfg->chance}};
    for (size_t i = 0; i < A4NN_ARRAY_LEN(keys); i++) {
        if (strcmp(key, keys[i].name))
            continue;
        if (parse_num(key, v, keys[i].lo, keys[i].hi, &d, err))
            return A4NN_ERR;
        if (keys[i].integer && d != floor(d))
            return a4nn_errorf(err, "penguin.%s: bad value '%s' (expected an integer)", key, v);
        if (keys[i].i)
            *keys[i].i = (int)d;
        else
            *keys[i].d = d;
        return A4NN_OK;
    }
    return a4nn_errorf(err, "penguin: unknown key '%s' (known: curve, policy, fit, select, window, "
                            "tolerance, start_epoch, budget, z, min_sigma, envelope, pessimism, "
                            "require_convergence, calibrate_after, min_epochs, chance)",
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

/* (MFLOPs, accuracy) as objectives to minimise */
int a4nn_penguin_dominates(double m1, double a1, double m2, double a2)
{
    const double x[2] = {m1, -a1}, y[2] = {m2, -a2};
    return a4nn_dominates(2, x, y);
}

int a4nn_front_would_enter(const a4nn_front *f, double mflops, double acc)
{
    for (int i = 0; i < f->n; i++)
        if (a4nn_penguin_dominates(f->mflops[i], f->acc[i], mflops, acc) ||
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
        if (!a4nn_penguin_dominates(mflops, acc, f->mflops[i], f->acc[i])) {
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
    if (p->cfg.policy->init && p->cfg.policy->init(p, err) != A4NN_OK) {
        a4nn_penguin_free(p);
        return NULL;
    }
    return p;
}

void a4nn_penguin_free(a4nn_penguin *p)
{
    if (!p)
        return;
    if (p->cfg.policy->free)
        p->cfg.policy->free(p);
    a4nn_fitter_free(p->fitter);
    free(p->finished);
    free(p->finished_train);
    free(p->finished_mflops);
    free(p);
}

void a4nn_penguin_model_init(a4nn_penguin_model *m)
{
    m->n = 0;
    m->converged_epoch = -1;
    m->fitness = NAN;
}

void a4nn_penguin_learn(a4nn_penguin *p, const double *acc, const double *train, int n,
                        double mflops)
{
    const size_t b = (size_t)p->cfg.budget;
    if (n < p->cfg.budget)
        return;
    if (p->n_finished == p->cap_finished) {
        p->cap_finished = p->cap_finished ? 2 * p->cap_finished : 64;
        const size_t cap = (size_t)p->cap_finished;
        p->finished = a4nn_realloc(p->finished, sizeof(double) * b * cap);
        p->finished_train = a4nn_realloc(p->finished_train, sizeof(double) * b * cap);
        p->finished_mflops = a4nn_realloc(p->finished_mflops, sizeof(double) * cap);
    }
    const size_t k = (size_t)p->n_finished;
    p->finished_mflops[k] = mflops;
    memcpy(p->finished + k * b, acc, sizeof(double) * b);
    for (size_t e = 0; e < b; e++)
        p->finished_train[k * b + e] = train ? train[e] : NAN;
    p->n_finished++;
}

int a4nn_penguin_n_finished(const a4nn_penguin *p) { return p->n_finished; }
const double *a4nn_penguin_finished(const a4nn_penguin *p, int i)
{
    return p->finished + (size_t)i * (size_t)p->cfg.budget;
}
const double *a4nn_penguin_finished_train(const a4nn_penguin *p, int i)
{
    return p->finished_train + (size_t)i * (size_t)p->cfg.budget;
}
double a4nn_penguin_finished_mflops(const a4nn_penguin *p, int i) { return p->finished_mflops[i]; }

double a4nn_penguin_best_so_far(const double *acc, int n)
{
    double b = -INFINITY;
    for (int i = 0; i < n; i++)
        if (acc[i] > b)
            b = acc[i];
    return b;
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

/* The curve-fit prediction of f(budget) from the model's curve so far, into
 * m->pred / m->sigma of its last epoch (from start_epoch on): the default
 * curve alone (seed), else the family. */
void a4nn_penguin_predict(a4nn_penguin *p, a4nn_penguin_model *m, int family)
{
    const a4nn_penguin_config *cfg = &p->cfg;
    const int epoch = m->n - 1;
    if (epoch < cfg->start_epoch || !isfinite(m->acc[epoch]))
        return;
    double x[A4NN_PENGUIN_MAX_EPOCHS], y[A4NN_PENGUIN_MAX_EPOCHS];
    for (int i = 0; i < m->n; i++) {
        x[i] = i;
        /* the envelope: validation dips of a noisy curve are not where
         * training ends up, so fit the best accuracy seen so far */
        y[i] = cfg->envelope && i > 0 && y[i - 1] > m->acc[i] ? y[i - 1] : m->acc[i];
    }
    double pred = NAN, sigma = NAN;
    if (family) {
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double a4nn_penguin_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
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
    double med = a4nn_penguin_median(v, w);
    for (int i = 0; i < w; i++)
        if (fabs(v[i] - med) > cfg->tolerance)
            return 0;
    return 1;
}

/* ---- the policies ------------------------------------------------------------------ */

static void converge(a4nn_penguin_model *m, double fitness)
{
    m->converged_epoch = m->n - 1;
    m->fitness = fitness;
}

/* seed: the original rule on the default curve, fitted as the original did */
static void seed_defaults(a4nn_penguin_config *c)
{
    if (c->tolerance < 0)
        c->tolerance = 0.5;
    if (c->envelope < 0)
        c->envelope = 0;
    if (c->fit < 0)
        c->fit = A4NN_FIT_REFERENCE;
}

static void window_decide(a4nn_penguin *p, a4nn_penguin_model *m, int family)
{
    a4nn_penguin_predict(p, m, family);
    if (window_converged(&p->cfg, m))
        converge(m, m->pred[m->n - 1]);
}

static void seed_decide(a4nn_penguin *p, a4nn_penguin_model *m, double mflops,
                        const a4nn_front *front, a4nn_penguin_decision *out)
{
    window_decide(p, m, 0);
}

static void ensemble_decide(a4nn_penguin *p, a4nn_penguin_model *m, double mflops,
                            const a4nn_front *front, a4nn_penguin_decision *out)
{
    window_decide(p, m, 1);
}

/* pareto: a model trains on while it might still reach the front; it stops
 * once even the optimistic end of its prediction (and its best measured
 * accuracy) would be dominated by the current front */
static void pareto_defaults(a4nn_penguin_config *c)
{
    if (c->require_convergence < 0)
        c->require_convergence = 1;
}

static void pareto_decide(a4nn_penguin *p, a4nn_penguin_model *m, double mflops,
                          const a4nn_front *front, a4nn_penguin_decision *out)
{
    const a4nn_penguin_config *cfg = &p->cfg;
    const int epoch = m->n - 1;
    a4nn_penguin_predict(p, m, 1);
    double pred = m->pred[epoch], sigma = m->sigma[epoch];
    if (!front || front->n == 0 || !isfinite(pred) ||
        epoch < cfg->start_epoch + cfg->window - 1 || pred < 0 || pred > 100)
        return;
    double s = isfinite(sigma) && sigma > cfg->min_sigma ? sigma : cfg->min_sigma;
    double best_case = fmax(pred + cfg->z * s, a4nn_penguin_best_so_far(m->acc, m->n));
    if (best_case > 100) /* no accuracy beats 100 %: without this cap a model
                            with a wide interval could never be stopped */
        best_case = 100;
    if (!a4nn_front_would_enter(front, mflops, best_case) &&
        (!cfg->require_convergence || window_converged(cfg, m)))
        converge(m, pred - cfg->pessimism * s);
}

/* fixed:K: every model trains K epochs; fitness = the best accuracy so far */
static void fixed_decide(a4nn_penguin *p, a4nn_penguin_model *m, double mflops,
                         const a4nn_front *front, a4nn_penguin_decision *out)
{
    if (m->n >= p->cfg.fixed_epochs)
        converge(m, a4nn_penguin_best_so_far(m->acc, m->n));
}

/* median (the median stopping rule of Vizier, Ray Tune and NNI): from epoch 5
 * on, a model whose best accuracy so far is below the median of the earlier
 * models' best-so-far at the same epoch stops; fitness = its best so far.
 * The population's best-so-far per epoch is kept by observe. */
#define MEDIAN_FIRST_EPOCH 5 /* 1-based, as in Ray Tune's grace period */
#define MEDIAN_MIN_SAMPLES 3

typedef struct {
    int cap; /* epochs */
    int *n, *capn;
    double **best;
} median_state;

static int median_init(a4nn_penguin *p, a4nn_error *err)
{
    median_state *s = a4nn_calloc(1, sizeof *s);
    s->cap = p->cfg.budget;
    s->n = a4nn_calloc((size_t)s->cap, sizeof *s->n);
    s->capn = a4nn_calloc((size_t)s->cap, sizeof *s->capn);
    s->best = a4nn_calloc((size_t)s->cap, sizeof *s->best);
    p->state = s;
    return A4NN_OK;
}

static void median_free(a4nn_penguin *p)
{
    median_state *s = p->state;
    for (int e = 0; e < s->cap; e++)
        free(s->best[e]);
    free(s->best);
    free(s->n);
    free(s->capn);
    free(s);
}

static void median_observe(a4nn_penguin *p, const a4nn_penguin_model *m)
{
    median_state *s = p->state;
    const int e = m->n - 1;
    if (e >= s->cap)
        return;
    if (s->n[e] == s->capn[e]) {
        s->capn[e] = s->capn[e] ? 2 * s->capn[e] : 32;
        s->best[e] = a4nn_realloc(s->best[e], sizeof(double) * (size_t)s->capn[e]);
    }
    s->best[e][s->n[e]++] = a4nn_penguin_best_so_far(m->acc, m->n);
}

static void median_decide(a4nn_penguin *p, a4nn_penguin_model *m, double mflops,
                          const a4nn_front *front, a4nn_penguin_decision *out)
{
    median_state *s = p->state;
    const int e = m->n - 1;
    if (e + 1 < MEDIAN_FIRST_EPOCH || e >= s->cap || s->n[e] < MEDIAN_MIN_SAMPLES)
        return;
    double *v = a4nn_malloc(sizeof(double) * (size_t)s->n[e]);
    memcpy(v, s->best[e], sizeof(double) * (size_t)s->n[e]);
    double med = a4nn_penguin_median(v, s->n[e]), b = a4nn_penguin_best_so_far(m->acc, m->n);
    free(v);
    if (b < med)
        converge(m, b);
}

static const a4nn_policy policy_seed = {
    "seed", "the original rule: the last `window` predictions of the default curve agree",
    seed_defaults, NULL, NULL, seed_decide, NULL};
static const a4nn_policy policy_ensemble = {
    "ensemble", "AIC-weighted family of curves, then the seed rule", NULL, NULL, NULL,
    ensemble_decide, NULL};
static const a4nn_policy policy_pareto = {
    "pareto", "stop converged models that cannot reach the Pareto front", pareto_defaults,
    NULL, NULL, pareto_decide, NULL};
static const a4nn_policy policy_fixed = {
    "fixed:K", "stop every model after K epochs; fitness = best accuracy so far", NULL, NULL,
    NULL, fixed_decide, NULL};
static const a4nn_policy policy_median = {
    "median", "median stopping rule: below the earlier models' median best-so-far", NULL,
    median_init, median_observe, median_decide, median_free};

static const a4nn_policy *const policies[] = {&a4nn_policy_front, &policy_seed, &policy_ensemble,
                                              &policy_pareto, &policy_fixed, &policy_median};

const a4nn_policy *a4nn_policy_find(const char *name)
{
    for (size_t i = 0; i < A4NN_ARRAY_LEN(policies); i++) {
        const char *n = policies[i]->name, *colon = strchr(n, ':');
        if (colon ? !strncmp(name, n, (size_t)(colon - n + 1)) : !strcmp(name, n))
            return policies[i];
    }
    return NULL;
}
int a4nn_policy_count(void) { return (int)A4NN_ARRAY_LEN(policies); }
const a4nn_policy *a4nn_policy_at(int i) { return policies[i]; }

int a4nn_penguin_observe(a4nn_penguin *p, a4nn_penguin_model *m, const a4nn_penguin_epoch *ep,
                         const a4nn_front *front, a4nn_penguin_decision *out, a4nn_error *err)
{
    memset(out, 0, sizeof *out);
    const int epoch = ep->epoch;
    if (epoch != m->n)
        return a4nn_errorf(err, "penguin: epoch %d observed after %d epochs (out of order)",
                           epoch, m->n);
    if (m->n >= A4NN_PENGUIN_MAX_EPOCHS)
        return a4nn_errorf(err, "penguin: more than %d epochs", A4NN_PENGUIN_MAX_EPOCHS);
    m->acc[m->n] = ep->val_acc;
    m->train[m->n] = ep->train_acc;
    m->pred[m->n] = NAN;
    m->sigma[m->n] = NAN;
    m->n++;
    const a4nn_policy *pol = p->cfg.policy;
    if (m->converged_epoch < 0)
        pol->decide(p, m, ep->mflops, front, out);
    /* the population learns after the decision on this epoch */
    if (pol->observe)
        pol->observe(p, m);
    out->finished = m->n == p->cfg.budget && m->converged_epoch < 0;
    out->has_prediction = isfinite(m->pred[epoch]);
    out->prediction = m->pred[epoch];
    out->sigma = m->sigma[epoch];
    out->converged = out->stop = m->converged_epoch >= 0;
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

