/* a4nn status: where a search stands, while it runs and after. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "a4nn/commons.h"
#include "a4nn/report.h"
#include "app.h"

static void status_usage(FILE *out)
{
    fprintf(out, "usage: a4nn status DIR\n\n"
                 "Reads a run directory (DIR/commons.h5, DIR/checkpoints) while the search runs\n"
                 "or after it: models done, in flight and pending, epochs trained and saved by\n"
                 "early stops, the best model so far, the current Pareto front and an estimate of\n"
                 "the time left (from the measured time per model and the worker count).\n");
}

static void duration(char *buf, size_t cap, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, cap, "unknown");
    else if (s < 60)
        snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static void iso_time(char *buf, size_t cap, double unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tmv;
    if (!isfinite(unix_s) || !gmtime_r(&t, &tmv))
        snprintf(buf, cap, "unknown");
    else
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

/* Models with a checkpoint that have not finished: trained right now (or
 * interrupted, when the run is not running). */
static int in_flight(const char *dir, const a4nn_report_run *run)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int id;
        char tail;
        if (sscanf(e->d_name, "model-%d.ckp%c", &id, &tail) != 2 || tail != 't')
            continue;
        int done = 0;
        for (int i = 0; i < run->n_models && !done; i++)
            done = run->models[i].id == id;
        n += !done;
    }
    closedir(d);
    return n;
}

int cmd_status(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        status_usage(stdout);
        return 0;
    }
    if (argc != 2) {
        status_usage(stderr);
        a4nn_die(argc < 2 ? "status: no run directory given" : "status: one run directory at a time");
    }
    const char *dir = argv[1];
    a4nn_error err = {{0}};
    a4nn_report_run *run = NULL;
    if (a4nn_report_run_load(dir, &run, &err) != A4NN_OK)
        a4nn_die("status: %s", err.msg);
    a4nn_config cfg;
    int total = 0;
    if (a4nn_commons_config(run->config, &cfg, NULL, &err) == A4NN_OK && cfg.budget_epochs <= 0 &&
        cfg.budget_hours <= 0)
        total = a4nn_config_total_models(&cfg);
    a4nn_report_summary s;
    a4nn_report_summarize(run, 0, &s);
    const int done = run->n_models, flying = in_flight(dir, run);
    const int pending = total > done + flying ? total - done - flying : 0;
    const int finished = total > 0 && done >= total;

    printf("run %s (seed %lld, a4nn %s): %s\n", dir, run->seed, run->version[0] ? run->version : "?",
           finished ? "finished" : "not finished");
    printf("  models      %d done, %d in flight, %d pending", done, flying, pending);
    if (total > 0)
        printf(" (of %d)\n", total);
    else
        printf(" (the search ends on its compute budget)\n");
    long saved = s.epochs_budget - s.epochs_used;
    printf("  epochs      %ld trained, %ld saved by early stops (%.1f %% of %ld)\n", s.epochs_used,
           saved, s.saved_pct, s.epochs_budget);
    const a4nn_report_model *best = NULL;
    for (int i = 0; i < run->n_models; i++)
        if (isfinite(run->models[i].fitness) &&
            (!best || run->models[i].fitness > best->fitness ||
             (run->models[i].fitness == best->fitness && run->models[i].mflops < best->mflops)))
            best = &run->models[i]; /* the cheaper of equals */
    if (best)
        printf("  best so far model %d: fitness %.2f %%, %.3g MFLOPs, %d epoch%s (%s)\n", best->id,
               best->fitness, best->mflops, best->epochs_trained,
               best->epochs_trained == 1 ? "" : "s", best->stop_reason);
    printf("  Pareto front %d model%s:", s.front_size, s.front_size == 1 ? "" : "s");
    for (int i = 0; i < run->n_models; i++)
        if (run->models[i].on_front)
            printf(" #%d (%.2f %%, %.3g MFLOPs)", run->models[i].id, run->models[i].fitness,
                   run->models[i].mflops);
    printf("\n");
    double t0 = INFINITY, t1 = -INFINITY, busy = 0;
    int timed = 0;
    for (int i = 0; i < run->n_models; i++) {
        const a4nn_report_model *m = &run->models[i];
        if (isfinite(m->start_time) && isfinite(m->end_time)) {
            t0 = fmin(t0, m->start_time), t1 = fmax(t1, m->end_time);
            busy += m->end_time - m->start_time, timed++;
        }
    }
    char a[64], b[64], c[64];
    if (timed) {
        iso_time(a, sizeof a, t0), iso_time(b, sizeof b, t1);
        duration(c, sizeof c, (finished ? t1 : (double)time(NULL)) - t0);
        printf("  time        first model started %s, last finished %s, %s %s\n", a, b, c,
               finished ? "in all" : "so far");
    }
    if (!finished && timed && s.workers > 0 && total > 0) {
        /* each remaining model takes the measured mean, the workers share them */
        double per_model = busy / timed, left = (pending + 0.5 * flying) * per_model / s.workers;
        duration(a, sizeof a, left), duration(b, sizeof b, per_model);
        printf("  ETA         about %s (%s per model measured, %d worker%s)\n", a, b, s.workers,
               s.workers == 1 ? "" : "s");
    }
    a4nn_report_run_free(run);
    return 0;
}
