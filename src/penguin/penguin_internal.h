/* penguin: what the module's files share (not part of the public header). */
#ifndef A4NN_PENGUIN_INTERNAL_H
#define A4NN_PENGUIN_INTERNAL_H

#include "a4nn/penguin.h"

struct a4nn_penguin {
    a4nn_penguin_config cfg;
    a4nn_curve_registry *curves;
    const a4nn_curve *curve;
    a4nn_fitter *fitter;
    /* curves that reached the budget, here or on other analytics ranks:
     * n_finished x budget accuracies, validation and training */
    double *finished, *finished_train;
    double *finished_mflops;
    int n_finished, cap_finished;
    void *state; /* the policy's own (init / free) */
};

/* The population-informed, Pareto-aware default policy (calibrate.c). */
extern const a4nn_policy a4nn_policy_front;

/* The curve-fit prediction of the model's last epoch into m->pred / m->sigma:
 * the configured curve alone (family 0) or the AIC-weighted family. */
void a4nn_penguin_predict(a4nn_penguin *p, a4nn_penguin_model *m, int family);
double a4nn_penguin_best_so_far(const double *acc, int n);
/* Median of v (sorts v). */
double a4nn_penguin_median(double *v, int n);
/* (m1, a1) dominates (m2, a2): no more MFLOPs, no less accuracy, and better in one. */
int a4nn_penguin_dominates(double m1, double a1, double m2, double a2);

#endif
