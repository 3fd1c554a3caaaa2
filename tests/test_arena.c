/* Arena allocator: alignment, block chaining, big allocations, reset reuse,
 * string copies, overflow-safe failures. */
#include <stdalign.h>
#include <stdint.h>

#include "base/arena.h"
#include "test.h"

static void test_alignment(void) {
    lk_arena a;
    lk_arena_init(&a, 256);
    static const size_t aligns[] = {1, 2, 4, 8, 16, 32, 64, 4096};
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof aligns / sizeof *aligns; i++) {
            size_t size = (size_t)(round * 7 + 1);
            unsigned char *p = lk_arena_alloc(&a, size, aligns[i]);
            CHECK(p != NULL);
            if (!p) continue;
            CHECK(((uintptr_t)p & (aligns[i] - 1)) == 0);
            memset(p, 0xab, size); /* ASan checks the bytes are ours */
        }
        void *d = lk_arena_alloc(&a, 3, 0);
        CHECK(d && ((uintptr_t)d % alignof(max_align_t)) == 0);
    }
    CHECK(lk_arena_alloc(&a, 8, 3) == NULL); /* not a power of two */
    lk_arena_free(&a);
}

static void test_distinct_and_chained(void) {
    lk_arena a;
    lk_arena_init(&a, 128);
    int *v[1000];
    for (int i = 0; i < 1000; i++) {
        v[i] = lk_arena_alloc(&a, sizeof(int), alignof(int));
        *v[i] = i;
    }
    int bad = 0;
    for (int i = 0; i < 1000; i++) bad += *v[i] != i;
    CHECK_EQ_INT(bad, 0);
    CHECK(lk_arena_capacity(&a) >= 4000);
    void *z0 = lk_arena_alloc(&a, 0, 1), *z1 = lk_arena_alloc(&a, 0, 1);
    CHECK(z0 && z1);
    lk_arena_free(&a);
    CHECK_EQ_INT(lk_arena_capacity(&a), 0);
}

static void test_big_and_reset(void) {
    lk_arena a;
    lk_arena_init(&a, 1024);
    char *small = lk_arena_alloc(&a, 10, 1);
    CHECK(small);
    char *big = lk_arena_alloc(&a, 100000, 16); /* its own block */
    CHECK(big);
    if (big) memset(big, 1, 100000);
    /* The head still serves small requests right after the first one. */
    char *small2 = lk_arena_alloc(&a, 10, 1);
    CHECK(small2 == small + 10);
    CHECK(lk_arena_capacity(&a) >= 101024);

    lk_arena_reset(&a);
    CHECK_EQ_INT(lk_arena_capacity(&a), 1024); /* the regular head is kept */
    char *again = lk_arena_alloc(&a, 10, 1);
    CHECK(again == small); /* reused from the start */
    lk_arena_reset(&a);
    lk_arena_reset(&a);
    lk_arena_free(&a);
    lk_arena_reset(&a); /* on an empty arena: a no-op */
    CHECK(lk_arena_alloc(&a, 5, 1) != NULL); /* usable again after free */
    lk_arena_free(&a);
}

static void test_strings(void) {
    lk_arena a;
    lk_arena_init(&a, 0);
    CHECK_EQ_STR(lk_arena_strdup(&a, "你好, world"), "你好, world");
    CHECK_EQ_STR(lk_arena_strdup(&a, ""), "");
    CHECK_EQ_STR(lk_arena_strndup(&a, "abcdef", 3), "abc");
    CHECK_EQ_STR(lk_arena_strndup(&a, "ab", 10), "ab"); /* stops at the NUL */
    char *m = lk_arena_memdup(&a, "a\0b", 3);
    CHECK(m && m[0] == 'a' && m[1] == 0 && m[2] == 'b' && m[3] == 0);
    lk_arena_free(&a);
}

static void test_overflow(void) {
    lk_arena a;
    lk_arena_init(&a, 0);
    CHECK(lk_arena_alloc(&a, SIZE_MAX, 1) == NULL);
    CHECK(lk_arena_alloc(&a, SIZE_MAX - 8, 64) == NULL);
    CHECK(lk_arena_calloc(&a, SIZE_MAX / 2, 4, 4) == NULL);
    int *z = lk_arena_calloc(&a, 100, sizeof(int), alignof(int));
    int nonzero = 0;
    for (int i = 0; z && i < 100; i++) nonzero += z[i] != 0;
    CHECK(z && nonzero == 0);
    lk_arena_free(&a);
}

int main(void) {
    test_alignment();
    test_distinct_and_chained();
    test_big_and_reset();
    test_strings();
    test_overflow();
    return lk_test_finish("test_arena");
}
