/* a4nn penguin: replay learning curves from a CSV through a stopping policy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "a4nn/penguin.h"
#include "app.h"

static void penguin_usage(FILE *out)
{
    fprintf(out,
            "usage: a4nn penguin --curves FILE.csv [options]\n\n"
            "Replays recorded learning curves (columns epoch, val_accs, ... flops; a new\n"
            "model starts where epoch goes back to 0) through PENGUIN's prediction and\n"
            "stopping rule, as the analytics rank would during a search: the models\n"
            "arrive in file order, --workers of them in flight (each round every model\n"
            "in flight reports one epoch; a model that stops or reaches the budget\n"
            "enters the front and gives its place to the next). Writes one CSV row per\n"
            "model (or, with --format json, every figure) on standard output and a\n"
            "summary with the figures' definitions on standard error.\n\n"
            "options:\n"
            "  --policy P            stopping policy; each sets the defaults below:\n");
    for (int i = 0; i < a4nn_policy_count(); i++)
        fprintf(out, "                          %-9s %s%s\n", a4nn_policy_at(i)->name,
                a4nn_policy_at(i)->summary, i ? "" : " (default)");
    fprintf(out,
            "  --workers W           models in flight during the replay (default 2)\n"
            "  --orders K            also replay K - 1 shuffled arrival orders and print\n"
            "                        the figures' mean, least and largest (default 1:\n"
            "                        the file order only); --seed S seeds the shuffles (1)\n"
            "  --format csv|json     standard output: per-model CSV (default) or JSON\n"
            "  --curve NAME          curve to fit (default: default, a - b^(c - x));\n"
            "                        --curve list prints the family\n"
            "  --fit reference|robust  fits as the original made them (seed) or with\n"
            "                        analytic Jacobians and restarts (the others)\n"
            "  --select weighted|best  Akaike-weighted average or least-AIC curve\n"
            "  --envelope 0|1        fit the running best accuracy (seed 0, others 1)\n"
            "  --tolerance T         convergence band in points (seed 0.5, others 0.25)\n"
            "  --window N, --start-epoch E\n"
            "                        predictions that must agree (3), first epoch with a\n"
            "                        prediction (3)\n"
            "  --z Z, --min-sigma S, --require-convergence 0|1, --pessimism K\n"
            "                        pareto: optimism z*max(sigma, S) (2, 3); stop only\n"
            "                        converged models (1); fitness of a stopped model is\n"
            "                        prediction - K sigma (0); front: optimism z (2)\n"
            "  --calibrate-after N, --min-epochs M, --chance C\n"
            "                        front: models that reach the budget before any stop\n"
            "                        (5); epochs a model trains before it may stop (2);\n"
            "                        chance-level accuracy in percent (50)\n"
            "  --budget E            epoch budget; predictions are f(E) (default: the\n"
            "                        curves' length when every curve has the same one,\n"
            "                        else 25, the original searches' budget)\n"
            "  --plugin LIB.so       load a curve plug-in (exports a4nn_curve_plugin)\n");
}

/* The spread of the figures over several arrival orders of the same curves:
 * a search's order is one draw, and a policy should not hang on it. */
typedef struct {
    int n;
    double saved[3], rho[3], regret[3]; /* mean, least, largest */
} order_spread;

static void figure_add(double *f, double v, int n)
{
    f[0] += (v - f[0]) / n;
    f[1] = n == 1 ? v : fmin(f[1], v);
    f[2] = n == 1 ? v : fmax(f[2], v);
}

static void spread_add(order_spread *o, const a4nn_replay_summary *sum)
{
    o->n++;
    figure_add(o->saved, sum->epochs_saved_pct, o->n);
    figure_add(o->rho, sum->rho, o->n);
    figure_add(o->regret, sum->front_regret, o->n);
}

/* Replays `orders` - 1 shuffles of set (the models' order only) after the
 * file order's summary `first`. */
static int replay_orders(const a4nn_penguin_config *cfg, a4nn_curve_registry *reg,
                         const a4nn_curve_set *set, int workers, int orders, unsigned long seed,
                         const a4nn_replay_summary *first, order_spread *out, a4nn_error *err)
{
    memset(out, 0, sizeof *out);
    spread_add(out, first);
    a4nn_curve_set shuffled = {set->n_models, a4nn_malloc(sizeof *set->models * (size_t)set->n_models)};
    memcpy(shuffled.models, set->models, sizeof *set->models * (size_t)set->n_models);
    a4nn_replay_row *rows = a4nn_calloc((size_t)set->n_models, sizeof *rows);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    int rc = A4NN_OK;
    for (int k = 1; k < orders && rc == A4NN_OK; k++) {
        a4nn_replay_summary sum;
        gsl_ran_shuffle(rng, shuffled.models, (size_t)shuffled.n_models, sizeof *shuffled.models);
        if ((rc = a4nn_penguin_replay(cfg, reg, &shuffled, workers, rows, &sum, err)))
            break;
        spread_add(out, &sum);
    }
    gsl_rng_free(rng);
    free(rows);
    free(shuffled.models);
    return rc;
}

/* An integer option in [lo, hi], or a clear error naming it. */
static long int_option(const char *key, const char *v, long lo, long hi)
{
    char *end;
    long w = strtol(v, &end, 10);
    if (!*v || *end || w < lo || w > hi)
        a4nn_die("penguin: --%s: bad value '%s' (a %s integer)", key, v,
                 lo > 0 ? "positive" : "non-negative");
    return w;
}

static void print_definitions(FILE *o, int n, int budget)
{
    fprintf(o,
            "  epochs saved   1 - epochs used / (N x E), N = %d models, E = %d epochs\n"
            "  final          a model's accuracy after E epochs (last row of its curve)\n"
            "  fitness        the policy's converged prediction, else its last accuracy\n"
            "  rho            Spearman rank correlation of fitness and final (ties: average "
            "ranks)\n"
            "  true front     non-dominated in (final up, MFLOPs down); policy front: in "
            "(fitness up, MFLOPs down)\n"
            "  front regret   max over true-front t of final(t) - best final of the policy "
            "front at MFLOPs <= MFLOPs(t) (50 if none)\n"
            "  front kept     true-front models inside the policy front\n",
            n, budget);
}

/* The length every curve of the set shares, or 0 when they differ: a file of
 * full curves (every model trained to the budget) tells its budget, a file of
 * a run with early stops does not. */
static int common_length(const a4nn_curve_set *set)
{
    int len = set->n_models > 0 ? set->models[0].n_epochs : 0;
    for (int i = 1; i < set->n_models; i++)
        if (set->models[i].n_epochs != len)
            return 0;
    return len;
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
    int list = 0, json = 0, workers = 2, orders = 1, budget_given = 0;
    unsigned long seed = 1;
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
        else if (!strcmp(key, "format")) {
            if (strcmp(v, "csv") && strcmp(v, "json"))
                a4nn_die("penguin: --format: bad value '%s' (csv or json)", v);
            json = !strcmp(v, "json");
        } else if (!strcmp(key, "workers"))
            workers = (int)int_option(key, v, 1, 100000);
        else if (!strcmp(key, "orders"))
            orders = (int)int_option(key, v, 1, 100000);
        else if (!strcmp(key, "seed"))
            seed = (unsigned long)int_option(key, v, 0, 100000);
        else if (a4nn_penguin_config_set(&cfg, key, v, &err))
            a4nn_die("penguin: %s", err.msg);
        else
            budget_given |= !strcmp(key, "budget");
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
    const int len = common_length(&set);
    if (!budget_given && len > 0 && len != cfg.budget) {
        fprintf(stderr, "penguin: budget %d epochs, the length of every curve in %s (--budget "
                        "to set another)\n", len, path);
        cfg.budget = len;
    }
    a4nn_replay_row *rows = a4nn_calloc((size_t)set.n_models, sizeof *rows);
    a4nn_replay_summary sum;
    if (a4nn_penguin_replay(&cfg, reg, &set, workers, rows, &sum, &err))
        a4nn_die("penguin: %s", err.msg);
    order_spread spread;
    if (replay_orders(&cfg, reg, &set, workers, orders, seed, &sum, &spread, &err))
        a4nn_die("penguin: %s", err.msg);
    if (json) {
        printf("{\"curves\":\"%s\",\"policy\":\"%s\",\"curve\":\"%s\",\"workers\":%d,"
               "\"budget\":%d,\"models\":%d,\"epochs_saved_pct\":%.4f,\"rho\":%.6f,"
               "\"front_regret\":%.4f,\"front_kept\":%d,\"true_front\":%d,"
               "\"policy_front\":%d,\"mean_abs_fitness_err\":%.4f,\"converged\":%d,"
               "\"mean_abs_err_converged\":%.4f,\"max_abs_err_converged\":%.4f,"
               "\"seconds\":%.4f,",
               path, cfg.policy_label, cfg.curve, workers, cfg.budget, set.n_models,
               sum.epochs_saved_pct, isfinite(sum.rho) ? sum.rho : 0.0, sum.front_regret,
               sum.front_kept, sum.front_size, sum.policy_front_size, sum.mean_abs_fitness_err,
               sum.n_converged, sum.mean_abs_err, sum.max_abs_err, sum.seconds);
        printf("\"orders\":{\"n\":%d,\"seed\":%lu", spread.n, seed);
        const char *name[3] = {"epochs_saved_pct", "rho", "front_regret"};
        const double *fig[3] = {spread.saved, spread.rho, spread.regret};
        for (int f = 0; f < 3; f++)
            printf(",\"%s\":{\"mean\":%.6g,\"min\":%.6g,\"max\":%.6g}", name[f],
                   isfinite(fig[f][0]) ? fig[f][0] : 0.0, isfinite(fig[f][1]) ? fig[f][1] : 0.0,
                   isfinite(fig[f][2]) ? fig[f][2] : 0.0);
        printf("},\"rows\":[");
        for (int i = 0; i < set.n_models; i++)
            printf("%s{\"model\":%d,\"converged_epoch\":%d,\"fitness\":%.4f,\"final\":%.4f,"
                   "\"epochs_used\":%d,\"mflops\":%.6g}",
                   i ? "," : "", i, rows[i].converged_epoch, rows[i].fitness,
                   rows[i].final_observed, rows[i].epochs_used,
                   isfinite(set.models[i].mflops) ? set.models[i].mflops : -1.0);
        printf("]}\n");
    } else {
        printf("model,converged_epoch,prediction,final_observed,epochs_used\n");
        for (int i = 0; i < set.n_models; i++) {
            const a4nn_replay_row *r = &rows[i];
            if (r->converged_epoch >= 0)
                printf("%d,%d,%.4f,%.4f,%d\n", i, r->converged_epoch, r->fitness,
                       r->final_observed, r->epochs_used);
            else
                printf("%d,,%.4f,%.4f,%d\n", i, r->fitness, r->final_observed, r->epochs_used);
        }
    }
    fprintf(stderr,
            "penguin: %d models, curve %s, policy %s, %d workers: %d converged, epochs saved "
            "%.1f %%, rho %.3f, front regret %.2f points, front kept %d/%d (policy front %d), "
            "mean |fitness - final| %.2f (converged models: mean %.2f max %.2f), %.3f s\n",
            set.n_models, cfg.curve, cfg.policy_label, workers, sum.n_converged,
            sum.epochs_saved_pct, sum.rho, sum.front_regret, sum.front_kept, sum.front_size,
            sum.policy_front_size, sum.mean_abs_fitness_err, sum.mean_abs_err, sum.max_abs_err,
            sum.seconds);
    if (spread.n > 1)
        fprintf(stderr,
                "penguin: over %d arrival orders (the file's and %d shuffles, seed %lu): epochs "
                "saved mean %.1f %% (%.1f to %.1f), rho mean %.3f (%.3f to %.3f), front regret "
                "mean %.2f (%.2f to %.2f) points\n",
                spread.n, spread.n - 1, seed, spread.saved[0], spread.saved[1], spread.saved[2],
                spread.rho[0], spread.rho[1], spread.rho[2], spread.regret[0], spread.regret[1],
                spread.regret[2]);
    print_definitions(stderr, set.n_models, cfg.budget);
    free(rows);
    a4nn_curves_free(&set);
    a4nn_curve_registry_free(reg);
    return 0;
}
