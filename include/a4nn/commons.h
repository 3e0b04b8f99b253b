/* commons: the run's HDF5 data commons (written by rank 0 only), per-model
 * checkpoints (written by workers) and what a resumed run reads back.
 *
 *   /                       attributes: config (text), seed, version, start_time
 *   /models/<id:06d>/       attributes: id, genome, mflops, params, epochs_trained,
 *                           epochs_run, stop_reason, fitness, predicted, last_val_acc, worker,
 *                           start_time, end_time, seconds
 *     epochs                compound table (epoch, train_acc, val_acc, loss, seconds)
 *     predictions           compound table (epoch, prediction, uncertainty, converged)
 *     neighbours            compound table (id, similarity, hamming, graph_edit, fitness):
 *                           the nearest architectures among the models finished
 *                           before this one (architecture tracker below)
 *   /search                 attributes: generation, rng (4 x uint64), population (ids)
 *     dispatched            genome text of every model sent to a worker, row = model id
 *                           (asynchronous mode: a resumed run re-sends the unfinished ones)
 *
 * A model's group is written, in one go, when it has finished, and the file is
 * flushed after every model: a job killed at any point keeps every finished
 * model. */
#ifndef A4NN_COMMONS_H
#define A4NN_COMMONS_H

#include <stddef.h>
#include <stdint.h>

#include "a4nn/util.h"

typedef struct {
    int epoch;
    double train_acc, val_acc, loss, seconds;
} a4nn_epoch_row;

typedef struct {
    int epoch;
    double prediction, uncertainty;
    int converged;
} a4nn_pred_row;

/* One of a model's nearest already-trained architectures (tracker below). */
#define A4NN_NEIGHBOURS_MAX 3
typedef struct {
    int id;
    double similarity; /* LCS similarity of the flattened genomes */
    int hamming, graph_edit;
    double fitness;
} a4nn_neighbour_row;

typedef struct {
    int id;
    char genome[256];
    double mflops;
    long params;
    int epochs_trained;   /* epochs of the learning curve (up to the stop decision) */
    int epochs_run;       /* epochs the worker trained (>= epochs_trained) */
    char stop_reason[32]; /* "budget" | "converged" */
    double fitness;       /* converged prediction, else last val acc (percent) */
    double predicted;     /* last prediction, NAN when none */
    double last_val_acc;
    int worker;
    double start_time, end_time, seconds; /* unix seconds; training seconds */
    int n_epochs, n_preds;
    a4nn_epoch_row *epochs;
    a4nn_pred_row *preds;
    int n_neighbours; /* nearest models trained before this one, most similar first */
    a4nn_neighbour_row neighbours[A4NN_NEIGHBOURS_MAX];
} a4nn_model_record;

void a4nn_model_record_free(a4nn_model_record *r);

typedef struct a4nn_commons a4nn_commons;

/* Creates a new commons (fails when the file exists). */
a4nn_commons *a4nn_commons_create(const char *path, const char *config_text, uint64_t seed,
                                  a4nn_error *err);
/* Opens an existing commons for appending (resume). */
a4nn_commons *a4nn_commons_open(const char *path, a4nn_error *err);
/* The config text stored at creation (caller frees). */
char *a4nn_commons_config_text(a4nn_commons *c, a4nn_error *err);
/* Writes one finished model and flushes the file. */
int a4nn_commons_write_model(a4nn_commons *c, const a4nn_model_record *r, a4nn_error *err);
/* Reads every finished model, sorted by id (caller frees each and the array). */
int a4nn_commons_read_models(a4nn_commons *c, a4nn_model_record **out, int *n, a4nn_error *err);
/* Search state after a generation (or after each model in async mode). */
int a4nn_commons_write_search(a4nn_commons *c, int generation, const uint64_t rng[4],
                              const int *population, int n, a4nn_error *err);
/* Records model id as dispatched with its genome, and the search's RNG state
 * after making it (asynchronous mode; flushed). */
int a4nn_commons_write_dispatch(a4nn_commons *c, int id, const char *genome,
                                const uint64_t rng[4], a4nn_error *err);
/* The dispatched genomes (row = id; empty strings for ids never recorded;
 * caller frees), and the last recorded RNG state when *has_rng. */
int a4nn_commons_read_dispatch(a4nn_commons *c, char (**genomes)[256], int *n, uint64_t rng[4],
                               int *has_rng, a4nn_error *err);
int a4nn_commons_close(a4nn_commons *c, a4nn_error *err);

/* ---- reading a commons back (src/commons/read.c) ------------------------- */
#include "a4nn/config.h"

/* The one fitness rule: the first converged prediction, else the last
 * measured validation accuracy (percent). */
double a4nn_fitness_rule(const a4nn_pred_row *preds, int n_preds, double last_val_acc);

/* Everything a commons file holds, read-only (a4nn report, export, status). */
typedef struct {
    char name[256];    /* run name attribute; empty when absent */
    char version[64];  /* a4nn version that wrote it */
    long long seed;    /* -1 when absent */
    double start_time; /* NaN when absent */
    char *config;      /* the stored configuration text; NULL when absent */
    int budget;        /* epochs per model: attribute epochs/budget/epoch_budget,
                        * else the configuration's train.epochs, else the
                        * longest curve */
    int n_models;
    a4nn_model_record *models; /* sorted by id; epoch and prediction rows sorted
                                * by epoch, a repeated epoch (resumed model)
                                * keeping its last row; fitness as stored, else
                                * a4nn_fitness_rule */
} a4nn_commons_contents;

/* Reads a commons file. Attributes and table fields are matched by name (a
 * few alternative names accepted; missing ones read as NaN), and a file no
 * run could have written is refused with the reason: no /models group, a
 * model without an id or an epochs table, a stored id twice, MFLOPs not a
 * positive number, fitness or an accuracy not in [0, 100] (NaN included), a
 * negative epoch number or duration, an end before the start. */
int a4nn_commons_read_file(const char *path, a4nn_commons_contents *c, a4nn_error *err);
void a4nn_commons_contents_free(a4nn_commons_contents *c);

/* The run configuration stored in a commons (its config attribute): the
 * defaults, then every key of text; keys this version does not know are
 * skipped and counted in *n_ignored (may be NULL). A4NN_ERR when text is
 * NULL or not INI. */
int a4nn_commons_config(const char *text, a4nn_config *cfg, int *n_ignored, a4nn_error *err);

/* ---- checkpoints ----------------------------------------------------------
 * One file per model, replaced atomically (write + rename): the model id, its
 * genome (a checkpoint of another genome is never loaded), the next epoch to
 * train, the epochs so far and the trainer state floats. */
typedef struct {
    int model_id, next_epoch;
    char genome[256];
} a4nn_checkpoint_info;
int a4nn_checkpoint_write(const char *path, const a4nn_checkpoint_info *info,
                          const a4nn_epoch_row *rows, int n_rows, const float *state,
                          size_t n_state, a4nn_error *err);
/* Returns A4NN_OK with *found = 0 when there is no checkpoint file. */
int a4nn_checkpoint_read(const char *path, int *found, a4nn_checkpoint_info *info,
                         a4nn_epoch_row **rows, int *n_rows, float **state, size_t *n_state,
                         a4nn_error *err);
/* checkpoints/model-<id:06d>.ckpt under dir. */
void a4nn_checkpoint_path(const char *dir, int model_id, char *buf, size_t cap);

/* ---- architecture tracker ---- */
/* The architecture tracker ("NN data commons" of A4NN). Genomes are
 * compared as binary connectivity arrays and as decoded phase graphs, and
 * each new model is related to its nearest already-trained architectures.
 *
 * Definitions (a, b: genomes; x, y: their flattened bit arrays, phase-major):
 *  - LCS similarity: |LCS(x, y)| / max(|x|, |y|), the length of the longest
 *    common (not necessarily contiguous) subsequence of the two arrays,
 *    normalised to [0, 1]; 1 for identical arrays. Distance = 1 - similarity.
 *  - Hamming distance: number of positions where x and y differ; arrays of
 *    different lengths count every position of the longer tail as differing.
 *  - Graph edit distance: each phase p is decoded with a4nn_phase_decode into
 *    a labelled graph whose vertices are 0 (phase input), 1..n (nodes), n+1
 *    (phase output) and whose edges are (u -> v) for every u in deps[v]. An
 *    inactive phase (no node-connection bit set) is the empty graph, as it is
 *    dropped from the network. A vertex is present when it has an edge.
 *    Vertices keep their labels (node k of a is node k of b), so the unit-cost
 *    edit distance is exact: GED = sum over phases of |V_a xor V_b| +
 *    |E_a xor E_b| (vertex and edge insertions/deletions). Phases present in
 *    only one genome compare against the empty graph. */
#include "a4nn/search.h"

/* Length of the longest common subsequence of two byte arrays. */
int a4nn_tracker_lcs_len(const uint8_t *x, int nx, const uint8_t *y, int ny);

/* LCS similarity in [0, 1] of the flattened genomes (1 when both are empty). */
double a4nn_tracker_lcs_similarity(const a4nn_genome *a, const a4nn_genome *b);

/* Hamming distance of the flattened genomes. */
int a4nn_tracker_hamming(const a4nn_genome *a, const a4nn_genome *b);

/* Graph edit distance of the decoded phases (definition above). */
int a4nn_tracker_graph_edit(const a4nn_genome *a, const a4nn_genome *b);

typedef enum {
    A4NN_DIST_LCS = 0, /* 1 - LCS similarity */
    A4NN_DIST_HAMMING, /* Hamming distance */
    A4NN_DIST_GED      /* graph edit distance */
} a4nn_distance_kind;

/* Distance of the given kind between two genomes. */
double a4nn_tracker_distance(const a4nn_genome *a, const a4nn_genome *b, a4nn_distance_kind kind);

/* One neighbour of a new architecture among the known ones. */
typedef struct {
    int index;         /* index into the known array */
    double similarity; /* LCS similarity, [0, 1] */
    int hamming;
    int graph_edit;
    double fitness; /* the known model's fitness (copied from the input) */
} a4nn_neighbour;

/* The k nearest known architectures of g (highest LCS similarity first; ties
 * broken by smaller graph edit distance, then smaller Hamming distance, then
 * lower index). Writes min(k, n) entries to out and returns that count, or
 * A4NN_ERR for bad arguments (k < 0, n < 0, NULL arrays when n > 0).
 * fitness may be NULL (then 0 is stored). */
int a4nn_tracker_nearest(const a4nn_genome *g, const a4nn_genome *known, const double *fitness,
                         int n, int k, a4nn_neighbour *out, a4nn_error *err);

/* Full n x n distance matrix (row-major, caller-allocated). */
int a4nn_tracker_distance_matrix(const a4nn_genome *g, int n, a4nn_distance_kind kind, double *d,
                                 a4nn_error *err);

/* Classical multidimensional scaling of an n x n distance matrix to dim
 * (1..3) coordinates per point (xy, row-major n x dim), through the
 * eigen-decomposition of the double-centred squared distances (GSL
 * gsl_eigen_symmv). Axes with non-positive eigenvalues are set to 0. The
 * sign of each axis is fixed so that its largest-magnitude coordinate is
 * positive, making the embedding reproducible. */
int a4nn_tracker_mds(const double *d, int n, int dim, double *xy, a4nn_error *err);

#endif
