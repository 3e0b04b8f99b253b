/* a4nn-xfelsim: simulated XFEL single-particle diffraction datasets of a
 * molecule in two conformations, written with parallel HDF5. Each rank makes
 * its share of the images; every image depends only on (seed, image index),
 * so the file holds the same data for any number of ranks. */
#include <errno.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <png.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "a4nn/data.h"
#include "a4nn/xfel.h"

#define GENERATOR "a4nn-xfelsim " A4NN_VERSION

typedef struct {
    const char *out, *preview, *pdb[2];
    char names[2][64];
    long n_train, n_test;
    uint64_t seed;
    double hinge;
    int chunk, force, same_orientations;
    a4nn_detector det;
} options;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: [mpirun -np N] a4nn-xfelsim -o FILE.h5 [options]\n\n"
            "Simulates single-particle diffraction patterns of a molecule in two\n"
            "conformations (labels 0 and 1, balanced) in uniformly random orientations,\n"
            "with Poisson photon noise, and writes the a4nn dataset format.\n\n"
            "  -o, --output FILE      output HDF5 file (required)\n"
            "  --full                 79,384 images: 63,508 train / 15,876 test\n"
            "  --n-train N, --n-test N  image counts (default 2000 / 500)\n"
            "  --fluence F            photons per square micrometre per pulse (default 1e16)\n"
            "  --pixels P             detector side in pixels before binning (default 127)\n"
            "  --bin B                pixel binning (default 1; image side = P / B)\n"
            "  --pixel-size M         unbinned pixel size in metres (default 600e-6)\n"
            "  --distance M           detector distance in metres (default 0.2)\n"
            "  --energy KEV           photon energy in keV (default 6)\n"
            "  --beamstop M           radius of the beam stop's shadow in metres; binned pixels\n"
            "                         touching it are masked (default 2e-3; 0: none)\n"
            "  --background B         flat background, photons per native pixel (default 0.002)\n"
            "  --solvent S            water-vapour scattering, photons per native pixel near\n"
            "                         q = 0 (default 0.01)\n"
            "  --gain G               detector units per photon (default 1: photon counting)\n"
            "  --read-noise R         rms read noise per native pixel, detector units (default 0)\n"
            "  --jitter J             relative rms of the pulse fluence (default 0.15)\n"
            "  --hit-offset H         particles cross the beam uniformly within H FWHM of its\n"
            "                         Gaussian profile's centre (default 0.5; 0: all at the centre)\n"
            "  --ideal                all of the above off: the bare physics\n"
            "  --pdb A.pdb --pdb B.pdb  the two conformations (default: built-in EF2-like\n"
            "                         model, domains III-V turned by --hinge degrees)\n"
            "  --hinge DEG            hinge angle of the built-in model, nonzero (default 30)\n"
            "  --names A,B            class names (default 1n0u-like,1n0vc-like)\n"
            "  --seed S               seed of orientations and noise (default 1); files of\n"
            "                         different fluence get independent orientations\n"
            "  --same-orientations    the same orientations at every fluence for one seed\n"
            "  --preview DIR          write PNG previews (log scale) of sample patterns\n"
            "  --force                overwrite FILE.h5 if it exists\n"
            "  --version              version and build features\n");
}

static double num(const char *opt, const char *v, double lo, double hi)
{
    char *end;
    double d = strtod(v, &end);
    if (!*v || *end || !(d >= lo && d <= hi))
        a4nn_die("xfelsim: bad value '%s' for %s (expected %g..%g)", v, opt, lo, hi);
    return d;
}

/* Counts and sizes: whole decimal numbers only, so that 2.5 or 64.9 is an
 * error rather than silently truncated. */
static long long whole(const char *opt, const char *v, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || errno == ERANGE || n < lo || n > hi)
        a4nn_die("xfelsim: bad value '%s' for %s (expected a whole number %lld..%lld)", v, opt,
                 lo, hi);
    return n;
}

static void parse(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    a4nn_detector_defaults(&o->det);
    o->n_train = 2000, o->n_test = 500, o->seed = 1, o->hinge = 30, o->chunk = 64;
    snprintf(o->names[0], 64, "1n0u-like");
    snprintf(o->names[1], 64, "1n0vc-like");
    int npdb = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (!strcmp(a, "--version")) {
            printf("%s (MPI, parallel HDF5 %d.%d.%d, OpenMP %d, GSL %s, %s kernel)\n", GENERATOR,
                   H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE, _OPENMP, GSL_VERSION,
#ifdef __AVX512F__
                   "AVX-512"
#elif defined(__AVX2__)
                   "AVX2"
#else
                   "SSE"
#endif
            );
            exit(0);
        }
        if (!strcmp(a, "--full")) {
            o->n_train = 63508, o->n_test = 15876;
            continue;
        }
        if (!strcmp(a, "--force") || !strcmp(a, "--same-orientations") || !strcmp(a, "--ideal")) {
            if (a[2] == 'f')
                o->force = 1;
            else if (a[2] == 's')
                o->same_orientations = 1;
            else
                a4nn_detector_ideal(&o->det);
            continue;
        }
        if (i + 1 >= argc)
            a4nn_die("xfelsim: option %s needs a value (see --help)", a);
        const char *v = argv[++i];
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) o->out = v;
        else if (!strcmp(a, "--n-train")) o->n_train = (long)whole(a, v, 2, 1000000000);
        else if (!strcmp(a, "--n-test")) o->n_test = (long)whole(a, v, 2, 1000000000);
        else if (!strcmp(a, "--fluence")) o->det.fluence = num(a, v, 1e6, 1e24);
        else if (!strcmp(a, "--pixels")) o->det.pixels = (int)whole(a, v, 4, 8192);
        else if (!strcmp(a, "--bin")) o->det.bin = (int)whole(a, v, 1, 64);
        else if (!strcmp(a, "--pixel-size")) o->det.pixel_size = num(a, v, 1e-7, 1);
        else if (!strcmp(a, "--distance")) o->det.distance = num(a, v, 1e-3, 100);
        else if (!strcmp(a, "--energy")) o->det.energy_kev = num(a, v, 0.1, 100);
        else if (!strcmp(a, "--beamstop")) o->det.beamstop = num(a, v, 0, 1);
        else if (!strcmp(a, "--background")) o->det.background = num(a, v, 0, 1e6);
        else if (!strcmp(a, "--solvent")) o->det.solvent = num(a, v, 0, 1e6);
        else if (!strcmp(a, "--gain")) o->det.gain = num(a, v, 1e-6, 1e6);
        else if (!strcmp(a, "--read-noise")) o->det.read_noise = num(a, v, 0, 1e6);
        else if (!strcmp(a, "--jitter")) o->det.jitter = num(a, v, 0, 10);
        else if (!strcmp(a, "--hit-offset")) o->det.hit_offset = num(a, v, 0, 10);
        else if (!strcmp(a, "--hinge")) o->hinge = num(a, v, -180, 180);
        else if (!strcmp(a, "--seed")) o->seed = (uint64_t)whole(a, v, 0, 9000000000000000LL);
        else if (!strcmp(a, "--preview")) o->preview = v;
        else if (!strcmp(a, "--pdb")) {
            if (npdb == 2)
                a4nn_die("xfelsim: --pdb given more than twice (one file per conformation)");
            o->pdb[npdb++] = v;
        } else if (!strcmp(a, "--names")) {
            const char *comma = strchr(v, ',');
            if (!comma || comma == v || !comma[1] || comma - v >= 64 || strlen(comma + 1) >= 64)
                a4nn_die("xfelsim: bad value '%s' for --names (expected NAME_A,NAME_B)", v);
            snprintf(o->names[0], 64, "%.*s", (int)(comma - v), v);
            snprintf(o->names[1], 64, "%s", comma + 1);
        } else
            a4nn_die("xfelsim: unknown option '%s' (see --help)", a);
    }
    if (!o->out)
        a4nn_die("xfelsim: no output file (-o FILE.h5)");
    if (npdb == 1)
        a4nn_die("xfelsim: give two --pdb files (one per conformation) or none");
    if (!npdb && o->hinge == 0)
        a4nn_die("xfelsim: --hinge 0 makes the two conformations identical (give a nonzero "
                 "angle in degrees)");
    if (o->det.pixels / o->det.bin < 2)
        a4nn_die("xfelsim: --pixels %d with --bin %d leaves no image", o->det.pixels, o->det.bin);
    if (!o->force && access(o->out, F_OK) == 0)
        a4nn_die("xfelsim: %s exists (--force overwrites it)", o->out);
}

#define H5_CHECK(call)                                                                      \
    do {                                                                                    \
        if ((call) < 0)                                                                     \
            a4nn_die("xfelsim: HDF5 call failed: %s (%s:%d)", #call, __FILE__, __LINE__);  \
    } while (0)

static void write_png(const char *path, const float *img, int side)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        a4nn_die("xfelsim: cannot write %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)))
        a4nn_die("xfelsim: libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    double mx = 0;
    for (int i = 0; i < side * side; i++)
        mx = fmax(mx, log1p(img[i]));
    png_bytep row = a4nn_malloc((size_t)side);
    for (int r = 0; r < side; r++) {
        for (int c = 0; c < side; c++)
            row[c] = (png_byte)(mx > 0 ? 255.0 * log1p(img[r * side + c]) / mx : 0);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

static void attr(hid_t loc, const char *name, hid_t type, const void *v)
{
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(loc, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
    H5_CHECK(a);
    H5_CHECK(H5Awrite(a, type, v));
    H5Aclose(a), H5Sclose(s);
}

static void attr_str(hid_t loc, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(v) + 1);
    attr(loc, name, t, v);
    H5Tclose(t);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, nranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);
    options o;
    parse(argc, argv, &o);
    MPI_Barrier(MPI_COMM_WORLD); /* every rank has seen whether the output exists */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    a4nn_error err;
    a4nn_molecule mol[2];
    a4nn_xfel *sim[2];
    for (int c = 0; c < 2; c++) {
        int rc = o.pdb[0] ? a4nn_molecule_read_pdb(o.pdb[c], &mol[c], &err)
                          : a4nn_molecule_builtin(c, o.hinge, &mol[c], &err);
        if (rc)
            a4nn_die("xfelsim: %s", err.msg);
        if (!(sim[c] = a4nn_xfel_alloc(&o.det, &mol[c], &err)))
            a4nn_die("xfelsim: %s", err.msg);
    }
    const int side = a4nn_detector_side(&o.det);
    const size_t npix = (size_t)side * side;

    /* no object timestamps (root group, groups, datasets): the same seed then
     * gives a byte-identical file, whatever the day or the rank count */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE), plain_dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5_CHECK(H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL));
    H5_CHECK(H5Pset_obj_track_times(fcpl, 0));
    H5_CHECK(H5Pset_obj_track_times(gcpl, 0));
    H5_CHECK(H5Pset_obj_track_times(plain_dcpl, 0));
    hid_t file = H5Fcreate(o.out, H5F_ACC_TRUNC, fcpl, fapl);
    if (file < 0)
        a4nn_die("xfelsim: cannot create %s", o.out);
    H5Pclose(fapl), H5Pclose(fcpl);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5_CHECK(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));

    /* the streams: one per (seed, fluence) unless the orientations are shared */
    uint64_t fluence_bits;
    memcpy(&fluence_bits, &o.det.fluence, sizeof fluence_bits);
    const uint64_t stream = o.same_orientations ? o.seed : a4nn_seed_mix(o.seed, fluence_bits);
    double train_log_sum = 0, train_log_sq = 0, photons = 0, next_report = 0.1;
    double last_report = a4nn_now();
    long total_images = o.n_train + o.n_test;
    int tty = rank == 0 && isatty(2);
    double t0 = a4nn_now();
    for (int sp = 0; sp < 2; sp++) {
        const char *split = sp ? "test" : "train";
        const long n = sp ? o.n_test : o.n_train, base = sp ? o.n_train : 0;
        hid_t g = H5Gcreate2(file, split, H5P_DEFAULT, gcpl, H5P_DEFAULT);
        hsize_t dims[4] = {(hsize_t)n, 1, (hsize_t)side, (hsize_t)side};
        hsize_t chunk[4] = {(hsize_t)(o.chunk < n ? o.chunk : n), 1, (hsize_t)side, (hsize_t)side};
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5_CHECK(H5Pset_chunk(dcpl, 4, chunk));
        H5_CHECK(H5Pset_deflate(dcpl, 4));
        H5_CHECK(H5Pset_obj_track_times(dcpl, 0));
        hid_t s4 = H5Screate_simple(4, dims, NULL), s1 = H5Screate_simple(1, dims, NULL);
        hsize_t qd[2] = {(hsize_t)n, 4};
        hid_t s2 = H5Screate_simple(2, qd, NULL);
        hid_t di = H5Dcreate2(g, "images", H5T_IEEE_F32LE, s4, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        hid_t dl = H5Dcreate2(g, "labels", H5T_STD_U8LE, s1, H5P_DEFAULT, plain_dcpl, H5P_DEFAULT);
        hid_t dq = H5Dcreate2(g, "orientations", H5T_IEEE_F64LE, s2, H5P_DEFAULT, plain_dcpl, H5P_DEFAULT);
        hid_t df = H5Dcreate2(g, "pulse_fluence", H5T_IEEE_F64LE, s1, H5P_DEFAULT, plain_dcpl, H5P_DEFAULT);
        H5_CHECK(df);
        H5_CHECK(di);
        H5_CHECK(dl);
        H5_CHECK(dq);
        /* this rank's contiguous block, written in rounds of whole chunks so
         * that memory stays bounded and every rank joins every collective write */
        const long lo = n * rank / nranks, hi = n * (rank + 1) / nranks;
        const long per_round = 16L * o.chunk;
        const long max_block = (n + nranks - 1) / nranks + 1;
        const long rounds = (max_block + per_round - 1) / per_round;
        float *img = a4nn_malloc(sizeof(float) * npix * (size_t)per_round);
        uint8_t *lab = a4nn_malloc((size_t)per_round);
        double *quat = a4nn_malloc(sizeof(double) * 4 * (size_t)per_round);
        double *pulse = a4nn_malloc(sizeof(double) * (size_t)per_round);
        double *stats = a4nn_calloc((size_t)(hi - lo) * 3 + 1, sizeof(double));
        for (long r = 0; r < rounds; r++) {
            long s = lo + r * per_round, e = s + per_round < hi ? s + per_round : hi;
            long m = e > s ? e - s : 0;
#pragma omp parallel for schedule(dynamic, 4)
            for (long i = 0; i < m; i++) {
                long idx = s + i;
                int label = (int)(idx % 2);
                pulse[i] = a4nn_xfel_image(sim[label], stream, base + idx, img + (size_t)i * npix, quat + 4 * i);
                lab[i] = (uint8_t)label;
                double ls = 0, lq = 0, ph = 0;
                for (size_t p = 0; p < npix; p++) {
                    double v = img[(size_t)i * npix + p], l = log1p(v);
                    ls += l, lq += l * l, ph += v;
                }
                stats[3 * (idx - lo)] = ls, stats[3 * (idx - lo) + 1] = lq, stats[3 * (idx - lo) + 2] = ph;
            }
            hsize_t off[4] = {(hsize_t)s, 0, 0, 0}, cnt[4] = {(hsize_t)m, 1, (hsize_t)side, (hsize_t)side};
            hsize_t qoff[2] = {(hsize_t)s, 0}, qcnt[2] = {(hsize_t)m, 4};
            hid_t fs4 = H5Dget_space(di), fs1 = H5Dget_space(dl), fs2 = H5Dget_space(dq);
            hsize_t one = 1;
            hid_t ms4 = H5Screate_simple(4, m ? cnt : chunk, NULL), ms1 = H5Screate_simple(1, m ? cnt : &one, NULL),
                  ms2 = H5Screate_simple(2, m ? qcnt : qd, NULL);
            if (m) {
                H5Sselect_hyperslab(fs4, H5S_SELECT_SET, off, NULL, cnt, NULL);
                H5Sselect_hyperslab(fs1, H5S_SELECT_SET, off, NULL, cnt, NULL);
                H5Sselect_hyperslab(fs2, H5S_SELECT_SET, qoff, NULL, qcnt, NULL);
            } else {
                H5Sselect_none(fs4), H5Sselect_none(fs1), H5Sselect_none(fs2);
                H5Sselect_none(ms4), H5Sselect_none(ms1), H5Sselect_none(ms2);
            }
            H5_CHECK(H5Dwrite(di, H5T_NATIVE_FLOAT, ms4, fs4, dxpl, img));
            H5_CHECK(H5Dwrite(dl, H5T_NATIVE_UINT8, ms1, fs1, dxpl, lab));
            H5_CHECK(H5Dwrite(dq, H5T_NATIVE_DOUBLE, ms2, fs2, dxpl, quat));
            hid_t fs1b = H5Dget_space(df);
            if (m)
                H5Sselect_hyperslab(fs1b, H5S_SELECT_SET, off, NULL, cnt, NULL);
            else
                H5Sselect_none(fs1b);
            H5_CHECK(H5Dwrite(df, H5T_NATIVE_DOUBLE, ms1, fs1b, dxpl, pulse));
            H5Sclose(fs1b);
            H5Sclose(fs4), H5Sclose(fs1), H5Sclose(fs2), H5Sclose(ms4), H5Sclose(ms1), H5Sclose(ms2);
            if (rank == 0) { /* a bar on a terminal; in a log a line every 10 % or 30 s */
                long done = base + (e - lo) * nranks;
                double now = a4nn_now(), el = now - t0, frac = (double)done / total_images;
                double rate = done / (el > 0 ? el : 1);
                if (tty) {
                    int bar = (int)(40 * frac);
                    fprintf(stderr, "\r%s [%.*s%*s] %3.0f%%  %.0f images/s  ", split, bar,
                            "########################################", 40 - bar, "",
                            100 * frac, rate);
                } else if (frac >= next_report || now - last_report >= 30) {
                    fprintf(stderr, "a4nn-xfelsim: %s: %ld of %ld images (%.0f%%), %.0f images/s, "
                                    "%.0f s left\n", o.out, done, total_images, 100 * frac, rate,
                            (total_images - done) / (rate > 0 ? rate : 1));
                    while (next_report <= frac)
                        next_report += 0.1;
                    last_report = now;
                }
            }
        }
        /* statistics summed in image order on rank 0: independent of the rank count */
        int *counts = a4nn_malloc(sizeof(int) * (size_t)nranks), *displs = a4nn_malloc(sizeof(int) * (size_t)nranks);
        for (int k = 0; k < nranks; k++) {
            long a = n * k / nranks, b = n * (k + 1) / nranks;
            counts[k] = (int)(3 * (b - a));
            displs[k] = (int)(3 * a);
        }
        double *all = rank == 0 ? a4nn_malloc(sizeof(double) * 3 * (size_t)n) : NULL;
        A4NN_DIE_ON_MPI(MPI_Gatherv(stats, (int)(3 * (hi - lo)), MPI_DOUBLE, all, counts, displs,
                                   MPI_DOUBLE, 0, MPI_COMM_WORLD));
        if (rank == 0)
            for (long i = 0; i < n; i++) {
                if (!sp)
                    train_log_sum += all[3 * i], train_log_sq += all[3 * i + 1];
                photons += all[3 * i + 2];
            }
        free(all), free(counts), free(displs), free(stats), free(img), free(lab), free(quat);
        free(pulse);
        H5Dclose(di), H5Dclose(dl), H5Dclose(dq), H5Dclose(df);
        H5Sclose(s4), H5Sclose(s1), H5Sclose(s2), H5Pclose(dcpl), H5Gclose(g);
    }
    if (tty)
        fputc('\n', stderr);
    double st[3] = {train_log_sum, train_log_sq, photons};
    A4NN_DIE_ON_MPI(MPI_Bcast(st, 3, MPI_DOUBLE, 0, MPI_COMM_WORLD));
    const double m = (double)o.n_train * (double)npix;
    double mean = st[0] / m, var = st[1] / m - mean * mean;
    double stdv = sqrt(var > 1e-12 ? var : 1e-12), mean_ph = st[2] / (double)total_images;

    /* attributes: written by every rank (collective metadata) */
    const struct {
        const char *name;
        const double *v;
    } settings[] = {
        {"beam_intensity", &o.det.fluence},
        {"photon_energy_kev", &o.det.energy_kev},
        {"detector_distance_m", &o.det.distance},
        {"pixel_size_m", &o.det.pixel_size},
        {"beamstop_radius_m", &o.det.beamstop},
        {"background_photons_per_pixel", &o.det.background},
        {"solvent_photons_per_pixel", &o.det.solvent},
        {"detector_gain", &o.det.gain},
        {"read_noise", &o.det.read_noise},
        {"fluence_jitter", &o.det.jitter},
        {"hit_offset_fwhm", &o.det.hit_offset},
    };
    for (size_t k = 0; k < A4NN_ARRAY_LEN(settings); k++)
        attr(file, settings[k].name, H5T_NATIVE_DOUBLE, settings[k].v);
    attr(file, "detector_pixels", H5T_NATIVE_INT, &o.det.pixels);
    attr(file, "binning", H5T_NATIVE_INT, &o.det.bin);
    if (!o.pdb[0])
        attr(file, "hinge_deg", H5T_NATIVE_DOUBLE, &o.hinge);
    unsigned long long seed = o.seed;
    attr(file, "seed", H5T_NATIVE_ULLONG, &seed);
    attr(file, "same_orientations", H5T_NATIVE_INT, &o.same_orientations);
    attr(file, "mean_photons", H5T_NATIVE_DOUBLE, &mean_ph);
    attr(file, "norm_mean", H5T_NATIVE_DOUBLE, &mean);
    attr(file, "norm_std", H5T_NATIVE_DOUBLE, &stdv);
    attr_str(file, "generator", GENERATOR);
    attr_str(file, "molecule", o.pdb[0] ? "PDB files" : "built-in coarse-grained EF2-like model");
    {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 64);
        hsize_t two = 2;
        hid_t s = H5Screate_simple(1, &two, NULL);
        hid_t a = H5Acreate2(file, "class_names", t, s, H5P_DEFAULT, H5P_DEFAULT);
        H5_CHECK(H5Awrite(a, t, o.names));
        H5Aclose(a), H5Sclose(s), H5Tclose(t);
    }
    H5Pclose(dxpl), H5Pclose(gcpl), H5Pclose(plain_dcpl);
    H5_CHECK(H5Fclose(file));

    if (rank == 0 && o.preview) {
        if (a4nn_mkdir_p(o.preview, &err))
            a4nn_die("xfelsim: %s", err.msg);
        float *img = a4nn_malloc(sizeof(float) * npix);
        double q[4];
        for (long i = 0; i < 6 && i < o.n_train; i++) {
            a4nn_xfel_image(sim[i % 2], stream, i, img, q);
            char path[4096];
            snprintf(path, sizeof path, "%s/%s-%.0e-%ld.png", o.preview, o.names[i % 2], o.det.fluence, i);
            write_png(path, img, side);
        }
        free(img);
    }
    if (rank == 0)
        printf("a4nn-xfelsim: %s: %ld train + %ld test images of %dx%d, fluence %.3g, %.1f photons "
               "per image on average, %.1f s on %d ranks\n",
               o.out, o.n_train, o.n_test, side, side, o.det.fluence, mean_ph, a4nn_now() - t0, nranks);
    for (int c = 0; c < 2; c++)
        a4nn_xfel_free(sim[c]), a4nn_molecule_free(&mol[c]);
    MPI_Finalize();
    return 0;
}
