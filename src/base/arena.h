/* Arena (bump) allocator: many small allocations that share one lifetime
 * (a parsed tokenizer's strings, a chat template's AST) are carved out of
 * large blocks and released all at once, with no per-object free.
 *
 *     lk_arena a;
 *     lk_arena_init(&a, 0);
 *     char *s = lk_arena_strdup(&a, "hello");
 *     ...
 *     lk_arena_free(&a);        // every allocation is gone
 *
 * Allocation returns NULL only when memory runs out or a size overflows. */
#ifndef LK_BASE_ARENA_H
#define LK_BASE_ARENA_H

#include <stddef.h>

typedef struct lk_arena_block lk_arena_block;

typedef struct {
    lk_arena_block *head; /* the block allocations come from; older ones follow */
    size_t block_size;    /* usable bytes of a regular block */
} lk_arena;

/* block_size 0 picks a default (64 KiB). Allocates nothing until first use. */
void lk_arena_init(lk_arena *a, size_t block_size);
/* Releases every block; the arena can be used again afterwards. */
void lk_arena_free(lk_arena *a);
/* Forgets every allocation but keeps one block for reuse. */
void lk_arena_reset(lk_arena *a);

/* align must be a power of two (0 means alignof(max_align_t)). size 0 gives a
 * valid, unique pointer. Memory is uninitialised, except for calloc. */
void *lk_arena_alloc(lk_arena *a, size_t size, size_t align);
void *lk_arena_calloc(lk_arena *a, size_t count, size_t size, size_t align);

/* NUL-terminated copies. strndup copies at most n bytes (stopping at a NUL);
 * memdup copies exactly n bytes and adds a NUL after them. */
char *lk_arena_strdup(lk_arena *a, const char *s);
char *lk_arena_strndup(lk_arena *a, const char *s, size_t n);
char *lk_arena_memdup(lk_arena *a, const void *p, size_t n);

/* Bytes of blocks held (for tests and statistics). */
size_t lk_arena_capacity(const lk_arena *a);

#endif
