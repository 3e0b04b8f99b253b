/* search: the NSGA-Net macro genome, its decoding into a network graph
 * (a4nn_arch, which the nn module builds from), FLOPs/params counting. */
#ifndef A4NN_SEARCH_H
#define A4NN_SEARCH_H

#include <stdint.h>

#include "a4nn/util.h"

#define A4NN_MAX_PHASES 6
/* The original experiments' input: single-channel 127x127 diffraction
 * patterns, to which the reference curves and their FLOPs counts refer. */
#define A4NN_REFERENCE_SIDE 127
#define A4NN_MAX_NODES 8
/* node k (1-based, k >= 2) takes k-1 bits; plus one residual bit per phase */
#define A4NN_MAX_PHASE_BITS (A4NN_MAX_NODES * (A4NN_MAX_NODES - 1) / 2 + 1)
#define A4NN_MAX_GENOME_BITS (A4NN_MAX_PHASES * A4NN_MAX_PHASE_BITS)

typedef struct {
    int n_phases;
    int n_nodes;
    uint8_t bits[A4NN_MAX_PHASES][A4NN_MAX_PHASE_BITS];
} a4nn_genome;

/* Bits per phase for n_nodes nodes: n(n-1)/2 connection bits + 1 residual. */
int a4nn_genome_phase_bits(int n_nodes);

/* Parses "[[0,0,0,1,1,0,1],[1,1,0,0,0,0,0],[0,1,1,0,0,1,0]]" (spaces allowed).
 * Every phase must have the bits of n_nodes nodes and there must be n_phases
 * phases ("genome has 1 phase, expected 3"); n_phases 0 accepts any count in
 * 1..A4NN_MAX_PHASES (for genomes read back from files of any run). A phase
 * of the wrong length, a bit other than 0/1, a stray or trailing comma or a
 * bad phase count is an error naming the problem. */
int a4nn_genome_parse(const char *text, int n_phases, int n_nodes, a4nn_genome *g,
                      a4nn_error *err);

/* Writes the list-per-phase text ("[[0, 1, ...], ...]", the reference CSV's
 * spacing). Returns the length written, or -1 when cap is too small. */
int a4nn_genome_format(const a4nn_genome *g, char *buf, int cap);

/* Validates shape and bits of a genome built in memory. */
int a4nn_genome_validate(const a4nn_genome *g, a4nn_error *err);

/* A phase is active when any node-connection bit is set (not the residual). */
int a4nn_genome_phase_active(const a4nn_genome *g, int phase);

int a4nn_genome_equal(const a4nn_genome *a, const a4nn_genome *b);
/* Flattened bit vector (phase-major) and its length. */
int a4nn_genome_flatten(const a4nn_genome *g, uint8_t *out);
int a4nn_genome_unflatten(const uint8_t *bits, int n_phases, int n_nodes, a4nn_genome *g,
                          a4nn_error *err);

/* Decoded dependency graph of one phase, as NSGA-Net's ResidualPhase builds
 * it. Vertex 0 is the phase input, 1..n_nodes the nodes, n_nodes+1 the output.
 * deps[v] lists the vertices whose outputs v concatenates, in order. */
typedef struct {
    int n_nodes;
    int n_deps[A4NN_MAX_NODES + 2];
    int deps[A4NN_MAX_NODES + 2][A4NN_MAX_NODES + 1];
} a4nn_phase_graph;

void a4nn_phase_decode(const a4nn_genome *g, int phase, a4nn_phase_graph *pg);

/* ---- the decoded network: a list of ops over SSA tensors ---------------- */

typedef enum {
    A4NN_OP_CONV,    /* kernel k, stride 1, pad p, bias optional */
    A4NN_OP_BN,      /* BatchNorm2d over channels */
    A4NN_OP_RELU,
    A4NN_OP_CONCAT,  /* channel concatenation of n_in tensors */
    A4NN_OP_MAXPOOL, /* 2x2 stride 2, floor */
    A4NN_OP_GAP,     /* global average pool to [C,1,1] */
    A4NN_OP_LINEAR   /* [C] -> [n_classes], bias */
} a4nn_op_kind;

#define A4NN_MAX_OP_INPUTS (A4NN_MAX_NODES + 1)
#define A4NN_MAX_OPS 512
#define A4NN_MAX_TENSORS 512

typedef struct {
    a4nn_op_kind kind;
    int n_in;
    int in[A4NN_MAX_OP_INPUTS]; /* tensor ids; tensor 0 is the network input */
    int out;                    /* tensor id this op produces */
    int kernel, pad, bias;      /* conv only */
    int phase;                  /* active-phase index, -1 outside phases */
    double mflops;              /* of one image's forward pass */
    long params;
} a4nn_op;

typedef struct {
    int c, h, w;
} a4nn_shape;

typedef struct {
    int n_ops;
    a4nn_op ops[A4NN_MAX_OPS];
    int n_tensors;
    a4nn_shape tensor[A4NN_MAX_TENSORS];
    int output; /* tensor id of the logits */
    int n_classes;
    int n_active_phases;
    double mflops; /* total, one image, as the original's counter */
    long params;
} a4nn_arch;

/* Decodes a genome into the network DESIGN.md describes for inputs of
 * [in_c, in_h, in_w], init_channels C (phases C, 2C, 4C) and n_classes. */
int a4nn_arch_build(const a4nn_genome *g, int in_c, int in_h, int in_w, int init_channels,
                    int n_classes, a4nn_arch *arch, a4nn_error *err);

/* Human-readable layer list, one op a line. */
void a4nn_arch_print(const a4nn_arch *arch, FILE *out);

const char *a4nn_op_name(a4nn_op_kind kind);

/* ---- NSGA-II ---- */
/* NSGA-II as NSGA-Net uses it, over n points with m objectives (row-major
 * obj[i * m + j]), every objective minimised: for the search (100 - val acc,
 * MFLOPs). */

/* Pareto dominance with m objectives to minimise: a is no worse than b in
 * every objective and better in at least one. */
int a4nn_dominates(int m, const double *a, const double *b);

/* Non-dominated sorting: rank[i] = 0 for the first front, 1 for the next...
 * Returns the number of fronts. */
int a4nn_nsga2_sort(int n, int m, const double *obj, int *rank);
/* Crowding distance of every point within its front (INFINITY at the ends). */
void a4nn_nsga2_crowding(int n, int m, const double *obj, const int *rank, double *crowd);
/* Environmental selection: the k survivors (k <= n) by rank, then crowding
 * (ties broken by index, so the choice is deterministic); writes k indices. */
void a4nn_nsga2_survivors(int n, int m, const double *obj, int k, int *chosen);
/* Binary tournament on (rank, crowding): returns the winner's index. */
int a4nn_nsga2_tournament(a4nn_rng *rng, int n, const int *rank, const double *crowd);
/* A uniformly random genome (at least one active phase). */
void a4nn_nsga2_random_genome(a4nn_rng *rng, int n_phases, int n_nodes, a4nn_genome *g);
/* Uniform crossover (probability px, else copies) of two parents into two
 * children, then bit-flip mutation with probability pm per bit (pm < 0:
 * 1 / bits). */
void a4nn_nsga2_mate(a4nn_rng *rng, const a4nn_genome *a, const a4nn_genome *b, double px,
                     double pm, a4nn_genome *c1, a4nn_genome *c2);
/* n_children new genomes from a population of n with objectives obj (m = 2):
 * tournament, crossover, mutation and duplicate elimination against the
 * population, the archive (every genome evaluated so far) and each other.
 * Errors when the space is exhausted. */
int a4nn_nsga2_offspring(a4nn_rng *rng, const a4nn_genome *pop, const double *obj, int n,
                         const a4nn_genome *archive, int n_archive, double px, double pm,
                         int n_children, a4nn_genome *children, a4nn_error *err);

/* ---- search strategies: ask / tell, no MPI ----------------------------------
 * A strategy decides which genome is evaluated next. The search role (MPI)
 * and the scaling simulator (simulated time) drive the same objects with the
 * same loop: ask for a genome when a worker is free, tell the result when the
 * model is done. Strategies are named method tables, as GSL's minimisers:
 *
 *     a4nn_strategy *s = a4nn_strategy_alloc(a4nn_strategy_find("async"), &cfg, err);
 *     int id = a4nn_strategy_ask(s, &genome, err);   // >= 0, WAIT, DONE or A4NN_ERR
 *     ... evaluate ...
 *     a4nn_strategy_tell(s, id, fitness, mflops, err);
 *
 * Model ids are handed out 0, 1, 2, ... in ask order. A new strategy is one
 * file in src/search/ defining an a4nn_strategy_type, listed in strategy.c. */

typedef struct {
    int pop_size;         /* population (both); the initial random genomes */
    int n_offspring;      /* generational: children per generation */
    int n_gens;           /* generational: generations of children; < 0: no limit */
    int total;            /* async: models to make; <= 0: no limit */
    int children_per_call; /* async: genomes per NSGA-II call (1: every ask sees
                            * every result so far); the others wait in a queue */
    int n_phases, n_nodes;
    double crossover_prob, mutation_prob; /* mutation_prob < 0: 1 / bits */
    uint64_t seed;        /* the run seed; each strategy derives its own stream */
} a4nn_strategy_config;

enum {
    A4NN_STRATEGY_WAIT = -2, /* ask: nothing until a running model is told */
    A4NN_STRATEGY_DONE = -3, /* ask: the search has made every model */
    A4NN_STRATEGY_GENERATION = 1 /* tell: this result completed a generation */
};

typedef struct a4nn_strategy a4nn_strategy;

typedef struct {
    const char *name;
    /* 1: results are used only at generation barriers, so the genomes do not
     * depend on timing (a resumed run remakes them from the seed); 0: every
     * genome depends on what had finished when it was made, so each is
     * recorded before it goes out (a4nn_strategy_restore on resume). */
    int barriers;
    size_t state_size;
    int (*init)(a4nn_strategy *s, a4nn_error *err);
    int (*ask)(a4nn_strategy *s, a4nn_genome *g, a4nn_error *err);
    int (*tell)(a4nn_strategy *s, int id, a4nn_error *err);
    void (*free)(a4nn_strategy *s);
} a4nn_strategy_type;

extern const a4nn_strategy_type a4nn_strategy_generational; /* "generational" */
extern const a4nn_strategy_type a4nn_strategy_async;        /* "async" (steady state) */

/* The strategy of that name, or NULL. */
const a4nn_strategy_type *a4nn_strategy_find(const char *name);

a4nn_strategy *a4nn_strategy_alloc(const a4nn_strategy_type *type,
                                   const a4nn_strategy_config *cfg, a4nn_error *err);
void a4nn_strategy_free(a4nn_strategy *s);
const a4nn_strategy_type *a4nn_strategy_kind(const a4nn_strategy *s);

/* The next model: its id (>= 0) with *g, A4NN_STRATEGY_WAIT, A4NN_STRATEGY_DONE
 * or A4NN_ERR (err filled, e.g. the genome space is exhausted). */
int a4nn_strategy_ask(a4nn_strategy *s, a4nn_genome *g, a4nn_error *err);
/* Result of model id (fitness in %, NaN counts as 0; MFLOPs). Returns A4NN_OK,
 * A4NN_STRATEGY_GENERATION or A4NN_ERR. */
int a4nn_strategy_tell(a4nn_strategy *s, int id, double fitness, double mflops,
                       a4nn_error *err);
/* Makes no model with an id >= max_models (a generation is cut short to fit;
 * the compute-budget search sets it at each barrier). */
void a4nn_strategy_limit(a4nn_strategy *s, int max_models);
/* Models made so far (ids 0 .. made-1); barriers passed so far. */
int a4nn_strategy_made(const a4nn_strategy *s);
int a4nn_strategy_generation(const a4nn_strategy *s);
/* The current population (ids), for the commons; valid until the next call. */
int a4nn_strategy_population(const a4nn_strategy *s, const int **ids);
/* The random stream's state (recorded with each dispatch or generation). */
const uint64_t *a4nn_strategy_rng_state(const a4nn_strategy *s);
/* Resume: genomes 0..n-1 were made before (with the stream at rng, NULL:
 * remake the stream from the seed); the next ask makes id n. */
int a4nn_strategy_restore(a4nn_strategy *s, const a4nn_genome *made, int n,
                          const uint64_t *rng, a4nn_error *err);
/* The genome of model id (made by this strategy or restored). */
const a4nn_genome *a4nn_strategy_genome(const a4nn_strategy *s, int id);

/* ---- the scheduling loop the search role and the simulator share ----------
 * Whenever a worker is free: a model of an earlier run to send again (resume),
 * else the strategy's next one; when none can go out, wait for something to
 * happen (a result, told to the strategy by the driver). Ends when nothing
 * runs and nothing more is to be asked, or at once when halted. */
typedef struct {
    void *ctx;
    int (*free_workers)(void *ctx);
    int (*running)(void *ctx);  /* models out */
    int (*halted)(void *ctx);   /* NULL: never (an interrupted run stops here) */
    int (*may_ask)(void *ctx);  /* NULL: always; 0 once a compute budget is spent */
    int (*resend)(void *ctx, a4nn_error *err); /* NULL; else 1 when it sent one */
    int (*start)(void *ctx, int id, const a4nn_genome *g, a4nn_error *err);
    int (*wait)(void *ctx, a4nn_error *err);
} a4nn_search_driver;

int a4nn_search_run(a4nn_strategy *s, const a4nn_search_driver *d, a4nn_error *err);

#endif
