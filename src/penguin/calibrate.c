/* The front policy: population-informed, Pareto-aware stopping.
 *
 * A model's final accuracy is predicted from its partial curve by a linear
 * least-squares calibration (GSL) against the models of the same search that
 * already reached the budget: final ~ b0 + b1 best-so-far(e) + b2 ln MFLOPs
 * + b3 training accuracy(e) + b4 mean of the last two accuracies(e), fitted
 * on those models' curves cut at the same epoch e. The model's size and its
 * training accuracy carry what a few validation measurements cannot show:
 * in these searches larger networks end higher, and the training accuracy,
 * averaged over the epoch's training batches, ranks models by how fast they
 * learn more steadily than the validation accuracy, which swings early in
 * training; the calibration measures by how much (and leaves a coefficient
 * near zero where it does not). Its uncertainty is the calibration's
 * prediction interval (residual variance plus the coefficients' covariance,
 * Student t), which shrinks as more models finish, never below the
 * validation noise measured on the finished curves (their last two epochs).
 * A model stops as soon as the optimistic end of that interval cannot enter
 * the current Pareto front (accuracy up, MFLOPs down); its fitness is then
 * the calibrated prediction. Until
 * `calibrate_after` models have finished, nothing stops, and no model stops
 * before `min_epochs` epochs. A model at chance
 * level is judged only against finished models that were also at chance at
 * that epoch: a flat start predicts nothing by itself, so it stops only
 * where the search has seen enough models come out of such a start to
 * know. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <string.h>

#include "penguin_internal.h"

#define N_FEATURES 5
/* accuracy within this many points of chance level counts as "at chance":
 * wider than the binomial noise of 100+ validation images around 50 % */
#define CHANCE_BAND 5.0

/* Which regressors the calibration may use: those known for the candidate
 * and for every finished model it is calibrated on. */
typedef struct {
    int size, train;
} known;

/* The calibration's regressors of a curve cut at epoch e (validation
 * accuracies acc, training accuracies train), in the order they enter as
 * more models finish. */
static int features(const double *acc, const double *train, int e, double mflops, known k,
                    double *x)
{
    int n = 0;
    x[n++] = 1;
    x[n++] = a4nn_penguin_best_so_far(acc, e + 1);
    if (k.size)
        x[n++] = log(mflops);
    if (k.train)
        x[n++] = train[e];
    x[n++] = e > 0 ? 0.5 * (acc[e] + acc[e - 1]) : acc[e];
    return n;
}

static int size_known(double mflops) { return isfinite(mflops) && mflops > 0; }
static int train_known(const double *train, int e) { return isfinite(train[e]); }

/* Validation noise of one accuracy near the end of training: the pooled
 * standard deviation of the last two epochs' difference over sqrt 2. */
static double validation_noise(const a4nn_penguin *p)
{
    const int b = p->cfg.budget;
    if (b < 2 || p->n_finished == 0)
        return 0;
    double ss = 0;
    for (int k = 0; k < p->n_finished; k++) {
        const double *c = a4nn_penguin_finished(p, k);
        ss += (c[b - 1] - c[b - 2]) * (c[b - 1] - c[b - 2]);
    }
    return sqrt(ss / p->n_finished / 2);
}

/* The least-squares calibration of finals on the regressors kn allows, over
 * the finished models use[0..k): the prediction for the curve cut at epoch
 * e, its standard error and degrees of freedom. */
static int regress(const a4nn_penguin *p, const int *use, int k, const double *acc,
                   const double *train, int e, double mflops, known kn, double *mu,
                   double *sigma, int *dof)
{
    const int b = p->cfg.budget;
    /* the last regressor joins once there are four models per regressor */
    double x[N_FEATURES], row[N_FEATURES], chisq, est, est_err;
    const int all = features(acc, train, e, mflops, kn, x);
    const int nf = k >= 4 * all ? all : all - 1;
    gsl_matrix *X = gsl_matrix_alloc((size_t)k, (size_t)nf);
    gsl_vector *y = gsl_vector_alloc((size_t)k), *c = gsl_vector_alloc((size_t)nf);
    gsl_matrix *cov = gsl_matrix_alloc((size_t)nf, (size_t)nf);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc((size_t)k, (size_t)nf);
    for (int i = 0; i < k; i++) {
        const double *cv = a4nn_penguin_finished(p, use[i]);
        features(cv, a4nn_penguin_finished_train(p, use[i]), e,
                 a4nn_penguin_finished_mflops(p, use[i]), kn, row);
        for (int j = 0; j < nf; j++)
            gsl_matrix_set(X, (size_t)i, (size_t)j, row[j]);
        gsl_vector_set(y, (size_t)i, cv[b - 1]);
    }
    /* a truncated SVD: identical or collinear regressors (curves that
     * agree so far) drop out instead of blowing the coefficients up */
    size_t rank;
    gsl_multifit_linear_tsvd(X, y, 1e-9, c, cov, &chisq, &rank, w);
    gsl_vector_view xv = gsl_vector_view_array(x, (size_t)nf);
    gsl_multifit_linear_est(&xv.vector, c, cov, &est, &est_err);
    *dof = k - (int)rank;
    *mu = est;
    *sigma = sqrt(chisq / *dof + est_err * est_err);
    gsl_multifit_linear_free(w);
    gsl_matrix_free(X);
    gsl_matrix_free(cov);
    gsl_vector_free(y);
    gsl_vector_free(c);
    return isfinite(est) && isfinite(*sigma);
}

/* The calibrated prediction of the final accuracy of a curve cut at epoch e
 * (acc[0..e], train[0..e]), from the finished curves in the same state (at
 * chance or not): mean, standard error of prediction and degrees of
 * freedom. Returns 0 when too few finished curves are comparable. */
static int calibrate(const a4nn_penguin *p, const double *acc, const double *train, int e,
                     double mflops, double *mu, double *sigma, int *dof)
{
    const int b = p->cfg.budget, K = p->n_finished;
    const double chance_top = p->cfg.chance + CHANCE_BAND;
    const int at_chance = a4nn_penguin_best_so_far(acc, e + 1) < chance_top;
    int *use = a4nn_malloc(sizeof(int) * (size_t)(K ? K : 1)), k = 0;
    known kn = {size_known(mflops), train_known(train, e)};
    for (int i = 0; i < K; i++) {
        const double *c = a4nn_penguin_finished(p, i);
        if ((a4nn_penguin_best_so_far(c, e + 1) < chance_top) == at_chance) {
            use[k++] = i;
            kn.size = kn.size && size_known(a4nn_penguin_finished_mflops(p, i));
            kn.train = kn.train && train_known(a4nn_penguin_finished_train(p, i), e);
        }
    }
    int ok = k >= p->cfg.calibrate_after;
    if (ok && at_chance) {
        /* nothing to regress on: the finals of the comparable models */
        double s = 0, ss = 0;
        for (int i = 0; i < k; i++) {
            double y = a4nn_penguin_finished(p, use[i])[b - 1];
            s += y;
            ss += y * y;
        }
        *mu = s / k;
        double var = k > 1 ? fmax(0, (ss - s * s / k) / (k - 1)) : 0;
        *sigma = sqrt(var * (1 + 1.0 / k));
        *dof = k - 1;
    } else if (ok) {
        ok = regress(p, use, k, acc, train, e, mflops, kn, mu, sigma, dof);
    }
    free(use);
    return ok;
}

static void front_defaults(a4nn_penguin_config *c)
{
    if (c->z < 0)
        c->z = 2;
}

static void front_decide(a4nn_penguin *p, a4nn_penguin_model *m, double mflops,
                         const a4nn_front *front, a4nn_penguin_decision *out)
{
    const a4nn_penguin_config *cfg = &p->cfg;
    const int e = m->n - 1;
    if (e + 1 >= cfg->budget || !isfinite(m->acc[e]))
        return; /* it has trained to the budget */
    double mu = NAN, sigma = NAN;
    int dof = 1;
    if (!calibrate(p, m->acc, m->train, e, mflops, &mu, &sigma, &dof))
        return;
    const double noise = validation_noise(p);
    sigma = fmax(sigma, noise);
    mu = fmin(100, fmax(0, mu));
    m->pred[e] = mu;
    m->sigma[e] = sigma;
    /* a stop rests on at least min_epochs measurements: the first
     * validation accuracy swings from one evaluation to the next, and the
     * mean of the last two needs two */
    if (!front || front->n == 0 || !isfinite(mflops) || m->n < cfg->min_epochs)
        return;
    /* the optimistic end: the one-sided level of z standard normal errors,
     * as a Student t quantile for the calibration's few degrees of freedom */
    const double t = gsl_cdf_tdist_Pinv(gsl_cdf_ugaussian_P(cfg->z), dof);
    /* no extra noise on top: the residuals already hold the noise of the
     * finished models' final accuracies, which is what a stop gives up */
    double best_case = fmax(mu + t * sigma, a4nn_penguin_best_so_far(m->acc, m->n));
    if (best_case > 100) /* no accuracy beats 100 % */
        best_case = 100;
    if (!a4nn_front_would_enter(front, mflops, best_case)) {
        m->converged_epoch = e;
        m->fitness = mu;
    }
}

const a4nn_policy a4nn_policy_front = {
    "front",
    "calibrated on the search's finished models; stop once it cannot reach the front",
    front_defaults, NULL, NULL, front_decide, NULL};
