/* Simulator speed: images per second of the vectorised structure-factor
 * kernel against the straightforward reference (double precision, one
 * scatterer at a time) on the same orientations, one core; and what the full
 * 79,384-image set at 127x127 takes on this machine's cores. */
#include <omp.h>
#include <stdio.h>

#include "a4nn/xfel.h"

static double rate(a4nn_xfel *x, int side, int reference, double seconds)
{
    float *img = a4nn_malloc(sizeof(float) * (size_t)side * side);
    long n = 0;
    double t0 = a4nn_now(), t;
    do {
        double q[4];
        a4nn_quaternion_uniform(0.1 + 0.001 * n, 0.3, 0.7, q);
        if (reference)
            a4nn_xfel_expected_reference(x, q, img);
        else
            a4nn_xfel_expected(x, q, img);
        n++;
    } while ((t = a4nn_now() - t0) < seconds);
    free(img);
    return n / t;
}

int main(void)
{
    a4nn_molecule m;
    a4nn_error err;
    if (a4nn_molecule_builtin(0, 30, &m, &err))
        a4nn_die("%s", err.msg);
    const int sides[2][2] = {{128, 4}, {127, 1}};
    for (int k = 0; k < 2; k++) {
        a4nn_detector d;
        a4nn_detector_defaults(&d);
        d.pixels = sides[k][0], d.bin = sides[k][1];
        a4nn_xfel *x = a4nn_xfel_alloc(&d, &m, &err);
        int side = a4nn_detector_side(&d);
        double fast = rate(x, side, 0, 1.0), ref = rate(x, side, 1, 1.0);
        printf("%3dx%-3d %d scatterers: %9.1f images/s (reference %7.1f images/s): %.1fx, one core\n",
               side, side, m.n, fast, ref, fast / ref);
        if (side == 127) {
            int cores = omp_get_num_procs();
            double full = 3.0 * 79384 / (fast * cores);
            printf("full set (79,384 images x 3 intensities, 127x127) on %d cores: about %.0f s "
                   "(%.1f min) of simulation\n", cores, full, full / 60);
        }
        a4nn_xfel_free(x);
    }
    a4nn_molecule_free(&m);
    return 0;
}
