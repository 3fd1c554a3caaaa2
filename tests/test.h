/* A small test harness: CHECK macros that count failures and report file and
 * line, fixture lookup, and a visible skip (exit code 77, which CTest shows as
 * "Skipped"). Each tests/test_*.c is one executable with its own main(). */
#ifndef LK_TEST_H
#define LK_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmkit.h"

extern int lk_test_failures;
extern int lk_test_checks;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        lk_test_checks++;                                                                \
        if (!(cond)) {                                                                   \
            lk_test_failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_MSG(cond, ...)                                                             \
    do {                                                                                 \
        lk_test_checks++;                                                                \
        if (!(cond)) {                                                                   \
            lk_test_failures++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                \
            fputc('\n', stderr);                                                         \
        }                                                                                \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                               \
    do {                                                                                 \
        long long va_ = (long long)(a), vb_ = (long long)(b);                            \
        CHECK_MSG(va_ == vb_, "%s = %lld, %s = %lld", #a, va_, #b, vb_);                 \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                               \
    do {                                                                                 \
        const char *sa_ = (a), *sb_ = (b);                                               \
        CHECK_MSG(sa_ && sb_ && strcmp(sa_, sb_) == 0, "\"%s\" != \"%s\"",               \
                  sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                           \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                            \
    do {                                                                                 \
        double va_ = (double)(a), vb_ = (double)(b);                                     \
        CHECK_MSG(fabs(va_ - vb_) <= (tol), "%s = %.9g, %s = %.9g (tol %g)", #a, va_, #b, \
                  vb_, (double)(tol));                                                   \
    } while (0)

/* Checks that an lk_status call succeeded, printing the error otherwise. */
#define CHECK_OK(call, errp)                                                             \
    do {                                                                                 \
        lk_status st_ = (call);                                                          \
        CHECK_MSG(st_ == LK_OK, "%s -> %s: %s", #call, lk_status_name(st_), (errp)->msg); \
    } while (0)

/* Ends main(): prints a summary and returns the exit code. */
int lk_test_finish(const char *name);

/* The fixtures folder (LLMKIT_FIXTURES or ../shared/fixtures beside the repo),
 * or NULL when it is absent. */
const char *lk_test_fixtures(void);
/* Path to a file under fixtures, in a static rotating buffer; NULL when the
 * fixtures folder is absent or the file is missing. */
const char *lk_test_fixture(const char *rel);
/* A uniform float in [-1, 1) from a xorshift32 state (seeded by the
 * caller, never 0): reproducible test data without libc's rand. */
float lk_test_rand_unit(uint32_t *state);
/* Skips the whole test visibly (exit 77). */
void lk_test_skip(const char *why) __attribute__((noreturn));
/* A fresh temporary directory for this test (removed by the caller if wanted). */
const char *lk_test_tmpdir(void);
/* The repository's source dir (for committed golden files). */
const char *lk_test_source_dir(void);

#endif
