/* PENGUIN fitting speed: fits per second on one core for a 25-epoch curve,
 * per curve of the family, and the time to replay the reference file. The
 * peer is scipy's curve_fit on the same data (bench/b_penguin.sh). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "a4nn/penguin.h"

/* Fits c to the 25-point curve for 0.3 s; prints a row, returns fits/s. */
static double time_fits(a4nn_fitter *w, const a4nn_curve *c, const double *x, const double *y,
                        const char *mark)
{
    a4nn_fit f;
    int reps = 0, ok = 0;
    double t0 = a4nn_now(), t;
    do {
        a4nn_curve_fit(w, c, x, y, 25, 25, &f);
        ok += f.ok;
        reps++;
    } while ((t = a4nn_now() - t0) < 0.3);
    printf("%-10s %12.0f %10.1f %5.0f%%%s\n", c->name, reps / t, 1e6 * t / reps,
           100.0 * ok / reps, mark);
    return reps / t;
}

int main(int argc, char **argv)
{
    const char *csv = argc > 1 ? argv[1] : NULL;
    a4nn_curve_registry *reg = a4nn_curve_registry_alloc();
    a4nn_fitter *w = a4nn_fitter_alloc(A4NN_FIT_ROBUST);
    /* a typical rising validation curve, 25 epochs */
    double x[25], y[25];
    for (int k = 0; k < 25; k++)
        x[k] = k, y[k] = 96.0 - 18.0 * exp(-0.45 * k) + 0.4 * sin(1.7 * k);
    printf("%-10s %12s %10s %6s\n", "curve", "fits/s", "us/fit", "ok");
    for (int i = 0; i < a4nn_curve_count(reg); i++) {
        const a4nn_curve *c = a4nn_curve_at(reg, i);
        double per_s = time_fits(w, c, x, y, i == 0 ? "   <- default curve" : "");
        if (i == 0)
            printf("default_fits_per_s=%.0f\n", per_s);
    }
    /* the seed policy's fits: as the original made them (Jacobian by finite
     * differences, one start) */
    a4nn_fitter *ref = a4nn_fitter_alloc(A4NN_FIT_REFERENCE);
    time_fits(ref, a4nn_curve_find(reg, "default"), x, y,
              "   <- default curve, reference fits (seed policy)");
    a4nn_fitter_free(ref);
    if (csv) {
        a4nn_curve_set set;
        a4nn_error err;
        if (a4nn_curves_read(csv, &set, &err))
            a4nn_die("%s", err.msg);
        a4nn_replay_row *rows = a4nn_calloc((size_t)set.n_models, sizeof *rows);
        const char *pol[] = {"front", "seed", "ensemble", "pareto", "fixed:10", "median"};
        for (int k = 0; k < (int)A4NN_ARRAY_LEN(pol); k++) {
            a4nn_penguin_config cfg;
            a4nn_penguin_config_defaults(&cfg);
            a4nn_penguin_config_set(&cfg, "policy", pol[k], NULL);
            a4nn_replay_summary sum;
            if (a4nn_penguin_replay(&cfg, reg, &set, 2, rows, &sum, &err))
                a4nn_die("%s", err.msg);
            printf("replay of %d models, policy %-8s: %.3f s, epochs saved %.1f %%, rho %.3f, "
                   "front regret %.2f, front kept %d/%d, mean |fitness - final| %.2f\n",
                   set.n_models, pol[k], sum.seconds, sum.epochs_saved_pct, sum.rho,
                   sum.front_regret, sum.front_kept, sum.front_size, sum.mean_abs_fitness_err);
        }
        free(rows);
        a4nn_curves_free(&set);
    }
    a4nn_fitter_free(w);
    a4nn_curve_registry_free(reg);
    return 0;
}
