/* Bounded nonlinear least squares with GSL's trust-region solver
 * (Levenberg-Marquardt). Bounds are honoured by the MINUIT/lmfit parameter
 * transforms: the solver works on unbounded internal parameters u, and
 * p = g(u) always lies inside [lower, upper]. */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <string.h>

#include "a4nn/penguin.h"

#define CACHE_N 64

struct a4nn_fitter {
    a4nn_fit_mode mode;
    /* solver workspaces by (points, parameters): allocation is the costly part */
    gsl_multifit_nlinear_workspace *ws[CACHE_N][A4NN_CURVE_MAX_PARAMS + 1];
    gsl_matrix *covar[A4NN_CURVE_MAX_PARAMS + 1];
    gsl_multifit_nlinear_parameters params;
};

a4nn_fitter *a4nn_fitter_alloc(a4nn_fit_mode mode)
{
    gsl_set_error_handler_off();
    a4nn_fitter *w = a4nn_calloc(1, sizeof *w);
    w->mode = mode;
    w->params = gsl_multifit_nlinear_default_parameters();
    if (mode == A4NN_FIT_REFERENCE) {
        w->params.trs = gsl_multifit_nlinear_trs_lm;
        w->params.scale = gsl_multifit_nlinear_scale_levenberg;
    } else {
        w->params.trs = gsl_multifit_nlinear_trs_lmaccel;
    }
    for (int k = 1; k <= A4NN_CURVE_MAX_PARAMS; k++)
        w->covar[k] = gsl_matrix_alloc((size_t)k, (size_t)k);
    return w;
}

void a4nn_fitter_free(a4nn_fitter *w)
{
    if (!w)
        return;
    for (int n = 0; n < CACHE_N; n++)
        for (int k = 0; k <= A4NN_CURVE_MAX_PARAMS; k++)
            if (w->ws[n][k])
                gsl_multifit_nlinear_free(w->ws[n][k]);
    for (int k = 1; k <= A4NN_CURVE_MAX_PARAMS; k++)
        gsl_matrix_free(w->covar[k]);
    free(w);
}

/* ---- parameter transforms ---------------------------------------------------- */

static double to_external(double u, double lo, double hi, double *dpdu)
{
    if (isfinite(lo) && isfinite(hi)) {
        *dpdu = cos(u) * (hi - lo) / 2;
        return lo + (sin(u) + 1) * (hi - lo) / 2;
    }
    if (isfinite(lo)) {
        double r = sqrt(u * u + 1);
        *dpdu = u / r;
        return lo - 1 + r;
    }
    if (isfinite(hi)) {
        double r = sqrt(u * u + 1);
        *dpdu = -u / r;
        return hi + 1 - r;
    }
    *dpdu = 1;
    return u;
}

static double to_internal(double p, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi)) {
        double s = 2 * (p - lo) / (hi - lo) - 1;
        return asin(s < -1 ? -1 : s > 1 ? 1 : s);
    }
    if (isfinite(lo)) {
        double t = p - lo + 1;
        return sqrt(t * t - 1 > 0 ? t * t - 1 : 0);
    }
    if (isfinite(hi)) {
        double t = hi - p + 1;
        return sqrt(t * t - 1 > 0 ? t * t - 1 : 0);
    }
    return p;
}

typedef struct {
    const a4nn_curve *c;
    const double *x, *y;
    int n;
} problem;

static void external(const a4nn_curve *c, const gsl_vector *u, double *p, double *dpdu)
{
    for (int j = 0; j < c->n_params; j++)
        p[j] = to_external(gsl_vector_get(u, (size_t)j), c->lower[j], c->upper[j], &dpdu[j]);
}

static int residuals(const gsl_vector *u, void *data, gsl_vector *r)
{
    const problem *pr = data;
    double p[A4NN_CURVE_MAX_PARAMS], d[A4NN_CURVE_MAX_PARAMS];
    external(pr->c, u, p, d);
    for (int i = 0; i < pr->n; i++) {
        double v = pr->c->f(pr->x[i] + pr->c->x_offset, p) - pr->y[i];
        /* an overflowing trial step must look bad, not fail: GSL would retry
         * the very same step instead of shrinking its trust region */
        if (!isfinite(v) || fabs(v) > 1e10)
            v = 1e10;
        gsl_vector_set(r, (size_t)i, v);
    }
    return GSL_SUCCESS;
}

static int jacobian(const gsl_vector *u, void *data, gsl_matrix *J)
{
    const problem *pr = data;
    double p[A4NN_CURVE_MAX_PARAMS], d[A4NN_CURVE_MAX_PARAMS], g[A4NN_CURVE_MAX_PARAMS];
    external(pr->c, u, p, d);
    for (int i = 0; i < pr->n; i++) {
        pr->c->df(pr->x[i] + pr->c->x_offset, p, g);
        for (int j = 0; j < pr->c->n_params; j++) {
            double v = g[j] * d[j];
            if (!isfinite(v))
                v = 0;
            gsl_matrix_set(J, (size_t)i, (size_t)j, v);
        }
    }
    return GSL_SUCCESS;
}

/* One solve from start point p0; fills out and returns 1 when it gives a
 * usable prediction. */
static int fit_from(a4nn_fitter *w, gsl_multifit_nlinear_workspace *ws, const a4nn_curve *c,
                    const double *x, const double *y, int n, double x_eval, const double *p0,
                    a4nn_fit *out)
{
    const int k = c->n_params;
    problem pr = {c, x, y, n};
    gsl_multifit_nlinear_fdf fdf = {residuals, w->mode == A4NN_FIT_REFERENCE ? NULL : jacobian,
                                    NULL, (size_t)n, (size_t)k, &pr, 0, 0, 0};
    double u0[A4NN_CURVE_MAX_PARAMS];
    for (int j = 0; j < k; j++)
        u0[j] = to_internal(p0[j], c->lower[j], c->upper[j]);
    gsl_vector_view uv = gsl_vector_view_array(u0, (size_t)k);
    int info = 0;
    int status = gsl_multifit_nlinear_init(&uv.vector, &fdf, ws);
    /* reference fits stop on the step and gradient tests only: the settings
     * under which the original's stopping decisions are reproduced */
    const double ftol = w->mode == A4NN_FIT_REFERENCE ? 0 : 1e-10;
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(1000, 1e-8, 1e-8, ftol, NULL, NULL, &info, ws);
    if (status != GSL_SUCCESS)
        return 0;
    const gsl_vector *u = gsl_multifit_nlinear_position(ws);
    const gsl_vector *r = gsl_multifit_nlinear_residual(ws);
    double p[A4NN_CURVE_MAX_PARAMS], d[A4NN_CURVE_MAX_PARAMS], g[A4NN_CURVE_MAX_PARAMS];
    external(c, u, p, d);
    double sse;
    gsl_blas_ddot(r, r, &sse);
    double pred = c->f(x_eval + c->x_offset, p);
    /* a parameter pinned at a finite upper bound means the data asked for
     * more than the curve allows (e.g. an asymptote above 200 %): degenerate,
     * no prediction */
    for (int j = 0; j < k; j++)
        if (isfinite(c->upper[j]) && p[j] >= c->upper[j] - 1e-6 * (1 + fabs(c->upper[j])))
            return 0;
    if (!isfinite(pred) || !isfinite(sse) || sse >= 1e19)
        return 0;
    out->ok = 1;
    memcpy(out->p, p, sizeof(double) * (size_t)k);
    out->sse = sse;
    out->prediction = pred;
    out->iterations = (int)gsl_multifit_nlinear_niter(ws);
    double s2 = sse > 1e-12 ? sse : 1e-12;
    out->aic = n * log(s2 / n) + 2.0 * k;
    if (n - k - 1 > 0)
        out->aic += 2.0 * k * (k + 1) / (n - k - 1);
    /* delta method: var(f) = grad_u^T (J^T J)^-1 grad_u * s^2, with the
     * analytic Jacobian also where the solver differenced */
    gsl_matrix *cov = w->covar[k];
    gsl_matrix *J = gsl_multifit_nlinear_jac(ws);
    if (w->mode == A4NN_FIT_REFERENCE)
        jacobian(u, &pr, J);
    out->sigma = INFINITY;
    if (n > k && gsl_multifit_nlinear_covar(J, 1e-12, cov) == GSL_SUCCESS) {
        c->df(x_eval + c->x_offset, p, g);
        for (int j = 0; j < k; j++)
            g[j] *= d[j];
        double v = 0;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
                v += g[a] * gsl_matrix_get(cov, (size_t)a, (size_t)b) * g[b];
        double sig = sqrt(v * sse / (n - k));
        if (isfinite(sig))
            out->sigma = sig;
    }
    return 1;
}

/* Restart r (1, 2, ...) of a failed fit: the start doubled, then halved (a
 * zero moves by one), kept strictly inside the bounds. */
static void restart_point(const a4nn_curve *c, int r, double *p0)
{
    for (int j = 0; j < c->n_params; j++) {
        double s = c->start[j], v;
        if (s == 0)
            v = r % 2 ? 1 : -1;
        else
            v = r % 2 ? 2 * s : 0.5 * s;
        if (v <= c->lower[j] || v >= c->upper[j])
            v = s;
        p0[j] = v;
    }
}

void a4nn_curve_fit(a4nn_fitter *w, const a4nn_curve *c, const double *x, const double *y,
                    int n, double x_eval, a4nn_fit *out)
{
    memset(out, 0, sizeof *out);
    out->prediction = NAN;
    out->sigma = NAN;
    const int k = c->n_params;
    if (n < k || n > A4NN_CURVE_MAX_POINTS)
        return; /* under-determined: no prediction */
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return;
    gsl_multifit_nlinear_workspace *ws;
    int cached = n < CACHE_N;
    if (cached) {
        if (!w->ws[n][k])
            w->ws[n][k] = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &w->params,
                                                     (size_t)n, (size_t)k);
        ws = w->ws[n][k];
    } else {
        ws = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &w->params, (size_t)n,
                                        (size_t)k);
    }
    if (!ws)
        return;
    int tries = w->mode == A4NN_FIT_ROBUST ? 1 + A4NN_FIT_RESTARTS : 1;
    for (int r = 0; r < tries; r++) {
        double p0[A4NN_CURVE_MAX_PARAMS];
        if (r == 0)
            memcpy(p0, c->start, sizeof(double) * (size_t)k);
        else
            restart_point(c, r, p0);
        out->starts = r + 1;
        if (fit_from(w, ws, c, x, y, n, x_eval, p0, out))
            break;
    }
    if (!cached)
        gsl_multifit_nlinear_free(ws);
}
