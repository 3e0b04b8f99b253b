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
    d->beamstop = 2e-3;
    d->background = 0.002;
    d->solvent = 0.01;
    d->gain = 1;
    d->read_noise = 0;
    d->jitter = 0.15;
    d->hit_offset = 0.5;
}

void a4nn_detector_ideal(a4nn_detector *d)
{
    d->beamstop = 0;
    d->background = d->solvent = d->read_noise = d->jitter = d->hit_offset = 0;
    d->gain = 1;
}

int a4nn_detector_side(const a4nn_detector *d) { return d->pixels / d->bin; }

/* Orientation-averaged scattering of one water molecule (Debye's formula,
 * O-H 0.957 A, H-H 1.514 A) relative to q = 0: the shape of the solvent
 * vapour's background. */
static double water_profile(double q)
{
    double fo = a4nn_form_factor(A4NN_FF_O, q), fh = a4nn_form_factor(A4NN_FF_H, q);
    double fo0 = a4nn_form_factor(A4NN_FF_O, 0), fh0 = a4nn_form_factor(A4NN_FF_H, 0);
#define SINC(x) ((x) > 1e-9 ? sin(x) / (x) : 1.0)
    double s = fo * fo + 2 * fh * fh + 4 * fo * fh * SINC(q * 0.957) + 2 * fh * fh * SINC(q * 1.514);
    double s0 = fo0 * fo0 + 2 * fh0 * fh0 + 4 * fo0 * fh0 + 2 * fh0 * fh0;
#undef SINC
    return s / s0;
}

/* Every binned pixel is the sum of its bin x bin native pixels, each
 * evaluated at its own centre (q, solid angle, polarisation, form factors):
 * binned data are the integral of the unbinned expectation. */
struct a4nn_xfel {
    a4nn_detector det;
    int side, npix, sub, nsamp; /* image side, pixels, samples per pixel, samples */
    double *q;                  /* [nsamp][3] momentum transfer, 1/A */
    double *scale;              /* [nsamp] J r_e^2 Omega P */
    uint8_t *masked;            /* [npix] behind the beam stop */
    float *background;          /* [npix] expected background photons */
    int ntypes, type_of[A4NN_FF_COUNT];
    float *ff;                  /* [ntypes][nsamp] form factors */
    int n;                      /* scatterers */
    int *count;                 /* [ntypes] scatterers per type */
    float *xyz;                 /* [n][3], grouped by type */
};

void a4nn_xfel_pixel_q(const a4nn_xfel *x, int row, int col, double q[3])
{
    /* the mean over the pixel's samples (its centre's q for bin 1) */
    size_t p = (size_t)row * x->side + col;
    q[0] = q[1] = q[2] = 0;
    for (int s = 0; s < x->sub; s++)
        for (int k = 0; k < 3; k++)
            q[k] += x->q[3 * (p * x->sub + s) + k] / x->sub;
}

a4nn_xfel *a4nn_xfel_alloc(const a4nn_detector *d, const a4nn_molecule *m, a4nn_error *err)
{
    if (d->pixels < 4 || d->bin < 1 || d->pixels / d->bin < 2 || !(d->pixel_size > 0) ||
        !(d->distance > 0) || !(d->energy_kev > 0) || !(d->fluence > 0) || m->n < 1 ||
        !(d->beamstop >= 0) || !(d->background >= 0) || !(d->solvent >= 0) || !(d->gain > 0) ||
        !(d->read_noise >= 0) || !(d->jitter >= 0) || !(d->hit_offset >= 0))
        return a4nn_errorf(err, "bad detector or molecule (pixels %d, bin %d, pixel size %g m, "
                                "distance %g m, energy %g keV, fluence %g, %d scatterers, "
                                "beam stop %g m, background %g + %g, gain %g, read noise %g, "
                                "jitter %g, hit offset %g)",
                           d->pixels, d->bin, d->pixel_size, d->distance, d->energy_kev,
                           d->fluence, m->n, d->beamstop, d->background, d->solvent, d->gain,
                           d->read_noise, d->jitter, d->hit_offset),
               NULL;
    a4nn_xfel *x = a4nn_calloc(1, sizeof *x);
    x->det = *d;
    x->side = a4nn_detector_side(d);
    x->npix = x->side * x->side;
    x->sub = d->bin * d->bin;
    x->nsamp = x->npix * x->sub;
    x->q = a4nn_malloc(sizeof(double) * 3 * (size_t)x->nsamp);
    x->scale = a4nn_malloc(sizeof(double) * (size_t)x->nsamp);
    x->masked = a4nn_calloc((size_t)x->npix, 1);
    x->background = a4nn_calloc((size_t)x->npix, sizeof(float));
    const double lambda = HC_KEV_A / d->energy_kev, k = 2 * M_PI / lambda;
    const double ps = d->pixel_size, L = d->distance;
    const double J = d->fluence * 1e-8; /* photons per square Angstrom */
    const int native = x->side * d->bin;     /* the central native pixels in use */
    const double mid = (native - 1) / 2.0;
    for (int r = 0; r < native; r++)
        for (int c = 0; c < native; c++) {
            size_t p = (size_t)(r / d->bin) * x->side + (size_t)(c / d->bin);
            size_t smp = p * x->sub + (size_t)(r % d->bin) * d->bin + (size_t)(c % d->bin);
            double px = (c - mid) * ps, py = (r - mid) * ps, rr = sqrt(px * px + py * py + L * L);
            double s[3] = {px / rr, py / rr, L / rr};
            double *q = x->q + 3 * smp;
            q[0] = k * s[0];
            q[1] = k * s[1];
            q[2] = k * (s[2] - 1);
            double cos3 = (L / rr) * (L / rr) * (L / rr), pol = 1 - s[0] * s[0];
            x->scale[smp] = J * R_E * R_E * ps * ps / (L * L) * cos3 * pol;
            double qa = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
            x->background[p] += (float)(d->background + d->solvent * cos3 * pol * water_profile(qa));
        }
    /* a binned pixel any part of which lies in the beam stop's shadow is masked */
    for (int r = 0; r < x->side; r++)
        for (int c = 0; c < x->side; c++) {
            double cx = (c * d->bin + (d->bin - 1) / 2.0 - mid) * ps;
            double cy = (r * d->bin + (d->bin - 1) / 2.0 - mid) * ps, h = d->bin * ps / 2;
            double nx = fmax(0, fabs(cx) - h), ny = fmax(0, fabs(cy) - h);
            if (d->beamstop > 0 && nx * nx + ny * ny < d->beamstop * d->beamstop) {
                x->masked[(size_t)r * x->side + c] = 1;
                x->background[(size_t)r * x->side + c] = 0;
            }
        }
    /* group scatterers by type, so each sample needs one form factor per type */
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
    x->ff = a4nn_malloc(sizeof(float) * (size_t)x->ntypes * (size_t)x->nsamp);
    for (int t = 0; t < A4NN_FF_COUNT; t++) {
        int g = x->type_of[t];
        if (g < 0)
            continue;
        for (int p = 0; p < x->nsamp; p++) {
            const double *q = x->q + 3 * p;
            x->ff[(size_t)g * x->nsamp + p] =
                (float)a4nn_form_factor((a4nn_ff_type)t, sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]));
        }
    }
    return x;
}

void a4nn_xfel_free(a4nn_xfel *x)
{
    if (!x)
        return;
    free(x->q), free(x->scale), free(x->masked), free(x->background), free(x->ff);
    free(x->count), free(x->xyz);
    free(x);
}

const float *a4nn_xfel_background(const a4nn_xfel *x) { return x->background; }
const uint8_t *a4nn_xfel_mask(const a4nn_xfel *x) { return x->masked; }

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

static void rotate(const a4nn_xfel *x, const double q[4], float *rx, float *ry, float *rz)
{
    double R[9];
    rotation_matrix(q, R);
    for (int i = 0; i < x->n; i++) {
        const float *a = x->xyz + 3 * i;
        rx[i] = (float)(R[0] * a[0] + R[1] * a[1] + R[2] * a[2]);
        ry[i] = (float)(R[3] * a[0] + R[4] * a[1] + R[5] * a[2]);
        rz[i] = (float)(R[6] * a[0] + R[7] * a[1] + R[8] * a[2]);
    }
}

/* Shared by the fast path and its reference: the expected photons of every
 * pixel, summed over its samples, with the structure-factor sum given. */
typedef void (*structure_sum_fn)(float, float, float, const float *, const float *,
                                 const float *, int, float *, float *);

static void expected_with(a4nn_xfel *x, const double q[4], float *out, structure_sum_fn sum)
{
    /* per call, so that threads can share one a4nn_xfel */
    float *rot = a4nn_malloc(sizeof(float) * 3 * (size_t)x->n);
    float *rx = rot, *ry = rot + x->n, *rz = rot + 2 * (size_t)x->n;
    rotate(x, q, rx, ry, rz);
    for (int p = 0; p < x->npix; p++) {
        double total = 0;
        for (int s = 0; s < x->sub && !x->masked[p]; s++) {
            const size_t smp = (size_t)p * x->sub + s;
            const double *qv = x->q + 3 * smp;
            double fr = 0, fi = 0;
            int off = 0;
            for (int g = 0; g < x->ntypes; g++) {
                float re, im;
                sum((float)qv[0], (float)qv[1], (float)qv[2], rx + off, ry + off, rz + off,
                    x->count[g], &re, &im);
                double f = x->ff[(size_t)g * x->nsamp + smp];
                fr += f * re;
                fi += f * im;
                off += x->count[g];
            }
            total += x->scale[smp] * (fr * fr + fi * fi);
        }
        out[p] = (float)total;
    }
    free(rot);
}

void a4nn_xfel_expected(a4nn_xfel *x, const double q[4], float *out)
{
    expected_with(x, q, out, a4nn_structure_sum);
}

void a4nn_xfel_expected_libmvec(a4nn_xfel *x, const double q[4], float *out)
{
    expected_with(x, q, out, a4nn_structure_sum_libmvec);
}

/* Double precision, one scatterer at a time, libm's sin and cos. */
static void structure_sum_reference(float qx, float qy, float qz, const float *x, const float *y,
                                    const float *z, int n, float *re, float *im)
{
    double sr = 0, si = 0;
    for (int j = 0; j < n; j++) {
        double ph = (double)qx * x[j] + (double)qy * y[j] + (double)qz * z[j];
        sr += cos(ph);
        si += sin(ph);
    }
    *re = (float)sr;
    *im = (float)si;
}

void a4nn_xfel_expected_reference(a4nn_xfel *x, const double q[4], float *out)
{
    expected_with(x, q, out, structure_sum_reference);
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

double a4nn_xfel_image(a4nn_xfel *x, uint64_t seed, long index, float *counts, double quat[4])
{
    const a4nn_detector *d = &x->det;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, a4nn_xfel_stream_seed(seed, index));
    double u1 = gsl_rng_uniform(r), u2 = gsl_rng_uniform(r), u3 = gsl_rng_uniform(r);
    a4nn_quaternion_uniform(u1, u2, u3, quat);
    /* the fluence this particle sees: the pulse's (SASE pulses follow a gamma
     * distribution) times the Gaussian profile where it crosses the beam,
     * uniformly within hit_offset FWHM of the axis */
    double f = 1;
    if (d->jitter > 0)
        f = gsl_ran_gamma(r, 1 / (d->jitter * d->jitter), d->jitter * d->jitter);
    if (d->hit_offset > 0)
        f *= exp(-4 * M_LN2 * d->hit_offset * d->hit_offset * gsl_rng_uniform(r));
    a4nn_xfel_expected(x, quat, counts);
    for (int p = 0; p < x->npix; p++)
        counts[p] = (float)(f * counts[p]) + x->background[p];
    poisson(r, counts, x->npix, counts);
    if (d->gain != 1 || d->read_noise > 0) /* an integrating detector; a zero threshold */
        for (int p = 0; p < x->npix; p++)
            if (!x->masked[p]) {
                double v = d->gain * counts[p] + gsl_ran_gaussian(r, d->read_noise * d->bin);
                counts[p] = v > 0 ? (float)v : 0.0f;
            }
    gsl_rng_free(r);
    return f * d->fluence;
}
