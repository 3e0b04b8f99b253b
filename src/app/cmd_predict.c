/* a4nn predict: a saved network's class probabilities on a dataset split. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/data.h"
#include "a4nn/nn.h"
#include "app.h"
#include "model.h"

static void predict_usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn predict --checkpoint MODEL.h5 --data FILE.h5 [options]\n\n"
            "Runs a saved network (a4nn export --format pytorch, a4nn train --save) on a\n"
            "dataset split and prints its accuracy; -o writes one CSV row per image: image,\n"
            "label, predicted class, the logits and the class probabilities (softmax).\n\n"
            "  --checkpoint FILE    the model file\n"
            "  --data FILE.h5       an XFEL dataset (a4nn-xfelsim)\n"
            "  --split test|train   (default test)\n"
            "  --count N            the first N images (default all)\n"
            "  -o FILE.csv          per-image output (default: none)\n"
            "  --backend cpu|cuda|auto, --threads T   (default cpu, all cores)\n");
}

int cmd_predict(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        predict_usage(stdout);
        return 0;
    }
    const char *model_path = NULL, *data_path = NULL, *split = "test", *csv_path = NULL,
               *backend = "cpu";
    long count = -1;
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc)
                a4nn_die("predict: -o needs a file name");
            csv_path = argv[++i];
            continue;
        }
        char key[32];
        const char *v;
        if (!app_option(argc, argv, &i, key, sizeof key, &v, "predict"))
            a4nn_die("predict: unexpected argument '%s' (see a4nn predict --help)", argv[i]);
        char *end;
        if (!strcmp(key, "--checkpoint"))
            model_path = v;
        else if (!strcmp(key, "--data"))
            data_path = v;
        else if (!strcmp(key, "--split")) {
            if (strcmp(v, "test") && strcmp(v, "train"))
                a4nn_die("predict: --split is test or train, not '%s'", v);
            split = v;
        } else if (!strcmp(key, "--count")) {
            count = strtol(v, &end, 10);
            if (!*v || *end || count < 1)
                a4nn_die("predict: bad value '%s' for --count (a positive integer)", v);
        } else if (!strcmp(key, "--output"))
            csv_path = v;
        else if (!strcmp(key, "--backend"))
            backend = v;
        else if (!strcmp(key, "--threads")) {
            threads = (int)strtol(v, &end, 10);
            if (!*v || *end || threads < 0)
                a4nn_die("predict: bad value '%s' for --threads", v);
        } else
            a4nn_die("predict: unknown option '%s' (see a4nn predict --help)", key);
    }
    if (!model_path || !data_path) {
        predict_usage(stderr);
        a4nn_die("predict: --checkpoint and --data are required");
    }
    a4nn_error err = {{0}};
    app_model m;
    if (app_model_read(model_path, &m, &err) != A4NN_OK)
        a4nn_die("predict: %s", err.msg);
    a4nn_split s = {0};
    if (a4nn_dataset_read(data_path, split, 0, count, 1, &s, &err) != A4NN_OK)
        a4nn_die("predict: %s", err.msg);
    if (s.c != m.in_c || s.h != m.in_h || s.w != m.in_w)
        a4nn_die("predict: %s has %dx%dx%d images, the network takes %dx%dx%d", data_path, s.c,
                 s.h, s.w, m.in_c, m.in_h, m.in_w);
    a4nn_backend *be = a4nn_backend_create(backend, threads, 0, &err);
    if (!be)
        a4nn_die("predict: %s", err.msg);
    const int batch = 128;
    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    a4nn_net *net = app_model_net(&m, be, batch, arch, &err);
    if (!net)
        a4nn_die("predict: %s: %s", model_path, err.msg);
    FILE *csv = NULL;
    if (csv_path && !(csv = fopen(csv_path, "w")))
        a4nn_die("predict: cannot write %s: %s", csv_path, strerror(errno));
    const int k = m.n_classes;
    if (csv) {
        fputs("image,label,predicted", csv);
        for (int j = 0; j < k; j++)
            fprintf(csv, ",logit_%d", j);
        for (int j = 0; j < k; j++)
            fprintf(csv, ",prob_%d", j);
        fputc('\n', csv);
    }
    const size_t sample = (size_t)s.c * s.h * s.w;
    float *x = be->alloc(be->ctx, sample * batch), *logits = a4nn_malloc(sizeof(float) * (size_t)batch * k);
    if (!x)
        a4nn_die("predict: out of %s memory", be->name);
    long correct = 0;
    for (long i0 = 0; i0 < s.n; i0 += batch) {
        int n = (int)(s.n - i0 < batch ? s.n - i0 : batch);
        be->upload(be->ctx, x, s.images + (size_t)i0 * sample, sample * n);
        const float *y = a4nn_net_forward(net, x, n, 0, &err);
        if (!y)
            a4nn_die("predict: %s", err.msg);
        be->download(be->ctx, logits, y, (size_t)n * k);
        for (int i = 0; i < n; i++) {
            const float *l = logits + (size_t)i * k;
            int best = 0;
            double mx = l[0], z = 0;
            for (int j = 1; j < k; j++)
                if (l[j] > l[best])
                    best = j, mx = l[j];
            for (int j = 0; j < k; j++)
                z += exp(l[j] - mx);
            correct += best == s.labels[i0 + i];
            if (!csv)
                continue;
            fprintf(csv, "%ld,%d,%d", i0 + i, s.labels[i0 + i], best);
            for (int j = 0; j < k; j++)
                fprintf(csv, ",%.9g", l[j]);
            for (int j = 0; j < k; j++)
                fprintf(csv, ",%.9g", exp(l[j] - mx) / z);
            fputc('\n', csv);
        }
    }
    if (csv && fclose(csv) != 0)
        a4nn_die("predict: cannot write %s: %s", csv_path, strerror(errno));
    printf("accuracy %.2f %% on %ld image%s (%s split of %s)\n", s.n ? 100.0 * correct / s.n : 0.0,
           s.n, s.n == 1 ? "" : "s", split, data_path);
    be->free(be->ctx, x);
    free(logits);
    a4nn_net_free(net);
    free(arch);
    a4nn_backend_free(be);
    a4nn_split_free(&s);
    app_model_free(&m);
    return 0;
}
