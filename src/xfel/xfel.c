/* Diffraction physics: molecules, form factors, detector geometry on the
 * Ewald sphere, expected photon counts and Poisson noise. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <string.h>

#include "a4nn/xfel.h"
#include "xfel_kernel.h"

#define R_E 2.8179403262e-5 /* classical electron radius, Angstrom */
#define HC_KEV_A 12.398419843320026

/* Cromer-Mann coefficients (International Tables for Crystallography C,
 * table 6.1.1.4): f(s) = sum a_i exp(-b_i s^2) + c, s = sin(theta)/lambda. */
static const double CM[7][9] = {
    {0.489918, 0.262003, 0.196767, 0.049879, 20.6593, 7.74039, 49.5519, 2.20159, 0.001305}, /* H */
    {2.31000, 1.02000, 1.58860, 0.865000, 20.8439, 10.2075, 0.568700, 51.6512, 0.215600},   /* C */
    {12.2126, 3.13220, 2.01250, 1.16630, 0.005700, 9.89330, 28.9975, 0.582600, -11.529},    /* N */
    {3.04850, 2.28680, 1.54630, 0.867000, 13.2771, 5.70110, 0.323900, 32.9089, 0.250800},   /* O */
    {6.90530, 5.20340, 1.43790, 1.58630, 1.46790, 22.2151, 0.253600, 56.1720, 0.866900},    /* S */
    {6.43450, 4.17910, 1.78000, 1.49080, 1.90670, 27.1570, 0.526000, 68.1645, 1.11490},     /* P */
    {11.7695, 7.35730, 3.52220, 2.30450, 4.76110, 0.307200, 15.3535, 76.8805, 1.03690},     /* Fe */
};

/* A coarse residue: 57 electrons (the mean of the 20 amino acids with their
 * hydrogens, weighted by natural abundance, rounded), spread as a Gaussian
 * of radius of gyration 1.8 Angstrom. */
#define RESIDUE_ELECTRONS 57.0
#define RESIDUE_RG 1.8

double a4nn_form_factor(a4nn_ff_type t, double q)
{
    if (t == A4NN_FF_POINT)
        return 1.0;
    if (t == A4NN_FF_RESIDUE)
        return RESIDUE_ELECTRONS * exp(-q * q * RESIDUE_RG * RESIDUE_RG / 6.0);
    const double *c = CM[t];
    double s2 = (q / (4 * M_PI)) * (q / (4 * M_PI));
    return c[0] * exp(-c[4] * s2) + c[1] * exp(-c[5] * s2) + c[2] * exp(-c[6] * s2) +
           c[3] * exp(-c[7] * s2) + c[8];
}

void a4nn_detector_defaults(a4nn_detector *d)
{
    d->pixels = 127;
    d->bin = 1;
    d->pixel_size = 600e-6; /* a 4x4-binned 150 um pixel */
    d->distance = 0.2;
    d->energy_kev = 6.0;
    d->fluence = 1e16;
    d->beamstop = 0;
}

int a4nn_detector_side(const a4nn_detector *d) { return d->pixels / d->bin; }

struct a4nn_xfel {
    a4nn_detector det;
    int side, npix;
    double *q;      /* [npix][3] momentum transfer, 1/A */
    double *scale;  /* [npix] J r_e^2 Omega P, 0 behind the beam stop */
    int ntypes, type_of[A4NN_FF_COUNT];
    float *ff;      /* [ntypes][npix] form factors */
    int n;          /* scatterers */
    int *count;     /* [ntypes] scatterers per type */
    float *xyz;     /* [n][3], grouped by type */
};

void a4nn_xfel_pixel_q(const a4nn_xfel *x, int row, int col, double q[3])
{
    memcpy(q, x->q + 3 * ((size_t)row * x->side + col), sizeof(double) * 3);
}

a4nn_xfel *a4nn_xfel_alloc(const a4nn_detector *d, const a4nn_molecule *m, a4nn_error *err)
{
    if (d->pixels < 4 || d->bin < 1 || d->pixels / d->bin < 2 || !(d->pixel_size > 0) ||
        !(d->distance > 0) || !(d->energy_kev > 0) || !(d->fluence > 0) || m->n < 1)
        return a4nn_errorf(err, "bad detector or molecule (pixels %d, bin %d, pixel size %g m, "
                                "distance %g m, energy %g keV, fluence %g, %d scatterers)",
                           d->pixels, d->bin, d->pixel_size, d->distance, d->energy_kev,
                           d->fluence, m->n),
               NULL;
    a4nn_xfel *x = a4nn_calloc(1, sizeof *x);
    x->det = *d;
    x->side = a4nn_detector_side(d);
    x->npix = x->side * x->side;
    x->q = a4nn_malloc(sizeof(double) * 3 * (size_t)x->npix);
    x->scale = a4nn_malloc(sizeof(double) * (size_t)x->npix);
    const double lambda = HC_KEV_A / d->energy_kev, k = 2 * M_PI / lambda;
    const double ps = d->pixel_size * d->bin, L = d->distance;
    const double J = d->fluence * 1e-8; /* photons per square Angstrom */
    const double mid = (x->side - 1) / 2.0;
    for (int r = 0; r < x->side; r++)
        for (int c = 0; c < x->side; c++) {
            size_t p = (size_t)r * x->side + c;
            double px = (c - mid) * ps, py = (r - mid) * ps, rr = sqrt(px * px + py * py + L * L);
            double s[3] = {px / rr, py / rr, L / rr};
            x->q[3 * p] = k * s[0];
            x->q[3 * p + 1] = k * s[1];
            x->q[3 * p + 2] = k * (s[2] - 1);
            double omega = ps * ps * L / (rr * rr * rr), pol = 1 - s[0] * s[0];
            double rpix = sqrt((c - mid) * (c - mid) + (r - mid) * (r - mid));
            x->scale[p] = (d->beamstop > 0 && rpix < d->beamstop) ? 0 : J * R_E * R_E * omega * pol;
        }
    /* group scatterers by type, so each pixel needs one form factor per type */
    for (int t = 0; t < A4NN_FF_COUNT; t++)
        x->type_of[t] = -1;
    for (int i = 0; i < m->n; i++)
        if (x->type_of[m->type[i]] < 0)
            x->type_of[m->type[i]] = x->ntypes++;
    x->count = a4nn_calloc((size_t)x->ntypes, sizeof(int));
    for (int i = 0; i < m->n; i++)
        x->count[x->type_of[m->type[i]]]++;
    x->n = m->n;
    x->xyz = a4nn_malloc(sizeof(float) * 3 * (size_t)m->n);
    int k2 = 0;
    for (int g = 0; g < x->ntypes; g++)
        for (int i = 0; i < m->n; i++)
            if (x->type_of[m->type[i]] == g)
                memcpy(x->xyz + 3 * k2++, m->xyz + 3 * i, sizeof(float) * 3);
    x->ff = a4nn_malloc(sizeof(float) * (size_t)x->ntypes * (size_t)x->npix);
    for (int t = 0; t < A4NN_FF_COUNT; t++) {
        int g = x->type_of[t];
        if (g < 0)
            continue;
        for (int p = 0; p < x->npix; p++) {
            const double *q = x->q + 3 * p;
            x->ff[(size_t)g * x->npix + p] =
                (float)a4nn_form_factor((a4nn_ff_type)t, sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]));
        }
    }
    return x;
}

void a4nn_xfel_free(a4nn_xfel *x)
{
    if (!x)
        return;
    free(x->q), free(x->scale), free(x->ff), free(x->count), free(x->xyz);
    free(x);
}

void a4nn_quaternion_uniform(double u1, double u2, double u3, double q[4])
{
    /* Shoemake's method */
    double a = sqrt(1 - u1), b = sqrt(u1);
    q[0] = b * cos(2 * M_PI * u3);
    q[1] = a * sin(2 * M_PI * u2);
    q[2] = a * cos(2 * M_PI * u2);
    q[3] = b * sin(2 * M_PI * u3);
}

static void rotation_matrix(const double q[4], double R[9])
{
    double w = q[0], x = q[1], y = q[2], z = q[3];
    R[0] = 1 - 2 * (y * y + z * z), R[1] = 2 * (x * y - w * z), R[2] = 2 * (x * z + w * y);
    R[3] = 2 * (x * y + w * z), R[4] = 1 - 2 * (x * x + z * z), R[5] = 2 * (y * z - w * x);
    R[6] = 2 * (x * z - w * y), R[7] = 2 * (y * z + w * x), R[8] = 1 - 2 * (x * x + y * y);
}

void a4nn_xfel_expected(a4nn_xfel *x, const double q[4], float *out)
{
    double R[9];
    rotation_matrix(q, R);
    /* per call, so that threads can share one workspace */
    float *rot = a4nn_malloc(sizeof(float) * 3 * (size_t)x->n);
    float *rx = rot, *ry = rot + x->n, *rz = rot + 2 * (size_t)x->n;
    for (int i = 0; i < x->n; i++) {
        const float *a = x->xyz + 3 * i;
        rx[i] = (float)(R[0] * a[0] + R[1] * a[1] + R[2] * a[2]);
        ry[i] = (float)(R[3] * a[0] + R[4] * a[1] + R[5] * a[2]);
        rz[i] = (float)(R[6] * a[0] + R[7] * a[1] + R[8] * a[2]);
    }
    for (int p = 0; p < x->npix; p++) {
        if (x->scale[p] == 0) {
            out[p] = 0;
            continue;
        }
        const double *qv = x->q + 3 * p;
        double fr = 0, fi = 0;
        int off = 0;
        for (int g = 0; g < x->ntypes; g++) {
            float re, im;
            a4nn_structure_sum((float)qv[0], (float)qv[1], (float)qv[2], rx + off, ry + off,
                               rz + off, x->count[g], &re, &im);
            double f = x->ff[(size_t)g * x->npix + p];
            fr += f * re;
            fi += f * im;
            off += x->count[g];
        }
        out[p] = (float)(x->scale[p] * (fr * fr + fi * fi));
    }
    free(rot);
}

void a4nn_xfel_expected_reference(a4nn_xfel *x, const double q[4], float *out)
{
    double R[9];
    rotation_matrix(q, R);
    for (int p = 0; p < x->npix; p++) {
        const double *qv = x->q + 3 * p;
        double fr = 0, fi = 0;
        int g = 0, left = x->count[0];
        for (int i = 0; i < x->n; i++) {
            while (left == 0)
                left = x->count[++g];
            left--;
            const float *a = x->xyz + 3 * i;
            double r[3] = {R[0] * a[0] + R[1] * a[1] + R[2] * a[2],
                           R[3] * a[0] + R[4] * a[1] + R[5] * a[2],
                           R[6] * a[0] + R[7] * a[1] + R[8] * a[2]};
            double ph = qv[0] * r[0] + qv[1] * r[1] + qv[2] * r[2];
            double f = x->ff[(size_t)g * x->npix + p];
            fr += f * cos(ph);
            fi += f * sin(ph);
        }
        out[p] = (float)(x->scale[p] * (fr * fr + fi * fi));
    }
}

double a4nn_xfel_mean_intensity(const a4nn_molecule *m, double q, int n, uint64_t seed)
{
    a4nn_rng rng;
    a4nn_rng_seed(&rng, seed);
    double sum = 0;
    for (int k = 0; k < n; k++) {
        double u = 2 * a4nn_rng_uniform(&rng) - 1, phi = 2 * M_PI * a4nn_rng_uniform(&rng);
        double s = sqrt(1 - u * u), qv[3] = {q * s * cos(phi), q * s * sin(phi), q * u};
        double fr = 0, fi = 0;
        for (int i = 0; i < m->n; i++) {
            const float *a = m->xyz + 3 * i;
            double ph = qv[0] * a[0] + qv[1] * a[1] + qv[2] * a[2];
            double f = a4nn_form_factor((a4nn_ff_type)m->type[i], q);
            fr += f * cos(ph);
            fi += f * sin(ph);
        }
        sum += fr * fr + fi * fi;
    }
    return sum / n;
}

/* Poisson photon counts of expected intensities, from GSL's generator. */
static void poisson(gsl_rng *r, const float *expected, int n, float *counts)
{
    for (int p = 0; p < n; p++)
        counts[p] = expected[p] > 0 ? (float)gsl_ran_poisson(r, expected[p]) : 0.0f;
}

uint32_t a4nn_xfel_stream_seed(uint64_t seed, long index)
{
    /* MT19937 takes 32 bits: hashing (seed, index) down to them would let two
     * of a file's ~10^5 images collide, an offset from one base cannot */
    const uint64_t base = a4nn_seed_mix(seed, 0x78666c737472ULL /* "xflstr" */) >> 32;
    return (uint32_t)((base + (uint64_t)index) % 0xffffffffULL + 1);
}

void a4nn_xfel_poisson(const float *expected, int n, uint64_t seed, long index, float *counts)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, a4nn_xfel_stream_seed(seed, index));
    poisson(r, expected, n, counts);
    gsl_rng_free(r);
}

void a4nn_xfel_image(a4nn_xfel *x, uint64_t seed, long index, float *counts, double quat[4])
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, a4nn_xfel_stream_seed(seed, index));
    double u1 = gsl_rng_uniform(r), u2 = gsl_rng_uniform(r), u3 = gsl_rng_uniform(r);
    a4nn_quaternion_uniform(u1, u2, u3, quat);
    a4nn_xfel_expected(x, quat, counts);
    poisson(r, counts, x->npix, counts);
    gsl_rng_free(r);
}
