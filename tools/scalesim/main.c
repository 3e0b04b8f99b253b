/* a4nn-scalesim: discrete-event simulation, in one process, of the a4nn
 * search at scale: generational (a barrier per generation) versus
 * asynchronous (steady-state) NSGA-II over W workers, each model's training
 * replayed from the reference learning curves and stopped where PENGUIN
 * stops it. Writes worker utilisation and time-to-solution per (mode,
 * workers) as CSV and an SVG plot.
 *
 * The search is the real one: genomes come from the search module's NSGA-II
 * (random initial population, tournament, crossover, mutation, duplicate
 * elimination, environmental selection), each genome's MFLOPs from its
 * decoded network, and the epochs a model trains and its fitness from the
 * PENGUIN library replaying the reference curve the genome maps to (the
 * curve with the same genome, else one picked by a hash of the genome text,
 * as the replay backend of `a4nn run` does).
 *
 * Time model (documented in docs/cluster.md): one epoch of a model of F
 * MFLOPs (forward, one image) on one GPU takes
 *     t = overhead + F * 1e6 * (3 * n_train + n_val) / (tflops * 1e12)
 * seconds (training costs about three forward passes per image, validation
 * one), times a log-normal jitter exp(jitter * N(0,1)) per epoch. The search
 * rank handles one task at a time: each dispatch costs `dispatch` seconds of
 * its time, so it can become the bottleneck at large W. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/penguin.h"
#include "a4nn/search.h"
#include "a4nn/util.h"

#define MAX_RUNS 64

typedef struct {
    const char *curves, *csv, *svg;
    int workers[MAX_RUNS], n_workers;
    int modes[2], n_modes; /* 0 generational, 1 async */
    int gens;              /* generations of children (models = pop * (gens + 1)) */
    int pop;               /* 0: = workers */
    int batch_div;         /* async: children made per NSGA-II call = pop / batch_div */
    int penguin;
    double tflops, overhead, jitter, dispatch;
    long n_train, n_val;
    uint64_t seed;
    a4nn_penguin_config pcfg;
} sim_opts;

typedef struct {
    int mode, workers, pop, models;
    long epochs, epochs_budget;
    double makespan, busy, utilisation, best_fitness, front_size, search_busy;
} sim_result;

/* Per reference curve: what PENGUIN makes of it. */
typedef struct {
    const a4nn_curve_set *set;
    int *epochs;     /* epochs trained */
    double *fitness; /* fitness the search sees */
} replay_table;

/* ---- a binary min-heap of (time, worker) ---------------------------------------- */
typedef struct {
    double t;
    int w;
} ev;
typedef struct {
    ev *a;
    int n;
} heap;
static void heap_push(heap *h, double t, int w)
{
    int i = h->n++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (h->a[p].t < t || (h->a[p].t == t && h->a[p].w < w))
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = (ev){t, w};
}
static ev heap_pop(heap *h)
{
    ev top = h->a[0], last = h->a[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && (h->a[c + 1].t < h->a[c].t ||
                             (h->a[c + 1].t == h->a[c].t && h->a[c + 1].w < h->a[c].w)))
            c++;
        if (last.t < h->a[c].t || (last.t == h->a[c].t && last.w < h->a[c].w))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    h->a[i] = last;
    return top;
}

/* ---- one model ---------------------------------------------------------------------- */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

typedef struct {
    double duration, fitness, mflops;
    int epochs;
} model_eval;

static int evaluate(const sim_opts *o, const replay_table *rt, const a4nn_genome *g,
                    a4nn_arch *arch, a4nn_rng *rng, model_eval *out, a4nn_error *err)
{
    char text[256];
    if (a4nn_genome_format(g, text, sizeof text) < 0)
        return a4nn_errorf(err, "genome does not format");
    if (a4nn_arch_build(g, 1, 127, 127, 24, 2, arch, err) != A4NN_OK)
        return A4NN_ERR;
    const a4nn_curve_set *cs = rt->set;
    int k = -1;
    for (int i = 0; i < cs->n_models && k < 0; i++)
        if (!strcmp(cs->models[i].genome, text))
            k = i;
    if (k < 0)
        k = (int)(fnv1a(text) % (uint64_t)cs->n_models);
    out->mflops = arch->mflops;
    out->epochs = rt->epochs[k];
    out->fitness = rt->fitness[k];
    double t_epoch = o->overhead + arch->mflops * 1e6 * (3.0 * (double)o->n_train + (double)o->n_val) /
                                       (o->tflops * 1e12);
    double d = 0;
    for (int e = 0; e < out->epochs; e++)
        d += t_epoch * exp(o->jitter * a4nn_rng_normal(rng));
    out->duration = d;
    return A4NN_OK;
}

/* ---- the population the search keeps ------------------------------------------------ */
typedef struct {
    int n, cap;
    a4nn_genome *g;
    double *obj; /* (100 - fitness, MFLOPs) */
} population;

static void pop_add(population *p, const a4nn_genome *g, double fitness, double mflops)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->g = a4nn_realloc(p->g, (size_t)p->cap * sizeof *p->g);
        p->obj = a4nn_realloc(p->obj, (size_t)p->cap * 2 * sizeof *p->obj);
    }
    p->g[p->n] = *g;
    p->obj[2 * p->n] = 100.0 - fitness;
    p->obj[2 * p->n + 1] = mflops;
    p->n++;
}

/* Environmental selection down to k. */
static void pop_select(population *p, int k)
{
    if (p->n <= k)
        return;
    int *chosen = a4nn_malloc((size_t)k * sizeof *chosen);
    a4nn_nsga2_survivors(p->n, 2, p->obj, k, chosen);
    a4nn_genome *g = a4nn_malloc((size_t)k * sizeof *g);
    double *obj = a4nn_malloc((size_t)k * 2 * sizeof *obj);
    for (int i = 0; i < k; i++) {
        g[i] = p->g[chosen[i]];
        obj[2 * i] = p->obj[2 * chosen[i]];
        obj[2 * i + 1] = p->obj[2 * chosen[i] + 1];
    }
    memcpy(p->g, g, (size_t)k * sizeof *g);
    memcpy(p->obj, obj, (size_t)k * 2 * sizeof *obj);
    p->n = k;
    free(g);
    free(obj);
    free(chosen);
}

static void pop_free(population *p)
{
    free(p->g);
    free(p->obj);
    memset(p, 0, sizeof *p);
}

/* Genomes handed out so far (duplicate elimination). */
typedef struct {
    int n;
    a4nn_genome *g;
} archive;

static int make_genomes(a4nn_rng *rng, const population *pop, archive *ar, int n, int random,
                        a4nn_genome *out, a4nn_error *err)
{
    if (random) {
        for (int made = 0, tries = 0; made < n; tries++) {
            if (tries > 1000 * n + 1000)
                return a4nn_errorf(err, "cannot draw %d distinct random genomes", n);
            a4nn_genome g;
            a4nn_nsga2_random_genome(rng, 3, 4, &g);
            int dup = 0;
            for (int i = 0; i < ar->n && !dup; i++)
                dup = a4nn_genome_equal(&g, &ar->g[i]);
            for (int i = 0; i < made && !dup; i++)
                dup = a4nn_genome_equal(&g, &out[i]);
            if (!dup)
                out[made++] = g;
        }
    } else if (a4nn_nsga2_offspring(rng, pop->g, pop->obj, pop->n, ar->g, ar->n, 0.9, -1.0, n,
                                    out, err) != A4NN_OK) {
        return A4NN_ERR;
    }
    memcpy(ar->g + ar->n, out, (size_t)n * sizeof *out);
    ar->n += n;
    return A4NN_OK;
}

/* ---- one simulated search ---------------------------------------------------------- */
static int simulate(const sim_opts *o, const replay_table *rt, int mode, int W, sim_result *res,
                    a4nn_error *err)
{
    int P = o->pop > 0 ? o->pop : W;
    int M = P * (o->gens + 1);
    a4nn_rng rng, noise;
    a4nn_rng_seed(&rng, a4nn_seed_mix(o->seed, 1));                  /* the search: same for both modes */
    a4nn_rng_seed(&noise, a4nn_seed_mix(o->seed, 1000003u + (uint64_t)W)); /* epoch-time jitter */
    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    archive ar = {0, a4nn_malloc((size_t)M * sizeof(a4nn_genome))};
    population pop = {0};
    a4nn_genome *batch = a4nn_malloc((size_t)M * sizeof *batch);
    a4nn_genome *running = a4nn_malloc((size_t)W * sizeof *running);
    model_eval *running_eval = a4nn_malloc((size_t)W * sizeof *running_eval);
    heap h = {a4nn_malloc((size_t)W * sizeof(ev)), 0};
    int *idle = a4nn_malloc((size_t)W * sizeof *idle), n_idle = 0;
    double search_free = 0, busy = 0, makespan = 0, search_busy = 0;
    long epochs = 0;
    int dispatched = 0, done = 0, rc = A4NN_OK;
    memset(res, 0, sizeof *res);

    for (int w = W - 1; w >= 0; w--)
        idle[n_idle++] = w;

    if (mode == 0) {
        /* generational: make a generation, run it to the last model, select */
        double t = 0;
        for (int gen = 0; gen <= o->gens && rc == A4NN_OK; gen++) {
            rc = make_genomes(&rng, &pop, &ar, P, gen == 0, batch, err);
            if (rc != A4NN_OK)
                break;
            int next = 0, finished = 0;
            n_idle = 0;
            for (int w = W - 1; w >= 0; w--)
                idle[n_idle++] = w;
            search_free = fmax(search_free, t);
            while (finished < P) {
                while (n_idle > 0 && next < P) {
                    int w = idle[--n_idle];
                    model_eval me;
                    if ((rc = evaluate(o, rt, &batch[next], arch, &noise, &me, err)) != A4NN_OK)
                        break;
                    search_free += o->dispatch;
                    search_busy += o->dispatch;
                    running[w] = batch[next];
                    running_eval[w] = me;
                    heap_push(&h, search_free + me.duration, w);
                    next++;
                    dispatched++;
                }
                if (rc != A4NN_OK)
                    break;
                ev e = heap_pop(&h);
                t = e.t;
                model_eval *me = &running_eval[e.w];
                busy += me->duration;
                epochs += me->epochs;
                pop_add(&pop, &running[e.w], me->fitness, me->mflops);
                idle[n_idle++] = e.w;
                finished++;
                done++;
            }
            makespan = t;
            pop_select(&pop, P);
        }
    } else {
        /* async: a worker that finishes gets the next model at once; children
         * come in small batches from the population of everything evaluated */
        int B = P / (o->batch_div > 0 ? o->batch_div : 1);
        if (B < 1)
            B = 1;
        int queued = 0, qhead = 0;
        double t = 0;
        while (done < M && rc == A4NN_OK) {
            while (n_idle > 0 && dispatched < M) {
                if (qhead == queued) {
                    int n = dispatched < P ? P - dispatched : (M - dispatched < B ? M - dispatched : B);
                    int random = dispatched < P || pop.n < 2;
                    if ((rc = make_genomes(&rng, &pop, &ar, n, random, batch, err)) != A4NN_OK)
                        break;
                    queued = n;
                    qhead = 0;
                    search_free = fmax(search_free, t);
                }
                int w = idle[--n_idle];
                model_eval me;
                if ((rc = evaluate(o, rt, &batch[qhead], arch, &noise, &me, err)) != A4NN_OK)
                    break;
                search_free = fmax(search_free, t) + o->dispatch;
                search_busy += o->dispatch;
                running[w] = batch[qhead++];
                running_eval[w] = me;
                heap_push(&h, search_free + me.duration, w);
                dispatched++;
            }
            if (rc != A4NN_OK || h.n == 0)
                break;
            ev e = heap_pop(&h);
            t = e.t;
            model_eval *me = &running_eval[e.w];
            busy += me->duration;
            epochs += me->epochs;
            pop_add(&pop, &running[e.w], me->fitness, me->mflops);
            if (pop.n > P + B)
                pop_select(&pop, P);
            idle[n_idle++] = e.w;
            done++;
            makespan = t;
        }
        pop_select(&pop, P);
    }

    if (rc == A4NN_OK) {
        res->mode = mode;
        res->workers = W;
        res->pop = P;
        res->models = done;
        res->epochs = epochs;
        res->epochs_budget = (long)done * o->pcfg.budget;
        res->makespan = makespan;
        res->busy = busy;
        res->utilisation = makespan > 0 ? busy / ((double)W * makespan) : 0;
        res->search_busy = search_busy;
        double best = 0;
        int *rank = a4nn_malloc((size_t)(pop.n > 0 ? pop.n : 1) * sizeof *rank);
        if (pop.n > 0)
            a4nn_nsga2_sort(pop.n, 2, pop.obj, rank);
        int front = 0;
        for (int i = 0; i < pop.n; i++) {
            if (100.0 - pop.obj[2 * i] > best)
                best = 100.0 - pop.obj[2 * i];
            front += rank[i] == 0;
        }
        free(rank);
        res->best_fitness = best;
        res->front_size = front;
    }
    free(arch);
    free(ar.g);
    pop_free(&pop);
    free(batch);
    free(running);
    free(running_eval);
    free(h.a);
    free(idle);
    return rc;
}

/* ---- output ---------------------------------------------------------------------------- */
static const char *mode_name(int m) { return m ? "async" : "generational"; }

static int write_csv(const char *path, const sim_result *r, int n, a4nn_error *err)
{
    FILE *f = !strcmp(path, "-") ? stdout : fopen(path, "w");
    if (!f)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "mode,workers,pop_size,models,epochs_trained,epochs_budget,epochs_saved_pct,"
               "time_to_solution_h,worker_busy_h,utilisation_pct,models_per_worker_hour,"
               "throughput_efficiency_pct,search_busy_pct,best_fitness,front_size\n");
    for (int i = 0; i < n; i++) {
        /* throughput per worker relative to the smallest run of the same mode */
        const sim_result *base = NULL;
        for (int j = 0; j < n; j++)
            if (r[j].mode == r[i].mode && (!base || r[j].workers < base->workers))
                base = &r[j];
        double tp = r[i].models / (r[i].workers * r[i].makespan / 3600.0);
        double tp0 = base->models / (base->workers * base->makespan / 3600.0);
        fprintf(f, "%s,%d,%d,%d,%ld,%ld,%.2f,%.4f,%.3f,%.2f,%.4f,%.2f,%.3f,%.3f,%g\n",
                mode_name(r[i].mode), r[i].workers, r[i].pop, r[i].models, r[i].epochs,
                r[i].epochs_budget, 100.0 * (1.0 - (double)r[i].epochs / (double)r[i].epochs_budget),
                r[i].makespan / 3600.0, r[i].busy / 3600.0, 100.0 * r[i].utilisation, tp,
                100.0 * tp / tp0, 100.0 * r[i].search_busy / r[i].makespan, r[i].best_fitness,
                r[i].front_size);
    }
    if (f != stdout && fclose(f) != 0)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    return A4NN_OK;
}

/* One panel: x = log2(workers), y linear from 0 to ymax. */
static void svg_panel(FILE *f, double x0, double y0, double w, double h, const sim_result *r,
                      int n, int which, const char *title, const char *ylabel)
{
    int wmin = r[0].workers, wmax = r[0].workers;
    double ymax = which == 0 ? 100 : 0;
    for (int i = 0; i < n; i++) {
        wmin = r[i].workers < wmin ? r[i].workers : wmin;
        wmax = r[i].workers > wmax ? r[i].workers : wmax;
        if (which == 1 && r[i].makespan / 3600.0 > ymax)
            ymax = r[i].makespan / 3600.0;
    }
    if (which == 1)
        ymax *= 1.1;
    double lx0 = log2(wmin), lx1 = log2(wmax) > lx0 ? log2(wmax) : lx0 + 1;
#define PX(wk) (x0 + (log2(wk) - lx0) / (lx1 - lx0) * w)
#define PY(v) (y0 + h - (v) / ymax * h)
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\">%s</text>\n",
            x0 + w / 2, y0 - 12, title);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"#444\"/>\n", x0, y0, w, h);
    for (int k = 0; k <= 4; k++) {
        double v = ymax * k / 4;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0,
                PY(v), x0 + w, PY(v));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%.3g</text>\n",
                x0 - 4, PY(v) + 4, v);
    }
    for (int wk = wmin; wk <= wmax; wk *= 2)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%d</text>\n",
                PX(wk), y0 + h + 16, wk);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\">workers (GPUs)</text>\n",
            x0 + w / 2, y0 + h + 34);
    fprintf(f, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\" "
               "font-size=\"12\">%s</text>\n", x0 - 40, y0 + h / 2, ylabel);
    if (which == 0)
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                   "stroke-dasharray=\"4 3\"/>\n", x0, PY(95.0), x0 + w, PY(95.0));
    const char *color[2] = {"#d62728", "#1f77b4"};
    for (int m = 0; m < 2; m++) {
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color[m]);
        for (int i = 0; i < n; i++)
            if (r[i].mode == m)
                fprintf(f, "%.1f,%.1f ", PX(r[i].workers),
                        PY(which == 0 ? 100 * r[i].utilisation : r[i].makespan / 3600.0));
        fprintf(f, "\"/>\n");
        for (int i = 0; i < n; i++)
            if (r[i].mode == m)
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PX(r[i].workers),
                        PY(which == 0 ? 100 * r[i].utilisation : r[i].makespan / 3600.0), color[m]);
    }
#undef PX
#undef PY
}

static int write_svg(const char *path, const sim_result *r, int n, const sim_opts *o,
                     a4nn_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"420\" "
               "font-family=\"sans-serif\">\n<rect width=\"960\" height=\"420\" fill=\"white\"/>\n");
    svg_panel(f, 70, 50, 360, 290, r, n, 0, "worker utilisation", "utilisation (%)");
    svg_panel(f, 560, 50, 360, 290, r, n, 1, "time to solution", "hours");
    fprintf(f, "<text x=\"480\" y=\"405\" text-anchor=\"middle\" font-size=\"12\">"
               "<tspan fill=\"#d62728\">&#9632; generational</tspan>   "
               "<tspan fill=\"#1f77b4\">&#9632; async</tspan>   "
               "(simulated; %d models per worker, PENGUIN %s, %.0f TFLOP/s per GPU)</text>\n",
            o->gens + 1, o->penguin ? a4nn_policy_name(o->pcfg.policy) : "off", o->tflops);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    return A4NN_OK;
}

/* ---- command line ------------------------------------------------------------------- */
static void usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn-scalesim [options]\n"
            "Simulates generational and async a4nn searches on W workers (one process,\n"
            "discrete events) on the reference learning curves; prints a CSV table.\n\n"
            "  --curves PATH       reference curves CSV (default: $A4NN_SHARED or ../shared\n"
            "                      data/curves/nsganet-xfel-1e16-full.csv)\n"
            "  --workers LIST      comma list (default 4,8,16,32,64,128,256,512,1024)\n"
            "  --mode M            generational | async | both (default both)\n"
            "  --gens N            generations of children; models = pop * (N + 1) (default 31)\n"
            "  --pop N             population and children per generation (default: workers)\n"
            "  --batch-div N       async: an NSGA-II call makes pop/N children (default 32)\n"
            "  --tflops X          sustained training TFLOP/s of one GPU (default 10)\n"
            "  --epoch-overhead S  seconds per epoch besides FLOPs (default 2)\n"
            "  --train-images N    (default 63508)   --val-images N (default 15876)\n"
            "  --jitter X          log-normal sigma of epoch times (default 0.05)\n"
            "  --dispatch S        search-rank seconds per task (default 0.002)\n"
            "  --penguin KEY=VAL   PENGUIN setting (policy, window, tolerance, ...)\n"
            "  --no-penguin        train every model for the full budget\n"
            "  --seed N            (default 1)\n"
            "  --csv PATH          write the table here (default: stdout)\n"
            "  --svg PATH          also write the plot\n");
}

static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        a4nn_die("scalesim: %s: '%s' is not an integer in [%ld, %ld]", opt, s, lo, hi);
    *out = v;
    return 0;
}

static double parse_dbl(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        a4nn_die("scalesim: %s: '%s' is not a number in [%g, %g]", opt, s, lo, hi);
    return v;
}

int main(int argc, char **argv)
{
    sim_opts o = {0};
    static char curves_buf[4096];
    o.gens = 31;
    o.batch_div = 32;
    o.penguin = 1;
    o.tflops = 10;
    o.overhead = 2;
    o.jitter = 0.05;
    o.dispatch = 0.002;
    o.n_train = 63508;
    o.n_val = 15876;
    o.seed = 1;
    o.csv = "-";
    o.modes[0] = 0;
    o.modes[1] = 1;
    o.n_modes = 2;
    for (int w = 4; w <= 1024; w *= 2)
        o.workers[o.n_workers++] = w;
    a4nn_penguin_config_defaults(&o.pcfg);
    a4nn_error err = {{0}};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--no-penguin")) {
            o.penguin = 0;
            continue;
        }
        if (i + 1 >= argc)
            a4nn_die("scalesim: %s needs a value (see --help)", a);
        const char *v = argv[++i];
        long n;
        if (!strcmp(a, "--curves"))
            o.curves = v;
        else if (!strcmp(a, "--csv"))
            o.csv = v;
        else if (!strcmp(a, "--svg"))
            o.svg = v;
        else if (!strcmp(a, "--workers")) {
            o.n_workers = 0;
            char buf[1024];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (o.n_workers == MAX_RUNS)
                    a4nn_die("scalesim: --workers: at most %d values", MAX_RUNS);
                parse_int("--workers", t, 1, 1 << 20, &n);
                o.workers[o.n_workers++] = (int)n;
            }
            if (o.n_workers == 0)
                a4nn_die("scalesim: --workers: empty list");
        } else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "generational"))
                o.modes[0] = 0, o.n_modes = 1;
            else if (!strcmp(v, "async"))
                o.modes[0] = 1, o.n_modes = 1;
            else if (!strcmp(v, "both"))
                o.modes[0] = 0, o.modes[1] = 1, o.n_modes = 2;
            else
                a4nn_die("scalesim: --mode: '%s' is not generational, async or both", v);
        } else if (!strcmp(a, "--gens"))
            parse_int(a, v, 0, 100000, &n), o.gens = (int)n;
        else if (!strcmp(a, "--pop"))
            parse_int(a, v, 2, 1 << 20, &n), o.pop = (int)n;
        else if (!strcmp(a, "--batch-div"))
            parse_int(a, v, 1, 1 << 20, &n), o.batch_div = (int)n;
        else if (!strcmp(a, "--seed"))
            parse_int(a, v, 0, 2147483647L, &n), o.seed = (uint64_t)n;
        else if (!strcmp(a, "--train-images"))
            parse_int(a, v, 1, 1L << 40, &o.n_train);
        else if (!strcmp(a, "--val-images"))
            parse_int(a, v, 0, 1L << 40, &o.n_val);
        else if (!strcmp(a, "--tflops"))
            o.tflops = parse_dbl(a, v, 1e-6, 1e6);
        else if (!strcmp(a, "--epoch-overhead"))
            o.overhead = parse_dbl(a, v, 0, 1e6);
        else if (!strcmp(a, "--jitter"))
            o.jitter = parse_dbl(a, v, 0, 10);
        else if (!strcmp(a, "--dispatch"))
            o.dispatch = parse_dbl(a, v, 0, 1e6);
        else if (!strcmp(a, "--penguin")) {
            char key[64];
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || (size_t)(eq - v) >= sizeof key)
                a4nn_die("scalesim: --penguin: '%s' is not KEY=VALUE", v);
            memcpy(key, v, (size_t)(eq - v));
            key[eq - v] = 0;
            if (a4nn_penguin_config_set(&o.pcfg, key, eq + 1, &err) != A4NN_OK)
                a4nn_die("scalesim: --penguin: %s", err.msg);
        } else
            a4nn_die("scalesim: unknown option '%s' (see --help)", a);
    }
    if (!o.curves) {
        const char *roots[] = {getenv("A4NN_SHARED"), "../shared", "../../shared"};
        for (size_t k = 0; k < A4NN_ARRAY_LEN(roots) && !o.curves; k++) {
            if (!roots[k])
                continue;
            snprintf(curves_buf, sizeof curves_buf, "%s/data/curves/nsganet-xfel-1e16-full.csv",
                     roots[k]);
            FILE *f = fopen(curves_buf, "r");
            if (f) {
                fclose(f);
                o.curves = curves_buf;
            }
        }
        if (!o.curves)
            a4nn_die("scalesim: no reference curves found: pass --curves PATH or set A4NN_SHARED");
    }

    /* what PENGUIN makes of every reference curve */
    a4nn_curve_set set = {0};
    if (a4nn_curves_read(o.curves, &set, &err) != A4NN_OK)
        a4nn_die("scalesim: %s", err.msg);
    if (set.n_models < 1)
        a4nn_die("scalesim: %s holds no learning curves", o.curves);
    replay_table rt = {&set, a4nn_calloc((size_t)set.n_models, sizeof(int)),
                       a4nn_calloc((size_t)set.n_models, sizeof(double))};
    if (o.penguin) {
        a4nn_curve_registry *reg = a4nn_curve_registry_alloc();
        a4nn_replay_row *rows = a4nn_calloc((size_t)set.n_models, sizeof *rows);
        a4nn_replay_summary sum;
        if (a4nn_penguin_replay(&o.pcfg, reg, &set, rows, &sum, &err) != A4NN_OK)
            a4nn_die("scalesim: PENGUIN replay of %s: %s", o.curves, err.msg);
        for (int i = 0; i < set.n_models; i++) {
            rt.epochs[i] = rows[i].epochs_used;
            rt.fitness[i] = rows[i].fitness;
        }
        fprintf(stderr, "scalesim: PENGUIN (%s) on %d reference curves: %.1f %% of epochs saved\n",
                a4nn_policy_name(o.pcfg.policy), set.n_models, sum.epochs_saved_pct);
        free(rows);
        a4nn_curve_registry_free(reg);
    } else {
        for (int i = 0; i < set.n_models; i++) {
            int n = set.models[i].n_epochs < o.pcfg.budget ? set.models[i].n_epochs : o.pcfg.budget;
            rt.epochs[i] = n;
            rt.fitness[i] = n > 0 ? set.models[i].val_acc[n - 1] : 0;
        }
    }

    sim_result res[2 * MAX_RUNS];
    int n_res = 0;
    for (int m = 0; m < o.n_modes; m++)
        for (int k = 0; k < o.n_workers; k++) {
            double t0 = a4nn_now();
            if (simulate(&o, &rt, o.modes[m], o.workers[k], &res[n_res], &err) != A4NN_OK)
                a4nn_die("scalesim: %s, %d workers: %s", mode_name(o.modes[m]), o.workers[k], err.msg);
            fprintf(stderr, "scalesim: %-12s %5d workers: %6d models, %6.2f h, utilisation %5.1f %% (%.1f s)\n",
                    mode_name(o.modes[m]), o.workers[k], res[n_res].models,
                    res[n_res].makespan / 3600, 100 * res[n_res].utilisation, a4nn_now() - t0);
            n_res++;
        }
    if (write_csv(o.csv, res, n_res, &err) != A4NN_OK)
        a4nn_die("scalesim: %s", err.msg);
    if (o.svg && write_svg(o.svg, res, n_res, &o, &err) != A4NN_OK)
        a4nn_die("scalesim: %s", err.msg);
    free(rt.epochs);
    free(rt.fitness);
    a4nn_curves_free(&set);
    return 0;
}
