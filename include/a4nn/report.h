/* report: reads a run directory's data commons and turns it into a
 * self-contained HTML report (static inline SVG plots, the data as embedded
 * JSON, JavaScript only for sorting and hover), a terminal summary, and
 * CSV/JSON exports.
 *
 * It reads DIR/commons.h5 through the commons reader
 * (a4nn_commons_read_file in include/a4nn/commons.h), which describes the
 * layout and refuses inconsistent files; when a commons stores no neighbours,
 * each model's 3 most similar models with a lower id are derived here. */
#ifndef A4NN_REPORT_H
#define A4NN_REPORT_H

#include <stdio.h>

#include "a4nn/commons.h"
#include "a4nn/search.h"
#include "a4nn/util.h"

/* The commons' rows (include/a4nn/commons.h). */
typedef a4nn_epoch_row a4nn_report_epoch;
typedef a4nn_pred_row a4nn_report_pred;
typedef a4nn_neighbour_row a4nn_report_nb;

typedef struct {
    int id;
    char name[64];
    char genome_text[512];
    a4nn_genome genome;
    int has_genome;
    double mflops;
    long params;
    char stop_reason[64];
    int worker;
    double start_time, end_time; /* seconds (any common origin); NaN if unknown */
    int n_epochs;
    a4nn_report_epoch *epochs; /* sorted by epoch, unique */
    int n_preds;
    a4nn_report_pred *preds; /* sorted by epoch, unique */
    int n_nb;
    a4nn_report_nb *nb;
    /* derived by a4nn_report_run_load */
    double fitness;       /* stored, else converged prediction, else last val acc */
    double last_val;      /* last measured validation accuracy (%) */
    int epochs_trained;   /* number of epochs with a row */
    int converged_epoch;  /* first epoch whose prediction converged, -1 if none */
    double train_seconds; /* sum of per-epoch seconds */
    int on_front;         /* 1 when on the run's Pareto front */
    double map_x, map_y;  /* similarity map (classical MDS of 1 - LCS similarity) */
} a4nn_report_model;

typedef struct {
    char dir[1024];
    char name[256]; /* run name (attribute), else the directory's base name */
    char version[64];
    long long seed;
    double start_time;
    char *config; /* config text, may be NULL */
    int budget;   /* epoch budget per model */
    int n_models;
    a4nn_report_model *models; /* sorted by id */
} a4nn_report_run;

typedef struct {
    int models;
    long epochs_used, epochs_budget;
    double saved_pct;       /* 100 * (1 - used / budget) */
    double seconds_used;    /* sum of training seconds */
    double seconds_saved;   /* estimate: skipped epochs x that model's mean epoch time */
    double best_accuracy;   /* highest fitness */
    double best_val;        /* highest last measured validation accuracy */
    int front_size;
    double hypervolume;     /* of (100 - fitness, MFLOPs), reference (100, ref_mflops) */
    double ref_mflops;
    int workers;            /* distinct worker ranks */
    double makespan;        /* last end - first start, NaN when times are unknown */
    double idle_fraction;   /* 1 - busy / (workers x makespan), NaN when unknown */
} a4nn_report_summary;

/* Loads DIR/commons.h5 (or DIR itself when it is an .h5 file). */
int a4nn_report_run_load(const char *dir, a4nn_report_run **out, a4nn_error *err);
void a4nn_report_run_free(a4nn_report_run *run);

/* Marks on_front (minimise 100 - fitness and MFLOPs) and computes the map. */
int a4nn_report_run_analyse(a4nn_report_run *run, a4nn_error *err);

/* 2-D hypervolume dominated by points (f1, f2), both minimised, bounded by
 * the reference point (r1, r2); points outside the box are ignored. */
double a4nn_report_hypervolume(const double *f1, const double *f2, int n, double r1, double r2);

/* Summary numbers of one run; ref_mflops <= 0 means 1.1 x the run's max. */
void a4nn_report_summarize(const a4nn_report_run *run, double ref_mflops, a4nn_report_summary *s);
void a4nn_report_summary_print(const a4nn_report_run *run, const a4nn_report_summary *s, FILE *out);

/* Exports. CSV: one row per (model, epoch) with the model's columns repeated
 * and that epoch's prediction; JSON: everything, one object per run. */
int a4nn_report_write_csv(FILE *out, const a4nn_report_run *run, a4nn_error *err);
int a4nn_report_write_json(FILE *out, a4nn_report_run *const *runs, int n_runs, double ref_mflops,
                           a4nn_error *err);

/* The self-contained HTML report of one or more runs side by side. */
int a4nn_report_write_html(FILE *out, a4nn_report_run *const *runs, int n_runs, a4nn_error *err);

#endif
