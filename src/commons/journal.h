/* journal: the commons' append-only record log (private to src/commons).
 *
 * Each record is a 24-byte header (magic, type, sequence number, payload
 * length, CRC-32 of header and payload) followed by the payload, written with
 * one write() and made durable with fsync() before the append returns. A
 * record cut short by a crash or a full disk fails its length or checksum
 * check: it and everything after it are dropped when the journal is opened. */
#ifndef A4NN_COMMONS_JOURNAL_H
#define A4NN_COMMONS_JOURNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "a4nn/util.h"

typedef struct {
    int fd;
    char path[1100];
    off_t len;         /* bytes of valid records */
    uint64_t last_seq; /* sequence number of the last valid record, 0 when none */
} a4nn_journal;

/* Called for each valid record in file order; non-zero stops the replay. */
typedef int (*a4nn_journal_visit)(uint32_t type, uint64_t seq, const void *payload,
                                  uint32_t len, void *ctx, a4nn_error *err);

/* Opens (creating when missing) the journal and drops a torn tail. */
int a4nn_journal_open(a4nn_journal *j, const char *path, a4nn_error *err);
/* Visits the valid records with a sequence number above after_seq. */
int a4nn_journal_replay(a4nn_journal *j, uint64_t after_seq, a4nn_journal_visit visit,
                        void *ctx, a4nn_error *err);
/* Appends one record (sequence number last_seq + 1) and fsyncs it. On
 * failure (ENOSPC, ...) the journal is cut back to its previous length. */
int a4nn_journal_append(a4nn_journal *j, uint32_t type, const void *payload, uint32_t len,
                        a4nn_error *err);
/* Empties the journal (its records are in a snapshot); keeps last_seq. */
int a4nn_journal_reset(a4nn_journal *j, a4nn_error *err);
void a4nn_journal_close(a4nn_journal *j);

/* Fault injection for the crash and disk-full tests: every durable step of
 * the commons (half and whole journal records, snapshot stages) calls this.
 * A4NN_TEST_CRASH_AT=N kills the process (SIGKILL) at the N-th step;
 * A4NN_TEST_ENOSPC_AT=N makes the N-th step fail with ENOSPC (returns -1).
 * Returns 0 otherwise. */
int a4nn_commons_test_step(void);
/* Steps taken so far (reported when a test hook is set). */
long a4nn_commons_test_steps(void);

#endif
