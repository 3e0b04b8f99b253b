/* search: generational NSGA-II, as NSGA-Net runs it. A random population of
 * pop_size, then per generation n_offspring children bred from the
 * population; at the barrier (every child told) environmental selection keeps
 * pop_size of population + children. Results are used only at barriers, so
 * the genomes do not depend on the number of workers or their timing. */
#include <string.h>

#include "strategy_impl.h"

typedef struct {
    int first, size; /* ids of the generation being evaluated */
    int handed, n_told;
    int started;
} gen_state;

static int gen_init(a4nn_strategy *s, a4nn_error *err)
{
    a4nn_rng_seed(&s->rng, a4nn_seed_mix(s->cfg.seed, 0x5EA4C11ULL));
    if (s->cfg.n_offspring < 1)
        return a4nn_errorf(err, "generational search: n_offspring must be at least 1");
    return A4NN_OK;
}

/* Makes the next generation's genomes; 0 when the search is over. */
static int next_generation(a4nn_strategy *s, gen_state *st, a4nn_error *err)
{
    int room = s->limit - s->n_made;
    if (!st->started) {
        st->started = 1;
        int n = s->cfg.pop_size < room ? s->cfg.pop_size : room;
        st->first = s->n_made;
        for (int i = 0; i < n; i++) {
            a4nn_genome g;
            a4nn_strategy_random(s, &g);
            a4nn_strategy_add(s, &g);
        }
        st->size = n;
    } else {
        if (s->cfg.n_gens >= 0 && s->generation > s->cfg.n_gens)
            return 0;
        int n = s->cfg.n_offspring < room ? s->cfg.n_offspring : room;
        if (n <= 0 || s->n_pop < 2)
            return 0;
        if (a4nn_strategy_breed(s, s->pop, s->n_pop, n, &st->first, err) != A4NN_OK)
            return A4NN_ERR;
        st->size = n;
    }
    st->handed = st->n_told = 0;
    return st->size > 0;
}

static int gen_ask(a4nn_strategy *s, a4nn_genome *g, a4nn_error *err)
{
    gen_state *st = s->state;
    if (st->handed == st->size) {
        if (st->started && st->n_told < st->size)
            return A4NN_STRATEGY_WAIT;
        int rc = next_generation(s, st, err);
        if (rc <= 0)
            return rc < 0 ? A4NN_ERR : A4NN_STRATEGY_DONE;
    }
    int id = st->first + st->handed++;
    *g = s->made[id];
    return id;
}

static int gen_tell(a4nn_strategy *s, int id, a4nn_error *err)
{
    gen_state *st = s->state;
    if (id < st->first || id >= st->first + st->size)
        return a4nn_errorf(err, "generational search: model %d is not of generation %d", id,
                           s->generation);
    if (++st->n_told < st->size)
        return A4NN_OK;
    /* the barrier: the population is this generation (the first) or the
     * survivors of population + children */
    int n = s->n_pop;
    for (int i = 0; i < st->size; i++)
        s->pop[n++] = st->first + i;
    s->n_pop = s->generation == 0 ? n : a4nn_strategy_select(s, s->pop, n, s->cfg.pop_size);
    s->generation++;
    return A4NN_STRATEGY_GENERATION;
}

const a4nn_strategy_type a4nn_strategy_generational = {
    .name = "generational",
    .barriers = 1,
    .state_size = sizeof(gen_state),
    .init = gen_init,
    .ask = gen_ask,
    .tell = gen_tell,
};
