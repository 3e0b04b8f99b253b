/* search: asynchronous (steady-state) NSGA-II. A new genome as soon as a
 * worker is free: pop_size random genomes first, then children bred from the
 * survivors (environmental selection of pop_size) of every model finished so
 * far. Each genome depends on what had finished when it was made, so the
 * search role records every one before it goes out and restores them on
 * resume (a4nn_strategy_restore).
 *
 * The parents' pool leaves out, for good, every model dominated by at least
 * pop_size finished models: all of those rank before it, now and after any
 * later result, so selection never reaches it. The pool keeps the selection
 * exactly that over every finished model (same ranks, same crowding, ties in
 * id order) at a cost that does not grow with the length of the search. */
#include <string.h>

#include "strategy_impl.h"

typedef struct {
    int queued, next; /* children bred but not handed out: ids next .. next+queued-1 */
    int *pool, n_pool; /* finished models that can still be selected, in id order */
    int *dominators;   /* per pool entry: finished models that dominate it */
} async_state;

static int async_init(a4nn_strategy *s, a4nn_error *err)
{
    a4nn_rng_seed(&s->rng, a4nn_seed_mix(s->cfg.seed, 0xA5C0000ULL));
    if (s->cfg.total > 0)
        s->limit = s->cfg.total;
    return A4NN_OK;
}

static void async_free(a4nn_strategy *s)
{
    async_state *st = s->state;
    free(st->pool);
    free(st->dominators);
}

static int dominates(const double *a, const double *b)
{
    return a[0] <= b[0] && a[1] <= b[1] && (a[0] < b[0] || a[1] < b[1]);
}

static int async_ask(a4nn_strategy *s, a4nn_genome *g, a4nn_error *err)
{
    async_state *st = s->state;
    if (st->queued > 0) {
        st->queued--;
        *g = s->made[st->next];
        return st->next++;
    }
    if (s->n_made >= s->limit)
        return A4NN_STRATEGY_DONE;
    if (s->n_made < s->cfg.pop_size) {
        a4nn_genome r;
        a4nn_strategy_random(s, &r);
        *g = r;
        return a4nn_strategy_add(s, &r);
    }
    if (s->n_told < 2)
        return A4NN_STRATEGY_WAIT; /* two finished models to breed from */
    /* selection (in its order) once more models finished than it keeps; the
     * models left out of the pool would come after all of the pool */
    memcpy(s->pop, st->pool, (size_t)st->n_pool * sizeof *s->pop);
    s->n_pop = s->n_told > s->cfg.pop_size
                   ? a4nn_strategy_select(s, s->pop, st->n_pool, st->n_pool < s->cfg.pop_size
                                                                     ? st->n_pool
                                                                     : s->cfg.pop_size)
                   : st->n_pool;
    int k = s->cfg.children_per_call, first;
    if (k > s->limit - s->n_made)
        k = s->limit - s->n_made;
    if (a4nn_strategy_breed(s, s->pop, s->n_pop, k, &first, err) != A4NN_OK)
        return A4NN_ERR;
    st->next = first + 1;
    st->queued = k - 1;
    *g = s->made[first];
    return first;
}

static int async_tell(a4nn_strategy *s, int id, a4nn_error *err)
{
    async_state *st = s->state;
    const double *x = &s->obj[2 * id];
    int above = 0, at = st->n_pool;
    for (int i = 0; i < st->n_pool; i++) {
        above += dominates(&s->obj[2 * st->pool[i]], x);
        if (st->pool[i] > id && at == st->n_pool)
            at = i;
    }
    if (above >= s->cfg.pop_size)
        return A4NN_OK;
    st->pool = a4nn_realloc(st->pool, (size_t)(st->n_pool + 1) * sizeof *st->pool);
    st->dominators =
        a4nn_realloc(st->dominators, (size_t)(st->n_pool + 1) * sizeof *st->dominators);
    memmove(st->pool + at + 1, st->pool + at, (size_t)(st->n_pool - at) * sizeof *st->pool);
    memmove(st->dominators + at + 1, st->dominators + at,
            (size_t)(st->n_pool - at) * sizeof *st->dominators);
    st->pool[at] = id;
    st->dominators[at] = above;
    st->n_pool++;
    int n = 0;
    for (int i = 0; i < st->n_pool; i++) {
        if (dominates(x, &s->obj[2 * st->pool[i]]))
            st->dominators[i]++;
        if (st->dominators[i] < s->cfg.pop_size) {
            st->pool[n] = st->pool[i];
            st->dominators[n++] = st->dominators[i];
        }
    }
    st->n_pool = n;
    return A4NN_OK;
}

const a4nn_strategy_type a4nn_strategy_async = {
    .name = "async",
    .barriers = 0,
    .state_size = sizeof(async_state),
    .init = async_init,
    .ask = async_ask,
    .tell = async_tell,
    .free = async_free,
};
