/* search: the strategy object (ask / tell) and what its types share. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "strategy_impl.h"

/* every strategy, for a4nn_strategy_find: a new one goes here */
static const a4nn_strategy_type *const strategies[] = {
    &a4nn_strategy_generational,
    &a4nn_strategy_async,
};

const a4nn_strategy_type *a4nn_strategy_find(const char *name)
{
    for (size_t i = 0; i < A4NN_ARRAY_LEN(strategies); i++)
        if (!strcmp(strategies[i]->name, name))
            return strategies[i];
    return NULL;
}

a4nn_strategy *a4nn_strategy_alloc(const a4nn_strategy_type *type,
                                   const a4nn_strategy_config *cfg, a4nn_error *err)
{
    if (cfg->pop_size < 1 || cfg->n_phases < 1 || cfg->n_phases > A4NN_MAX_PHASES ||
        cfg->n_nodes < 2 || cfg->n_nodes > A4NN_MAX_NODES) {
        a4nn_errorf(err, "search strategy %s: bad population or genome shape", type->name);
        return NULL;
    }
    a4nn_strategy *s = a4nn_calloc(1, sizeof *s);
    s->type = type;
    s->cfg = *cfg;
    if (s->cfg.children_per_call < 1)
        s->cfg.children_per_call = 1;
    s->limit = INT_MAX;
    s->state = type->state_size ? a4nn_calloc(1, type->state_size) : NULL;
    if (type->init(s, err) != A4NN_OK) {
        a4nn_strategy_free(s);
        return NULL;
    }
    return s;
}

void a4nn_strategy_free(a4nn_strategy *s)
{
    if (!s)
        return;
    if (s->type->free)
        s->type->free(s);
    free(s->state);
    free(s->made);
    free(s->obj);
    free(s->told);
    free(s->pop);
    free(s);
}

const a4nn_strategy_type *a4nn_strategy_kind(const a4nn_strategy *s) { return s->type; }

int a4nn_strategy_ask(a4nn_strategy *s, a4nn_genome *g, a4nn_error *err)
{
    return s->type->ask(s, g, err);
}

int a4nn_strategy_tell(a4nn_strategy *s, int id, double fitness, double mflops, a4nn_error *err)
{
    if (id < 0 || id >= s->n_made || s->told[id])
        return a4nn_errorf(err, "search strategy: a result for model %d, which is %s", id,
                           id >= 0 && id < s->n_made ? "told already" : "unknown");
    s->told[id] = 1;
    s->n_told++;
    s->obj[2 * id] = 100.0 - (isfinite(fitness) ? fitness : 0);
    s->obj[2 * id + 1] = mflops;
    return s->type->tell(s, id, err);
}

void a4nn_strategy_limit(a4nn_strategy *s, int max_models) { s->limit = max_models; }

int a4nn_strategy_made(const a4nn_strategy *s) { return s->n_made; }

int a4nn_strategy_generation(const a4nn_strategy *s) { return s->generation; }

int a4nn_strategy_population(const a4nn_strategy *s, const int **ids)
{
    *ids = s->pop;
    return s->n_pop;
}

const uint64_t *a4nn_strategy_rng_state(const a4nn_strategy *s) { return s->rng.s; }

const a4nn_genome *a4nn_strategy_genome(const a4nn_strategy *s, int id)
{
    return id >= 0 && id < s->n_made ? &s->made[id] : NULL;
}

int a4nn_strategy_restore(a4nn_strategy *s, const a4nn_genome *made, int n, const uint64_t *rng,
                          a4nn_error *err)
{
    if (s->n_made)
        return a4nn_errorf(err, "search strategy: restore after the first ask");
    for (int i = 0; i < n; i++)
        a4nn_strategy_add(s, &made[i]);
    if (rng)
        memcpy(s->rng.s, rng, sizeof s->rng.s);
    return A4NN_OK;
}

int a4nn_strategy_add(a4nn_strategy *s, const a4nn_genome *g)
{
    if (s->n_made == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->made = a4nn_realloc(s->made, (size_t)s->cap * sizeof *s->made);
        s->obj = a4nn_realloc(s->obj, (size_t)s->cap * 2 * sizeof *s->obj);
        s->told = a4nn_realloc(s->told, (size_t)s->cap);
        s->pop = a4nn_realloc(s->pop, (size_t)s->cap * sizeof *s->pop);
    }
    s->made[s->n_made] = *g;
    s->told[s->n_made] = 0;
    return s->n_made++;
}

void a4nn_strategy_random(a4nn_strategy *s, a4nn_genome *g)
{
    int dup;
    do {
        a4nn_nsga2_random_genome(&s->rng, s->cfg.n_phases, s->cfg.n_nodes, g);
        dup = 0;
        for (int j = 0; j < s->n_made && !dup; j++)
            dup = a4nn_genome_equal(g, &s->made[j]);
    } while (dup);
}

void a4nn_strategy_objectives(const a4nn_strategy *s, const int *ids, int n, double *obj,
                              a4nn_genome *g)
{
    for (int i = 0; i < n; i++) {
        obj[2 * i] = s->obj[2 * ids[i]];
        obj[2 * i + 1] = s->obj[2 * ids[i] + 1];
        if (g)
            g[i] = s->made[ids[i]];
    }
}

int a4nn_strategy_breed(a4nn_strategy *s, const int *ids, int n_parents, int n, int *first,
                        a4nn_error *err)
{
    double *obj = a4nn_malloc((size_t)n_parents * 2 * sizeof *obj);
    a4nn_genome *pg = a4nn_malloc((size_t)n_parents * sizeof *pg);
    a4nn_genome *kids = a4nn_malloc((size_t)n * sizeof *kids);
    a4nn_strategy_objectives(s, ids, n_parents, obj, pg);
    int rc = a4nn_nsga2_offspring(&s->rng, pg, obj, n_parents, s->made, s->n_made,
                                  s->cfg.crossover_prob, s->cfg.mutation_prob, n, kids, err);
    *first = s->n_made;
    for (int k = 0; k < n && rc == A4NN_OK; k++)
        a4nn_strategy_add(s, &kids[k]);
    free(obj);
    free(pg);
    free(kids);
    return rc;
}

int a4nn_strategy_select(const a4nn_strategy *s, int *ids, int n, int k)
{
    if (n < k)
        return n;
    double *obj = a4nn_malloc((size_t)n * 2 * sizeof *obj);
    int *chosen = a4nn_malloc((size_t)k * sizeof *chosen);
    int *keep = a4nn_malloc((size_t)k * sizeof *keep);
    a4nn_strategy_objectives(s, ids, n, obj, NULL);
    a4nn_nsga2_survivors(n, 2, obj, k, chosen);
    for (int i = 0; i < k; i++)
        keep[i] = ids[chosen[i]];
    memcpy(ids, keep, (size_t)k * sizeof *ids);
    free(obj);
    free(chosen);
    free(keep);
    return k;
}

int a4nn_search_run(a4nn_strategy *s, const a4nn_search_driver *d, a4nn_error *err)
{
    int asking = 1;
    while (!d->halted || !d->halted(d->ctx)) {
        int waiting = 0;
        if (d->free_workers(d->ctx) > 0) {
            int rc = d->resend ? d->resend(d->ctx, err) : 0;
            if (rc != 0) {
                if (rc < 0)
                    return A4NN_ERR;
                continue;
            }
            if (asking && d->may_ask && !d->may_ask(d->ctx))
                asking = 0;
            a4nn_genome g;
            int id = asking ? a4nn_strategy_ask(s, &g, err) : A4NN_STRATEGY_DONE;
            if (id == A4NN_ERR)
                return A4NN_ERR;
            if (id >= 0) {
                if (d->start(d->ctx, id, &g, err) != A4NN_OK)
                    return A4NN_ERR;
                continue;
            }
            asking = id != A4NN_STRATEGY_DONE;
            waiting = id == A4NN_STRATEGY_WAIT;
        }
        if (d->running(d->ctx) == 0) {
            if (waiting)
                return a4nn_errorf(err, "search: the %s strategy waits for results, but no "
                                        "model is running",
                                   s->type->name);
            return A4NN_OK; /* nothing running, nothing more to ask */
        }
        if (d->wait(d->ctx, err) != A4NN_OK)
            return A4NN_ERR;
    }
    return A4NN_OK;
}
