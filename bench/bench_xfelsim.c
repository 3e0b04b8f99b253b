/* Simulator speed, HPCG style: the structure-factor kernel against the
 * previous one (glibc's SIMD sinf and cosf, kept side by side as
 * a4nn_xfel_expected_libmvec) and the straightforward reference, on the same
 * orientations, one core, interleaved in rounds so that a shared machine's
 * load falls on all alike; then whole images (noise and effects included)
 * and what the full 79,384-image 127x127 set takes on this machine's cores.
 * Usage: bench_xfelsim [SECONDS per measurement, default 1] */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "a4nn/xfel.h"

enum { FAST, LIBMVEC, REFERENCE, IMAGE };

static double rate(a4nn_xfel *x, int side, int which, double seconds)
{
    float *img = a4nn_malloc(sizeof(float) * (size_t)side * side);
    long n = 0;
    double t0 = a4nn_now(), t;
    do {
        double q[4];
        a4nn_quaternion_uniform(0.1 + 0.001 * (n % 500), 0.3, 0.7, q);
        if (which == FAST)
            a4nn_xfel_expected(x, q, img);
        else if (which == LIBMVEC)
            a4nn_xfel_expected_libmvec(x, q, img);
        else if (which == REFERENCE)
            a4nn_xfel_expected_reference(x, q, img);
        else
            a4nn_xfel_image(x, 1, n, img, q);
        n++;
    } while ((t = a4nn_now() - t0) < seconds);
    free(img);
    return n / t;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    a4nn_molecule m;
    a4nn_error err;
    if (a4nn_molecule_builtin(0, 30, &m, &err))
        a4nn_die("%s", err.msg);
    const int sides[2][2] = {{128, 4}, {127, 1}};
    printf("one core, %d scatterers, %.1f s per measurement, 2 rounds (the machine may be "
           "shared: compare ratios)\n", m.n, seconds);
    for (int k = 0; k < 2; k++) {
        a4nn_detector d;
        a4nn_detector_defaults(&d);
        d.pixels = sides[k][0], d.bin = sides[k][1];
        a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, &err);
        int side = a4nn_detector_side(&d);
        double r[4] = {0, 0, 0, 0};
        for (int round = 0; round < 2; round++)
            for (int w = 0; w < 4; w++)
                r[w] += rate(x, side, w, w == REFERENCE ? seconds / 2 : seconds) / 2;
        printf("%3dx%-3d (%d native pixels each): kernel %7.1f images/s, previous kernel %7.1f "
               "(ratio %.2fx), reference %5.2f (%.0fx); whole images %7.1f images/s\n",
               side, side, d.bin * d.bin, r[FAST], r[LIBMVEC], r[FAST] / r[LIBMVEC],
               r[REFERENCE], r[FAST] / r[REFERENCE], r[IMAGE]);
        if (side == 127) {
            int cores = omp_get_num_procs();
            double full = 79384 / (r[IMAGE] * cores), before = 79384 / (r[LIBMVEC] * cores);
            printf("full set (79,384 images, 127x127) on %d cores: about %.0f s (%.1f min) of "
                   "simulation, %.1f min with the previous kernel (extrapolated from one core)\n",
                   cores, full, full / 60, before / 60);
        }
        a4nn_xfel_free(x);
    }
    a4nn_molecule_free(&m);
    return 0;
}
