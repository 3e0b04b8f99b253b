/* config: typed key table, INI reading (libinih), overrides, resolved output. */
#include "a4nn/config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "a4nn/nn.h"
#include "a4nn/penguin.h"
#include "a4nn/search.h"

typedef enum { K_INT, K_LONG, K_U64, K_DBL, K_STR, K_BOOL, K_MODE, K_BACKEND, K_KERNELS } key_type;

typedef struct {
    const char *section, *key;
    key_type type;
    size_t off;
    double lo, hi;
    const char *doc;
} key_desc;

#define O(f) offsetof(a4nn_config, f)
static const key_desc KEYS[] = {
    {"run", "seed", K_U64, O(seed), 0, 0, "run seed: genomes, weights, batch order"},
    {"run", "dir", K_STR, O(dir), 0, 0, "run directory (commons, CSV, checkpoints, log)"},
    {"run", "mode", K_MODE, O(mode), 0, 0, "generational | async"},
    {"search", "pop_size", K_INT, O(pop_size), 2, 100000, "initial population"},
    {"search", "n_offspring", K_INT, O(n_offspring), 1, 100000, "children per generation"},
    {"search", "n_gens", K_INT, O(n_gens), 0, 100000, "generations of children"},
    {"search", "n_phases", K_INT, O(n_phases), 1, 6, "phases per genome"},
    {"search", "n_nodes", K_INT, O(n_nodes), 2, 8, "nodes per phase"},
    {"search", "init_channels", K_INT, O(init_channels), 1, 4096, "channels of the first phase"},
    {"search", "crossover_prob", K_DBL, O(crossover_prob), 0, 1, "uniform crossover probability"},
    {"search", "mutation_prob", K_DBL, O(mutation_prob), -1, 1, "bit-flip probability (-1: 1/bits)"},
    {"search", "budget_epochs", K_LONG, O(budget_epochs), 0, 1e12,
     "compute budget: end the search once this many epochs are spent (0: after n_gens)"},
    {"search", "budget_hours", K_DBL, O(budget_hours), 0, 1e6,
     "compute budget: end the search after this many hours (0: no limit)"},
    {"train", "epochs", K_INT, O(epochs), 1, 1000, "epoch budget per model"},
    {"train", "batch", K_INT, O(batch), 2, 65536, "batch size"},
    {"train", "lr", K_DBL, O(lr), 1e-12, 100, "initial learning rate"},
    {"train", "momentum", K_DBL, O(momentum), 0, 1, "SGD momentum"},
    {"train", "weight_decay", K_DBL, O(weight_decay), 0, 1, "weight decay"},
    {"train", "clip", K_DBL, O(clip), 0, 1e9, "gradient-norm clip (0: off)"},
    {"train", "threads", K_INT, O(threads), 0, 1024, "CPU threads per worker (0: all)"},
    {"data", "file", K_STR, O(file), 0, 0, "HDF5 dataset: /train trains, /test validates"},
    {"data", "train_count", K_LONG, O(train_count), -1, 1e12, "train images used (-1: all)"},
    {"data", "val_count", K_LONG, O(val_count), -1, 1e12, "validation images used (-1: all)"},
    {"data", "synthetic", K_BOOL, O(synthetic), 0, 1, "use the built-in synthetic set"},
    {"data", "synthetic_size", K_INT, O(synthetic_size), 4, 1024, "synthetic image side"},
    {"penguin", "enabled", K_BOOL, O(penguin), 0, 1, "on: predict and stop; off: plain NSGA-Net"},
    {"worker", "backend", K_BACKEND, O(backend), 0, 0,
     "auto (cuda when built with it and every worker sees a GPU, else cpu) | cpu | cuda | replay"},
    {"worker", "replay_curves", K_STR, O(replay_curves), 0, 0, "reference curves CSV (replay)"},
    {"worker", "replay_epoch_seconds", K_DBL, O(replay_epoch_seconds), 0, 1e6,
     "seconds a replayed epoch takes"},
    {"worker", "checkpoint_every", K_INT, O(checkpoint_every), 0, 1000,
     "checkpoint every N epochs (0: never)"},
    {"worker", "group_size", K_INT, O(group_size), 1, 4096,
     "ranks that train one model together (data parallel)"},
    {"worker", "gpu_share", K_BOOL, O(gpu_share), 0, 1, "allow several workers per GPU"},
    {"worker", "cpu_kernels", K_KERNELS, O(cpu_kernels), 0, 0,
     "cpu backend's 3x3 convolutions: auto (oneDNN's or its own Winograd ones on the shapes "
     "where they measure faster) | own (its Winograd and direct kernels, no oneDNN) | direct "
     "(its direct kernels only) | winograd (its Winograd on every padded 3x3 one)"},
    {"worker", "tf32", K_BOOL, O(tf32), 0, 1, "TF32 tensor cores on the cuda backend"},
    {"worker", "cuda_profile", K_BOOL, O(cuda_profile), 0, 1,
     "cuda backend: time every entry (synchronising), printed at exit"},
    {"worker", "cuda_verbose", K_BOOL, O(cuda_verbose), 0, 1,
     "cuda backend: print the convolution algorithms chosen per shape"},
    {"worker", "cudnn_bn", K_BOOL, O(cudnn_bn), 0, 1,
     "cuda backend: cuDNN's BatchNorm instead of the backend's kernels"},
    {"worker", "cudnn_exact", K_BOOL, O(cudnn_exact), 0, 1,
     "cuda backend: no FFT/Winograd convolution algorithms when TF32 is off"},
    {"analytics", "ranks", K_INT, O(analytics_ranks), 1, 100000, "analytics ranks (last ranks)"},
};
#undef O

const char *a4nn_run_mode_name(a4nn_run_mode m)
{
    return m == A4NN_MODE_ASYNC ? "async" : "generational";
}

const char *a4nn_worker_backend_name(a4nn_worker_backend b)
{
    return b == A4NN_WORKER_CUDA     ? "cuda"
           : b == A4NN_WORKER_REPLAY ? "replay"
           : b == A4NN_WORKER_AUTO   ? "auto"
                                     : "cpu";
}

void a4nn_config_defaults(a4nn_config *c)
{
    memset(c, 0, sizeof *c);
    c->seed = 1;
    strcpy(c->dir, "runs/default");
    c->mode = A4NN_MODE_GENERATIONAL;
    c->pop_size = 20;
    c->n_offspring = 20;
    c->n_gens = 4;
    c->n_phases = 3;
    c->n_nodes = 4;
    c->init_channels = 24;
    c->crossover_prob = 0.9;
    c->mutation_prob = -1;
    c->epochs = 25;
    c->batch = 128;
    c->lr = 0.025;
    c->momentum = 0.9;
    c->weight_decay = 3e-4;
    c->clip = 5;
    c->threads = 1;
    strcpy(c->file, "data/default/xfel-1e16.h5");
    c->train_count = -1;
    c->val_count = -1;
    c->synthetic = 0;
    c->synthetic_size = 16;
    c->penguin = 1;
    c->backend = A4NN_WORKER_CPU;
    c->replay_epoch_seconds = 0.01;
    c->checkpoint_every = 1;
    c->group_size = 1;
    c->analytics_ranks = 1;
}

static int parse_value(const key_desc *k, a4nn_config *c, const char *v, a4nn_error *err)
{
    char *p = (char *)c + k->off, *end;
    while (*v == ' ' || *v == '\t')
        v++;
    switch (k->type) {
    case K_INT:
    case K_LONG: {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        while (*end == ' ')
            end++;
        if (!*v || *end || errno || x < k->lo || x > k->hi)
            return a4nn_errorf(err, "config: bad value '%s' for %s.%s (expected an integer in "
                                    "%.0f..%.0f)", v, k->section, k->key, k->lo, k->hi);
        if (k->type == K_INT)
            *(int *)p = (int)x;
        else
            *(long *)p = (long)x;
        return A4NN_OK;
    }
    case K_U64: {
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        while (*end == ' ')
            end++;
        if (!*v || *v == '-' || *end || errno)
            return a4nn_errorf(err, "config: bad value '%s' for %s.%s (expected a non-negative "
                                    "integer)", v, k->section, k->key);
        *(uint64_t *)p = (uint64_t)x;
        return A4NN_OK;
    }
    case K_DBL: {
        errno = 0;
        double x = strtod(v, &end);
        while (*end == ' ')
            end++;
        if (!*v || *end || errno || !isfinite(x) || x < k->lo || x > k->hi)
            return a4nn_errorf(err, "config: bad value '%s' for %s.%s (expected a number in "
                                    "[%g, %g])", v, k->section, k->key, k->lo, k->hi);
        *(double *)p = x;
        return A4NN_OK;
    }
    case K_STR: {
        size_t n = strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n == 0 || n >= A4NN_PATH_MAX)
            return a4nn_errorf(err, "config: bad value '%s' for %s.%s (expected a non-empty "
                                    "path)", v, k->section, k->key);
        memcpy(p, v, n);
        p[n] = '\0';
        return A4NN_OK;
    }
    case K_BOOL:
        if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
            *(int *)p = 1;
        else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
            *(int *)p = 0;
        else
            return a4nn_errorf(err, "config: bad value '%s' for %s.%s (expected on or off)", v,
                               k->section, k->key);
        return A4NN_OK;
    case K_MODE:
        if (!strcmp(v, "generational"))
            *(a4nn_run_mode *)p = A4NN_MODE_GENERATIONAL;
        else if (!strcmp(v, "async"))
            *(a4nn_run_mode *)p = A4NN_MODE_ASYNC;
        else
            return a4nn_errorf(err, "config: bad value '%s' for %s.%s (expected generational "
                                    "or async)", v, k->section, k->key);
        return A4NN_OK;
    case K_BACKEND:
        if (!strcmp(v, "cpu"))
            *(a4nn_worker_backend *)p = A4NN_WORKER_CPU;
        else if (!strcmp(v, "cuda"))
            *(a4nn_worker_backend *)p = A4NN_WORKER_CUDA;
        else if (!strcmp(v, "replay"))
            *(a4nn_worker_backend *)p = A4NN_WORKER_REPLAY;
        else if (!strcmp(v, "auto"))
            *(a4nn_worker_backend *)p = A4NN_WORKER_AUTO;
        else
            return a4nn_errorf(err, "config: bad value '%s' for %s.%s (expected auto, cpu, cuda "
                                    "or replay)", v, k->section, k->key);
        return A4NN_OK;
    case K_KERNELS: {
        const int kernels = a4nn_cpu_kernels_parse(v);
        if (kernels < 0)
            return a4nn_errorf(err,
                               "config: bad value '%s' for %s.%s (expected auto, direct, own or "
                               "winograd)",
                               v, k->section, k->key);
        *(int *)p = kernels;
        return A4NN_OK;
    }
    }
    return a4nn_errorf(err, "config: internal error for %s.%s", k->section, k->key);
}

int a4nn_config_set(a4nn_config *c, const char *section, const char *key, const char *value,
                    a4nn_error *err)
{
    for (size_t i = 0; i < A4NN_ARRAY_LEN(KEYS); i++)
        if (!strcmp(KEYS[i].section, section) && !strcmp(KEYS[i].key, key))
            return parse_value(&KEYS[i], c, value, err);
    if (!strcmp(section, "penguin")) {
        /* the epoch budget has one place: train.epochs (TASK and PENGUIN follow it) */
        if (!strcmp(key, "budget"))
            return a4nn_errorf(err, "config: penguin.budget is train.epochs in a run; set "
                                    "train.epochs");
        /* a4nn_penguin_config_set validates the key and the value */
        a4nn_penguin_config pc;
        a4nn_penguin_config_defaults(&pc);
        a4nn_error e2;
        if (a4nn_penguin_config_set(&pc, key, value, &e2) != A4NN_OK)
            /* name the key once: most PENGUIN messages already start with it */
            return !strncmp(e2.msg, "penguin.", 8)
                       ? a4nn_errorf(err, "config: %s", e2.msg)
                       : a4nn_errorf(err, "config: penguin.%s: %s", key, e2.msg);
        if (strlen(key) >= sizeof c->penguin_key[0] || strlen(value) >= sizeof c->penguin_value[0])
            return a4nn_errorf(err, "config: penguin.%s: value too long", key);
        int slot = -1;
        for (int i = 0; i < c->n_penguin_keys; i++)
            if (!strcmp(c->penguin_key[i], key))
                slot = i;
        if (slot < 0) {
            if (c->n_penguin_keys >= A4NN_PENGUIN_KEYS_MAX)
                return a4nn_errorf(err, "config: too many penguin keys");
            slot = c->n_penguin_keys++;
        }
        strcpy(c->penguin_key[slot], key);
        strcpy(c->penguin_value[slot], value);
        return A4NN_OK;
    }
    return a4nn_errorf(err, "config: unknown key %s.%s", section, key);
}

typedef struct {
    a4nn_config *c;
    a4nn_error *err;
    int failed;
    const char *path;
    int n_seen;
    char seen[128][96]; /* "section.key" already set by this file */
} ini_ctx;

static int ini_cb(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *x = user;
    if (x->failed)
        return 0;
    if (!*section) {
        a4nn_errorf(x->err, "config: %s: '%s' is outside any [section] (is this an INI file?)",
                    x->path, name);
        x->failed = 1;
        return 0;
    }
    /* a key given twice is a mistake to point at, not "the last one wins" */
    char full[96];
    snprintf(full, sizeof full, "%s.%s", section, name);
    for (int i = 0; i < x->n_seen; i++)
        if (!strcmp(x->seen[i], full)) {
            a4nn_errorf(x->err, "config: %s: %s is set twice", x->path, full);
            x->failed = 1;
            return 0;
        }
    if (x->n_seen < (int)A4NN_ARRAY_LEN(x->seen))
        snprintf(x->seen[x->n_seen++], sizeof x->seen[0], "%s", full);
    a4nn_error e;
    if (a4nn_config_set(x->c, section, name, value ? value : "", &e) != A4NN_OK) {
        a4nn_errorf(x->err, "%s: %s", x->path, e.msg);
        x->failed = 1;
        return 0;
    }
    return 1;
}

/* A relative input path of a config file that does not exist from the
 * current directory is looked up under $A4NN_ROOT, $A4NN_ROOT/share/a4nn and
 * the config file's parent directory (the checkout, or the installed
 * share/a4nn), so the shipped configs work from any directory. */
static void resolve_input(char p[A4NN_PATH_MAX], const char *config_path)
{
    if (!p[0] || p[0] == '/' || access(p, R_OK) == 0)
        return;
    char cfgdir[A4NN_PATH_MAX], cand[2 * A4NN_PATH_MAX + 32];
    snprintf(cfgdir, sizeof cfgdir, "%s", config_path);
    char *slash = strrchr(cfgdir, '/');
    snprintf(slash ? slash : cfgdir, sizeof cfgdir - (size_t)(slash ? slash - cfgdir : 0), "%s",
             slash ? "/.." : "..");
    const char *root = getenv("A4NN_ROOT");
    const char *bases[] = {root, root ? "share/a4nn" : NULL, cfgdir};
    for (size_t i = 0; i < 3; i++) {
        if (!bases[i])
            continue;
        if (i == 1)
            snprintf(cand, sizeof cand, "%s/share/a4nn/%s", root, p);
        else
            snprintf(cand, sizeof cand, "%s/%s", bases[i], p);
        if (strlen(cand) < A4NN_PATH_MAX && access(cand, R_OK) == 0) {
            snprintf(p, A4NN_PATH_MAX, "%s", cand);
            return;
        }
    }
}

int a4nn_config_read(a4nn_config *c, const char *path, a4nn_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return a4nn_errorf(err, "config: cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        return a4nn_errorf(err, "config: %s is a directory, not an INI file", path);
    }
    ini_ctx *x = a4nn_calloc(1, sizeof *x);
    *x = (ini_ctx){.c = c, .err = err, .path = path};
    int rc = ini_parse_file(f, ini_cb, x);
    int failed = x->failed;
    free(x);
    fclose(f);
    if (failed)
        return A4NN_ERR;
    if (rc != 0)
        return a4nn_errorf(err, "config: %s: syntax error on line %d", path, rc);
    resolve_input(c->file, path);
    resolve_input(c->replay_curves, path);
    return A4NN_OK;
}

int a4nn_config_override(a4nn_config *c, const char *arg, a4nn_error *err)
{
    if (strncmp(arg, "--", 2) != 0)
        return a4nn_errorf(err, "config: override '%s' is not --section.key=value", arg);
    /* --penguin=on|off: A4NN or plain NSGA-Net, the one switch without a section */
    if (!strncmp(arg, "--penguin=", 10))
        return a4nn_config_set(c, "penguin", "enabled", arg + 10, err);
    const char *s = arg + 2, *dot = strchr(s, '.'), *eq = strchr(s, '=');
    if (!dot || !eq || dot > eq || dot == s || eq == dot + 1)
        return a4nn_errorf(err, "config: override '%s' is not --section.key=value", arg);
    char section[64], key[64];
    if ((size_t)(dot - s) >= sizeof section || (size_t)(eq - dot - 1) >= sizeof key)
        return a4nn_errorf(err, "config: unknown key in '%s'", arg);
    memcpy(section, s, (size_t)(dot - s));
    section[dot - s] = '\0';
    memcpy(key, dot + 1, (size_t)(eq - dot - 1));
    key[eq - dot - 1] = '\0';
    return a4nn_config_set(c, section, key, eq + 1, err);
}

int a4nn_config_validate(const a4nn_config *c, a4nn_error *err)
{
    if (c->backend == A4NN_WORKER_REPLAY && !c->replay_curves[0])
        return a4nn_errorf(err, "config: worker.replay_curves is required with "
                                "worker.backend = replay");
    if (c->backend != A4NN_WORKER_REPLAY && !c->synthetic && !c->file[0])
        return a4nn_errorf(err, "config: data.file is required");
    if (c->group_size > 1 && c->backend == A4NN_WORKER_REPLAY)
        return a4nn_errorf(err, "config: worker.group_size = %d needs a training backend "
                                "(cpu, cuda or auto), not replay", c->group_size);
    if (c->batch < 2 * c->group_size)
        return a4nn_errorf(err, "config: train.batch = %d is too small for worker.group_size = "
                                "%d (each rank of a group needs at least 2 images of a batch)",
                           c->batch, c->group_size);
    if (c->tf32 && c->backend != A4NN_WORKER_CUDA && c->backend != A4NN_WORKER_AUTO)
        return a4nn_errorf(err, "config: worker.tf32 = on needs worker.backend = cuda or auto");
    if (c->mode == A4NN_MODE_GENERATIONAL && c->n_offspring > 0 && c->n_gens > 0 &&
        c->pop_size < 2)
        return a4nn_errorf(err, "config: search.pop_size must be at least 2");
    /* derived counts in 64 bits: a product that overflows an int is an error,
     * not a negative allocation on another rank later */
    long long total = (long long)c->pop_size + (long long)c->n_offspring * c->n_gens;
    if (total > A4NN_MAX_MODELS)
        return a4nn_errorf(err, "config: search.pop_size + n_offspring * n_gens = %lld models; "
                                "at most %d are supported",
                           total, A4NN_MAX_MODELS);
    a4nn_genome g;
    memset(&g, 0, sizeof g);
    g.n_phases = c->n_phases;
    g.n_nodes = c->n_nodes;
    char text[256];
    if (a4nn_genome_format(&g, text, sizeof text) < 0)
        return a4nn_errorf(err, "config: search.n_phases = %d with search.n_nodes = %d makes "
                                "genomes longer than the %zu characters a model record holds",
                           c->n_phases, c->n_nodes, sizeof text - 1);
    long space = 1;
    int bits = c->n_phases * (c->n_nodes * (c->n_nodes - 1) / 2 + 1);
    if (bits < 40)
        space = 1L << bits;
    if (bits < 40 && a4nn_config_total_models(c) > space / 2)
        return a4nn_errorf(err, "config: search.pop_size + n_offspring * n_gens = %d models is "
                                "too many for a space of %ld genomes",
                           a4nn_config_total_models(c), space);
    return A4NN_OK;
}

int a4nn_config_penguin(const a4nn_config *c, a4nn_penguin_config *pc, a4nn_error *err)
{
    a4nn_penguin_config_defaults(pc);
    pc->budget = c->epochs;
    for (int i = 0; i < c->n_penguin_keys; i++)
        if (a4nn_penguin_config_set(pc, c->penguin_key[i], c->penguin_value[i], err) != A4NN_OK)
            return A4NN_ERR;
    return A4NN_OK;
}

int a4nn_config_total_models(const a4nn_config *c)
{
    return c->pop_size + c->n_offspring * c->n_gens;
}

void a4nn_config_write(const a4nn_config *c, FILE *out)
{
    const char *sec = "";
    for (size_t i = 0; i < A4NN_ARRAY_LEN(KEYS); i++) {
        const key_desc *k = &KEYS[i];
        const char *p = (const char *)c + k->off;
        if (strcmp(sec, k->section)) {
            fprintf(out, "%s[%s]\n", *sec ? "\n" : "", k->section);
            sec = k->section;
        }
        fprintf(out, "%s = ", k->key);
        switch (k->type) {
        case K_INT: fprintf(out, "%d", *(const int *)p); break;
        case K_LONG: fprintf(out, "%ld", *(const long *)p); break;
        case K_U64: fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)p); break;
        case K_DBL: { /* as written: the shortest text that reads back the same */
            const double v = *(const double *)p;
            char buf[40];
            for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, sizeof buf, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                    break;
            }
            fputs(buf, out);
            break;
        }
        case K_STR: fprintf(out, "%s", p); break;
        case K_BOOL: fprintf(out, "%s", *(const int *)p ? "on" : "off"); break;
        case K_MODE: fprintf(out, "%s", a4nn_run_mode_name(*(const a4nn_run_mode *)p)); break;
        case K_BACKEND:
            fprintf(out, "%s", a4nn_worker_backend_name(*(const a4nn_worker_backend *)p));
            break;
        case K_KERNELS: fprintf(out, "%s", a4nn_cpu_kernels_name(*(const int *)p)); break;
        }
        fprintf(out, "\n");
        if (!strcmp(k->section, "penguin") && !strcmp(k->key, "enabled"))
            for (int j = 0; j < c->n_penguin_keys; j++)
                fprintf(out, "%s = %s\n", c->penguin_key[j], c->penguin_value[j]);
    }
}

char *a4nn_config_text(const a4nn_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    a4nn_config_write(c, f);
    fclose(f);
    return buf;
}
