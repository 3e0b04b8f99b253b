/* report: reading a run's data commons (HDF5, read-only). */
#include "a4nn/report.h"

#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

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

static int cmp_epoch(const void *a, const void *b)
{
    int x = ((const a4nn_report_epoch *)a)->epoch, y = ((const a4nn_report_epoch *)b)->epoch;
    return (x > y) - (x < y);
}
static int cmp_pred(const void *a, const void *b)
{
    int x = ((const a4nn_report_pred *)a)->epoch, y = ((const a4nn_report_pred *)b)->epoch;
    return (x > y) - (x < y);
}

static const char *const F_EPOCH[] = {"epoch", NULL};
static const char *const F_TRAIN[] = {"train_acc", "train_accuracy", "train", NULL};
static const char *const F_VAL[] = {"val_acc", "val_accuracy", "val", NULL};
static const char *const F_LOSS[] = {"loss", "train_loss", NULL};
static const char *const F_SEC[] = {"seconds", "time", NULL};
static const char *const F_PRED[] = {"prediction", "predicted", NULL};
static const char *const F_UNC[] = {"uncertainty", NULL};
static const char *const F_CONV[] = {"converged", NULL};

/* Keeps the last row for every epoch number (rows arrive in time order). */
static int dedup_epochs(a4nn_report_epoch *e, int n)
{
    /* stable sort keeps time order within one epoch number; keep the last */
    for (int i = 1; i < n; i++) { /* insertion sort: stable, tables are short */
        a4nn_report_epoch x = e[i];
        int j = i;
        while (j > 0 && cmp_epoch(&e[j - 1], &x) > 0) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && e[m - 1].epoch == e[i].epoch)
            e[m - 1] = e[i];
        else
            e[m++] = e[i];
    }
    return m;
}
static int dedup_preds(a4nn_report_pred *e, int n)
{
    for (int i = 1; i < n; i++) {
        a4nn_report_pred x = e[i];
        int j = i;
        while (j > 0 && cmp_pred(&e[j - 1], &x) > 0) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && e[m - 1].epoch == e[i].epoch)
            e[m - 1] = e[i];
        else
            e[m++] = e[i];
    }
    return m;
}

static int read_epochs(hid_t g, a4nn_report_model *m, a4nn_error *err)
{
    if (H5Lexists(g, "epochs", H5P_DEFAULT) <= 0)
        return A4NN_OK;
    hid_t ds = H5Dopen(g, "epochs", H5P_DEFAULT);
    if (ds < 0)
        return a4nn_errorf(err, "model %s: cannot open its epochs table", m->name);
    double *c[5] = {0};
    const char *const *f[5] = {F_EPOCH, F_TRAIN, F_VAL, F_LOSS, F_SEC};
    long n = 0;
    for (int k = 0; k < 5; k++)
        if ((n = table_field(ds, f[k], &c[k])) < 0)
            break;
    H5Dclose(ds);
    if (n < 0) {
        for (int k = 0; k < 5; k++)
            free(c[k]);
        return a4nn_errorf(err, "model %s: epochs is not a compound table", m->name);
    }
    m->epochs = a4nn_calloc((size_t)(n > 0 ? n : 1), sizeof *m->epochs);
    int k = 0;
    for (long i = 0; i < n; i++) {
        if (isnan(c[0][i]))
            continue;
        m->epochs[k++] = (a4nn_report_epoch){(int)c[0][i], c[1][i], c[2][i], c[3][i], c[4][i]};
    }
    m->n_epochs = dedup_epochs(m->epochs, k);
    for (int j = 0; j < 5; j++)
        free(c[j]);
    return A4NN_OK;
}

static int read_preds(hid_t g, a4nn_report_model *m, a4nn_error *err)
{
    if (H5Lexists(g, "predictions", H5P_DEFAULT) <= 0)
        return A4NN_OK;
    hid_t ds = H5Dopen(g, "predictions", H5P_DEFAULT);
    if (ds < 0)
        return a4nn_errorf(err, "model %s: cannot open its predictions table", m->name);
    double *c[4] = {0};
    const char *const *f[4] = {F_EPOCH, F_PRED, F_UNC, F_CONV};
    long n = 0;
    for (int k = 0; k < 4; k++)
        if ((n = table_field(ds, f[k], &c[k])) < 0)
            break;
    H5Dclose(ds);
    if (n < 0) {
        for (int k = 0; k < 4; k++)
            free(c[k]);
        return a4nn_errorf(err, "model %s: predictions is not a compound table", m->name);
    }
    m->preds = a4nn_calloc((size_t)(n > 0 ? n : 1), sizeof *m->preds);
    int k = 0;
    for (long i = 0; i < n; i++) {
        if (isnan(c[0][i]))
            continue;
        m->preds[k++] = (a4nn_report_pred){(int)c[0][i], c[1][i], c[2][i],
                                           !isnan(c[3][i]) && c[3][i] != 0};
    }
    m->n_preds = dedup_preds(m->preds, k);
    for (int j = 0; j < 4; j++)
        free(c[j]);
    return A4NN_OK;
}

static void read_neighbours(hid_t g, a4nn_report_model *m)
{
    if (H5Lexists(g, "neighbours", H5P_DEFAULT) <= 0)
        return;
    hid_t ds = H5Dopen(g, "neighbours", H5P_DEFAULT);
    if (ds < 0)
        return;
    static const char *const fid[] = {"id", "model", NULL}, *const fs[] = {"similarity", NULL},
                             *const fh[] = {"hamming", NULL},
                             *const fg[] = {"graph_edit", "ged", NULL},
                             *const ff[] = {"fitness", NULL};
    const char *const *f[5] = {fid, fs, fh, fg, ff};
    double *c[5] = {0};
    long n = 0;
    for (int k = 0; k < 5; k++)
        if ((n = table_field(ds, f[k], &c[k])) < 0)
            break;
    H5Dclose(ds);
    if (n > 0) {
        m->nb = a4nn_calloc((size_t)n, sizeof *m->nb);
        for (long i = 0; i < n; i++)
            m->nb[m->n_nb++] = (a4nn_report_nb){(int)c[0][i], c[1][i], (int)c[2][i], (int)c[3][i],
                                                c[4][i]};
    }
    for (int k = 0; k < 5; k++)
        free(c[k]);
}

static void derive(a4nn_report_model *m)
{
    m->epochs_trained = m->n_epochs;
    m->last_val = m->n_epochs ? m->epochs[m->n_epochs - 1].val_acc : NAN;
    m->train_seconds = 0;
    for (int i = 0; i < m->n_epochs; i++)
        if (!isnan(m->epochs[i].seconds))
            m->train_seconds += m->epochs[i].seconds;
    m->converged_epoch = -1;
    double conv_pred = NAN;
    for (int i = 0; i < m->n_preds; i++)
        if (m->preds[i].converged) {
            m->converged_epoch = m->preds[i].epoch;
            conv_pred = m->preds[i].prediction;
            break;
        }
    if (isnan(m->fitness))
        m->fitness = !isnan(conv_pred) ? conv_pred : m->last_val;
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

static int cmp_model(const void *a, const void *b)
{
    const a4nn_report_model *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return strcmp(x->name, y->name);
}

static int load_model(hid_t models, const char *name, a4nn_report_model *m, a4nn_error *err)
{
    static const char *const A_ID[] = {"id", "model_id", NULL}, *const A_GEN[] = {"genome", NULL},
                             *const A_MF[] = {"mflops", "flops", NULL},
                             *const A_PAR[] = {"params", NULL},
                             *const A_STOP[] = {"stop_reason", "stop", NULL},
                             *const A_W[] = {"worker", "worker_rank", "rank", NULL},
                             *const A_T0[] = {"start_time", "t_start", NULL},
                             *const A_T1[] = {"end_time", "t_end", NULL},
                             *const A_FIT[] = {"fitness", "predicted_fitness", NULL};
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    hid_t g = H5Gopen(models, name, H5P_DEFAULT);
    if (g < 0)
        return a4nn_errorf(err, "cannot open model group %s", name);
    double id = attr_double(g, A_ID);
    if (isnan(id)) { /* from the digits of the group name */
        const char *p = name;
        while (*p && (*p < '0' || *p > '9'))
            p++;
        id = *p ? atof(p) : -1;
    }
    m->id = (int)id;
    attr_string_into(g, A_GEN, m->genome_text, sizeof m->genome_text);
    if (m->genome_text[0]) {
        a4nn_genome gg;
        for (int nodes = 4; nodes <= A4NN_MAX_NODES && !m->has_genome; nodes++)
            if (a4nn_genome_parse(m->genome_text, 0, nodes, &gg, NULL) == A4NN_OK) {
                m->genome = gg;
                m->has_genome = 1;
            }
        for (int nodes = 2; nodes < 4 && !m->has_genome; nodes++)
            if (a4nn_genome_parse(m->genome_text, 0, nodes, &gg, NULL) == A4NN_OK) {
                m->genome = gg;
                m->has_genome = 1;
            }
    }
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
    int rc = read_epochs(g, m, err);
    if (rc == A4NN_OK)
        rc = read_preds(g, m, err);
    if (rc == A4NN_OK)
        read_neighbours(g, m);
    H5Gclose(g);
    if (rc == A4NN_OK)
        derive(m);
    return rc;
}

/* The epoch budget from the stored config text: key "epochs" in [train]. */
static int config_budget(const char *cfg)
{
    if (!cfg)
        return 0;
    char section[64] = "";
    const char *p = cfg;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line - 1 ? len : sizeof line - 1), p);
        char *l = line;
        while (*l == ' ' || *l == '\t')
            l++;
        if (*l == '[') {
            char *close = strchr(l, ']');
            if (close) {
                *close = 0;
                snprintf(section, sizeof section, "%s", l + 1);
            }
        } else if (!strcmp(section, "train") && !strncmp(l, "epochs", 6)) {
            char *q = l + 6;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '=' || *q == ':') {
                int v = atoi(q + 1);
                if (v > 0)
                    return v;
            }
        }
        p += len + (e ? 1 : 0);
    }
    return 0;
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
    if (access(path, R_OK) != 0)
        return a4nn_errorf(err, "%s: no readable data commons (%s)", dir, path);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors are reported here, not printed */
    if (H5Fis_hdf5(path) <= 0)
        return a4nn_errorf(err, "%s: not an HDF5 file", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return a4nn_errorf(err, "%s: cannot open (is the run still writing it?)", path);

    a4nn_report_run *run = a4nn_calloc(1, sizeof *run);
    snprintf(run->dir, sizeof run->dir, "%s", dir);
    static const char *const A_NAME[] = {"name", "run_name", NULL},
                             *const A_VER[] = {"version", NULL},
                             *const A_SEED[] = {"seed", NULL},
                             *const A_T0[] = {"start_time", NULL},
                             *const A_CFG[] = {"config", NULL},
                             *const A_BUD[] = {"epochs", "budget", "epoch_budget", NULL};
    attr_string_into(f, A_NAME, run->name, sizeof run->name);
    if (!run->name[0]) {
        char tmp[1024];
        snprintf(tmp, sizeof tmp, "%s", dir);
        size_t l = strlen(tmp);
        while (l > 1 && tmp[l - 1] == '/')
            tmp[--l] = 0;
        const char *b = strrchr(tmp, '/');
        snprintf(run->name, sizeof run->name, "%s", b ? b + 1 : tmp);
    }
    attr_string_into(f, A_VER, run->version, sizeof run->version);
    double seed = attr_double(f, A_SEED);
    run->seed = isnan(seed) ? -1 : (long long)seed;
    run->start_time = attr_double(f, A_T0);
    run->config = attr_string(f, A_CFG);
    double bud = attr_double(f, A_BUD);
    run->budget = isnan(bud) ? config_budget(run->config) : (int)bud;

    int rc = A4NN_OK;
    hid_t models = H5Lexists(f, "models", H5P_DEFAULT) > 0 ? H5Gopen(f, "models", H5P_DEFAULT) : -1;
    if (models < 0) {
        rc = a4nn_errorf(err, "%s: no /models group (not an a4nn data commons?)", path);
    } else {
        name_list l = {0};
        H5Literate(models, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &l);
        run->models = a4nn_calloc((size_t)(l.n > 0 ? l.n : 1), sizeof *run->models);
        for (int i = 0; i < l.n; i++) {
            if (rc == A4NN_OK) {
                rc = load_model(models, l.names[i], &run->models[i], err);
                run->n_models = i + 1;
            }
            free(l.names[i]);
        }
        free(l.names);
        H5Gclose(models);
    }
    H5Fclose(f);
    if (rc != A4NN_OK) {
        a4nn_report_run_free(run);
        return rc;
    }
    qsort(run->models, (size_t)run->n_models, sizeof *run->models, cmp_model);
    if (run->budget <= 0) /* no budget recorded anywhere: the longest curve */
        for (int i = 0; i < run->n_models; i++)
            if (run->models[i].n_epochs &&
                run->models[i].epochs[run->models[i].n_epochs - 1].epoch + 1 > run->budget)
                run->budget = run->models[i].epochs[run->models[i].n_epochs - 1].epoch + 1;
    rc = a4nn_report_run_analyse(run, err);
    if (rc != A4NN_OK) {
        a4nn_report_run_free(run);
        return rc;
    }
    *out = run;
    return A4NN_OK;
}
