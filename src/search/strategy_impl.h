/* search: what every strategy shares (private to src/search). */
#ifndef A4NN_STRATEGY_IMPL_H
#define A4NN_STRATEGY_IMPL_H

#include "a4nn/search.h"

struct a4nn_strategy {
    const a4nn_strategy_type *type;
    a4nn_strategy_config cfg;
    a4nn_rng rng;
    a4nn_genome *made; /* by id: every genome made (the duplicate archive) */
    double *obj;       /* by id: (100 - fitness, MFLOPs) once told */
    unsigned char *told;
    int n_made, n_told, cap;
    int limit;         /* ids below this only (INT_MAX: no limit) */
    int generation;    /* barriers passed */
    int *pop, n_pop;   /* the current population (ids) */
    void *state;       /* the type's own, state_size bytes */
};

/* Appends g as the next model; returns its id. */
int a4nn_strategy_add(a4nn_strategy *s, const a4nn_genome *g);
/* A uniformly random genome not made before. */
void a4nn_strategy_random(a4nn_strategy *s, a4nn_genome *g);
/* Objectives (and genomes, when g) of the told models ids. */
void a4nn_strategy_objectives(const a4nn_strategy *s, const int *ids, int n, double *obj,
                              a4nn_genome *g);
/* n children of the parents ids (tournament, crossover, mutation, duplicate
 * elimination against every genome made), added as models; *first: the id of
 * the first. */
int a4nn_strategy_breed(a4nn_strategy *s, const int *ids, int n_parents, int n, int *first,
                        a4nn_error *err);
/* Environmental selection: the k survivors of ids (n), written over ids in
 * the order chosen (by rank, crowding, position); returns k (n, unsorted, when n < k). */
int a4nn_strategy_select(const a4nn_strategy *s, int *ids, int n, int k);

#endif
