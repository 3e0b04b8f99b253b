/* report: a commons written by the commons module reads back with the same
 * numbers; Pareto front, hypervolume, summary, exports and the HTML file. */
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"

#include "a4nn/commons.h"
#include "a4nn/report.h"

#define BUDGET 10

typedef struct {
    char dir[256];
} fixture;

static const struct {
    const char *genome;
    double mflops, fitness;
    int epochs, conv_epoch, worker;
    double t0;
} M[] = {
    {"[[0,0,0,1,1,0,1],[1,1,0,0,0,0,0],[0,1,1,0,0,1,0]]", 100, 90, 6, 5, 1, 0},
    {"[[0,0,1,0,0,0,1],[0,0,0,0,0,0,0],[0,0,1,0,0,0,0]]", 200, 95, 10, -1, 2, 0},
    {"[[1,1,1,1,1,1,1],[1,1,1,1,1,1,1],[1,1,1,1,1,1,1]]", 150, 85, 7, 6, 1, 40},
    {"[[1,0,0,0,0,0,0],[0,0,0,0,0,0,1],[0,1,0,1,0,1,0]]", 50, 80, 8, 7, 2, 60},
    {"[[0,1,0,1,0,1,0],[1,0,1,0,1,0,1],[1,1,0,0,1,1,0]]", 300, 94, 9, 8, 1, 100},
    {"[[0,0,0,0,0,1,0],[0,0,0,0,0,0,0],[0,0,0,0,0,0,0]]", 60, 70, 1, -1, 2, 120},
};
#define NM ((int)A4NN_ARRAY_LEN(M))
#define RESUMED 4 /* model whose epoch table repeats epoch 2 (resumed from a checkpoint) */

static double val_of(int m, int e) { return 50.0 + m + 3.0 * e; }

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/a4nn-test-report-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    char path[512];
    snprintf(path, sizeof path, "%s/commons.h5", fx->dir);
    a4nn_error err = {{0}};
    a4nn_commons *c =
        a4nn_commons_create(path, "[search]\nseed = 7\n[train]\nepochs = 10\n", 7, &err);
    if (!c) {
        fprintf(stderr, "create: %s\n", err.msg);
        return -1;
    }
    for (int m = 0; m < NM; m++) {
        a4nn_model_record r;
        memset(&r, 0, sizeof r);
        r.id = m;
        snprintf(r.genome, sizeof r.genome, "%s", M[m].genome);
        r.mflops = M[m].mflops;
        r.params = 1000 + m;
        r.epochs_trained = M[m].epochs;
        snprintf(r.stop_reason, sizeof r.stop_reason, "%s", M[m].conv_epoch >= 0 ? "converged" : "budget");
        r.fitness = M[m].fitness;
        r.predicted = M[m].fitness;
        r.worker = M[m].worker;
        r.start_time = 1000.0 + M[m].t0;
        r.end_time = r.start_time + 4.0 * M[m].epochs;
        int extra = m == RESUMED;
        r.n_epochs = M[m].epochs + extra;
        r.epochs = calloc((size_t)r.n_epochs, sizeof *r.epochs);
        for (int e = 0, k = 0; e < M[m].epochs; e++, k++) {
            if (extra && e == 2) { /* first, interrupted attempt at epoch 2 */
                r.epochs[k++] = (a4nn_epoch_row){2, 1.0, -1.0, 9.0, 4.0};
            }
            r.epochs[k] = (a4nn_epoch_row){e, val_of(m, e) + 1, val_of(m, e), 1.0 / (e + 1), 4.0};
        }
        r.last_val_acc = val_of(m, M[m].epochs - 1);
        r.seconds = 4.0 * M[m].epochs;
        int np = M[m].epochs > 3 ? M[m].epochs - 3 : 0;
        r.n_preds = np;
        r.preds = calloc((size_t)(np ? np : 1), sizeof *r.preds);
        for (int p = 0; p < np; p++) {
            int e = 3 + p;
            r.preds[p] = (a4nn_pred_row){e, M[m].fitness + (M[m].conv_epoch - e) * 0.1, 0.5,
                                         M[m].conv_epoch >= 0 && e >= M[m].conv_epoch};
        }
        if (a4nn_commons_write_model(c, &r, &err) != A4NN_OK) {
            fprintf(stderr, "write: %s\n", err.msg);
            return -1;
        }
        free(r.epochs);
        free(r.preds);
    }
    if (a4nn_commons_close(c, &err) != A4NN_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    int rc = system(cmd);
    free(fx);
    return rc == 0 ? 0 : -1;
}

static a4nn_report_run *load(fixture *fx)
{
    a4nn_report_run *run = NULL;
    a4nn_error err = {{0}};
    if (a4nn_report_run_load(fx->dir, &run, &err) != A4NN_OK)
        fail_msg("load: %s", err.msg);
    return run;
}

static void test_numbers_match(void **state)
{
    fixture *fx = *state;
    a4nn_report_run *run = load(fx);
    assert_int_equal(run->n_models, NM);
    assert_int_equal(run->budget, BUDGET);
    assert_int_equal(run->seed, 7);
    assert_non_null(strstr(run->config, "epochs = 10"));
    for (int m = 0; m < NM; m++) {
        const a4nn_report_model *x = &run->models[m];
        assert_int_equal(x->id, m);
        assert_true(x->has_genome);
        a4nn_genome g;
        assert_int_equal(a4nn_genome_parse(M[m].genome, 0, 4, &g, NULL), A4NN_OK);
        assert_true(a4nn_genome_equal(&g, &x->genome));
        assert_close(x->mflops, M[m].mflops, 0);
        assert_close(x->fitness, M[m].fitness, 0);
        assert_int_equal(x->params, 1000 + m);
        assert_int_equal(x->worker, M[m].worker);
        assert_int_equal(x->epochs_trained, M[m].epochs);
        assert_int_equal(x->n_epochs, M[m].epochs);
        assert_int_equal(x->converged_epoch, M[m].conv_epoch);
        assert_close(x->start_time, 1000.0 + M[m].t0, 0);
        assert_string_equal(x->stop_reason, M[m].conv_epoch >= 0 ? "converged" : "budget");
        for (int e = 0; e < x->n_epochs; e++) {
            assert_int_equal(x->epochs[e].epoch, e);
            assert_close(x->epochs[e].val_acc, val_of(m, e), 0); /* the resumed row wins */
            assert_close(x->epochs[e].loss, 1.0 / (e + 1), 0);
        }
        assert_close(x->last_val, val_of(m, M[m].epochs - 1), 0);
        assert_close(x->train_seconds, 4.0 * M[m].epochs, 1e-12);
    }
    a4nn_report_run_free(run);
}

static void test_front_and_summary(void **state)
{
    fixture *fx = *state;
    a4nn_report_run *run = load(fx);
    const int front[NM] = {1, 1, 0, 1, 0, 0};
    for (int m = 0; m < NM; m++)
        assert_int_equal(run->models[m].on_front, front[m]);
    a4nn_report_summary s;
    a4nn_report_summarize(run, 0.0, &s);
    assert_int_equal(s.models, NM);
    long used = 0;
    for (int m = 0; m < NM; m++)
        used += M[m].epochs;
    assert_int_equal(s.epochs_used, used);
    assert_int_equal(s.epochs_budget, NM * BUDGET);
    assert_close(s.saved_pct, 100.0 * (1.0 - (double)used / (NM * BUDGET)), 1e-12);
    assert_close(s.best_accuracy, 95.0, 0);
    assert_int_equal(s.front_size, 3);
    assert_close(s.ref_mflops, 330.0, 1e-9);
    /* front (err, MFLOPs): (5,200) (10,100) (20,50) under reference (100, 330) */
    assert_close(s.hypervolume, 5 * 130.0 + 10 * 230.0 + 80 * 280.0, 1e-6);
    assert_int_equal(s.workers, 2);
    assert_close(s.makespan, 100.0 + 4.0 * 9, 1e-9); /* model 4 ends last */
    /* time saved: (budget - epochs) x 4 s per model */
    assert_close(s.seconds_saved, 4.0 * (NM * BUDGET - used), 1e-9);
    /* nearest earlier architectures (none stored in this commons: derived) */
    assert_int_equal(run->models[0].n_nb, 0);
    assert_int_equal(run->models[1].n_nb, 1);
    assert_int_equal(run->models[1].nb[0].id, 0);
    assert_close(run->models[1].nb[0].fitness, M[0].fitness, 0);
    assert_close(run->models[1].nb[0].similarity,
                 a4nn_tracker_lcs_similarity(&run->models[1].genome, &run->models[0].genome), 0);
    assert_int_equal(run->models[5].n_nb, 3);
    for (int j = 0; j < 3; j++)
        assert_true(run->models[5].nb[j].id < 5);
    /* the map gives distinct genomes distinct points */
    assert_true(fabs(run->models[2].map_x - run->models[5].map_x) +
                    fabs(run->models[2].map_y - run->models[5].map_y) > 1e-6);
    a4nn_report_run_free(run);
}

static void test_hypervolume_simple(void **state)
{
    (void)state;
    const double a[] = {1, 2, 3, 2.5}, b[] = {3, 2, 1, 2.5}; /* last one dominated */
    /* staircase under (4, 4): 1x1 + 1x2 + 1x3 */
    assert_close(a4nn_report_hypervolume(a, b, 4, 4, 4), 6.0, 1e-12);
    assert_close(a4nn_report_hypervolume(a, b, 0, 4, 4), 0.0, 0);
    const double c[] = {5}, d[] = {1}; /* outside the box */
    assert_close(a4nn_report_hypervolume(c, d, 1, 4, 4), 0.0, 0);
}

static char *slurp(const char *path)
{
    a4nn_error err = {{0}};
    char *s = a4nn_read_file(path, NULL, &err);
    if (!s)
        fail_msg("%s", err.msg);
    return s;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_exports_and_html(void **state)
{
    fixture *fx = *state;
    a4nn_report_run *run = load(fx);
    a4nn_error err = {{0}};
    char path[600];
    snprintf(path, sizeof path, "%s/out.csv", fx->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(a4nn_report_write_csv(f, run, &err), A4NN_OK);
    fclose(f);
    char *csv = slurp(path);
    int used = 0;
    for (int m = 0; m < NM; m++)
        used += M[m].epochs;
    assert_int_equal(count(csv, "\n"), 1 + used);
    assert_non_null(strstr(csv, "\"[[0,0,1,0,0,0,1],[0,0,0,0,0,0,0],[0,0,1,0,0,0,0]]\",200,"));
    free(csv);

    snprintf(path, sizeof path, "%s/out.json", fx->dir);
    f = fopen(path, "w");
    assert_int_equal(a4nn_report_write_json(f, &run, 1, 0.0, &err), A4NN_OK);
    fclose(f);
    char *json = slurp(path);
    assert_int_equal(count(json, "\n{\"id\":"), NM);
    assert_non_null(strstr(json, "\"fitness\":95,"));
    assert_non_null(strstr(json, "\"epochs_used\":41,"));
    assert_int_equal(count(json, "\"on_front\":true"), 3);
    free(json);

    snprintf(path, sizeof path, "%s/report.html", fx->dir);
    f = fopen(path, "w");
    a4nn_report_run *two[2] = {run, run};
    assert_int_equal(a4nn_report_write_html(f, two, 2, &err), A4NN_OK);
    fclose(f);
    char *html = slurp(path);
    assert_int_equal(count(html, "</script>"), 2); /* data and code, nothing broke out */
    assert_int_equal(count(html, "http://") + count(html, "https://"),
                     count(html, "http://www.w3.org/2000/svg")); /* no network references */
    assert_non_null(strstr(html, "id=\"a4nn-data\""));
    assert_int_equal(count(html, "\"on_front\":true"), 6);
    free(html);
    assert_int_equal(a4nn_report_write_html(stdout, two, 0, &err), A4NN_ERR);
    a4nn_report_run_free(run);
}

static void test_bad_input(void **state)
{
    fixture *fx = *state;
    a4nn_report_run *run = NULL;
    a4nn_error err = {{0}};
    assert_int_equal(a4nn_report_run_load("/nonexistent/a4nn-run", &run, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "no such run directory"));
    char path[600];
    snprintf(path, sizeof path, "%s/not-h5", fx->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/not-h5/commons.h5", fx->dir);
    FILE *f = fopen(path, "w");
    fputs("plain text\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/not-h5", fx->dir);
    assert_int_equal(a4nn_report_run_load(path, &run, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "not an HDF5 file"));
    snprintf(path, sizeof path, "%s/empty", fx->dir);
    mkdir(path, 0755);
    assert_int_equal(a4nn_report_run_load(path, &run, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "no readable data commons"));
    assert_null(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_match), cmocka_unit_test(test_front_and_summary),
        cmocka_unit_test(test_hypervolume_simple), cmocka_unit_test(test_exports_and_html),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
