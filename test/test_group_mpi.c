/* Worker groups on the CPU backend. Run alone (one rank) it checks the
 * single-rank behaviour and errors; under `mpirun -np 2` (test/t_group_mpi.sh)
 * it checks that a group of 2 ranks, each training on its half of every
 * global batch with gradients averaged by MPI_Allreduce, reproduces one rank
 * training on the full global batch: exactly up to rounding for a network
 * without BatchNorm, and closely for a decoded network with BatchNorm (whose
 * batch statistics are per rank, as in data-parallel training without
 * synchronised BatchNorm); that both ranks end with the same weights and
 * BatchNorm statistics; and that the group's evaluation, each rank on its
 * share of the validation set, equals one rank's on the whole set. */
#include <math.h>

#include <mpi.h>

#include "testutil.h"

#include "a4nn/gpu.h"
#include "a4nn/nn.h"
#include "a4nn/search.h"

static int world_size(void)
{
    int n;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

/* conv3x3 -> relu -> maxpool -> conv3x3 -> relu -> gap -> linear, no BatchNorm */
static void plain_arch(a4nn_arch *a, int h)
{
    memset(a, 0, sizeof *a);
    a->tensor[0] = (a4nn_shape){1, h, h};
    a->n_tensors = 1;
    struct {
        a4nn_op_kind k;
        int c, ker, pad, bias;
    } seq[] = {{A4NN_OP_CONV, 4, 3, 1, 1}, {A4NN_OP_RELU, 0, 0, 0, 0},
               {A4NN_OP_MAXPOOL, 0, 0, 0, 0}, {A4NN_OP_CONV, 6, 3, 1, 0},
               {A4NN_OP_RELU, 0, 0, 0, 0}, {A4NN_OP_GAP, 0, 0, 0, 0},
               {A4NN_OP_LINEAR, 2, 0, 0, 1}};
    int x = 0;
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        a4nn_shape s = a->tensor[x];
        a4nn_op *op = &a->ops[a->n_ops++];
        memset(op, 0, sizeof *op);
        op->kind = seq[i].k, op->n_in = 1, op->in[0] = x, op->phase = -1;
        op->kernel = seq[i].ker, op->pad = seq[i].pad, op->bias = seq[i].bias;
        switch (seq[i].k) {
        case A4NN_OP_CONV:
            op->params = (long)seq[i].c * s.c * 9 + (seq[i].bias ? seq[i].c : 0);
            s.c = seq[i].c;
            break;
        case A4NN_OP_MAXPOOL: s.h /= 2, s.w /= 2; break;
        case A4NN_OP_GAP: s.h = s.w = 1; break;
        case A4NN_OP_LINEAR:
            op->params = (long)s.c * seq[i].c + seq[i].c;
            s.c = seq[i].c;
            break;
        default: break;
        }
        a->params += op->params;
        a->tensor[a->n_tensors] = s;
        op->out = x = a->n_tensors++;
    }
    a->output = x;
    a->n_classes = 2;
}

typedef struct {
    double loss[3];
    float *params, *buffers;
    size_t np, nb;
} run_result;

/* trains 3 epochs of 96 images (global batch 32); group NULL = one rank */
static void train_run(const a4nn_arch *a, a4nn_group *group, run_result *out)
{
    a4nn_error err;
    const int h = a->tensor[0].h;
    float *img;
    uint8_t *lab;
    if (a4nn_synthetic_dataset(96, 1, h, h, 5, &img, &lab, &err) != A4NN_OK)
        fail_msg("dataset: %s", err.msg);
    a4nn_dataset_view v = {img, lab, 96, 1, h, h};
    a4nn_backend *be = a4nn_backend_create("cpu", 1, 0, &err);
    assert_non_null(be);
    a4nn_net *net = a4nn_net_alloc(a, 32, be, 42, &err);
    if (!net)
        fail_msg("net: %s", err.msg);
    a4nn_train_config cfg;
    a4nn_train_config_defaults(&cfg);
    cfg.batch = 32;
    cfg.epochs = 3;
    cfg.lr = 0.05;
    if (group)
        a4nn_group_configure(group, &cfg);
    a4nn_trainer *t = a4nn_trainer_alloc(net, &cfg, &err);
    if (!t)
        fail_msg("trainer: %s", err.msg);
    for (int e = 0; e < 3; e++) {
        a4nn_epoch_stats st;
        if (a4nn_trainer_epoch(t, &v, NULL, e, &st, NULL, NULL, &err) != A4NN_OK)
            fail_msg("epoch: %s", err.msg);
        /* the statistics are the whole group's: every image of the epoch */
        assert_int_equal(st.images, 96);
        out->loss[e] = st.train_loss;
        if (group) {
            double mx = st.train_loss;
            MPI_Allreduce(MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX, a4nn_group_comm(group));
            assert_true(mx == st.train_loss); /* the same on every rank */
        }
    }
    out->np = a4nn_net_param_count(net);
    out->params = malloc(out->np * sizeof(float));
    be->download(be->ctx, out->params, a4nn_net_params(net), out->np);
    out->nb = a4nn_net_buffer_count(net);
    out->buffers = malloc((out->nb ? out->nb : 1) * sizeof(float));
    be->download(be->ctx, out->buffers, a4nn_net_buffers(net), out->nb);
    a4nn_trainer_free(t);
    a4nn_net_free(net);
    a4nn_backend_free(be);
    free(img);
    free(lab);
}

static double rel_l2(const run_result *a, const run_result *b)
{
    double n = 0, d = 0;
    for (size_t i = 0; i < a->np; i++) {
        n += ((double)a->params[i] - b->params[i]) * ((double)a->params[i] - b->params[i]);
        d += (double)b->params[i] * b->params[i];
    }
    return sqrt(n / d);
}

static void compare_group(const a4nn_arch *a, double loss_tol, double param_tol)
{
    a4nn_error err;
    a4nn_group *g = a4nn_group_create(MPI_COMM_WORLD, 2, A4NN_GROUP_MPI, &err);
    if (!g)
        fail_msg("group: %s", err.msg);
    assert_int_equal(a4nn_group_size(g), 2);
    run_result one, two;
    train_run(a, NULL, &one);
    train_run(a, g, &two);
    /* the two ranks of the group end with identical weights and BatchNorm
     * statistics */
    float *other = malloc(two.np * sizeof(float));
    MPI_Allreduce(two.params, other, (int)two.np, MPI_FLOAT, MPI_MAX, a4nn_group_comm(g));
    for (size_t i = 0; i < two.np; i++)
        assert_true(other[i] == two.params[i]);
    if (two.nb) {
        float *ob = malloc(two.nb * sizeof(float));
        MPI_Allreduce(two.buffers, ob, (int)two.nb, MPI_FLOAT, MPI_MAX, a4nn_group_comm(g));
        for (size_t i = 0; i < two.nb; i++)
            assert_true(ob[i] == two.buffers[i]);
        free(ob);
    }
    for (int e = 0; e < 3; e++) {
        printf("rank %d epoch %d: loss full batch %.6f, group of 2 %.6f\n",
               a4nn_group_rank(g), e, one.loss[e], two.loss[e]);
        assert_close(two.loss[e], one.loss[e], loss_tol * fabs(one.loss[e]));
    }
    assert_true(one.loss[2] < one.loss[0]); /* it did train */
    double r = rel_l2(&two, &one);
    printf("weights: relative L2 difference %.3g\n", r);
    assert_true(r <= param_tol);
    free(other), free(one.params), free(two.params), free(one.buffers), free(two.buffers);
    a4nn_group_free(g);
}

/* The same untrained network evaluated by one rank on all 77 images and by a
 * group of 2 on 38 + 39: the same count of correct answers, the same loss. */
static void compare_evaluation(const a4nn_arch *a)
{
    a4nn_error err;
    const int h = a->tensor[0].h, n = 77;
    float *img;
    uint8_t *lab;
    if (a4nn_synthetic_dataset(n, 1, h, h, 9, &img, &lab, &err) != A4NN_OK)
        fail_msg("dataset: %s", err.msg);
    a4nn_dataset_view v = {img, lab, n, 1, h, h};
    a4nn_group *g = a4nn_group_create(MPI_COMM_WORLD, 2, A4NN_GROUP_MPI, &err);
    if (!g)
        fail_msg("group: %s", err.msg);
    double acc[2], loss[2];
    for (int grouped = 0; grouped < 2; grouped++) {
        a4nn_backend *be = a4nn_backend_create("cpu", 1, 0, &err);
        a4nn_net *net = a4nn_net_alloc(a, 32, be, 7, &err);
        a4nn_train_config cfg;
        a4nn_train_config_defaults(&cfg);
        cfg.batch = 32;
        if (grouped)
            a4nn_group_configure(g, &cfg);
        a4nn_trainer *t = a4nn_trainer_alloc(net, &cfg, &err);
        if (!t)
            fail_msg("trainer: %s", err.msg);
        assert_int_equal(a4nn_trainer_evaluate(t, &v, &acc[grouped], &loss[grouped], &err),
                         A4NN_OK);
        a4nn_trainer_free(t);
        a4nn_net_free(net);
        a4nn_backend_free(be);
    }
    printf("evaluation: one rank %.4f %% loss %.6f, group of 2 %.4f %% loss %.6f\n", acc[0],
           loss[0], acc[1], loss[1]);
    assert_true(acc[1] == acc[0]);
    assert_close(loss[1], loss[0], 1e-5 * fabs(loss[0]));
    /* a fraction of 77 images, not of one rank's share */
    assert_close(acc[0] * n / 100, floor(acc[0] * n / 100 + 0.5), 1e-9);
    a4nn_group_free(g);
    free(img);
    free(lab);
}

static void test_group_plain_net(void **state)
{
    if (world_size() != 2)
        TEST_SKIP("needs 2 MPI ranks (test/t_group_mpi.sh runs it under mpirun -np 2)");
    a4nn_arch *a = malloc(sizeof *a);
    plain_arch(a, 12);
    compare_group(a, 1e-4, 1e-4);
    compare_evaluation(a);
    free(a);
}

static void test_group_decoded_net(void **state)
{
    if (world_size() != 2)
        TEST_SKIP("needs 2 MPI ranks (test/t_group_mpi.sh runs it under mpirun -np 2)");
    a4nn_error err;
    a4nn_genome g;
    if (a4nn_genome_parse("[[0,0,1,0,0,0,1],[0,0,0,0,0,0,0],[0,0,1,0,0,0,0]]", 0, 4, &g, &err) !=
        A4NN_OK)
        fail_msg("genome: %s", err.msg);
    a4nn_arch *a = malloc(sizeof *a);
    if (a4nn_arch_build(&g, 1, 12, 12, 3, 2, a, &err) != A4NN_OK)
        fail_msg("arch: %s", err.msg);
    /* BatchNorm statistics over 16 instead of 32 images: close, not equal */
    compare_group(a, 0.05, 0.05);
    compare_evaluation(a);
    free(a);
}

static void test_group_single_and_errors(void **state)
{
    a4nn_error err;
    const int n = world_size();
    /* groups of one: the allreduce leaves the gradients alone */
    a4nn_group *g = a4nn_group_create(MPI_COMM_WORLD, 1, A4NN_GROUP_MPI, &err);
    assert_non_null(g);
    assert_int_equal(a4nn_group_size(g), 1);
    assert_int_equal(a4nn_group_rank(g), 0);
    float v[3] = {1, -2, 3};
    assert_int_equal(a4nn_group_allreduce(v, 3, g), A4NN_OK);
    assert_true(v[0] == 1 && v[1] == -2 && v[2] == 3);
    a4nn_train_config cfg;
    a4nn_train_config_defaults(&cfg);
    a4nn_group_configure(g, &cfg);
    assert_int_equal(cfg.group_size, 1);
    assert_ptr_equal(cfg.allreduce_ctx, g);
    a4nn_group_free(g);
    /* a group size that does not divide the ranks is refused */
    assert_null(a4nn_group_create(MPI_COMM_WORLD, n + 1, A4NN_GROUP_MPI, &err));
    assert_non_null(strstr(err.msg, "groups of"));
    assert_null(a4nn_group_create(MPI_COMM_WORLD, 0, A4NN_GROUP_MPI, &err));
#ifndef A4NN_CUDA
    assert_null(a4nn_group_create(MPI_COMM_WORLD, 1, A4NN_GROUP_NCCL, &err));
#endif
    /* GPU binding: a clear error without a GPU, a valid device with one */
    int dev = -1;
    if (a4nn_gpu_count() == 0) {
        assert_int_equal(a4nn_gpu_select(MPI_COMM_WORLD, 1, &dev, &err), A4NN_ERR);
        assert_non_null(strstr(err.msg, "no GPU"));
    } else {
        assert_int_equal(a4nn_gpu_select(MPI_COMM_WORLD, 1, &dev, &err), A4NN_OK);
        assert_true(dev >= 0 && dev < a4nn_gpu_count());
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_single_and_errors),
        cmocka_unit_test(test_group_plain_net),
        cmocka_unit_test(test_group_decoded_net),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    MPI_Finalize();
    return rc;
}
