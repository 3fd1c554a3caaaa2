#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

int lk_test_failures;
int lk_test_checks;

int lk_test_finish(const char *name) {
    if (lk_test_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, lk_test_failures, lk_test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, lk_test_checks);
    return 0;
}

const char *lk_test_fixtures(void) {
    static char path[4096];
    const char *env = getenv("LLMKIT_FIXTURES");
    const char *p = env && *env ? env : LLMKIT_FIXTURES_DEFAULT;
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    snprintf(path, sizeof path, "%s", p);
    return path;
}

const char *lk_test_fixture(const char *rel) {
    static char bufs[8][4096];
    static int next;
    const char *dir = lk_test_fixtures();
    if (!dir) return NULL;
    char *b = bufs[next++ % 8];
    snprintf(b, 4096, "%s/%s", dir, rel);
    if (access(b, R_OK) != 0) return NULL;
    return b;
}

void lk_test_skip(const char *why) {
    printf("SKIP: %s\n", why);
    fflush(stdout);
    exit(77);
}

float lk_test_rand_unit(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return (float)(x >> 8) / (float)(1u << 23) - 1.0f;
}

const char *lk_test_tmpdir(void) {
    static char path[256];
    if (!path[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/llmkit-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(path)) {
            perror("mkdtemp");
            exit(1);
        }
    }
    return path;
}

const char *lk_test_source_dir(void) { return LLMKIT_SOURCE_DIR; }
