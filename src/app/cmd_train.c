/* a4nn train: train one genome for E epochs and print a line per epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/data.h"
#include "a4nn/config.h"
#include "a4nn/nn.h"
#include "a4nn/search.h"
#include "app.h"
#include "model.h"

static void train_usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn train --genome '<genome>' [options]\n\n"
            "Trains one decoded genome and prints train/validation accuracy, loss and\n"
            "seconds per epoch.\n\n"
            "options:\n"
            "  --genome G            the genome (list per phase), required\n"
            "  --data FILE.h5        an XFEL dataset (a4nn-xfelsim); trains on /train,\n"
            "                        validates on /test\n"
            "  --synthetic N         use N built-in synthetic images (default 512; 1/4 more\n"
            "                        for validation)\n"
            "  --size HxW            synthetic image size (default 16x16)\n"
            "  --epochs E            epochs (default 5; the cosine schedule spans them)\n"
            "  --batch B             batch size (default 128)\n"
            "  --lr X                initial learning rate (default 0.025)\n"
            "  --phases N            phases the genome must have (default 3)\n"
            "  --nodes N             nodes per phase (default 4)\n"
            "  --init-channels C     channels of the first phase (default 24)\n"
            "  --seed S              seed of weights and batch order (default 1)\n"
            "  --threads T           CPU threads (default: all cores)\n"
            "  --backend cpu|cuda|auto  (default auto)\n"
            "  --save FILE.h5        write the trained network (a4nn predict, a4nn_model.py)\n"
            "  --csv                 CSV output\n");
}

static long parse_long(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi)
        a4nn_die("train: bad value '%s' for %s (expected an integer in %ld..%ld)", s, opt, lo,
                 hi);
    return v;
}

int cmd_train(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        train_usage(stdout);
        return 0;
    }
    const char *genome_text = NULL, *backend = "auto", *data_path = NULL, *save_path = NULL;
    long n_synth = 512, seed = 1;
    a4nn_config run; /* the search's defaults: one place */
    a4nn_config_defaults(&run);
    int h = 16, w = 16, threads = 0, csv = 0;
    int init_channels = run.init_channels, phases = run.n_phases, nodes = run.n_nodes;
    a4nn_train_config cfg;
    a4nn_train_config_defaults(&cfg);
    cfg.epochs = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--csv")) {
            csv = 1;
            continue;
        }
        char key[64];
        const char *v;
        if (!app_option(argc, argv, &i, key, sizeof key, &v, "train"))
            a4nn_die("train: unexpected argument '%s' (see a4nn train --help)", a);
        if (!strcmp(key, "--genome"))
            genome_text = v;
        else if (!strcmp(key, "--data"))
            data_path = v;
        else if (!strcmp(key, "--save"))
            save_path = v;
        else if (!strcmp(key, "--synthetic"))
            n_synth = parse_long(key, v, 8, 10000000);
        else if (!strcmp(key, "--size")) {
            char tail;
            if (sscanf(v, "%dx%d%c", &h, &w, &tail) != 2 || h < 4 || w < 4 || h > 4096 ||
                w > 4096)
                a4nn_die("train: bad value '%s' for --size (expected HxW, e.g. 32x32)", v);
        } else if (!strcmp(key, "--epochs"))
            cfg.epochs = (int)parse_long(key, v, 1, 100000);
        else if (!strcmp(key, "--batch"))
            cfg.batch = (int)parse_long(key, v, 2, 65536);
        else if (!strcmp(key, "--lr")) {
            char *end;
            cfg.lr = strtod(v, &end);
            if (*end || !(cfg.lr > 0))
                a4nn_die("train: bad value '%s' for --lr (expected a positive number)", v);
        } else if (!strcmp(key, "--phases"))
            phases = (int)parse_long(key, v, 1, A4NN_MAX_PHASES);
        else if (!strcmp(key, "--nodes"))
            nodes = (int)parse_long(key, v, 2, A4NN_MAX_NODES);
        else if (!strcmp(key, "--init-channels"))
            init_channels = (int)parse_long(key, v, 1, 4096);
        else if (!strcmp(key, "--seed"))
            seed = parse_long(key, v, 0, 0x7fffffffL);
        else if (!strcmp(key, "--threads"))
            threads = (int)parse_long(key, v, 0, 1024);
        else if (!strcmp(key, "--backend"))
            backend = v;
        else
            a4nn_die("train: unknown option '%s' (see a4nn train --help)", key);
    }
    if (!genome_text) {
        train_usage(stderr);
        a4nn_die("train: --genome is required");
    }
    cfg.seed = (uint64_t)seed;

    a4nn_error err;
    a4nn_genome g;
    if (a4nn_genome_parse(genome_text, phases, nodes, &g, &err) != A4NN_OK)
        a4nn_die("train: %s", err.msg);

    a4nn_dataset_view train = {0}, val = {0};
    float *xi = NULL, *vi = NULL;
    uint8_t *xl = NULL, *vl = NULL;
    a4nn_split tr = {0}, te = {0};
    if (data_path) {
        if (a4nn_dataset_read(data_path, "train", 0, -1, 1, &tr, &err) != A4NN_OK ||
            a4nn_dataset_read(data_path, "test", 0, -1, 1, &te, &err) != A4NN_OK)
            a4nn_die("train: %s", err.msg);
        train = (a4nn_dataset_view){tr.images, tr.labels, tr.n, tr.c, tr.h, tr.w};
        val = (a4nn_dataset_view){te.images, te.labels, te.n, te.c, te.h, te.w};
        h = tr.h, w = tr.w;
    } else {
        long n_val = n_synth / 4 > 8 ? n_synth / 4 : 8;
        if (a4nn_synthetic_dataset(n_synth, 1, h, w, (uint64_t)seed, &xi, &xl, &err) != A4NN_OK ||
            a4nn_synthetic_dataset(n_val, 1, h, w, (uint64_t)seed + 1000003, &vi, &vl, &err) !=
                A4NN_OK)
            a4nn_die("train: %s", err.msg);
        train = (a4nn_dataset_view){xi, xl, n_synth, 1, h, w};
        val = (a4nn_dataset_view){vi, vl, n_val, 1, h, w};
    }

    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    if (a4nn_arch_build(&g, train.c, train.h, train.w, init_channels, 2, arch, &err) != A4NN_OK)
        a4nn_die("train: %s", err.msg);
    a4nn_backend *be = a4nn_backend_create(backend, threads, 0, &err);
    if (!be)
        a4nn_die("train: %s", err.msg);
    a4nn_net *net = a4nn_net_alloc(arch, cfg.batch, be, cfg.seed, &err);
    if (!net)
        a4nn_die("train: %s", err.msg);
    a4nn_trainer *t = a4nn_trainer_alloc(net, &cfg, &err);
    if (!t)
        a4nn_die("train: %s", err.msg);

    if (csv)
        printf("epoch,train_acc,val_acc,train_loss,val_loss,seconds\n");
    else
        printf("# %s on %s backend: %.2f MFLOPs, %ld parameters, %ld train / %ld validation "
               "images %dx%d\n",
               genome_text, be->name, arch->mflops, arch->params, train.n, val.n, h, w);
    for (int e = 0; e < cfg.epochs; e++) {
        a4nn_epoch_stats st;
        if (a4nn_trainer_epoch(t, &train, &val, e, &st, NULL, NULL, &err) != A4NN_OK)
            a4nn_die("train: %s", err.msg);
        if (csv)
            printf("%d,%.4f,%.4f,%.6f,%.6f,%.3f\n", e, st.train_acc, st.val_acc, st.train_loss,
                   st.val_loss, st.seconds);
        else
            printf("epoch %3d  train acc %6.2f %%  val acc %6.2f %%  loss %.4f  %.2f s\n", e,
                   st.train_acc, st.val_acc, st.train_loss, st.seconds);
        fflush(stdout);
    }
    if (save_path) {
        app_model m = {.n_phases = phases, .n_nodes = nodes, .init_channels = init_channels,
                       .in_c = train.c, .in_h = train.h, .in_w = train.w, .n_classes = 2,
                       .model_id = -1, .epochs = cfg.epochs};
        snprintf(m.genome, sizeof m.genome, "%s", genome_text);
        app_model_take_weights(&m, net);
        if (app_model_write(save_path, &m, &err) != A4NN_OK)
            a4nn_die("train: %s", err.msg);
        app_model_free(&m);
        if (!csv)
            printf("# saved %s\n", save_path);
    }
    a4nn_trainer_free(t);
    a4nn_net_free(net);
    a4nn_backend_free(be);
    free(arch);
    free(xi);
    free(xl);
    free(vi);
    free(vl);
    a4nn_split_free(&tr);
    a4nn_split_free(&te);
    return 0;
}
