/* roles: the search (rank 0). NSGA-II over genomes, generational or
 * asynchronous, dispatching TASKs to free workers, recording every finished
 * model in the commons and results.csv, progress lines, the final front. */
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
    int *unsent; /* finished models whose FRONT is not sent yet (generational) */
    int n_unsent, n_front_sent;
    int n_finished; /* finish sequence: the tracker's notion of "trained before" */
    int interrupted, byes;
    int total, done, done_here, reused;
    long epochs_used, epochs_budget;
    double t0;
} search_state;

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
    if (s->ctx->log) {
        va_start(ap, fmt);
        vfprintf(s->ctx->log, fmt, ap);
        va_end(ap);
        fflush(s->ctx->log);
    }
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

static void csv_row(FILE *f, const a4nn_model_record *r)
{
    fprintf(f, "%d,\"%s\",%.6f,%ld,%d,%s,", r->id, r->genome, r->mflops, r->params,
            r->epochs_trained, r->stop_reason);
    if (isnan(r->predicted))
        fprintf(f, ",");
    else
        fprintf(f, "%.6f,", r->predicted);
    fprintf(f, "%.6f,%.6f,%d,%.3f,%d\n", r->fitness, r->last_val_acc, r->worker, r->seconds,
            r->epochs_run);
}

static const char CSV_HEADER[] = "id,genome,mflops,params,epochs_trained,stop_reason,"
                                 "predicted_fitness,fitness,last_val_acc,worker,seconds,"
                                 "epochs_run\n";

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
        curve = a4nn_malloc(sizeof(double) * (size_t)r->n_epochs);
        for (int e = 0; e < r->n_epochs; e++)
            curve[e] = r->epochs[e].val_acc;
        f.n_curve = r->n_epochs;
    }
    for (int a = 0; a < s->ctx->n_analytics; a++) {
        int dest = s->ctx->size - s->ctx->n_analytics + a;
        if (MPI_Send(&f, sizeof f, MPI_BYTE, dest, A4NN_TAG_FRONT, s->ctx->comm) != MPI_SUCCESS ||
            (curve && MPI_Send(curve, f.n_curve, MPI_DOUBLE, dest, A4NN_TAG_CURVE,
                               s->ctx->comm) != MPI_SUCCESS)) {
            free(curve);
            return a4nn_errorf(err, "search: MPI_Send FRONT to rank %d failed", dest);
        }
    }
    free(curve);
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

/* Marks a model finished: tracker, commons, CSV, front to the analytics,
 * progress. */
static int finish_model(search_state *s, int id, int reused, a4nn_error *err)
{
    model_slot *ms = &s->m[id];
    if (track(s, ms, reused, err) != A4NN_OK)
        return A4NN_ERR;
    s->unsent = a4nn_realloc(s->unsent, (size_t)(s->n_unsent + 1) * sizeof *s->unsent);
    s->unsent[s->n_unsent++] = id;
    if (s->cfg->mode == A4NN_MODE_ASYNC && flush_front(s, err) != A4NN_OK)
        return A4NN_ERR;
    ms->status = 2;
    s->done++;
    s->epochs_used += ms->rec.epochs_trained;
    s->epochs_budget += s->cfg->epochs;
    if (!reused) {
        s->done_here++;
        if (a4nn_commons_write_model(s->commons, &ms->rec, err) != A4NN_OK)
            return A4NN_ERR;
        csv_row(s->results, &ms->rec);
        fflush(s->results);
    } else {
        s->reused++;
    }
    double el = a4nn_now() - s->t0;
    double eta = s->done_here ? el / s->done_here * (s->total - s->done) : NAN;
    char e1[32], e2[32];
    fmt_dur(el, e1, sizeof e1);
    fmt_dur(eta, e2, sizeof e2);
    const a4nn_model_record *r = &ms->rec;
    char how[48] = "done";
    if (reused)
        snprintf(how, sizeof how, "(from the commons)");
    else if (ms->replayed > 0)
        snprintf(how, sizeof how, "done (continued from epoch %d)", ms->replayed);
    logf_(s,
          "[%*d/%d] model %d %s: %2d/%d epochs (%s), fitness %6.2f %%, %8.2f MFLOPs | "
          "epochs %ld/%ld, %.1f %% saved | %s elapsed, ETA %s\n",
          (int)(s->total >= 100 ? 3 : 2), s->done, s->total, id, how,
          r->epochs_trained, s->cfg->epochs, r->stop_reason, r->fitness, r->mflops,
          s->epochs_used, s->epochs_budget,
          s->epochs_budget ? 100.0 * (1.0 - (double)s->epochs_used / (double)s->epochs_budget) : 0,
          e1, e2);
    return A4NN_OK;
}

static int send_shutdown(search_state *s, int interrupt, a4nn_error *err)
{
    a4nn_msg_shutdown m = {interrupt};
    for (int w = 0; w < s->ctx->n_workers; w++) {
        const int r = a4nn_worker_rank(s->ctx, w);
        if (MPI_Send(&m, sizeof m, MPI_BYTE, r, A4NN_TAG_SHUTDOWN, s->ctx->comm) != MPI_SUCCESS)
            return a4nn_errorf(err, "search: MPI_Send SHUTDOWN to rank %d failed", r);
    }
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

/* Handles one incoming message, if any. Returns 1 handled, 0 none, -1 error. */
static int poll_once(search_state *s, a4nn_error *err)
{
    const a4nn_role_ctx *ctx = s->ctx;
    if (*ctx->interrupted && !s->interrupted)
        enter_interrupt(s, err);
    int flag = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, ctx->comm, &flag, &st) != MPI_SUCCESS)
        return a4nn_errorf(err, "search: MPI_Iprobe failed"), -1;
    if (!flag)
        return 0;
    if (st.MPI_TAG == A4NN_TAG_PREDICTION) {
        a4nn_msg_epoch m;
        if (MPI_Recv(&m, sizeof m, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, ctx->comm,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return a4nn_errorf(err, "search: MPI_Recv PREDICTION failed"), -1;
        if (m.model_id < 0 || m.model_id >= s->n_models || s->m[m.model_id].status != 1)
            return a4nn_errorf(err, "search: an epoch of model %d, which is not running",
                               m.model_id), -1;
        model_slot *ms = &s->m[m.model_id];
        a4nn_model_record *r = &ms->rec;
        if (r->n_epochs == ms->cap_e) {
            ms->cap_e = ms->cap_e ? 2 * ms->cap_e : 32;
            r->epochs = a4nn_realloc(r->epochs, (size_t)ms->cap_e * sizeof *r->epochs);
        }
        r->epochs[r->n_epochs++] =
            (a4nn_epoch_row){m.epoch, m.train_acc, m.val_acc, m.loss, m.seconds};
        ms->replayed += m.replayed != 0;
        if (m.has_prediction) {
            if (r->n_preds == ms->cap_p) {
                ms->cap_p = ms->cap_p ? 2 * ms->cap_p : 32;
                r->preds = a4nn_realloc(r->preds, (size_t)ms->cap_p * sizeof *r->preds);
            }
            r->preds[r->n_preds++] =
                (a4nn_pred_row){m.epoch, m.prediction, m.uncertainty, m.converged};
        }
        return 1;
    }
    if (st.MPI_TAG == A4NN_TAG_DONE) {
        a4nn_msg_done d;
        if (MPI_Recv(&d, sizeof d, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, ctx->comm,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return a4nn_errorf(err, "search: MPI_Recv DONE failed"), -1;
        if (d.model_id < 0 || d.model_id >= s->n_models || s->m[d.model_id].status != 1 ||
            a4nn_worker_index(ctx, d.worker) < 0 || s->busy[d.worker] != d.model_id)
            return a4nn_errorf(err, "search: an unexpected DONE for model %d from worker %d",
                               d.model_id, d.worker), -1;
        s->busy[d.worker] = -1;
        s->n_free++;
        model_slot *ms = &s->m[d.model_id];
        if (d.reason == A4NN_STOP_INTERRUPTED) {
            ms->status = 0; /* resumes from its checkpoint */
            ms->rec.n_epochs = ms->rec.n_preds = 0;
            enter_interrupt(s, err);
            return 1;
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
        return finish_model(s, d.model_id, 0, err) == A4NN_OK ? 1 : -1;
    }
    if (st.MPI_TAG == A4NN_TAG_BYE) {
        int32_t who;
        if (MPI_Recv(&who, 1, MPI_INT32_T, st.MPI_SOURCE, st.MPI_TAG, ctx->comm,
                     MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return a4nn_errorf(err, "search: MPI_Recv BYE failed"), -1;
        s->byes++;
        return 1;
    }
    return a4nn_errorf(err, "search: unexpected message tag %d from rank %d", st.MPI_TAG,
                       st.MPI_SOURCE), -1;
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

/* Creates model id with genome g; reuses a finished record of the resumed run. */
static int add_model(search_state *s, int id, const a4nn_genome *g, a4nn_error *err)
{
    model_slot *ms = slot(s, id);
    ms->g = *g;
    if (a4nn_genome_format(g, ms->text, sizeof ms->text) < 0)
        return a4nn_errorf(err, "search: genome of model %d too long", id);
    const a4nn_model_record *p = find_prev(s, id);
    if (p) {
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
        return finish_model(s, id, 1, err);
    }
    return A4NN_OK;
}

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
    t.front_version = s->cfg->mode == A4NN_MODE_GENERATIONAL ? s->n_front_sent : 0;
    t.seed = a4nn_seed_mix(s->cfg->seed, 0x1000000ULL + (uint64_t)id);
    snprintf(t.genome, sizeof t.genome, "%s", ms->text);
    a4nn_model_record_free(&ms->rec);
    memset(&ms->rec, 0, sizeof ms->rec);
    ms->cap_e = ms->cap_p = 0;
    ms->status = 1;
    ms->replayed = 0;
    /* generational: the models of the earlier generations (all finished and
     * flushed at the barrier); async: whatever has finished by now */
    ms->seen_at_dispatch =
        s->cfg->mode == A4NN_MODE_GENERATIONAL ? s->n_front_sent : s->n_finished;
    s->busy[w] = id;
    s->n_free--;
    if (MPI_Send(&t, sizeof t, MPI_BYTE, w, A4NN_TAG_TASK, s->ctx->comm) != MPI_SUCCESS)
        return a4nn_errorf(err, "search: MPI_Send TASK to rank %d failed", w);
    return A4NN_OK;
}

/* Evaluates models [ids] (generational: the barrier of one generation). */
static int evaluate(search_state *s, const int *ids, int n, a4nn_error *err)
{
    int next = 0;
    for (;;) {
        while (!s->interrupted && s->n_free > 0 && next < n) {
            if (s->m[ids[next]].status == 0 && dispatch(s, ids[next], err) != A4NN_OK)
                return A4NN_ERR;
            next++;
        }
        while (next < n && s->m[ids[next]].status == 2)
            next++;
        int pending = 0;
        for (int i = 0; i < n; i++)
            if (s->m[ids[i]].status == 1)
                pending = 1;
        if (!pending && (next >= n || s->interrupted))
            return A4NN_OK;
        if (wait_one(s, err) != A4NN_OK)
            return A4NN_ERR;
    }
}

static void objectives(search_state *s, const int *ids, int n, double *obj, a4nn_genome *g)
{
    for (int i = 0; i < n; i++) {
        const a4nn_model_record *r = &s->m[ids[i]].rec;
        double f = isfinite(r->fitness) ? r->fitness : 0;
        obj[2 * i] = 100.0 - f;
        obj[2 * i + 1] = r->mflops;
        if (g)
            g[i] = s->m[ids[i]].g;
    }
}

static int save_search(search_state *s, int gen, const a4nn_rng *rng, const int *pop, int n,
                       a4nn_error *err)
{
    return a4nn_commons_write_search(s->commons, gen, rng->s, pop, n, err);
}

/* A random genome not yet in the archive (the initial population). */
static void random_new_genome(a4nn_rng *rng, const a4nn_config *cfg, const a4nn_genome *archive,
                              int n_archive, a4nn_genome *g)
{
    int dup;
    do {
        a4nn_nsga2_random_genome(rng, cfg->n_phases, cfg->n_nodes, g);
        dup = 0;
        for (int j = 0; j < n_archive && !dup; j++)
            dup = a4nn_genome_equal(g, &archive[j]);
    } while (dup);
}

static int run_generational(search_state *s, a4nn_error *err)
{
    const a4nn_config *cfg = s->cfg;
    a4nn_rng rng;
    a4nn_rng_seed(&rng, a4nn_seed_mix(cfg->seed, 0x5EA4C11ULL));
    int P = cfg->pop_size, K = cfg->n_offspring;
    int *pop = a4nn_malloc((size_t)(P + K) * sizeof *pop);
    int *kids = a4nn_malloc((size_t)K * sizeof *kids);
    int *chosen = a4nn_malloc((size_t)(P + K) * sizeof *chosen);
    double *obj = a4nn_malloc((size_t)(P + K) * 2 * sizeof *obj);
    a4nn_genome *pg = a4nn_malloc((size_t)(P + K) * sizeof *pg);
    a4nn_genome *archive = a4nn_malloc((size_t)s->total * sizeof *archive);
    a4nn_genome *children = a4nn_malloc((size_t)K * sizeof *children);
    int rc = A4NN_OK, next_id = 0;
    for (int i = 0; i < P; i++) {
        a4nn_genome g;
        random_new_genome(&rng, cfg, archive, next_id, &g);
        archive[next_id] = g;
        pop[i] = next_id;
        if ((rc = add_model(s, next_id++, &g, err)) != A4NN_OK)
            goto out;
    }
    if ((rc = evaluate(s, pop, P, err)) != A4NN_OK || s->interrupted ||
        (rc = flush_front(s, err)) != A4NN_OK)
        goto out;
    if ((rc = save_search(s, 0, &rng, pop, P, err)) != A4NN_OK)
        goto out;
    for (int gen = 1; gen <= cfg->n_gens; gen++) {
        objectives(s, pop, P, obj, pg);
        if ((rc = a4nn_nsga2_offspring(&rng, pg, obj, P, archive, next_id, cfg->crossover_prob,
                                       cfg->mutation_prob, K, children, err)) != A4NN_OK)
            goto out;
        for (int k = 0; k < K; k++) {
            archive[next_id] = children[k];
            kids[k] = next_id;
            if ((rc = add_model(s, next_id++, &children[k], err)) != A4NN_OK)
                goto out;
        }
        if ((rc = evaluate(s, kids, K, err)) != A4NN_OK || s->interrupted ||
            (rc = flush_front(s, err)) != A4NN_OK)
            goto out;
        memcpy(pop + P, kids, (size_t)K * sizeof *kids);
        objectives(s, pop, P + K, obj, NULL);
        a4nn_nsga2_survivors(P + K, 2, obj, P, chosen);
        int *np = a4nn_malloc((size_t)P * sizeof *np);
        for (int i = 0; i < P; i++)
            np[i] = pop[chosen[i]];
        memcpy(pop, np, (size_t)P * sizeof *np);
        free(np);
        if ((rc = save_search(s, gen, &rng, pop, P, err)) != A4NN_OK)
            goto out;
        logf_(s, "generation %d/%d done\n", gen, cfg->n_gens);
    }
out:
    free(pop);
    free(kids);
    free(chosen);
    free(obj);
    free(pg);
    free(archive);
    free(children);
    return rc;
}

/* Asynchronous (steady-state): a new genome as soon as a worker is free.
 * Each genome and the RNG state after making it are recorded in the commons
 * before the genome goes out (/search/dispatched), so a resumed run keeps
 * every finished model, sends the unfinished ones again (they continue from
 * their checkpoints) and goes on with the same random stream. */
static int run_async(search_state *s, a4nn_error *err)
{
    const a4nn_config *cfg = s->cfg;
    const int P = cfg->pop_size;
    a4nn_rng rng;
    a4nn_rng_seed(&rng, a4nn_seed_mix(cfg->seed, 0xA5C0000ULL));
    char(*sent)[256] = NULL;
    int n_sent = 0, has_rng = 0;
    if (s->ctx->resume &&
        a4nn_commons_read_dispatch(s->commons, &sent, &n_sent, rng.s, &has_rng, err) != A4NN_OK)
        return A4NN_ERR;
    int cap = s->total + n_sent + 1;
    a4nn_genome *archive = a4nn_malloc((size_t)cap * sizeof *archive);
    int *pop = a4nn_malloc((size_t)cap * sizeof *pop);
    int *chosen = a4nn_malloc((size_t)cap * sizeof *chosen);
    double *obj = a4nn_malloc((size_t)cap * 2 * sizeof *obj);
    a4nn_genome *pg = a4nn_malloc((size_t)cap * sizeof *pg);
    int n_arch = 0, rc = A4NN_OK;
    for (int i = 0; i < s->n_prev; i++)
        if (s->prev[i].id >= n_sent) {
            rc = a4nn_errorf(err, "resume: model %d is in the commons but not in "
                                  "/search/dispatched", s->prev[i].id);
            goto out;
        }
    for (int id = 0; id < n_sent; id++) {
        a4nn_genome g;
        if (!sent[id][0]) {
            rc = a4nn_errorf(err, "resume: /search/dispatched has no genome for model %d", id);
            goto out;
        }
        if ((rc = a4nn_genome_parse(sent[id], cfg->n_phases, cfg->n_nodes, &g, err)) != A4NN_OK ||
            (rc = add_model(s, id, &g, err)) != A4NN_OK)
            goto out;
        archive[n_arch++] = g;
    }
    int next_id = n_sent, launched = n_sent;
    while (!s->interrupted && s->done < s->total) {
        int made = 0;
        /* the resumed run's unfinished models first */
        for (int id = 0; id < n_sent && s->n_free > 0 && !s->interrupted; id++)
            if (s->m[id].status == 0) {
                if ((rc = dispatch(s, id, err)) != A4NN_OK)
                    goto out;
                made++;
            }
        /* current population: the finished models */
        int n = 0;
        for (int id = 0; id < s->n_models; id++)
            if (s->m[id].status == 2)
                pop[n++] = id;
        while (s->n_free > 0 && launched < s->total && !s->interrupted) {
            a4nn_genome g;
            if (launched < P || n < 2) {
                if (launched >= P && n < 2)
                    break; /* wait for two finished models to breed from */
                random_new_genome(&rng, cfg, archive, n_arch, &g);
            } else {
                /* NSGA-II environmental selection of the parents' pool, then
                 * tournament, crossover, mutation, duplicate elimination */
                int k = n;
                objectives(s, pop, n, obj, NULL);
                if (n > P) {
                    a4nn_nsga2_survivors(n, 2, obj, P, chosen);
                    k = P;
                } else {
                    for (int i = 0; i < n; i++)
                        chosen[i] = i;
                }
                int *parents = a4nn_malloc((size_t)k * sizeof *parents);
                for (int i = 0; i < k; i++)
                    parents[i] = pop[chosen[i]];
                objectives(s, parents, k, obj, pg);
                free(parents);
                if ((rc = a4nn_nsga2_offspring(&rng, pg, obj, k, archive, n_arch,
                                               cfg->crossover_prob, cfg->mutation_prob, 1, &g,
                                               err)) != A4NN_OK)
                    goto out;
            }
            archive[n_arch++] = g;
            int id = next_id++;
            if ((rc = add_model(s, id, &g, err)) != A4NN_OK ||
                (rc = a4nn_commons_write_dispatch(s->commons, id, s->m[id].text, rng.s, err)) !=
                    A4NN_OK ||
                (rc = dispatch(s, id, err)) != A4NN_OK)
                goto out;
            launched++;
            made++;
        }
        if (made == 0 && (rc = wait_one(s, err)) != A4NN_OK)
            goto out;
    }
    while (!s->interrupted && s->n_free < s->ctx->n_workers)
        if ((rc = wait_one(s, err)) != A4NN_OK)
            goto out;
out:
    free(sent);
    free(archive);
    free(pop);
    free(chosen);
    free(obj);
    free(pg);
    return rc;
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
            csv_row(f, &s->m[id].rec);
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
    objectives(s, ids, n, obj, NULL);
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

int a4nn_role_search(const a4nn_role_ctx *ctx, a4nn_error *err)
{
    const a4nn_config *cfg = ctx->cfg;
    search_state s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.cfg = cfg;
    s.total = a4nn_config_total_models(cfg);
    s.t0 = a4nn_now();
    s.busy = a4nn_malloc((size_t)(ctx->size + 1) * sizeof *s.busy);
    for (int i = 0; i <= ctx->size; i++)
        s.busy[i] = -1;
    s.n_free = ctx->n_workers;
    char path[1100];
    snprintf(path, sizeof path, "%s/commons.h5", ctx->dir);
    int rc = A4NN_OK;
    if (ctx->resume) {
        s.commons = a4nn_commons_open(path, err);
        if (!s.commons || a4nn_commons_read_models(s.commons, &s.prev, &s.n_prev, err) != A4NN_OK)
            rc = A4NN_ERR;
    } else {
        char *text = a4nn_config_text(cfg);
        s.commons = text ? a4nn_commons_create(path, text, cfg->seed, err) : NULL;
        free(text);
        if (!s.commons)
            rc = A4NN_ERR;
    }
    if (rc == A4NN_OK) {
        snprintf(path, sizeof path, "%s/results.csv", ctx->dir);
        s.results = fopen(path, ctx->resume ? "a" : "w");
        if (!s.results)
            rc = a4nn_errorf(err, "cannot write %s: %s", path, strerror(errno));
        else if (!ctx->resume)
            fputs(CSV_HEADER, s.results);
    }
    if (rc == A4NN_OK) {
        char workers[96];
        if (ctx->group_size > 1)
            snprintf(workers, sizeof workers, "%d worker group%s of %d ranks", ctx->n_workers,
                     ctx->n_workers == 1 ? "" : "s", ctx->group_size);
        else
            snprintf(workers, sizeof workers, "%d workers", ctx->n_workers);
        logf_(&s, "a4nn run: %s search of %d models (%d epochs each), %s (%s), %d "
                  "analytics, PENGUIN %s, seed %llu, in %s%s\n",
              a4nn_run_mode_name(cfg->mode), s.total, cfg->epochs, workers,
              a4nn_worker_backend_name(cfg->backend), ctx->n_analytics,
              cfg->penguin ? "on" : "off", (unsigned long long)cfg->seed, ctx->dir,
              ctx->resume ? " (resumed)" : "");
        if (cfg->mode == A4NN_MODE_GENERATIONAL)
            rc = run_generational(&s, err);
        else
            rc = run_async(&s, err);
    }
    if (rc != A4NN_OK) {
        /* a protocol or I/O error: the caller aborts the job */
        if (s.results)
            fclose(s.results);
        a4nn_error e2;
        a4nn_commons_close(s.commons, &e2);
        for (int i = 0; i < s.n_models; i++)
            a4nn_model_record_free(&s.m[i].rec);
        free(s.m);
        for (int i = 0; i < s.n_prev; i++)
            a4nn_model_record_free(&s.prev[i]);
        free(s.prev);
        free(s.busy);
        free(s.unsent);
        return A4NN_ERR;
    }
    /* drain: running models finish (or stop when interrupted) */
    while (s.n_free < ctx->n_workers && rc == A4NN_OK)
        rc = wait_one(&s, err);
    if (rc == A4NN_OK && !s.interrupted)
        rc = send_shutdown(&s, 0, err);
    if (rc == A4NN_OK)
        rc = send_front(&s, 1, NULL, err);
    while (rc == A4NN_OK && s.byes < ctx->n_analytics)
        rc = wait_one(&s, err);
    if (rc == A4NN_OK && !s.interrupted)
        rc = write_outputs(&s, err);
    if (s.results && fclose(s.results) != 0 && rc == A4NN_OK)
        rc = a4nn_errorf(err, "cannot write %s/results.csv", ctx->dir);
    if (a4nn_commons_close(s.commons, rc == A4NN_OK ? err : &(a4nn_error){{0}}) != A4NN_OK)
        rc = A4NN_ERR;
    if (rc == A4NN_OK) {
        double el = a4nn_now() - s.t0;
        char e1[32];
        fmt_dur(el, e1, sizeof e1);
        logf_(&s, "%s: %d/%d models (%d from the commons), %ld of %ld epochs trained (%.1f %% "
                  "saved), %s\n",
              s.interrupted ? "interrupted" : "done", s.done, s.total, s.reused, s.epochs_used,
              s.epochs_budget,
              s.epochs_budget ? 100.0 * (1.0 - (double)s.epochs_used / s.epochs_budget) : 0.0,
              e1);
    }
    for (int i = 0; i < s.n_models; i++)
        a4nn_model_record_free(&s.m[i].rec);
    free(s.m);
    for (int i = 0; i < s.n_prev; i++)
        a4nn_model_record_free(&s.prev[i]);
    free(s.prev);
    free(s.busy);
    free(s.unsent);
    if (rc != A4NN_OK)
        return A4NN_ERR;
    return s.interrupted ? 1 : A4NN_OK;
}
