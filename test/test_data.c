/* Dataset loader: a valid file reads and normalises; every kind of bad file
 * gives an error naming the file and the dataset. */
#include <hdf5.h>
#include <math.h>

#include "a4nn/data.h"
#include "testutil.h"

typedef struct {
    int skip_test_labels;  /* leave /test/labels out */
    int int_images;        /* /train/images as int32 */
    int rank3;             /* /train/images as [N, H, W] */
    int bad_label;         /* a label of 2 */
    int test_w;            /* /test image width (default same as train) */
    int no_norm;           /* leave norm_std out */
    const char *array_attr; /* write this attribute as a 4096-element array */
    int string_attr;       /* norm_mean as a string */
} variant;

static void write_ds(hid_t g, const char *name, hid_t type, int rank, const hsize_t *dims,
                     hid_t memtype, const void *data)
{
    hid_t s = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(g, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d), H5Sclose(s);
}

static void make_file(const char *path, variant v)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    for (int sp = 0; sp < 2; sp++) {
        hid_t g = H5Gcreate2(f, sp ? "test" : "train", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int n = sp ? 4 : 6, w = sp && v.test_w ? v.test_w : 5;
        float img[6 * 25];
        int iimg[6 * 25];
        uint8_t lab[6];
        for (int i = 0; i < n * 5 * w; i++)
            img[i] = (float)(i % 7), iimg[i] = i % 7;
        for (int i = 0; i < n; i++)
            lab[i] = (uint8_t)(i % 2);
        if (v.bad_label && !sp)
            lab[3] = 2;
        hsize_t d4[4] = {(hsize_t)n, 1, 5, (hsize_t)w}, d3[3] = {(hsize_t)n, 5, (hsize_t)w};
        if (!sp && v.int_images)
            write_ds(g, "images", H5T_STD_I32LE, 4, d4, H5T_NATIVE_INT, iimg);
        else if (!sp && v.rank3)
            write_ds(g, "images", H5T_IEEE_F32LE, 3, d3, H5T_NATIVE_FLOAT, img);
        else
            write_ds(g, "images", H5T_IEEE_F32LE, 4, d4, H5T_NATIVE_FLOAT, img);
        hsize_t d1 = (hsize_t)n;
        if (!(sp && v.skip_test_labels))
            write_ds(g, "labels", H5T_STD_U8LE, 1, &d1, H5T_NATIVE_UINT8, lab);
        H5Gclose(g);
    }
    double mean = 1.2, sd = 0.5;
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "norm_mean", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_DOUBLE, &mean);
    H5Aclose(a);
    if (!v.no_norm) {
        a = H5Acreate2(f, "norm_std", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_DOUBLE, &sd);
        H5Aclose(a);
    }
    H5Sclose(s);
    if (v.array_attr) {
        static double big[4096];
        hsize_t n = 4096;
        if (H5Aexists(f, v.array_attr) > 0)
            H5Adelete(f, v.array_attr);
        s = H5Screate_simple(1, &n, NULL);
        a = H5Acreate2(f, v.array_attr, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_DOUBLE, big);
        H5Aclose(a), H5Sclose(s);
    }
    if (v.string_attr) {
        H5Adelete(f, "norm_mean");
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 8);
        s = H5Screate(H5S_SCALAR);
        a = H5Acreate2(f, "norm_mean", t, s, H5P_DEFAULT, H5P_DEFAULT);
        const char text[8] = "1.2"; /* the attribute's full 8 bytes */
        H5Awrite(a, t, text);
        H5Aclose(a), H5Sclose(s), H5Tclose(t);
    }
    /* optional attributes as a 1-element array and an integer: both accepted */
    if (!v.array_attr) {
        hsize_t one = 1;
        double beam = 1e15;
        int photons = 42;
        s = H5Screate_simple(1, &one, NULL);
        a = H5Acreate2(f, "beam_intensity", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_DOUBLE, &beam);
        H5Aclose(a), H5Sclose(s);
        s = H5Screate(H5S_SCALAR);
        a = H5Acreate2(f, "mean_photons", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_INT, &photons);
        H5Aclose(a), H5Sclose(s);
    }
    H5Fclose(f);
}

static char path[64];

static void expect_error(variant v, const char *needle)
{
    make_file(path, v);
    a4nn_split s;
    a4nn_error err;
    assert_int_equal(a4nn_dataset_read(path, "train", 0, -1, 1, &s, &err), A4NN_ERR);
    if (!strstr(err.msg, needle) || !strstr(err.msg, path))
        fail_msg("error '%s' should name %s and say '%s'", err.msg, path, needle);
}

static void test_valid_file_reads_normalised(void **st)
{
    (void)st;
    make_file(path, (variant){0});
    a4nn_dataset_info info;
    assert_int_equal(a4nn_dataset_info_read(path, &info, NULL), A4NN_OK);
    assert_int_equal(info.n_train, 6);
    assert_int_equal(info.n_test, 4);
    assert_int_equal(info.h, 5);
    assert_close(info.beam_intensity, 1e15, 0);
    assert_close(info.mean_photons, 42, 0);
    a4nn_split s;
    assert_int_equal(a4nn_dataset_read(path, "train", 2, 3, 1, &s, NULL), A4NN_OK);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.labels[0], 0); /* image 2 */
    assert_int_equal(s.labels[1], 1);
    /* image 2, pixel 0 holds (2*25) % 7 = 1 photon */
    assert_close(s.images[0], (log1p(1.0) - 1.2) / 0.5, 1e-6);
    a4nn_split_free(&s);
    assert_int_equal(a4nn_dataset_read(path, "test", 0, -1, 0, &s, NULL), A4NN_OK);
    assert_int_equal(s.n, 4);
    assert_close(s.images[3], 3.0, 0);
    a4nn_split_free(&s);
    a4nn_error err;
    assert_int_equal(a4nn_dataset_read(path, "train", 4, 5, 1, &s, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "outside /train"));
    assert_int_equal(a4nn_dataset_read(path, "valid", 0, 1, 1, &s, &err), A4NN_ERR);
}

static void test_bad_files(void **st)
{
    (void)st;
    expect_error((variant){.skip_test_labels = 1}, "/test/labels is missing");
    expect_error((variant){.int_images = 1}, "/train/images must be float32");
    expect_error((variant){.rank3 = 1}, "/train/images must have shape [N, 1, H, W]");
    expect_error((variant){.bad_label = 1}, "/train/labels[3] is 2");
    expect_error((variant){.test_w = 4}, "/test/images are 5x4 but /train/images are 5x5");
    expect_error((variant){.no_norm = 1}, "attribute 'norm_std' is missing");
    /* array attributes used to overrun the one double they were read into */
    const char *attrs[] = {"norm_mean", "norm_std", "beam_intensity", "mean_photons"};
    for (int i = 0; i < 4; i++) {
        char want[96];
        snprintf(want, sizeof want, "attribute '%s' must be a single number, not 4096 values",
                 attrs[i]);
        expect_error((variant){.array_attr = attrs[i]}, want);
    }
    expect_error((variant){.string_attr = 1}, "attribute 'norm_mean' is not a number");
    /* not HDF5 at all */
    FILE *f = fopen(path, "w");
    fputs("this is not an HDF5 file\n", f);
    fclose(f);
    a4nn_split s;
    a4nn_error err;
    assert_int_equal(a4nn_dataset_read(path, "train", 0, -1, 1, &s, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "not an HDF5 file"));
    /* truncated HDF5 */
    make_file(path, (variant){0});
    assert_int_equal(truncate(path, 600), 0);
    assert_int_equal(a4nn_dataset_read(path, "train", 0, -1, 1, &s, &err), A4NN_ERR);
    printf("truncated file: %s\n", err.msg);
    assert_int_equal(a4nn_dataset_read("/nonexistent/x.h5", "train", 0, -1, 1, &s, &err), A4NN_ERR);
    assert_non_null(strstr(err.msg, "cannot read dataset file /nonexistent/x.h5"));
}

int main(void)
{
    snprintf(path, sizeof path, "/tmp/a4nn-data-test-%d.h5", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_file_reads_normalised),
        cmocka_unit_test(test_bad_files),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}
