/* config: defaults, INI reading, overrides, errors that name the key. */
#include <math.h>

#include "a4nn/config.h"
#include "testutil.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_read_and_override(void **state)
{
    (void)state;
    char path[] = "/tmp/a4nn-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "[run]\nseed = 42\nmode = async\n[search]\npop_size = 10\n"
                     "[train]\nlr = 0.1\n[penguin]\nenabled = off\npolicy = ensemble\n"
                     "[worker]\nbackend = replay\nreplay_curves = x.csv\n");
    a4nn_config c;
    a4nn_config_defaults(&c);
    a4nn_error err;
    assert_int_equal(a4nn_config_read(&c, path, &err), A4NN_OK);
    assert_int_equal((int)c.seed, 42);
    assert_int_equal(c.mode, A4NN_MODE_ASYNC);
    assert_int_equal(c.pop_size, 10);
    assert_close(c.lr, 0.1, 1e-15);
    assert_int_equal(c.penguin, 0);
    assert_int_equal(c.n_penguin_keys, 1);
    assert_string_equal(c.penguin_key[0], "policy");
    assert_int_equal(c.backend, A4NN_WORKER_REPLAY);
    assert_int_equal(a4nn_config_override(&c, "--search.n_gens=7", &err), A4NN_OK);
    assert_int_equal(c.n_gens, 7);
    assert_int_equal(a4nn_config_total_models(&c), 10 + c.n_offspring * 7);
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_OK);
    /* --penguin=off is penguin.enabled = off (plain NSGA-Net) */
    assert_int_equal(a4nn_config_override(&c, "--penguin=off", &err), A4NN_OK);
    assert_int_equal(c.penguin, 0);
    assert_int_equal(a4nn_config_override(&c, "--penguin=on", &err), A4NN_OK);
    assert_int_equal(c.penguin, 1);
    assert_int_equal(a4nn_config_override(&c, "--penguin=maybe", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "penguin.enabled"));
    assert_int_equal(a4nn_config_override(&c, "--worker.backend=auto", &err), A4NN_OK);
    assert_int_equal(c.backend, A4NN_WORKER_AUTO);
    assert_int_equal(a4nn_config_override(&c, "--worker.backend=replay", &err), A4NN_OK);
    assert_int_equal(a4nn_config_override(&c, "--worker.cpu_kernels=sometimes", &err), A4NN_ERR);
    assert_int_equal(a4nn_config_override(&c, "--worker.cpu_kernels=own", &err), A4NN_OK);
    assert_int_equal(c.cpu_kernels, 2); /* A4NN_CPU_KERNELS_OWN */

    /* the resolved text reads back to the same configuration */
    char *text = a4nn_config_text(&c);
    assert_non_null(text);
    write_file(path, text);
    a4nn_config d;
    a4nn_config_defaults(&d);
    assert_int_equal(a4nn_config_read(&d, path, &err), A4NN_OK);
    char *text2 = a4nn_config_text(&d);
    assert_string_equal(text, text2);
    free(text);
    free(text2);
    unlink(path);
}

static void test_errors_name_the_key(void **state)
{
    (void)state;
    a4nn_config c;
    a4nn_config_defaults(&c);
    a4nn_error err;
    assert_int_equal(a4nn_config_override(&c, "--search.popsize=3", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "search.popsize"));
    assert_int_equal(a4nn_config_override(&c, "--train.epochs=zero", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "train.epochs"));
    assert_int_equal(a4nn_config_override(&c, "--train.epochs=0", &err), A4NN_ERR);
    assert_int_equal(a4nn_config_override(&c, "--train.lr=-1", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "train.lr"));
    assert_int_equal(a4nn_config_override(&c, "--run.mode=sometimes", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "run.mode"));
    assert_int_equal(a4nn_config_override(&c, "--penguin.window=x", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "penguin.window"));
    assert_int_equal(a4nn_config_override(&c, "--penguin.nokey=1", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "penguin.nokey"));
    assert_int_equal(a4nn_config_override(&c, "search.pop_size=3", &err), A4NN_ERR);
    assert_int_equal(a4nn_config_override(&c, "--nodot=3", &err), A4NN_ERR);
    assert_int_equal(a4nn_config_read(&c, "/nonexistent/a4nn.ini", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "/nonexistent/a4nn.ini"));
    /* replay needs its curves */
    assert_int_equal(a4nn_config_override(&c, "--worker.backend=replay", &err), A4NN_OK);
    c.replay_curves[0] = '\0';
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "worker.replay_curves"));
}

static void test_worker_groups_and_gpus(void **state)
{
    (void)state;
    a4nn_config c;
    a4nn_config_defaults(&c);
    a4nn_error err;
    assert_int_equal(c.group_size, 1);
    assert_int_equal(c.gpu_share, 0);
    assert_int_equal(c.tf32, 0);
    assert_int_equal(a4nn_config_override(&c, "--worker.group_size=4", &err), A4NN_OK);
    assert_int_equal(a4nn_config_override(&c, "--worker.gpu_share=on", &err), A4NN_OK);
    assert_int_equal(c.group_size, 4);
    assert_int_equal(c.gpu_share, 1);
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_OK);
    assert_int_equal(a4nn_config_override(&c, "--worker.group_size=0", &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "worker.group_size"));
    /* every rank of a group needs two images of each batch */
    assert_int_equal(a4nn_config_override(&c, "--train.batch=7", &err), A4NN_OK);
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "worker.group_size"));
    assert_int_equal(a4nn_config_override(&c, "--train.batch=8", &err), A4NN_OK);
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_OK);
    /* replayed curves are not trained: no groups */
    assert_int_equal(a4nn_config_override(&c, "--worker.backend=replay", &err), A4NN_OK);
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "replay"));
    /* TF32 is a cuda option */
    assert_int_equal(a4nn_config_override(&c, "--worker.group_size=1", &err), A4NN_OK);
    assert_int_equal(a4nn_config_override(&c, "--worker.backend=cpu", &err), A4NN_OK);
    assert_int_equal(a4nn_config_override(&c, "--worker.tf32=on", &err), A4NN_OK);
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "worker.tf32"));
    assert_int_equal(a4nn_config_override(&c, "--worker.backend=cuda", &err), A4NN_OK);
    assert_int_equal(a4nn_config_validate(&c, &err), A4NN_OK);
}

static void test_shipped_configs(void **state)
{
    (void)state;
    const char *files[] = {"configs/default.ini", "configs/replay.ini", "configs/xfel-1e14.ini",
                           "configs/xfel-1e15.ini", "configs/xfel-1e16.ini"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        a4nn_config c;
        a4nn_config_defaults(&c);
        a4nn_error err;
        if (a4nn_config_read(&c, files[i], &err) != A4NN_OK)
            fail_msg("%s: %s", files[i], err.msg);
        if (a4nn_config_validate(&c, &err) != A4NN_OK)
            fail_msg("%s: %s", files[i], err.msg);
        if (strstr(files[i], "xfel-"))
            assert_int_equal(a4nn_config_total_models(&c), 100);
    }
}

int main(void)
{
    /* tests run from the repository root (test/run.sh) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_and_override),
        cmocka_unit_test(test_errors_name_the_key),
        cmocka_unit_test(test_worker_groups_and_gpus),
        cmocka_unit_test(test_shipped_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
