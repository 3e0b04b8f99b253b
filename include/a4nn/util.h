/* util: error reporting, checked-call macros, clocks and seeded streams
 * shared by every a4nn module. */
#ifndef A4NN_UTIL_H
#define A4NN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define A4NN_VERSION "0.1.0"

/* Library functions never exit: they return A4NN_OK or A4NN_ERR and fill an
 * a4nn_error the caller owns. Only the command-line driver prints and exits. */
enum { A4NN_OK = 0, A4NN_ERR = -1 };

typedef struct {
    char msg[512];
} a4nn_error;

/* Formats msg into err (when err is non-NULL) and returns A4NN_ERR. */
int a4nn_errorf(a4nn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "a4nn: <msg>" on stderr and exits with status 1. */
void a4nn_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Checked allocation: dies with a clear message when memory runs out. */
void *a4nn_malloc(size_t bytes);
void *a4nn_calloc(size_t n, size_t size);
void *a4nn_realloc(void *p, size_t bytes);
char *a4nn_strdup(const char *s);

/* Wall-clock seconds from a monotonic clock. */
double a4nn_now(void);

/* Independent, reproducible 64-bit seeds derived from one run seed:
 * a4nn_seed_mix(seed, stream) differs for every (seed, stream) pair. */
uint64_t a4nn_seed_mix(uint64_t seed, uint64_t stream);

/* Small, fast, seeded generator (xoshiro256**) for hot loops such as weight
 * init and shuffling; GSL's generators are used where distributions matter. */
typedef struct {
    uint64_t s[4];
} a4nn_rng;
void a4nn_rng_seed(a4nn_rng *r, uint64_t seed);
uint64_t a4nn_rng_next(a4nn_rng *r);
double a4nn_rng_uniform(a4nn_rng *r);          /* [0, 1) */
double a4nn_rng_normal(a4nn_rng *r);           /* N(0, 1), Box-Muller */
uint64_t a4nn_rng_below(a4nn_rng *r, uint64_t n); /* [0, n) without bias */

/* Reads a whole file into a NUL-terminated buffer (caller frees). */
char *a4nn_read_file(const char *path, size_t *len, a4nn_error *err);

/* Creates a directory and its parents (mkdir -p). */
int a4nn_mkdir_p(const char *path, a4nn_error *err);

/* Checked MPI and HDF5 calls, for functions that return A4NN_OK / A4NN_ERR
 * and have `a4nn_error *err` in scope: on failure they fill err with the
 * call, file:line and the library's own reason (MPI_Error_string; the HDF5
 * error stack, walked and cleared, so that HDF5's automatic printing can stay
 * off without losing why) and return A4NN_ERR. Library code never exits. */
#define A4NN_CHECK_MPI(call)                                                   \
    do {                                                                       \
        int a4nn_rc_ = (call);                                                 \
        if (a4nn_rc_ != 0 /* MPI_SUCCESS */)                                   \
            return a4nn_mpi_error(err, a4nn_rc_, #call, __FILE__, __LINE__);   \
    } while (0)

#define A4NN_CHECK_H5(call)                                                    \
    do {                                                                       \
        if ((long long)(call) < 0)                                             \
            return a4nn_h5_error(err, #call, __FILE__, __LINE__);              \
    } while (0)

/* For the command-line drivers only (they may exit): dies with the same
 * message. */
#define A4NN_DIE_ON_MPI(call)                                                  \
    do {                                                                       \
        a4nn_error a4nn_e_;                                                    \
        int a4nn_rc_ = (call);                                                 \
        if (a4nn_rc_ != 0) {                                                   \
            a4nn_mpi_error(&a4nn_e_, a4nn_rc_, #call, __FILE__, __LINE__);     \
            a4nn_die("%s", a4nn_e_.msg);                                       \
        }                                                                      \
    } while (0)

/* What the macros call: fill err ("what failed at file:line: reason") and
 * return A4NN_ERR. */
int a4nn_mpi_error(a4nn_error *err, int code, const char *what, const char *file, int line);
int a4nn_h5_error(a4nn_error *err, const char *what, const char *file, int line);

#define A4NN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* "<program> <version>" and the features this build has (backends, HDF5,
 * MPI), one line each, for --version. */
void a4nn_print_version(FILE *out, const char *program);

#endif
