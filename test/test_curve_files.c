/* Learning-curve CSV files (a4nn_curves_read): every bad value is an error
 * that quotes it, and nothing of a rejected file is kept (the SANITIZE=1
 * build checks no freed memory is read while the message is made). */
#include <math.h>

#include "a4nn/penguin.h"
#include "testutil.h"

static char path[] = "/tmp/a4nn-curve-files-XXXXXX";

static void expect_error(const char *text, const char *needle)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    a4nn_curve_set set;
    a4nn_error err;
    assert_int_equal(a4nn_curves_read(path, &set, &err), A4NN_ERR);
    if (!strstr(err.msg, needle))
        fail_msg("'%s' not in '%s'", needle, err.msg);
    assert_null(set.models);
    assert_int_equal(set.n_models, 0);
}

static void test_bad_values(void **s)
{
    (void)s;
    expect_error("epoch,val_accs\n0,50\n1,nan\n", ":3: bad epoch '1' or val_accs 'nan'");
    expect_error("epoch,val_accs\n0,50\n1,inf\n", ":3: bad epoch '1' or val_accs 'inf'");
    expect_error("epoch,val_accs\n0,50\n1,101\n", ":3: bad epoch '1' or val_accs '101'");
    expect_error("epoch,val_accs\nzero,50\n", ":2: bad epoch 'zero' or val_accs '50'");
    expect_error("epoch,val_accs\n0,50\n1.5,60\n", ":3: bad epoch '1.5'");
    expect_error("epoch,val_accs,train_accs\n0,50,40\n1,60,abc\n",
                 ":3: a value in train_accs, predictions or flops is not a number");
    expect_error("epoch,val_accs,flops\n0,50,12x\n",
                 ":2: a value in train_accs, predictions or flops is not a number");
    expect_error("epoch,val_accs\n0,50\n2,60\n", "out of sequence");
    expect_error("epoch,val_accs\n0,50,7\n", ":2: 3 fields, the header has 2");
    expect_error("epoch,accuracy\n0,50\n", "at least the columns epoch and val_accs");
    expect_error("epoch,val_accs\n", "no learning curves");
    expect_error("", "empty file or bad header");
}

static void test_good_file(void **s)
{
    (void)s;
    FILE *f = fopen(path, "w");
    fputs("epoch,val_accs,train_accs,genome\n0,50,40,\"[[1, 0]]\"\n1,60,,\"[[1, 0]]\"\n"
          "0,55,45,\"[[0, 1]]\"\n",
          f);
    fclose(f);
    a4nn_curve_set set;
    a4nn_error err;
    assert_int_equal(a4nn_curves_read(path, &set, &err), A4NN_OK);
    assert_int_equal(set.n_models, 2);
    assert_int_equal(set.models[0].n_epochs, 2);
    assert_true(set.models[0].val_acc[1] == 60);
    assert_true(isnan(set.models[0].train_acc[1])); /* an empty field is missing, not text */
    assert_string_equal(set.models[1].genome, "[[0, 1]]");
    a4nn_curves_free(&set);
}

int main(void)
{
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    close(fd);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_good_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
