/* Diffraction physics of the simulator: Friedel symmetry, linearity in
 * fluence, Poisson statistics, Guinier's law, isotropy of a single atom,
 * distinct conformations, and the fast kernel against the reference. */
#include <gsl/gsl_rng.h>
#include <math.h>

#include "a4nn/xfel.h"
#include "testutil.h"

static void small_detector(a4nn_detector *d)
{
    a4nn_detector_defaults(d);
    a4nn_detector_ideal(d);
    d->pixels = 64;
    d->bin = 2; /* 32 x 32 */
}

static void test_fast_kernel_matches_reference(void **s)
{
    (void)s;
    a4nn_molecule m;
    assert_int_equal(a4nn_molecule_builtin(0, 30, &m, NULL), A4NN_OK);
    assert_int_equal(m.n, 840);
    a4nn_detector d;
    small_detector(&d);
    a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
    float a[1024], b[1024];
    double q[4];
    a4nn_quaternion_uniform(0.3, 0.6, 0.1, q);
    a4nn_xfel_expected(x, q, a);
    a4nn_xfel_expected_reference(x, q, b);
    double peak = 0;
    for (int i = 0; i < 1024; i++)
        peak = fmax(peak, b[i]);
    for (int i = 0; i < 1024; i++)
        assert_close(a[i], b[i], 1e-3 * peak + 1e-3 * b[i]);
    a4nn_xfel_free(x);
    a4nn_molecule_free(&m);
}

/* |F(q)| = |F(-q)|: near the beam axis the Ewald sphere is nearly flat, so
 * the pixel opposite through the centre sees almost -q. */
static void test_friedel_symmetry(void **s)
{
    (void)s;
    a4nn_molecule m;
    a4nn_molecule_builtin(1, 30, &m, NULL);
    a4nn_detector d;
    a4nn_detector_defaults(&d);
    a4nn_detector_ideal(&d);
    d.pixels = 63;
    a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
    float *img = malloc(sizeof(float) * 63 * 63);
    double q[4];
    a4nn_quaternion_uniform(0.7, 0.2, 0.9, q);
    a4nn_xfel_expected(x, q, img);
    double num = 0, den = 0;
    for (int r = 31 - 6; r <= 31 + 6; r++)
        for (int c = 31 - 6; c <= 31 + 6; c++) {
            double a = img[r * 63 + c], b = img[(62 - r) * 63 + (62 - c)];
            num += fabs(a - b);
            den += a + b;
        }
    printf("Friedel asymmetry near the axis: %.4f\n", num / den);
    assert_true(num / den < 0.02);
    free(img);
    a4nn_xfel_free(x);
    a4nn_molecule_free(&m);
}

static void test_linear_in_fluence_and_poisson(void **s)
{
    (void)s;
    a4nn_molecule m;
    a4nn_molecule_builtin(0, 30, &m, NULL);
    a4nn_detector d;
    small_detector(&d);
    double mean[2];
    for (int k = 0; k < 2; k++) {
        d.fluence = k ? 1e16 : 1e15;
        a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
        float img[1024];
        double q[4], tot = 0;
        for (long i = 0; i < 40; i++) {
            a4nn_xfel_image(x, 7, i, img, q);
            for (int p = 0; p < 1024; p++)
                tot += img[p];
        }
        mean[k] = tot / 40;
        a4nn_xfel_free(x);
    }
    printf("mean photons: %.1f at 1e15, %.1f at 1e16 (ratio %.3f)\n", mean[0], mean[1],
           mean[1] / mean[0]);
    assert_close(mean[1] / mean[0], 10.0, 0.2); /* same orientations: noise only */

    /* Poisson: at a fixed orientation the counts of a pixel over many noisy
     * draws have variance equal to their mean */
    a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
    float expect[1024];
    double q[4] = {1, 0, 0, 0};
    a4nn_xfel_expected(x, q, expect);
    int p = 16 * 32 + 20; /* off-centre pixel with a moderate count */
    float counts[1024];
    double s1 = 0, s2 = 0;
    const int n = 5000;
    for (int i = 0; i < n; i++) { /* the simulator's noise, one stream per image */
        a4nn_xfel_poisson(expect, 1024, 99, i, counts);
        double v = counts[p];
        s1 += v, s2 += v * v;
    }
    double mu = s1 / n, var = s2 / n - mu * mu;
    printf("pixel expectation %.2f: sample mean %.2f, variance %.2f\n", expect[p], mu, var);
    assert_close(mu, expect[p], 0.05 * expect[p] + 0.05);
    assert_close(var / mu, 1.0, 0.06);
    a4nn_xfel_free(x);
    a4nn_molecule_free(&m);
}

/* Guinier: ln <I(q)> = ln I(0) - q^2 Rg^2 / 3 at low q, with the radius of
 * gyration of the coordinates (point scatterers: no form-factor fall-off). */
static void test_guinier_law(void **s)
{
    (void)s;
    a4nn_molecule m;
    a4nn_molecule_builtin(0, 30, &m, NULL);
    for (int i = 0; i < m.n; i++)
        m.type[i] = A4NN_FF_POINT;
    double rg = a4nn_molecule_rg(&m);
    double i0 = (double)m.n * m.n, sx = 0, sy = 0, sxx = 0, sxy = 0;
    int k = 0;
    for (double q = 0.004; q * rg < 1.0; q += 0.004, k++) {
        double I = a4nn_xfel_mean_intensity(&m, q, 400, 11);
        double x = q * q, y = log(I / i0);
        sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    double slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
    double rg_fit = sqrt(-3 * slope);
    printf("radius of gyration: coordinates %.2f A, Guinier fit %.2f A (%d q values)\n", rg,
           rg_fit, k);
    assert_close(rg_fit, rg, 0.05 * rg);
    a4nn_molecule_free(&m);
}

static void test_single_atom_isotropic(void **s)
{
    (void)s;
    a4nn_molecule m = {1, calloc(3, sizeof(float)), calloc(1, 1)};
    m.type[0] = A4NN_FF_C;
    a4nn_detector d;
    a4nn_detector_defaults(&d);
    a4nn_detector_ideal(&d);
    d.pixels = 63;
    a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
    float *a = malloc(sizeof(float) * 63 * 63);
    double q[4];
    a4nn_quaternion_uniform(0.4, 0.5, 0.6, q);
    a4nn_xfel_expected(x, q, a);
    /* the four pixels at the same radius along the axes: equal up to the
     * polarisation factor, which is the only anisotropy left */
    for (int r = 1; r < 30; r += 7) {
        float up = a[(31 - r) * 63 + 31], down = a[(31 + r) * 63 + 31];
        float left = a[31 * 63 + 31 - r], right = a[31 * 63 + 31 + r];
        assert_close(up, down, 1e-5 * up);
        assert_close(left, right, 1e-5 * left);
        double qv[3];
        a4nn_xfel_pixel_q(x, 31, 31 + r, qv);
        double k = 2 * M_PI / (12.398419843320026 / d.energy_kev);
        double sx = (qv[0] / k); /* x component of the scattered direction */
        assert_close(left / (1 - sx * sx), up, 1e-4 * up);
    }
    free(a);
    a4nn_xfel_free(x);
    a4nn_molecule_free(&m);
}

static void test_conformations_differ(void **s)
{
    (void)s;
    a4nn_molecule m0, m1;
    a4nn_molecule_builtin(0, 30, &m0, NULL);
    a4nn_molecule_builtin(1, 30, &m1, NULL);
    assert_true(fabs(a4nn_molecule_rg(&m0) - a4nn_molecule_rg(&m1)) > 0.01 ||
                memcmp(m0.xyz, m1.xyz, sizeof(float) * 3 * 840) != 0);
    a4nn_detector d;
    small_detector(&d);
    a4nn_xfel *x0 = a4nn_xfel_alloc(&d, &m0, NULL), *x1 = a4nn_xfel_alloc(&d, &m1, NULL);
    float a[1024], b[1024];
    double q[4] = {1, 0, 0, 0}, diff = 0, tot = 0;
    a4nn_xfel_expected(x0, q, a);
    a4nn_xfel_expected(x1, q, b);
    for (int i = 0; i < 1024; i++)
        diff += fabs(a[i] - b[i]), tot += a[i];
    printf("conformations differ by %.1f %% of the photons at the same orientation\n",
           100 * diff / tot);
    assert_true(diff / tot > 0.05);
    a4nn_xfel_free(x0), a4nn_xfel_free(x1);
    a4nn_molecule_free(&m0), a4nn_molecule_free(&m1);
}

static void test_pdb_reader(void **s)
{
    (void)s;
    char path[] = "/tmp/a4nn-pdb-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "HEADER    TEST\n"
               "ATOM      1  N   GLY A   1      11.104   6.134  -6.504  1.00  0.00           N\n"
               "ATOM      2  CA  GLY A   1      11.639   6.071  -5.147  1.00  0.00           C\n"
               "HETATM    3 FE   HEM A   2       1.000   2.000   3.000  1.00  0.00\n"
               "ATOM      4  O   GLY A   1      10.000   5.000  -4.000  1.00  0.00\n"
               "END\n");
    fclose(f);
    a4nn_molecule m;
    a4nn_error err;
    assert_int_equal(a4nn_molecule_read_pdb(path, &m, &err), A4NN_OK);
    assert_int_equal(m.n, 4);
    assert_int_equal(m.type[0], A4NN_FF_N);
    assert_int_equal(m.type[1], A4NN_FF_C);
    assert_int_equal(m.type[2], A4NN_FF_FE); /* from the atom name */
    assert_int_equal(m.type[3], A4NN_FF_O);
    a4nn_molecule_free(&m);
    f = fopen(path, "w");
    fprintf(f, "ATOM      1  N   GLY A   1      11.104   abc    -6.504  1.00  0.00           N\n");
    fclose(f);
    assert_int_equal(a4nn_molecule_read_pdb(path, &m, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "bad coordinate"));
    f = fopen(path, "w");
    fprintf(f, "ATOM      1  U   GLY A   1      11.104   6.134  -6.504  1.00  0.00           U\n");
    fclose(f);
    assert_int_equal(a4nn_molecule_read_pdb(path, &m, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "element 'U'"));
    unlink(path);
    assert_int_equal(a4nn_molecule_read_pdb("/nonexistent.pdb", &m, &err), A4NN_ERR);
    /* form factors at q = 0 are the electron counts */
    assert_close(a4nn_form_factor(A4NN_FF_C, 0), 6.0, 0.01);
    assert_close(a4nn_form_factor(A4NN_FF_O, 0), 8.0, 0.01);
    assert_close(a4nn_form_factor(A4NN_FF_FE, 0), 26.0, 0.05);
}

/* A binned pixel integrates its native pixels: 64 x 64 binned 4 x 4 equals
 * the 4 x 4 sums of the unbinned 64 x 64 expectation. */
static void test_binning_integrates(void **s)
{
    (void)s;
    a4nn_molecule m;
    a4nn_molecule_builtin(1, 30, &m, NULL);
    a4nn_detector d;
    small_detector(&d);
    d.pixels = 64, d.bin = 1;
    a4nn_xfel *fine = a4nn_xfel_alloc(&d, &m, NULL);
    d.bin = 4;
    a4nn_xfel *binned = a4nn_xfel_alloc(&d, &m, NULL);
    float *a = malloc(sizeof(float) * 64 * 64), b[256];
    double q[4], worst = 0;
    a4nn_quaternion_uniform(0.2, 0.8, 0.4, q);
    a4nn_xfel_expected(fine, q, a);
    a4nn_xfel_expected(binned, q, b);
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++) {
            double sum = 0;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++)
                    sum += a[(4 * r + i) * 64 + 4 * c + j];
            worst = fmax(worst, fabs(b[r * 16 + c] - sum) / sum);
        }
    printf("binned 4x4 against the sum of unbinned pixels: largest relative difference %.2e\n",
           worst);
    assert_true(worst < 0.01);
    free(a);
    a4nn_xfel_free(fine), a4nn_xfel_free(binned);
    a4nn_molecule_free(&m);
}

/* Photons per image spread as the pulse fluence does: gamma distributed
 * with the jitter setting as relative rms; the Gaussian beam profile lowers
 * the mean to (1 - e^-a) / a, a = 4 ln 2 hit_offset^2. */
static void test_fluence_jitter_and_beam_profile(void **s)
{
    (void)s;
    a4nn_molecule m;
    a4nn_molecule_builtin(0, 30, &m, NULL);
    for (int k = 0; k < 2; k++) {
        a4nn_detector d;
        small_detector(&d);
        d.pixels = 32, d.bin = 2; /* 16 x 16 */
        if (k == 0)
            d.jitter = 0.3;
        else
            d.hit_offset = 0.7;
        a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
        float img[256], ex[256];
        double q[4], s1 = 0, s2 = 0, f1 = 0;
        const int n = 600;
        for (long i = 0; i < n; i++) {
            double f = a4nn_xfel_image(x, 3, i, img, q);
            a4nn_xfel_expected(x, q, ex);
            double got = 0, want = 0;
            for (int p = 0; p < 256; p++)
                got += img[p], want += ex[p];
            s1 += got / want, s2 += (got / want) * (got / want), f1 += f / d.fluence;
        }
        double mean = s1 / n, rms = sqrt(s2 / n - mean * mean) / mean;
        if (k == 0) {
            printf("jitter 0.3: photons per image / expected: mean %.3f, relative rms %.3f\n", mean,
                   rms);
            assert_close(mean, 1.0, 0.04);
            assert_close(rms, 0.3, 0.03);
        } else {
            double a = 4 * M_LN2 * 0.49, want = (1 - exp(-a)) / a;
            printf("hit offset 0.7 FWHM: mean fluence factor %.3f (photons %.3f), expected %.3f\n",
                   f1 / n, mean, want);
            assert_close(f1 / n, want, 0.02);
            assert_close(mean, want, 0.02);
        }
        a4nn_xfel_free(x);
    }
    a4nn_molecule_free(&m);
}

/* With the molecule all but invisible (fluence 1e6), counts are background:
 * mean = flat x native pixels per image pixel; the water term adds its
 * profile; the beam stop's pixels stay zero whatever the detector adds. */
static void test_background_and_beamstop(void **s)
{
    (void)s;
    a4nn_molecule m;
    a4nn_molecule_builtin(0, 30, &m, NULL);
    a4nn_detector d;
    small_detector(&d);
    d.fluence = 1e6, d.background = 0.05, d.bin = 2; /* 32 x 32 */
    a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
    float img[1024];
    double q[4], sum = 0;
    const int n = 100;
    for (long i = 0; i < n; i++) {
        a4nn_xfel_image(x, 5, i, img, q);
        for (int p = 0; p < 1024; p++)
            sum += img[p];
    }
    printf("flat background 0.05 per native pixel, 2x2 binned: mean %.4f per pixel\n",
           sum / n / 1024);
    assert_close(sum / n / 1024, 0.2, 0.2 * 0.03);
    a4nn_xfel_free(x);

    d.background = 0, d.solvent = 0.05; /* water vapour: largest at low q */
    x = a4nn_xfel_alloc(&d, &m, NULL);
    const float *bg = a4nn_xfel_background(x);
    printf("water background per pixel: centre %.4f, edge %.4f, corner %.4f\n", bg[16 * 32 + 16],
           bg[16 * 32], bg[0]);
    assert_close(bg[16 * 32 + 16], 0.2, 0.01);
    assert_true(bg[0] < bg[16 * 32] && bg[16 * 32] < bg[16 * 32 + 16]);
    sum = 0;
    double want = 0;
    for (int p = 0; p < 1024; p++)
        want += bg[p];
    for (long i = 0; i < n; i++) {
        a4nn_xfel_image(x, 6, i, img, q);
        for (int p = 0; p < 1024; p++)
            sum += img[p];
    }
    assert_close(sum / n, want, 0.03 * want);
    a4nn_xfel_free(x);

    a4nn_detector_defaults(&d); /* the default experiment, with an integrating detector */
    d.pixels = 63, d.gain = 2.5, d.read_noise = 0.3;
    x = a4nn_xfel_alloc(&d, &m, NULL);
    float *big = malloc(sizeof(float) * 63 * 63);
    const uint8_t *mask = a4nn_xfel_mask(x);
    int masked = 0, lit = 0;
    for (int p = 0; p < 63 * 63; p++)
        masked += mask[p];
    for (long i = 0; i < 20; i++) {
        a4nn_xfel_image(x, 7, i, big, q);
        for (int p = 0; p < 63 * 63; p++)
            if (mask[p])
                assert_true(big[p] == 0);
            else
                lit += big[p] > 0;
    }
    printf("beam stop of radius %.1f mm: %d pixels masked, zero in every image\n",
           d.beamstop * 1e3, masked);
    assert_true(masked >= 9 && mask[31 * 63 + 31] && !mask[0]);
    assert_true(lit > 20 * (63 * 63 - masked) / 2);
    free(big);
    a4nn_xfel_free(x);
    a4nn_molecule_free(&m);
}

/* The built-in model is a protein, not a random walk: consecutive residues
 * 3.8 A apart, no other pair closer than 4 A (a clash: under about 3 A), a
 * compact envelope of an elongated 95 kDa protein (Rg 30-40 A, no flat
 * axis), and conformation 1 is a rigid-body turn of domains III-V. */
static double pair_min(const a4nn_molecule *m, int *bonded_ok)
{
    double mn = 1e9;
    *bonded_ok = 1;
    for (int i = 0; i < m->n; i++)
        for (int j = i + 1; j < m->n; j++) {
            double r = 0;
            for (int k = 0; k < 3; k++) {
                double d = m->xyz[3 * i + k] - m->xyz[3 * j + k];
                r += d * d;
            }
            r = sqrt(r);
            if (j == i + 1)
                *bonded_ok &= fabs(r - 3.8) < 0.01;
            else
                mn = fmin(mn, r);
        }
    return mn;
}

static void test_builtin_model_is_a_protein(void **s)
{
    (void)s;
    a4nn_molecule m[2];
    for (int c = 0; c < 2; c++) {
        assert_int_equal(a4nn_molecule_builtin(c, 30, &m[c], NULL), A4NN_OK);
        assert_int_equal(m[c].n, 840);
        int bonded_ok;
        double mn = pair_min(&m[c], &bonded_ok), rg = a4nn_molecule_rg(&m[c]);
        /* principal radii: square roots of the gyration tensor's eigenvalues */
        double g[3][3] = {{0}};
        for (int i = 0; i < m[c].n; i++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    g[a][b] += m[c].xyz[3 * i + a] * m[c].xyz[3 * i + b] / m[c].n;
        /* smallest eigenvalue: the minimum of v'Gv over many unit vectors */
        double smallest = 1e9;
        for (int k = 0; k < 20000; k++) {
            double u = 2.0 * (k % 200) / 199 - 1, phi = 2 * M_PI * (k / 200) / 100.0;
            double v[3] = {sqrt(1 - u * u) * cos(phi), sqrt(1 - u * u) * sin(phi), u}, q = 0;
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    q += v[a] * g[a][b] * v[b];
            smallest = fmin(smallest, q);
        }
        printf("conformation %d: Rg %.2f A, closest non-bonded pair %.2f A, smallest principal "
               "radius %.1f A\n", c, rg, mn, sqrt(smallest));
        assert_true(bonded_ok);
        assert_true(mn >= 3.99);
        assert_true(rg > 30 && rg < 40);
        assert_true(sqrt(smallest) > 8.5); /* not flat */
    }
    /* I-II do not move relative to each other, III-V keep their shape, and
     * III-V move as a body: every pair distance within each block is kept */
    double moved = 0;
    for (int i = 0; i < 840; i += 7)
        for (int j = i + 7; j < 840; j += 7) {
            if ((i < 481) != (j < 481)) {
                moved = fmax(moved, fabs(sqrt(pow(m[0].xyz[3 * i] - m[0].xyz[3 * j], 2) +
                                              pow(m[0].xyz[3 * i + 1] - m[0].xyz[3 * j + 1], 2) +
                                              pow(m[0].xyz[3 * i + 2] - m[0].xyz[3 * j + 2], 2)) -
                                         sqrt(pow(m[1].xyz[3 * i] - m[1].xyz[3 * j], 2) +
                                              pow(m[1].xyz[3 * i + 1] - m[1].xyz[3 * j + 1], 2) +
                                              pow(m[1].xyz[3 * i + 2] - m[1].xyz[3 * j + 2], 2))));
                continue;
            }
            double d0 = 0, d1 = 0;
            for (int k = 0; k < 3; k++) {
                d0 += pow(m[0].xyz[3 * i + k] - m[0].xyz[3 * j + k], 2);
                d1 += pow(m[1].xyz[3 * i + k] - m[1].xyz[3 * j + k], 2);
            }
            assert_close(sqrt(d0), sqrt(d1), 1e-3);
        }
    printf("largest change of an inter-block distance: %.1f A\n", moved);
    assert_true(moved > 20);
    a4nn_molecule_free(&m[0]), a4nn_molecule_free(&m[1]);
    /* a hinge that drives III-V into I-II is refused */
    a4nn_error err;
    assert_int_equal(a4nn_molecule_builtin(1, 90, &m[0], &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "run into"));
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Every image of a full-size file (79,384 train + test) has its own MT19937
 * stream: with 32-bit seeds hashed from (seed, index), seed 2023 gave train
 * images 30275 and 59643 the same stream, seed 7 a train and a test image. */
static void test_image_streams_distinct(void **s)
{
    (void)s;
    const long n = 63508 + 15876;
    uint32_t *seeds = malloc(sizeof(uint32_t) * (size_t)n);
    const uint64_t run_seeds[] = {0, 1, 5, 7, 2023, 4357, 0xffffffffULL, 9000000000000000ULL,
                                  UINT64_MAX};
    for (size_t k = 0; k < sizeof run_seeds / sizeof run_seeds[0]; k++) {
        for (long i = 0; i < n; i++) {
            seeds[i] = a4nn_xfel_stream_seed(run_seeds[k], i);
            assert_int_not_equal(seeds[i], 0); /* GSL would turn 0 into 4357 */
        }
        qsort(seeds, (size_t)n, sizeof *seeds, cmp_u32);
        for (long i = 1; i < n; i++)
            if (seeds[i] == seeds[i - 1])
                fail_msg("seed %llu: two images share stream seed %u",
                         (unsigned long long)run_seeds[k], seeds[i]);
    }
    free(seeds);

    /* the images are drawn from exactly these streams */
    a4nn_molecule m;
    a4nn_molecule_builtin(0, 30, &m, NULL);
    a4nn_detector d;
    a4nn_detector_defaults(&d);
    d.pixels = 8;
    d.jitter = d.hit_offset = 0; /* the stream's first three numbers are the orientation */
    a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, NULL);
    float img[64];
    double q[4], q2[4], want[4];
    const long idx[] = {0, 30275, 59643, 79383};
    for (int k = 0; k < 4; k++) {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, a4nn_xfel_stream_seed(2023, idx[k]));
        double u1 = gsl_rng_uniform(r), u2 = gsl_rng_uniform(r), u3 = gsl_rng_uniform(r);
        gsl_rng_free(r);
        a4nn_quaternion_uniform(u1, u2, u3, want);
        a4nn_xfel_image(x, 2023, idx[k], img, q);
        for (int c = 0; c < 4; c++)
            assert_close(q[c], want[c], 0);
    }
    a4nn_xfel_image(x, 2023, 30275, img, q);
    a4nn_xfel_image(x, 2023, 59643, img, q2);
    assert_true(memcmp(q, q2, sizeof q) != 0);
    a4nn_xfel_free(x);
    a4nn_molecule_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_kernel_matches_reference),
        cmocka_unit_test(test_friedel_symmetry),
        cmocka_unit_test(test_linear_in_fluence_and_poisson),
        cmocka_unit_test(test_guinier_law),
        cmocka_unit_test(test_single_atom_isotropic),
        cmocka_unit_test(test_conformations_differ),
        cmocka_unit_test(test_builtin_model_is_a_protein),
        cmocka_unit_test(test_binning_integrates),
        cmocka_unit_test(test_fluence_jitter_and_beam_profile),
        cmocka_unit_test(test_background_and_beamstop),
        cmocka_unit_test(test_pdb_reader),
        cmocka_unit_test(test_image_streams_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
