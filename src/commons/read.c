/* commons: reading a run's data commons back, read-only (the write side is
 * commons.c). One reader for every tool that looks at a finished or running
 * run: tolerant of naming (fields and attributes are matched by name, with a
 * few alternatives, so extra fields are ignored and missing ones read as NaN)
 * and strict about consistency (a4nn_commons_read_file refuses values no run
 * writes). */
#include "a4nn/commons.h"

#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

typedef struct {
    a4nn_config *cfg;
    int ignored;
} config_ctx;

static int config_key(void *user, const char *section, const char *key, const char *value)
{
    config_ctx *x = user;
    a4nn_error e;
    if (a4nn_config_set(x->cfg, section, key, value ? value : "", &e) != A4NN_OK)
        x->ignored++; /* a key of another a4nn version: the rest still applies */
    return 1;
}

int a4nn_commons_config(const char *text, a4nn_config *cfg, int *n_ignored, a4nn_error *err)
{
    a4nn_config_defaults(cfg);
    config_ctx x = {cfg, 0};
    if (!text)
        return a4nn_errorf(err, "the commons stores no configuration");
    int line = ini_parse_string(text, config_key, &x);
    if (line != 0)
        return a4nn_errorf(err, "the stored configuration has a syntax error on line %d", line);
    if (n_ignored)
        *n_ignored = x.ignored;
    return A4NN_OK;
}

/* ---- small HDF5 helpers: tolerant of field/attribute naming -------------- */

static int has_attr(hid_t loc, const char *name)
{
    return H5Aexists_by_name(loc, ".", name, H5P_DEFAULT) > 0;
}

/* Reads the first attribute of names[] that exists as a double; NaN if none. */
static double attr_double(hid_t loc, const char *const *names)
{
    for (; *names; names++) {
        if (!has_attr(loc, *names))
            continue;
        hid_t a = H5Aopen(loc, *names, H5P_DEFAULT);
        if (a < 0)
            continue;
        double v = NAN;
        hid_t t = H5Aget_type(a);
        H5T_class_t c = H5Tget_class(t);
        if (c == H5T_INTEGER || c == H5T_FLOAT) {
            hid_t sp = H5Aget_space(a);
            hssize_t np = H5Sget_simple_extent_npoints(sp);
            H5Sclose(sp);
            if (np == 1 && H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
                v = NAN;
        }
        H5Tclose(t);
        H5Aclose(a);
        if (!isnan(v))
            return v;
    }
    return NAN;
}

/* Reads a string attribute (fixed or variable length) into a new buffer. */
static char *attr_string(hid_t loc, const char *const *names)
{
    for (; *names; names++) {
        if (!has_attr(loc, *names))
            continue;
        hid_t a = H5Aopen(loc, *names, H5P_DEFAULT);
        if (a < 0)
            continue;
        hid_t t = H5Aget_type(a);
        char *out = NULL;
        if (H5Tget_class(t) == H5T_STRING) {
            if (H5Tis_variable_str(t) > 0) {
                hid_t mt = H5Tcopy(H5T_C_S1);
                H5Tset_size(mt, H5T_VARIABLE);
                H5Tset_cset(mt, H5Tget_cset(t));
                char *p = NULL;
                if (H5Aread(a, mt, &p) >= 0 && p) {
                    out = a4nn_strdup(p);
                    H5free_memory(p);
                }
                H5Tclose(mt);
            } else {
                size_t n = H5Tget_size(t);
                hid_t mt = H5Tcopy(H5T_C_S1);
                H5Tset_size(mt, n + 1);
                H5Tset_strpad(mt, H5T_STR_NULLTERM);
                H5Tset_cset(mt, H5Tget_cset(t));
                out = a4nn_calloc(n + 2, 1);
                if (H5Aread(a, mt, out) < 0) {
                    free(out);
                    out = NULL;
                }
                H5Tclose(mt);
            }
        }
        H5Tclose(t);
        H5Aclose(a);
        if (out)
            return out;
    }
    return NULL;
}

static void attr_string_into(hid_t loc, const char *const *names, char *buf, size_t cap)
{
    char *s = attr_string(loc, names);
    if (s) {
        snprintf(buf, cap, "%s", s);
        free(s);
    }
}

/* Reads one numeric field of a compound table into doubles (NaN when the
 * field is absent). Returns the row count, or -1 when the table is unusable. */
static long table_field(hid_t ds, const char *const *names, double **out)
{
    hid_t ft = H5Dget_type(ds), sp = H5Dget_space(ds);
    long n = (long)H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    if (H5Tget_class(ft) != H5T_COMPOUND || n < 0) {
        H5Tclose(ft);
        return -1;
    }
    double *v = a4nn_malloc(sizeof *v * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++)
        v[i] = NAN;
    for (; *names && n > 0; names++) {
        int idx = H5Tget_member_index(ft, *names);
        if (idx < 0)
            continue;
        hid_t mt0 = H5Tget_member_type(ft, (unsigned)idx);
        H5T_class_t c = H5Tget_class(mt0);
        int ok = 0;
        if (c == H5T_INTEGER || c == H5T_FLOAT) {
            hid_t mt = H5Tcreate(H5T_COMPOUND, sizeof(double));
            H5Tinsert(mt, *names, 0, H5T_NATIVE_DOUBLE);
            ok = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
            H5Tclose(mt);
        } else if (c == H5T_ENUM) { /* e.g. booleans written as enums */
            size_t sz = H5Tget_size(mt0);
            if (sz == 1 || sz == 2 || sz == 4 || sz == 8) {
                hid_t mt = H5Tcreate(H5T_COMPOUND, sz);
                hid_t et = H5Tcopy(mt0);
                H5Tinsert(mt, *names, 0, et);
                unsigned char *raw = a4nn_malloc(sz * (size_t)n);
                ok = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0;
                for (long i = 0; ok && i < n; i++) {
                    long long x = 0;
                    if (sz == 1)
                        x = ((signed char *)raw)[i];
                    else if (sz == 2)
                        x = ((short *)raw)[i];
                    else if (sz == 4)
                        x = ((int *)raw)[i];
                    else
                        x = ((long long *)raw)[i];
                    v[i] = (double)x;
                }
                free(raw);
                H5Tclose(et);
                H5Tclose(mt);
            }
        }
        H5Tclose(mt0);
        if (ok)
            break;
        for (long i = 0; i < n; i++)
            v[i] = NAN;
    }
    H5Tclose(ft);
    *out = v;
    return n;
}

/* ---- models --------------------------------------------------------------- */

static const char *const F_EPOCH[] = {"epoch", NULL};
static const char *const F_TRAIN[] = {"train_acc", "train_accuracy", "train", NULL};
static const char *const F_VAL[] = {"val_acc", "val_accuracy", "val", NULL};
static const char *const F_LOSS[] = {"loss", "train_loss", NULL};
static const char *const F_SEC[] = {"seconds", "time", NULL};
static const char *const F_PRED[] = {"prediction", "predicted", NULL};
static const char *const F_UNC[] = {"uncertainty", NULL};
static const char *const F_CONV[] = {"converged", NULL};

/* Sorts rows (each starting with its int epoch number) by epoch, keeping
 * the arrival order within one epoch (insertion sort: tables are short), and
 * keeps the last row of every epoch (a resumed model re-reports an epoch).
 * Returns the new count. */
static int dedup_by_epoch(void *rows, int n, size_t size)
{
    unsigned char *r = rows, *x = a4nn_malloc(size);
    for (int i = 1; i < n; i++) {
        memcpy(x, r + (size_t)i * size, size);
        int j = i;
        while (j > 0 && *(int *)(r + (size_t)(j - 1) * size) > *(int *)x) {
            memcpy(r + (size_t)j * size, r + (size_t)(j - 1) * size, size);
            j--;
        }
        memcpy(r + (size_t)j * size, x, size);
    }
    free(x);
    int m = 0;
    for (int i = 0; i < n; i++) {
        int same = m > 0 && *(int *)(r + (size_t)(m - 1) * size) == *(int *)(r + (size_t)i * size);
        memmove(r + (size_t)(same ? m - 1 : m) * size, r + (size_t)i * size, size);
        m += !same;
    }
    return m;
}

/* Reads the columns fields[0..nf) of table into c[] (NaN where a field is
 * absent). Returns the row count, 0 when the table is absent, or -1 with err
 * set when it cannot be read. */
static long read_columns(hid_t g, const char *model, const char *table,
                         const char *const *const *fields, int nf, double **c, a4nn_error *err)
{
    for (int k = 0; k < nf; k++)
        c[k] = NULL;
    if (H5Lexists(g, table, H5P_DEFAULT) <= 0)
        return 0;
    hid_t ds = H5Dopen(g, table, H5P_DEFAULT);
    if (ds < 0)
        return a4nn_errorf(err, "model %s: cannot open its %s table", model, table), -1;
    long n = 0;
    for (int k = 0; k < nf && n >= 0; k++)
        n = table_field(ds, fields[k], &c[k]);
    H5Dclose(ds);
    if (n < 0) {
        for (int k = 0; k < nf; k++)
            free(c[k]), c[k] = NULL;
        return a4nn_errorf(err, "model %s: %s is not a compound table", model, table), -1;
    }
    return n;
}

static void free_columns(double **c, int nf)
{
    for (int k = 0; k < nf; k++)
        free(c[k]);
}

static int read_epochs(hid_t g, const char *name, a4nn_model_record *m, a4nn_error *err)
{
    const char *const *f[5] = {F_EPOCH, F_TRAIN, F_VAL, F_LOSS, F_SEC};
    double *c[5];
    long n = read_columns(g, name, "epochs", f, 5, c, err);
    if (n < 0)
        return A4NN_ERR;
    m->epochs = a4nn_calloc((size_t)(n > 0 ? n : 1), sizeof *m->epochs);
    int k = 0;
    for (long i = 0; i < n; i++)
        if (!isnan(c[0][i]))
            m->epochs[k++] = (a4nn_epoch_row){(int)c[0][i], c[1][i], c[2][i], c[3][i], c[4][i]};
    m->n_epochs = dedup_by_epoch(m->epochs, k, sizeof *m->epochs);
    free_columns(c, 5);
    return A4NN_OK;
}

static int read_preds(hid_t g, const char *name, a4nn_model_record *m, a4nn_error *err)
{
    const char *const *f[4] = {F_EPOCH, F_PRED, F_UNC, F_CONV};
    double *c[4];
    long n = read_columns(g, name, "predictions", f, 4, c, err);
    if (n < 0)
        return A4NN_ERR;
    m->preds = a4nn_calloc((size_t)(n > 0 ? n : 1), sizeof *m->preds);
    int k = 0;
    for (long i = 0; i < n; i++)
        if (!isnan(c[0][i]))
            m->preds[k++] = (a4nn_pred_row){(int)c[0][i], c[1][i], c[2][i],
                                            !isnan(c[3][i]) && c[3][i] != 0};
    m->n_preds = dedup_by_epoch(m->preds, k, sizeof *m->preds);
    free_columns(c, 4);
    return A4NN_OK;
}

/* The stored nearest architectures (optional: an unreadable table is none). */
static void read_neighbours(hid_t g, const char *name, a4nn_model_record *m)
{
    static const char *const fid[] = {"id", "model", NULL}, *const fs[] = {"similarity", NULL},
                             *const fh[] = {"hamming", NULL},
                             *const fg[] = {"graph_edit", "ged", NULL},
                             *const ff[] = {"fitness", NULL};
    const char *const *f[5] = {fid, fs, fh, fg, ff};
    double *c[5];
    a4nn_error ignored;
    long n = read_columns(g, name, "neighbours", f, 5, c, &ignored);
    for (long i = 0; i < n && m->n_neighbours < A4NN_NEIGHBOURS_MAX; i++)
        m->neighbours[m->n_neighbours++] =
            (a4nn_neighbour_row){(int)c[0][i], c[1][i], (int)c[2][i], (int)c[3][i], c[4][i]};
    free_columns(c, 5);
}

static double group_id(hid_t g, const char *name)
{
    static const char *const A_ID[] = {"id", "model_id", NULL};
    double id = attr_double(g, A_ID);
    if (isnan(id)) { /* from the digits of the group name */
        const char *p = name;
        while (*p && (*p < '0' || *p > '9'))
            p++;
        id = *p ? atof(p) : NAN;
    }
    return id;
}

double a4nn_fitness_rule(const a4nn_pred_row *preds, int n_preds, double last_val_acc)
{
    for (int i = 0; i < n_preds; i++)
        if (preds[i].converged)
            return preds[i].prediction;
    return last_val_acc;
}

/* A value no run writes: the model's first inconsistency, or NULL. */
static const char *inconsistent(const a4nn_model_record *m, char *why, size_t cap)
{
    if (!(m->mflops > 0 && m->mflops < 1e9))
        return snprintf(why, cap, "mflops = %g is not a cost in MFLOPs", m->mflops), why;
    if (!(m->fitness >= 0 && m->fitness <= 100))
        return snprintf(why, cap, "fitness = %g is not an accuracy in %%", m->fitness), why;
    if (!isnan(m->start_time) && !isnan(m->end_time) && m->end_time < m->start_time)
        return snprintf(why, cap, "it ended (%.17g) before it started (%.17g)", m->end_time,
                        m->start_time), why;
    for (int i = 0; i < m->n_epochs; i++) {
        const a4nn_epoch_row *e = &m->epochs[i];
        if (e->epoch < 0 || e->epoch > 1000000)
            return snprintf(why, cap, "epoch number %d", e->epoch), why;
        if (!(e->val_acc >= 0 && e->val_acc <= 100))
            return snprintf(why, cap, "epoch %d: val_acc = %g is not an accuracy in %%", e->epoch,
                            e->val_acc), why;
        if (!isnan(e->train_acc) && !(e->train_acc >= 0 && e->train_acc <= 100))
            return snprintf(why, cap, "epoch %d: train_acc = %g is not an accuracy in %%",
                            e->epoch, e->train_acc), why;
        if (e->seconds < 0)
            return snprintf(why, cap, "epoch %d: seconds = %g", e->epoch, e->seconds), why;
    }
    for (int i = 0; i < m->n_preds; i++)
        if (m->preds[i].epoch < 0 || m->preds[i].epoch > 1000000)
            return snprintf(why, cap, "prediction for epoch number %d", m->preds[i].epoch), why;
    return NULL;
}

static int load_model(hid_t models, const char *name, a4nn_model_record *m, a4nn_error *err)
{
    static const char *const A_GEN[] = {"genome", NULL}, *const A_MF[] = {"mflops", "flops", NULL},
                             *const A_PAR[] = {"params", NULL},
                             *const A_STOP[] = {"stop_reason", "stop", NULL},
                             *const A_W[] = {"worker", "worker_rank", "rank", NULL},
                             *const A_T0[] = {"start_time", "t_start", NULL},
                             *const A_T1[] = {"end_time", "t_end", NULL},
                             *const A_FIT[] = {"fitness", "predicted_fitness", NULL},
                             *const A_PRED[] = {"predicted", NULL},
                             *const A_RUN[] = {"epochs_run", NULL},
                             *const A_SEC[] = {"seconds", NULL};
    memset(m, 0, sizeof *m);
    hid_t g = H5Gopen(models, name, H5P_DEFAULT);
    if (g < 0)
        return a4nn_errorf(err, "cannot open model group %s", name);
    double id = group_id(g, name);
    if (!(id >= 0 && id < 1e9)) {
        H5Gclose(g);
        return a4nn_errorf(err, "model group '%s' has no id", name);
    }
    m->id = (int)id;
    attr_string_into(g, A_GEN, m->genome, sizeof m->genome);
    m->mflops = attr_double(g, A_MF);
    double p = attr_double(g, A_PAR);
    m->params = isnan(p) ? -1 : (long)p;
    snprintf(m->stop_reason, sizeof m->stop_reason, "unknown");
    attr_string_into(g, A_STOP, m->stop_reason, sizeof m->stop_reason);
    double w = attr_double(g, A_W);
    m->worker = isnan(w) ? -1 : (int)w;
    m->start_time = attr_double(g, A_T0);
    m->end_time = attr_double(g, A_T1);
    m->fitness = attr_double(g, A_FIT);
    const int fitness_stored = has_attr(g, A_FIT[0]) || has_attr(g, A_FIT[1]);
    m->predicted = attr_double(g, A_PRED);
    m->seconds = attr_double(g, A_SEC);
    int rc = A4NN_OK;
    if (H5Lexists(g, "epochs", H5P_DEFAULT) <= 0)
        rc = a4nn_errorf(err, "model %d has no epochs table", m->id);
    if (rc == A4NN_OK)
        rc = read_epochs(g, name, m, err);
    if (rc == A4NN_OK)
        rc = read_preds(g, name, m, err);
    if (rc == A4NN_OK)
        read_neighbours(g, name, m);
    double er = attr_double(g, A_RUN);
    H5Gclose(g);
    if (rc != A4NN_OK)
        return rc;
    m->epochs_trained = m->n_epochs;
    m->epochs_run = isnan(er) ? m->n_epochs : (int)er;
    m->last_val_acc = m->n_epochs ? m->epochs[m->n_epochs - 1].val_acc : NAN;
    if (!fitness_stored)
        m->fitness = a4nn_fitness_rule(m->preds, m->n_preds, m->last_val_acc);
    return A4NN_OK;
}

typedef struct {
    char **names;
    int n, cap;
} name_list;

static herr_t collect(hid_t loc, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    hid_t g = H5Gopen(loc, name, H5P_DEFAULT); /* groups only */
    if (g < 0)
        return 0;
    H5Gclose(g);
    name_list *l = data;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->names = a4nn_realloc(l->names, sizeof *l->names * (size_t)l->cap);
    }
    l->names[l->n++] = a4nn_strdup(name);
    return 0;
}

static int cmp_record(const void *a, const void *b)
{
    const a4nn_model_record *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

void a4nn_commons_contents_free(a4nn_commons_contents *c)
{
    for (int i = 0; i < c->n_models; i++)
        a4nn_model_record_free(&c->models[i]);
    free(c->models);
    free(c->config);
    memset(c, 0, sizeof *c);
}

int a4nn_commons_read_file(const char *path, a4nn_commons_contents *c, a4nn_error *err)
{
    memset(c, 0, sizeof *c);
    if (access(path, R_OK) != 0)
        return a4nn_errorf(err, "no readable data commons (%s)", path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported here, not printed */
    if (H5Fis_hdf5(path) <= 0)
        return a4nn_errorf(err, "%s: not an HDF5 file", path);
    /* no file lock: a running search keeps the commons open for writing and
     * flushes it after every model, and a4nn status reads it meanwhile */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_file_locking(fapl, 0, 1);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return a4nn_errorf(err, "%s: cannot open (is the run writing it right now? try again)",
                           path);
    static const char *const A_NAME[] = {"name", "run_name", NULL},
                             *const A_VER[] = {"version", NULL}, *const A_SEED[] = {"seed", NULL},
                             *const A_T0[] = {"start_time", NULL},
                             *const A_CFG[] = {"config", NULL},
                             *const A_BUD[] = {"epochs", "budget", "epoch_budget", NULL};
    attr_string_into(f, A_NAME, c->name, sizeof c->name);
    attr_string_into(f, A_VER, c->version, sizeof c->version);
    double seed = attr_double(f, A_SEED);
    c->seed = isnan(seed) ? -1 : (long long)seed;
    c->start_time = attr_double(f, A_T0);
    c->config = attr_string(f, A_CFG);
    double bud = attr_double(f, A_BUD);
    a4nn_config cfg;
    if (!isnan(bud))
        c->budget = (int)bud;
    else if (c->config && a4nn_commons_config(c->config, &cfg, NULL, err) == A4NN_OK)
        c->budget = cfg.epochs;

    int rc = A4NN_OK;
    hid_t models = H5Lexists(f, "models", H5P_DEFAULT) > 0 ? H5Gopen(f, "models", H5P_DEFAULT) : -1;
    if (models < 0) {
        rc = a4nn_errorf(err, "%s: no /models group (not an a4nn data commons?)", path);
    } else {
        name_list l = {0};
        H5Literate(models, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &l);
        c->models = a4nn_calloc((size_t)(l.n > 0 ? l.n : 1), sizeof *c->models);
        char why[200];
        for (int i = 0; i < l.n; i++) {
            if (rc == A4NN_OK) {
                rc = load_model(models, l.names[i], &c->models[i], err);
                c->n_models = i + 1;
                if (rc == A4NN_OK && inconsistent(&c->models[i], why, sizeof why))
                    rc = a4nn_errorf(err, "model %d: %s", c->models[i].id, why);
            }
            free(l.names[i]);
        }
        free(l.names);
        H5Gclose(models);
    }
    H5Fclose(f);
    if (rc == A4NN_OK) {
        qsort(c->models, (size_t)c->n_models, sizeof *c->models, cmp_record);
        for (int i = 1; i < c->n_models && rc == A4NN_OK; i++)
            if (c->models[i].id == c->models[i - 1].id)
                rc = a4nn_errorf(err, "model %d is stored twice", c->models[i].id);
    }
    if (rc == A4NN_OK && c->budget <= 0) /* no budget recorded anywhere: the longest curve */
        for (int i = 0; i < c->n_models; i++)
            if (c->models[i].n_epochs &&
                c->models[i].epochs[c->models[i].n_epochs - 1].epoch + 1 > c->budget)
                c->budget = c->models[i].epochs[c->models[i].n_epochs - 1].epoch + 1;
    if (rc == A4NN_OK && (c->budget < 1 || c->budget > 1000000))
        rc = a4nn_errorf(err, "epoch budget %d", c->budget);
    if (rc != A4NN_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        a4nn_commons_contents_free(c);
        if (!strncmp(msg, path, strlen(path)))
            return a4nn_errorf(err, "%s", msg);
        return a4nn_errorf(err, "%s: %s (not a consistent a4nn data commons)", path, msg);
    }
    return A4NN_OK;
}
