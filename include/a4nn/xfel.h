/* xfel: single-particle X-ray diffraction patterns of a molecule in random
 * orientations, as an XFEL detector records them (a4nn-xfelsim). */
#ifndef A4NN_XFEL_H
#define A4NN_XFEL_H

#include <stdint.h>

#include "a4nn/util.h"

/* Scatterers: positions in Angstrom and a form-factor type per scatterer. */
typedef enum {
    A4NN_FF_H, A4NN_FF_C, A4NN_FF_N, A4NN_FF_O, A4NN_FF_S, A4NN_FF_P, A4NN_FF_FE,
    A4NN_FF_RESIDUE, /* coarse-grained amino-acid residue (about 60 electrons) */
    A4NN_FF_POINT,   /* one electron, no fall-off: for tests */
    A4NN_FF_COUNT
} a4nn_ff_type;

typedef struct {
    int n;
    float *xyz;   /* [n][3] */
    uint8_t *type; /* a4nn_ff_type per scatterer */
} a4nn_molecule;

void a4nn_molecule_free(a4nn_molecule *m);
/* Reads ATOM/HETATM records of a PDB file; the element comes from columns
 * 77-78, else from the atom name. Coordinates are centred on their mean. */
int a4nn_molecule_read_pdb(const char *path, a4nn_molecule *m, a4nn_error *err);
/* The built-in coarse-grained model (docs/xfelsim.md): 840 residues in five
 * domains of elongation factor 2's sizes, no two closer than 4 A;
 * conformation 1 turns domains III-V as one rigid body by hinge_deg about a
 * hinge at the II-III junction. An angle that makes the turned block run
 * into domains I-II is an error. */
int a4nn_molecule_builtin(int conformation, double hinge_deg, a4nn_molecule *m, a4nn_error *err);
double a4nn_molecule_rg(const a4nn_molecule *m); /* radius of gyration, Angstrom */
/* Form factor of a scatterer type at momentum transfer q (1/Angstrom). */
double a4nn_form_factor(a4nn_ff_type t, double q);

typedef struct {
    int pixels;          /* detector side before binning */
    int bin;             /* binning factor: image side = pixels / bin */
    double pixel_size;   /* m, unbinned */
    double distance;     /* m */
    double energy_kev;   /* photon energy */
    double fluence;      /* photons per square micrometre per pulse, at the beam centre */
    /* the experiment's imperfections (docs/xfelsim.md; defaults in brackets) */
    double beamstop;     /* radius of the beam stop's shadow on the detector, m (2e-3) */
    double background;   /* flat background, photons per native pixel (0.002) */
    double solvent;      /* water-vapour scattering, photons per native pixel near q = 0 (0.01) */
    double gain;         /* detector units per photon (1: photon counting) */
    double read_noise;   /* rms per native pixel in detector units (0) */
    double jitter;       /* relative rms of the pulse fluence, gamma distributed (0.15) */
    double hit_offset;   /* particles cross the beam uniformly within this many FWHM of
                            its Gaussian profile's centre (0.5) */
} a4nn_detector;

/* The default experiment (127 x 127 pixels, all effects at their defaults). */
void a4nn_detector_defaults(a4nn_detector *d);
/* Turns every imperfection off: the bare physics. */
void a4nn_detector_ideal(a4nn_detector *d);
int a4nn_detector_side(const a4nn_detector *d);

/* Precomputed per-pixel geometry and form factors for a detector and a
 * molecule; read-only once made, so threads may share it. */
typedef struct a4nn_xfel a4nn_xfel;
a4nn_xfel *a4nn_xfel_alloc(const a4nn_detector *d, const a4nn_molecule *m, a4nn_error *err);
void a4nn_xfel_free(a4nn_xfel *x);

/* Uniform random rotation (unit quaternion w, x, y, z) from three uniforms. */
void a4nn_quaternion_uniform(double u1, double u2, double u3, double q[4]);

/* Expected photon counts of the molecule turned by the quaternion q at the
 * nominal fluence (no noise, no background; zero behind the beam stop). A
 * binned pixel is the sum of its native pixels. out has side*side floats. */
void a4nn_xfel_expected(a4nn_xfel *x, const double q[4], float *out);
/* The same with the previous kernel (glibc's SIMD sinf and cosf) and with
 * the straightforward reference (double precision, libm): for verification
 * and the benchmark. */
void a4nn_xfel_expected_libmvec(a4nn_xfel *x, const double q[4], float *out);
void a4nn_xfel_expected_reference(a4nn_xfel *x, const double q[4], float *out);
/* Expected background photons per pixel, and the beam-stop mask (1: masked). */
const float *a4nn_xfel_background(const a4nn_xfel *x);
const uint8_t *a4nn_xfel_mask(const a4nn_xfel *x);
/* Momentum transfer vector (1/Angstrom) of a pixel, in the lab frame (the
 * mean over its native pixels). */
void a4nn_xfel_pixel_q(const a4nn_xfel *x, int row, int col, double q[3]);
/* Orientation-averaged |F(q)|^2 of the molecule over n random directions. */
double a4nn_xfel_mean_intensity(const a4nn_molecule *m, double q, int n, uint64_t seed);

/* The 32-bit seed of GSL's MT19937 stream for image index of the file made
 * with seed: a per-seed base plus the index, modulo 2^32 - 1, plus one (GSL
 * treats 0 as 4357). Indices 0 .. 2^32 - 2 of one seed get distinct streams,
 * so no two images of a file (train and test) share one. */
uint32_t a4nn_xfel_stream_seed(uint64_t seed, long index);

/* Poisson counts of n expected intensities from the stream (seed, index). */
void a4nn_xfel_poisson(const float *expected, int n, uint64_t seed, long index, float *counts);

/* One whole image: orientation, the fluence the particle sees, background,
 * Poisson noise and the detector's response, all from the stream (seed,
 * index), so any image can be made by any rank. Returns that fluence. */
double a4nn_xfel_image(a4nn_xfel *x, uint64_t seed, long index, float *counts, double quat[4]);

#endif
