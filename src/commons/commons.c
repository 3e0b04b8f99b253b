/* commons: HDF5 data commons and checkpoint files. */
#include "a4nn/commons.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

void a4nn_model_record_free(a4nn_model_record *r)
{
    if (!r)
        return;
    free(r->epochs);
    free(r->preds);
    r->epochs = NULL;
    r->preds = NULL;
    r->n_epochs = r->n_preds = 0;
}

/* ---- attribute helpers: return 0 on success, -1 on failure ---- */
static int attr_write(hid_t loc, const char *name, hid_t mtype, const void *v, hsize_t n)
{
    hid_t space = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
    if (space < 0)
        return -1;
    if (H5Aexists(loc, name) > 0)
        H5Adelete(loc, name);
    hid_t a = H5Acreate2(loc, name, mtype, space, H5P_DEFAULT, H5P_DEFAULT);
    int rc = a < 0 ? -1 : H5Awrite(a, mtype, v) < 0 ? -1 : 0;
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(space);
    return rc;
}

static int attr_str(hid_t loc, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, strlen(s) + 1);
    int rc = attr_write(loc, name, t, s, 0);
    H5Tclose(t);
    return rc;
}

static int attr_dbl(hid_t loc, const char *name, double v)
{
    return attr_write(loc, name, H5T_NATIVE_DOUBLE, &v, 0);
}

static int attr_long(hid_t loc, const char *name, long v)
{
    return attr_write(loc, name, H5T_NATIVE_LONG, &v, 0);
}

static int attr_read(hid_t loc, const char *name, hid_t mtype, void *v)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int rc = H5Aread(a, mtype, v) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

static char *attr_read_str(hid_t loc, const char *name)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    hid_t ft = H5Aget_type(a);
    size_t n = H5Tget_size(ft);
    char *s = a4nn_calloc(n + 1, 1);
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    int ok = H5Aread(a, t, s) >= 0;
    H5Tclose(t);
    H5Tclose(ft);
    H5Aclose(a);
    if (!ok) {
        free(s);
        return NULL;
    }
    return s;
}

static hid_t epoch_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(a4nn_epoch_row));
    H5Tinsert(t, "epoch", HOFFSET(a4nn_epoch_row, epoch), H5T_NATIVE_INT);
    H5Tinsert(t, "train_acc", HOFFSET(a4nn_epoch_row, train_acc), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "val_acc", HOFFSET(a4nn_epoch_row, val_acc), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "loss", HOFFSET(a4nn_epoch_row, loss), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "seconds", HOFFSET(a4nn_epoch_row, seconds), H5T_NATIVE_DOUBLE);
    return t;
}

static hid_t pred_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(a4nn_pred_row));
    H5Tinsert(t, "epoch", HOFFSET(a4nn_pred_row, epoch), H5T_NATIVE_INT);
    H5Tinsert(t, "prediction", HOFFSET(a4nn_pred_row, prediction), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "uncertainty", HOFFSET(a4nn_pred_row, uncertainty), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "converged", HOFFSET(a4nn_pred_row, converged), H5T_NATIVE_INT);
    return t;
}

static hid_t neighbour_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(a4nn_neighbour_row));
    H5Tinsert(t, "id", HOFFSET(a4nn_neighbour_row, id), H5T_NATIVE_INT);
    H5Tinsert(t, "similarity", HOFFSET(a4nn_neighbour_row, similarity), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "hamming", HOFFSET(a4nn_neighbour_row, hamming), H5T_NATIVE_INT);
    H5Tinsert(t, "graph_edit", HOFFSET(a4nn_neighbour_row, graph_edit), H5T_NATIVE_INT);
    H5Tinsert(t, "fitness", HOFFSET(a4nn_neighbour_row, fitness), H5T_NATIVE_DOUBLE);
    return t;
}

static int table_write(hid_t g, const char *name, hid_t t, const void *rows, int n)
{
    hsize_t dim = (hsize_t)n;
    hid_t s = H5Screate_simple(1, &dim, NULL);
    hid_t d = H5Dcreate2(g, name, t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = d < 0 ? -1 : (n > 0 && H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) ? -1 : 0;
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(s);
    return rc;
}

static int table_read(hid_t g, const char *name, hid_t t, size_t row_size, void **rows, int *n)
{
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    hsize_t dim = 0;
    H5Sget_simple_extent_dims(s, &dim, NULL);
    *rows = a4nn_calloc(dim ? dim : 1, row_size);
    *n = (int)dim;
    int rc = (dim > 0 && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *rows) < 0) ? -1 : 0;
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

/* ---- the commons in HDF5: what a snapshot holds ---- */

static int h5_write_model(hid_t f, const a4nn_model_record *r)
{
    char name[64];
    snprintf(name, sizeof name, "/models/%06d", r->id);
    if (H5Lexists(f, name, H5P_DEFAULT) > 0 && H5Ldelete(f, name, H5P_DEFAULT) < 0)
        return -1;
    hid_t g = H5Gcreate2(f, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        return -1;
    hid_t et = epoch_type(), pt = pred_type(), nt = neighbour_type();
    int bad = attr_long(g, "id", r->id) || attr_str(g, "genome", r->genome) ||
              attr_dbl(g, "mflops", r->mflops) || attr_long(g, "params", r->params) ||
              attr_long(g, "epochs_trained", r->epochs_trained) ||
              attr_long(g, "epochs_run", r->epochs_run) ||
              attr_str(g, "stop_reason", r->stop_reason) || attr_dbl(g, "fitness", r->fitness) ||
              attr_dbl(g, "predicted", r->predicted) ||
              attr_dbl(g, "last_val_acc", r->last_val_acc) || attr_long(g, "worker", r->worker) ||
              attr_dbl(g, "start_time", r->start_time) || attr_dbl(g, "end_time", r->end_time) ||
              attr_dbl(g, "seconds", r->seconds) ||
              table_write(g, "epochs", et, r->epochs, r->n_epochs) ||
              table_write(g, "predictions", pt, r->preds, r->n_preds) ||
              table_write(g, "neighbours", nt, r->neighbours, r->n_neighbours);
    H5Tclose(et);
    H5Tclose(pt);
    H5Tclose(nt);
    H5Gclose(g);
    return bad ? -1 : 0;
}

static hid_t h5_search_group(hid_t f)
{
    return H5Lexists(f, "/search", H5P_DEFAULT) > 0
               ? H5Gopen2(f, "/search", H5P_DEFAULT)
               : H5Gcreate2(f, "/search", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

static int h5_write_search(hid_t f, int generation, const uint64_t rng[4], const int *population,
                           int n)
{
    hid_t g = h5_search_group(f);
    if (g < 0)
        return -1;
    unsigned long long r[4] = {rng[0], rng[1], rng[2], rng[3]};
    int empty = -1;
    int bad = attr_long(g, "generation", generation) ||
              attr_write(g, "rng", H5T_NATIVE_ULLONG, r, 4) ||
              attr_write(g, "population", H5T_NATIVE_INT, n > 0 ? population : &empty,
                         (hsize_t)(n > 0 ? n : 1));
    H5Gclose(g);
    return bad ? -1 : 0;
}

/* /search/dispatched: the genome text of every dispatched model, row = id;
 * extended as ids grow. */
#define GENOME_CHARS 256

static hid_t genome_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, GENOME_CHARS);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

static int h5_write_dispatch(hid_t f, int id, const char *genome, const uint64_t rng[4])
{
    hid_t g = h5_search_group(f);
    if (g < 0)
        return -1;
    hid_t t = genome_str_type(), d = -1, fs = -1, ms = -1;
    if (H5Lexists(g, "dispatched", H5P_DEFAULT) > 0) {
        d = H5Dopen2(g, "dispatched", H5P_DEFAULT);
    } else {
        hsize_t zero = 0, unlim = H5S_UNLIMITED, chunk = 64;
        hid_t s0 = H5Screate_simple(1, &zero, &unlim), pl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(pl, 1, &chunk);
        d = H5Dcreate2(g, "dispatched", t, s0, H5P_DEFAULT, pl, H5P_DEFAULT);
        H5Pclose(pl);
        H5Sclose(s0);
    }
    char row[GENOME_CHARS] = {0};
    snprintf(row, sizeof row, "%s", genome);
    hsize_t cur = 0, start = (hsize_t)id, one = 1;
    int bad = d < 0;
    if (!bad) {
        fs = H5Dget_space(d);
        H5Sget_simple_extent_dims(fs, &cur, NULL);
        H5Sclose(fs);
        if (start + 1 > cur) {
            hsize_t n = start + 1;
            bad = H5Dset_extent(d, &n) < 0;
        }
    }
    if (!bad) {
        fs = H5Dget_space(d);
        ms = H5Screate_simple(1, &one, NULL);
        bad = H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &one, NULL) < 0 ||
              H5Dwrite(d, t, ms, fs, H5P_DEFAULT, row) < 0;
        H5Sclose(ms);
        H5Sclose(fs);
    }
    unsigned long long r[4] = {rng[0], rng[1], rng[2], rng[3]};
    bad = bad || attr_write(g, "rng", H5T_NATIVE_ULLONG, r, 4);
    if (d >= 0)
        H5Dclose(d);
    H5Tclose(t);
    H5Gclose(g);
    return bad ? -1 : 0;
}

/* ---- journal records: what happened since the last snapshot ---- */

enum { REC_MODEL = 1, REC_SEARCH = 2, REC_DISPATCH = 3 };

typedef struct {
    int32_t id;
    char genome[GENOME_CHARS];
    uint64_t rng[4];
} dispatch_rec;

typedef struct {
    int32_t generation, n;
    uint64_t rng[4];
} search_rec; /* followed by n population ids */

/* A model record: the struct (its pointers cleared), then its epoch and
 * prediction rows. */
static char *pack_model(const a4nn_model_record *r, uint32_t *len)
{
    a4nn_model_record h;
    memcpy(&h, r, sizeof h);
    h.epochs = NULL;
    h.preds = NULL;
    size_t ne = (size_t)r->n_epochs * sizeof *r->epochs, np = (size_t)r->n_preds * sizeof *r->preds;
    char *buf = a4nn_malloc(sizeof h + ne + np);
    memcpy(buf, &h, sizeof h);
    if (ne)
        memcpy(buf + sizeof h, r->epochs, ne);
    if (np)
        memcpy(buf + sizeof h + ne, r->preds, np);
    *len = (uint32_t)(sizeof h + ne + np);
    return buf;
}

static int unpack_model(const char *p, uint32_t len, a4nn_model_record *r)
{
    if (len < sizeof *r)
        return -1;
    memcpy(r, p, sizeof *r);
    if (r->n_epochs < 0 || r->n_preds < 0 || r->n_neighbours < 0 ||
        r->n_neighbours > A4NN_NEIGHBOURS_MAX ||
        len != sizeof *r + (size_t)r->n_epochs * sizeof *r->epochs +
                   (size_t)r->n_preds * sizeof *r->preds)
        return -1;
    r->epochs = (a4nn_epoch_row *)(void *)(p + sizeof *r);
    r->preds = (a4nn_pred_row *)(void *)(p + sizeof *r + (size_t)r->n_epochs * sizeof *r->epochs);
    return 0;
}

typedef struct {
    hid_t file;
    const char *path;
} apply_ctx;

/* Applies one journal record to a snapshot being written. */
static int apply_record(uint32_t type, uint64_t seq, const void *payload, uint32_t len, void *ctx,
                        a4nn_error *err)
{
    apply_ctx *x = ctx;
    int bad;
    if (type == REC_MODEL) {
        a4nn_model_record r;
        /* rows are read in place: copy the payload so they are aligned */
        char *copy = a4nn_malloc(len ? len : 1);
        memcpy(copy, payload, len);
        bad = unpack_model(copy, len, &r) || h5_write_model(x->file, &r);
        free(copy);
    } else if (type == REC_SEARCH && len >= sizeof(search_rec)) {
        search_rec h;
        memcpy(&h, payload, sizeof h);
        bad = h.n < 0 || len != sizeof h + (size_t)h.n * sizeof(int32_t);
        if (!bad) {
            int *pop = a4nn_malloc((size_t)(h.n ? h.n : 1) * sizeof *pop);
            memcpy(pop, (const char *)payload + sizeof h, (size_t)h.n * sizeof *pop);
            bad = h5_write_search(x->file, h.generation, h.rng, pop, h.n);
            free(pop);
        }
    } else if (type == REC_DISPATCH && len == sizeof(dispatch_rec)) {
        dispatch_rec d;
        memcpy(&d, payload, sizeof d);
        d.genome[GENOME_CHARS - 1] = '\0';
        bad = d.id < 0 || h5_write_dispatch(x->file, d.id, d.genome, d.rng);
    } else {
        bad = 1;
    }
    if (bad)
        return a4nn_errorf(err, "commons: cannot apply journal record %llu (type %u) to %s",
                           (unsigned long long)seq, type, x->path) != A4NN_OK;
    if (a4nn_commons_test_step()) /* a crash or a full disk inside the HDF5 write */
        return a4nn_errorf(err, "commons: cannot write %s: %s", x->path, strerror(errno)) !=
               A4NN_OK;
    return 0;
}

/* ---- snapshots: commons.h5 is only ever replaced whole ---- */

struct a4nn_commons {
    char path[1024];   /* commons.h5: the last snapshot */
    char tmp[1100];    /* the next snapshot, renamed over path when complete */
    a4nn_journal journal;
    uint64_t snap_seq; /* last journal record in the snapshot */
    double last_snapshot, snapshot_seconds, interval;
};

/* Base interval between snapshots: A4NN_COMMONS_SNAPSHOT_SECONDS (1 s, so
 * that readers of a running search such as `a4nn status` lag about that;
 * 0: after every record, for tests). The 20 x rule below bounds the cost. */
static double snapshot_interval(void)
{
    const char *v = getenv("A4NN_COMMONS_SNAPSHOT_SECONDS");
    double s = v && *v ? strtod(v, NULL) : 1.0;
    return s >= 0 ? s : 1.0;
}

static int fsync_path(const char *path, int dir)
{
    int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    static char buf[1 << 20];
    ssize_t r;
    int bad = 0;
    while (!bad && (r = read(in, buf, sizeof buf)) != 0) {
        if (r < 0) {
            bad = errno != EINTR;
            continue;
        }
        for (ssize_t done = 0; !bad && done < r;) {
            ssize_t w = write(out, buf + done, (size_t)(r - done));
            if (w < 0)
                bad = errno != EINTR;
            else
                done += w;
        }
    }
    int e = errno;
    close(in);
    if (close(out) != 0 && !bad)
        bad = 1, e = errno;
    errno = e;
    return bad ? -1 : 0;
}

/* Makes tmp (a complete HDF5 file) durable and the new commons.h5. */
static int publish(a4nn_commons *c, a4nn_error *err)
{
    char dir[1024];
    const char *slash = strrchr(c->path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == c->path ? 1 : (int)(slash - c->path), c->path);
    if (fsync_path(c->tmp, 0) != 0 || a4nn_commons_test_step() || rename(c->tmp, c->path) != 0 ||
        fsync_path(dir, 1) != 0) {
        int e = errno;
        unlink(c->tmp);
        return a4nn_errorf(err, "commons: cannot write the snapshot %s: %s", c->path,
                           strerror(e));
    }
    return A4NN_OK;
}

/* Folds the journal into a new snapshot: copy, apply, fsync, rename, then
 * empty the journal. A crash at any point leaves the old snapshot and the
 * journal, or the new snapshot (whose journal_seq says which records it
 * holds). */
static int snapshot(a4nn_commons *c, a4nn_error *err)
{
    if (c->journal.last_seq == c->snap_seq)
        return A4NN_OK;
    double t0 = a4nn_now();
    if (copy_file(c->path, c->tmp) != 0) {
        int e = errno;
        unlink(c->tmp);
        return a4nn_errorf(err, "commons: cannot write the snapshot %s: %s", c->tmp,
                           strerror(e));
    }
    hid_t f = H5Fopen(c->tmp, H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) {
        unlink(c->tmp);
        return a4nn_errorf(err, "commons: cannot open the snapshot %s", c->tmp);
    }
    apply_ctx x = {f, c->tmp};
    unsigned long long seq = c->journal.last_seq;
    int rc = a4nn_journal_replay(&c->journal, c->snap_seq, apply_record, &x, err);
    if (rc == A4NN_OK && attr_write(f, "journal_seq", H5T_NATIVE_ULLONG, &seq, 0))
        rc = a4nn_errorf(err, "commons: cannot write the snapshot %s", c->tmp);
    if (H5Fclose(f) < 0 && rc == A4NN_OK)
        rc = a4nn_errorf(err, "commons: cannot write the snapshot %s (full disk?)", c->tmp);
    if (rc != A4NN_OK) {
        unlink(c->tmp);
        return A4NN_ERR;
    }
    if (publish(c, err) != A4NN_OK)
        return A4NN_ERR;
    c->snap_seq = seq;
    if (a4nn_commons_test_step() || a4nn_journal_reset(&c->journal, err) != A4NN_OK)
        return a4nn_errorf(err, "commons: cannot empty %s: %s", c->journal.path,
                           strerror(errno));
    c->last_snapshot = a4nn_now();
    c->snapshot_seconds = c->last_snapshot - t0;
    /* snapshots take at most ~5 % of the run, however large the commons grows */
    double base = snapshot_interval();
    c->interval = base > 0 ? fmax(base, 20.0 * c->snapshot_seconds) : 0;
    return A4NN_OK;
}

static int append(a4nn_commons *c, uint32_t type, const void *payload, uint32_t len,
                  a4nn_error *err)
{
    if (a4nn_journal_append(&c->journal, type, payload, len, err) != A4NN_OK)
        return A4NN_ERR;
    if (a4nn_now() - c->last_snapshot >= c->interval)
        return snapshot(c, err);
    return A4NN_OK;
}

static a4nn_commons *handle(const char *path)
{
    a4nn_commons *c = a4nn_calloc(1, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    snprintf(c->tmp, sizeof c->tmp, "%s.tmp", path);
    c->journal.fd = -1;
    c->last_snapshot = a4nn_now();
    c->interval = snapshot_interval();
    return c;
}

static void journal_path(const char *path, char *buf, size_t cap)
{
    size_t n = strlen(path);
    if (n > 3 && !strcmp(path + n - 3, ".h5"))
        n -= 3;
    snprintf(buf, cap, "%.*s.journal", (int)n, path);
}

a4nn_commons *a4nn_commons_create(const char *path, const char *config_text, uint64_t seed,
                                  a4nn_error *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, F_OK) == 0) {
        a4nn_errorf(err, "commons: cannot create %s: it exists", path);
        return NULL;
    }
    a4nn_commons *c = handle(path);
    hid_t f = H5Fcreate(c->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        a4nn_errorf(err, "commons: cannot create %s (unwritable directory?)", c->tmp);
        free(c);
        return NULL;
    }
    char ts[64];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    unsigned long long s = (unsigned long long)seed, zero = 0;
    hid_t g = H5Gcreate2(f, "/models", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int bad = g < 0 || attr_str(f, "config", config_text) ||
              attr_write(f, "seed", H5T_NATIVE_ULLONG, &s, 0) ||
              attr_str(f, "version", A4NN_VERSION) || attr_str(f, "start_time", ts) ||
              attr_write(f, "journal_seq", H5T_NATIVE_ULLONG, &zero, 0);
    if (g >= 0)
        H5Gclose(g);
    bad = H5Fclose(f) < 0 || bad;
    char jpath[1100];
    journal_path(path, jpath, sizeof jpath);
    /* a journal left by an earlier, failed start is not this run's */
    if (!bad && unlink(jpath) != 0 && errno != ENOENT)
        bad = 1;
    if (bad) {
        a4nn_errorf(err, "commons: cannot write the run attributes to %s", c->tmp);
        unlink(c->tmp);
        free(c);
        return NULL;
    }
    if (a4nn_journal_open(&c->journal, jpath, err) != A4NN_OK || publish(c, err) != A4NN_OK) {
        a4nn_journal_close(&c->journal);
        unlink(c->tmp);
        free(c);
        return NULL;
    }
    return c;
}

/* HDF5 (1.10+) flock()s a file it opens; a writer elsewhere holds it
 * exclusively. a4nn never keeps commons.h5 open for writing. */
static int held_by_another(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    return held;
}

a4nn_commons *a4nn_commons_open(const char *path, a4nn_error *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(path, R_OK | W_OK) != 0) {
        a4nn_errorf(err, "commons: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        if (held_by_another(path))
            a4nn_errorf(err, "commons: %s is locked by another process (an HDF5 tool holding it "
                             "open for writing); close it and resume again",
                        path);
        else
            a4nn_errorf(err, "commons: %s is not a readable HDF5 data commons (corrupt)", path);
        return NULL;
    }
    unsigned long long seq = 0;
    int has_models = H5Lexists(f, "/models", H5P_DEFAULT) > 0;
    if (H5Aexists(f, "journal_seq") > 0)
        attr_read(f, "journal_seq", H5T_NATIVE_ULLONG, &seq);
    H5Fclose(f);
    if (!has_models) {
        a4nn_errorf(err, "commons: %s has no /models group", path);
        return NULL;
    }
    a4nn_commons *c = handle(path);
    c->snap_seq = seq;
    char jpath[1100];
    journal_path(path, jpath, sizeof jpath);
    if (a4nn_journal_open(&c->journal, jpath, err) != A4NN_OK) {
        free(c);
        return NULL;
    }
    if (c->journal.last_seq < c->snap_seq)
        c->journal.last_seq = c->snap_seq;
    /* what the journal holds beyond the snapshot goes into it now */
    if (snapshot(c, err) != A4NN_OK) {
        a4nn_journal_close(&c->journal);
        free(c);
        return NULL;
    }
    return c;
}

/* The current snapshot for reading, with the journal folded in first. */
static hid_t read_handle(a4nn_commons *c, a4nn_error *err)
{
    if (snapshot(c, err) != A4NN_OK)
        return -1;
    hid_t f = H5Fopen(c->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        a4nn_errorf(err, "commons: %s is not a readable HDF5 data commons", c->path);
    return f;
}

char *a4nn_commons_config_text(a4nn_commons *c, a4nn_error *err)
{
    hid_t f = read_handle(c, err);
    if (f < 0)
        return NULL;
    char *s = attr_read_str(f, "config");
    H5Fclose(f);
    if (!s)
        a4nn_errorf(err, "commons: %s has no config attribute", c->path);
    return s;
}

int a4nn_commons_write_model(a4nn_commons *c, const a4nn_model_record *r, a4nn_error *err)
{
    if (r->n_epochs < 0 || r->n_preds < 0 || r->n_neighbours < 0 ||
        r->n_neighbours > A4NN_NEIGHBOURS_MAX)
        return a4nn_errorf(err, "commons: model %d has a bad record", r->id);
    uint32_t len;
    char *buf = pack_model(r, &len);
    int rc = append(c, REC_MODEL, buf, len, err);
    free(buf);
    return rc;
}

typedef struct {
    a4nn_model_record *recs;
    int n, cap, failed;
    char bad[64];
} read_ctx;

static herr_t read_one(hid_t loc, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    read_ctx *x = data;
    hid_t g = H5Gopen2(loc, name, H5P_DEFAULT);
    if (g < 0) {
        snprintf(x->bad, sizeof x->bad, "%s", name);
        x->failed = 1;
        return -1;
    }
    if (x->n == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 64;
        x->recs = a4nn_realloc(x->recs, (size_t)x->cap * sizeof *x->recs);
    }
    a4nn_model_record *r = &x->recs[x->n];
    memset(r, 0, sizeof *r);
    long id = 0, params = 0, et = 0, er = -1, worker = 0;
    char *genome = attr_read_str(g, "genome"), *reason = attr_read_str(g, "stop_reason");
    hid_t ety = epoch_type(), pty = pred_type(), nty = neighbour_type();
    void *rows = NULL, *prows = NULL, *nrows = NULL;
    int n_nb = 0;
    int bad = !genome || !reason || attr_read(g, "id", H5T_NATIVE_LONG, &id) ||
              attr_read(g, "params", H5T_NATIVE_LONG, &params) ||
              attr_read(g, "epochs_trained", H5T_NATIVE_LONG, &et) ||
              (H5Aexists(g, "epochs_run") > 0 && attr_read(g, "epochs_run", H5T_NATIVE_LONG, &er)) ||
              attr_read(g, "worker", H5T_NATIVE_LONG, &worker) ||
              attr_read(g, "mflops", H5T_NATIVE_DOUBLE, &r->mflops) ||
              attr_read(g, "fitness", H5T_NATIVE_DOUBLE, &r->fitness) ||
              attr_read(g, "predicted", H5T_NATIVE_DOUBLE, &r->predicted) ||
              attr_read(g, "last_val_acc", H5T_NATIVE_DOUBLE, &r->last_val_acc) ||
              attr_read(g, "start_time", H5T_NATIVE_DOUBLE, &r->start_time) ||
              attr_read(g, "end_time", H5T_NATIVE_DOUBLE, &r->end_time) ||
              attr_read(g, "seconds", H5T_NATIVE_DOUBLE, &r->seconds) ||
              table_read(g, "epochs", ety, sizeof(a4nn_epoch_row), &rows, &r->n_epochs) ||
              table_read(g, "predictions", pty, sizeof(a4nn_pred_row), &prows, &r->n_preds) ||
              (H5Lexists(g, "neighbours", H5P_DEFAULT) > 0 &&
               table_read(g, "neighbours", nty, sizeof(a4nn_neighbour_row), &nrows, &n_nb));
    H5Tclose(ety);
    H5Tclose(pty);
    H5Tclose(nty);
    if (nrows) {
        r->n_neighbours = n_nb < A4NN_NEIGHBOURS_MAX ? n_nb : A4NN_NEIGHBOURS_MAX;
        memcpy(r->neighbours, nrows, (size_t)r->n_neighbours * sizeof *r->neighbours);
        free(nrows);
    }
    H5Gclose(g);
    r->epochs = rows;
    r->preds = prows;
    if (!bad) {
        r->id = (int)id;
        r->params = params;
        r->epochs_trained = (int)et;
        r->epochs_run = er >= 0 ? (int)er : (int)et;
        r->worker = (int)worker;
        snprintf(r->genome, sizeof r->genome, "%s", genome);
        snprintf(r->stop_reason, sizeof r->stop_reason, "%s", reason);
    }
    free(genome);
    free(reason);
    if (bad) {
        a4nn_model_record_free(r);
        snprintf(x->bad, sizeof x->bad, "%s", name);
        x->failed = 1;
        return -1;
    }
    x->n++;
    return 0;
}

static int by_id(const void *a, const void *b)
{
    const a4nn_model_record *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int a4nn_commons_read_models(a4nn_commons *c, a4nn_model_record **out, int *n, a4nn_error *err)
{
    read_ctx x = {0};
    hid_t f = read_handle(c, err);
    if (f < 0)
        return A4NN_ERR;
    hid_t g = H5Gopen2(f, "/models", H5P_DEFAULT);
    herr_t rc = g < 0 ? -1 : H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, read_one, &x);
    if (g >= 0)
        H5Gclose(g);
    H5Fclose(f);
    if (g < 0)
        return a4nn_errorf(err, "commons: %s has no /models group", c->path);
    if (rc < 0 || x.failed) {
        for (int i = 0; i < x.n; i++)
            a4nn_model_record_free(&x.recs[i]);
        free(x.recs);
        return a4nn_errorf(err, "commons: cannot read model %s from %s", x.bad, c->path);
    }
    if (x.n > 1)
        qsort(x.recs, (size_t)x.n, sizeof *x.recs, by_id);
    *out = x.recs;
    *n = x.n;
    return A4NN_OK;
}

int a4nn_commons_write_search(a4nn_commons *c, int generation, const uint64_t rng[4],
                              const int *population, int n, a4nn_error *err)
{
    if (n < 0)
        return a4nn_errorf(err, "commons: bad population size %d", n);
    search_rec h = {generation, n, {rng[0], rng[1], rng[2], rng[3]}};
    size_t len = sizeof h + (size_t)n * sizeof(int32_t);
    char *buf = a4nn_malloc(len);
    memcpy(buf, &h, sizeof h);
    for (int i = 0; i < n; i++) {
        int32_t v = population[i];
        memcpy(buf + sizeof h + (size_t)i * sizeof v, &v, sizeof v);
    }
    int rc = append(c, REC_SEARCH, buf, (uint32_t)len, err);
    free(buf);
    return rc;
}

int a4nn_commons_close(a4nn_commons *c, a4nn_error *err)
{
    if (!c)
        return A4NN_OK;
    /* the final snapshot: a finished run's commons.h5 holds everything */
    int rc = snapshot(c, err);
    a4nn_journal_close(&c->journal);
    if (rc == A4NN_OK)
        unlink(c->journal.path);
    if (getenv("A4NN_TEST_CRASH_AT") || getenv("A4NN_TEST_ENOSPC_AT"))
        fprintf(stderr, "commons: %ld durable steps\n", a4nn_commons_test_steps());
    free(c);
    return rc;
}

int a4nn_commons_write_dispatch(a4nn_commons *c, int id, const char *genome,
                                const uint64_t rng[4], a4nn_error *err)
{
    if (id < 0)
        return a4nn_errorf(err, "commons: bad model id %d", id);
    dispatch_rec d;
    memset(&d, 0, sizeof d);
    d.id = id;
    snprintf(d.genome, sizeof d.genome, "%s", genome);
    memcpy(d.rng, rng, sizeof d.rng);
    return append(c, REC_DISPATCH, &d, sizeof d, err);
}

int a4nn_commons_read_dispatch(a4nn_commons *c, char (**genomes)[256], int *n, uint64_t rng[4],
                               int *has_rng, a4nn_error *err)
{
    *genomes = NULL;
    *n = 0;
    *has_rng = 0;
    hid_t f = read_handle(c, err);
    if (f < 0)
        return A4NN_ERR;
    if (H5Lexists(f, "/search", H5P_DEFAULT) <= 0) {
        H5Fclose(f);
        return A4NN_OK;
    }
    hid_t g = H5Gopen2(f, "/search", H5P_DEFAULT);
    if (g < 0) {
        H5Fclose(f);
        return a4nn_errorf(err, "commons: cannot open /search in %s", c->path);
    }
    unsigned long long r[4];
    if (H5Aexists(g, "rng") > 0 && attr_read(g, "rng", H5T_NATIVE_ULLONG, r) == 0) {
        for (int i = 0; i < 4; i++)
            rng[i] = r[i];
        *has_rng = 1;
    }
    int rc = A4NN_OK;
    if (H5Lexists(g, "dispatched", H5P_DEFAULT) > 0) {
        hid_t d = H5Dopen2(g, "dispatched", H5P_DEFAULT), t = genome_str_type();
        hid_t fs = d >= 0 ? H5Dget_space(d) : -1;
        hsize_t cur = 0;
        if (fs < 0 || H5Sget_simple_extent_ndims(fs) != 1 ||
            H5Sget_simple_extent_dims(fs, &cur, NULL) < 0 || cur > 10000000) {
            rc = a4nn_errorf(err, "commons: %s: /search/dispatched is not a list of genomes",
                             c->path);
        } else {
            *genomes = a4nn_calloc(cur ? cur : 1, sizeof **genomes);
            if (cur && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *genomes) < 0) {
                free(*genomes);
                *genomes = NULL;
                rc = a4nn_errorf(err, "commons: cannot read /search/dispatched in %s", c->path);
            } else {
                *n = (int)cur;
            }
        }
        if (fs >= 0)
            H5Sclose(fs);
        H5Tclose(t);
        if (d >= 0)
            H5Dclose(d);
    }
    H5Gclose(g);
    H5Fclose(f);
    return rc;
}

/* ---- checkpoints ---- */

#define CKPT_MAGIC "A4NNCKP2"

void a4nn_checkpoint_path(const char *dir, int model_id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/checkpoints/model-%06d.ckpt", dir, model_id);
}

int a4nn_checkpoint_write(const char *path, const a4nn_checkpoint_info *info,
                          const a4nn_epoch_row *rows, int n_rows, const float *state,
                          size_t n_state, a4nn_error *err)
{
    /* the writer's pid in the temporary name: a rank of an ended job that
     * has not exited yet never writes into the resumed job's file */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return a4nn_errorf(err, "checkpoint: cannot create %s: %s", tmp, strerror(errno));
    int32_t hdr[3] = {info->model_id, info->next_epoch, n_rows};
    char genome[sizeof info->genome] = {0};
    snprintf(genome, sizeof genome, "%s", info->genome);
    uint64_t ns = n_state;
    int ok = fwrite(CKPT_MAGIC, 1, 8, f) == 8 && fwrite(hdr, sizeof hdr, 1, f) == 1 &&
             fwrite(genome, sizeof genome, 1, f) == 1 && fwrite(&ns, sizeof ns, 1, f) == 1 &&
             (n_rows == 0 || fwrite(rows, sizeof *rows, (size_t)n_rows, f) == (size_t)n_rows) &&
             (n_state == 0 || fwrite(state, sizeof *state, n_state, f) == n_state);
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return a4nn_errorf(err, "checkpoint: cannot write %s: %s", path, strerror(errno));
    }
    return A4NN_OK;
}

int a4nn_checkpoint_read(const char *path, int *found, a4nn_checkpoint_info *info,
                         a4nn_epoch_row **rows, int *n_rows, float **state, size_t *n_state,
                         a4nn_error *err)
{
    *found = 0;
    *rows = NULL;
    *state = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return A4NN_OK;
        return a4nn_errorf(err, "checkpoint: cannot open %s: %s", path, strerror(errno));
    }
    char magic[8];
    int32_t hdr[3];
    uint64_t ns;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, CKPT_MAGIC, 8) ||
        fread(hdr, sizeof hdr, 1, f) != 1 ||
        fread(info->genome, sizeof info->genome, 1, f) != 1 || fread(&ns, sizeof ns, 1, f) != 1 ||
        hdr[2] < 0 || hdr[2] > 100000 || ns > ((uint64_t)1 << 34)) {
        fclose(f);
        return a4nn_errorf(err, "checkpoint: %s is not an a4nn checkpoint", path);
    }
    info->genome[sizeof info->genome - 1] = '\0';
    *rows = a4nn_calloc((size_t)(hdr[2] ? hdr[2] : 1), sizeof **rows);
    *state = a4nn_malloc((size_t)(ns ? ns : 1) * sizeof **state);
    if ((hdr[2] && fread(*rows, sizeof **rows, (size_t)hdr[2], f) != (size_t)hdr[2]) ||
        (ns && fread(*state, sizeof **state, ns, f) != ns)) {
        fclose(f);
        free(*rows);
        free(*state);
        *rows = NULL;
        *state = NULL;
        return a4nn_errorf(err, "checkpoint: %s is truncated", path);
    }
    fclose(f);
    *found = 1;
    info->model_id = hdr[0];
    info->next_epoch = hdr[1];
    *n_rows = hdr[2];
    *n_state = ns;
    return A4NN_OK;
}
