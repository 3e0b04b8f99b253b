/* data: the XFEL dataset format (one HDF5 file per beam intensity) and its
 * loader: validation, chunked reads of a split's range, normalisation.
 *
 *   /train/images, /test/images   float32 [N, 1, H, W] photon counts
 *   /train/labels, /test/labels   uint8 [N], 0 = first conformation
 *   /train/orientations, ...      float64 [N, 4] unit quaternions
 *   root attributes: beam_intensity, class_names, photon_energy_kev,
 *   detector_distance_m, pixel_size_m, detector_pixels, binning, seed,
 *   generator, mean_photons, norm_mean, norm_std (of log1p(counts), train) */
#ifndef A4NN_DATA_H
#define A4NN_DATA_H

#include <stdint.h>

#include "a4nn/util.h"

typedef struct {
    long n_train, n_test;
    int c, h, w;
    double norm_mean, norm_std;
    double beam_intensity, mean_photons;
    char class_names[2][64];
} a4nn_dataset_info;

/* A split (or part of one) in host memory; images normalised when read so. */
typedef struct {
    float *images; /* [n, c, h, w] */
    uint8_t *labels;
    long n;
    int c, h, w;
} a4nn_split;

/* Opens and validates a dataset file: every dataset present with the right
 * type and shape, train and test of the same image size, normalisation
 * attributes present; numeric attributes must be single numbers (scalar or
 * one element). Errors name the file and the dataset or attribute. */
int a4nn_dataset_info_read(const char *path, a4nn_dataset_info *info, a4nn_error *err);

/* Reads images [start, start + count) of split "train" or "test" (count < 0:
 * to the end), in chunks; checks labels are 0 or 1; with normalise,
 * x -> (log1p(x) - norm_mean) / norm_std. */
int a4nn_dataset_read(const char *path, const char *split, long start, long count, int normalise,
                      a4nn_split *out, a4nn_error *err);
void a4nn_split_free(a4nn_split *s);

/* Everything a run will read, checked before it starts: image size (at least
 * 4x4), the counts used (train_count / val_count, < 0: the whole split)
 * within the file, at least 2 training and 1 validation images, every pixel
 * a photon count, labels 0 or 1, both classes among the training images, not
 * every image blank. Reads the used images once, in blocks. */
int a4nn_dataset_check(const char *path, long train_count, long val_count, a4nn_error *err);

#endif
