/* Winograd F(4x4, 3x3) for the CPU backend (winograd.h). The transforms are
 * vectorised over the tiles of a tile row: a padded input row is split into
 * its four phases (x = 4m + p), so that the tiles' columns 4 tx + j are
 * contiguous vectors (phase j % 4, offset j / 4); the output rows are
 * interleaved back the same way. Matrices (Lavin and Gray, points 0, +-1,
 * +-2):
 *   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 *          0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 *   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6;
 *          1/24 -1/12 1/6; 0 0 1]
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
 * A block's tiles are the matrix columns r tw + tx, tile rows packed
 * without padding: the last vector of a row spills into the next row's
 * columns (or the next channel's), which are written after it. */
#include "winograd.h"

#include <cblas.h>

#include "cpu_simd.h"

/* V + M of a block within about 1 MiB of the 2 MiB L2 */
enum { BLOCK_FLOATS = 256 * 1024 };

wino_geom wino_geom_of(int c, int co, int h, int w)
{
    wino_geom g = {c, co, h, w, (h + 3) / 4, (w + 3) / 4, 0, 0, 0, 0, 0};
    g.twv = (g.tw + VL - 1) / VL * VL;
    g.s = g.twv + VL;
    const int maxc = c > co ? c : co;
    g.nb = BLOCK_FLOATS / (2 * WINO_XI * maxc * g.tw);
    if (g.nb < 1)
        g.nb = 1;
    if (g.nb > g.th)
        g.nb = g.th;
    g.t = (g.nb * g.tw + VL - 1) / VL * VL;
    /* a cache line between slabs: slabs that would be a multiple of 4 KiB
     * apart (24 channels x 128 tiles) are not, so that the 36 streams of a
     * transform fall into different L1 sets */
    g.xs = (size_t)maxc * g.t + 16;
    return g;
}

/* the workspace: V, M (36 x channels x tiles each), the deinterleaved rows
 * of one channel's block, and their transform along y */
static size_t v_floats(const wino_geom *g)
{
    return (size_t)WINO_XI * g->xs;
}
static size_t d_floats(const wino_geom *g) { return (size_t)(4 * g->nb + 2) * 4 * g->s; }

size_t wino_ws_floats(const wino_geom *g)
{
    return 2 * v_floats(g) + d_floats(g) + (size_t)6 * 4 * g->s;
}

size_t wino_u_floats(int co, int c) { return (size_t)WINO_XI * round_dco(co) * c; }

/* u[i * su] = (G g)[i] of g[k * sg] */
static void apply_g(const float *g, int sg, float *u, int su)
{
    const float g0 = g[0], g1 = g[sg], g2 = g[2 * sg];
    u[0] = g0 / 4;
    u[su] = -(g0 + g1 + g2) / 6;
    u[2 * su] = -(g0 - g1 + g2) / 6;
    u[3 * su] = g0 / 24 + g1 / 12 + g2 / 6;
    u[4 * su] = g0 / 24 - g1 / 12 + g2 / 6;
    u[5 * su] = g2;
}

/* g[k * sg] = (G^T u)[k] of u[i * su] */
static void apply_gt(const float *u, size_t su, float *g, int sg)
{
    const float u0 = u[0], u1 = u[su], u2 = u[2 * su], u3 = u[3 * su], u4 = u[4 * su],
                u5 = u[5 * su];
    g[0] = u0 / 4 - (u1 + u2) / 6 + (u3 + u4) / 24;
    g[sg] = (u2 - u1) / 6 + (u3 - u4) / 12;
    g[2 * sg] = (u3 + u4 - u1 - u2) / 6 + u5;
}

/* u[xi][cb / DCO][ci][DCO]: G g G^T of filter (o, ci) at xi, zero for missing o */
void wino_pack(const float *w, int co, int c, float *u)
{
    const size_t rco = round_dco(co);
    memset(u, 0, wino_u_floats(co, c) * sizeof(float));
    for (int o = 0; o < co; o++)
        for (int ci = 0; ci < c; ci++) {
            const float *g = w + ((size_t)o * c + ci) * 9;
            float t[6][3], r[6][6];
            for (int k = 0; k < 3; k++) /* G g: along y */
                apply_g(g + k, 3, &t[0][k], 3);
            for (int i = 0; i < 6; i++) /* then G^T: along x */
                apply_g(t[i], 1, r[i], 1);
            const int cb = o / DCO * DCO, j = o % DCO;
            for (int xi = 0; xi < WINO_XI; xi++)
                u[((size_t)xi * rco + cb) * c + (size_t)ci * DCO + j] = r[xi / 6][xi % 6];
        }
}

/* B^T applied to six vectors (in place) */
static inline void bt6(vecf d[6])
{
    const vecf d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3], d4 = d[4], d5 = d[5];
    const vecf t1 = d4 - 4 * d2, t2 = d3 - 4 * d1, t3 = d4 - d2, t4 = 2 * (d3 - d1);
    d[0] = 4 * d0 - 5 * d2 + d4;
    d[1] = t1 + t2;
    d[2] = t1 - t2;
    d[3] = t3 + t4;
    d[4] = t3 - t4;
    d[5] = 4 * d1 - 5 * d3 + d5;
}

/* A^T applied to six vectors: four */
static inline void at6(const vecf m[6], vecf y[4])
{
    const vecf a = m[1] + m[2], b = m[1] - m[2], c = m[3] + m[4], d = m[3] - m[4];
    y[0] = m[0] + a + c;
    y[1] = b + 2 * d;
    y[2] = a + 4 * c;
    y[3] = b + 8 * d + m[5];
}

/* A applied to four vectors: six */
static inline void a4(const vecf y[4], vecf m[6])
{
    const vecf e = y[0] + y[2], o = y[1] + y[3], e4 = y[0] + 4 * y[2], o4 = 2 * y[1] + 8 * y[3];
    m[0] = y[0];
    m[1] = e + o;
    m[2] = e - o;
    m[3] = e4 + o4;
    m[4] = e4 - o4;
    m[5] = y[3];
}

/* permutation masks of two-vector shuffles: even and odd elements,
 * interleaved pairs and pairs of pairs */
typedef int veci __attribute__((vector_size(VL * sizeof(int))));
#ifdef __AVX512F__ /* VL == 16 */
#include <immintrin.h>
static const veci EVEN = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30},
                  ODD = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31},
                  ZIP_LO = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23},
                  ZIP_HI = {8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31},
                  ZIP2_LO = {0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23},
                  ZIP2_HI = {8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31};
#else /* VL == 8 */
static const veci EVEN = {0, 2, 4, 6, 8, 10, 12, 14}, ODD = {1, 3, 5, 7, 9, 11, 13, 15},
                  ZIP_LO = {0, 8, 1, 9, 2, 10, 3, 11}, ZIP_HI = {4, 12, 5, 13, 6, 14, 7, 15},
                  ZIP2_LO = {0, 1, 8, 9, 2, 3, 10, 11}, ZIP2_HI = {4, 5, 12, 13, 6, 7, 14, 15};
#endif

/* the four phases of 4 VL consecutive floats v */
static inline void split4(const vecf v[4], vecf ph[4])
{
    const vecf e01 = __builtin_shuffle(v[0], v[1], EVEN), o01 = __builtin_shuffle(v[0], v[1], ODD),
               e23 = __builtin_shuffle(v[2], v[3], EVEN), o23 = __builtin_shuffle(v[2], v[3], ODD);
    ph[0] = __builtin_shuffle(e01, e23, EVEN);
    ph[1] = __builtin_shuffle(o01, o23, EVEN);
    ph[2] = __builtin_shuffle(e01, e23, ODD);
    ph[3] = __builtin_shuffle(o01, o23, ODD);
}

/* and back: out[4 m + p] = ph[p][m] */
static inline void merge4(const vecf ph[4], vecf out[4])
{
    const vecf l01 = __builtin_shuffle(ph[0], ph[1], ZIP_LO),
               h01 = __builtin_shuffle(ph[0], ph[1], ZIP_HI),
               l23 = __builtin_shuffle(ph[2], ph[3], ZIP_LO),
               h23 = __builtin_shuffle(ph[2], ph[3], ZIP_HI);
    out[0] = __builtin_shuffle(l01, l23, ZIP2_LO);
    out[1] = __builtin_shuffle(l01, l23, ZIP2_HI);
    out[2] = __builtin_shuffle(h01, h23, ZIP2_LO);
    out[3] = __builtin_shuffle(h01, h23, ZIP2_HI);
}

#ifdef __AVX512F__
/* lanes l of [lo, hi) (0 <= lo, hi <= VL) */
static inline __mmask16 lanes(int lo, int hi)
{
    return hi <= lo ? 0 : (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}
#endif

/* row[x0 + l] where 0 <= x0 + l < w, zero elsewhere; nothing outside the
 * row is touched (a masked load with AVX-512) */
static inline vecf load_in(const float *row, int x0, int w)
{
    if (x0 >= 0 && x0 + VL <= w)
        return loadv(row + x0);
#ifdef __AVX512F__
    return (vecf)_mm512_maskz_loadu_ps(lanes(x0 < 0 ? -x0 : 0, w - x0 < VL ? w - x0 : VL),
                                       row + x0);
#else
    float t[VL];
    for (int l = 0; l < VL; l++)
        t[l] = x0 + l >= 0 && x0 + l < w ? row[x0 + l] : 0.0f;
    return loadv(t);
#endif
}

/* dr[p * s + m] = row[4 m + p + off] (zero outside [0, w)) for m < n (a
 * multiple of VL) */
static void deinterleave(const float *row, int w, int off, int n, int s, float *dr)
{
    for (int m0 = 0; m0 < n; m0 += VL) {
        const int x0 = 4 * m0 + off;
        vecf v[4], ph[4];
        for (int k = 0; k < 4; k++)
            v[k] = load_in(row, x0 + k * VL, w);
        split4(v, ph);
        for (int p = 0; p < 4; p++)
            storev(dr + p * s + m0, ph[p]);
    }
}

/* row[x] (add: +=) the phases ph interleaved, x < nx <= 4 VL */
static void store_row(const vecf ph[4], int nx, int add, float *row)
{
    vecf out[4];
    merge4(ph, out);
    for (int k = 0; k < 4 && k * VL < nx; k++) {
        float *r = row + k * VL;
        if (nx >= (k + 1) * VL) {
            storev(r, add ? loadv(r) + out[k] : out[k]);
            continue;
        }
#ifdef __AVX512F__
        const __mmask16 m = lanes(0, nx - k * VL);
        const __m512 o = (__m512)out[k];
        _mm512_mask_storeu_ps(r, m, add ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, r), o) : o);
#else
        float t[VL];
        storev(t, out[k]);
        for (int l = 0; l < nx - k * VL; l++)
            r[l] = (add ? r[l] : 0.0f) + t[l];
#endif
    }
}

/* V[xi][ci][t] (channel stride g->t, xi stride c * g->t) of the tile rows
 * [ty0, ty0 + nbr) of x [c][h][w] padded by 1 */
static void input_transform(const wino_geom *g, const float *x, int c, int ty0, int nbr, float *db,
                            float *eb, float *v)
{
    const int s = g->s, rs = 4 * s, tw = g->twv;
    const size_t xs = g->xs;
    for (int ci = 0; ci < c; ci++) {
        const float *xc = x + (size_t)ci * g->h * g->w;
        for (int rr = 0; rr < 4 * nbr + 2; rr++) {
            const int iy = 4 * ty0 - 1 + rr;
            float *dr = db + (size_t)rr * rs;
            if (iy < 0 || iy >= g->h) {
                memset(dr, 0, (size_t)rs * sizeof(float));
                continue;
            }
            const float *row = xc + (size_t)iy * g->w;
            deinterleave(row, g->w, -1, tw, s, dr);
            /* the tiles' columns 4 and 5 also read column tw of phases 0, 1 */
            for (int p = 0; p < 2; p++) {
                const int ix = 4 * tw + p - 1;
                storev(dr + p * s + tw, (vecf){0});
                dr[p * s + tw] = ix < g->w ? row[ix] : 0.0f;
            }
        }
        for (int r = 0; r < nbr; r++) {
            const float *d0 = db + (size_t)4 * r * rs;
            for (int p = 0; p < 4; p++) /* along y: all phases alike */
                for (int q = p * s; q < p * s + (p < 2 ? s : tw); q += VL) {
                    vecf d[6];
                    for (int a = 0; a < 6; a++)
                        d[a] = loadv(d0 + (size_t)a * rs + q);
                    bt6(d);
                    for (int a = 0; a < 6; a++)
                        storev(eb + (size_t)a * rs + q, d[a]);
                }
            float *vr = v + (size_t)ci * g->t + (size_t)r * g->tw;
            for (int tx = 0; tx < g->twv; tx += VL) /* along x */
                for (int i = 0; i < 6; i++) {
                    const float *e = eb + (size_t)i * rs + tx;
                    vecf d[6] = {loadv(e),         loadv(e + s),     loadv(e + 2 * s),
                                 loadv(e + 3 * s), loadv(e + 1),     loadv(e + s + 1)};
                    bt6(d);
                    for (int j = 0; j < 6; j++)
                        storev(vr + (size_t)(i * 6 + j) * xs + tx, d[j]);
                }
        }
        /* the columns past the block's tiles hold what the last row's
         * vectors wrote there, or nothing yet: zeros for the products */
        const int n = nbr * g->tw;
        for (int xi = 0; xi < WINO_XI && n < g->t; xi++)
            memset(v + xi * xs + (size_t)ci * g->t + n, 0, (size_t)(g->t - n) * sizeof(float));
    }
}

/* m[xi][o][t] = sum over ci of u[xi][o][ci] v[xi][ci][t]: blocks of DCO
 * output channels x 2 (then 1) vectors of tiles in registers */
static void products(const wino_geom *g, const float *u, const float *v, int c, int co, float *m)
{
    const size_t rco = round_dco(co), T = (size_t)g->t;
    for (int xi = 0; xi < WINO_XI; xi++) {
        const float *vx = v + (size_t)xi * g->xs;
        float *mx = m + (size_t)xi * g->xs;
        for (int cb = 0; cb < co; cb += DCO) {
            const float *ub = u + ((size_t)xi * rco + cb) * c;
            const int nj = co - cb < DCO ? co - cb : DCO;
            size_t t = 0;
            for (; t + 2 * VL <= T; t += 2 * VL) {
                vecf a[DCO][2] = {{{0}}};
                for (int ci = 0; ci < c; ci++) {
                    const vecf x0 = loadv(vx + ci * T + t), x1 = loadv(vx + ci * T + t + VL);
                    const float *w = ub + (size_t)ci * DCO;
                    for (int j = 0; j < DCO; j++) {
                        a[j][0] += w[j] * x0;
                        a[j][1] += w[j] * x1;
                    }
                }
                for (int j = 0; j < nj; j++) {
                    storev(mx + (cb + j) * T + t, a[j][0]);
                    storev(mx + (cb + j) * T + t + VL, a[j][1]);
                }
            }
            for (; t < T; t += VL) {
                vecf a[DCO] = {{0}};
                for (int ci = 0; ci < c; ci++) {
                    const vecf x0 = loadv(vx + ci * T + t);
                    const float *w = ub + (size_t)ci * DCO;
                    for (int j = 0; j < DCO; j++)
                        a[j] += w[j] * x0;
                }
                for (int j = 0; j < nj; j++)
                    storev(mx + (cb + j) * T + t, a[j]);
            }
        }
    }
}

/* y [co][h][w] (add: +=) from m[xi][o][t] of the tile rows [ty0, ty0 + nbr) */
static void output_transform(const wino_geom *g, const float *m, int co, int ty0, int nbr,
                             int add, float *y)
{
    const size_t T = (size_t)g->t, xs = g->xs;
    for (int o = 0; o < co; o++) {
        float *yo = y + (size_t)o * g->h * g->w;
        for (int r = 0; r < nbr; r++)
            for (int tx = 0; tx < g->tw; tx += VL) {
                const float *mt = m + (size_t)o * T + (size_t)r * g->tw + tx;
                vecf s[4][6];
                for (int b = 0; b < 6; b++) { /* A^T along y */
                    vecf ma[6], sy[4];
                    for (int a = 0; a < 6; a++)
                        ma[a] = loadv(mt + (size_t)(a * 6 + b) * xs);
                    at6(ma, sy);
                    for (int i = 0; i < 4; i++)
                        s[i][b] = sy[i];
                }
                const int ntx = g->tw - tx < VL ? g->tw - tx : VL;
                for (int i = 0; i < 4; i++) {
                    const int oy = 4 * (ty0 + r) + i;
                    if (oy >= g->h)
                        break;
                    vecf out[4]; /* A^T along x: the four phases of the row */
                    at6(s[i], out);
                    const int nx = g->w - 4 * tx < 4 * ntx ? g->w - 4 * tx : 4 * ntx;
                    store_row(out, nx, add, yo + (size_t)oy * g->w + 4 * tx);
                }
            }
    }
}

void wino_forward_image(const wino_geom *g, const float *x, const float *u, int add, float *ws,
                        float *y)
{
    float *v = ws, *m = ws + v_floats(g), *db = m + v_floats(g), *eb = db + d_floats(g);
    for (int ty0 = 0; ty0 < g->th; ty0 += g->nb) {
        const int nbr = g->th - ty0 < g->nb ? g->th - ty0 : g->nb;
        input_transform(g, x, g->c, ty0, nbr, db, eb, v);
        products(g, u, v, g->c, g->co, m);
        output_transform(g, m, g->co, ty0, nbr, add, y);
    }
}

/* dm[xi][o][t] = A dY A^T of the 4x4 output-gradient tiles of the tile rows
 * [ty0, ty0 + nbr) (zero beyond the map) */
static void grad_transform(const wino_geom *g, const float *dy, int ty0, int nbr, float *db,
                           float *dm)
{
    const int s = g->s, rs = 4 * s;
    const size_t T = (size_t)g->t, xs = g->xs;
    for (int o = 0; o < g->co; o++) {
        const float *dyo = dy + (size_t)o * g->h * g->w;
        for (int r = 0; r < nbr; r++) {
            for (int i = 0; i < 4; i++) {
                const int oy = 4 * (ty0 + r) + i;
                if (oy >= g->h)
                    memset(db + (size_t)i * rs, 0, (size_t)rs * sizeof(float));
                else
                    deinterleave(dyo + (size_t)oy * g->w, g->w, 0, g->twv, s, db + (size_t)i * rs);
            }
            float *mr = dm + (size_t)o * T + (size_t)r * g->tw;
            for (int tx = 0; tx < g->twv; tx += VL) {
                vecf sy[4][6]; /* [phase][a]: A along y */
                for (int p = 0; p < 4; p++) {
                    vecf col[4];
                    for (int i = 0; i < 4; i++)
                        col[i] = loadv(db + (size_t)i * rs + (size_t)p * s + tx);
                    a4(col, sy[p]);
                }
                for (int a = 0; a < 6; a++) { /* then along x */
                    const vecf row[4] = {sy[0][a], sy[1][a], sy[2][a], sy[3][a]};
                    vecf mb[6];
                    a4(row, mb);
                    for (int b = 0; b < 6; b++)
                        storev(mr + (size_t)(a * 6 + b) * xs + tx, mb[b]);
                }
            }
        }
    }
}

void wino_dweights_image(const wino_geom *g, const float *x, const float *dy, float *ws,
                         float *du)
{
    float *v = ws, *m = ws + v_floats(g), *db = m + v_floats(g), *eb = db + d_floats(g);
    const int T = g->t;
    for (int ty0 = 0; ty0 < g->th; ty0 += g->nb) {
        const int nbr = g->th - ty0 < g->nb ? g->th - ty0 : g->nb;
        input_transform(g, x, g->c, ty0, nbr, db, eb, v);
        grad_transform(g, dy, ty0, nbr, db, m);
        /* a last, shorter block leaves stale columns in V and M: only the
         * block's own tiles enter the sums */
        const int n = nbr * g->tw;
        for (int xi = 0; xi < WINO_XI; xi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->co, g->c, n, 1.0f,
                        m + (size_t)xi * g->xs, T, v + (size_t)xi * g->xs, T, 1.0f,
                        du + (size_t)xi * g->co * g->c, g->c);
    }
}

void wino_dweights_finish(const float *du, int co, int c, float *dw)
{
    const size_t xs = (size_t)co * c;
    for (size_t oc = 0; oc < xs; oc++) {
        float t[6][3];
        for (int i = 0; i < 6; i++) /* G^T along x */
            apply_gt(du + (size_t)(i * 6) * xs + oc, xs, t[i], 1);
        for (int k = 0; k < 3; k++) /* then along y */
            apply_gt(&t[0][k], 3, dw + oc * 9 + k, 3);
    }
}
