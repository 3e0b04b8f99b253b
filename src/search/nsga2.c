/* NSGA-II (Deb et al. 2002) as NSGA-Net's macro search uses it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "a4nn/search.h"

int a4nn_dominates(int m, const double *a, const double *b)
{
    int better = 0;
    for (int j = 0; j < m; j++) {
        if (a[j] > b[j])
            return 0;
        if (a[j] < b[j])
            better = 1;
    }
    return better;
}

/* (value, index) pairs sorted by value, then index: every sort here is a
 * total order, so the result does not depend on the sorting algorithm */
typedef struct {
    double v, w;
    int i;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    if (x->w != y->w)
        return x->w < y->w ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Two objectives in O(n log n): in (f0, f1) order every dominator of a point
 * comes before it, and front k dominates it when its smallest f1 is below
 * the point's (or equal, reached at a smaller f0); that holds for a prefix
 * of the fronts, so a binary search finds the point's front. */
static int sort2(int n, const double *obj, int *rank)
{
    keyed *k = a4nn_malloc((size_t)n * sizeof *k);
    double *min1 = a4nn_malloc((size_t)n * sizeof *min1), *at0 = a4nn_malloc((size_t)n * sizeof *at0);
    for (int i = 0; i < n; i++)
        k[i] = (keyed){obj[2 * i], obj[2 * i + 1], i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    int nf = 0;
    for (int a = 0; a < n; a++) {
        double f0 = k[a].v, f1 = k[a].w;
        int lo = 0, hi = nf; /* first front that does not dominate the point */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (min1[mid] < f1 || (min1[mid] == f1 && at0[mid] < f0))
                lo = mid + 1;
            else
                hi = mid;
        }
        rank[k[a].i] = lo;
        if (lo == nf) {
            min1[nf] = f1, at0[nf] = f0;
            nf++;
        } else if (f1 < min1[lo]) {
            min1[lo] = f1, at0[lo] = f0;
        }
    }
    free(k);
    free(min1);
    free(at0);
    return nf;
}

int a4nn_nsga2_sort(int n, int m, const double *obj, int *rank)
{
    if (n <= 0)
        return 0;
    if (m == 2)
        return sort2(n, obj, rank);
    int *count = a4nn_calloc((size_t)n, sizeof *count);
    int *front = a4nn_malloc((size_t)n * sizeof *front), *next = a4nn_malloc((size_t)n * sizeof *next);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (i != j && a4nn_dominates(m, obj + (size_t)j * m, obj + (size_t)i * m))
                count[i]++;
    int nf = 0, r = 0;
    for (int i = 0; i < n; i++)
        if (count[i] == 0)
            front[nf++] = i, rank[i] = 0;
    while (nf > 0) {
        int nn = 0;
        for (int a = 0; a < nf; a++) {
            int i = front[a];
            for (int j = 0; j < n; j++)
                if (a4nn_dominates(m, obj + (size_t)i * m, obj + (size_t)j * m) && --count[j] == 0)
                    next[nn++] = j, rank[j] = r + 1;
        }
        memcpy(front, next, (size_t)nn * sizeof *front);
        nf = nn;
        r++;
    }
    free(count);
    free(front);
    free(next);
    return r;
}


void a4nn_nsga2_crowding(int n, int m, const double *obj, const int *rank, double *crowd)
{
    int *idx = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    keyed *key = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *key);
    for (int i = 0; i < n; i++)
        crowd[i] = 0;
    int max_rank = 0;
    for (int i = 0; i < n; i++)
        if (rank[i] > max_rank)
            max_rank = rank[i];
    /* the points of each front, in index order (counting sort by rank) */
    int *start = a4nn_calloc((size_t)max_rank + 2, sizeof *start);
    int *byrank = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *byrank);
    for (int i = 0; i < n; i++)
        start[rank[i] + 1]++;
    for (int r = 0; r <= max_rank; r++)
        start[r + 1] += start[r];
    int *fill = a4nn_malloc((size_t)(max_rank + 1) * sizeof *fill);
    memcpy(fill, start, (size_t)(max_rank + 1) * sizeof *fill);
    for (int i = 0; i < n; i++)
        byrank[fill[rank[i]]++] = i;
    free(fill);
    for (int r = 0; r <= max_rank; r++) {
        int k = start[r + 1] - start[r];
        memcpy(idx, byrank + start[r], (size_t)k * sizeof *idx);
        if (k == 0)
            continue;
        if (k <= 2) {
            for (int a = 0; a < k; a++)
                crowd[idx[a]] = INFINITY;
            continue;
        }
        for (int j = 0; j < m; j++) {
            /* by objective j, ties by index: deterministic */
            for (int a = 0; a < k; a++)
                key[a] = (keyed){obj[(size_t)idx[a] * m + j], 0, idx[a]};
            qsort(key, (size_t)k, sizeof *key, cmp_keyed);
            for (int a = 0; a < k; a++)
                idx[a] = key[a].i;
            double lo = obj[(size_t)idx[0] * m + j], hi = obj[(size_t)idx[k - 1] * m + j];
            crowd[idx[0]] = crowd[idx[k - 1]] = INFINITY;
            if (hi - lo <= 0)
                continue;
            for (int a = 1; a < k - 1; a++)
                if (isfinite(crowd[idx[a]]))
                    crowd[idx[a]] +=
                        (obj[(size_t)idx[a + 1] * m + j] - obj[(size_t)idx[a - 1] * m + j]) /
                        (hi - lo);
        }
    }
    free(idx);
    free(key);
    free(start);
    free(byrank);
}

void a4nn_nsga2_survivors(int n, int m, const double *obj, int k, int *chosen)
{
    int *rank = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *rank);
    double *crowd = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *crowd);
    int *order = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *order);
    a4nn_nsga2_sort(n, m, obj, rank);
    a4nn_nsga2_crowding(n, m, obj, rank, crowd);
    /* by (rank asc, crowding desc, index asc) */
    keyed *key = a4nn_malloc((size_t)(n > 0 ? n : 1) * sizeof *key);
    for (int i = 0; i < n; i++)
        key[i] = (keyed){(double)rank[i], -crowd[i], i};
    qsort(key, (size_t)n, sizeof *key, cmp_keyed);
    for (int i = 0; i < n; i++)
        order[i] = key[i].i;
    free(key);
    for (int i = 0; i < k && i < n; i++)
        chosen[i] = order[i];
    free(rank);
    free(crowd);
    free(order);
}

int a4nn_nsga2_tournament(a4nn_rng *rng, int n, const int *rank, const double *crowd)
{
    int a = (int)a4nn_rng_below(rng, (uint64_t)n), b = (int)a4nn_rng_below(rng, (uint64_t)n);
    if (rank[a] != rank[b])
        return rank[a] < rank[b] ? a : b;
    if (crowd[a] != crowd[b])
        return crowd[a] > crowd[b] ? a : b;
    return a4nn_rng_uniform(rng) < 0.5 ? a : b;
}

static int any_active(const a4nn_genome *g)
{
    for (int p = 0; p < g->n_phases; p++)
        if (a4nn_genome_phase_active(g, p))
            return 1;
    return 0;
}

void a4nn_nsga2_random_genome(a4nn_rng *rng, int n_phases, int n_nodes, a4nn_genome *g)
{
    int pb = a4nn_genome_phase_bits(n_nodes);
    do {
        memset(g, 0, sizeof *g);
        g->n_phases = n_phases;
        g->n_nodes = n_nodes;
        for (int p = 0; p < n_phases; p++)
            for (int b = 0; b < pb; b++)
                g->bits[p][b] = (uint8_t)(a4nn_rng_next(rng) >> 63);
    } while (!any_active(g));
}

void a4nn_nsga2_mate(a4nn_rng *rng, const a4nn_genome *a, const a4nn_genome *b, double px,
                     double pm, a4nn_genome *c1, a4nn_genome *c2)
{
    int pb = a4nn_genome_phase_bits(a->n_nodes), nbits = pb * a->n_phases;
    if (pm < 0)
        pm = 1.0 / nbits;
    *c1 = *a;
    *c2 = *b;
    if (a4nn_rng_uniform(rng) < px)
        for (int p = 0; p < a->n_phases; p++)
            for (int k = 0; k < pb; k++)
                if (a4nn_rng_uniform(rng) < 0.5) {
                    c1->bits[p][k] = b->bits[p][k];
                    c2->bits[p][k] = a->bits[p][k];
                }
    for (int p = 0; p < a->n_phases; p++)
        for (int k = 0; k < pb; k++) {
            if (a4nn_rng_uniform(rng) < pm)
                c1->bits[p][k] ^= 1;
            if (a4nn_rng_uniform(rng) < pm)
                c2->bits[p][k] ^= 1;
        }
}

static int seen(const a4nn_genome *g, const a4nn_genome *set, int n)
{
    for (int i = 0; i < n; i++)
        if (a4nn_genome_equal(g, &set[i]))
            return 1;
    return 0;
}

int a4nn_nsga2_offspring(a4nn_rng *rng, const a4nn_genome *pop, const double *obj, int n,
                         const a4nn_genome *archive, int n_archive, double px, double pm,
                         int n_children, a4nn_genome *children, a4nn_error *err)
{
    if (n < 1)
        return a4nn_errorf(err, "nsga2: empty population");
    int *rank = a4nn_malloc((size_t)n * sizeof *rank);
    double *crowd = a4nn_malloc((size_t)n * sizeof *crowd);
    a4nn_nsga2_sort(n, 2, obj, rank);
    a4nn_nsga2_crowding(n, 2, obj, rank, crowd);
    int made = 0, tries = 0, limit = 1000 * (n_children + 10);
    while (made < n_children && tries < limit) {
        tries++;
        int pa = a4nn_nsga2_tournament(rng, n, rank, crowd);
        int pb = a4nn_nsga2_tournament(rng, n, rank, crowd);
        a4nn_genome c[2];
        a4nn_nsga2_mate(rng, &pop[pa], &pop[pb], px, pm, &c[0], &c[1]);
        for (int k = 0; k < 2 && made < n_children; k++) {
            if (!any_active(&c[k]) || seen(&c[k], pop, n) || seen(&c[k], archive, n_archive) ||
                seen(&c[k], children, made))
                continue;
            children[made++] = c[k];
        }
    }
    free(rank);
    free(crowd);
    if (made < n_children)
        return a4nn_errorf(err, "nsga2: could not make %d new genomes (only %d unseen after %d "
                                "tries): the search space is exhausted",
                           n_children, made, tries);
    return A4NN_OK;
}
