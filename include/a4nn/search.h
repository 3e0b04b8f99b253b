/* search: the NSGA-Net macro genome, its decoding into a network graph
 * (a4nn_arch, which the nn module builds from), FLOPs/params counting. */
#ifndef A4NN_SEARCH_H
#define A4NN_SEARCH_H

#include <stdint.h>

#include "a4nn/util.h"

#define A4NN_MAX_PHASES 6
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

#endif
