/* penguin: learning-curve prediction. A library of parametric curves with
 * analytic Jacobians, bounded nonlinear least-squares fits with GSL, and
 * stopping policies that decide when a model's predicted final accuracy has
 * converged (DESIGN.md, "Learning-curve prediction"). */
#ifndef A4NN_PENGUIN_H
#define A4NN_PENGUIN_H

#include <stddef.h>

#include "a4nn/util.h"

#define A4NN_CURVE_MAX_PARAMS 4
#define A4NN_CURVE_MAX_POINTS 1024

/* A parametric curve y = f(x; p). df writes the n_params partial derivatives
 * at x. Bounds may be -INFINITY/INFINITY. x_offset: the curve is fitted and
 * evaluated on x + x_offset (1 for powers and logarithms, singular at 0). */
typedef struct {
    char name[32];
    const char *formula;
    int n_params;
    double (*f)(double x, const double *p);
    void (*df)(double x, const double *p, double *grad);
    double start[A4NN_CURVE_MAX_PARAMS];
    double lower[A4NN_CURVE_MAX_PARAMS];
    double upper[A4NN_CURVE_MAX_PARAMS];
    double x_offset;
} a4nn_curve;

/* The registry: the built-in family plus curves registered at run time. */
typedef struct a4nn_curve_registry a4nn_curve_registry;
a4nn_curve_registry *a4nn_curve_registry_alloc(void);
void a4nn_curve_registry_free(a4nn_curve_registry *r);
int a4nn_curve_register(a4nn_curve_registry *r, const a4nn_curve *c, a4nn_error *err);
/* Loads a plug-in: a shared library exporting `int a4nn_curve_plugin(a4nn_curve *out)`
 * (returns 0 on success). */
int a4nn_curve_load_plugin(a4nn_curve_registry *r, const char *path, a4nn_error *err);
const a4nn_curve *a4nn_curve_find(const a4nn_curve_registry *r, const char *name);
int a4nn_curve_count(const a4nn_curve_registry *r);
const a4nn_curve *a4nn_curve_at(const a4nn_curve_registry *r, int i);

/* ---- fitting --------------------------------------------------------------- */

typedef struct {
    int ok;              /* 0: the fit failed or is degenerate: no prediction */
    double p[A4NN_CURVE_MAX_PARAMS];
    double sse;          /* sum of squared residuals */
    double aic;          /* n ln(sse/n) + 2k (small-sample corrected) */
    double prediction;   /* f(x_eval) */
    double sigma;        /* standard error of the prediction (delta method) */
    int iterations;
    int starts;          /* start points tried (robust fits try more when one fails) */
} a4nn_fit;

/* How fits are made:
 * REFERENCE  as the original PENGUIN fits with scipy's curve_fit given
 *            bounds: least_squares' Trust Region Reflective method (exact
 *            trust-region steps by SVD, Coleman-Li scaling, reflection at
 *            the bounds), Jacobian by forward differences that step inward
 *            at a bound, ftol = xtol = gtol = 1e-8, at most 100 k residual
 *            evaluations (else the fit fails), from the curve's start point
 *            only. Its fits succeed, fail and land where the original's did,
 *            so the seed policy reproduces the original's stopping
 *            decisions. iterations counts residual evaluations.
 * ROBUST     GSL's trust-region solver: analytic Jacobians,
 *            geodesic-accelerated Levenberg-Marquardt, and up to
 *            A4NN_FIT_RESTARTS further start points (the start doubled, then
 *            halved, inside the bounds) when a fit fails. */
typedef enum { A4NN_FIT_REFERENCE, A4NN_FIT_ROBUST } a4nn_fit_mode;
#define A4NN_FIT_RESTARTS 2

/* A fitting workspace (GSL solver state), reused across fits. */
typedef struct a4nn_fitter a4nn_fitter;
a4nn_fitter *a4nn_fitter_alloc(a4nn_fit_mode mode);
void a4nn_fitter_free(a4nn_fitter *w);

/* Fits c to (x[i], y[i]), i < n, honouring the bounds, and evaluates at
 * x_eval. Never fails loudly: out->ok says whether there is a prediction. */
void a4nn_curve_fit(a4nn_fitter *w, const a4nn_curve *c, const double *x, const double *y,
                    int n, double x_eval, a4nn_fit *out);

/* ---- policies ---------------------------------------------------------------- */

typedef struct a4nn_penguin a4nn_penguin;
typedef struct a4nn_penguin_model a4nn_penguin_model;
typedef struct a4nn_penguin_decision a4nn_penguin_decision;
typedef struct a4nn_front a4nn_front;
typedef struct a4nn_penguin_config a4nn_penguin_config;

/* A stopping policy: a named const struct in one table (a4nn_policy_find).
 *   defaults  gives every key still unset (negative) its policy default
 *   init      allocates the policy's own state in p (may be NULL)
 *   observe   sees every epoch of every model, after decide (the median
 *             rule keeps the population's best-so-far; may be NULL)
 *   decide    fills out->converged / out->stop / the model's fitness
 *   free      releases what init allocated (may be NULL) */
typedef struct {
    const char *name;
    const char *summary; /* one line for --help */
    void (*defaults)(a4nn_penguin_config *cfg);
    int (*init)(a4nn_penguin *p, a4nn_error *err);
    void (*observe)(a4nn_penguin *p, const a4nn_penguin_model *m);
    void (*decide)(a4nn_penguin *p, a4nn_penguin_model *m, double mflops,
                   const a4nn_front *front, a4nn_penguin_decision *out);
    void (*free)(a4nn_penguin *p);
} a4nn_policy;

/* The policy named name ("fixed:K" names the fixed policy), or NULL. */
const a4nn_policy *a4nn_policy_find(const char *name);
int a4nn_policy_count(void);
const a4nn_policy *a4nn_policy_at(int i);

/* Keys marked "policy default" start unset (negative) and take the value of
 * the chosen policy when the tracker is allocated:
 *              tolerance  envelope  fit        z  min_sigma  require_convergence
 *   seed          0.5        0      reference  -      -            -
 *   ensemble      0.25       1      robust     -      -            -
 *   pareto        0.25       1      robust     2      3            1
 *   front         -          1      robust     2      -            -
 * (the seed policy's values are the original PENGUIN's; the others are the
 * settings measured best on the development curves, README "PENGUIN"). */
struct a4nn_penguin_config {
    char curve[32];      /* "default" unless set */
    const a4nn_policy *policy; /* front unless set */
    char policy_label[32];     /* the policy as given, e.g. "fixed:10" */
    int fixed_epochs;    /* fixed: epochs every model trains (10) */
    int window;          /* 3 */
    double tolerance;    /* policy default: convergence band in accuracy points */
    int start_epoch;     /* first epoch with a prediction: 3 */
    int budget;          /* 25: predictions are f(budget) */
    double z;            /* pareto, front: optimism in standard errors */
    double min_sigma;    /* pareto: floor of the prediction's uncertainty */
    int envelope;        /* 1: fit the running maximum of the accuracies */
    double pessimism;    /* pareto: fitness of a stopped model = prediction - pessimism * sigma (0) */
    int require_convergence; /* pareto: stop hopeless models only once converged */
    int fit;             /* an a4nn_fit_mode */
    int select_best;     /* ensemble and pareto: 1 = the single curve of least AIC,
                            0 = all curves with Akaike weights (0) */
    int calibrate_after; /* front: models that must reach the budget before any stop (5) */
    int min_epochs;      /* front: epochs a model trains before it may stop (2) */
    double chance;       /* front: chance-level accuracy in percent (50, two classes) */
};

void a4nn_penguin_config_defaults(a4nn_penguin_config *cfg);
/* Sets one key ("curve", "policy", "fit", "select" (weighted | best), "window", "tolerance",
 * "start_epoch", "budget", "z", "min_sigma", "envelope", "pessimism",
 * "require_convergence", "calibrate_after", "min_epochs", "chance") from text; unknown keys
 * and bad values are errors that name the key. */
int a4nn_penguin_config_set(a4nn_penguin_config *cfg, const char *key, const char *value,
                            a4nn_error *err);
/* The configuration with every unset key given its policy default. */
a4nn_penguin_config a4nn_penguin_config_resolved(const a4nn_penguin_config *cfg);

/* A Pareto front of (MFLOPs, accuracy) points: smaller MFLOPs, higher
 * accuracy are better. */
struct a4nn_front {
    int n, cap;
    double *mflops, *acc;
};
void a4nn_front_init(a4nn_front *f);
void a4nn_front_free(a4nn_front *f);
/* Adds a point, removing the points it dominates; returns 1 when it is on
 * the front. */
int a4nn_front_add(a4nn_front *f, double mflops, double acc);
/* 1 when (mflops, acc) would be non-dominated by the front. */
int a4nn_front_would_enter(const a4nn_front *f, double mflops, double acc);

/* Per-model state of the analytics role. */
#define A4NN_PENGUIN_MAX_EPOCHS A4NN_CURVE_MAX_POINTS
struct a4nn_penguin_model {
    int n;                                /* epochs observed */
    double acc[A4NN_PENGUIN_MAX_EPOCHS];  /* validation accuracy, percent */
    double train[A4NN_PENGUIN_MAX_EPOCHS]; /* training accuracy, percent (NAN if unknown) */
    double pred[A4NN_PENGUIN_MAX_EPOCHS]; /* prediction after each epoch, NAN if none */
    double sigma[A4NN_PENGUIN_MAX_EPOCHS];
    int converged_epoch;                  /* -1 until converged */
    double fitness;
};

struct a4nn_penguin_decision {
    int has_prediction;
    double prediction, sigma;
    int converged; /* the prediction has converged: fitness is known */
    int stop;      /* the policy says: stop training this model now */
    double fitness;
    int finished;  /* the model reached the budget: once the search knows it,
                      its curve calibrates the policy (a4nn_penguin_learn) */
};

a4nn_penguin *a4nn_penguin_alloc(const a4nn_penguin_config *cfg, a4nn_curve_registry *curves,
                                 a4nn_error *err);
void a4nn_penguin_free(a4nn_penguin *p);
void a4nn_penguin_model_init(a4nn_penguin_model *m);
/* What a worker measured for a model in one epoch. */
typedef struct {
    int epoch;        /* 0-based, in order */
    double val_acc;   /* percent */
    double train_acc; /* percent, over the epoch's training batches; NAN if unknown */
    double mflops;    /* the model's size; NAN if unknown */
} a4nn_penguin_epoch;

/* Records one epoch of the model and decides. front (may be NULL) is the
 * current Pareto front, used by the pareto and front policies. */
int a4nn_penguin_observe(a4nn_penguin *p, a4nn_penguin_model *m, const a4nn_penguin_epoch *ep,
                         const a4nn_front *front, a4nn_penguin_decision *out, a4nn_error *err);
/* A curve trained to the budget (n validation accuracies, and the n
 * training accuracies in train, which may be NULL) of a model of mflops
 * MFLOPs (NAN if unknown), as the search reports it finished:
 * population-informed policies calibrate on it. */
void a4nn_penguin_learn(a4nn_penguin *p, const double *acc, const double *train, int n,
                        double mflops);
/* Curves that reached the budget so far, the i-th (budget validation
 * accuracies; budget training accuracies, NAN where unknown) and its
 * model's MFLOPs. */
int a4nn_penguin_n_finished(const a4nn_penguin *p);
const double *a4nn_penguin_finished(const a4nn_penguin *p, int i);
const double *a4nn_penguin_finished_train(const a4nn_penguin *p, int i);
double a4nn_penguin_finished_mflops(const a4nn_penguin *p, int i);
/* Fitness: the converged prediction, else the last measured accuracy. */
double a4nn_penguin_fitness(const a4nn_penguin_model *m);

/* ---- learning-curve files ---------------------------------------------------- */

/* Learning curves in the reference CSV format: columns epoch, train_accs,
 * val_accs, predictions, converged, genome, arch, flops (any order; a new
 * model starts where epoch goes back to 0). */
typedef struct {
    char genome[256];
    double mflops;
    int n_epochs;
    double *train_acc, *val_acc, *ref_pred; /* ref_pred NAN where "inf" */
    int *ref_converged;
} a4nn_curve_record;

typedef struct {
    int n_models;
    a4nn_curve_record *models;
} a4nn_curve_set;

int a4nn_curves_read(const char *path, a4nn_curve_set *set, a4nn_error *err);
void a4nn_curves_free(a4nn_curve_set *set);
/* Index of the recorded curve a genome replays: the curve recorded for that
 * very genome text, else one picked by a 64-bit FNV-1a hash of the text (the
 * replay backend and the scaling simulator agree on it). n_models > 0. */
int a4nn_curves_pick(const a4nn_curve_set *set, const char *genome);

/* Replays every model of a set through a policy as the analytics role would
 * see them during a search: models arrive in file order, `workers` of them in
 * flight (W slots; in each round every slot observes one epoch of its model,
 * slot by slot; a model that stops or reaches the budget leaves its slot to
 * the next model of the file and enters the front with its fitness, and its
 * curve, when it reached the budget, the policy's population). With 1
 * worker the models arrive one after the other. Per model: its converged
 * epoch (-1), fitness, final accuracy and epochs used; and the metrics. */
typedef struct {
    int converged_epoch;
    double fitness, final_observed;
    int epochs_used;
} a4nn_replay_row;

/* The figures of a replay of N full curves with budget E (README "PENGUIN"):
 *   epochs saved   1 - epochs used / (N E), in percent
 *   final          a model's accuracy after E epochs (last row of its curve)
 *   fitness        what the policy reports for the model
 *   rho            Spearman rank correlation of fitness and final over all
 *                  N models (average ranks for ties)
 *   true front     models non-dominated in (final up, MFLOPs down)
 *   policy front   models non-dominated in (fitness up, MFLOPs down)
 *   front regret   max over true-front models t of final(t) - max{final(s):
 *                  s in the policy front, MFLOPs(s) <= MFLOPs(t)} (50 when
 *                  no such s), in points
 *   front kept     true-front models inside the policy front
 *   mean |fitness - final| over all models; mean and max over the models
 *   the policy called converged */
typedef struct {
    double epochs_saved_pct;
    double rho;
    double front_regret;
    double mean_abs_fitness_err;
    double mean_abs_err, max_abs_err; /* over models that converged */
    int n_converged;
    int front_size, front_kept, policy_front_size;
    double seconds;
} a4nn_replay_summary;

/* The metrics above from per-model arrays (n models; mflops may hold NANs,
 * which leave a model out of both fronts). epochs_used and epochs_budget are
 * totals. */
void a4nn_replay_metrics(int n, const double *final, const double *fitness, const double *mflops,
                         const int *converged, long epochs_used, long epochs_budget,
                         a4nn_replay_summary *sum);
/* Spearman's rho with average ranks for ties (GSL); NAN when n < 2 or a side
 * is constant. */
double a4nn_spearman(const double *x, const double *y, int n);

int a4nn_penguin_replay(const a4nn_penguin_config *cfg, a4nn_curve_registry *curves,
                        const a4nn_curve_set *set, int workers, a4nn_replay_row *rows,
                        a4nn_replay_summary *sum, a4nn_error *err);

#endif
