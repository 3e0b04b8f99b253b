/* NSGA-II: non-dominated sorting, crowding, survivors, offspring. */
#include <math.h>

#include "a4nn/search.h"
#include "testutil.h"

static void test_sort_hand_made(void **state)
{
    (void)state;
    /* front 0: (1,5) (2,3) (4,1); front 1: (3,4) (5,2); front 2: (6,6) */
    double obj[] = {1, 5, 3, 4, 2, 3, 6, 6, 4, 1, 5, 2};
    int rank[6];
    assert_int_equal(a4nn_nsga2_sort(6, 2, obj, rank), 3);
    int want[] = {0, 1, 0, 2, 0, 1};
    for (int i = 0; i < 6; i++)
        assert_int_equal(rank[i], want[i]);
    /* equal points do not dominate each other */
    double eq[] = {1, 1, 1, 1};
    int r2[2];
    assert_int_equal(a4nn_nsga2_sort(2, 2, eq, r2), 1);
    assert_int_equal(r2[0], 0);
    assert_int_equal(r2[1], 0);
}

static void test_crowding(void **state)
{
    (void)state;
    /* one front of 4 points on a line: ends infinite, inner by neighbours */
    double obj[] = {0, 10, 1, 9, 4, 6, 10, 0};
    int rank[4] = {0, 0, 0, 0};
    double cd[4];
    a4nn_nsga2_crowding(4, 2, obj, rank, cd);
    assert_true(isinf(cd[0]) && isinf(cd[3]));
    /* point 1: (4-0)/10 + (10-6)/10 = 0.8; point 2: (10-1)/10 + (9-0)/10 = 1.8 */
    assert_close(cd[1], 0.8, 1e-12);
    assert_close(cd[2], 1.8, 1e-12);
    int chosen[3];
    a4nn_nsga2_survivors(4, 2, obj, 3, chosen);
    /* the two ends first, then the less crowded inner point */
    assert_int_equal(chosen[0], 0);
    assert_int_equal(chosen[1], 3);
    assert_int_equal(chosen[2], 2);
}

static void test_survivors_by_rank(void **state)
{
    (void)state;
    double obj[] = {1, 5, 3, 4, 2, 3, 6, 6, 4, 1, 5, 2};
    int chosen[4];
    a4nn_nsga2_survivors(6, 2, obj, 4, chosen);
    int in[6] = {0};
    for (int i = 0; i < 4; i++)
        in[chosen[i]] = 1;
    /* all of front 0 and one of front 1, never the dominated (6,6) */
    assert_true(in[0] && in[2] && in[4]);
    assert_false(in[3]);
    assert_int_equal(in[1] + in[5], 1);
}

static void make_offspring(uint64_t seed, a4nn_genome *kids, int n_kids)
{
    a4nn_rng rng;
    a4nn_rng_seed(&rng, seed);
    a4nn_genome pop[6];
    double obj[12];
    for (int i = 0; i < 6; i++) {
        a4nn_nsga2_random_genome(&rng, 3, 4, &pop[i]);
        obj[2 * i] = 100 - 10 * i;
        obj[2 * i + 1] = i * i;
    }
    a4nn_error err;
    assert_int_equal(a4nn_nsga2_offspring(&rng, pop, obj, 6, pop, 6, 0.9, -1, n_kids, kids, &err),
                     A4NN_OK);
    for (int k = 0; k < n_kids; k++) {
        assert_int_equal(a4nn_genome_validate(&kids[k], &err), A4NN_OK);
        for (int i = 0; i < 6; i++)
            assert_false(a4nn_genome_equal(&kids[k], &pop[i]));
        for (int j = 0; j < k; j++)
            assert_false(a4nn_genome_equal(&kids[k], &kids[j]));
    }
}

static void test_offspring_deterministic_unique(void **state)
{
    (void)state;
    a4nn_genome a[10], b[10], c[10];
    make_offspring(5, a, 10);
    make_offspring(5, b, 10);
    make_offspring(6, c, 10);
    int same = 1, diff = 0;
    for (int k = 0; k < 10; k++) {
        same &= a4nn_genome_equal(&a[k], &b[k]);
        diff |= !a4nn_genome_equal(&a[k], &c[k]);
    }
    assert_true(same);
    assert_true(diff);
}

static void test_exhausted_space(void **state)
{
    (void)state;
    /* 1 phase of 2 nodes: 2 bits, 1 active genome per residual bit: 2 genomes */
    a4nn_rng rng;
    a4nn_rng_seed(&rng, 1);
    a4nn_genome pop[2];
    a4nn_nsga2_random_genome(&rng, 1, 2, &pop[0]);
    pop[1] = pop[0];
    pop[1].bits[0][1] ^= 1;
    double obj[4] = {1, 2, 2, 1};
    a4nn_genome kid;
    a4nn_error err;
    assert_int_equal(a4nn_nsga2_offspring(&rng, pop, obj, 2, NULL, 0, 0.9, 0.5, 1, &kid, &err),
                     A4NN_ERR);
    assert_non_null(strstr(err.msg, "exhausted"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_hand_made),
        cmocka_unit_test(test_crowding),
        cmocka_unit_test(test_survivors_by_rank),
        cmocka_unit_test(test_offspring_deterministic_unique),
        cmocka_unit_test(test_exhausted_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
