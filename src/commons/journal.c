/* journal: append-only, checksummed, fsync'd record log of the commons. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define JOURNAL_MAGIC 0x4a4e3441u /* "A4NJ" */
#define JOURNAL_MAX_RECORD (64u << 20)

typedef struct {
    uint32_t magic, type;
    uint64_t seq;
    uint32_t len, crc;
} record_header;

static uint32_t record_crc(const record_header *h, const void *payload)
{
    record_header z = *h;
    z.crc = 0;
    uLong c = crc32(0L, (const Bytef *)&z, sizeof z);
    return (uint32_t)crc32(c, payload, h->len);
}

/* ---- fault injection (tests only) ---- */
static long steps, crash_at = -1, enospc_at = -1;

static long env_long(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : -1;
}

int a4nn_commons_test_step(void)
{
    static int init;
    if (!init) {
        init = 1;
        crash_at = env_long("A4NN_TEST_CRASH_AT");
        enospc_at = env_long("A4NN_TEST_ENOSPC_AT");
    }
    steps++;
    if (steps == crash_at)
        raise(SIGKILL);
    if (steps == enospc_at) {
        errno = ENOSPC;
        return -1;
    }
    return 0;
}

long a4nn_commons_test_steps(void)
{
    return steps;
}

/* ---- records ---- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The whole journal in memory (it only holds the records since the last
 * snapshot). */
static char *slurp(a4nn_journal *j, off_t *len, a4nn_error *err)
{
    struct stat sb;
    if (fstat(j->fd, &sb) != 0) {
        a4nn_errorf(err, "commons: cannot read %s: %s", j->path, strerror(errno));
        return NULL;
    }
    char *buf = a4nn_malloc((size_t)sb.st_size + 1);
    off_t got = 0;
    while (got < sb.st_size) {
        ssize_t r = pread(j->fd, buf + got, (size_t)(sb.st_size - got), got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            a4nn_errorf(err, "commons: cannot read %s: %s", j->path,
                        r < 0 ? strerror(errno) : "file shrank");
            return NULL;
        }
        got += r;
    }
    *len = sb.st_size;
    return buf;
}

/* Walks the valid prefix; returns its length. */
static off_t walk(const char *buf, off_t len, uint64_t after_seq, a4nn_journal_visit visit,
                  void *ctx, uint64_t *last_seq, int *stopped, a4nn_error *err)
{
    off_t at = 0;
    uint64_t prev = 0;
    *stopped = 0;
    while (len - at >= (off_t)sizeof(record_header)) {
        record_header h;
        memcpy(&h, buf + at, sizeof h);
        if (h.magic != JOURNAL_MAGIC || h.len > JOURNAL_MAX_RECORD ||
            (off_t)h.len > len - at - (off_t)sizeof h || (prev && h.seq != prev + 1))
            break;
        const char *payload = buf + at + sizeof h;
        if (record_crc(&h, payload) != h.crc)
            break;
        if (visit && h.seq > after_seq && visit(h.type, h.seq, payload, h.len, ctx, err)) {
            *stopped = 1;
            break;
        }
        prev = h.seq;
        at += (off_t)(sizeof h + h.len);
    }
    if (last_seq)
        *last_seq = prev;
    return at;
}

int a4nn_journal_open(a4nn_journal *j, const char *path, a4nn_error *err)
{
    memset(j, 0, sizeof *j);
    snprintf(j->path, sizeof j->path, "%s", path);
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (j->fd < 0)
        return a4nn_errorf(err, "commons: cannot open %s: %s", path, strerror(errno));
    off_t len;
    char *buf = slurp(j, &len, err);
    if (!buf) {
        close(j->fd);
        j->fd = -1;
        return A4NN_ERR;
    }
    int stopped;
    j->len = walk(buf, len, 0, NULL, NULL, &j->last_seq, &stopped, err);
    free(buf);
    /* a torn tail (crash or full disk inside an append) is dropped, so that
     * the next record follows the last valid one */
    if (j->len < len && (ftruncate(j->fd, j->len) != 0 || fsync(j->fd) != 0)) {
        a4nn_errorf(err, "commons: cannot drop the torn end of %s: %s", path, strerror(errno));
        close(j->fd);
        j->fd = -1;
        return A4NN_ERR;
    }
    return A4NN_OK;
}

int a4nn_journal_replay(a4nn_journal *j, uint64_t after_seq, a4nn_journal_visit visit,
                        void *ctx, a4nn_error *err)
{
    off_t len;
    char *buf = slurp(j, &len, err);
    if (!buf)
        return A4NN_ERR;
    int stopped;
    walk(buf, len < j->len ? len : j->len, after_seq, visit, ctx, NULL, &stopped, err);
    free(buf);
    return stopped ? A4NN_ERR : A4NN_OK;
}

int a4nn_journal_append(a4nn_journal *j, uint32_t type, const void *payload, uint32_t len,
                        a4nn_error *err)
{
    if (len > JOURNAL_MAX_RECORD)
        return a4nn_errorf(err, "commons: a record of %u bytes is too large for %s", len,
                           j->path);
    record_header h = {JOURNAL_MAGIC, type, j->last_seq + 1, len, 0};
    h.crc = record_crc(&h, payload);
    size_t n = sizeof h + len;
    char *buf = a4nn_malloc(n);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, payload, len);
    /* written in two halves so that the crash tests can stop between them */
    size_t half = n / 2;
    int bad = lseek(j->fd, j->len, SEEK_SET) < 0 || write_all(j->fd, buf, half) ||
              a4nn_commons_test_step() || write_all(j->fd, buf + half, n - half) ||
              fdatasync(j->fd) || a4nn_commons_test_step();
    int e = errno;
    free(buf);
    if (bad) {
        /* cut the partial record (freeing its space) so the journal stays
         * its valid prefix; the caller stops the run */
        if (ftruncate(j->fd, j->len) == 0)
            fdatasync(j->fd);
        return a4nn_errorf(err, "commons: cannot append to %s: %s", j->path, strerror(e));
    }
    j->len += (off_t)n;
    j->last_seq = h.seq;
    return A4NN_OK;
}

int a4nn_journal_reset(a4nn_journal *j, a4nn_error *err)
{
    if (ftruncate(j->fd, 0) != 0 || fsync(j->fd) != 0)
        return a4nn_errorf(err, "commons: cannot empty %s: %s", j->path, strerror(errno));
    j->len = 0;
    return A4NN_OK;
}

void a4nn_journal_close(a4nn_journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
}
