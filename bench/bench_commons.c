/* Cost of the durable commons as runs grow: for commons of 100, 1,000 and
 * 10,000 models (25-epoch curves, as the replay backend records them), the
 * fsync'd journal append per finished model, the snapshot (copy + fold +
 * fsync + rename) of the whole commons, and what a snapshot every max(1 s, 20 x its time)
 * (the default) adds per model at a given finishing rate. The peer is the
 * naive atomic design: a full snapshot after every model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "a4nn/commons.h"

static void fake_model(a4nn_model_record *r, int id, a4nn_epoch_row *rows, a4nn_pred_row *preds)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    snprintf(r->genome, sizeof r->genome,
             "[[%d, 0, 1, 0, 1, 1, 0], [1, 1, 0, 0, 0, 0, 1], [0, 1, 1, 0, 0, 1, 0]]", id % 2);
    r->mflops = 900 + id % 97, r->params = 100000 + id;
    r->epochs_trained = r->epochs_run = 25;
    strcpy(r->stop_reason, "budget");
    r->fitness = r->last_val_acc = 90 + (id % 10) * 0.1;
    r->predicted = NAN;
    for (int e = 0; e < 25; e++) {
        rows[e] = (a4nn_epoch_row){e, 80 + e * 0.5, 79 + e * 0.5, 0.5 - e * 0.01, 1.0};
        preds[e] = (a4nn_pred_row){e, 95.0, 0.5, 0};
    }
    r->n_epochs = r->n_preds = 25;
    r->epochs = rows, r->preds = preds;
    r->n_neighbours = 3;
    for (int k = 0; k < 3; k++)
        r->neighbours[k] = (a4nn_neighbour_row){id > k ? id - k - 1 : 0, 0.9, 2, 3, 90};
}

static void die_on(int rc, a4nn_error *err)
{
    if (rc != A4NN_OK) {
        fprintf(stderr, "bench_commons: %s\n", err->msg);
        exit(1);
    }
}

int main(void)
{
    char dir[] = "/tmp/a4nn-bench-commons-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    static a4nn_epoch_row rows[25];
    static a4nn_pred_row preds[25];
    a4nn_error err;
    printf("%8s %14s %14s %10s %18s %18s\n", "models", "append ms", "snapshot ms", "file MB",
           "default, 1 model/s", "snapshot per model");
    const int sizes[] = {100, 1000, 10000};
    for (int s = 0; s < 3; s++) {
        const int n = sizes[s];
        char path[128];
        snprintf(path, sizeof path, "%s/commons-%d.h5", dir, n);
        setenv("A4NN_COMMONS_SNAPSHOT_SECONDS", "1e9", 1); /* snapshots only when asked */
        a4nn_commons *c = a4nn_commons_create(path, "[run]\nseed = 1\n", 1, &err);
        if (!c)
            die_on(A4NN_ERR, &err);
        a4nn_model_record r;
        double t0 = a4nn_now();
        for (int i = 0; i < n; i++) {
            fake_model(&r, i, rows, preds);
            die_on(a4nn_commons_write_model(c, &r, &err), &err);
        }
        double append = (a4nn_now() - t0) / n;
        die_on(a4nn_commons_close(c, &err), &err); /* folds the journal in */
        /* one snapshot of the n-model commons: append one more model, then
         * a read folds it in (copy, apply, fsync, rename) */
        c = a4nn_commons_open(path, &err);
        if (!c)
            die_on(A4NN_ERR, &err);
        double snap = 1e9;
        for (int rep = 0; rep < 3; rep++) {
            fake_model(&r, n + rep, rows, preds);
            die_on(a4nn_commons_write_model(c, &r, &err), &err);
            double t1 = a4nn_now();
            free(a4nn_commons_config_text(c, &err));
            double t = a4nn_now() - t1;
            snap = t < snap ? t : snap;
        }
        die_on(a4nn_commons_close(c, &err), &err);
        struct stat sb;
        stat(path, &sb);
        /* default: a snapshot at most every max(1 s, 20 x its own time) */
        double interval = fmax(1.0, 20 * snap);
        printf("%8d %14.3f %14.1f %10.2f %15.3f ms %15.1f ms\n", n, 1e3 * append, 1e3 * snap,
               sb.st_size / 1e6, 1e3 * (append + snap / interval), 1e3 * (append + snap));
        unlink(path);
    }
    rmdir(dir);
    printf("append: one fsync'd journal record per finished model; snapshot: copy, fold, fsync,\n"
           "rename of the whole commons. Per model at 1 model/s with the default interval, max(1 s, 20 x snapshot),\n"
           "and with the naive design (a snapshot after every model) for comparison.\n");
    return 0;
}
