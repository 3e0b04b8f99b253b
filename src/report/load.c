/* report: a run directory's data commons, read through the commons reader,
 * with the numbers the report derives from it. */
#include "a4nn/report.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>

/* Parses a genome of any phase count and 2..A4NN_MAX_NODES nodes (the usual
 * 4 and more first). */
static int parse_any_genome(const char *text, a4nn_genome *g)
{
    for (int nodes = 4; nodes <= A4NN_MAX_NODES; nodes++)
        if (a4nn_genome_parse(text, 0, nodes, g, NULL) == A4NN_OK)
            return 1;
    for (int nodes = 2; nodes < 4; nodes++)
        if (a4nn_genome_parse(text, 0, nodes, g, NULL) == A4NN_OK)
            return 1;
    return 0;
}

/* Takes over the record's rows. */
static void from_record(a4nn_model_record *r, a4nn_report_model *m)
{
    memset(m, 0, sizeof *m);
    m->id = r->id;
    snprintf(m->name, sizeof m->name, "%06d", r->id);
    snprintf(m->genome_text, sizeof m->genome_text, "%s", r->genome);
    m->has_genome = r->genome[0] && parse_any_genome(r->genome, &m->genome);
    m->mflops = r->mflops;
    m->params = r->params;
    snprintf(m->stop_reason, sizeof m->stop_reason, "%s", r->stop_reason);
    m->worker = r->worker;
    m->start_time = r->start_time;
    m->end_time = r->end_time;
    m->n_epochs = r->n_epochs, m->epochs = r->epochs, r->epochs = NULL, r->n_epochs = 0;
    m->n_preds = r->n_preds, m->preds = r->preds, r->preds = NULL, r->n_preds = 0;
    if (r->n_neighbours > 0) {
        m->nb = a4nn_calloc((size_t)r->n_neighbours, sizeof *m->nb);
        memcpy(m->nb, r->neighbours, sizeof *m->nb * (size_t)r->n_neighbours);
        m->n_nb = r->n_neighbours;
    }
    m->fitness = r->fitness;
    m->last_val = r->last_val_acc;
    m->epochs_trained = m->n_epochs;
    m->train_seconds = 0;
    for (int i = 0; i < m->n_epochs; i++)
        if (!isnan(m->epochs[i].seconds))
            m->train_seconds += m->epochs[i].seconds;
    m->converged_epoch = -1;
    for (int i = 0; i < m->n_preds && m->converged_epoch < 0; i++)
        if (m->preds[i].converged)
            m->converged_epoch = m->preds[i].epoch;
}

void a4nn_report_run_free(a4nn_report_run *run)
{
    if (!run)
        return;
    for (int i = 0; i < run->n_models; i++) {
        free(run->models[i].epochs);
        free(run->models[i].preds);
        free(run->models[i].nb);
    }
    free(run->models);
    free(run->config);
    free(run);
}

int a4nn_report_run_load(const char *dir, a4nn_report_run **out, a4nn_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0)
        return a4nn_errorf(err, "%s: no such run directory", dir);
    char path[1200];
    if (S_ISDIR(st.st_mode))
        snprintf(path, sizeof path, "%s/commons.h5", dir);
    else
        snprintf(path, sizeof path, "%s", dir);
    a4nn_commons_contents c;
    if (a4nn_commons_read_file(path, &c, err) != A4NN_OK)
        return A4NN_ERR;
    a4nn_report_run *run = a4nn_calloc(1, sizeof *run);
    snprintf(run->dir, sizeof run->dir, "%s", dir);
    snprintf(run->name, sizeof run->name, "%s", c.name);
    if (!run->name[0]) { /* the directory's base name */
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", dir);
        size_t l = strlen(tmp);
        while (l > 1 && tmp[l - 1] == '/')
            tmp[--l] = 0;
        const char *b = strrchr(tmp, '/');
        snprintf(run->name, sizeof run->name, "%s", b ? b + 1 : tmp);
    }
    snprintf(run->version, sizeof run->version, "%s", c.version);
    run->seed = c.seed;
    run->start_time = c.start_time;
    run->config = c.config, c.config = NULL;
    run->budget = c.budget;
    run->n_models = c.n_models;
    run->models = a4nn_calloc((size_t)(c.n_models > 0 ? c.n_models : 1), sizeof *run->models);
    for (int i = 0; i < c.n_models; i++)
        from_record(&c.models[i], &run->models[i]);
    a4nn_commons_contents_free(&c);
    if (a4nn_report_run_analyse(run, err) != A4NN_OK) {
        a4nn_report_run_free(run);
        return A4NN_ERR;
    }
    *out = run;
    return A4NN_OK;
}
