/* The curve family of PENGUIN with analytic Jacobians, and the registry
 * (built-ins, curves registered from C, plug-ins loaded with dlopen). */
#include <dlfcn.h>
#include <math.h>
#include <string.h>

#include "a4nn/penguin.h"

#define INF INFINITY

/* default: a - b^(c - x) */
static double f_default(double x, const double *p) { return p[0] - pow(p[1], p[2] - x); }
static void d_default(double x, const double *p, double *g)
{
    double t = pow(p[1], p[2] - x);
    g[0] = 1;
    g[1] = -(p[2] - x) * t / p[1];
    g[2] = -t * log(p[1]);
}
/* pow2: a x^-b */
static double f_pow2(double x, const double *p) { return p[0] * pow(x, -p[1]); }
static void d_pow2(double x, const double *p, double *g)
{
    double t = pow(x, -p[1]);
    g[0] = t;
    g[1] = -p[0] * t * log(x);
}
/* pow3: a x^-b + c */
static double f_pow3(double x, const double *p) { return p[0] * pow(x, -p[1]) + p[2]; }
static void d_pow3(double x, const double *p, double *g)
{
    double t = pow(x, -p[1]);
    g[0] = t;
    g[1] = -p[0] * t * log(x);
    g[2] = 1;
}
/* log2: -a ln x + c */
static double f_log2(double x, const double *p) { return -p[0] * log(x) + p[1]; }
static void d_log2(double x, const double *p, double *g)
{
    g[0] = -log(x);
    g[1] = 1;
}
/* exp3: a e^(-bx) + c */
static double f_exp3(double x, const double *p) { return p[0] * exp(-p[1] * x) + p[2]; }
static void d_exp3(double x, const double *p, double *g)
{
    double t = exp(-p[1] * x);
    g[0] = t;
    g[1] = -p[0] * x * t;
    g[2] = 1;
}
/* exp2: a e^(-bx) */
static double f_exp2(double x, const double *p) { return p[0] * exp(-p[1] * x); }
static void d_exp2(double x, const double *p, double *g)
{
    double t = exp(-p[1] * x);
    g[0] = t;
    g[1] = -p[0] * x * t;
}
/* lin2: -a x + b */
static double f_lin2(double x, const double *p) { return -p[0] * x + p[1]; }
static void d_lin2(double x, const double *p, double *g)
{
    g[0] = -x;
    g[1] = 1;
}
/* vap3: exp(a + b/x + c ln x) */
static double f_vap3(double x, const double *p) { return exp(p[0] + p[1] / x + p[2] * log(x)); }
static void d_vap3(double x, const double *p, double *g)
{
    double t = f_vap3(x, p);
    g[0] = t;
    g[1] = t / x;
    g[2] = t * log(x);
}
/* mmf4: (a b + c x^d) / (b + x^d) */
static double f_mmf4(double x, const double *p)
{
    double xd = pow(x, p[3]);
    return (p[0] * p[1] + p[2] * xd) / (p[1] + xd);
}
static void d_mmf4(double x, const double *p, double *g)
{
    double xd = pow(x, p[3]), den = p[1] + xd, num = p[0] * p[1] + p[2] * xd;
    g[0] = p[1] / den;
    g[1] = (p[0] * den - num) / (den * den);
    g[2] = xd / den;
    double dxd = xd * log(x);
    g[3] = (p[2] * dxd * den - num * dxd) / (den * den);
}
/* wbl4: c - b e^(-a x^d) */
static double f_wbl4(double x, const double *p) { return p[2] - p[1] * exp(-p[0] * pow(x, p[3])); }
static void d_wbl4(double x, const double *p, double *g)
{
    double xd = pow(x, p[3]), e = exp(-p[0] * xd);
    g[0] = p[1] * xd * e;
    g[1] = -e;
    g[2] = 1;
    g[3] = p[1] * e * p[0] * xd * log(x);
}
/* exp4: c - e^(-a x^alpha + b), p = (a, b, c, alpha) */
static double f_exp4(double x, const double *p) { return p[2] - exp(-p[0] * pow(x, p[3]) + p[1]); }
static void d_exp4(double x, const double *p, double *g)
{
    double xa = pow(x, p[3]), e = exp(-p[0] * xa + p[1]);
    g[0] = e * xa;
    g[1] = -e;
    g[2] = 1;
    g[3] = e * p[0] * xa * log(x);
}
/* janoschek: c - e^((x - b)^alpha), p = (b, c, alpha) */
static double f_jan(double x, const double *p) { return p[1] - exp(pow(x - p[0], p[2])); }
static void d_jan(double x, const double *p, double *g)
{
    double u = x - p[0], ua = pow(u, p[2]), e = exp(ua);
    g[0] = e * p[2] * pow(u, p[2] - 1);
    g[1] = 1;
    g[2] = -e * ua * log(u);
}
/* pow4: c - (-a x + b)^-alpha, p = (a, b, c, alpha) */
static double f_pow4(double x, const double *p) { return p[2] - pow(-p[0] * x + p[1], -p[3]); }
static void d_pow4(double x, const double *p, double *g)
{
    double u = -p[0] * x + p[1], t = pow(u, -p[3]);
    g[0] = -p[3] * pow(u, -p[3] - 1) * x;
    g[1] = p[3] * pow(u, -p[3] - 1);
    g[2] = 1;
    g[3] = t * log(u);
}
/* ilog2: c - a / ln x */
static double f_ilog2(double x, const double *p) { return p[1] - p[0] / log(x); }
static void d_ilog2(double x, const double *p, double *g)
{
    g[0] = -1 / log(x);
    g[1] = 1;
}
/* expc3: c - (c - a) e^(-b x) */
static double f_expc3(double x, const double *p) { return p[2] - (p[2] - p[0]) * exp(-p[1] * x); }
static void d_expc3(double x, const double *p, double *g)
{
    double e = exp(-p[1] * x);
    g[0] = e;
    g[1] = (p[2] - p[0]) * x * e;
    g[2] = 1 - e;
}

/* x_offset: the curve is fitted on x + offset, so that x^d, ln x and 1/ln x
 * stay finite at epoch 0. Start points describe a curve rising toward ~95 %,
 * except the default curve's: (100.25, 2, 1) is where scipy's curve_fit
 * starts inside these bounds when given no start point, as the original
 * PENGUIN calls it; its recorded predictions are reproduced from there, not
 * from (10, 1.001, 100). */
static const a4nn_curve builtin[] = {
    {"default", "a - b^(c - x)", 3, f_default, d_default, {100.25, 2, 1}, {0.5, 1, 0}, {200, INF, INF}, 0},
    {"pow2", "a x^-b", 2, f_pow2, d_pow2, {80, -0.05}, {-INF, -INF}, {INF, INF}, 1},
    {"pow3", "a x^-b + c", 3, f_pow3, d_pow3, {-20, 0.5, 95}, {-INF, 0, -INF}, {INF, INF, INF}, 1},
    {"log2", "-a ln x + c", 2, f_log2, d_log2, {-5, 80}, {-INF, -INF}, {INF, INF}, 1},
    {"exp3", "a e^(-b x) + c", 3, f_exp3, d_exp3, {-20, 0.5, 95}, {-INF, 0, -INF}, {INF, INF, INF}, 0},
    {"exp2", "a e^(-b x)", 2, f_exp2, d_exp2, {85, -0.01}, {-INF, -INF}, {INF, INF}, 0},
    {"lin2", "-a x + b", 2, f_lin2, d_lin2, {-0.5, 85}, {-INF, -INF}, {INF, INF}, 0},
    {"vap3", "exp(a + b/x + c ln x)", 3, f_vap3, d_vap3, {4.5, -0.1, 0.01}, {-INF, -INF, -INF}, {INF, INF, INF}, 1},
    {"mmf4", "(a b + c x^d) / (b + x^d)", 4, f_mmf4, d_mmf4, {50, 1, 97, 1}, {-INF, 1e-9, -INF, 1e-9}, {INF, INF, INF, INF}, 1},
    {"wbl4", "c - b e^(-a x^d)", 4, f_wbl4, d_wbl4, {0.5, 40, 97, 1}, {0, -INF, -INF, 1e-9}, {INF, INF, INF, INF}, 1},
    {"exp4", "c - e^(-a x^alpha + b)", 4, f_exp4, d_exp4, {0.5, 3.5, 97, 1}, {0, -INF, -INF, 1e-9}, {INF, INF, INF, INF}, 1},
    {"janoschek", "c - e^((x - b)^alpha)", 3, f_jan, d_jan, {-1, 97, -0.5}, {-INF, -INF, -INF}, {-1e-6, INF, INF}, 0},
    {"pow4", "c - (-a x + b)^-alpha", 4, f_pow4, d_pow4, {-1, 1, 97, 1}, {-INF, 1e-9, -INF, 1e-9}, {0, INF, INF, INF}, 0},
    {"ilog2", "c - a / ln x", 2, f_ilog2, d_ilog2, {10, 97}, {-INF, -INF}, {INF, INF}, 2},
    {"expc3", "c - (c - a) e^(-b x)", 3, f_expc3, d_expc3, {60, 0.5, 97}, {-INF, 0, -INF}, {INF, INF, INF}, 0},
};

struct a4nn_curve_registry {
    int n, cap;
    a4nn_curve *curves;
    int n_handles;
    void *handles[64];
};

a4nn_curve_registry *a4nn_curve_registry_alloc(void)
{
    a4nn_curve_registry *r = a4nn_calloc(1, sizeof *r);
    r->cap = (int)A4NN_ARRAY_LEN(builtin) + 16;
    r->curves = a4nn_calloc((size_t)r->cap, sizeof(a4nn_curve));
    for (size_t i = 0; i < A4NN_ARRAY_LEN(builtin); i++)
        r->curves[r->n++] = builtin[i];
    return r;
}

void a4nn_curve_registry_free(a4nn_curve_registry *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_handles; i++)
        dlclose(r->handles[i]);
    free(r->curves);
    free(r);
}

int a4nn_curve_register(a4nn_curve_registry *r, const a4nn_curve *c, a4nn_error *err)
{
    if (!c->f || !c->df || c->n_params < 1 || c->n_params > A4NN_CURVE_MAX_PARAMS ||
        !c->name[0] || memchr(c->name, '\0', sizeof c->name) == NULL)
        return a4nn_errorf(err, "curve '%.31s': needs a name, 1..%d parameters, f and df",
                           c->name, A4NN_CURVE_MAX_PARAMS);
    for (int i = 0; i < c->n_params; i++)
        if (!(c->lower[i] <= c->start[i] && c->start[i] <= c->upper[i]))
            return a4nn_errorf(err, "curve '%s': start of parameter %d outside its bounds",
                               c->name, i + 1);
    if (a4nn_curve_find(r, c->name))
        return a4nn_errorf(err, "curve '%s' is already registered", c->name);
    if (r->n == r->cap) {
        r->cap *= 2;
        r->curves = a4nn_realloc(r->curves, sizeof(a4nn_curve) * (size_t)r->cap);
    }
    r->curves[r->n++] = *c;
    return A4NN_OK;
}

int a4nn_curve_load_plugin(a4nn_curve_registry *r, const char *path, a4nn_error *err)
{
    if (r->n_handles >= (int)A4NN_ARRAY_LEN(r->handles))
        return a4nn_errorf(err, "too many curve plug-ins");
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return a4nn_errorf(err, "cannot load curve plug-in %s: %s", path, dlerror());
    int (*entry)(a4nn_curve *) = (int (*)(a4nn_curve *))dlsym(h, "a4nn_curve_plugin");
    a4nn_curve c;
    memset(&c, 0, sizeof c);
    if (!entry || entry(&c) != 0) {
        dlclose(h);
        return a4nn_errorf(err, "curve plug-in %s: no working a4nn_curve_plugin() entry", path);
    }
    if (a4nn_curve_register(r, &c, err) != A4NN_OK) {
        dlclose(h);
        return A4NN_ERR;
    }
    r->handles[r->n_handles++] = h;
    return A4NN_OK;
}

const a4nn_curve *a4nn_curve_find(const a4nn_curve_registry *r, const char *name)
{
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->curves[i].name, name))
            return &r->curves[i];
    return NULL;
}

int a4nn_curve_count(const a4nn_curve_registry *r) { return r->n; }
const a4nn_curve *a4nn_curve_at(const a4nn_curve_registry *r, int i) { return &r->curves[i]; }
