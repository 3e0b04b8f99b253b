/* Bounded nonlinear least squares, made two ways.
 * ROBUST     GSL's trust-region solver (geodesic-accelerated
 *            Levenberg-Marquardt) with analytic Jacobians. Bounds are
 *            honoured by the MINUIT/lmfit parameter transforms: the solver
 *            works on unbounded internal parameters u, and p = g(u) always
 *            lies inside [lower, upper].
 * REFERENCE  the Trust Region Reflective method (Branch, Coleman and Li) as
 *            scipy's least_squares runs it when curve_fit is given bounds,
 *            so that fits succeed, fail and land where the original
 *            PENGUIN's did. */
#include <float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <string.h>

#include "a4nn/penguin.h"

#define CACHE_N 64
#define K A4NN_CURVE_MAX_PARAMS
#define M A4NN_CURVE_MAX_POINTS

/* the reference solver's arrays: residuals, Jacobians (row-major m x k) */
typedef struct {
    double f[M], f_new[M], f_step[M];
    double J[M * K], J_h[M * K], J_aug[(M + K) * K];
} trf_work;

struct a4nn_fitter {
    a4nn_fit_mode mode;
    /* solver workspaces by (points, parameters): allocation is the costly part */
    gsl_multifit_nlinear_workspace *ws[CACHE_N][K + 1];
    gsl_matrix *covar[K + 1];
    gsl_multifit_nlinear_parameters params;
    trf_work *trf;
};

a4nn_fitter *a4nn_fitter_alloc(a4nn_fit_mode mode)
{
    gsl_set_error_handler_off();
    a4nn_fitter *w = a4nn_calloc(1, sizeof *w);
    w->mode = mode;
    w->params = gsl_multifit_nlinear_default_parameters();
    w->params.trs = gsl_multifit_nlinear_trs_lmaccel;
    if (mode == A4NN_FIT_REFERENCE)
        w->trf = a4nn_malloc(sizeof *w->trf);
    for (int k = 1; k <= K; k++)
        w->covar[k] = gsl_matrix_alloc((size_t)k, (size_t)k);
    return w;
}

void a4nn_fitter_free(a4nn_fitter *w)
{
    if (!w)
        return;
    for (int n = 0; n < CACHE_N; n++)
        for (int k = 0; k <= K; k++)
            if (w->ws[n][k])
                gsl_multifit_nlinear_free(w->ws[n][k]);
    for (int k = 1; k <= K; k++)
        gsl_matrix_free(w->covar[k]);
    free(w->trf);
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
    double p[K], d[K];
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
    double p[K], d[K], g[K];
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

/* Fills out from the solution p of a solve: prediction, AIC and the
 * delta-method standard error, var(f) = grad^T (J^T J)^-1 grad * s^2, with J
 * the analytic Jacobian with respect to the solver's parameters u (p = g(u),
 * dp/du = dpdu). Returns 0 when the solution gives no usable prediction. */
static int finish(a4nn_fitter *w, const a4nn_curve *c, int n, double x_eval, const double *p,
                  const double *dpdu, const gsl_matrix *J, double sse, int iterations,
                  a4nn_fit *out)
{
    const int k = c->n_params;
    double pred = c->f(x_eval + c->x_offset, p), g[K];
    if (!isfinite(pred) || !isfinite(sse) || sse >= 1e19)
        return 0;
    out->ok = 1;
    memcpy(out->p, p, sizeof(double) * (size_t)k);
    out->sse = sse;
    out->prediction = pred;
    out->iterations = iterations;
    double s2 = sse > 1e-12 ? sse : 1e-12;
    out->aic = n * log(s2 / n) + 2.0 * k;
    if (n - k - 1 > 0)
        out->aic += 2.0 * k * (k + 1) / (n - k - 1);
    gsl_matrix *cov = w->covar[k];
    out->sigma = INFINITY;
    if (n > k && gsl_multifit_nlinear_covar(J, 1e-12, cov) == GSL_SUCCESS) {
        c->df(x_eval + c->x_offset, p, g);
        for (int j = 0; j < k; j++)
            g[j] *= dpdu[j];
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

/* One robust solve from start point p0; fills out and returns 1 when it
 * gives a usable prediction. */
static int fit_from(a4nn_fitter *w, gsl_multifit_nlinear_workspace *ws, const a4nn_curve *c,
                    const double *x, const double *y, int n, double x_eval, const double *p0,
                    a4nn_fit *out)
{
    const int k = c->n_params;
    problem pr = {c, x, y, n};
    gsl_multifit_nlinear_fdf fdf = {residuals, jacobian, NULL, (size_t)n, (size_t)k, &pr, 0, 0, 0};
    double u0[K];
    for (int j = 0; j < k; j++)
        u0[j] = to_internal(p0[j], c->lower[j], c->upper[j]);
    gsl_vector_view uv = gsl_vector_view_array(u0, (size_t)k);
    int info = 0;
    int status = gsl_multifit_nlinear_init(&uv.vector, &fdf, ws);
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(1000, 1e-8, 1e-8, 1e-10, NULL, NULL, &info, ws);
    if (status != GSL_SUCCESS)
        return 0;
    const gsl_vector *r = gsl_multifit_nlinear_residual(ws);
    double p[K], d[K];
    external(c, gsl_multifit_nlinear_position(ws), p, d);
    /* a parameter pinned at a finite upper bound means the data asked for
     * more than the curve allows (e.g. an asymptote above 200 %): degenerate,
     * no prediction */
    for (int j = 0; j < k; j++)
        if (isfinite(c->upper[j]) && p[j] >= c->upper[j] - 1e-6 * (1 + fabs(c->upper[j])))
            return 0;
    double sse;
    gsl_blas_ddot(r, r, &sse);
    return finish(w, c, n, x_eval, p, d, gsl_multifit_nlinear_jac(ws), sse,
                  (int)gsl_multifit_nlinear_niter(ws), out);
}

/* ---- reference fits: Trust Region Reflective ---------------------------------
 * Minimises 0.5 |f(p)|^2 over the box [lower, upper] with iterates kept
 * strictly inside it. Each iteration scales the variables by the Coleman-Li
 * vector v (the distance to the bound the negative gradient points at, else
 * 1): in the variables p = D p_h, D = diag(sqrt(v)), the trust region is a
 * ball that shrinks toward the bounds, and the term diag_h = g dv (>= 0) of
 * the Newton step of the scaled optimality condition D^2 g = 0 joins J^T J.
 * The trust-region subproblem is solved exactly through the SVD of
 * [J D; diag(sqrt(diag_h))]; a step that leaves the box competes with its
 * reflection at the bound and with the Cauchy step. Constants, tests and
 * counts are scipy's: Jacobian by forward differences (not counted as
 * evaluations), ftol = xtol = gtol = 1e-8, at most 100 k evaluations of the
 * residuals. */

#define TRF_TOL 1e-8

static double dot(const double *a, const double *b, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}
static double norm(const double *a, int n) { return sqrt(dot(a, a, n)); }
/* Python's max(a, b) and min(a, b): a unless b is strictly beyond it */
static double py_max(double a, double b) { return b > a ? b : a; }
static double py_min(double a, double b) { return b < a ? b : a; }

/* Residuals f(x_i; p) - y_i; 1 when all are finite. */
static int trf_residuals(const problem *pr, const double *p, double *r)
{
    int finite = 1;
    for (int i = 0; i < pr->n; i++) {
        r[i] = pr->c->f(pr->x[i] + pr->c->x_offset, p) - pr->y[i];
        finite &= isfinite(r[i]) != 0;
    }
    return finite;
}

/* Forward differences with step sqrt(eps) max(1, |p_j|), taken backward
 * where the forward point would leave the box. */
static void trf_jacobian(const problem *pr, const double *p, const double *r, double *J,
                         double *r_step)
{
    const a4nn_curve *c = pr->c;
    const int k = c->n_params;
    for (int j = 0; j < k; j++) {
        double h = sqrt(DBL_EPSILON) * (p[j] >= 0 ? 1 : -1) * fmax(1, fabs(p[j]));
        double below = p[j] - c->lower[j], above = c->upper[j] - p[j];
        if (fabs(h) > fmax(below, above)) /* no room for the step: to the farther bound */
            h = above >= below ? above : -below;
        else if (p[j] + h < c->lower[j] || p[j] + h > c->upper[j])
            h = -h;
        double q[K];
        memcpy(q, p, sizeof q);
        q[j] = p[j] + h;
        double dx = q[j] - p[j]; /* the step as represented */
        trf_residuals(pr, q, r_step);
        for (int i = 0; i < pr->n; i++)
            J[i * k + j] = (r_step[i] - r[i]) / dx;
    }
}

/* Coleman-Li scaling: v, and dv = dv/dp (-1, 0 or 1). */
static void cl_scaling(const a4nn_curve *c, const double *p, const double *g, double *v,
                       double *dv)
{
    for (int j = 0; j < c->n_params; j++) {
        v[j] = 1, dv[j] = 0;
        if (g[j] < 0 && isfinite(c->upper[j]))
            v[j] = c->upper[j] - p[j], dv[j] = -1;
        if (g[j] > 0 && isfinite(c->lower[j]))
            v[j] = p[j] - c->lower[j], dv[j] = 1;
    }
}

/* Moves p off the bounds it lies on: by rstep relative to the bound
 * (where p is that close to it), or with rstep 0 by one ulp inward. */
static void strictly_feasible(const a4nn_curve *c, double *p, double rstep)
{
    for (int j = 0; j < c->n_params; j++) {
        double lo = c->lower[j], hi = c->upper[j], below = p[j] - lo, above = hi - p[j];
        double tol_lo = rstep * fmax(1, fabs(lo)), tol_hi = rstep * fmax(1, fabs(hi));
        int at_lo, at_hi;
        if (rstep == 0) {
            at_lo = p[j] <= lo, at_hi = p[j] >= hi;
        } else {
            at_lo = isfinite(lo) && below <= fmin(above, tol_lo);
            at_hi = isfinite(hi) && above <= fmin(below, tol_hi);
        }
        if (at_hi)
            p[j] = rstep == 0 ? nextafter(hi, lo) : hi - tol_hi;
        else if (at_lo)
            p[j] = rstep == 0 ? nextafter(lo, hi) : lo + tol_lo;
        if (p[j] < lo || p[j] > hi)
            p[j] = 0.5 * (lo + hi);
    }
}

/* The step length t at which p + t s first meets a bound; hits (if not
 * NULL): sign(s_j) for the components that meet it there, else 0. */
static double step_to_bound(const a4nn_curve *c, const double *p, const double *s, int *hits)
{
    double t[K], t_min = INFINITY;
    for (int j = 0; j < c->n_params; j++) {
        t[j] = INFINITY;
        if (s[j] != 0)
            t[j] = fmax((c->lower[j] - p[j]) / s[j], (c->upper[j] - p[j]) / s[j]);
        t_min = fmin(t_min, t[j]);
    }
    for (int j = 0; hits && j < c->n_params; j++)
        hits[j] = t[j] == t_min ? (s[j] > 0) - (s[j] < 0) : 0;
    return t_min;
}

/* The model of the cost reduction in the scaled variables:
 * q(s) = 0.5 |J_h s|^2 + 0.5 s^T diag(diag_h) s + g_h^T s. */
typedef struct {
    const double *J_h, *g_h, *diag_h;
    int m, k;
} quad_model;

static double quad_value(const quad_model *q, const double *s)
{
    double js2 = 0, ds = 0;
    for (int i = 0; i < q->m; i++) {
        double js = dot(q->J_h + i * q->k, s, q->k);
        js2 += js * js;
    }
    for (int j = 0; j < q->k; j++)
        ds += s[j] * q->diag_h[j] * s[j];
    return 0.5 * (js2 + ds) + dot(s, q->g_h, q->k);
}

/* q(s0 + t s) = a t^2 + b t + c (s0 may be NULL: zero). */
static void quad_line(const quad_model *q, const double *s, const double *s0, double *a,
                      double *b, double *c)
{
    double vv = 0, uv = 0, uu = 0, ds = 0, d0s = 0, d00 = 0;
    for (int i = 0; i < q->m; i++) {
        const double *row = q->J_h + i * q->k;
        double v = dot(row, s, q->k), u = s0 ? dot(row, s0, q->k) : 0;
        vv += v * v, uv += u * v, uu += u * u;
    }
    for (int j = 0; j < q->k; j++) {
        ds += s[j] * q->diag_h[j] * s[j];
        if (s0)
            d0s += s0[j] * q->diag_h[j] * s[j], d00 += s0[j] * q->diag_h[j] * s0[j];
    }
    *a = 0.5 * (vv + ds);
    *b = dot(q->g_h, s, q->k);
    *c = 0;
    if (s0) {
        *b += uv + d0s;
        *c = 0.5 * uu + dot(q->g_h, s0, q->k) + 0.5 * d00;
    }
}

/* The least of a t^2 + b t + c over [lo, hi]: its value, t in *t. */
static double quad_min(double a, double b, double c, double lo, double hi, double *t)
{
    double cand[3] = {lo, hi, 0}, best = INFINITY;
    int n = 2;
    if (a != 0) {
        double e = -0.5 * b / a;
        if (lo < e && e < hi)
            cand[n++] = e;
    }
    for (int i = 0; i < n; i++) {
        double y = cand[i] * (a * cand[i] + b) + c;
        if (i == 0 || y < best)
            best = y, *t = cand[i];
    }
    return best;
}

/* The larger t with |x + t s| = Delta (|x| <= Delta); 0 when there is none. */
static int trust_region_exit(const double *x, const double *s, int k, double Delta, double *t)
{
    double a = dot(s, s, k), b = dot(x, s, k), c = dot(x, x, k) - Delta * Delta;
    if (a == 0 || c > 0)
        return 0;
    double d = sqrt(b * b - a * c), q = -(b + copysign(d, b));
    *t = fmax(q / a, c / q);
    return 1;
}

/* |p(alpha)| - Delta and its derivative, p(alpha) the Levenberg-Marquardt
 * step of parameter alpha in the SVD basis. */
static double tr_phi(double alpha, const double *suf, const double *s, int k, double Delta,
                     double *dphi)
{
    double pn = 0, sum = 0;
    for (int j = 0; j < k; j++) {
        double den = s[j] * s[j] + alpha, q = suf[j] / den;
        pn += q * q;
        sum += suf[j] * suf[j] / pow(den, 3);
    }
    pn = sqrt(pn);
    *dphi = -sum / pn;
    return pn - Delta;
}

static void minus_V_times(const gsl_matrix *V, const double *w, int k, double *p)
{
    for (int i = 0; i < k; i++) {
        double v = 0;
        for (int j = 0; j < k; j++)
            v += gsl_matrix_get(V, (size_t)i, (size_t)j) * w[j];
        p[i] = -v;
    }
}

/* The trust-region step in the scaled variables, given the SVD
 * J_aug = U diag(s) V^T and uf = U^T f: the Gauss-Newton step if it lies
 * within Delta, else the Levenberg-Marquardt step of norm Delta, its alpha
 * found by a few safeguarded Newton iterations (More) from the previous
 * alpha. Returns the alpha used. */
static double trust_region_step(int m, int k, const double *uf, const double *s,
                                const gsl_matrix *V, double Delta, double alpha, double *p)
{
    double suf[K], w[K];
    for (int j = 0; j < k; j++)
        suf[j] = s[j] * uf[j];
    int full_rank = m >= k && s[k - 1] > DBL_EPSILON * m * s[0];
    if (full_rank) {
        for (int j = 0; j < k; j++)
            w[j] = uf[j] / s[j];
        minus_V_times(V, w, k, p);
        if (norm(p, k) <= Delta)
            return 0;
    }
    double hi = norm(suf, k) / Delta, lo = 0, dphi, phi;
    if (full_rank) {
        phi = tr_phi(0, suf, s, k, Delta, &dphi);
        lo = -phi / dphi;
    }
    if (!full_rank && alpha == 0)
        alpha = py_max(0.001 * hi, sqrt(lo * hi));
    for (int it = 0; it < 10; it++) {
        if (alpha < lo || alpha > hi)
            alpha = py_max(0.001 * hi, sqrt(lo * hi));
        phi = tr_phi(alpha, suf, s, k, Delta, &dphi);
        if (phi < 0)
            hi = alpha;
        double ratio = phi / dphi;
        lo = py_max(lo, alpha - ratio);
        alpha -= (phi + Delta) * ratio / Delta;
        if (fabs(phi) < 0.01 * Delta)
            break;
    }
    for (int j = 0; j < k; j++)
        w[j] = suf[j] / (s[j] * s[j] + alpha);
    minus_V_times(V, w, k, p);
    double scale = Delta / norm(p, k); /* exactly on the trust-region boundary */
    for (int i = 0; i < k; i++)
        p[i] *= scale;
    return alpha;
}

/* The step to take from p given the trust-region solution p_h (scaled;
 * p_h is modified): p_h itself if D p_h stays in the box, else the best by
 * the model of (1) D p_h cut at the bound and stepped back to theta of it,
 * (2) from the bound, the reflection of p_h off it, (3) the Cauchy step
 * along -g_h, stopped at theta of the way to a bound. Writes the step
 * (step, scaled step_h) and its predicted reduction; returns 0 on a
 * degenerate reflection (scipy raises there). */
static int select_step(const a4nn_curve *c, const quad_model *q, const double *p, double *p_h,
                       const double *d, double Delta, double theta, double *step,
                       double *step_h, double *predicted)
{
    const int k = c->n_params;
    double pd[K], r_h[K], r[K], on_bound[K], ag_h[K], ag[K], a, b, cc, t;
    int inside = 1, hits[K];
    for (int j = 0; j < k; j++) {
        pd[j] = d[j] * p_h[j];
        double to = p[j] + pd[j];
        inside &= to >= c->lower[j] && to <= c->upper[j];
    }
    if (inside) {
        memcpy(step, pd, sizeof pd);
        memcpy(step_h, p_h, sizeof pd);
        *predicted = -quad_value(q, p_h);
        return 1;
    }
    double p_stride = step_to_bound(c, p, pd, hits);
    for (int j = 0; j < k; j++) {
        r_h[j] = hits[j] ? -p_h[j] : p_h[j];
        r[j] = d[j] * r_h[j];
        pd[j] *= p_stride, p_h[j] *= p_stride;
        on_bound[j] = p[j] + pd[j];
    }
    double to_tr, to_bound;
    if (!trust_region_exit(p_h, r_h, k, Delta, &to_tr))
        return 0;
    to_bound = step_to_bound(c, on_bound, r, NULL);
    /* the reflected step goes at least as far as the cut step stepped back,
     * and stays theta short of the next bound */
    double r_stride = py_min(to_bound, to_tr), r_lo = 0, r_hi = -1, r_value = INFINITY;
    if (r_stride > 0) {
        r_lo = (1 - theta) * p_stride / r_stride;
        r_hi = r_stride == to_bound ? theta * to_bound : to_tr;
    }
    if (r_lo <= r_hi) {
        quad_line(q, r_h, p_h, &a, &b, &cc);
        r_value = quad_min(a, b, cc, r_lo, r_hi, &t);
        for (int j = 0; j < k; j++) {
            r_h[j] = r_h[j] * t + p_h[j];
            r[j] = r_h[j] * d[j];
        }
    }
    for (int j = 0; j < k; j++)
        pd[j] *= theta, p_h[j] *= theta;
    double p_value = quad_value(q, p_h);
    for (int j = 0; j < k; j++)
        ag_h[j] = -q->g_h[j], ag[j] = d[j] * ag_h[j];
    to_tr = Delta / norm(ag_h, k);
    to_bound = step_to_bound(c, p, ag, NULL);
    quad_line(q, ag_h, NULL, &a, &b, &cc);
    double ag_value = quad_min(a, b, 0, 0, to_bound < to_tr ? theta * to_bound : to_tr, &t);
    for (int j = 0; j < k; j++)
        ag_h[j] *= t, ag[j] *= t;
    const double *s = ag, *s_h = ag_h;
    double value = ag_value;
    if (p_value < r_value && p_value < ag_value)
        s = pd, s_h = p_h, value = p_value;
    else if (r_value < p_value && r_value < ag_value)
        s = r, s_h = r_h, value = r_value;
    memcpy(step, s, sizeof pd);
    memcpy(step_h, s_h, sizeof pd);
    *predicted = -value;
    return 1;
}

/* g = J^T f */
static void gradient(const double *J, const double *f, int m, int k, double *g)
{
    for (int j = 0; j < k; j++)
        g[j] = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < k; j++)
            g[j] += J[i * k + j] * f[i];
}

/* Solves from p0 into p; returns 1 when the solver reports success (curve_fit
 * raises otherwise: no prediction), with the sum of squares and the number
 * of residual evaluations. */
static int trf_solve(trf_work *t, const problem *pr, const double *p0, double *p, double *sse,
                     int *nfev_out)
{
    const a4nn_curve *c = pr->c;
    const int k = c->n_params, m = pr->n, max_nfev = 100 * k;
    double *f = t->f, *f_new = t->f_new, g[K], v[K], dv[K], d[K], diag_h[K], g_h[K];
    double s[K], uf[K], vbuf[K * K], work[K], p_new[K];
    memcpy(p, p0, sizeof(double) * (size_t)k);
    strictly_feasible(c, p, 1e-10);
    if (!trf_residuals(pr, p, f))
        return 0;
    int nfev = 1, status = -1;
    double cost = 0.5 * dot(f, f, m), alpha = 0, Delta = 0;
    trf_jacobian(pr, p, f, t->J, t->f_step);
    gradient(t->J, f, m, k, g);
    cl_scaling(c, p, g, v, dv);
    for (int j = 0; j < k; j++) {
        double u = p[j] / sqrt(v[j]);
        Delta += u * u;
    }
    Delta = sqrt(Delta);
    if (Delta == 0)
        Delta = 1;
    gsl_matrix_view V = gsl_matrix_view_array(vbuf, (size_t)k, (size_t)k);
    gsl_vector_view S = gsl_vector_view_array(s, (size_t)k), W = gsl_vector_view_array(work, (size_t)k);
    quad_model q = {t->J_h, g_h, diag_h, m, k};
    for (;;) {
        cl_scaling(c, p, g, v, dv);
        double g_norm = 0; /* NaN when the Jacobian is not finite */
        for (int j = 0; j < k; j++)
            g_norm = isnan(g_norm) || !isfinite(g[j]) ? NAN : fmax(g_norm, fabs(g[j] * v[j]));
        if (g_norm < TRF_TOL)
            status = 1;
        if (status >= 0 || nfev == max_nfev)
            break;
        for (int j = 0; j < k; j++) {
            d[j] = sqrt(v[j]);
            diag_h[j] = g[j] * dv[j];
            g_h[j] = d[j] * g[j];
        }
        for (int i = 0; i < m + k; i++)
            for (int j = 0; j < k; j++) {
                double e = i < m ? t->J[i * k + j] * d[j] : i - m == j ? sqrt(diag_h[j]) : 0;
                if (!isfinite(e))
                    return 0; /* scipy's SVD refuses it */
                if (i < m)
                    t->J_h[i * k + j] = e;
                t->J_aug[i * k + j] = e;
            }
        gsl_matrix_view A = gsl_matrix_view_array(t->J_aug, (size_t)(m + k), (size_t)k);
        if (gsl_linalg_SV_decomp(&A.matrix, &V.matrix, &S.vector, &W.vector) != GSL_SUCCESS)
            return 0;
        for (int j = 0; j < k; j++) { /* U^T [f; 0] */
            uf[j] = 0;
            for (int i = 0; i < m; i++)
                uf[j] += t->J_aug[i * k + j] * f[i];
        }
        double theta = py_max(0.995, 1 - g_norm), actual = -1, cost_new = 0;
        while (actual <= 0 && nfev < max_nfev) {
            double p_h[K], step[K], step_h[K], predicted, ratio;
            alpha = trust_region_step(m, k, uf, s, &V.matrix, Delta, alpha, p_h);
            if (!select_step(c, &q, p, p_h, d, Delta, theta, step, step_h, &predicted))
                return 0;
            for (int j = 0; j < k; j++)
                p_new[j] = p[j] + step[j];
            strictly_feasible(c, p_new, 0);
            int finite = trf_residuals(pr, p_new, f_new);
            nfev++;
            double step_h_norm = norm(step_h, k);
            if (!finite) {
                Delta = 0.25 * step_h_norm;
                continue;
            }
            cost_new = 0.5 * dot(f_new, f_new, m);
            actual = cost - cost_new;
            /* the trust radius: shrink to a quarter of the step when the
             * model predicted badly, double when it did well at the radius */
            if (predicted > 0)
                ratio = actual / predicted;
            else
                ratio = predicted == actual && actual == 0;
            double Delta_new = Delta;
            if (ratio < 0.25)
                Delta_new = 0.25 * step_h_norm;
            else if (ratio > 0.75 && step_h_norm > 0.95 * Delta)
                Delta_new = 2 * Delta;
            /* converged: the cost or the parameters barely move */
            if ((actual < TRF_TOL * cost && ratio > 0.25) ||
                norm(step, k) < TRF_TOL * (TRF_TOL + norm(p, k))) {
                status = 2;
                break;
            }
            alpha *= Delta / Delta_new;
            Delta = Delta_new;
        }
        if (actual > 0) {
            memcpy(p, p_new, sizeof p_new);
            double *tmp = f;
            f = f_new, f_new = tmp;
            cost = cost_new;
            trf_jacobian(pr, p, f, t->J, t->f_step);
            gradient(t->J, f, m, k, g);
        }
    }
    *sse = dot(f, f, m);
    *nfev_out = nfev;
    return status > 0;
}

/* One reference solve from the curve's start point. */
static int fit_reference(a4nn_fitter *w, const a4nn_curve *c, const double *x, const double *y,
                         int n, double x_eval, a4nn_fit *out)
{
    const int k = c->n_params;
    problem pr = {c, x, y, n};
    double p[K], sse, one[K] = {1, 1, 1, 1};
    int nfev;
    if (!trf_solve(w->trf, &pr, c->start, p, &sse, &nfev))
        return 0;
    /* the uncertainty from the analytic Jacobian at the solution */
    for (int i = 0; i < n; i++) {
        double g[K];
        c->df(x[i] + c->x_offset, p, g);
        for (int j = 0; j < k; j++)
            w->trf->J[i * k + j] = isfinite(g[j]) ? g[j] : 0;
    }
    gsl_matrix_view J = gsl_matrix_view_array(w->trf->J, (size_t)n, (size_t)k);
    return finish(w, c, n, x_eval, p, one, &J.matrix, sse, nfev, out);
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
    if (w->mode == A4NN_FIT_REFERENCE) {
        out->starts = 1;
        fit_reference(w, c, x, y, n, x_eval, out);
        return;
    }
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
    for (int r = 0; r < 1 + A4NN_FIT_RESTARTS; r++) {
        double p0[K];
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
