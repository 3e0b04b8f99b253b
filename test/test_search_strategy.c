/* The search strategies (ask / tell, no MPI): generational barriers and
 * limits, asynchronous steady state, determinism, resume by restore. */
#include "testutil.h"

#include "a4nn/search.h"

static a4nn_strategy_config cfg_small(void)
{
    return (a4nn_strategy_config){.pop_size = 6, .n_offspring = 4, .n_gens = 2, .total = 14,
                                  .children_per_call = 1, .n_phases = 3, .n_nodes = 4,
                                  .crossover_prob = 0.9, .mutation_prob = -1, .seed = 5};
}

/* a made-up result per genome: deterministic, distinct */
static void result(const a4nn_genome *g, double *fit, double *mflops)
{
    uint8_t b[A4NN_MAX_GENOME_BITS];
    int n = a4nn_genome_flatten(g, b), ones = 0;
    for (int i = 0; i < n; i++)
        ones += b[i] * (i + 1);
    *fit = 50 + ones % 47;
    *mflops = 10 + ones;
}

static void test_find(void **state)
{
    assert_ptr_equal(a4nn_strategy_find("generational"), &a4nn_strategy_generational);
    assert_ptr_equal(a4nn_strategy_find("async"), &a4nn_strategy_async);
    assert_null(a4nn_strategy_find("nope"));
    assert_int_equal(a4nn_strategy_generational.barriers, 1);
    assert_int_equal(a4nn_strategy_async.barriers, 0);
}

static void test_generational_barriers(void **state)
{
    a4nn_strategy_config c = cfg_small();
    a4nn_error err;
    a4nn_strategy *s = a4nn_strategy_alloc(&a4nn_strategy_generational, &c, &err);
    assert_non_null(s);
    a4nn_genome g[32];
    int next = 0;
    for (int gen = 0; gen <= c.n_gens; gen++) {
        int size = gen ? c.n_offspring : c.pop_size, first = next;
        for (int i = 0; i < size; i++) {
            int id = a4nn_strategy_ask(s, &g[next], &err);
            assert_int_equal(id, next);
            next++;
        }
        /* nothing more until every model of the generation is told */
        a4nn_genome x;
        assert_int_equal(a4nn_strategy_ask(s, &x, &err), A4NN_STRATEGY_WAIT);
        for (int id = next - 1; id >= first; id--) { /* any finish order */
            double f, m;
            result(&g[id], &f, &m);
            int rc = a4nn_strategy_tell(s, id, f, m, &err);
            assert_int_equal(rc, id == first ? A4NN_STRATEGY_GENERATION : A4NN_OK);
        }
        const int *pop;
        assert_int_equal(a4nn_strategy_population(s, &pop), c.pop_size);
        assert_int_equal(a4nn_strategy_generation(s), gen + 1);
    }
    a4nn_genome x;
    assert_int_equal(a4nn_strategy_ask(s, &x, &err), A4NN_STRATEGY_DONE);
    assert_int_equal(a4nn_strategy_made(s), c.pop_size + c.n_gens * c.n_offspring);
    for (int i = 0; i < next; i++)
        for (int j = 0; j < i; j++)
            assert_false(a4nn_genome_equal(&g[i], &g[j]));
    /* telling twice is an error */
    assert_int_equal(a4nn_strategy_tell(s, 0, 1, 1, &err), A4NN_ERR);
    a4nn_strategy_free(s);
}

/* Runs a whole search with one model at a time; writes the genomes. */
static int run_serial(const a4nn_strategy_type *t, const a4nn_strategy_config *c, int limit,
                      a4nn_genome *out)
{
    a4nn_error err;
    a4nn_strategy *s = a4nn_strategy_alloc(t, c, &err);
    assert_non_null(s);
    if (limit > 0)
        a4nn_strategy_limit(s, limit);
    int n = 0;
    for (;;) {
        int id = a4nn_strategy_ask(s, &out[n], &err);
        if (id == A4NN_STRATEGY_DONE)
            break;
        assert_int_equal(id, n);
        double f, m;
        result(&out[n], &f, &m);
        assert_true(a4nn_strategy_tell(s, id, f, m, &err) >= 0);
        n++;
    }
    a4nn_strategy_free(s);
    return n;
}

static void test_generational_limit(void **state)
{
    a4nn_strategy_config c = cfg_small();
    a4nn_genome a[32], b[32];
    assert_int_equal(run_serial(&a4nn_strategy_generational, &c, 0, a), 14);
    /* a limit cuts the search short; what it makes is the same */
    assert_int_equal(run_serial(&a4nn_strategy_generational, &c, 12, b), 12);
    for (int i = 0; i < 12; i++)
        assert_true(a4nn_genome_equal(&a[i], &b[i]));
    /* no limit on generations: the limit alone ends it */
    c.n_gens = -1;
    assert_int_equal(run_serial(&a4nn_strategy_generational, &c, 23, b), 23);
}

static void test_async_steady_state(void **state)
{
    a4nn_strategy_config c = cfg_small();
    a4nn_error err;
    a4nn_strategy *s = a4nn_strategy_alloc(&a4nn_strategy_async, &c, &err);
    a4nn_genome g[32];
    for (int i = 0; i < c.pop_size; i++)
        assert_int_equal(a4nn_strategy_ask(s, &g[i], &err), i);
    /* children need two finished models */
    a4nn_genome x;
    assert_int_equal(a4nn_strategy_ask(s, &x, &err), A4NN_STRATEGY_WAIT);
    double f, m;
    result(&g[3], &f, &m);
    a4nn_strategy_tell(s, 3, f, m, &err);
    assert_int_equal(a4nn_strategy_ask(s, &x, &err), A4NN_STRATEGY_WAIT);
    result(&g[1], &f, &m);
    a4nn_strategy_tell(s, 1, f, m, &err);
    assert_int_equal(a4nn_strategy_ask(s, &g[6], &err), 6);
    a4nn_strategy_free(s);

    /* a serial run, and one restored halfway from its genomes and stream */
    a4nn_genome a[32], b[32];
    int n = run_serial(&a4nn_strategy_async, &c, 0, a);
    assert_int_equal(n, c.total);
    s = a4nn_strategy_alloc(&a4nn_strategy_async, &c, &err);
    for (int i = 0; i < 9; i++)
        a4nn_strategy_ask(s, &b[i], &err), result(&b[i], &f, &m),
            a4nn_strategy_tell(s, i, f, m, &err);
    uint64_t rng[4];
    memcpy(rng, a4nn_strategy_rng_state(s), sizeof rng);
    a4nn_strategy_free(s);
    s = a4nn_strategy_alloc(&a4nn_strategy_async, &c, &err);
    assert_int_equal(a4nn_strategy_restore(s, b, 9, rng, &err), A4NN_OK);
    for (int i = 0; i < 9; i++)
        result(&b[i], &f, &m), a4nn_strategy_tell(s, i, f, m, &err);
    for (int i = 9; i < n; i++) {
        assert_int_equal(a4nn_strategy_ask(s, &b[i], &err), i);
        result(&b[i], &f, &m);
        a4nn_strategy_tell(s, i, f, m, &err);
    }
    for (int i = 0; i < n; i++)
        assert_true(a4nn_genome_equal(&a[i], &b[i]));
    assert_int_equal(a4nn_strategy_ask(s, &x, &err), A4NN_STRATEGY_DONE);
    a4nn_strategy_free(s);
}


/* The pruned parents' pool selects exactly what selection over every
 * finished model selects: a serial search against a plain NSGA-II loop. */
static void test_async_pool_exact(void **state)
{
    a4nn_strategy_config c = cfg_small();
    c.pop_size = 3;
    c.total = 60;
    a4nn_genome a[64], b[64];
    int n = run_serial(&a4nn_strategy_async, &c, 0, a);
    assert_int_equal(n, 60);
    a4nn_rng rng;
    a4nn_rng_seed(&rng, a4nn_seed_mix(c.seed, 0xA5C0000ULL));
    double obj[128];
    int chosen[64];
    a4nn_error err;
    for (int i = 0; i < n; i++) {
        if (i < c.pop_size) {
            int dup;
            do {
                a4nn_nsga2_random_genome(&rng, c.n_phases, c.n_nodes, &b[i]);
                dup = 0;
                for (int j = 0; j < i; j++)
                    dup |= a4nn_genome_equal(&b[i], &b[j]);
            } while (dup);
        } else {
            for (int j = 0; j < i; j++) {
                double f, m;
                result(&b[j], &f, &m);
                obj[2 * j] = 100 - f;
                obj[2 * j + 1] = m;
            }
            a4nn_nsga2_survivors(i, 2, obj, c.pop_size, chosen);
            for (int k = 0; i <= c.pop_size && k < i; k++)
                chosen[k] = k; /* no selection while the pool is small */
            a4nn_genome pg[8];
            double po[16];
            for (int k = 0; k < c.pop_size; k++) {
                pg[k] = b[chosen[k]];
                po[2 * k] = obj[2 * chosen[k]];
                po[2 * k + 1] = obj[2 * chosen[k] + 1];
            }
            assert_int_equal(a4nn_nsga2_offspring(&rng, pg, po, c.pop_size, b, i,
                                                  c.crossover_prob, c.mutation_prob, 1, &b[i],
                                                  &err),
                             A4NN_OK);
        }
        if (!a4nn_genome_equal(&a[i], &b[i]))
            fail_msg("model %d differs", i);
    }
}


/* The two-objective non-dominated sort against the definition (the rank is
 * one more than the largest rank of a dominator), with many ties. */
static void test_sort_two_objectives(void **state)
{
    a4nn_rng rng;
    a4nn_rng_seed(&rng, 3);
    for (int trial = 0; trial < 20; trial++) {
        int n = 1 + (int)a4nn_rng_below(&rng, 120);
        double obj[240];
        int rank[120], want[120];
        for (int i = 0; i < 2 * n; i++)
            obj[i] = (double)a4nn_rng_below(&rng, 8);
        a4nn_nsga2_sort(n, 2, obj, rank);
        for (int i = 0; i < n; i++)
            want[i] = -1;
        for (int done = 0; done < n;) /* peel fronts */
            for (int r = 0; done < n; r++) {
                int now[120], k = 0;
                for (int i = 0; i < n; i++) {
                    if (want[i] >= 0)
                        continue;
                    int dom = 0;
                    for (int j = 0; j < n && !dom; j++)
                        dom = want[j] < 0 && j != i && obj[2 * j] <= obj[2 * i] &&
                              obj[2 * j + 1] <= obj[2 * i + 1] &&
                              (obj[2 * j] < obj[2 * i] || obj[2 * j + 1] < obj[2 * i + 1]);
                    if (!dom)
                        now[k++] = i;
                }
                for (int a = 0; a < k; a++)
                    want[now[a]] = r;
                done += k;
            }
        for (int i = 0; i < n; i++)
            assert_int_equal(rank[i], want[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_generational_barriers),
        cmocka_unit_test(test_generational_limit),
        cmocka_unit_test(test_async_steady_state),
        cmocka_unit_test(test_async_pool_exact),
        cmocka_unit_test(test_sort_two_objectives),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
