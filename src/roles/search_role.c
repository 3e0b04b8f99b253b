/* roles: the search (rank 0). A thin loop around a search strategy (src/search:
 * generational or asynchronous NSGA-II): whenever a worker is free it asks the
 * strategy for a genome and sends it out as a TASK; each finished model is
 * recorded (commons, results.csv, progress line) and told to the strategy.
 * At the end: the final front. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "a4nn/commons.h"
#include "a4nn/roles.h"
#include "a4nn/search.h"

typedef struct {
    a4nn_genome g;
    char text[A4NN_GENOME_TEXT];
    int status; /* 0 not started, 1 running, 2 done */
    int replayed; /* epochs restored from a checkpoint in this run */
    int finished_seq, seen_at_dispatch; /* tracker: finish order; models finished at dispatch */
    int after_budget; /* finished after the compute budget was spent (was in flight) */
    a4nn_model_record rec;
    int cap_e, cap_p;
} model_slot;

typedef struct {
    const a4nn_role_ctx *ctx;
    const a4nn_config *cfg;
    a4nn_commons *commons;
    FILE *results;
    model_slot *m;
    int n_models, cap_models;
    a4nn_model_record *prev; /* finished models of the run being resumed */
    int n_prev;
    int *busy; /* per rank: model id or -1 */
    int n_free;
    a4nn_strategy *strategy;
    int barriers; /* the strategy's results count at generation barriers only */
    int n_resend; /* resume: ids below this that were sent out before */
    int *unsent; /* finished models whose FRONT is not sent yet (generational) */
    int n_unsent, n_front_sent;
    int n_finished; /* finish sequence: the tracker's notion of "trained before" */
    int interrupted, byes;
    int total, done, done_here, reused;
    long epochs_used, epochs_budget;
    double t0;
    double hours_before; /* resume: wall time the earlier attempts took */
} search_state;

/* Writes to run.log, every line stamped with its ISO-8601 UTC time. */
static void log_vlines(search_state *s, const char *fmt, va_list ap)
{
    if (!s->ctx->log)
        return;
    char text[8192], stamp[32];
    vsnprintf(text, sizeof text, fmt, ap);
    time_t now = time(NULL);
    struct tm tmv;
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tmv));
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\n");
        if (len)
            fprintf(s->ctx->log, "%s %.*s", stamp, (int)len, line);
        if (line[len] == '\n')
            fputc('\n', s->ctx->log), len++;
        line += len;
    }
    fflush(s->ctx->log);
}

/* run.log only. */
static void log_line(search_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(search_state *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vlines(s, fmt, ap);
    va_end(ap);
}

/* The terminal (unless quiet) and run.log. */
static void logf_(search_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(search_state *s, const char *fmt, ...)
{
    va_list ap;
    if (!s->ctx->quiet) {
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fflush(stdout);
    }
    va_start(ap, fmt);
    log_vlines(s, fmt, ap);
    va_end(ap);
}

static model_slot *slot(search_state *s, int id)
{
    if (id >= s->cap_models) {
        int cap = s->cap_models ? s->cap_models : 64;
        while (cap <= id)
            cap *= 2;
        s->m = a4nn_realloc(s->m, (size_t)cap * sizeof *s->m);
        memset(s->m + s->cap_models, 0, (size_t)(cap - s->cap_models) * sizeof *s->m);
        s->cap_models = cap;
    }
    if (id >= s->n_models)
        s->n_models = id + 1;
    return &s->m[id];
}

static const a4nn_model_record *find_prev(search_state *s, int id)
{
    int lo = 0, hi = s->n_prev - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (s->prev[mid].id == id)
            return &s->prev[mid];
        if (s->prev[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

static void csv_row(FILE *f, const a4nn_model_record *r, int after_budget)
{
    fprintf(f, "%d,\"%s\",%.6f,%ld,%d,%s,", r->id, r->genome, r->mflops, r->params,
            r->epochs_trained, r->stop_reason);
    if (isnan(r->predicted))
        fprintf(f, ",");
    else
        fprintf(f, "%.6f,", r->predicted);
    fprintf(f, "%.6f,%.6f,%d,%.3f,%d,%d\n", r->fitness, r->last_val_acc, r->worker, r->seconds,
            r->epochs_run, after_budget);
}

static const char CSV_HEADER[] = "id,genome,mflops,params,epochs_trained,stop_reason,"
                                 "predicted_fitness,fitness,last_val_acc,worker,seconds,"
                                 "epochs_run,after_budget\n";

static void fmt_dur(double s, char *buf, size_t cap)
{
    if (!(s >= 0) || s > 1e8)
        snprintf(buf, cap, "?");
    else if (s < 60)
        snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(buf, cap, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

/* FRONT of a finished model (r) or the end (r NULL); the learning curve of a
 * model that trained to the budget follows it. */
static int send_front(search_state *s, int end, const a4nn_model_record *r, a4nn_error *err)
{
    a4nn_msg_front f = {end, 0, r ? r->mflops : 0, r ? r->fitness : 0};
    double *curve = NULL;
    if (r && !strcmp(r->stop_reason, "budget") && r->n_epochs > 0) {
        curve = a4nn_malloc(sizeof(double) * 2 * (size_t)r->n_epochs);
        for (int e = 0; e < r->n_epochs; e++) {
            curve[e] = r->epochs[e].val_acc;
            curve[r->n_epochs + e] = r->epochs[e].train_acc;
        }
        f.n_curve = r->n_epochs;
    }
    int rc = a4nn_send_front(s->ctx, &f, curve, err);
    free(curve);
    if (rc != A4NN_OK)
        return A4NN_ERR;
    if (!end)
        s->n_front_sent++;
    return A4NN_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Sends the FRONT of every finished model not sent yet, in id order: at each
 * generation barrier (generational), after each model (async). */
static int flush_front(search_state *s, a4nn_error *err)
{
    qsort(s->unsent, (size_t)s->n_unsent, sizeof *s->unsent, cmp_int);
    for (int i = 0; i < s->n_unsent; i++) {
        const a4nn_model_record *r = &s->m[s->unsent[i]].rec;
        if (send_front(s, 0, r, err) != A4NN_OK)
            return A4NN_ERR;
    }
    s->n_unsent = 0;
    return A4NN_OK;
}

/* The tracker: relates a model to its nearest architectures among those
 * already trained when it was dispatched (in generational mode: the earlier
 * generations, whatever the number of workers), taken in id order so that
 * ties fall the same way in every run. */
static int track(search_state *s, model_slot *ms, int reused, a4nn_error *err)
{
    ms->finished_seq = s->n_finished++;
    if (reused)
        return A4NN_OK; /* its neighbours are in the commons */
    a4nn_genome *known = a4nn_malloc((size_t)(s->n_models + 1) * sizeof *known);
    double *fit = a4nn_malloc((size_t)(s->n_models + 1) * sizeof *fit);
    int *ids = a4nn_malloc((size_t)(s->n_models + 1) * sizeof *ids), n = 0;
    for (int id = 0; id < s->n_models; id++) {
        const model_slot *o = &s->m[id];
        if (o != ms && o->status == 2 && o->finished_seq < ms->seen_at_dispatch) {
            known[n] = o->g;
            fit[n] = o->rec.fitness;
            ids[n++] = id;
        }
    }
    a4nn_neighbour nb[A4NN_NEIGHBOURS_MAX];
    int k = a4nn_tracker_nearest(&ms->g, known, fit, n, A4NN_NEIGHBOURS_MAX, nb, err);
    for (int j = 0; j < k; j++)
        ms->rec.neighbours[j] = (a4nn_neighbour_row){ids[nb[j].index], nb[j].similarity,
                                                     nb[j].hamming, nb[j].graph_edit,
                                                     nb[j].fitness};
    ms->rec.n_neighbours = k > 0 ? k : 0;
    free(known);
    free(fit);
    free(ids);
    return k < 0 ? A4NN_ERR : A4NN_OK;
}

/* ---- the compute budget (search.budget_epochs, search.budget_hours) ------
 * Epochs are those of the learning curves (what PENGUIN saves). With
 * generation barriers the budget is turned into a model count at each
 * barrier (the next generation is cut to what the epochs left can pay for,
 * at the full epoch budget each), so a resumed run makes the same models;
 * otherwise no new model goes out once the epochs spent, running models
 * included, reach the budget. Models in flight at the end finish (or are
 * stopped by PENGUIN): at most one epoch budget per worker more. */
static double hours_spent(const search_state *s)
{
    return s->hours_before + (a4nn_now() - s->t0) / 3600.0;
}

static int budget_spent(const search_state *s)
{
    const a4nn_config *cfg = s->cfg;
    return (cfg->budget_epochs > 0 && s->epochs_used >= cfg->budget_epochs) ||
           (cfg->budget_hours > 0 && hours_spent(s) >= cfg->budget_hours);
}

/* With barriers: the models the epochs left pay for. */
static void budget_limit(search_state *s)
{
    long left = s->cfg->budget_epochs - s->epochs_used, e = s->cfg->epochs;
    if (!s->barriers || s->cfg->budget_epochs <= 0)
        return;
    long more = left > 0 ? (left + e - 1) / e : 0;
    a4nn_strategy_limit(s->strategy, a4nn_strategy_made(s->strategy) + (int)more);
}

/* Without barriers: whether a new model may go out. */
static int budget_may_ask(const search_state *s)
{
    const a4nn_config *cfg = s->cfg;
    if (cfg->budget_hours > 0 && hours_spent(s) >= cfg->budget_hours)
        return 0;
    if (s->barriers || cfg->budget_epochs <= 0)
        return 1;
    long spent = s->epochs_used;
    for (int id = 0; id < s->n_models; id++)
        if (s->m[id].status == 1)
            spent += s->m[id].rec.n_epochs;
    return spent < cfg->budget_epochs;
}

static void progress(search_state *s, int id, int reused)
{
    const model_slot *ms = &s->m[id];
    const a4nn_model_record *r = &ms->rec;
    double el = a4nn_now() - s->t0;
    /* ETA from measured epoch times: the models left, at the mean epochs a
     * finished model took (PENGUIN's savings included) and the mean seconds
     * per epoch, shared by the worker groups */
    double secs = 0, epochs = 0, trained = 0;
    int finished = 0;
    for (int i = 0; i < s->n_models; i++)
        if (s->m[i].status == 2 && s->m[i].rec.epochs_run > 0 && s->m[i].rec.seconds > 0) {
            secs += s->m[i].rec.seconds, epochs += s->m[i].rec.epochs_run;
            trained += s->m[i].rec.epochs_trained, finished++;
        }
    int groups = s->ctx->n_workers > 0 ? s->ctx->n_workers : 1;
    double eta = finished && s->total > 0
                     ? (s->total - s->done) * (trained / finished) * (secs / epochs) / groups
                     : NAN;
    char e1[32], e2[32];
    fmt_dur(el, e1, sizeof e1);
    fmt_dur(eta, e2, sizeof e2);
    char how[48] = "done";
    if (reused)
        snprintf(how, sizeof how, "(from the commons)");
    else if (ms->replayed > 0)
        snprintf(how, sizeof how, "done (continued from epoch %d)", ms->replayed);
    char count[32]; /* models done of all, or of as many as the compute budget pays for */
    if (s->total > 0)
        snprintf(count, sizeof count, "%*d/%d", s->total >= 100 ? 3 : 2, s->done, s->total);
    else
        snprintf(count, sizeof count, "%3d", s->done);
    logf_(s,
          "[%s] model %d %s: %2d/%d epochs (%s), fitness %6.2f %%, %8.2f MFLOPs | "
          "epochs %ld/%ld, %.1f %% saved | %s elapsed, ETA %s\n",
          count, id, how,
          r->epochs_trained, s->cfg->epochs, r->stop_reason, r->fitness, r->mflops,
          s->epochs_used, s->epochs_budget,
          s->epochs_budget ? 100.0 * (1.0 - (double)s->epochs_used / (double)s->epochs_budget) : 0,
          e1, e2);
}

/* A generation barrier passed: FRONTs of the generation out, the search
 * state into the commons. */
static int on_generation(search_state *s, a4nn_error *err)
{
    const int *pop;
    int n = a4nn_strategy_population(s->strategy, &pop);
    int gen = a4nn_strategy_generation(s->strategy) - 1;
    if (flush_front(s, err) != A4NN_OK ||
        a4nn_commons_write_search(s->commons, gen, a4nn_strategy_rng_state(s->strategy), pop, n,
                                  err) != A4NN_OK)
        return A4NN_ERR;
    budget_limit(s);
    if (gen > 0 && s->total > 0)
        logf_(s, "generation %d/%d done\n", gen, s->cfg->n_gens);
    else if (gen > 0)
        logf_(s, "generation %d done (%ld epochs spent)\n", gen, s->epochs_used);
    return A4NN_OK;
}

/* Marks a model finished: tracker, commons, CSV, front to the analytics,
 * progress; then tells the strategy. */
static int finish_model(search_state *s, int id, int reused, a4nn_error *err)
{
    model_slot *ms = &s->m[id];
    if (track(s, ms, reused, err) != A4NN_OK)
        return A4NN_ERR;
    s->unsent = a4nn_realloc(s->unsent, (size_t)(s->n_unsent + 1) * sizeof *s->unsent);
    s->unsent[s->n_unsent++] = id;
    if (!s->barriers && flush_front(s, err) != A4NN_OK)
        return A4NN_ERR;
    ms->status = 2;
    ms->after_budget = budget_spent(s);
    s->done++;
    s->epochs_used += ms->rec.epochs_trained;
    s->epochs_budget += s->cfg->epochs;
    if (!reused) {
        s->done_here++;
        if (a4nn_commons_write_model(s->commons, &ms->rec, err) != A4NN_OK)
            return A4NN_ERR;
        csv_row(s->results, &ms->rec, ms->after_budget);
        fflush(s->results);
    } else {
        s->reused++;
    }
    progress(s, id, reused);
    int rc = a4nn_strategy_tell(s->strategy, id, ms->rec.fitness, ms->rec.mflops, err);
    if (rc == A4NN_STRATEGY_GENERATION && !s->interrupted)
        rc = on_generation(s, err);
    return rc == A4NN_ERR ? A4NN_ERR : A4NN_OK;
}

static int send_shutdown(search_state *s, int interrupt, a4nn_error *err)
{
    a4nn_msg_shutdown m = {interrupt};
    for (int w = 0; w < s->ctx->n_workers; w++)
        if (a4nn_send_shutdown(s->ctx, a4nn_worker_rank(s->ctx, w), &m, err) != A4NN_OK)
            return A4NN_ERR;
    return A4NN_OK;
}

static void enter_interrupt(search_state *s, a4nn_error *err)
{
    if (s->interrupted)
        return;
    s->interrupted = 1;
    logf_(s, "a4nn: interrupted: stopping the workers at their next batch\n");
    send_shutdown(s, 1, err);
}

/* An epoch of a running model, with its prediction. */
static int on_prediction(search_state *s, int src, a4nn_error *err)
{
    a4nn_msg_epoch m;
    if (a4nn_recv_prediction(s->ctx, src, &m, err) != A4NN_OK)
        return A4NN_ERR;
    if (m.model_id < 0 || m.model_id >= s->n_models || s->m[m.model_id].status != 1)
        return a4nn_errorf(err, "search: an epoch of model %d, which is not running",
                           m.model_id);
    model_slot *ms = &s->m[m.model_id];
    a4nn_model_record *r = &ms->rec;
    if (r->n_epochs == ms->cap_e) {
        ms->cap_e = ms->cap_e ? 2 * ms->cap_e : 32;
        r->epochs = a4nn_realloc(r->epochs, (size_t)ms->cap_e * sizeof *r->epochs);
    }
    r->epochs[r->n_epochs++] = (a4nn_epoch_row){m.epoch, m.train_acc, m.val_acc, m.loss, m.seconds};
    if (s->ctx->log) { /* heartbeat: every epoch of every model, in run.log */
        char pred[64] = "no prediction yet", el[32];
        if (m.has_prediction)
            snprintf(pred, sizeof pred, "predicts %.2f %%%s", m.prediction,
                     m.converged ? " (converged)" : "");
        fmt_dur(a4nn_now() - s->t0, el, sizeof el);
        log_line(s, "epoch: model %d epoch %d/%d: val %.2f %%, train %.2f %%, %s, %.2f s | %s "
                    "elapsed\n",
                 m.model_id, m.epoch + 1, s->cfg->epochs, m.val_acc, m.train_acc, pred, m.seconds,
                 el);
    }
    ms->replayed += m.replayed != 0;
    if (m.has_prediction) {
        if (r->n_preds == ms->cap_p) {
            ms->cap_p = ms->cap_p ? 2 * ms->cap_p : 32;
            r->preds = a4nn_realloc(r->preds, (size_t)ms->cap_p * sizeof *r->preds);
        }
        r->preds[r->n_preds++] = (a4nn_pred_row){m.epoch, m.prediction, m.uncertainty, m.converged};
    }
    return A4NN_OK;
}

/* A model is done (or was interrupted): its worker is free. */
static int on_done(search_state *s, int src, a4nn_error *err)
{
    a4nn_msg_done d;
    if (a4nn_recv_done(s->ctx, src, &d, NULL, err) != A4NN_OK)
        return A4NN_ERR;
    if (d.model_id < 0 || d.model_id >= s->n_models || s->m[d.model_id].status != 1 ||
        a4nn_worker_index(s->ctx, d.worker) < 0 || s->busy[d.worker] != d.model_id)
        return a4nn_errorf(err, "search: an unexpected DONE for model %d from worker %d",
                           d.model_id, d.worker);
    s->busy[d.worker] = -1;
    s->n_free++;
    model_slot *ms = &s->m[d.model_id];
    if (d.reason == A4NN_STOP_INTERRUPTED) {
        ms->status = 0; /* resumes from its checkpoint */
        ms->rec.n_epochs = ms->rec.n_preds = 0;
        enter_interrupt(s, err);
        return A4NN_OK;
    }
    a4nn_model_record *r = &ms->rec;
    r->id = d.model_id;
    snprintf(r->genome, sizeof r->genome, "%s", ms->text);
    r->mflops = d.mflops;
    r->params = (long)d.params;
    r->epochs_trained = d.epochs_trained;
    r->epochs_run = d.epochs_run;
    snprintf(r->stop_reason, sizeof r->stop_reason, "%s", a4nn_stop_reason_name(d.reason));
    r->fitness = d.fitness;
    r->predicted = d.has_prediction ? d.prediction : NAN;
    r->last_val_acc = d.last_val_acc;
    r->worker = d.worker;
    r->start_time = d.start_time;
    r->end_time = d.end_time;
    r->seconds = d.seconds;
    if (r->n_epochs > r->epochs_trained)
        r->n_epochs = r->epochs_trained;
    return finish_model(s, d.model_id, 0, err);
}

/* Handles one incoming message, if any. Returns 1 handled, 0 none, -1 error. */
static int poll_once(search_state *s, a4nn_error *err)
{
    if (*s->ctx->interrupted && !s->interrupted)
        enter_interrupt(s, err);
    int flag = 0, src = -1, tag = -1;
    if (a4nn_probe(s->ctx, MPI_ANY_SOURCE, MPI_ANY_TAG, &flag, &src, &tag, err) != A4NN_OK)
        return -1;
    if (!flag)
        return 0;
    int rc;
    if (tag == A4NN_TAG_PREDICTION)
        rc = on_prediction(s, src, err);
    else if (tag == A4NN_TAG_DONE)
        rc = on_done(s, src, err);
    else if (tag == A4NN_TAG_BYE) {
        rc = a4nn_recv_bye(s->ctx, src, NULL, err);
        s->byes++;
    } else
        rc = a4nn_errorf(err, "search: unexpected message tag %d from rank %d", tag, src);
    return rc == A4NN_OK ? 1 : -1;
}

/* Waits for one message (polling with back-off). */
static int wait_one(search_state *s, a4nn_error *err)
{
    double nap = 1e-4;
    for (;;) {
        int rc = poll_once(s, err);
        if (rc != 0)
            return rc < 0 ? A4NN_ERR : A4NN_OK;
        a4nn_role_nap(nap);
        nap = nap < 0.002 ? nap * 2 : 0.002;
    }
}

/* Creates model id with genome g; a finished record of the resumed run is
 * taken over (and told to the strategy). Sets *reused. */
static int add_model(search_state *s, int id, const a4nn_genome *g, int *reused, a4nn_error *err)
{
    model_slot *ms = slot(s, id);
    ms->g = *g;
    *reused = 0;
    if (a4nn_genome_format(g, ms->text, sizeof ms->text) < 0)
        return a4nn_errorf(err, "search: genome of model %d too long", id);
    const a4nn_model_record *p = find_prev(s, id);
    if (!p)
        return A4NN_OK;
    if (strcmp(p->genome, ms->text))
        return a4nn_errorf(err, "resume: model %d in the commons has genome %s, the search "
                                "made %s (was the config changed?)",
                           id, p->genome, ms->text);
    ms->rec = *p;
    ms->rec.epochs = a4nn_malloc((size_t)(p->n_epochs ? p->n_epochs : 1) * sizeof *p->epochs);
    memcpy(ms->rec.epochs, p->epochs, (size_t)p->n_epochs * sizeof *p->epochs);
    ms->rec.preds = a4nn_malloc((size_t)(p->n_preds ? p->n_preds : 1) * sizeof *p->preds);
    memcpy(ms->rec.preds, p->preds, (size_t)p->n_preds * sizeof *p->preds);
    ms->cap_e = p->n_epochs ? p->n_epochs : 1;
    ms->cap_p = p->n_preds ? p->n_preds : 1;
    ms->status = 1;
    *reused = 1;
    return finish_model(s, id, 1, err);
}

/* Sends model id to the first free worker group. */
static int dispatch(search_state *s, int id, a4nn_error *err)
{
    int w = -1; /* the leader rank of the first free worker group */
    for (int i = 0; i < s->ctx->n_workers && w < 0; i++)
        if (s->busy[a4nn_worker_rank(s->ctx, i)] < 0)
            w = a4nn_worker_rank(s->ctx, i);
    if (w < 0)
        return a4nn_errorf(err, "search: no free worker");
    model_slot *ms = &s->m[id];
    a4nn_msg_task t;
    memset(&t, 0, sizeof t);
    t.model_id = id;
    t.epoch_budget = s->cfg->epochs;
    t.front_version = s->barriers ? s->n_front_sent : 0;
    t.seed = a4nn_seed_mix(s->cfg->seed, 0x1000000ULL + (uint64_t)id);
    snprintf(t.genome, sizeof t.genome, "%s", ms->text);
    a4nn_model_record_free(&ms->rec);
    memset(&ms->rec, 0, sizeof ms->rec);
    ms->cap_e = ms->cap_p = 0;
    ms->status = 1;
    ms->replayed = 0;
    /* with barriers: the models of the earlier generations (all finished and
     * flushed at the barrier); otherwise whatever has finished by now */
    ms->seen_at_dispatch = s->barriers ? s->n_front_sent : s->n_finished;
    s->busy[w] = id;
    s->n_free--;
    return a4nn_send_task(s->ctx, w, &t, err);
}

/* A new model from the strategy: taken from the commons when the resumed run
 * finished it, else recorded (when genomes depend on timing) and sent out. */
static int start_model(search_state *s, int id, const a4nn_genome *g, a4nn_error *err)
{
    int reused;
    if (add_model(s, id, g, &reused, err) != A4NN_OK)
        return A4NN_ERR;
    if (reused)
        return A4NN_OK;
    if (!s->barriers &&
        a4nn_commons_write_dispatch(s->commons, id, s->m[id].text,
                                    a4nn_strategy_rng_state(s->strategy), err) != A4NN_OK)
        return A4NN_ERR;
    return dispatch(s, id, err);
}

/* Resume of a strategy without barriers: every genome sent out before, and
 * the random stream after the last, come back from /search/dispatched; the
 * finished ones are taken from the commons, the others sent again first (they
 * continue from their checkpoints). */
static int restore_dispatched(search_state *s, a4nn_error *err)
{
    char(*sent)[256] = NULL;
    int n_sent = 0, has_rng = 0, rc = A4NN_OK;
    uint64_t rng[4];
    if (a4nn_commons_read_dispatch(s->commons, &sent, &n_sent, rng, &has_rng, err) != A4NN_OK)
        return A4NN_ERR;
    a4nn_genome *g = a4nn_malloc((size_t)(n_sent + 1) * sizeof *g);
    for (int i = 0; i < s->n_prev && rc == A4NN_OK; i++)
        if (s->prev[i].id >= n_sent)
            rc = a4nn_errorf(err, "resume: model %d is in the commons but not in "
                                  "/search/dispatched", s->prev[i].id);
    for (int id = 0; id < n_sent && rc == A4NN_OK; id++)
        if (!sent[id][0])
            rc = a4nn_errorf(err, "resume: /search/dispatched has no genome for model %d", id);
        else
            rc = a4nn_genome_parse(sent[id], s->cfg->n_phases, s->cfg->n_nodes, &g[id], err);
    if (rc == A4NN_OK)
        rc = a4nn_strategy_restore(s->strategy, g, n_sent, has_rng ? rng : NULL, err);
    for (int id = 0; id < n_sent && rc == A4NN_OK; id++) {
        int reused;
        rc = add_model(s, id, &g[id], &reused, err);
    }
    s->n_resend = n_sent;
    free(g);
    free(sent);
    return rc;
}

/* ---- the driver of the shared scheduling loop (a4nn_search_run) ---------- */
static int drv_free(void *p) { return ((search_state *)p)->n_free; }

static int drv_running(void *p)
{
    const search_state *s = p;
    return s->ctx->n_workers - s->n_free;
}

static int drv_halted(void *p) { return ((search_state *)p)->interrupted; }

static int drv_may_ask(void *p) { return budget_may_ask(p); }

static int drv_start(void *p, int id, const a4nn_genome *g, a4nn_error *err)
{
    return start_model(p, id, g, err);
}

static int drv_wait(void *p, a4nn_error *err) { return wait_one(p, err); }

/* A model of the resumed run that was sent out but did not finish goes out
 * again first: 1 when one did. */
static int drv_resend(void *p, a4nn_error *err)
{
    search_state *s = p;
    for (int id = 0; id < s->n_resend; id++)
        if (s->m[id].status == 0)
            return dispatch(s, id, err) == A4NN_OK ? 1 : -1;
    return 0;
}

static int search_loop(search_state *s, a4nn_error *err)
{
    const a4nn_search_driver d = {.ctx = s, .free_workers = drv_free, .running = drv_running,
                                  .halted = drv_halted, .may_ask = drv_may_ask,
                                  .resend = drv_resend,
                                  .start = drv_start, .wait = drv_wait};
    return a4nn_search_run(s->strategy, &d, err);
}

/* The search's objectives of models ids: (100 - fitness, MFLOPs). */
static void objectives(search_state *s, const int *ids, int n, double *obj)
{
    for (int i = 0; i < n; i++) {
        const a4nn_model_record *r = &s->m[ids[i]].rec;
        double f = isfinite(r->fitness) ? r->fitness : 0;
        obj[2 * i] = 100.0 - f;
        obj[2 * i + 1] = r->mflops;
    }
}

static int write_outputs(search_state *s, a4nn_error *err)
{
    const char *dir = s->ctx->dir;
    char path[1100];
    /* results.csv rewritten in id order (a resumed run appended as it went) */
    snprintf(path, sizeof path, "%s/results.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    fputs(CSV_HEADER, f);
    int n = 0;
    for (int id = 0; id < s->n_models; id++)
        if (s->m[id].status == 2) {
            csv_row(f, &s->m[id].rec, s->m[id].after_budget);
            n++;
        }
    if (fclose(f) != 0)
        return a4nn_errorf(err, "cannot write %s", path);
    int *ids = a4nn_malloc((size_t)(n ? n : 1) * sizeof *ids);
    double *obj = a4nn_malloc((size_t)(n ? n : 1) * 2 * sizeof *obj);
    int *rank = a4nn_malloc((size_t)(n ? n : 1) * sizeof *rank);
    n = 0;
    for (int id = 0; id < s->n_models; id++)
        if (s->m[id].status == 2)
            ids[n++] = id;
    objectives(s, ids, n, obj);
    a4nn_nsga2_sort(n, 2, obj, rank);
    /* front sorted by MFLOPs */
    int nf = 0;
    for (int i = 0; i < n; i++)
        if (rank[i] == 0)
            ids[nf] = ids[i], obj[2 * nf] = obj[2 * i], obj[2 * nf + 1] = obj[2 * i + 1], nf++;
    for (int a = 1; a < nf; a++)
        for (int b = a; b > 0 && (obj[2 * b - 1] > obj[2 * b + 1] ||
                                  (obj[2 * b - 1] == obj[2 * b + 1] && ids[b - 1] > ids[b]));
             b--) {
            int t = ids[b];
            ids[b] = ids[b - 1];
            ids[b - 1] = t;
            double o0 = obj[2 * b], o1 = obj[2 * b + 1];
            obj[2 * b] = obj[2 * b - 2];
            obj[2 * b + 1] = obj[2 * b - 1];
            obj[2 * b - 2] = o0;
            obj[2 * b - 1] = o1;
        }
    snprintf(path, sizeof path, "%s/pareto.csv", dir);
    f = fopen(path, "w");
    if (!f) {
        free(ids), free(obj), free(rank);
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    }
    fprintf(f, "id,genome,mflops,params,fitness,epochs_trained,stop_reason\n");
    logf_(s, "\nPareto front (%d of %d models; fitness = converged prediction or last "
             "validation accuracy):\n   id    fitness %%      MFLOPs     params  epochs  stop       "
             "genome\n",
          nf, n);
    for (int i = 0; i < nf; i++) {
        const a4nn_model_record *r = &s->m[ids[i]].rec;
        fprintf(f, "%d,\"%s\",%.6f,%ld,%.6f,%d,%s\n", r->id, r->genome, r->mflops, r->params,
                r->fitness, r->epochs_trained, r->stop_reason);
        logf_(s, "%5d  %10.2f  %10.3f  %9ld  %6d  %-9s  %s\n", r->id, r->fitness, r->mflops,
              r->params, r->epochs_trained, r->stop_reason, r->genome);
    }
    free(ids);
    free(obj);
    free(rank);
    if (fclose(f) != 0)
        return a4nn_errorf(err, "cannot write %s", path);
    return A4NN_OK;
}

/* The strategy of the configured mode, from the run's search settings. */
static int search_open_strategy(search_state *s, a4nn_error *err)
{
    const a4nn_config *cfg = s->cfg;
    a4nn_strategy_config sc = {.pop_size = cfg->pop_size, .n_offspring = cfg->n_offspring,
                               .n_gens = s->total > 0 ? cfg->n_gens : -1, .total = s->total,
                               .children_per_call = 1, .n_phases = cfg->n_phases,
                               .n_nodes = cfg->n_nodes, .crossover_prob = cfg->crossover_prob,
                               .mutation_prob = cfg->mutation_prob, .seed = cfg->seed};
    const a4nn_strategy_type *type = a4nn_strategy_find(a4nn_run_mode_name(cfg->mode));
    if (!type)
        return a4nn_errorf(err, "search: no strategy for mode %s", a4nn_run_mode_name(cfg->mode));
    s->strategy = a4nn_strategy_alloc(type, &sc, err);
    if (!s->strategy)
        return A4NN_ERR;
    s->barriers = type->barriers;
    budget_limit(s);
    if (s->ctx->resume && !s->barriers)
        return restore_dispatched(s, err);
    return A4NN_OK;
}

/* The run's lifecycle on the search rank, in one place: open the commons and
 * results.csv (or reopen them to resume), the search loop, the drain (running
 * models finish, or stop when interrupted), SHUTDOWN and the last FRONT, the
 * outputs, the summary line. */
static int search_open(search_state *s, a4nn_error *err)
{
    const a4nn_role_ctx *ctx = s->ctx;
    char path[1100];
    snprintf(path, sizeof path, "%s/commons.h5", ctx->dir);
    if (ctx->resume) {
        s->commons = a4nn_commons_open(path, err);
        if (!s->commons || a4nn_commons_read_models(s->commons, &s->prev, &s->n_prev, err) != A4NN_OK)
            return A4NN_ERR;
        double first = INFINITY, last = -INFINITY; /* the earlier attempts' wall time */
        for (int i = 0; i < s->n_prev; i++) {
            first = fmin(first, s->prev[i].start_time);
            last = fmax(last, s->prev[i].end_time);
        }
        s->hours_before = last > first ? (last - first) / 3600.0 : 0;
    } else {
        char *text = a4nn_config_text(s->cfg);
        s->commons = text ? a4nn_commons_create(path, text, s->cfg->seed, err) : NULL;
        free(text);
        if (!s->commons)
            return A4NN_ERR;
    }
    snprintf(path, sizeof path, "%s/results.csv", ctx->dir);
    s->results = fopen(path, ctx->resume ? "a" : "w");
    if (!s->results)
        return a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
    if (!ctx->resume)
        fputs(CSV_HEADER, s->results);
    return A4NN_OK;
}

static void search_banner(search_state *s)
{
    const a4nn_role_ctx *ctx = s->ctx;
    const a4nn_config *cfg = s->cfg;
    char workers[96];
    if (ctx->group_size > 1)
        snprintf(workers, sizeof workers, "%d worker group%s of %d ranks", ctx->n_workers,
                 ctx->n_workers == 1 ? "" : "s", ctx->group_size);
    else
        snprintf(workers, sizeof workers, "%d workers", ctx->n_workers);
    char size[96];
    if (s->total > 0)
        snprintf(size, sizeof size, "%d models", s->total);
    else if (cfg->budget_epochs > 0 && cfg->budget_hours > 0)
        snprintf(size, sizeof size, "a budget of %ld epochs or %g h", cfg->budget_epochs,
                 cfg->budget_hours);
    else if (cfg->budget_epochs > 0)
        snprintf(size, sizeof size, "a budget of %ld epochs", cfg->budget_epochs);
    else
        snprintf(size, sizeof size, "a budget of %g h", cfg->budget_hours);
    logf_(s, "a4nn run: %s search of %s (%d epochs each), %s (%s), %d "
             "analytics, PENGUIN %s, seed %llu, in %s%s\n",
          a4nn_run_mode_name(cfg->mode), size, cfg->epochs, workers,
          a4nn_worker_backend_name(cfg->backend), ctx->n_analytics, cfg->penguin ? "on" : "off",
          (unsigned long long)cfg->seed, ctx->dir, ctx->resume ? " (resumed)" : "");
}

/* A search where PENGUIN was on but stopped nothing says why, so that
 * "0.0 % saved" does not read as a fault: the front policy waits for
 * calibrate_after models to train to the budget, and then stops only models
 * whose optimistic prediction cannot reach the front. */
static void explain_no_savings(search_state *s)
{
    const a4nn_config *cfg = s->cfg;
    a4nn_penguin_config pc;
    if (!cfg->penguin || s->done == 0 || s->epochs_used < s->epochs_budget ||
        a4nn_config_penguin(cfg, &pc, NULL) != A4NN_OK)
        return;
    pc = a4nn_penguin_config_resolved(&pc);
    if (strcmp(pc.policy->name, "front") != 0)
        return;
    char why[96];
    if (s->done <= pc.calibrate_after)
        snprintf(why, sizeof why, "this search had %d", s->done);
    else
        snprintf(why, sizeof why, "none of the %d models after them was ruled out",
                 s->done - pc.calibrate_after);
    logf_(s, "PENGUIN (front) stopped no model: it stops none until %d models have trained to "
             "the budget, and then only a model that cannot reach the Pareto front even at the "
             "optimistic end of its calibrated prediction; %s\n",
          pc.calibrate_after, why);
}

static int search_finish(search_state *s, a4nn_error *err)
{
    int rc = A4NN_OK;
    while (s->n_free < s->ctx->n_workers && rc == A4NN_OK)
        rc = wait_one(s, err);
    if (rc == A4NN_OK && !s->interrupted)
        rc = send_shutdown(s, 0, err);
    if (rc == A4NN_OK)
        rc = send_front(s, 1, NULL, err);
    while (rc == A4NN_OK && s->byes < s->ctx->n_analytics)
        rc = wait_one(s, err);
    if (rc == A4NN_OK && !s->interrupted)
        rc = write_outputs(s, err);
    if (s->results && fclose(s->results) != 0 && rc == A4NN_OK)
        rc = a4nn_errorf(err, "cannot write %s/results.csv", s->ctx->dir);
    s->results = NULL;
    if (rc == A4NN_OK) {
        char e1[32];
        fmt_dur(a4nn_now() - s->t0, e1, sizeof e1);
        char count[48];
        if (s->total > 0)
            snprintf(count, sizeof count, "%d/%d", s->done, s->total);
        else
            snprintf(count, sizeof count, "%d (compute budget)", s->done);
        logf_(s, "%s: %s models (%d from the commons), %ld of %ld epochs trained (%.1f %% "
                 "saved), %s\n",
              s->interrupted ? "interrupted" : "done", count, s->reused,
              s->epochs_used, s->epochs_budget,
              s->epochs_budget ? 100.0 * (1.0 - (double)s->epochs_used / s->epochs_budget) : 0.0,
              e1);
        if (!s->interrupted)
            explain_no_savings(s);
    }
    return rc;
}

static void search_free(search_state *s)
{
    if (s->results)
        fclose(s->results);
    for (int i = 0; i < s->n_models; i++)
        a4nn_model_record_free(&s->m[i].rec);
    free(s->m);
    for (int i = 0; i < s->n_prev; i++)
        a4nn_model_record_free(&s->prev[i]);
    free(s->prev);
    free(s->busy);
    free(s->unsent);
    a4nn_strategy_free(s->strategy);
}

int a4nn_role_search(const a4nn_role_ctx *ctx, a4nn_error *err)
{
    search_state s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.cfg = ctx->cfg;
    s.total = ctx->cfg->budget_epochs > 0 || ctx->cfg->budget_hours > 0
                  ? 0 /* the compute budget ends the search */
                  : a4nn_config_total_models(ctx->cfg);
    s.t0 = a4nn_now();
    s.busy = a4nn_malloc((size_t)(ctx->size + 1) * sizeof *s.busy);
    for (int i = 0; i <= ctx->size; i++)
        s.busy[i] = -1;
    s.n_free = ctx->n_workers;
    int rc = search_open(&s, err);
    if (rc == A4NN_OK) {
        search_banner(&s);
        rc = search_open_strategy(&s, err);
    }
    if (rc == A4NN_OK)
        rc = search_loop(&s, err);
    if (rc == A4NN_OK)
        rc = search_finish(&s, err);
    /* a protocol or I/O error: the caller aborts the job */
    if (a4nn_commons_close(s.commons, rc == A4NN_OK ? err : &(a4nn_error){{0}}) != A4NN_OK)
        rc = A4NN_ERR;
    search_free(&s);
    if (rc != A4NN_OK)
        return A4NN_ERR;
    return s.interrupted ? 1 : A4NN_OK;
}
