#define _POSIX_C_SOURCE 200809L
#include "a4nn/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <hdf5.h>
#include <mpi.h>

int a4nn_errorf(a4nn_error *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return A4NN_ERR;
}

void a4nn_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("a4nn: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    exit(1);
}

void *a4nn_malloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        a4nn_die("out of memory allocating %zu bytes", bytes);
    return p;
}

void *a4nn_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        a4nn_die("out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *a4nn_realloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q)
        a4nn_die("out of memory reallocating %zu bytes", bytes);
    return q;
}

char *a4nn_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = a4nn_malloc(n);
    memcpy(d, s, n);
    return d;
}

double a4nn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* splitmix64 finaliser: a bijective mix, so distinct inputs give distinct seeds. */
static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t a4nn_seed_mix(uint64_t seed, uint64_t stream)
{
    return splitmix64(splitmix64(seed) ^ splitmix64(stream + 0x632be59bd9b4e019ULL));
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void a4nn_rng_seed(a4nn_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x = splitmix64(x);
        r->s[i] = x;
    }
}

uint64_t a4nn_rng_next(a4nn_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double a4nn_rng_uniform(a4nn_rng *r)
{
    return (double)(a4nn_rng_next(r) >> 11) * 0x1.0p-53;
}

double a4nn_rng_normal(a4nn_rng *r)
{
    double u1 = a4nn_rng_uniform(r), u2 = a4nn_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t a4nn_rng_below(a4nn_rng *r, uint64_t n)
{
    if (n <= 1)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = a4nn_rng_next(r);
    while (x >= limit);
    return x % n;
}

char *a4nn_read_file(const char *path, size_t *len, a4nn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        a4nn_errorf(err, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = a4nn_malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = a4nn_realloc(buf, cap);
        }
    }
    if (ferror(f)) {
        a4nn_errorf(err, "cannot read %s: %s", path, strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int a4nn_mkdir_p(const char *path, a4nn_error *err)
{
    char tmp[4096];
    if (strlen(path) >= sizeof tmp)
        return a4nn_errorf(err, "path too long: %s", path);
    strcpy(tmp, path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return a4nn_errorf(err, "cannot create directory %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return a4nn_errorf(err, "cannot create directory %s: %s", tmp, strerror(errno));
    struct stat st;
    if (stat(tmp, &st) != 0 || !S_ISDIR(st.st_mode))
        return a4nn_errorf(err, "%s exists and is not a directory", tmp);
    return A4NN_OK;
}

int a4nn_mpi_error(a4nn_error *err, int code, const char *what, const char *file, int line)
{
    char reason[MPI_MAX_ERROR_STRING] = "";
    int len = 0;
    if (MPI_Error_string(code, reason, &len) != MPI_SUCCESS)
        snprintf(reason, sizeof reason, "MPI error %d", code);
    return a4nn_errorf(err, "%s failed (%s:%d): %s", what, file, line, reason);
}

/* H5Ewalk callback: keeps the innermost error's function and description */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data)
{
    char *reason = data;
    if (n == 0)
        snprintf(reason, 256, "%s: %s", e->func_name ? e->func_name : "?",
                 e->desc ? e->desc : "?");
    return 0;
}

int a4nn_h5_error(a4nn_error *err, const char *what, const char *file, int line)
{
    char reason[256] = "no HDF5 error recorded";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk, reason);
    H5Eclear2(H5E_DEFAULT);
    return a4nn_errorf(err, "%s failed (%s:%d): HDF5 %s", what, file, line, reason);
}

void a4nn_print_version(FILE *out, const char *program)
{
    fprintf(out, "%s %s\n", program, A4NN_VERSION);
    fprintf(out, "  CPU backend: built in (OpenBLAS, OpenMP)\n");
#ifdef A4NN_CUDA
    fprintf(out, "  CUDA backend: built in (cuDNN, cuBLAS, NCCL)\n");
#else
    fprintf(out, "  CUDA backend: not built in (the build found no CUDA toolkit with cuDNN and "
                 "NCCL)\n");
#endif
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    fprintf(out, "  HDF5 %u.%u.%u\n", major, minor, release);
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING] = "";
    int len = 0;
    MPI_Get_library_version(mpi, &len); /* callable before MPI_Init */
    mpi[strcspn(mpi, "\n,")] = 0;
    fprintf(out, "  MPI: %s\n", mpi);
}
