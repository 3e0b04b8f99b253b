/* Genome parsing, validation, phase decoding and the MFLOPs counter against
 * the reference learning-curve file of the original implementation. */
#include <math.h>

#include "a4nn/search.h"
#include "testutil.h"

static void parse_ok(const char *text, a4nn_genome *g)
{
    a4nn_error err = {{0}};
    if (a4nn_genome_parse(text, 3, 4, g, &err) != A4NN_OK)
        fail_msg("parse of %s failed: %s", text, err.msg);
}

static void test_parse_and_format_roundtrip(void **state)
{
    (void)state;
    a4nn_genome g;
    parse_ok("[[0,0,0,1,1,0,1],[1,1,0,0,0,0,0],[0,1,1,0,0,1,0]]", &g);
    assert_int_equal(g.n_phases, 3);
    assert_int_equal(g.n_nodes, 4);
    assert_int_equal(g.bits[0][3], 1);
    assert_int_equal(g.bits[0][6], 1);
    assert_int_equal(g.bits[2][6], 0);
    char buf[256];
    assert_true(a4nn_genome_format(&g, buf, sizeof buf) > 0);
    assert_string_equal(buf, "[[0, 0, 0, 1, 1, 0, 1], [1, 1, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1, 0]]");
    a4nn_genome h;
    parse_ok(buf, &h);
    assert_true(a4nn_genome_equal(&g, &h));
    uint8_t flat[A4NN_MAX_GENOME_BITS];
    assert_int_equal(a4nn_genome_flatten(&g, flat), 21);
    a4nn_genome u;
    assert_int_equal(a4nn_genome_unflatten(flat, 3, 4, &u, NULL), A4NN_OK);
    assert_true(a4nn_genome_equal(&g, &u));
    /* a buffer too small is reported, not overrun */
    assert_int_equal(a4nn_genome_format(&g, buf, 10), -1);
}

static void expect_error(const char *text, const char *needle)
{
    a4nn_genome g;
    a4nn_error err = {{0}};
    assert_int_equal(a4nn_genome_parse(text, 0, 4, &g, &err), A4NN_ERR);
    if (!strstr(err.msg, needle))
        fail_msg("error for %s is '%s', expected it to mention '%s'", text, err.msg, needle);
}

static void test_bad_genomes(void **state)
{
    (void)state;
    expect_error("", "expected '['");
    expect_error("[[0,0,0,1,1,0]]", "phase 1 has 6 bits, expected 7");
    expect_error("[[0,0,0,1,1,0,1,1]]", "more than 7 bits");
    expect_error("[[0,0,2,1,1,0,1]]", "bit 3 is not 0 or 1");
    expect_error("[[0,0,0,1,1,0,10]]", "bit 7 is not 0 or 1");
    expect_error("[[0,0,x,1,1,0,1]]", "unexpected 'x'");
    expect_error("[[0,0,0,1,1,0,1]] junk", "trailing text");
    expect_error("[[0,0,0,1,1,0,1],[0,0,0,1,1,0,1],[0,0,0,1,1,0,1],[0,0,0,1,1,0,1],"
                 "[0,0,0,1,1,0,1],[0,0,0,1,1,0,1],[0,0,0,1,1,0,1]]",
                 "more than 6 phases");
    expect_error("[[0,0,0,1,1,0,1]", "expected ',' or ']'");
    a4nn_genome g;
    a4nn_error err;
    assert_int_equal(a4nn_genome_parse("[[0]]", 0, 1, &g, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "nodes per phase"));
    /* a trailing comma inside a phase is not a missing bit's placeholder */
    expect_error("[[1,0,0,0,0,0,0,]]", "trailing ',' in phase 1");
    expect_error("[[1,0,0,0,0,0,0],[1,0,0,0,0,0, ]]", "trailing ',' in phase 2");
    expect_error("[[1,0,0,0,0,0,0],]", "expected '[' to open phase 2");
    expect_error("[[,1,0,0,0,0,0,0]]", "unexpected ','");
}

/* The phase count is checked against the expected one; 0 accepts any. */
static void test_phase_count(void **state)
{
    (void)state;
    a4nn_genome g;
    a4nn_error err = {{0}};
    assert_int_equal(a4nn_genome_parse("[[1,0,0,0,0,0,0]]", 3, 4, &g, &err), A4NN_ERR);
    assert_string_equal(err.msg, "genome has 1 phase, expected 3");
    assert_int_equal(a4nn_genome_parse("[[1,0,0,0,0,0,0],[0,0,0,0,0,0,0]]", 3, 4, &g, &err),
                     A4NN_ERR);
    assert_string_equal(err.msg, "genome has 2 phases, expected 3");
    assert_int_equal(a4nn_genome_parse("[[1,0,0,0,0,0,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0],"
                                       "[0,0,0,0,0,0,0]]",
                                       3, 4, &g, &err),
                     A4NN_ERR);
    assert_string_equal(err.msg, "genome has 4 phases, expected 3");
    assert_int_equal(a4nn_genome_parse("[[1,0,0,0,0,0,0]]", 1, 4, &g, &err), A4NN_OK);
    assert_int_equal(g.n_phases, 1);
    assert_int_equal(a4nn_genome_parse("[[1,0,0,0,0,0,0]]", 0, 4, &g, &err), A4NN_OK);
    assert_int_equal(g.n_phases, 1);
    /* 3 nodes: 4 bits per phase */
    assert_int_equal(a4nn_genome_parse("[[1,0,0,1],[0,0,0,0]]", 2, 3, &g, &err), A4NN_OK);
    assert_int_equal(a4nn_genome_parse("[[1,0,0,1],[0,0,0,0]]", 3, 3, &g, &err), A4NN_ERR);
    assert_int_equal(a4nn_genome_parse("[[1,0,0,0,0,0,0]]", 7, 4, &g, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "cannot expect 7 phases"));
}

/* The example of DESIGN.md's dependency rules: a node without inputs but with
 * outputs reads the phase input, a node with inputs but no output feeds the
 * phase output, isolated nodes vanish, the residual bit adds the input. */
static void test_phase_decode(void **state)
{
    (void)state;
    a4nn_genome g;
    parse_ok("[[0,0,1,0,0,0,1],[0,0,0,0,0,0,0],[1,1,1,1,1,1,1]]", &g);
    a4nn_phase_graph pg;
    a4nn_phase_decode(&g, 0, &pg);
    assert_int_equal(pg.n_deps[1], 0); /* node 1: isolated */
    assert_int_equal(pg.n_deps[2], 1); /* node 2: no input, output -> phase input */
    assert_int_equal(pg.deps[2][0], 0);
    assert_int_equal(pg.n_deps[3], 1); /* node 3 <- node 2 */
    assert_int_equal(pg.deps[3][0], 2);
    assert_int_equal(pg.n_deps[4], 0); /* node 4: isolated */
    assert_int_equal(pg.n_deps[5], 2); /* output <- residual input, node 3 */
    assert_int_equal(pg.deps[5][0], 0);
    assert_int_equal(pg.deps[5][1], 3);
    assert_true(a4nn_genome_phase_active(&g, 0));
    assert_false(a4nn_genome_phase_active(&g, 1));
    a4nn_phase_decode(&g, 2, &pg); /* every bit on: a chain-complete DAG */
    assert_int_equal(pg.n_deps[1], 1);
    assert_int_equal(pg.deps[1][0], 0);
    assert_int_equal(pg.n_deps[4], 3);
    assert_int_equal(pg.n_deps[5], 2); /* residual + node 4 */
}

static void test_arch_shapes(void **state)
{
    (void)state;
    a4nn_genome g;
    a4nn_arch *a = malloc(sizeof *a);
    /* all three phases active: 127 -> 125 (3x3 p0) -> 62 -> 31, channels 24/48/96 */
    parse_ok("[[1,0,0,0,0,0,0],[1,0,0,0,0,0,0],[1,0,0,0,0,0,0]]", &g);
    assert_int_equal(a4nn_arch_build(&g, 1, 127, 127, 24, 2, a, NULL), A4NN_OK);
    assert_int_equal(a->n_active_phases, 3);
    const a4nn_shape *out = &a->tensor[a->ops[a->n_ops - 2].out]; /* GAP */
    assert_int_equal(out->c, 96);
    assert_int_equal(a->tensor[a->output].c, 2);
    int saw31 = 0;
    for (int i = 0; i < a->n_ops; i++)
        saw31 |= a->ops[i].kind == A4NN_OP_MAXPOOL && a->tensor[a->ops[i].out].h == 31;
    assert_true(saw31);
    /* residual-only phases are inactive: the network is GAP + linear on the input */
    parse_ok("[[0,0,0,0,0,0,1],[0,0,0,0,0,0,1],[0,0,0,0,0,0,1]]", &g);
    assert_int_equal(a4nn_arch_build(&g, 1, 127, 127, 24, 2, a, NULL), A4NN_OK);
    assert_int_equal(a->n_active_phases, 0);
    assert_int_equal(a->n_ops, 2);
    assert_int_equal(a->params, 1 * 2 + 2);
    /* an input too small for the network is an error, not a crash */
    parse_ok("[[1,1,1,1,1,1,1],[1,1,1,1,1,1,1],[1,1,1,1,1,1,1]]", &g);
    a4nn_error err;
    assert_int_equal(a4nn_arch_build(&g, 1, 4, 4, 24, 2, a, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "too small"));
    free(a);
}

/* Splits one CSV line of the reference file into the genome (quoted) and the
 * last column (flops). Returns 0 for lines without a genome. */
static int reference_row(char *line, char **genome, double *flops)
{
    char *q1 = strchr(line, '"');
    char *q2 = q1 ? strchr(q1 + 1, '"') : NULL;
    char *last = strrchr(line, ',');
    if (!q1 || !q2 || !last || last < q2)
        return 0;
    *q2 = '\0';
    *genome = q1 + 1;
    *flops = strtod(last + 1, NULL);
    return 1;
}

static void test_mflops_reproduce_reference(void **state)
{
    (void)state;
    char path[1024];
    if (!test_shared_path("data/curves/nsganet-xfel-1e16-full.csv", path, sizeof path))
        TEST_SKIP("reference curves not found (set A4NN_SHARED to the shared/ directory)");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int rows = 0, checked = 0;
    double worst = 0;
    a4nn_arch *a = malloc(sizeof *a);
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    assert_non_null(strstr(line, "flops"));
    while (fgets(line, sizeof line, f)) {
        char *text;
        double ref;
        if (!reference_row(line, &text, &ref))
            continue;
        rows++;
        if (strncmp(line, "0,", 2) != 0) /* one check per model: its epoch-0 row */
            continue;
        a4nn_genome g;
        a4nn_error err;
        if (a4nn_genome_parse(text, 3, 4, &g, &err) != A4NN_OK)
            fail_msg("reference genome %s: %s", text, err.msg);
        assert_int_equal(a4nn_arch_build(&g, 1, 127, 127, 24, 2, a, &err), A4NN_OK);
        double rel = fabs(a->mflops - ref) / ref;
        if (rel > worst)
            worst = rel;
        if (rel > 1e-4)
            fail_msg("genome %s: %.4f MFLOPs, reference %.4f (%.4f %%)", text, a->mflops, ref,
                     100 * rel);
        checked++;
    }
    fclose(f);
    free(a);
    printf("checked %d models (%d rows), worst relative difference %.2e\n", checked, rows, worst);
    assert_int_equal(checked, 100);
    assert_int_equal(rows, 2500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format_roundtrip),
        cmocka_unit_test(test_bad_genomes),
        cmocka_unit_test(test_phase_count),
        cmocka_unit_test(test_phase_decode),
        cmocka_unit_test(test_arch_shapes),
        cmocka_unit_test(test_mflops_reproduce_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
