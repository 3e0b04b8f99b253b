/* Dataset loader: validation and chunked, normalised reads with HDF5. */
#include <hdf5.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "a4nn/data.h"

static void quiet_hdf5(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Reads a numeric scalar attribute. A missing optional one leaves *v alone;
 * anything but one float or integer element is refused before H5Aread, which
 * would otherwise write the whole array into *v. */
static int read_attr_double(hid_t f, const char *name, int optional, double *v, const char *path,
                            a4nn_error *err)
{
    if (H5Aexists(f, name) <= 0)
        return optional ? A4NN_OK : a4nn_errorf(err, "%s: attribute '%s' is missing", path, name);
    hid_t a = H5Aopen(f, name, H5P_DEFAULT);
    if (a < 0)
        return a4nn_errorf(err, "%s: cannot open attribute '%s'", path, name);
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    H5T_class_t cls = t < 0 ? H5T_NO_CLASS : H5Tget_class(t);
    H5S_class_t shape = s < 0 ? H5S_NO_CLASS : H5Sget_simple_extent_type(s);
    hssize_t npoints = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    int rc = A4NN_OK;
    if (cls != H5T_FLOAT && cls != H5T_INTEGER)
        rc = a4nn_errorf(err, "%s: attribute '%s' is not a number", path, name);
    else if (!(shape == H5S_SCALAR || (shape == H5S_SIMPLE && npoints == 1)))
        rc = a4nn_errorf(err, "%s: attribute '%s' must be a single number, not %lld values",
                         path, name, (long long)(npoints < 0 ? 0 : npoints));
    else if (H5Aread(a, H5T_NATIVE_DOUBLE, v) < 0)
        rc = a4nn_errorf(err, "%s: attribute '%s' is not a number", path, name);
    H5Aclose(a);
    return rc;
}

/* Checks one split's datasets; returns its image count and shape. */
static int check_split(hid_t f, const char *path, const char *split, long *n, int *c, int *h,
                       int *w, a4nn_error *err)
{
    char name[64];
    snprintf(name, sizeof name, "/%s/images", split);
    if (H5Lexists(f, split, H5P_DEFAULT) <= 0 || H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return a4nn_errorf(err, "%s: dataset %s is missing", path, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0)
        return a4nn_errorf(err, "%s: cannot open dataset %s", path, name);
    hid_t t = H5Dget_type(d), s = H5Dget_space(d);
    hsize_t dims[8];
    int rank = H5Sget_simple_extent_ndims(s);
    if (rank >= 0 && rank <= 8)
        H5Sget_simple_extent_dims(s, dims, NULL);
    int is_float = H5Tget_class(t) == H5T_FLOAT && H5Tget_size(t) == 4;
    H5Tclose(t), H5Sclose(s), H5Dclose(d);
    if (!is_float)
        return a4nn_errorf(err, "%s: dataset %s must be float32", path, name);
    if (rank != 4 || dims[1] != 1 || dims[2] < 2 || dims[3] < 2 || dims[0] < 1)
        return a4nn_errorf(err, "%s: dataset %s must have shape [N, 1, H, W] with N >= 1", path,
                           name);
    *n = (long)dims[0], *c = 1, *h = (int)dims[2], *w = (int)dims[3];

    snprintf(name, sizeof name, "/%s/labels", split);
    if (H5Lexists(f, name, H5P_DEFAULT) <= 0)
        return a4nn_errorf(err, "%s: dataset %s is missing", path, name);
    d = H5Dopen2(f, name, H5P_DEFAULT);
    t = H5Dget_type(d), s = H5Dget_space(d);
    rank = H5Sget_simple_extent_ndims(s);
    if (rank == 1)
        H5Sget_simple_extent_dims(s, dims, NULL);
    int is_u8 = H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) == 1 && H5Tget_sign(t) == H5T_SGN_NONE;
    H5Tclose(t), H5Sclose(s), H5Dclose(d);
    if (!is_u8)
        return a4nn_errorf(err, "%s: dataset %s must be uint8", path, name);
    if (rank != 1 || (long)dims[0] != *n)
        return a4nn_errorf(err, "%s: dataset %s must have shape [%ld] like /%s/images", path,
                           name, *n, split);
    return A4NN_OK;
}

static hid_t open_file(const char *path, a4nn_error *err)
{
    quiet_hdf5();
    if (access(path, R_OK) != 0) {
        a4nn_errorf(err, "cannot read dataset file %s", path);
        return -1;
    }
    if (H5Fis_hdf5(path) <= 0) {
        a4nn_errorf(err, "%s is not an HDF5 file (corrupt or wrong format)", path);
        return -1;
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0)
        a4nn_errorf(err, "cannot open HDF5 file %s (corrupt?)", path);
    return f;
}

int a4nn_dataset_info_read(const char *path, a4nn_dataset_info *info, a4nn_error *err)
{
    memset(info, 0, sizeof *info);
    hid_t f = open_file(path, err);
    if (f < 0)
        return A4NN_ERR;
    int c2, h2, w2, rc = A4NN_ERR;
    if (check_split(f, path, "train", &info->n_train, &info->c, &info->h, &info->w, err) ||
        check_split(f, path, "test", &info->n_test, &c2, &h2, &w2, err))
        goto done;
    if (h2 != info->h || w2 != info->w) {
        a4nn_errorf(err, "%s: /test/images are %dx%d but /train/images are %dx%d", path, h2, w2,
                    info->h, info->w);
        goto done;
    }
    if (read_attr_double(f, "norm_mean", 0, &info->norm_mean, path, err) ||
        read_attr_double(f, "norm_std", 0, &info->norm_std, path, err) ||
        read_attr_double(f, "beam_intensity", 1, &info->beam_intensity, path, err) ||
        read_attr_double(f, "mean_photons", 1, &info->mean_photons, path, err))
        goto done;
    if (!(info->norm_std > 0) || !isfinite(info->norm_mean)) {
        a4nn_errorf(err, "%s: attribute norm_std must be positive", path);
        goto done;
    }
    if (H5Aexists(f, "class_names") > 0) {
        hid_t a = H5Aopen(f, "class_names", H5P_DEFAULT);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 64);
        char names[2][64] = {{0}};
        hid_t s = H5Aget_space(a);
        if (H5Sget_simple_extent_npoints(s) == 2 && H5Aread(a, t, names) >= 0)
            memcpy(info->class_names, names, sizeof names);
        H5Sclose(s), H5Tclose(t), H5Aclose(a);
    }
    rc = A4NN_OK;
done:
    H5Fclose(f);
    return rc;
}

void a4nn_split_free(a4nn_split *s)
{
    free(s->images);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

int a4nn_dataset_read(const char *path, const char *split, long start, long count, int normalise,
                      a4nn_split *out, a4nn_error *err)
{
    memset(out, 0, sizeof *out);
    if (strcmp(split, "train") && strcmp(split, "test"))
        return a4nn_errorf(err, "unknown split '%s' (train or test)", split);
    a4nn_dataset_info info;
    if (a4nn_dataset_info_read(path, &info, err))
        return A4NN_ERR;
    long n = !strcmp(split, "train") ? info.n_train : info.n_test;
    if (count < 0)
        count = n - start;
    if (start < 0 || count < 1 || start + count > n)
        return a4nn_errorf(err, "%s: images [%ld, %ld) are outside /%s (%ld images)", path,
                           start, start + count, split, n);
    hid_t f = open_file(path, err);
    if (f < 0)
        return A4NN_ERR;
    char name[64];
    const size_t sample = (size_t)info.h * info.w;
    out->images = a4nn_malloc(sizeof(float) * sample * (size_t)count);
    out->labels = a4nn_malloc((size_t)count);
    out->n = count, out->c = 1, out->h = info.h, out->w = info.w;
    int rc = A4NN_OK;
    for (int which = 0; which < 2 && rc == A4NN_OK; which++) {
        snprintf(name, sizeof name, "/%s/%s", split, which ? "labels" : "images");
        hid_t d = H5Dopen2(f, name, H5P_DEFAULT), fs = H5Dget_space(d);
        /* read in blocks of images to bound the chunk cache traffic */
        const long block = 1024;
        for (long s = 0; s < count && rc == A4NN_OK; s += block) {
            long m = count - s < block ? count - s : block;
            hsize_t off[4] = {(hsize_t)(start + s), 0, 0, 0},
                    cnt[4] = {(hsize_t)m, 1, (hsize_t)info.h, (hsize_t)info.w};
            H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
            hid_t ms = H5Screate_simple(which ? 1 : 4, cnt, NULL);
            herr_t r = which ? H5Dread(d, H5T_NATIVE_UINT8, ms, fs, H5P_DEFAULT, out->labels + s)
                             : H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT,
                                       out->images + (size_t)s * sample);
            H5Sclose(ms);
            if (r < 0)
                rc = a4nn_errorf(err, "%s: cannot read %s (corrupt file?)", path, name);
        }
        H5Sclose(fs), H5Dclose(d);
    }
    H5Fclose(f);
    for (long i = 0; i < count && rc == A4NN_OK; i++)
        if (out->labels[i] > 1)
            rc = a4nn_errorf(err, "%s: /%s/labels[%ld] is %d, outside 0..1", path, split,
                             start + i, out->labels[i]);
    if (rc == A4NN_OK && normalise) {
        const float mu = (float)info.norm_mean, inv = (float)(1.0 / info.norm_std);
        size_t total = sample * (size_t)count;
        for (size_t i = 0; i < total; i++) {
            float v = out->images[i];
            if (!(v >= 0) || !isfinite(v)) {
                rc = a4nn_errorf(err, "%s: /%s/images holds %g, not a photon count", path,
                                 split, v);
                break;
            }
            out->images[i] = (log1pf(v) - mu) * inv;
        }
    }
    if (rc != A4NN_OK)
        a4nn_split_free(out);
    return rc;
}

/* Reads a split's first `count` images in blocks: every value a photon count
 * (finite, >= 0), labels 0 or 1; counts each class and the non-blank images. */
static int scan_split(const char *path, const char *split, long count, long per_class[2],
                      long *lit, a4nn_error *err)
{
    const long block = 2048;
    for (long s = 0; s < count; s += block) {
        a4nn_split part;
        if (a4nn_dataset_read(path, split, s, count - s < block ? count - s : block, 1, &part,
                              err) != A4NN_OK)
            return A4NN_ERR;
        const size_t sample = (size_t)part.h * part.w;
        for (long i = 0; i < part.n; i++) {
            per_class[part.labels[i]]++;
            const float *x = part.images + (size_t)i * sample;
            size_t k = 1; /* a blank image: every pixel equal */
            while (k < sample && x[k] == x[0])
                k++;
            if (k < sample)
                (*lit)++;
        }
        a4nn_split_free(&part);
    }
    return A4NN_OK;
}

int a4nn_dataset_check(const char *path, long train_count, long val_count, a4nn_error *err)
{
    a4nn_dataset_info info;
    if (a4nn_dataset_info_read(path, &info, err) != A4NN_OK)
        return A4NN_ERR;
    if (info.h < 4 || info.w < 4)
        return a4nn_errorf(err, "%s: images are %dx%d pixels; the networks need at least 4x4",
                           path, info.h, info.w);
    long n_train = train_count < 0 ? info.n_train : train_count,
         n_val = val_count < 0 ? info.n_test : val_count;
    if (n_train > info.n_train)
        return a4nn_errorf(err, "data.train_count = %ld, but %s has %ld training images", n_train,
                           path, info.n_train);
    if (n_val > info.n_test)
        return a4nn_errorf(err, "data.val_count = %ld, but %s has %ld test images", n_val, path,
                           info.n_test);
    if (n_train < 2)
        return a4nn_errorf(err, "%s: %ld training image(s) used; one training batch needs at "
                                "least 2 (data.train_count)",
                           path, n_train);
    if (n_val < 1)
        return a4nn_errorf(err, "%s: no validation images used (data.val_count)", path);
    long train_class[2] = {0, 0}, val_class[2] = {0, 0}, lit = 0;
    if (scan_split(path, "train", n_train, train_class, &lit, err) != A4NN_OK ||
        scan_split(path, "test", n_val, val_class, &lit, err) != A4NN_OK)
        return A4NN_ERR;
    if (!train_class[0] || !train_class[1])
        return a4nn_errorf(err, "%s: the %ld training images used are all of class %d; both "
                                "classes are needed",
                           path, n_train, train_class[1] ? 1 : 0);
    if (!lit)
        return a4nn_errorf(err, "%s: every image used is blank (all pixels equal)", path);
    return A4NN_OK;
}
