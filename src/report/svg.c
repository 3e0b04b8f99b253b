/* report: the sections of the HTML report as static HTML and inline SVG, so
 * the report reads (and prints) with JavaScript off; the script only adds
 * table sorting and hover highlights. */
#include "html_assets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

static const char *const RUNCOL[] = {"#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"};
#define RUN_COLOUR(r) RUNCOL[(r) % (int)A4NN_ARRAY_LEN(RUNCOL)]
#define DASH "\xe2\x80\x93" /* en dash: no value */

void a4nn_html_text(FILE *o, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '&': fputs("&amp;", o); break;
        case '"': fputs("&quot;", o); break;
        default: fputc(*s, o);
        }
    }
}

/* A number for the reader: d decimals, a dash when unknown. */
static void num(FILE *o, double v, int d)
{
    if (isfinite(v))
        fprintf(o, "%.*f", d, v);
    else
        fputs(DASH, o);
}

/* The shortest text that reads back as the same double (data attributes). */
static void exact(FILE *o, double v)
{
    a4nn_report_shortest(o, v, "");
}

/* ---- scales, ticks and frames --------------------------------------------- */

typedef struct {
    double d0, d1, r0, r1;
    int log; /* log10 axis (d0 > 0) */
} scale;

static scale mkscale(double d0, double d1, double r0, double r1, int log)
{
    if (!(d1 > d0))
        d1 = d0 + (log ? d0 : 1.0);
    return (scale){d0, d1, r0, r1, log};
}

static double at(const scale *s, double v)
{
    double a = s->log ? log10(v) : v, lo = s->log ? log10(s->d0) : s->d0,
           hi = s->log ? log10(s->d1) : s->d1;
    return s->r0 + (a - lo) / (hi - lo) * (s->r1 - s->r0);
}

/* Round tick values inside the domain (1-2-5 steps; 1-2-5 per decade on a log
 * axis). Returns the count. */
static int ticks(const scale *s, int want, double *t, int cap)
{
    int n = 0;
    if (s->log) {
        for (int k = (int)floor(log10(s->d0)); k <= (int)ceil(log10(s->d1)) && n < cap; k++)
            for (int j = 0; j < 3 && n < cap; j++) {
                double v = (j == 0 ? 1 : j == 1 ? 2 : 5) * pow(10, k);
                if (v >= s->d0 * (1 - 1e-9) && v <= s->d1 * (1 + 1e-9))
                    t[n++] = v;
            }
        return n;
    }
    double span = s->d1 - s->d0, step = pow(10, floor(log10(span / want))), e = span / want / step;
    step *= e >= 7.5 ? 10 : e >= 3.5 ? 5 : e >= 1.5 ? 2 : 1;
    for (double v = ceil(s->d0 / step - 1e-9) * step; v <= s->d1 + 1e-9 * step && n < cap; v += step)
        t[n++] = fabs(v) < 1e-9 * step ? 0.0 : v;
    return n;
}

typedef struct {
    int l, r, t, b;
} margins;

static void svg_open(FILE *o, int w, int h, const char *cls, const char *label)
{
    fprintf(o, "<svg class=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\"", cls,
            w, h, w, h);
    if (label) {
        fputs(" aria-label=\"", o);
        a4nn_html_text(o, label);
        fputc('"', o);
    }
    fputs(">", o);
}

/* Grid, axes, tick labels and axis titles of a plot. */
static void frame(FILE *o, int W, int H, const scale *x, const scale *y, const char *xl,
                  const char *yl, margins m, int nx, int ny)
{
    double t[64];
    int n = ticks(x, nx, t, 64);
    fputs("<g class=\"grid\">", o);
    for (int i = 0; i < n; i++)
        fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/>", at(x, t[i]), at(x, t[i]),
                m.t, H - m.b);
    int k = ticks(y, ny, t + n, 64 - n);
    for (int i = n; i < n + k; i++)
        fprintf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", m.l, W - m.r, at(y, t[i]),
                at(y, t[i]));
    fputs("</g><g class=\"axis\">", o);
    for (int i = 0; i < n; i++)
        fprintf(o, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>", at(x, t[i]),
                H - m.b + 14, t[i]);
    for (int i = n; i < n + k; i++)
        fprintf(o, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>", m.l - 5,
                at(y, t[i]) + 4, t[i]);
    fprintf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", m.l, W - m.r, H - m.b, H - m.b);
    fprintf(o, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", m.l, m.l, m.t, H - m.b);
    if (xl && *xl)
        fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>", (m.l + W - m.r) / 2,
                H - 6, xl);
    if (yl && *yl)
        fprintf(o,
                "<text x=\"12\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 12 %d)\">%s"
                "</text>",
                (m.t + H - m.b) / 2, (m.t + H - m.b) / 2, yl);
    fputs("</g>", o);
}

/* ---- colours ----------------------------------------------------------------- */

/* Fitness colour: viridis by rank over every model of every run, so close
 * fitness values stay distinguishable. */
typedef struct {
    double *sorted;
    int n;
} fit_ranks;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static fit_ranks ranks_of(a4nn_report_run *const *runs, int n_runs)
{
    int total = 0;
    for (int r = 0; r < n_runs; r++)
        total += runs[r]->n_models;
    fit_ranks f = {a4nn_malloc(sizeof(double) * (size_t)(total > 0 ? total : 1)), 0};
    for (int r = 0; r < n_runs; r++)
        for (int i = 0; i < runs[r]->n_models; i++)
            if (isfinite(runs[r]->models[i].fitness))
                f.sorted[f.n++] = runs[r]->models[i].fitness;
    qsort(f.sorted, (size_t)f.n, sizeof(double), cmp_double);
    return f;
}

static double rank_of(const fit_ranks *f, double v)
{
    if (!isfinite(v) || f->n < 2)
        return 1.0;
    int lo = 0, hi = f->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (f->sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    int lo2 = lo;
    hi = f->n;
    while (lo2 < hi) {
        int mid = (lo2 + hi) / 2;
        if (f->sorted[mid] <= v)
            lo2 = mid + 1;
        else
            hi = mid;
    }
    return (lo + lo2 - 1) / 2.0 / (f->n - 1);
}

static void viridis(double t, char *buf, size_t cap)
{
    static const int V[5][3] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    if (!isfinite(t)) {
        snprintf(buf, cap, "#999");
        return;
    }
    t = fmax(0, fmin(1, t)) * 4;
    int i = (int)fmin(3, floor(t));
    double f = t - i;
    snprintf(buf, cap, "rgb(%d,%d,%d)", (int)lround(V[i][0] + f * (V[i + 1][0] - V[i][0])),
             (int)lround(V[i][1] + f * (V[i + 1][1] - V[i][1])),
             (int)lround(V[i][2] + f * (V[i + 1][2] - V[i][2])));
}

static const char *fcol(const fit_ranks *f, double v, char *buf)
{
    viridis(rank_of(f, v), buf, 32);
    return buf;
}

static double quant(const fit_ranks *f, double q)
{
    return f->n ? f->sorted[(int)lround(q * (f->n - 1))] : NAN;
}

static void legend_fitness(FILE *o, const fit_ranks *f, const char *id)
{
    fputs("<div class=\"legend\"><span>", o);
    svg_open(o, 160, 14, "lg", NULL);
    fprintf(o, "<defs><linearGradient id=\"%s\">", id);
    for (int i = 0; i <= 4; i++) {
        char c[32];
        viridis(i / 4.0, c, sizeof c);
        fprintf(o, "<stop offset=\"%d%%\" stop-color=\"%s\"/>", 25 * i, c);
    }
    fprintf(o, "</linearGradient></defs><rect x=\"0\" y=\"2\" width=\"160\" height=\"10\" "
               "fill=\"url(#%s)\"/></svg> fitness rank, low &rarr; high (min ", id);
    num(o, f->n ? f->sorted[0] : NAN, 2);
    fputs(" %, quartiles ", o);
    num(o, quant(f, 0.25), 2), fputs(" / ", o), num(o, quant(f, 0.5), 2), fputs(" / ", o);
    num(o, quant(f, 0.75), 2), fputs(" %, max ", o), num(o, f->n ? f->sorted[f->n - 1] : NAN, 2);
    fputs(" %)</span></div>", o);
}

/* Accuracy axis: 5 % steps around the values, within [0, 100]. */
static void acc_domain(const double *v, int n, double *lo, double *hi)
{
    double a = INFINITY, b = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            a = fmin(a, v[i]), b = fmax(b, v[i]);
    if (!isfinite(a)) {
        *lo = 0, *hi = 100;
        return;
    }
    *lo = fmax(0, floor((a - 2) / 5) * 5);
    *hi = fmin(100, ceil((b + 1) / 5) * 5);
    if (*hi <= *lo)
        *hi = *lo + 5;
}

/* Closes a plot coloured by fitness and adds the colour legend (ids unique
 * per plot and run). */
static void plot_end(FILE *o, const fit_ranks *f, const char *plot, int r)
{
    char id[48];
    snprintf(id, sizeof id, "vir-%s-%d", plot, r);
    fputs("</svg>", o);
    legend_fitness(o, f, id);
}

static void panel_open(FILE *o, const a4nn_report_run *run, int r)
{
    fprintf(o, "<div class=\"panel\" data-run=\"%d\"><h3><span class=\"swatch\" "
               "style=\"background:%s\"></span>", r, RUN_COLOUR(r));
    a4nn_html_text(o, run->name);
    fputs("</h3>", o);
}

static void anchor(FILE *o, int r, const a4nn_report_model *m)
{
    fprintf(o, "r%d-m%d", r, m->id);
}

/* The model's final-accuracy prediction: the converged one, else the last. */
static double final_prediction(const a4nn_report_model *m)
{
    for (int i = 0; i < m->n_preds; i++)
        if (m->preds[i].converged && isfinite(m->preds[i].prediction))
            return m->preds[i].prediction;
    for (int i = m->n_preds - 1; i >= 0; i--)
        if (isfinite(m->preds[i].prediction))
            return m->preds[i].prediction;
    return NAN;
}

/* ---- summary and configuration differences ----------------------------------- */

typedef struct {
    char **keys, **vals;
    int n, cap;
} kv_list;

static int kv_add(void *user, const char *section, const char *key, const char *value)
{
    kv_list *l = user;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 32;
        l->keys = a4nn_realloc(l->keys, sizeof *l->keys * (size_t)l->cap);
        l->vals = a4nn_realloc(l->vals, sizeof *l->vals * (size_t)l->cap);
    }
    size_t len = strlen(section) + strlen(key) + 2;
    l->keys[l->n] = a4nn_malloc(len);
    snprintf(l->keys[l->n], len, "%s.%s", section, key);
    l->vals[l->n++] = a4nn_strdup(value);
    return 1;
}

static const char *kv_get(const kv_list *l, const char *key)
{
    for (int i = l->n - 1; i >= 0; i--)
        if (!strcmp(l->keys[i], key))
            return l->vals[i];
    return NULL;
}

static void kv_free(kv_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->keys[i]), free(l->vals[i]);
    free(l->keys), free(l->vals);
}

/* The configuration keys whose values differ between the runs. */
static void config_diff(FILE *o, a4nn_report_run *const *runs, int n_runs)
{
    kv_list *cfg = a4nn_calloc((size_t)n_runs, sizeof *cfg);
    for (int r = 0; r < n_runs; r++)
        if (runs[r]->config)
            ini_parse_string(runs[r]->config, kv_add, &cfg[r]);
    int shown = 0;
    for (int r = 0; r < n_runs; r++)
        for (int i = 0; i < cfg[r].n; i++) {
            const char *key = cfg[r].keys[i];
            int seen = 0, differs = 0;
            for (int q = 0; q < r && !seen; q++)
                seen = kv_get(&cfg[q], key) != NULL;
            for (int j = 0; j < i && !seen; j++)
                seen = !strcmp(cfg[r].keys[j], key);
            if (seen)
                continue;
            const char *first = kv_get(&cfg[0], key);
            for (int q = 1; q < n_runs && !differs; q++) {
                const char *v = kv_get(&cfg[q], key);
                differs = !first || !v ? first != v : strcmp(first, v) != 0;
            }
            if (!differs)
                continue;
            if (!shown++) {
                fputs("<h3>Configuration differences</h3><div class=\"tablewrap\"><table "
                      "class=\"config-diff\"><thead><tr><th class=\"l\">key</th>", o);
                for (int q = 0; q < n_runs; q++) {
                    fprintf(o, "<th class=\"l run\"><span class=\"swatch\" style=\"background:%s\">"
                               "</span> ", RUN_COLOUR(q));
                    a4nn_html_text(o, runs[q]->name);
                    fputs("</th>", o);
                }
                fputs("</tr></thead><tbody>", o);
            }
            fputs("<tr><td class=\"l\"><code>", o);
            a4nn_html_text(o, key);
            fputs("</code></td>", o);
            for (int q = 0; q < n_runs; q++) {
                const char *v = kv_get(&cfg[q], key);
                fputs("<td class=\"l\">", o);
                if (v)
                    a4nn_html_text(o, v);
                else
                    fputs("<i>not set</i>", o);
                fputs("</td>", o);
            }
            fputs("</tr>", o);
        }
    if (shown)
        fputs("</tbody></table></div>", o);
    else
        fputs("<p class=\"note\">The runs share one configuration.</p>", o);
    for (int r = 0; r < n_runs; r++)
        kv_free(&cfg[r]);
    free(cfg);
}

static void section_summary(FILE *o, a4nn_report_run *const *runs, int n_runs, double ref_mflops)
{
    static const struct {
        const char *label;
        int decimals;
    } ROWS[] = {{"models", 0},          {"epochs used", 0},
                {"epoch budget", 0},    {"epochs saved (%)", 1},
                {"training time (s)", 1}, {"time saved, est. (s)", 1},
                {"best accuracy (%)", 2}, {"best measured val. acc. (%)", 2},
                {"Pareto front size", 0}, {"hypervolume (%&middot;MFLOPs)", 1},
                {"workers", 0},         {"makespan (s)", 1},
                {"worker idle (%)", 1}};
    a4nn_report_summary *s = a4nn_calloc((size_t)n_runs, sizeof *s);
    for (int r = 0; r < n_runs; r++)
        a4nn_report_summarize(runs[r], ref_mflops, &s[r]);
    fputs("<div class=\"tablewrap\"><table class=\"summary\" id=\"summary-table\"><thead><tr><th "
          "class=\"l\"></th>", o);
    for (int r = 0; r < n_runs; r++) {
        fprintf(o, "<th><span class=\"swatch\" style=\"background:%s\"></span> ", RUN_COLOUR(r));
        a4nn_html_text(o, runs[r]->name);
        fputs("</th>", o);
    }
    fputs("</tr></thead><tbody>", o);
    for (size_t k = 0; k < A4NN_ARRAY_LEN(ROWS); k++) {
        fprintf(o, "<tr><td>%s</td>", ROWS[k].label);
        for (int r = 0; r < n_runs; r++) {
            const a4nn_report_summary *x = &s[r];
            const double v[] = {x->models,        (double)x->epochs_used, (double)x->epochs_budget,
                                x->saved_pct,     x->seconds_used,        x->seconds_saved,
                                x->best_accuracy, x->best_val,            x->front_size,
                                x->hypervolume,   x->workers,             x->makespan,
                                100.0 * x->idle_fraction};
            fputs("<td data-value=\"", o);
            exact(o, v[k]);
            fputs("\">", o);
            num(o, v[k], ROWS[k].decimals);
            fputs("</td>", o);
        }
        fputs("</tr>", o);
    }
    fputs("</tbody></table></div><p class=\"note\">Hypervolume of (100 &minus; fitness, MFLOPs), "
          "both minimised, reference point (100 %, ", o);
    num(o, ref_mflops, 1);
    fputs(" MFLOPs), shared by all runs. Time saved: skipped epochs &times; that model's mean epoch "
          "time. Epochs count the epochs of each model's learning curve (up to its stop).</p>", o);
    if (n_runs > 1)
        config_diff(o, runs, n_runs);
    free(s);
}

/* ---- Pareto front: every run on one plot ---------------------------------- */

static int cmp_mflops(const void *a, const void *b)
{
    const a4nn_report_model *x = *(a4nn_report_model *const *)a, *y = *(a4nn_report_model *const *)b;
    return (x->mflops > y->mflops) - (x->mflops < y->mflops);
}

static int plottable(const a4nn_report_model *m)
{
    return isfinite(m->fitness) && isfinite(m->mflops);
}

static void section_pareto(FILE *o, a4nn_report_run *const *runs, int n_runs)
{
    const int W = 780, H = 400;
    const margins mg = {56, 16, 12, 40};
    double mfmin = INFINITY, mfmax = -INFINITY;
    int total = 0;
    for (int r = 0; r < n_runs; r++)
        total += runs[r]->n_models;
    double *fit = a4nn_malloc(sizeof(double) * (size_t)(total + 1));
    int nf = 0;
    for (int r = 0; r < n_runs; r++)
        for (int i = 0; i < runs[r]->n_models; i++) {
            const a4nn_report_model *m = &runs[r]->models[i];
            if (!plottable(m))
                continue;
            mfmin = fmin(mfmin, m->mflops), mfmax = fmax(mfmax, m->mflops);
            fit[nf++] = m->fitness;
        }
    double ylo, yhi;
    acc_domain(fit, nf, &ylo, &yhi);
    free(fit);
    if (!isfinite(mfmin))
        mfmin = 0, mfmax = 1;
    /* the axis covers the data, not zero: log MFLOPs when they span a decade */
    int logx = mfmin > 0 && mfmax / mfmin >= 10;
    double x0, x1;
    if (logx)
        x0 = mfmin / 1.12, x1 = mfmax * 1.12;
    else {
        double pad = 0.06 * (mfmax - mfmin > 0 ? mfmax - mfmin : fmax(fabs(mfmax), 1));
        x0 = fmax(mfmin > 0 ? 0 : -INFINITY, mfmin - pad), x1 = mfmax + pad;
    }
    scale x = mkscale(x0, x1, mg.l, W - mg.r, logx), y = mkscale(ylo, yhi, H - mg.b, mg.t, 0);
    fputs("<div class=\"panel wide\">", o);
    svg_open(o, W, H, "plot pareto", "Pareto front: fitness against MFLOPs");
    frame(o, W, H, &x, &y, logx ? "MFLOPs (one image, forward; log scale)" : "MFLOPs (one image, forward)",
          "fitness: accuracy (%)", mg, 8, 6);
    for (int r = 0; r < n_runs; r++) { /* the front of each run as a step line */
        const a4nn_report_run *run = runs[r];
        const a4nn_report_model **front = a4nn_malloc(sizeof *front * (size_t)(run->n_models + 1));
        int nfr = 0;
        for (int i = 0; i < run->n_models; i++)
            if (run->models[i].on_front && plottable(&run->models[i]))
                front[nfr++] = &run->models[i];
        qsort(front, (size_t)nfr, sizeof *front, cmp_mflops);
        if (nfr) {
            fprintf(o, "<path class=\"front-line\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" "
                       "stroke-dasharray=\"4 3\" d=\"M%.1f,%.1f",
                    RUN_COLOUR(r), at(&x, front[0]->mflops), at(&y, ylo));
            for (int i = 0; i < nfr; i++) {
                double nx = i + 1 < nfr ? front[i + 1]->mflops : x1;
                fprintf(o, " L%.1f,%.1f L%.1f,%.1f", at(&x, front[i]->mflops),
                        at(&y, front[i]->fitness), at(&x, nx), at(&y, front[i]->fitness));
            }
            fputs("\"/>", o);
        }
        free(front);
    }
    for (int pass = 0; pass < 2; pass++) /* other models below, the fronts on top */
        for (int r = 0; r < n_runs; r++)
            for (int i = 0; i < runs[r]->n_models; i++) {
                const a4nn_report_model *m = &runs[r]->models[i];
                if (!plottable(m) || m->on_front != pass)
                    continue;
                double cx = at(&x, m->mflops), cy = at(&y, m->fitness);
                fputs("<a href=\"#", o), anchor(o, r, m), fputs("\">", o);
                fprintf(o, "<circle class=\"pt%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" "
                           "fill-opacity=\"%s\" stroke=\"%s\" stroke-width=\"0.8\" data-run=\"%d\" "
                           "data-id=\"%d\" data-fitness=\"",
                        m->on_front ? " front" : "", cx, cy, m->on_front ? "5.5" : "3.5",
                        RUN_COLOUR(r), m->on_front ? "0.95" : "0.35", m->on_front ? "#111" : "none",
                        r, m->id);
                exact(o, m->fitness), fputs("\" data-mflops=\"", o), exact(o, m->mflops);
                fprintf(o, "\"><title>%s%smodel %d: ", n_runs > 1 ? runs[r]->name : "",
                        n_runs > 1 ? " " : "", m->id);
                num(o, m->fitness, 2), fputs(" %, ", o), num(o, m->mflops, 2);
                fprintf(o, " MFLOPs, %d epochs (%s)%s</title></circle>", m->epochs_trained,
                        m->stop_reason, m->on_front ? ", on the front" : "");
                if (m->on_front) /* label the front with model numbers */
                    fprintf(o, "<text class=\"front-label\" x=\"%.1f\" y=\"%.1f\">#%d</text>",
                            cx + 7, cy - 6, m->id);
                fputs("</a>", o);
            }
    fputs("</svg><div class=\"legend\">", o);
    for (int r = 0; r < n_runs; r++) {
        int k = 0;
        for (int i = 0; i < runs[r]->n_models; i++)
            k += runs[r]->models[i].on_front;
        fprintf(o, "<span><span class=\"swatch\" style=\"background:%s\"></span>", RUN_COLOUR(r));
        a4nn_html_text(o, runs[r]->name);
        fprintf(o, ": %d of %d model%s on the front</span>", k, runs[r]->n_models,
                runs[r]->n_models == 1 ? "" : "s");
    }
    fputs("<span>Large outlined points with their model numbers: the front (dashed step line); "
          "faint points: the other models. A point links to its model.</span></div></div>", o);
}

/* ---- epochs and time saved ------------------------------------------------- */

static void section_savings(FILE *o, a4nn_report_run *const *runs, int n_runs, double ref_mflops)
{
    fputs("<div class=\"runs\">", o);
    for (int r = 0; r < n_runs; r++) {
        const a4nn_report_run *run = runs[r];
        a4nn_report_summary s;
        a4nn_report_summarize(run, ref_mflops, &s);
        const int W = 520, H = 230, x0 = 60, bw = W - x0 - 150;
        panel_open(o, run, r);
        svg_open(o, W, H, "plot", "epochs used and saved");
        double bud = s.epochs_budget > 0 ? (double)s.epochs_budget : 1.0;
        fprintf(o, "<text x=\"4\" y=\"30\">epochs</text><rect x=\"%d\" y=\"16\" width=\"%d\" "
                   "height=\"22\" fill=\"#e5e7eb\"/><rect x=\"%d\" y=\"16\" width=\"%.1f\" "
                   "height=\"22\" fill=\"%s\"/><text x=\"%d\" y=\"31\" style=\"fill:#fff\">%ld "
                   "used</text><text x=\"%d\" y=\"31\">",
                x0, bw, x0, bw * s.epochs_used / bud, RUN_COLOUR(r), x0 + 6, s.epochs_used,
                x0 + bw + 8);
        num(o, s.saved_pct, 1);
        fprintf(o, " %% saved of %ld</text>", s.epochs_budget);
        int *counts = a4nn_calloc((size_t)run->budget + 2, sizeof *counts), cmax = 1;
        for (int i = 0; i < run->n_models; i++) {
            int e = run->models[i].epochs_trained;
            if (e >= 0 && e <= run->budget && ++counts[e] > cmax)
                cmax = counts[e];
        }
        const margins mg = {52, 12, 56, 38};
        scale x = mkscale(0, run->budget + 1, mg.l, W - mg.r, 0), y = mkscale(0, cmax, H - mg.b, mg.t, 0);
        frame(o, W, H, &x, &y, "epochs trained per model", "models", mg, 6, 4);
        for (int e = 0; e <= run->budget; e++)
            if (counts[e])
                fprintf(o, "<rect class=\"hist\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                           "fill=\"%s\"><title>%d model%s trained %d epoch%s</title></rect>",
                        at(&x, e) + 1, at(&y, counts[e]), fmax(1, at(&x, e + 1) - at(&x, e) - 2),
                        at(&y, 0) - at(&y, counts[e]), e < run->budget ? "#f59e0b" : "#94a3b8",
                        counts[e], counts[e] == 1 ? "" : "s", e, e == 1 ? "" : "s");
        free(counts);
        fputs("</svg><div class=\"legend\">Training time ", o);
        num(o, s.seconds_used, 1);
        fputs(" s; about ", o);
        num(o, s.seconds_saved, 1);
        fputs(" s saved against full training. Orange: stopped early; grey: full budget.</div></div>",
              o);
    }
    fputs("</div>", o);
}

/* ---- learning curves with predictions ------------------------------------- */

static void polyline(FILE *o, const scale *x, const scale *y, const a4nn_report_model *m, int val,
                     const char *attrs)
{
    int any = 0;
    for (int i = 0; i < m->n_epochs; i++) {
        double v = val ? m->epochs[i].val_acc : m->epochs[i].train_acc;
        if (!isfinite(v))
            continue;
        fprintf(o, "%s%.1f,%.1f", any++ ? " " : "<polyline fill=\"none\" points=\"",
                at(x, m->epochs[i].epoch + 1), at(y, fmin(fmax(v, y->d0), y->d1)));
    }
    if (any)
        fprintf(o, "\" %s/>", attrs);
}

static int cmp_fitness_ptr(const void *a, const void *b)
{
    const a4nn_report_model *x = *(a4nn_report_model *const *)a, *y = *(a4nn_report_model *const *)b;
    double fx = isfinite(x->fitness) ? x->fitness : -1, fy = isfinite(y->fitness) ? y->fitness : -1;
    return (fx > fy) - (fx < fy);
}

static void section_curves(FILE *o, a4nn_report_run *const *runs, int n_runs, const fit_ranks *fr)
{
    fputs("<div class=\"runs\">", o);
    for (int r = 0; r < n_runs; r++) {
        const a4nn_report_run *run = runs[r];
        const int W = 520, H = 300;
        const margins mg = {52, 12, 10, 38};
        int nv = 0;
        for (int i = 0; i < run->n_models; i++)
            nv += run->models[i].n_epochs + 1;
        double *v = a4nn_malloc(sizeof *v * (size_t)(nv + 1));
        nv = 0;
        for (int i = 0; i < run->n_models; i++) {
            const a4nn_report_model *m = &run->models[i];
            for (int k = 0; k < m->n_epochs; k++)
                v[nv++] = m->epochs[k].val_acc;
            double p = final_prediction(m);
            if (p >= 0 && p <= 100)
                v[nv++] = p;
        }
        double lo, hi;
        acc_domain(v, nv, &lo, &hi);
        free(v);
        scale x = mkscale(0, run->budget, mg.l, W - mg.r, 0), y = mkscale(lo, hi, H - mg.b, mg.t, 0);
        panel_open(o, run, r);
        svg_open(o, W, H, "plot", "learning curves and predictions");
        frame(o, W, H, &x, &y, "epoch", "validation accuracy (%)", mg, 6, 5);
        fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#64748b\" "
                   "stroke-dasharray=\"5 3\"/>",
                at(&x, run->budget), at(&x, run->budget), mg.t, H - mg.b);
        const a4nn_report_model **order = a4nn_malloc(sizeof *order * (size_t)(run->n_models + 1));
        for (int i = 0; i < run->n_models; i++)
            order[i] = &run->models[i];
        qsort(order, (size_t)run->n_models, sizeof *order, cmp_fitness_ptr); /* best on top */
        for (int i = 0; i < run->n_models; i++) {
            const a4nn_report_model *m = order[i];
            if (m->n_epochs == 0)
                continue;
            char c[32];
            fcol(fr, m->fitness, c);
            fputs("<a href=\"#", o), anchor(o, r, m), fputs("\">", o);
            char attrs[160];
            snprintf(attrs, sizeof attrs,
                     "class=\"curve\" data-run=\"%d\" data-id=\"%d\" stroke=\"%s\" stroke-width=\"1.2\" "
                     "stroke-opacity=\"0.8\"",
                     r, m->id, c);
            polyline(o, &x, &y, m, 1, attrs);
            const a4nn_report_epoch *last = &m->epochs[m->n_epochs - 1];
            double lx = at(&x, last->epoch + 1), ly = isfinite(last->val_acc) ? at(&y, fmin(fmax(last->val_acc, lo), hi)) : NAN;
            double p = final_prediction(m);
            if (isfinite(ly) && p >= lo && p <= hi) { /* the prediction of the final accuracy */
                fprintf(o, "<line class=\"pred-line\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                           "stroke=\"%s\" stroke-width=\"0.8\" stroke-dasharray=\"2 3\"/>",
                        lx, ly, at(&x, run->budget), at(&y, p), c);
                fprintf(o, "<circle class=\"pred\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\" "
                           "stroke=\"#111\" stroke-width=\"0.5\"><title>model %d predicted ",
                        at(&x, run->budget), at(&y, p), c, m->id);
                num(o, p, 2);
                fprintf(o, " %% at epoch %d (%s)</title></circle>", run->budget,
                        m->converged_epoch >= 0 ? "converged" : "not converged");
            }
            if (isfinite(ly) && m->epochs_trained < run->budget)
                fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"#dc2626\"/>", lx, ly);
            fprintf(o, "<title>model %d: stopped after %d epoch%s, fitness ", m->id,
                    m->epochs_trained, m->epochs_trained == 1 ? "" : "s");
            num(o, m->fitness, 2);
            fputs("</title></a>", o);
        }
        free(order);
        plot_end(o, fr, "curves", r);
        fprintf(o, "<div class=\"legend\">Each line is one model (x = epochs completed); a red dot "
                   "marks an early stop; a dotted line leads to the model's predicted final "
                   "accuracy (ringed dot) at the %d-epoch budget (dashed).</div></div>",
                run->budget);
    }
    fputs("</div>", o);
}

static void mini_curve(FILE *o, const a4nn_report_run *run, const a4nn_report_model *m)
{
    const int W = 184, H = 112;
    const margins mg = {26, 8, 4, 16};
    double *v = a4nn_malloc(sizeof *v * (size_t)(2 * m->n_epochs + m->n_preds + 1));
    int nv = 0;
    for (int i = 0; i < m->n_epochs; i++)
        v[nv++] = m->epochs[i].val_acc, v[nv++] = m->epochs[i].train_acc;
    for (int i = 0; i < m->n_preds; i++)
        if (m->preds[i].prediction >= 0 && m->preds[i].prediction <= 100)
            v[nv++] = m->preds[i].prediction;
    double lo, hi;
    acc_domain(v, nv, &lo, &hi);
    free(v);
    scale x = mkscale(0, run->budget, mg.l, W - mg.r, 0), y = mkscale(lo, hi, H - mg.b, mg.t, 0);
    svg_open(o, W, H, "mini-plot", NULL);
    frame(o, W, H, &x, &y, "", "", mg, 3, 3);
    fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"4\" y2=\"%d\" stroke=\"#dc2626\" stroke-dasharray=\"3 2\"/>",
            at(&x, m->epochs_trained), at(&x, m->epochs_trained), H - 16);
    polyline(o, &x, &y, m, 0, "stroke=\"#9ca3af\" stroke-width=\"1\" stroke-dasharray=\"2 2\"");
    polyline(o, &x, &y, m, 1, "stroke=\"#2563eb\" stroke-width=\"1.5\"");
    for (int i = 0; i < m->n_preds; i++) {
        const a4nn_report_pred *p = &m->preds[i];
        if (!isfinite(p->prediction) || p->prediction < lo || p->prediction > hi)
            continue;
        fprintf(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>after epoch %d: "
                   "predicts ",
                at(&x, p->epoch + 1), at(&y, p->prediction), p->converged ? "3" : "1.8",
                p->converged ? "#dc2626" : "#f59e0b", p->epoch);
        num(o, p->prediction, 2);
        fprintf(o, " %% at epoch %d</title></circle>", run->budget);
    }
    fputs("</svg>", o);
}

static void section_every(FILE *o, a4nn_report_run *const *runs, int n_runs)
{
    fputs("<div class=\"runs\">", o);
    for (int r = 0; r < n_runs; r++) {
        const a4nn_report_run *run = runs[r];
        panel_open(o, run, r);
        fputs("<div class=\"mini\">", o);
        for (int i = 0; i < run->n_models; i++) {
            const a4nn_report_model *m = &run->models[i];
            fputs("<div id=\"c", o), anchor(o, r, m), fputs("\"><div style=\"border:0;padding:0\">", o);
            fputs("<a href=\"#", o), anchor(o, r, m);
            fprintf(o, "\"><b>#%d</b></a> ", m->id);
            num(o, m->fitness, 2);
            fprintf(o, " %% &middot; %d ep &middot; %s</div>", m->epochs_trained, m->stop_reason);
            mini_curve(o, run, m);
            fputs("</div>", o);
        }
        fputs("</div></div>", o);
    }
    fputs("</div>", o);
}

/* ---- worker timeline --------------------------------------------------------- */

static void section_timeline(FILE *o, a4nn_report_run *const *runs, int n_runs, const fit_ranks *fr)
{
    fputs("<div class=\"runs\">", o);
    for (int r = 0; r < n_runs; r++) {
        const a4nn_report_run *run = runs[r];
        panel_open(o, run, r);
        double t0 = INFINITY, t1 = -INFINITY;
        int nw = 0, *ws = a4nn_malloc(sizeof *ws * (size_t)(run->n_models + 1));
        for (int i = 0; i < run->n_models; i++) {
            const a4nn_report_model *m = &run->models[i];
            if (!isfinite(m->start_time) || !isfinite(m->end_time) || m->worker < 0)
                continue;
            t0 = fmin(t0, m->start_time), t1 = fmax(t1, m->end_time);
            int seen = 0;
            for (int k = 0; k < nw && !seen; k++)
                seen = ws[k] == m->worker;
            if (!seen)
                ws[nw++] = m->worker;
        }
        if (!nw) {
            fputs("<p class=\"note\">No start/end times in this run's commons.</p></div>", o);
            free(ws);
            continue;
        }
        for (int i = 1; i < nw; i++) /* ranks in order */
            for (int k = i; k > 0 && ws[k - 1] > ws[k]; k--) {
                int t = ws[k];
                ws[k] = ws[k - 1], ws[k - 1] = t;
            }
        double rowH = fmax(10, fmin(26, 300.0 / nw));
        const int W = 520, top = 10, H = 60 + (int)(rowH * nw);
        scale x = mkscale(0, t1 - t0, 70, W - 60, 0);
        svg_open(o, W, H, "plot", "worker timeline");
        double t[64];
        int nt = ticks(&x, 6, t, 64);
        fputs("<g class=\"axis\">", o);
        for (int i = 0; i < nt; i++)
            fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" stroke=\"#eef0f4\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>",
                    at(&x, t[i]), at(&x, t[i]), top, top + rowH * nw, at(&x, t[i]),
                    top + rowH * nw + 14, t[i]);
        fprintf(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds since the first model "
                   "started</text></g>",
                (70 + W - 60) / 2, H - 8);
        for (int k = 0; k < nw; k++) {
            double yy = top + k * rowH, busy = 0;
            fprintf(o, "<rect class=\"idle\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                       "fill=\"#fde2e2\"/><text x=\"64\" y=\"%.1f\" text-anchor=\"end\">rank %d</text>",
                    at(&x, 0), yy + 1, at(&x, t1 - t0) - at(&x, 0), rowH - 2, yy + rowH / 2 + 4,
                    ws[k]);
            for (int i = 0; i < run->n_models; i++) {
                const a4nn_report_model *m = &run->models[i];
                if (m->worker != ws[k] || !isfinite(m->start_time) || !isfinite(m->end_time))
                    continue;
                busy += m->end_time - m->start_time;
                char c[32];
                fputs("<a href=\"#", o), anchor(o, r, m), fputs("\">", o);
                fprintf(o, "<rect class=\"task\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                           "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.6\" data-run=\"%d\" "
                           "data-id=\"%d\"><title>model %d on rank %d: %.1f&ndash;%.1f s, %d epoch%s"
                           "</title></rect></a>",
                        at(&x, m->start_time - t0), yy + 1,
                        fmax(1, at(&x, m->end_time - t0) - at(&x, m->start_time - t0)), rowH - 2,
                        fcol(fr, m->fitness, c), r, m->id, m->id, ws[k], m->start_time - t0,
                        m->end_time - t0, m->epochs_trained, m->epochs_trained == 1 ? "" : "s");
            }
            fprintf(o, "<text x=\"%d\" y=\"%.1f\">%.0f%% idle</text>", W - 56, yy + rowH / 2 + 4,
                    t1 > t0 ? 100 * (1 - busy / (t1 - t0)) : 0.0);
        }
        plot_end(o, fr, "timeline", r);
        fputs("<div class=\"legend\">Bars: models coloured by fitness; pink gaps: worker idle.</div></div>", o);
        free(ws);
    }
    fputs("</div>", o);
}

/* ---- similarity map ------------------------------------------------------ */

static void section_similarity(FILE *o, a4nn_report_run *const *runs, int n_runs, const fit_ranks *fr)
{
    fputs("<div class=\"runs\">", o);
    for (int r = 0; r < n_runs; r++) {
        const a4nn_report_run *run = runs[r];
        const int W = 520, H = 340;
        const margins mg = {52, 12, 10, 38};
        double x0 = 0, x1 = 0, y0 = 0, y1 = 0;
        const a4nn_report_model **order = a4nn_malloc(sizeof *order * (size_t)(run->n_models + 1));
        int n = 0;
        for (int i = 0; i < run->n_models; i++) {
            const a4nn_report_model *m = &run->models[i];
            if (!m->has_genome || !isfinite(m->map_x) || !isfinite(m->map_y))
                continue;
            order[n++] = m;
            x0 = fmin(x0, m->map_x), x1 = fmax(x1, m->map_x);
            y0 = fmin(y0, m->map_y), y1 = fmax(y1, m->map_y);
        }
        double px = (x1 - x0) * 0.08, py = (y1 - y0) * 0.08;
        px = px > 0 ? px : 0.1, py = py > 0 ? py : 0.1;
        scale x = mkscale(x0 - px, x1 + px, mg.l, W - mg.r, 0),
              y = mkscale(y0 - py, y1 + py, H - mg.b, mg.t, 0);
        qsort(order, (size_t)n, sizeof *order, cmp_fitness_ptr);
        panel_open(o, run, r);
        svg_open(o, W, H, "plot", "architecture similarity map");
        frame(o, W, H, &x, &y, "MDS axis 1", "MDS axis 2", mg, 6, 5);
        for (int i = 0; i < n; i++) {
            const a4nn_report_model *m = order[i];
            char c[32];
            fputs("<a href=\"#", o), anchor(o, r, m), fputs("\">", o);
            fprintf(o, "<circle class=\"map\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" "
                       "stroke=\"%s\" stroke-width=\"%s\" data-run=\"%d\" data-id=\"%d\"><title>model "
                       "%d ",
                    at(&x, m->map_x), at(&y, m->map_y), m->on_front ? "6" : "4.5",
                    fcol(fr, m->fitness, c), m->on_front ? "#111" : "#fff",
                    m->on_front ? "1.4" : "0.6", r, m->id, m->id);
            a4nn_html_text(o, m->genome_text);
            fputs(": fitness ", o);
            num(o, m->fitness, 2);
            fputs("</title></circle></a>", o);
        }
        free(order);
        plot_end(o, fr, "map", r);
        fputs("<div class=\"legend\">Classical MDS of the distance 1 &minus; LCS similarity of the "
              "genomes' connectivity arrays; black ring: Pareto front.</div></div>", o);
    }
    fputs("</div>", o);
}

/* ---- model table ------------------------------------------------------------ */

static void td_num(FILE *o, double v, int d)
{
    fputs("<td data-v=\"", o);
    exact(o, v);
    fputs("\">", o);
    num(o, v, d);
    fputs("</td>", o);
}

/* The genome's phases as bit strings ("0101 110 ..."). */
static void genome_bits(FILE *o, const char *g)
{
    int any = 0, depth = 0;
    for (const char *p = g; *p; p++) {
        if (*p == '[' && ++depth == 2 && any)
            fputc(' ', o);
        else if (*p == ']')
            depth--;
        else if (*p == '0' || *p == '1')
            fputc(*p, o), any = 1;
    }
}

static void section_models(FILE *o, a4nn_report_run *const *runs, int n_runs)
{
    fputs("<div class=\"runs\">", o);
    for (int r = 0; r < n_runs; r++) {
        const a4nn_report_run *run = runs[r];
        panel_open(o, run, r);
        fprintf(o, "<div class=\"tablewrap\"><table class=\"models\" data-run=\"%d\"><thead><tr>"
                   "<th>model</th><th class=\"l\">genome</th><th>MFLOPs</th><th>params</th>"
                   "<th>epochs</th><th>converged after</th><th class=\"l\">stop</th>"
                   "<th>fitness (%%)</th><th>last val. (%%)</th><th>worker</th><th>seconds</th>"
                   "<th class=\"l\">nearest (sim., fitness)</th><th class=\"l\">front</th></tr>"
                   "</thead><tbody>",
                r);
        for (int i = 0; i < run->n_models; i++) {
            const a4nn_report_model *m = &run->models[i];
            fputs("<tr id=\"", o), anchor(o, r, m);
            fprintf(o, "\"%s data-id=\"%d\" data-fitness=\"", m->on_front ? " class=\"front\"" : "",
                    m->id);
            exact(o, m->fitness), fputs("\" data-mflops=\"", o), exact(o, m->mflops);
            fprintf(o, "\" data-epochs=\"%d\"><td data-v=\"%d\"><a href=\"#c", m->epochs_trained, m->id);
            anchor(o, r, m);
            fprintf(o, "\">#%d</a></td><td class=\"l\" data-v=\"", m->id);
            a4nn_html_text(o, m->genome_text);
            fputs("\"><code title=\"", o);
            a4nn_html_text(o, m->genome_text);
            fputs("\">", o);
            genome_bits(o, m->genome_text);
            fputs("</code></td>", o);
            td_num(o, m->mflops, 2);
            td_num(o, m->params >= 0 ? (double)m->params : NAN, 0);
            td_num(o, m->epochs_trained, 0);
            /* converged after N epochs: the same count as "epochs" */
            td_num(o, m->converged_epoch >= 0 ? m->converged_epoch + 1.0 : NAN, 0);
            fputs("<td class=\"l\" data-v=\"", o), a4nn_html_text(o, m->stop_reason);
            fputs("\">", o), a4nn_html_text(o, m->stop_reason), fputs("</td>", o);
            td_num(o, m->fitness, 2);
            td_num(o, m->last_val, 2);
            td_num(o, m->worker >= 0 ? (double)m->worker : NAN, 0);
            td_num(o, m->train_seconds, 1);
            if (m->n_nb) {
                fputs("<td class=\"l\" data-v=\"", o);
                exact(o, m->nb[0].similarity);
                fprintf(o, "\">#%d (", m->nb[0].id);
                num(o, m->nb[0].similarity, 2), fputs(", ", o), num(o, m->nb[0].fitness, 2);
                fputs(")</td>", o);
            } else
                fputs("<td class=\"l\" data-v=\"\"></td>", o);
            fprintf(o, "<td class=\"l\" data-v=\"%d\">%s</td></tr>", m->on_front,
                    m->on_front ? "&#9733;" : "");
        }
        fputs("</tbody></table></div><div class=\"legend\">The model number links to its learning "
              "curve; with JavaScript on, a click on a column sorts it. Epochs and \"converged "
              "after\" both count trained epochs.</div></div>",
              o);
    }
    fputs("</div>", o);
}

void a4nn_report_write_sections(FILE *o, a4nn_report_run *const *runs, int n_runs)
{
    static const struct {
        const char *id, *title, *note;
    } S[] = {
        {"summary", "Summary", NULL},
        {"pareto", "Pareto front: accuracy against cost",
         "Fitness is the converged PENGUIN prediction (or the last measured validation accuracy "
         "when a model never converged). Front: no other model of the same run is both more "
         "accurate and cheaper. Every run is drawn on the same axes."},
        {"savings", "Epochs and time saved against full training", NULL},
        {"curves", "Learning curves and predictions", NULL},
        {"timeline", "Worker timeline", "Which rank trained which model when."},
        {"similarity", "Architecture similarity map", NULL},
        {"models", "Models", NULL},
        {"every", "Every model's learning curve",
         "Validation accuracy (blue), training accuracy (grey, dashed), PENGUIN predictions of the "
         "final accuracy (orange; red once converged) and the stop (red dashed line)."},
    };
    double mx = 0; /* one hypervolume reference for all runs */
    for (int r = 0; r < n_runs; r++)
        for (int i = 0; i < runs[r]->n_models; i++)
            if (isfinite(runs[r]->models[i].mflops) && runs[r]->models[i].mflops > mx)
                mx = runs[r]->models[i].mflops;
    double ref = mx > 0 ? 1.1 * mx : 1.0;
    fit_ranks fr = ranks_of(runs, n_runs);
    for (size_t i = 0; i < A4NN_ARRAY_LEN(S); i++) {
        fprintf(o, "<section id=\"%s\"><h2>%s</h2>", S[i].id, S[i].title);
        if (S[i].note)
            fprintf(o, "<p class=\"note\">%s</p>", S[i].note);
        switch (i) {
        case 0: section_summary(o, runs, n_runs, ref); break;
        case 1: section_pareto(o, runs, n_runs); break;
        case 2: section_savings(o, runs, n_runs, ref); break;
        case 3: section_curves(o, runs, n_runs, &fr); break;
        case 4: section_timeline(o, runs, n_runs, &fr); break;
        case 5: section_similarity(o, runs, n_runs, &fr); break;
        case 6: section_models(o, runs, n_runs); break;
        default: section_every(o, runs, n_runs); break;
        }
        fputs("</section>\n", o);
    }
    free(fr.sorted);
}
