/* a4nn-scalesim: discrete-event simulation, in one process, of the a4nn
 * search at scale: generational (a barrier per generation) versus
 * asynchronous (steady-state) NSGA-II over W workers and A analytics ranks,
 * each model's training replayed from the reference learning curves and
 * stopped where PENGUIN stops it. Writes worker utilisation and
 * time-to-solution per (mode, workers, seed) as CSV and an SVG plot.
 *
 * The search is the real one: the strategy objects of the search module
 * (generational or asynchronous NSGA-II, src/search) driven by the same
 * scheduling loop as the search rank of `a4nn run` (a4nn_search_run), here
 * with simulated time; each genome's MFLOPs from its decoded network, and the
 * epochs a model trains and its fitness from the PENGUIN library replaying
 * the reference curve the genome maps to (the curve with the same genome,
 * else one picked by a hash of the genome text, as the replay backend of
 * `a4nn run` does). With --config and as many workers, a run's models come
 * out in the same order with the same genomes (test/t_run_scalesim_order.sh);
 * at scale, async makes pop/batch-div children per NSGA-II call.
 *
 * The messages follow `a4nn run` (docs/design.md): the search sends TASK; the
 * worker trains epoch after epoch and sends an EPOCH after each to the
 * analytics rank of the model (model id modulo A); that rank serves its
 * messages one at a time in arrival order, an EPOCH that PENGUIN fits costing
 * `fit_cost` seconds and any other message `msg_cost`; when the model's
 * prediction has converged it sends STOP, and the worker abandons the epoch
 * it is in (that partial epoch is wasted, as are whole epochs trained before
 * a late STOP). The worker then sends DONE to the analytics rank, which
 * forwards it to the search; only then does the search know the worker is
 * free. The search rank spends `dispatch` seconds per task, one at a time.
 *
 * Time model (documented in docs/cluster.md): one epoch of a model of F
 * MFLOPs (forward, one image) on one GPU takes
 *     t = overhead + F * 1e6 * (3 * n_train + n_val) / (tflops * 1e12)
 * seconds (training costs about three forward passes per image, validation
 * one), times a log-normal jitter exp(jitter * N(0,1)) per epoch.
 * Utilisation counts the epochs that make up the models' learning curves:
 * busy / (W * time to solution). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/config.h"
#include "a4nn/penguin.h"
#include "a4nn/search.h"
#include "a4nn/util.h"

#define MAX_RUNS 64
#define MAX_SEEDS 64

typedef struct {
    const char *curves, *csv, *svg, *trace;
    int workers[MAX_RUNS], n_workers;
    int modes[2], n_modes; /* 0 generational, 1 async */
    int gens;              /* generations of children (models = pop + offspring * gens) */
    int pop;               /* 0: = workers */
    int batch_div;         /* async: children made per NSGA-II call = pop / batch_div */
    int penguin;
    int analytics;         /* analytics ranks */
    double tflops, overhead, jitter, dispatch;
    double fit_cost, msg_cost; /* analytics service times (s); fit_cost < 0: the policy's */
    long n_train, n_val;
    uint64_t seeds[MAX_SEEDS];
    int n_seeds;
    a4nn_penguin_config pcfg;
    int start_epoch; /* first epoch PENGUIN fits (resolved) */
    /* the search: as `a4nn run` configures it (--config) */
    int offspring; /* children per generation (0: = pop) */
    int n_phases, n_nodes, init_channels;
    double crossover_prob, mutation_prob;
} sim_opts;

typedef struct {
    int mode, workers, pop, models;
    uint64_t seed;
    long epochs, epochs_budget;
    double makespan, busy, wasted, utilisation, best_fitness, front_size, search_busy;
    double analytics_busy; /* the busiest analytics rank's service time */
    double stop_delay;     /* mean seconds from the end of the stop epoch to STOP at the worker */
} sim_result;

/* Per reference curve: what PENGUIN makes of it. */
typedef struct {
    const a4nn_curve_set *set;
    int *epochs;     /* epochs trained */
    double *fitness; /* fitness the search sees */
} replay_table;

/* ---- events: a binary min-heap on (time, sequence number) ----------------------- */
enum { EV_TASK, EV_EPOCH, EV_SERVED };
typedef struct {
    double t;
    uint64_t seq;
    int kind, who, model, epoch, tag;
} event;
typedef struct {
    event *a;
    int n, cap;
    uint64_t seq;
} heap;

static int ev_before(const event *x, const event *y)
{
    return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void heap_push(heap *h, event e)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 1024;
        h->a = a4nn_realloc(h->a, (size_t)h->cap * sizeof *h->a);
    }
    e.seq = h->seq++;
    int i = h->n++;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!ev_before(&e, &h->a[p]))
            break;
        h->a[i] = h->a[p];
        i = p;
    }
    h->a[i] = e;
}

static event heap_pop(heap *h)
{
    event top = h->a[0], last = h->a[--h->n];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && ev_before(&h->a[c + 1], &h->a[c]))
            c++;
        if (!ev_before(&h->a[c], &last))
            break;
        h->a[i] = h->a[c];
        i = c;
    }
    h->a[i] = last;
    return top;
}

/* ---- the simulated run ------------------------------------------------------------- */
enum { MSG_EPOCH, MSG_DONE };
typedef struct {
    int kind, model, epoch;
} msg;

typedef struct {
    msg *buf; /* ring buffer */
    int head, n, cap;
    int serving;
    double busy;
} analytics_rank;

typedef struct {
    a4nn_genome g;
    int curve, epochs; /* reference curve; epochs of its learning curve (PENGUIN's stop) */
    double fitness, mflops, t_epoch;
    int worker, epochs_run, stopped, n_done;
    double dispatched, stop_epoch_end, ended, done;
} model_rec;

typedef struct {
    int model; /* -1: idle */
    int tag;   /* bumped when the model ends: cancels its pending epoch event */
    double epoch_start;
} worker_state;

typedef struct {
    const sim_opts *o;
    const replay_table *rt;
    int W, budget;
    a4nn_strategy *strategy; /* the search's own strategy object */
    a4nn_rng noise;
    a4nn_arch *arch;
    model_rec *models;
    int n_models, cap_models;
    worker_state *w;
    int *idle, n_idle; /* workers the search knows are free */
    analytics_rank *ana;
    heap h;
    double now; /* the search's clock: the time of the last event handled */
    int done, told; /* models done; set when a DONE reached the search */
    double search_free, search_busy, busy, wasted, makespan, stop_delay;
    long epochs;
    int n_stops;
    a4nn_error *err;
} sim;

/* The reference curve a genome replays, its MFLOPs and epoch time. */
static int model_prepare(sim *s, int id, const a4nn_genome *g)
{
    const sim_opts *o = s->o;
    if (id >= s->cap_models) {
        int cap = s->cap_models ? 2 * s->cap_models : 1024;
        while (cap <= id)
            cap *= 2;
        s->models = a4nn_realloc(s->models, (size_t)cap * sizeof *s->models);
        memset(s->models + s->cap_models, 0, (size_t)(cap - s->cap_models) * sizeof *s->models);
        s->cap_models = cap;
    }
    if (id >= s->n_models)
        s->n_models = id + 1;
    model_rec *r = &s->models[id];
    char text[256];
    r->g = *g;
    if (a4nn_genome_format(g, text, sizeof text) < 0)
        return a4nn_errorf(s->err, "genome does not format");
    if (a4nn_arch_build(g, 1, A4NN_REFERENCE_SIDE, A4NN_REFERENCE_SIDE, o->init_channels, 2,
                        s->arch, s->err) != A4NN_OK)
        return A4NN_ERR;
    int k = a4nn_curves_pick(s->rt->set, text);
    r->curve = k;
    r->epochs = s->rt->epochs[k];
    r->fitness = s->rt->fitness[k];
    r->mflops = s->arch->mflops;
    r->t_epoch = o->overhead + r->mflops * 1e6 * (3.0 * (double)o->n_train + (double)o->n_val) /
                                   (o->tflops * 1e12);
    return A4NN_OK;
}

static void push(sim *s, double t, int kind, int who, int model, int epoch, int tag)
{
    heap_push(&s->h, (event){.t = t, .kind = kind, .who = who, .model = model, .epoch = epoch,
                             .tag = tag});
}

static double service_time(const sim *s, const msg *m)
{
    if (m->kind == MSG_EPOCH && s->o->penguin && !s->models[m->model].stopped &&
        m->epoch >= s->o->start_epoch)
        return s->o->fit_cost;
    return s->o->msg_cost;
}

static void analytics_start(sim *s, int a, double t)
{
    analytics_rank *q = &s->ana[a];
    if (q->serving || q->n == 0)
        return;
    double st = service_time(s, &q->buf[q->head]);
    q->serving = 1;
    q->busy += st;
    push(s, t + st, EV_SERVED, a, -1, -1, 0);
}

static void analytics_send(sim *s, int kind, int model, int epoch, double t)
{
    analytics_rank *q = &s->ana[model % s->o->analytics];
    if (q->n == q->cap) {
        int cap = q->cap ? 2 * q->cap : 64;
        msg *buf = a4nn_malloc((size_t)cap * sizeof *buf);
        for (int i = 0; i < q->n; i++)
            buf[i] = q->buf[(q->head + i) % q->cap];
        free(q->buf);
        q->buf = buf;
        q->cap = cap;
        q->head = 0;
    }
    q->buf[(q->head + q->n++) % q->cap] = (msg){kind, model, epoch};
    analytics_start(s, model % s->o->analytics, t);
}

static void epoch_start(sim *s, int w, int epoch, double t)
{
    worker_state *ws = &s->w[w];
    double len = s->models[ws->model].t_epoch * exp(s->o->jitter * a4nn_rng_normal(&s->noise));
    ws->epoch_start = t;
    push(s, t + len, EV_EPOCH, w, ws->model, epoch, ws->tag);
}

/* The worker is through with its model: DONE goes to the analytics rank. */
static void worker_finish(sim *s, int w, double t)
{
    worker_state *ws = &s->w[w];
    s->models[ws->model].ended = t;
    analytics_send(s, MSG_DONE, ws->model, -1, t);
    ws->model = -1;
    ws->tag++;
}

/* DONE reaches the search: the model is evaluated (told to the strategy),
 * its worker is free. */
static int search_done(sim *s, int id, double t)
{
    model_rec *r = &s->models[id];
    r->n_done++;
    r->done = t;
    s->done++;
    s->makespan = t;
    s->idle[s->n_idle++] = r->worker;
    s->told = 1;
    return a4nn_strategy_tell(s->strategy, id, r->fitness, r->mflops, s->err) == A4NN_ERR
               ? A4NN_ERR
               : A4NN_OK;
}

static int handle_epoch(sim *s, const event *e)
{
    worker_state *ws = &s->w[e->who];
    if (e->tag != ws->tag)
        return A4NN_OK; /* the model was stopped during this epoch */
    model_rec *r = &s->models[e->model];
    double len = e->t - ws->epoch_start;
    r->epochs_run++;
    if (e->epoch < r->epochs) {
        s->busy += len;
        s->epochs++;
    } else {
        s->wasted += len; /* trained while its STOP was on the way */
    }
    if (e->epoch == r->epochs - 1)
        r->stop_epoch_end = e->t;
    analytics_send(s, MSG_EPOCH, e->model, e->epoch, e->t);
    if (e->epoch + 1 < s->budget)
        epoch_start(s, e->who, e->epoch + 1, e->t);
    else
        worker_finish(s, e->who, e->t);
    return A4NN_OK;
}

static int handle(sim *s, const event *e)
{
    if (e->kind == EV_TASK) {
        s->w[e->who].model = e->model;
        epoch_start(s, e->who, 0, e->t);
        return A4NN_OK;
    }
    if (e->kind == EV_EPOCH)
        return handle_epoch(s, e);
    /* EV_SERVED: the analytics rank is through with its first message */
    analytics_rank *q = &s->ana[e->who];
    msg m = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    q->serving = 0;
    int rc = A4NN_OK;
    model_rec *r = &s->models[m.model];
    if (m.kind == MSG_EPOCH) {
        /* the last epoch of the learning curve: PENGUIN has converged and,
         * unless that was the budget's last epoch, STOP goes to the worker */
        if (s->o->penguin && !r->stopped && m.epoch == r->epochs - 1 && r->epochs < s->budget) {
            r->stopped = 1;
            int w = r->worker;
            if (s->w[w].model == m.model) {
                s->stop_delay += e->t - r->stop_epoch_end;
                s->n_stops++;
                s->wasted += e->t - s->w[w].epoch_start;
                worker_finish(s, w, e->t);
            }
        }
    } else {
        rc = search_done(s, m.model, e->t);
    }
    analytics_start(s, e->who, e->t);
    return rc;
}

/* ---- the search: the strategy and loop of `a4nn run`, in simulated time ---------- */
static int drv_free(void *p) { return ((sim *)p)->n_idle; }

static int drv_running(void *p)
{
    const sim *s = p;
    return s->W - s->n_idle;
}

/* TASK for model id to a free worker; the search rank spends `dispatch`
 * seconds per task, one at a time. */
static int drv_start(void *p, int id, const a4nn_genome *g, a4nn_error *err)
{
    sim *s = p;
    if (model_prepare(s, id, g) != A4NN_OK)
        return A4NN_ERR;
    int w = s->idle[--s->n_idle];
    s->search_free = fmax(s->search_free, s->now) + s->o->dispatch;
    s->search_busy += s->o->dispatch;
    s->models[id].worker = w;
    s->models[id].dispatched = s->search_free;
    push(s, s->search_free, EV_TASK, w, id, 0, 0);
    return A4NN_OK;
}

/* Simulated time runs on until a DONE reaches the search. */
static int drv_wait(void *p, a4nn_error *err)
{
    sim *s = p;
    s->told = 0;
    while (!s->told) {
        if (s->h.n == 0)
            return a4nn_errorf(err, "the simulation ran out of events with models running");
        event e = heap_pop(&s->h);
        s->now = e.t;
        if (handle(s, &e) != A4NN_OK)
            return A4NN_ERR;
    }
    return A4NN_OK;
}

static const char *mode_name(int m) { return m ? "async" : "generational"; }

/* The search's strategy for a run of W workers. */
static a4nn_strategy *sim_strategy(const sim_opts *o, int mode, int W, uint64_t seed,
                                   a4nn_error *err)
{
    int P = o->pop > 0 ? o->pop : W;
    int K = o->offspring > 0 ? o->offspring : P;
    int B = P / (o->batch_div > 0 ? o->batch_div : 1);
    a4nn_strategy_config sc = {.pop_size = P, .n_offspring = K, .n_gens = o->gens,
                               .total = P + K * o->gens, .children_per_call = B < 1 ? 1 : B,
                               .n_phases = o->n_phases, .n_nodes = o->n_nodes,
                               .crossover_prob = o->crossover_prob,
                               .mutation_prob = o->mutation_prob, .seed = seed};
    return a4nn_strategy_alloc(a4nn_strategy_find(mode_name(mode)), &sc, err);
}

/* Best fitness and the size of the first front over every model. */
static void sim_front(const sim *s, sim_result *res)
{
    int n = s->n_models;
    double *obj = a4nn_malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *obj);
    int *idx = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    for (int i = 0; i < n; i++) {
        obj[2 * i] = 100.0 - s->models[i].fitness;
        obj[2 * i + 1] = s->models[i].mflops;
        idx[i] = i;
        res->best_fitness = fmax(res->best_fitness, s->models[i].fitness);
    }
    /* by MFLOPs (then error): a model is on the front when its error is below
     * that of every model before it */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0; b--) {
            const double *x = &obj[2 * idx[b - 1]], *y = &obj[2 * idx[b]];
            if (x[1] < y[1] || (x[1] == y[1] && x[0] <= y[0]))
                break;
            int t = idx[b];
            idx[b] = idx[b - 1];
            idx[b - 1] = t;
        }
    double best = INFINITY;
    for (int i = 0; i < n; i++)
        if (obj[2 * idx[i]] < best) {
            best = obj[2 * idx[i]];
            res->front_size++;
        }
    free(obj);
    free(idx);
}

static void sim_trace(const sim *s, int mode, uint64_t seed, FILE *trace)
{
    for (int i = 0; trace && i < s->n_models; i++) {
        const model_rec *r = &s->models[i];
        char text[256];
        a4nn_genome_format(&r->g, text, sizeof text);
        fprintf(trace, "%s,%d,%llu,%d,%d,%d,%.3f,%.3f,%.3f,%d,%d,%.6f,%.6f,\"%s\"\n",
                mode_name(mode), s->W, (unsigned long long)seed, i, i % s->o->analytics,
                r->worker, r->dispatched, r->ended, r->done,
                r->epochs_run < r->epochs ? r->epochs_run : r->epochs, r->epochs_run, r->fitness,
                r->mflops, text);
    }
}

static int simulate(const sim_opts *o, const replay_table *rt, int mode, int W, uint64_t seed,
                    FILE *trace, sim_result *res, a4nn_error *err)
{
    sim s = {.o = o, .rt = rt, .W = W, .err = err, .budget = o->pcfg.budget};
    a4nn_rng_seed(&s.noise, a4nn_seed_mix(seed, 1000003u + (uint64_t)W)); /* epoch-time jitter */
    s.strategy = sim_strategy(o, mode, W, seed, err);
    if (!s.strategy)
        return A4NN_ERR;
    s.arch = a4nn_malloc(sizeof *s.arch);
    s.w = a4nn_calloc((size_t)W, sizeof *s.w);
    s.idle = a4nn_malloc((size_t)W * sizeof *s.idle);
    s.ana = a4nn_calloc((size_t)o->analytics, sizeof *s.ana);
    for (int w = 0; w < W; w++)
        s.w[w].model = -1;
    for (int w = W - 1; w >= 0; w--)
        s.idle[s.n_idle++] = w;
    memset(res, 0, sizeof *res);

    const a4nn_search_driver d = {.ctx = &s, .free_workers = drv_free, .running = drv_running,
                                  .start = drv_start, .wait = drv_wait};
    int rc = a4nn_search_run(s.strategy, &d, err);
    /* every model reached the search exactly once, and nothing is left over */
    if (rc == A4NN_OK && s.done != s.n_models)
        rc = a4nn_errorf(err, "%d of %d models finished", s.done, s.n_models);
    for (int i = 0; i < s.n_models && rc == A4NN_OK; i++)
        if (s.models[i].n_done != 1)
            rc = a4nn_errorf(err, "model %d finished %d times", i, s.models[i].n_done);
    for (int w = 0; w < W && rc == A4NN_OK; w++)
        if (s.w[w].model != -1)
            rc = a4nn_errorf(err, "worker %d still holds model %d", w, s.w[w].model);
    if (rc == A4NN_OK) {
        res->mode = mode;
        res->workers = W;
        res->seed = seed;
        res->pop = o->pop > 0 ? o->pop : W;
        res->models = s.done;
        res->epochs = s.epochs;
        res->epochs_budget = (long)s.done * s.budget;
        res->makespan = s.makespan;
        res->busy = s.busy;
        res->wasted = s.wasted;
        res->utilisation = s.makespan > 0 ? s.busy / ((double)W * s.makespan) : 0;
        res->search_busy = s.search_busy;
        for (int a = 0; a < o->analytics; a++)
            res->analytics_busy = fmax(res->analytics_busy, s.ana[a].busy);
        res->stop_delay = s.n_stops ? s.stop_delay / s.n_stops : 0;
        sim_front(&s, res);
        sim_trace(&s, mode, seed, trace);
    }
    a4nn_strategy_free(s.strategy);
    free(s.arch);
    free(s.models);
    free(s.w);
    free(s.idle);
    for (int a = 0; a < o->analytics; a++)
        free(s.ana[a].buf);
    free(s.ana);
    free(s.h.a);
    return rc;
}

/* ---- output ---------------------------------------------------------------------------- */
static int write_csv(const char *path, const sim_result *r, int n, const sim_opts *o,
                     a4nn_error *err)
{
    FILE *f = !strcmp(path, "-") ? stdout : fopen(path, "w");
    if (!f)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "mode,workers,seed,analytics_ranks,pop_size,models,epochs_trained,epochs_budget,"
               "epochs_saved_pct,time_to_solution_h,worker_busy_h,utilisation_pct,wasted_pct,"
               "models_per_worker_hour,throughput_efficiency_pct,search_busy_pct,"
               "analytics_busy_pct,stop_delay_ms,best_fitness,front_size\n");
    for (int i = 0; i < n; i++) {
        /* throughput per worker relative to the smallest run of the same mode and seed */
        const sim_result *base = NULL;
        for (int j = 0; j < n; j++)
            if (r[j].mode == r[i].mode && r[j].seed == r[i].seed &&
                (!base || r[j].workers < base->workers))
                base = &r[j];
        double tp = r[i].models / (r[i].workers * r[i].makespan / 3600.0);
        double tp0 = base->models / (base->workers * base->makespan / 3600.0);
        double cap = (double)r[i].workers * r[i].makespan;
        fprintf(f, "%s,%d,%llu,%d,%d,%d,%ld,%ld,%.2f,%.4f,%.3f,%.2f,%.3f,%.4f,%.2f,%.3f,%.3f,%.3f,"
                   "%.3f,%g\n",
                mode_name(r[i].mode), r[i].workers, (unsigned long long)r[i].seed, o->analytics,
                r[i].pop, r[i].models, r[i].epochs, r[i].epochs_budget,
                100.0 * (1.0 - (double)r[i].epochs / (double)r[i].epochs_budget),
                r[i].makespan / 3600.0, r[i].busy / 3600.0, 100.0 * r[i].utilisation,
                100.0 * r[i].wasted / cap, tp, 100.0 * tp / tp0,
                100.0 * r[i].search_busy / r[i].makespan,
                100.0 * r[i].analytics_busy / r[i].makespan, 1000.0 * r[i].stop_delay,
                r[i].best_fitness, r[i].front_size);
    }
    if (f != stdout && fclose(f) != 0)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    return A4NN_OK;
}

/* Over the seeds of one (mode, workers): utilisation min, mean, max, mean hours. */
typedef struct {
    int mode, workers, n;
    double umin, umean, umax, hours;
} sim_agg;

static int aggregate(const sim_result *r, int n, const sim_opts *o, sim_agg *out)
{
    int k = 0;
    for (int m = 0; m < o->n_modes; m++)
        for (int w = 0; w < o->n_workers; w++) {
            sim_agg a = {o->modes[m], o->workers[w], 0, 1e9, 0, 0, 0};
            for (int i = 0; i < n; i++) {
                if (r[i].mode != a.mode || r[i].workers != a.workers)
                    continue;
                double u = 100.0 * r[i].utilisation;
                a.umin = u < a.umin ? u : a.umin;
                a.umax = u > a.umax ? u : a.umax;
                a.umean += u;
                a.hours += r[i].makespan / 3600.0;
                a.n++;
            }
            if (a.n) {
                a.umean /= a.n;
                a.hours /= a.n;
                out[k++] = a;
            }
        }
    return k;
}

/* One panel: x = log2(workers), y linear from 0 to ymax; the mean over seeds,
 * with the min..max range of utilisation as a bar. */
static void svg_panel(FILE *f, double x0, double y0, double w, double h, const sim_agg *r,
                      int n, int which, const char *title, const char *ylabel)
{
    int wmin = r[0].workers, wmax = r[0].workers;
    double ymax = which == 0 ? 100 : 0;
    for (int i = 0; i < n; i++) {
        wmin = r[i].workers < wmin ? r[i].workers : wmin;
        wmax = r[i].workers > wmax ? r[i].workers : wmax;
        if (which == 1 && r[i].hours > ymax)
            ymax = r[i].hours;
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
        int any = 0;
        for (int i = 0; i < n; i++)
            any |= r[i].mode == m;
        if (!any)
            continue;
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color[m]);
        for (int i = 0; i < n; i++)
            if (r[i].mode == m)
                fprintf(f, "%.1f,%.1f ", PX(r[i].workers),
                        PY(which == 0 ? r[i].umean : r[i].hours));
        fprintf(f, "\"/>\n");
        for (int i = 0; i < n; i++) {
            if (r[i].mode != m)
                continue;
            if (which == 0 && r[i].n > 1)
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                        PX(r[i].workers), PY(r[i].umin), PX(r[i].workers), PY(r[i].umax),
                        color[m]);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PX(r[i].workers),
                    PY(which == 0 ? r[i].umean : r[i].hours), color[m]);
        }
    }
#undef PX
#undef PY
}

static int write_svg(const char *path, const sim_agg *r, int n, const sim_opts *o,
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
               "(simulated, mean of %d seed%s; %d models per worker, PENGUIN %s, %.0f TFLOP/s "
               "per GPU, %d analytics rank%s)</text>\n",
            o->n_seeds, o->n_seeds > 1 ? "s, bars min..max" : "", o->gens + 1,
            o->penguin ? o->pcfg.policy_label : "off", o->tflops, o->analytics,
            o->analytics > 1 ? "s" : "");
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    return A4NN_OK;
}

/* ---- command line ------------------------------------------------------------------- */
/* Seconds per PENGUIN fit by policy: `a4nn penguin --curves <ref> --policy P`
 * (replay time / fits) on a 2-core x86-64 VM: seed 0.49 ms, ensemble 10.4 ms,
 * pareto 10.9 ms (the ensemble and pareto policies fit a family of curves
 * with restarts). */
static double default_fit_cost(const a4nn_policy *p)
{
    if (!strcmp(p->name, "ensemble"))
        return 0.0105;
    if (!strcmp(p->name, "pareto"))
        return 0.011;
    return 0.0005; /* seed; front, fixed and median make no curve fit this slow */
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn-scalesim [options]\n"
            "Simulates generational and async a4nn searches on W workers (one process,\n"
            "discrete events) on the reference learning curves; prints a CSV table.\n\n"
            "  --config PATH       the search of this `a4nn run` configuration (a run's\n"
            "                      config.ini): population, children, generations, mode,\n"
            "                      seed, epochs, PENGUIN, analytics ranks, replay curves\n"
            "  --curves PATH       reference curves CSV (default: $A4NN_SHARED or ../shared\n"
            "                      data/curves/nsganet-xfel-1e16-full.csv)\n"
            "  --workers LIST      comma list (default 4,8,16,32,64,128,256,512,1024)\n"
            "  --mode M            generational | async | both (default both)\n"
            "  --gens N            generations of children; models = pop * (N + 1) (default 31)\n"
            "  --pop N             population (default: workers)\n"
            "  --offspring N       children per generation (default: the population)\n"
            "  --batch-div N       async: an NSGA-II call makes pop/N children (default 32)\n"
            "  --analytics N       analytics ranks; model i goes to rank i mod N (default 1)\n"
            "  --fit-cost S        analytics seconds per EPOCH that PENGUIN fits (default by\n"
            "                      policy, measured: seed 0.0005, ensemble 0.0105, pareto 0.011)\n"
            "  --msg-cost S        analytics seconds per other message (default 0.00002)\n"
            "  --tflops X          sustained training TFLOP/s of one GPU (default 10)\n"
            "  --epoch-overhead S  seconds per epoch besides FLOPs (default 2)\n"
            "  --train-images N    (default 63508)   --val-images N (default 15876)\n"
            "  --jitter X          log-normal sigma of epoch times (default 0.05)\n"
            "  --dispatch S        search-rank seconds per task (default 0.002)\n"
            "  --penguin KEY=VAL   PENGUIN setting (policy, window, tolerance, ...)\n"
            "  --no-penguin        train every model for the full budget\n"
            "  --seed N            (default 1)\n"
            "  --seeds LIST        comma list: every run once per seed (one row each)\n"
            "  --csv PATH          write the table here (default: stdout)\n"
            "  --svg PATH          also write the plot (mean over seeds)\n"
            "  --trace PATH        one row per model: mode, workers, seed, model, analytics,\n"
            "                      worker, dispatched_s, ended_s, done_s, epochs_trained,\n"
            "                      epochs_run, fitness, mflops, genome\n");
}

static void parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        a4nn_die("scalesim: %s: '%s' is not an integer in [%ld, %ld]", opt, s, lo, hi);
    *out = v;
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

/* A comma list of integers into out (at most max). */
static int parse_list(const char *opt, const char *v, long lo, long hi, long *out, int max)
{
    char buf[1024];
    int n = 0;
    if (strlen(v) >= sizeof buf)
        a4nn_die("scalesim: %s: list too long", opt);
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max)
            a4nn_die("scalesim: %s: at most %d values", opt, max);
        parse_int(opt, t, lo, hi, &out[n++]);
    }
    if (n == 0)
        a4nn_die("scalesim: %s: empty list", opt);
    return n;
}

/* The search settings of `a4nn run` (the config module's defaults, or the
 * run configuration --config names, e.g. a run directory's config.ini):
 * genome shape, init_channels, crossover and mutation always; with --config
 * also the population, children, generations, mode, seed, epoch budget,
 * PENGUIN settings, analytics ranks and replay curves, one NSGA-II call per
 * genome as the run makes them. Options after it override. */
static int apply_run_config(sim_opts *o, int argc, char **argv, a4nn_error *err)
{
    static a4nn_config run; /* o->curves may point into it */
    a4nn_config_defaults(&run);
    const char *path = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config"))
            path = argv[i + 1];
    if (path && a4nn_config_read(&run, path, err) != A4NN_OK)
        return A4NN_ERR;
    o->n_phases = run.n_phases;
    o->n_nodes = run.n_nodes;
    o->init_channels = run.init_channels;
    o->crossover_prob = run.crossover_prob;
    o->mutation_prob = run.mutation_prob;
    o->pcfg.budget = run.epochs;
    if (!path)
        return A4NN_OK;
    o->pop = run.pop_size;
    o->offspring = run.n_offspring;
    o->gens = run.n_gens;
    o->batch_div = run.pop_size;
    o->modes[0] = run.mode == A4NN_MODE_ASYNC;
    o->n_modes = 1;
    o->seeds[0] = run.seed;
    o->penguin = run.penguin;
    o->analytics = run.analytics_ranks;
    if (run.replay_curves[0])
        o->curves = run.replay_curves;
    for (int k = 0; k < run.n_penguin_keys; k++)
        if (a4nn_penguin_config_set(&o->pcfg, run.penguin_key[k], run.penguin_value[k], err) !=
            A4NN_OK)
            return A4NN_ERR;
    return A4NN_OK;
}

int main(int argc, char **argv)
{
    sim_opts o = {0};
    static char curves_buf[4096];
    o.gens = 31;
    o.batch_div = 32;
    o.penguin = 1;
    o.analytics = 1;
    o.tflops = 10;
    o.overhead = 2;
    o.jitter = 0.05;
    o.dispatch = 0.002;
    o.fit_cost = -1;
    o.msg_cost = 0.00002;
    o.n_train = 63508;
    o.n_val = 15876;
    o.seeds[0] = 1;
    o.n_seeds = 1;
    o.csv = "-";
    o.modes[0] = 0;
    o.modes[1] = 1;
    o.n_modes = 2;
    for (int w = 4; w <= 1024; w *= 2)
        o.workers[o.n_workers++] = w;
    a4nn_penguin_config_defaults(&o.pcfg);
    a4nn_error err = {{0}};
    if (apply_run_config(&o, argc, argv, &err) != A4NN_OK)
        a4nn_die("scalesim: %s", err.msg);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--version")) {
            a4nn_print_version(stdout, "a4nn-scalesim");
            return 0;
        }
        if (!strcmp(a, "--no-penguin")) {
            o.penguin = 0;
            continue;
        }
        if (i + 1 >= argc)
            a4nn_die("scalesim: %s needs a value (see --help)", a);
        const char *v = argv[++i];
        long n, list[MAX_SEEDS > MAX_RUNS ? MAX_SEEDS : MAX_RUNS];
        if (!strcmp(a, "--config"))
            continue; /* read first (apply_run_config) */
        if (!strcmp(a, "--curves"))
            o.curves = v;
        else if (!strcmp(a, "--csv"))
            o.csv = v;
        else if (!strcmp(a, "--svg"))
            o.svg = v;
        else if (!strcmp(a, "--trace"))
            o.trace = v;
        else if (!strcmp(a, "--workers")) {
            o.n_workers = parse_list(a, v, 1, 1 << 20, list, MAX_RUNS);
            for (int k = 0; k < o.n_workers; k++)
                o.workers[k] = (int)list[k];
        } else if (!strcmp(a, "--seeds") || !strcmp(a, "--seed")) {
            o.n_seeds = parse_list(a, v, 0, 2147483647L, list, MAX_SEEDS);
            if (!strcmp(a, "--seed") && o.n_seeds != 1)
                a4nn_die("scalesim: --seed takes one value (--seeds for a list)");
            for (int k = 0; k < o.n_seeds; k++)
                o.seeds[k] = (uint64_t)list[k];
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
        else if (!strcmp(a, "--offspring"))
            parse_int(a, v, 1, 1 << 20, &n), o.offspring = (int)n;
        else if (!strcmp(a, "--batch-div"))
            parse_int(a, v, 1, 1 << 20, &n), o.batch_div = (int)n;
        else if (!strcmp(a, "--analytics"))
            parse_int(a, v, 1, 1 << 16, &n), o.analytics = (int)n;
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
        else if (!strcmp(a, "--fit-cost"))
            o.fit_cost = parse_dbl(a, v, 0, 1e6);
        else if (!strcmp(a, "--msg-cost"))
            o.msg_cost = parse_dbl(a, v, 0, 1e6);
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
    if (o.fit_cost < 0)
        o.fit_cost = default_fit_cost(o.pcfg.policy);
    o.start_epoch = a4nn_penguin_config_resolved(&o.pcfg).start_epoch;
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
        if (a4nn_penguin_replay(&o.pcfg, reg, &set, 1, rows, &sum, &err) != A4NN_OK)
            a4nn_die("scalesim: PENGUIN replay of %s: %s", o.curves, err.msg);
        long fits = 0;
        for (int i = 0; i < set.n_models; i++) {
            rt.epochs[i] = rows[i].epochs_used;
            rt.fitness[i] = rows[i].fitness;
            fits += rows[i].epochs_used > o.start_epoch ? rows[i].epochs_used - o.start_epoch : 0;
        }
        /* the same measurement as the default, on this machine, for comparison */
        fprintf(stderr, "scalesim: PENGUIN (%s) on %d reference curves: %.1f %% of epochs saved; "
                        "%.2f ms per fit here, simulated %.2f ms\n",
                o.pcfg.policy_label, set.n_models, sum.epochs_saved_pct,
                fits ? 1000.0 * sum.seconds / (double)fits : 0.0, 1000.0 * o.fit_cost);
        free(rows);
        a4nn_curve_registry_free(reg);
    } else {
        for (int i = 0; i < set.n_models; i++) {
            int n = set.models[i].n_epochs < o.pcfg.budget ? set.models[i].n_epochs : o.pcfg.budget;
            rt.epochs[i] = n;
            rt.fitness[i] = n > 0 ? set.models[i].val_acc[n - 1] : 0;
        }
    }

    FILE *trace = NULL;
    if (o.trace) {
        trace = fopen(o.trace, "w");
        if (!trace)
            a4nn_die("scalesim: cannot write %s: %s", o.trace, strerror(errno));
        fprintf(trace, "mode,workers,seed,model,analytics,worker,dispatched_s,ended_s,done_s,"
                       "epochs_trained,epochs_run,fitness,mflops,genome\n");
    }
    int n_res = 0;
    sim_result *res = a4nn_malloc((size_t)o.n_modes * o.n_workers * o.n_seeds * sizeof *res);
    for (int m = 0; m < o.n_modes; m++)
        for (int k = 0; k < o.n_workers; k++)
            for (int si = 0; si < o.n_seeds; si++) {
                double t0 = a4nn_now();
                sim_result *r = &res[n_res];
                if (simulate(&o, &rt, o.modes[m], o.workers[k], o.seeds[si], trace, r, &err) !=
                    A4NN_OK)
                    a4nn_die("scalesim: %s, %d workers, seed %llu: %s", mode_name(o.modes[m]),
                             o.workers[k], (unsigned long long)o.seeds[si], err.msg);
                fprintf(stderr, "scalesim: %-12s %5d workers seed %llu: %6d models, %6.2f h, "
                                "utilisation %5.1f %%, analytics %4.1f %% busy (%.1f s)\n",
                        mode_name(o.modes[m]), o.workers[k], (unsigned long long)o.seeds[si],
                        r->models, r->makespan / 3600, 100 * r->utilisation,
                        100 * r->analytics_busy / r->makespan, a4nn_now() - t0);
                n_res++;
            }
    if (trace && fclose(trace) != 0)
        a4nn_die("scalesim: cannot write %s: %s", o.trace, strerror(errno));
    sim_agg *agg = a4nn_malloc((size_t)o.n_modes * o.n_workers * sizeof *agg);
    int n_agg = aggregate(res, n_res, &o, agg);
    if (o.n_seeds > 1)
        for (int i = 0; i < n_agg; i++)
            fprintf(stderr, "scalesim: %-12s %5d workers: utilisation min %.1f %% mean %.1f %% "
                            "over %d seeds\n",
                    mode_name(agg[i].mode), agg[i].workers, agg[i].umin, agg[i].umean, agg[i].n);
    if (write_csv(o.csv, res, n_res, &o, &err) != A4NN_OK)
        a4nn_die("scalesim: %s", err.msg);
    if (o.svg && write_svg(o.svg, agg, n_agg, &o, &err) != A4NN_OK)
        a4nn_die("scalesim: %s", err.msg);
    free(agg);
    free(res);
    free(rt.epochs);
    free(rt.fitness);
    a4nn_curves_free(&set);
    return 0;
}
