/* Shared helpers for the cmocka test programs. */
#ifndef A4NN_TESTUTIL_H
#define A4NN_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Path of a file in the read-only shared reference data ($A4NN_SHARED,
 * ../shared beside the checkout, or the copy in test/reference). Returns NULL
 * when it is not there. */
static inline const char *test_shared_path(const char *rel, char *buf, size_t cap)
{
    const char *roots[] = {getenv("A4NN_SHARED"), "../shared", "../../shared", "test/reference"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        if (!roots[i])
            continue;
        snprintf(buf, cap, "%s/%s", roots[i], rel);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    return NULL;
}

/* Marks a test skipped with a printed reason (never silently). */
#define TEST_SKIP(...)                                                          \
    do {                                                                        \
        printf("SKIPPED: ");                                                    \
        printf(__VA_ARGS__);                                                    \
        printf("\n");                                                           \
        skip();                                                                 \
    } while (0)

#define assert_close(a, b, tol)                                                 \
    do {                                                                        \
        double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);          \
        if (!(fabs(a_ - b_) <= t_))                                             \
            fail_msg("%s = %.9g, %s = %.9g, |diff| %.3g > %.3g", #a, a_, #b, b_, \
                     fabs(a_ - b_), t_);                                        \
    } while (0)

#endif
