/* commons: architecture tracker: genome similarity (LCS, Hamming, graph edit distance), nearest
 * known architectures and a classical-MDS similarity map. */
#include "a4nn/commons.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>

int a4nn_tracker_lcs_len(const uint8_t *x, int nx, const uint8_t *y, int ny)
{
    if (nx <= 0 || ny <= 0)
        return 0;
    /* two rows of the classic dynamic programme (on the stack for genomes) */
    int stack[2][A4NN_MAX_GENOME_BITS + 1] = {{0}};
    int heap = ny > A4NN_MAX_GENOME_BITS;
    int *prev = heap ? a4nn_calloc((size_t)ny + 1, sizeof *prev) : stack[0];
    int *cur = heap ? a4nn_calloc((size_t)ny + 1, sizeof *cur) : stack[1];
    for (int j = 0; j <= ny; j++)
        prev[j] = 0;
    for (int i = 1; i <= nx; i++) {
        cur[0] = 0;
        for (int j = 1; j <= ny; j++) {
            if (x[i - 1] == y[j - 1])
                cur[j] = prev[j - 1] + 1;
            else
                cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
        }
        int *t = prev;
        prev = cur;
        cur = t;
    }
    int r = prev[ny];
    if (heap) {
        free(prev);
        free(cur);
    }
    return r;
}

double a4nn_tracker_lcs_similarity(const a4nn_genome *a, const a4nn_genome *b)
{
    uint8_t x[A4NN_MAX_GENOME_BITS], y[A4NN_MAX_GENOME_BITS];
    int nx = a4nn_genome_flatten(a, x), ny = a4nn_genome_flatten(b, y);
    int m = nx > ny ? nx : ny;
    if (m <= 0)
        return 1.0;
    return (double)a4nn_tracker_lcs_len(x, nx, y, ny) / m;
}

int a4nn_tracker_hamming(const a4nn_genome *a, const a4nn_genome *b)
{
    uint8_t x[A4NN_MAX_GENOME_BITS], y[A4NN_MAX_GENOME_BITS];
    int nx = a4nn_genome_flatten(a, x), ny = a4nn_genome_flatten(b, y);
    int n = nx < ny ? nx : ny, d = abs(nx - ny);
    for (int i = 0; i < n; i++)
        d += x[i] != y[i];
    return d;
}

/* Edge and vertex incidence of one decoded phase (empty when inactive). */
typedef struct {
    int nv;
    uint8_t vertex[A4NN_MAX_NODES + 2];
    uint8_t edge[A4NN_MAX_NODES + 2][A4NN_MAX_NODES + 2];
} phase_sets;

static void phase_sets_of(const a4nn_genome *g, int phase, phase_sets *s)
{
    memset(s, 0, sizeof *s);
    if (phase >= g->n_phases || !a4nn_genome_phase_active(g, phase))
        return;
    a4nn_phase_graph pg;
    a4nn_phase_decode(g, phase, &pg);
    s->nv = pg.n_nodes + 2;
    for (int v = 0; v < s->nv; v++)
        for (int d = 0; d < pg.n_deps[v]; d++) {
            int u = pg.deps[v][d];
            s->edge[u][v] = 1;
            s->vertex[u] = s->vertex[v] = 1;
        }
}

int a4nn_tracker_graph_edit(const a4nn_genome *a, const a4nn_genome *b)
{
    int np = a->n_phases > b->n_phases ? a->n_phases : b->n_phases, d = 0;
    for (int p = 0; p < np; p++) {
        phase_sets sa, sb;
        phase_sets_of(a, p, &sa);
        phase_sets_of(b, p, &sb);
        for (int u = 0; u < A4NN_MAX_NODES + 2; u++) {
            d += sa.vertex[u] != sb.vertex[u];
            for (int v = 0; v < A4NN_MAX_NODES + 2; v++)
                d += sa.edge[u][v] != sb.edge[u][v];
        }
    }
    return d;
}

double a4nn_tracker_distance(const a4nn_genome *a, const a4nn_genome *b, a4nn_distance_kind kind)
{
    switch (kind) {
    case A4NN_DIST_HAMMING:
        return a4nn_tracker_hamming(a, b);
    case A4NN_DIST_GED:
        return a4nn_tracker_graph_edit(a, b);
    case A4NN_DIST_LCS:
    default:
        return 1.0 - a4nn_tracker_lcs_similarity(a, b);
    }
}

static int neighbour_before(const a4nn_neighbour *x, const a4nn_neighbour *y)
{
    if (x->similarity != y->similarity)
        return x->similarity > y->similarity;
    if (x->graph_edit != y->graph_edit)
        return x->graph_edit < y->graph_edit;
    if (x->hamming != y->hamming)
        return x->hamming < y->hamming;
    return x->index < y->index;
}

int a4nn_tracker_nearest(const a4nn_genome *g, const a4nn_genome *known, const double *fitness,
                         int n, int k, a4nn_neighbour *out, a4nn_error *err)
{
    if (!g || n < 0 || k < 0 || (n > 0 && !known) || (k > 0 && n > 0 && !out))
        return a4nn_errorf(err, "tracker: bad arguments to nearest (n %d, k %d)", n, k);
    int m = 0; /* out[0..m) is kept sorted, best first */
    for (int i = 0; i < n; i++) {
        a4nn_neighbour c = {.index = i,
                            .similarity = a4nn_tracker_lcs_similarity(g, &known[i]),
                            .hamming = a4nn_tracker_hamming(g, &known[i]),
                            .graph_edit = a4nn_tracker_graph_edit(g, &known[i]),
                            .fitness = fitness ? fitness[i] : 0.0};
        if (m == k && (k == 0 || !neighbour_before(&c, &out[m - 1])))
            continue;
        int j = m < k ? m++ : m - 1;
        while (j > 0 && neighbour_before(&c, &out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = c;
    }
    return m;
}

int a4nn_tracker_distance_matrix(const a4nn_genome *g, int n, a4nn_distance_kind kind, double *d,
                                 a4nn_error *err)
{
    if (n < 0 || (n > 0 && (!g || !d)))
        return a4nn_errorf(err, "tracker: bad arguments to distance matrix (n %d)", n);
    for (int i = 0; i < n; i++) {
        d[(size_t)i * n + i] = 0.0;
        for (int j = i + 1; j < n; j++)
            d[(size_t)i * n + j] = d[(size_t)j * n + i] = a4nn_tracker_distance(&g[i], &g[j], kind);
    }
    return A4NN_OK;
}

int a4nn_tracker_mds(const double *d, int n, int dim, double *xy, a4nn_error *err)
{
    if (n < 0 || dim < 1 || dim > 3 || (n > 0 && (!d || !xy)))
        return a4nn_errorf(err, "tracker: bad arguments to MDS (n %d, dim %d)", n, dim);
    if (n == 0)
        return A4NN_OK;
    memset(xy, 0, sizeof *xy * (size_t)n * dim);
    if (n == 1)
        return A4NN_OK;
    gsl_set_error_handler_off();
    gsl_matrix *B = gsl_matrix_alloc(n, n), *V = gsl_matrix_alloc(n, n);
    gsl_vector *eval = gsl_vector_alloc(n);
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(n);
    if (!B || !V || !eval || !w) {
        gsl_matrix_free(B), gsl_matrix_free(V), gsl_vector_free(eval);
        if (w)
            gsl_eigen_symmv_free(w);
        return a4nn_errorf(err, "tracker: MDS: out of memory for %d points", n);
    }
    /* B = -1/2 J D^2 J with J = I - 11'/n */
    double *row = a4nn_calloc(n, sizeof *row), total = 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            double s = d[(size_t)i * n + j] * d[(size_t)i * n + j];
            row[i] += s;
            total += s;
        }
        row[i] /= n;
    }
    total /= (double)n * n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = d[(size_t)i * n + j] * d[(size_t)i * n + j];
            gsl_matrix_set(B, i, j, -0.5 * (s - row[i] - row[j] + total));
        }
    free(row);
    int rc = gsl_eigen_symmv(B, eval, V, w);
    if (rc == GSL_SUCCESS)
        rc = gsl_eigen_symmv_sort(eval, V, GSL_EIGEN_SORT_VAL_DESC);
    if (rc != GSL_SUCCESS) {
        gsl_matrix_free(B), gsl_matrix_free(V), gsl_vector_free(eval), gsl_eigen_symmv_free(w);
        return a4nn_errorf(err, "tracker: MDS eigen-decomposition failed: %s", gsl_strerror(rc));
    }
    for (int a = 0; a < dim && a < n; a++) {
        double lambda = gsl_vector_get(eval, a);
        if (!(lambda > 1e-12))
            continue;
        double s = sqrt(lambda), big = 0.0;
        for (int i = 0; i < n; i++) {
            double v = gsl_matrix_get(V, i, a);
            if (fabs(v) > fabs(big) + 1e-12)
                big = v;
        }
        double sign = big < 0 ? -1.0 : 1.0;
        for (int i = 0; i < n; i++)
            xy[(size_t)i * dim + a] = sign * s * gsl_matrix_get(V, i, a);
    }
    gsl_matrix_free(B), gsl_matrix_free(V), gsl_vector_free(eval), gsl_eigen_symmv_free(w);
    return A4NN_OK;
}
