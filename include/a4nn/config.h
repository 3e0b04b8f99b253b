/* config: the run configuration of `a4nn run`, read from an INI file (libinih)
 * with `--section.key=value` overrides. Every key has a type and a range;
 * unknown keys and bad values are errors that name the key. */
#ifndef A4NN_CONFIG_H
#define A4NN_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "a4nn/penguin.h"
#include "a4nn/util.h"

#define A4NN_PATH_MAX 1024
#define A4NN_PENGUIN_KEYS_MAX 16
/* models one search may evaluate (ids and the dispatched list stay bounded) */
#define A4NN_MAX_MODELS 10000000

typedef enum { A4NN_MODE_GENERATIONAL = 0, A4NN_MODE_ASYNC = 1 } a4nn_run_mode;
typedef enum {
    A4NN_WORKER_CPU = 0,
    A4NN_WORKER_CUDA = 1,
    A4NN_WORKER_REPLAY = 2,
    A4NN_WORKER_AUTO = 3 /* cuda when built with it and a GPU is visible, else cpu */
} a4nn_worker_backend;

typedef struct {
    /* [run] */
    uint64_t seed;
    char dir[A4NN_PATH_MAX];
    a4nn_run_mode mode;
    /* [search] */
    int pop_size, n_offspring, n_gens, n_phases, n_nodes, init_channels;
    double crossover_prob, mutation_prob; /* mutation_prob < 0: 1 / n_bits */
    long budget_epochs;  /* > 0: the search ends once this many epochs are spent */
    double budget_hours; /* > 0: ... or once this much wall time has passed */
    /* [train] */
    int epochs, batch, threads;
    double lr, momentum, weight_decay, clip;
    /* [data] */
    char file[A4NN_PATH_MAX];
    long train_count, val_count; /* < 0: the whole split */
    int synthetic;               /* 1: the nn module's synthetic set instead of file */
    int synthetic_size;          /* synthetic image side */
    /* [penguin] on/off; other keys forwarded to a4nn_penguin_config_set */
    int penguin;
    int n_penguin_keys;
    char penguin_key[A4NN_PENGUIN_KEYS_MAX][32];
    char penguin_value[A4NN_PENGUIN_KEYS_MAX][64];
    /* [worker] */
    a4nn_worker_backend backend;
    char replay_curves[A4NN_PATH_MAX];
    double replay_epoch_seconds;
    int checkpoint_every; /* 0: no checkpoints */
    int group_size;       /* worker ranks that train one model together */
    int gpu_share;        /* allow several workers on one GPU */
    int cpu_kernels; /* worker.cpu_kernels: an a4nn_cpu_kernels (auto, direct, own, winograd) */
    int tf32;             /* TF32 tensor cores (cuda backend) */
    /* cuda backend diagnostics and cuDNN choices (a4nn_cuda_options) */
    int cuda_profile, cuda_verbose, cudnn_bn, cudnn_exact;
    /* [analytics] */
    int analytics_ranks;
} a4nn_config;

void a4nn_config_defaults(a4nn_config *c);
/* Sets "section.key" from text; errors name the key. */
int a4nn_config_set(a4nn_config *c, const char *section, const char *key, const char *value,
                    a4nn_error *err);
/* Reads an INI file over the current values. */
int a4nn_config_read(a4nn_config *c, const char *path, a4nn_error *err);
/* Applies one "--section.key=value" argument ("--penguin=on|off" is
 * penguin.enabled). */
int a4nn_config_override(a4nn_config *c, const char *arg, a4nn_error *err);
/* Cross-key checks (e.g. replay needs replay_curves), derived counts (models
 * at most A4NN_MAX_MODELS) and genome length (n_phases x n_nodes). */
int a4nn_config_validate(const a4nn_config *c, a4nn_error *err);
/* Writes the fully resolved configuration as INI text (readable back). */
void a4nn_config_write(const a4nn_config *c, FILE *out);
/* The same text in a malloc'd string. */
char *a4nn_config_text(const a4nn_config *c);
/* The PENGUIN configuration of a run: defaults, budget = train.epochs, then
 * the [penguin] keys. */
int a4nn_config_penguin(const a4nn_config *c, a4nn_penguin_config *pc, a4nn_error *err);
/* Total number of models a search evaluates: pop_size + n_offspring * n_gens
 * (without a compute budget, which replaces the count). */
int a4nn_config_total_models(const a4nn_config *c);

const char *a4nn_run_mode_name(a4nn_run_mode m);
const char *a4nn_worker_backend_name(a4nn_worker_backend b);

#endif
