/* a4nn penguin: replay learning curves from a CSV through a stopping policy. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "a4nn/penguin.h"
#include "app.h"

static void penguin_usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn penguin --curves FILE.csv [options]\n\n"
            "Replays recorded learning curves (columns epoch, val_accs, ... flops; a new\n"
            "model starts where epoch goes back to 0) through PENGUIN's prediction and\n"
            "stopping rule, as the analytics rank would during a search. Writes one CSV\n"
            "row per model on standard output and a summary on standard error.\n\n"
            "options:\n"
            "  --curve NAME          curve to fit (default: default, a - b^(c - x));\n"
            "                        --curve list prints the family\n"
            "  --policy P            seed (the original rule), ensemble (AIC-weighted\n"
            "                        family) or pareto (stop models once they cannot reach\n"
            "                        the Pareto front); each sets the defaults below\n"
            "  --fit reference|robust  fits as the original made them (seed) or with\n"
            "                        analytic Jacobians and restarts (ensemble, pareto)\n"
            "  --select weighted|best  Akaike-weighted average or least-AIC curve\n"
            "  --envelope 0|1        fit the running best accuracy (seed 0, others 1)\n"
            "  --tolerance T         convergence band in points (seed 0.5, others 0.25)\n"
            "  --window N, --start-epoch E\n"
            "                        predictions that must agree (3), first epoch with a\n"
            "                        prediction (3)\n"
            "  --z Z, --min-sigma S, --require-convergence 0|1, --pessimism K\n"
            "                        pareto: optimism z*max(sigma, S) (2, 3); stop only\n"
            "                        converged models (1); fitness of a stopped model is\n"
            "                        prediction - K sigma (0)\n"
            "  --budget E            epoch budget; predictions are f(E) (default 25)\n"
            "  --plugin LIB.so       load a curve plug-in (exports a4nn_curve_plugin)\n");
}

int cmd_penguin(int argc, char **argv)
{
    if (app_wants_help(argc, argv)) {
        penguin_usage(stdout);
        return 0;
    }
    a4nn_penguin_config cfg;
    a4nn_penguin_config_defaults(&cfg);
    a4nn_curve_registry *reg = a4nn_curve_registry_alloc();
    const char *path = NULL;
    int list = 0;
    a4nn_error err;
    for (int i = 1; i < argc; i++) {
        const char *v;
        char opt[64];
        if (!app_option(argc, argv, &i, opt, sizeof opt, &v, "penguin"))
            a4nn_die("penguin: unexpected argument '%s' (see a4nn penguin --help)", argv[i]);
        char key[64];
        snprintf(key, sizeof key, "%s", opt + 2);
        for (char *c = key; *c; c++)
            if (*c == '-')
                *c = '_';
        if (!strcmp(key, "curves"))
            path = v;
        else if (!strcmp(key, "plugin")) {
            if (a4nn_curve_load_plugin(reg, v, &err))
                a4nn_die("penguin: %s", err.msg);
        } else if (!strcmp(key, "curve") && !strcmp(v, "list"))
            list = 1;
        else if (a4nn_penguin_config_set(&cfg, key, v, &err))
            a4nn_die("penguin: %s", err.msg);
    }
    if (list) {
        for (int i = 0; i < a4nn_curve_count(reg); i++) {
            const a4nn_curve *c = a4nn_curve_at(reg, i);
            printf("%-10s %d parameters  %s\n", c->name, c->n_params, c->formula);
        }
        a4nn_curve_registry_free(reg);
        return 0;
    }
    if (!path) {
        penguin_usage(stderr);
        a4nn_die("penguin: --curves FILE.csv is required");
    }
    a4nn_curve_set set;
    if (a4nn_curves_read(path, &set, &err))
        a4nn_die("penguin: %s", err.msg);
    a4nn_replay_row *rows = a4nn_calloc((size_t)set.n_models, sizeof *rows);
    a4nn_replay_summary sum;
    if (a4nn_penguin_replay(&cfg, reg, &set, rows, &sum, &err))
        a4nn_die("penguin: %s", err.msg);
    printf("model,converged_epoch,prediction,final_observed,epochs_used\n");
    for (int i = 0; i < set.n_models; i++) {
        const a4nn_replay_row *r = &rows[i];
        if (r->converged_epoch >= 0)
            printf("%d,%d,%.4f,%.4f,%d\n", i, r->converged_epoch, r->fitness, r->final_observed,
                   r->epochs_used);
        else
            printf("%d,,%.4f,%.4f,%d\n", i, r->fitness, r->final_observed, r->epochs_used);
    }
    fprintf(stderr,
            "penguin: %d models, curve %s, policy %s: %d converged, epochs saved %.1f %%, "
            "|prediction - final| mean %.2f max %.2f points (converged models), full-training "
            "Pareto front kept %d/%d, %.3f s\n",
            set.n_models, cfg.curve, a4nn_policy_name(cfg.policy), sum.n_converged,
            sum.epochs_saved_pct, sum.mean_abs_err, sum.max_abs_err, sum.front_kept,
            sum.front_size, sum.seconds);
    free(rows);
    a4nn_curves_free(&set);
    a4nn_curve_registry_free(reg);
    return 0;
}
