/* app: trained networks as "a4nn-model" HDF5 files (see model.h). */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#define MODEL_FORMAT "a4nn-model"
#define MODEL_VERSION 1
#define OP_COLS (6 + A4NN_MAX_OP_INPUTS)
static const double BN_EPS = 1e-5; /* the nn module's BatchNorm epsilon */

void app_model_take_weights(app_model *m, a4nn_net *net)
{
    a4nn_backend *be = a4nn_net_backend(net);
    m->n_params = a4nn_net_param_count(net);
    m->n_buffers = a4nn_net_buffer_count(net);
    m->params = a4nn_realloc(m->params, sizeof(float) * (m->n_params ? m->n_params : 1));
    m->buffers = a4nn_realloc(m->buffers, sizeof(float) * (m->n_buffers ? m->n_buffers : 1));
    be->download(be->ctx, m->params, a4nn_net_params(net), m->n_params);
    be->download(be->ctx, m->buffers, a4nn_net_buffers(net), m->n_buffers);
}

void app_model_free(app_model *m)
{
    free(m->params);
    free(m->buffers);
    m->params = m->buffers = NULL;
}

static int build_arch(const app_model *m, a4nn_arch *arch, a4nn_error *err)
{
    a4nn_genome g;
    if (a4nn_genome_parse(m->genome, m->n_phases, m->n_nodes, &g, err) != A4NN_OK)
        return A4NN_ERR;
    return a4nn_arch_build(&g, m->in_c, m->in_h, m->in_w, m->init_channels, m->n_classes, arch,
                           err);
}

static void attr_int(hid_t f, const char *name, long long v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, name, H5T_STD_I64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_LLONG, &v);
    H5Aclose(a), H5Sclose(sp);
}

static void attr_double(hid_t f, const char *name, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &v);
    H5Aclose(a), H5Sclose(sp);
}

static void attr_text(hid_t f, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, &s);
    H5Aclose(a), H5Sclose(sp), H5Tclose(t);
}

static herr_t write_data(hid_t f, const char *name, hid_t file_type, hid_t mem_type, int rank,
                         const hsize_t *dims, const void *data)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(f, name, file_type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t rc = d < 0 ? -1 : H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0)
        H5Dclose(d);
    H5Sclose(sp);
    return rc;
}

int app_model_write(const char *path, const app_model *m, a4nn_error *err)
{
    a4nn_arch *arch = a4nn_malloc(sizeof *arch);
    if (build_arch(m, arch, err) != A4NN_OK) {
        free(arch);
        return A4NN_ERR;
    }
    if ((long)m->n_params != arch->params) {
        long want = arch->params;
        free(arch);
        return a4nn_errorf(err, "%s: %zu weights for a network of %ld parameters", path,
                           m->n_params, want);
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) {
        free(arch);
        return a4nn_errorf(err, "cannot create %s", path);
    }
    attr_text(f, "format", MODEL_FORMAT);
    attr_int(f, "version", MODEL_VERSION);
    attr_text(f, "genome", m->genome);
    attr_int(f, "n_phases", m->n_phases), attr_int(f, "n_nodes", m->n_nodes);
    attr_int(f, "init_channels", m->init_channels);
    attr_int(f, "in_c", m->in_c), attr_int(f, "in_h", m->in_h), attr_int(f, "in_w", m->in_w);
    attr_int(f, "n_classes", m->n_classes), attr_int(f, "output", arch->output);
    attr_int(f, "model_id", m->model_id), attr_int(f, "epochs", m->epochs);
    attr_double(f, "bn_eps", BN_EPS);
    int *ops = a4nn_calloc((size_t)arch->n_ops * OP_COLS, sizeof *ops);
    for (int i = 0; i < arch->n_ops; i++) {
        const a4nn_op *op = &arch->ops[i];
        int *r = ops + (size_t)i * OP_COLS;
        r[0] = (int)op->kind, r[1] = op->n_in, r[2] = op->out;
        r[3] = op->kernel, r[4] = op->pad, r[5] = op->bias;
        for (int j = 0; j < A4NN_MAX_OP_INPUTS; j++)
            r[6 + j] = j < op->n_in ? op->in[j] : 0;
    }
    int *ts = a4nn_calloc((size_t)arch->n_tensors * 3, sizeof *ts);
    for (int t = 0; t < arch->n_tensors; t++)
        ts[3 * t] = arch->tensor[t].c, ts[3 * t + 1] = arch->tensor[t].h, ts[3 * t + 2] = arch->tensor[t].w;
    hsize_t dop[2] = {(hsize_t)arch->n_ops, OP_COLS}, dt[2] = {(hsize_t)arch->n_tensors, 3},
            dp = m->n_params, db = m->n_buffers;
    int bad = write_data(f, "ops", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dop, ops) < 0 ||
              write_data(f, "tensors", H5T_STD_I32LE, H5T_NATIVE_INT, 2, dt, ts) < 0 ||
              write_data(f, "params", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &dp, m->params) < 0 ||
              write_data(f, "buffers", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &db, m->buffers) < 0;
    free(ops), free(ts), free(arch);
    if (H5Fclose(f) < 0 || bad)
        return a4nn_errorf(err, "cannot write %s", path);
    return A4NN_OK;
}

static int read_int(hid_t f, const char *name, int *v)
{
    if (H5Aexists(f, name) <= 0)
        return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    long long x = 0;
    herr_t rc = H5Aread(a, H5T_NATIVE_LLONG, &x);
    H5Aclose(a);
    *v = (int)x;
    return rc < 0 ? -1 : 0;
}

static int read_text(hid_t f, const char *name, char *buf, size_t cap)
{
    if (H5Aexists(f, name) <= 0)
        return -1;
    hid_t a = H5Aopen(f, name, H5P_DEFAULT), t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    char *s = NULL;
    herr_t rc = H5Aread(a, t, &s);
    if (rc >= 0 && s) {
        snprintf(buf, cap, "%s", s);
        H5free_memory(s);
    }
    H5Tclose(t), H5Aclose(a);
    return rc < 0 || !s ? -1 : 0;
}

static float *read_floats(hid_t f, const char *name, size_t *n)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return NULL;
    hid_t sp = H5Dget_space(d);
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    float *v = np >= 0 ? a4nn_malloc(sizeof(float) * (size_t)(np ? np : 1)) : NULL;
    if (v && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        free(v);
        v = NULL;
    }
    H5Dclose(d);
    *n = v ? (size_t)np : 0;
    return v;
}

int app_model_read(const char *path, app_model *m, a4nn_error *err)
{
    memset(m, 0, sizeof *m);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0)
        return a4nn_errorf(err, "%s: not an a4nn model file (HDF5 from a4nn export or a4nn "
                                "train --save)", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        return a4nn_errorf(err, "%s: cannot open", path);
    char format[32] = "";
    int version = 0, bad = read_text(f, "format", format, sizeof format) < 0 ||
                           strcmp(format, MODEL_FORMAT) != 0;
    if (bad) {
        H5Fclose(f);
        return a4nn_errorf(err, "%s: not an a4nn model file (no format = \"%s\")", path, MODEL_FORMAT);
    }
    bad = read_int(f, "version", &version) < 0 || read_text(f, "genome", m->genome, sizeof m->genome) < 0 ||
          read_int(f, "n_phases", &m->n_phases) < 0 || read_int(f, "n_nodes", &m->n_nodes) < 0 ||
          read_int(f, "init_channels", &m->init_channels) < 0 || read_int(f, "in_c", &m->in_c) < 0 ||
          read_int(f, "in_h", &m->in_h) < 0 || read_int(f, "in_w", &m->in_w) < 0 ||
          read_int(f, "n_classes", &m->n_classes) < 0 || read_int(f, "model_id", &m->model_id) < 0 ||
          read_int(f, "epochs", &m->epochs) < 0;
    if (!bad) {
        m->params = read_floats(f, "params", &m->n_params);
        m->buffers = read_floats(f, "buffers", &m->n_buffers);
        bad = !m->params || !m->buffers;
    }
    H5Fclose(f);
    if (bad) {
        app_model_free(m);
        return a4nn_errorf(err, "%s: incomplete a4nn model file", path);
    }
    if (version != MODEL_VERSION) {
        app_model_free(m);
        return a4nn_errorf(err, "%s: model file version %d, this a4nn reads %d", path, version,
                           MODEL_VERSION);
    }
    for (size_t i = 0; i < m->n_params; i++)
        if (!isfinite(m->params[i])) {
            app_model_free(m);
            return a4nn_errorf(err, "%s: weight %zu is not a finite number", path, i);
        }
    return A4NN_OK;
}

a4nn_net *app_model_net(const app_model *m, a4nn_backend *be, int batch, a4nn_arch *arch,
                        a4nn_error *err)
{
    if (build_arch(m, arch, err) != A4NN_OK)
        return NULL;
    a4nn_net *net = a4nn_net_alloc(arch, batch, be, 1, err);
    if (!net)
        return NULL;
    if (a4nn_net_param_count(net) != m->n_params || a4nn_net_buffer_count(net) != m->n_buffers) {
        a4nn_errorf(err, "the weights (%zu parameters, %zu buffers) do not fit genome %s "
                         "(%zu parameters, %zu buffers)",
                    m->n_params, m->n_buffers, m->genome, a4nn_net_param_count(net),
                    a4nn_net_buffer_count(net));
        a4nn_net_free(net);
        return NULL;
    }
    be->upload(be->ctx, a4nn_net_params(net), m->params, m->n_params);
    be->upload(be->ctx, a4nn_net_buffers(net), m->buffers, m->n_buffers);
    return net;
}
