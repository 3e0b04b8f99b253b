/* Architecture tracker: LCS similarity, Hamming and graph edit distance on
 * hand-made genomes, nearest neighbours and the MDS map. */
#include <math.h>

#include "testutil.h"

#include "a4nn/commons.h"

static a4nn_genome G(const char *text)
{
    a4nn_genome g;
    a4nn_error err = {{0}};
    if (a4nn_genome_parse(text, 0, 4, &g, &err) != A4NN_OK)
        fail_msg("parse %s: %s", text, err.msg);
    return g;
}

static const char *const SAMPLE[] = {
    "[[0,0,0,1,1,0,1],[1,1,0,0,0,0,0],[0,1,1,0,0,1,0]]",
    "[[0,0,1,0,0,0,1],[0,0,0,0,0,0,0],[0,0,1,0,0,0,0]]",
    "[[1,1,1,1,1,1,1],[1,1,1,1,1,1,1],[1,1,1,1,1,1,1]]",
    "[[0,0,0,0,0,0,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0]]",
    "[[1,0,0,0,0,0,0],[0,0,0,0,0,0,1],[0,1,0,1,0,1,0]]",
    "[[0,1,0,1,0,1,0],[1,0,1,0,1,0,1],[1,1,0,0,1,1,0]]",
};
#define NS ((int)A4NN_ARRAY_LEN(SAMPLE))

static void test_lcs_len_known(void **state)
{
    (void)state;
    const uint8_t a[] = {1, 0, 1, 1, 0, 1}, b[] = {0, 1, 1, 0, 1, 1};
    /* classic: LCS("ABCBDAB", "BDCABA") = 4 */
    const uint8_t x[] = {'A', 'B', 'C', 'B', 'D', 'A', 'B'}, y[] = {'B', 'D', 'C', 'A', 'B', 'A'};
    assert_int_equal(a4nn_tracker_lcs_len(x, 7, y, 6), 4);
    assert_int_equal(a4nn_tracker_lcs_len(a, 6, b, 6), 5); /* 1,1,0,1,1 / 0,1,1,0,1 */
    assert_int_equal(a4nn_tracker_lcs_len(a, 6, a, 6), 6);
    assert_int_equal(a4nn_tracker_lcs_len(a, 0, b, 6), 0);
    const uint8_t z[] = {0, 0, 0}, o[] = {1, 1, 1};
    assert_int_equal(a4nn_tracker_lcs_len(z, 3, o, 3), 0);
}

static void test_identical(void **state)
{
    (void)state;
    for (int i = 0; i < NS; i++) {
        a4nn_genome a = G(SAMPLE[i]), b = G(SAMPLE[i]);
        assert_close(a4nn_tracker_lcs_similarity(&a, &b), 1.0, 0);
        assert_int_equal(a4nn_tracker_hamming(&a, &b), 0);
        assert_int_equal(a4nn_tracker_graph_edit(&a, &b), 0);
        assert_close(a4nn_tracker_distance(&a, &b, A4NN_DIST_LCS), 0.0, 0);
    }
}

static void test_known_values(void **state)
{
    (void)state;
    a4nn_genome zero = G(SAMPLE[3]), ones = G(SAMPLE[2]);
    /* all-zero vs all-one: nothing in common, every bit differs */
    assert_close(a4nn_tracker_lcs_similarity(&zero, &ones), 0.0, 0);
    assert_int_equal(a4nn_tracker_hamming(&zero, &ones), 21);
    /* one flipped bit: Hamming 1, LCS 20 of 21 */
    a4nn_genome a = G(SAMPLE[0]), b = a;
    b.bits[1][3] ^= 1;
    assert_int_equal(a4nn_tracker_hamming(&a, &b), 1);
    assert_close(a4nn_tracker_lcs_similarity(&a, &b), 20.0 / 21.0, 1e-15);
    /* a shifted array: Hamming large, LCS still n - 1 */
    const char *s1 = "[[1,0,1,0,1,0,1],[0,1,0,1,0,1,0],[1,0,1,0,1,0,1]]";
    const char *s2 = "[[0,1,0,1,0,1,0],[1,0,1,0,1,0,1],[0,1,0,1,0,1,0]]";
    a4nn_genome p = G(s1), q = G(s2);
    assert_int_equal(a4nn_tracker_hamming(&p, &q), 21);
    assert_close(a4nn_tracker_lcs_similarity(&p, &q), 20.0 / 21.0, 1e-15);
}

static void test_graph_edit_known(void **state)
{
    (void)state;
    /* Phase with only node 2 <- node 1 (bit 0): edges 0->1, 1->2, 2->out;
     * vertices {0,1,2,5}: 4 vertices + 3 edges against the empty graph. */
    a4nn_genome a = G("[[1,0,0,0,0,0,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0]]");
    a4nn_genome e = G(SAMPLE[3]);
    assert_int_equal(a4nn_tracker_graph_edit(&a, &e), 7);
    /* the residual bit alone keeps a phase inactive: still the empty graph */
    a4nn_genome r = G("[[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1]]");
    assert_int_equal(a4nn_tracker_graph_edit(&r, &e), 0);
    assert_int_equal(a4nn_tracker_hamming(&r, &e), 3);
    /* adding the residual to an active phase adds exactly the edge 0->out */
    a4nn_genome ar = a;
    ar.bits[0][6] = 1;
    assert_int_equal(a4nn_tracker_graph_edit(&a, &ar), 1);
    /* same graph in two phases counts twice */
    a4nn_genome a2 = G("[[1,0,0,0,0,0,0],[1,0,0,0,0,0,0],[0,0,0,0,0,0,0]]");
    assert_int_equal(a4nn_tracker_graph_edit(&a2, &e), 14);
}

static void test_symmetry_and_triangle(void **state)
{
    (void)state;
    a4nn_genome g[NS];
    for (int i = 0; i < NS; i++)
        g[i] = G(SAMPLE[i]);
    for (int i = 0; i < NS; i++)
        for (int j = 0; j < NS; j++) {
            assert_close(a4nn_tracker_lcs_similarity(&g[i], &g[j]),
                         a4nn_tracker_lcs_similarity(&g[j], &g[i]), 0);
            assert_int_equal(a4nn_tracker_hamming(&g[i], &g[j]), a4nn_tracker_hamming(&g[j], &g[i]));
            assert_int_equal(a4nn_tracker_graph_edit(&g[i], &g[j]),
                             a4nn_tracker_graph_edit(&g[j], &g[i]));
            double s = a4nn_tracker_lcs_similarity(&g[i], &g[j]);
            assert_true(s >= 0.0 && s <= 1.0);
            if (i != j)
                assert_true(a4nn_tracker_hamming(&g[i], &g[j]) > 0);
            for (int k = 0; k < NS; k++) {
                assert_true(a4nn_tracker_hamming(&g[i], &g[k]) <=
                            a4nn_tracker_hamming(&g[i], &g[j]) + a4nn_tracker_hamming(&g[j], &g[k]));
                assert_true(a4nn_tracker_graph_edit(&g[i], &g[k]) <=
                            a4nn_tracker_graph_edit(&g[i], &g[j]) +
                                a4nn_tracker_graph_edit(&g[j], &g[k]));
            }
        }
}

static void test_nearest(void **state)
{
    (void)state;
    a4nn_genome known[NS];
    double fit[NS];
    for (int i = 0; i < NS; i++) {
        known[i] = G(SAMPLE[i]);
        fit[i] = 90.0 + i;
    }
    a4nn_genome q = known[4];
    q.bits[2][0] ^= 1; /* one bit away from known[4] */
    a4nn_neighbour nb[3];
    a4nn_error err = {{0}};
    int m = a4nn_tracker_nearest(&q, known, fit, NS, 3, nb, &err);
    assert_int_equal(m, 3);
    assert_int_equal(nb[0].index, 4);
    assert_int_equal(nb[0].hamming, 1);
    assert_close(nb[0].fitness, 94.0, 0);
    assert_close(nb[0].similarity, 20.0 / 21.0, 1e-15);
    for (int i = 1; i < m; i++)
        assert_true(nb[i - 1].similarity >= nb[i].similarity);
    /* brute force: nobody outside the top 3 is more similar than nb[2] */
    for (int i = 0; i < NS; i++) {
        int in = 0;
        for (int j = 0; j < m; j++)
            in |= nb[j].index == i;
        if (!in)
            assert_true(a4nn_tracker_lcs_similarity(&q, &known[i]) <= nb[2].similarity);
    }
    /* k larger than n, k = 0, bad arguments */
    a4nn_neighbour all[10];
    assert_int_equal(a4nn_tracker_nearest(&q, known, NULL, NS, 10, all, &err), NS);
    assert_close(all[0].fitness, 0.0, 0);
    assert_int_equal(a4nn_tracker_nearest(&q, known, fit, NS, 0, NULL, &err), 0);
    assert_int_equal(a4nn_tracker_nearest(&q, known, fit, NS, -1, nb, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "bad arguments"));
}

static void test_mds_recovers_line(void **state)
{
    (void)state;
    /* points on a line at 0, 1, 3, 6: MDS axis 1 reproduces the distances */
    const double x[] = {0, 1, 3, 6};
    double d[16], xy[8];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            d[i * 4 + j] = fabs(x[i] - x[j]);
    a4nn_error err = {{0}};
    assert_int_equal(a4nn_tracker_mds(d, 4, 2, xy, &err), A4NN_OK);
    for (int i = 0; i < 4; i++) {
        assert_close(xy[2 * i + 1], 0.0, 1e-6);
        for (int j = 0; j < 4; j++)
            assert_close(fabs(xy[2 * i] - xy[2 * j]), d[i * 4 + j], 1e-9);
    }
    /* genome distance matrix embeds with finite coordinates, symmetric zero diagonal */
    a4nn_genome g[NS];
    for (int i = 0; i < NS; i++)
        g[i] = G(SAMPLE[i]);
    double D[NS * NS], XY[2 * NS];
    assert_int_equal(a4nn_tracker_distance_matrix(g, NS, A4NN_DIST_GED, D, &err), A4NN_OK);
    for (int i = 0; i < NS; i++) {
        assert_close(D[i * NS + i], 0.0, 0);
        for (int j = 0; j < NS; j++)
            assert_close(D[i * NS + j], D[j * NS + i], 0);
    }
    assert_int_equal(a4nn_tracker_mds(D, NS, 2, XY, &err), A4NN_OK);
    for (int i = 0; i < 2 * NS; i++)
        assert_true(isfinite(XY[i]));
    assert_int_equal(a4nn_tracker_mds(D, NS, 4, XY, &err), A4NN_ERR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lcs_len_known),   cmocka_unit_test(test_identical),
        cmocka_unit_test(test_known_values),    cmocka_unit_test(test_graph_edit_known),
        cmocka_unit_test(test_symmetry_and_triangle), cmocka_unit_test(test_nearest),
        cmocka_unit_test(test_mds_recovers_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
