/* Arena allocator.
 *
 * Design note. Blocks form a singly linked list, newest first. Small
 * allocations bump `used` in the head block; when it is full a new regular
 * block becomes the head (the tail of the old one is wasted, at most the
 * largest allocation's size). An allocation bigger than a quarter of a block
 * gets a block of its own, linked *behind* the head so the head keeps serving
 * small requests. Reset keeps only the head, which is always a regular-sized
 * (or larger) block, so a reused arena does not call malloc again for the
 * common case. */
#include "base/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct lk_arena_block {
    lk_arena_block *next;
    size_t size; /* usable bytes in data[] */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

enum { LK_ARENA_DEFAULT_BLOCK = 64 * 1024 };

void lk_arena_init(lk_arena *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size ? block_size : LK_ARENA_DEFAULT_BLOCK;
}

void lk_arena_free(lk_arena *a) {
    lk_arena_block *b = a->head;
    while (b) {
        lk_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

void lk_arena_reset(lk_arena *a) {
    if (!a->head) return;
    lk_arena_block *keep = a->head, *b = keep->next;
    while (b) {
        lk_arena_block *next = b->next;
        free(b);
        b = next;
    }
    keep->next = NULL;
    keep->used = 0;
}

static lk_arena_block *new_block(size_t size) {
    if (size > SIZE_MAX - sizeof(lk_arena_block)) return NULL;
    lk_arena_block *b = malloc(sizeof(lk_arena_block) + size);
    if (!b) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

/* Offset at which an allocation of `size` aligned to `align` fits in b, or
 * SIZE_MAX when it does not. The block's data[] is aligned to max_align_t;
 * larger alignments are handled on the address itself. */
static size_t fit(const lk_arena_block *b, size_t size, size_t align) {
    uintptr_t base = (uintptr_t)b->data;
    uintptr_t at = base + b->used;
    uintptr_t pad = (align - (at & (align - 1))) & (align - 1);
    size_t off = b->used + pad;
    if (off < b->used || off > b->size || size > b->size - off) return SIZE_MAX;
    return off;
}

void *lk_arena_alloc(lk_arena *a, size_t size, size_t align) {
    if (align == 0) align = alignof(max_align_t);
    if (align & (align - 1)) return NULL; /* not a power of two */
    if (a->head) {
        size_t off = fit(a->head, size, align);
        if (off != SIZE_MAX) {
            a->head->used = off + size;
            return a->head->data + off;
        }
    }
    /* Room for the worst-case padding, since malloc only promises max_align_t. */
    size_t extra = align > alignof(max_align_t) ? align - 1 : 0;
    if (size > SIZE_MAX - extra) return NULL;
    size_t need = size + extra;
    bool own_block = need > a->block_size / 4;
    lk_arena_block *b = new_block(own_block ? need : a->block_size);
    if (!b) return NULL;
    if (own_block && a->head) {
        b->next = a->head->next; /* behind the head: the head keeps its free room */
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    size_t off = fit(b, size, align);
    b->used = off + size;
    return b->data + off;
}

void *lk_arena_calloc(lk_arena *a, size_t count, size_t size, size_t align) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = lk_arena_alloc(a, count * size, align);
    if (p) memset(p, 0, count * size);
    return p;
}

char *lk_arena_memdup(lk_arena *a, const void *p, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *s = lk_arena_alloc(a, n + 1, 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *lk_arena_strdup(lk_arena *a, const char *s) { return lk_arena_memdup(a, s, strlen(s)); }

char *lk_arena_strndup(lk_arena *a, const char *s, size_t n) {
    return lk_arena_memdup(a, s, strnlen(s, n));
}

size_t lk_arena_capacity(const lk_arena *a) {
    size_t total = 0;
    for (const lk_arena_block *b = a->head; b; b = b->next) total += b->size;
    return total;
}
