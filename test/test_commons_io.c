/* commons: models written and read back, reopen for resume, checkpoints. */
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "a4nn/commons.h"
#include "testutil.h"

static void make_record(a4nn_model_record *r, int id, int n)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    snprintf(r->genome, sizeof r->genome, "[[%d, 0, 0, 1, 0, 0, 1]]", id % 2);
    r->mflops = 1.5 + id;
    r->params = 1000 + id;
    r->epochs_trained = n;
    r->epochs_run = n + id % 2;
    snprintf(r->stop_reason, sizeof r->stop_reason, "%s", id % 2 ? "converged" : "budget");
    r->fitness = 90 + 0.125 * id;
    r->predicted = id % 2 ? 91.0 : NAN;
    r->last_val_acc = 89.5;
    r->worker = 1 + id % 3;
    r->start_time = 1e9;
    r->end_time = 1e9 + 10;
    r->seconds = 9.5;
    r->n_epochs = n;
    r->epochs = calloc((size_t)n, sizeof *r->epochs);
    for (int e = 0; e < n; e++)
        r->epochs[e] = (a4nn_epoch_row){e, 50 + e, 40 + e, 1.0 / (e + 1), 0.5};
    r->n_preds = n > 3 ? n - 3 : 0;
    r->preds = calloc((size_t)(r->n_preds + 1), sizeof *r->preds);
    for (int k = 0; k < r->n_preds; k++)
        r->preds[k] = (a4nn_pred_row){k + 3, 80 + k, 0.5, k == r->n_preds - 1};
}

/* Writes a made-up model id with n epochs to c. */
static int add_model(a4nn_commons *c, int id, int n)
{
    a4nn_model_record r;
    a4nn_error err;
    make_record(&r, id, n);
    int rc = a4nn_commons_write_model(c, &r, &err);
    a4nn_model_record_free(&r);
    return rc;
}

/* The number of models c holds (read back, then freed). */
static int count_models(a4nn_commons *c)
{
    a4nn_model_record *got;
    int n;
    a4nn_error err;
    assert_int_equal(a4nn_commons_read_models(c, &got, &n, &err), A4NN_OK);
    for (int i = 0; i < n; i++)
        a4nn_model_record_free(&got[i]);
    free(got);
    return n;
}

static void test_models_roundtrip(void **state)
{
    (void)state;
    char dir[] = "/tmp/a4nn-commons-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/commons.h5", dir);
    a4nn_error err;
    a4nn_commons *c = a4nn_commons_create(path, "[run]\nseed = 3\n", 3, &err);
    assert_non_null(c);
    /* written out of order: read back sorted by id */
    int ids[] = {12, 3, 7};
    for (int i = 0; i < 3; i++) {
        a4nn_model_record r;
        make_record(&r, ids[i], 4 + i);
        assert_int_equal(a4nn_commons_write_model(c, &r, &err), A4NN_OK);
        a4nn_model_record_free(&r);
    }
    uint64_t rs[4] = {1, 2, 3, 0xFFFFFFFFFFFFFFFFULL};
    int pop[] = {3, 12};
    assert_int_equal(a4nn_commons_write_search(c, 1, rs, pop, 2, &err), A4NN_OK);
    /* the asynchronous search's record of dispatched genomes (ids 0 and 2:
     * the gap reads back empty) and its RNG state */
    assert_int_equal(a4nn_commons_write_dispatch(c, 0, "[[1, 0, 0, 0, 0, 0, 0]]", rs, &err),
                     A4NN_OK);
    uint64_t rs2[4] = {9, 8, 7, 6};
    assert_int_equal(a4nn_commons_write_dispatch(c, 2, "[[0, 1, 0, 0, 0, 0, 0]]", rs2, &err),
                     A4NN_OK);
    assert_int_equal(a4nn_commons_close(c, &err), A4NN_OK);
    /* creating over an existing commons fails */
    assert_null(a4nn_commons_create(path, "x", 1, &err));

    c = a4nn_commons_open(path, &err);
    assert_non_null(c);
    char *text = a4nn_commons_config_text(c, &err);
    assert_string_equal(text, "[run]\nseed = 3\n");
    free(text);
    char(*sent)[256];
    int n_sent, has_rng;
    uint64_t rs3[4] = {0};
    assert_int_equal(a4nn_commons_read_dispatch(c, &sent, &n_sent, rs3, &has_rng, &err), A4NN_OK);
    assert_int_equal(n_sent, 3);
    assert_string_equal(sent[0], "[[1, 0, 0, 0, 0, 0, 0]]");
    assert_string_equal(sent[1], "");
    assert_string_equal(sent[2], "[[0, 1, 0, 0, 0, 0, 0]]");
    assert_true(has_rng && rs3[0] == 9 && rs3[3] == 6);
    free(sent);
    a4nn_model_record *got;
    int n;
    assert_int_equal(a4nn_commons_read_models(c, &got, &n, &err), A4NN_OK);
    assert_int_equal(n, 3);
    int sorted[] = {3, 7, 12};
    for (int i = 0; i < 3; i++) {
        a4nn_model_record want;
        int k = ids[0] == sorted[i] ? 0 : ids[1] == sorted[i] ? 1 : 2;
        make_record(&want, sorted[i], 4 + k);
        assert_int_equal(got[i].id, sorted[i]);
        assert_string_equal(got[i].genome, want.genome);
        assert_string_equal(got[i].stop_reason, want.stop_reason);
        assert_true(got[i].fitness == want.fitness); /* bit-exact */
        assert_true(got[i].mflops == want.mflops);
        assert_int_equal(got[i].params, want.params);
        assert_int_equal(got[i].worker, want.worker);
        assert_int_equal(got[i].epochs_run, want.epochs_run);
        assert_true(isnan(want.predicted) ? isnan(got[i].predicted)
                                          : got[i].predicted == want.predicted);
        assert_int_equal(got[i].n_epochs, want.n_epochs);
        assert_int_equal(got[i].n_preds, want.n_preds);
        for (int e = 0; e < want.n_epochs; e++) {
            assert_int_equal(got[i].epochs[e].epoch, e);
            assert_true(got[i].epochs[e].val_acc == want.epochs[e].val_acc);
        }
        for (int p = 0; p < want.n_preds; p++) {
            assert_true(got[i].preds[p].prediction == want.preds[p].prediction);
            assert_int_equal(got[i].preds[p].converged, want.preds[p].converged);
        }
        a4nn_model_record_free(&want);
        a4nn_model_record_free(&got[i]);
    }
    free(got);
    /* a model can be added after reopening */
    assert_int_equal(add_model(c, 20, 2), A4NN_OK);
    assert_int_equal(count_models(c), 4);
    assert_int_equal(a4nn_commons_close(c, &err), A4NN_OK);

    /* not a commons */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/not.h5", dir);
    FILE *f = fopen(bad, "w");
    fputs("plain text", f);
    fclose(f);
    assert_null(a4nn_commons_open(bad, &err));
    assert_non_null(strstr(err.msg, "not.h5"));
    unlink(bad);
    unlink(path);
    rmdir(dir);
}

static void test_checkpoints(void **state)
{
    (void)state;
    char dir[] = "/tmp/a4nn-ckpt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/m.ckpt", dir);
    a4nn_error err;
    int found = 1, nr;
    a4nn_checkpoint_info info, w_info = {9, 2, "[[1,0,0,0,0,0,0]]"};
    a4nn_epoch_row *rows;
    float *st;
    size_t ns;
    assert_int_equal(a4nn_checkpoint_read(path, &found, &info, &rows, &nr, &st, &ns, &err),
                     A4NN_OK);
    assert_int_equal(found, 0);
    a4nn_epoch_row w[2] = {{0, 1, 2, 3, 4}, {1, 5, 6, 7, 8}};
    float s[5] = {1, 2, 3, 4, 5.5f};
    assert_int_equal(a4nn_checkpoint_write(path, &w_info, w, 2, s, 5, &err), A4NN_OK);
    assert_int_equal(a4nn_checkpoint_read(path, &found, &info, &rows, &nr, &st, &ns, &err),
                     A4NN_OK);
    assert_int_equal(found, 1);
    assert_int_equal(info.model_id, 9);
    assert_int_equal(info.next_epoch, 2);
    assert_string_equal(info.genome, "[[1,0,0,0,0,0,0]]");
    assert_int_equal(nr, 2);
    assert_int_equal((int)ns, 5);
    assert_true(rows[1].val_acc == 6 && st[4] == 5.5f);
    free(rows);
    free(st);
    /* truncated */
    assert_int_equal(truncate(path, 30), 0);
    assert_int_equal(a4nn_checkpoint_read(path, &found, &info, &rows, &nr, &st, &ns, &err),
                     A4NN_ERR);
    assert_non_null(strstr(err.msg, "m.ckpt"));
    unlink(path);
    char p2[400];
    a4nn_checkpoint_path("/runs/x", 42, p2, sizeof p2);
    assert_string_equal(p2, "/runs/x/checkpoints/model-000042.ckpt");
    rmdir(dir);
}

/* A process that dies without closing the commons (kill -9, lost node):
 * commons.h5 is still a valid HDF5 file (the last snapshot), the journal
 * holds the finished models, a torn last record is dropped, and a reopen
 * folds the rest in. */
static void test_crash_keeps_journal(void **state)
{
    (void)state;
    char dir[] = "/tmp/a4nn-commons-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], jpath[256];
    snprintf(path, sizeof path, "%s/commons.h5", dir);
    snprintf(jpath, sizeof jpath, "%s/commons.journal", dir);
    setenv("A4NN_COMMONS_SNAPSHOT_SECONDS", "1e9", 1);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        a4nn_error err;
        a4nn_commons *c = a4nn_commons_create(path, "[run]\nseed = 5\n", 5, &err);
        for (int i = 0; c && i < 3; i++)
            if (add_model(c, i, 6) != A4NN_OK)
                _exit(2);
        _exit(c ? 0 : 1); /* dies without closing */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    unsetenv("A4NN_COMMONS_SNAPSHOT_SECONDS");
    /* the snapshot is a complete HDF5 file without the models yet */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    H5G_info_t gi;
    assert_true(H5Gget_info_by_name(f, "/models", &gi, H5P_DEFAULT) >= 0);
    assert_int_equal((int)gi.nlinks, 0);
    H5Fclose(f);
    /* a record torn in half by the crash */
    int fd = open(jpath, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    const char torn[] = "A4NJ\x01\x00\x00\x00 half a record";
    assert_int_equal(write(fd, torn, sizeof torn), (ssize_t)sizeof torn);
    close(fd);
    a4nn_error err;
    a4nn_commons *c = a4nn_commons_open(path, &err);
    assert_non_null(c);
    a4nn_model_record *got;
    int n;
    assert_int_equal(a4nn_commons_read_models(c, &got, &n, &err), A4NN_OK);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++) {
        assert_int_equal(got[i].id, i);
        assert_int_equal(got[i].n_epochs, 6);
        assert_true(got[i].epochs[5].val_acc == 45);
        a4nn_model_record_free(&got[i]);
    }
    free(got);
    /* the next record follows the valid ones, not the torn bytes */
    assert_int_equal(add_model(c, 3, 4), A4NN_OK);
    assert_int_equal(a4nn_commons_close(c, &err), A4NN_OK);
    c = a4nn_commons_open(path, &err);
    assert_non_null(c);
    assert_int_equal(count_models(c), 4);
    assert_int_equal(a4nn_commons_close(c, &err), A4NN_OK);
    assert_int_equal(access(jpath, F_OK), -1); /* a closed commons leaves no journal */
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_models_roundtrip),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_crash_keeps_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
