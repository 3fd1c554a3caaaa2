/* A binary min-heap of candidate merges (bigrams), shared by the SPM and
 * BPE encoders. The best candidate has the smallest key; ties go to the
 * leftmost pair, which is the order llama.cpp and HF both use. */
#ifndef LK_TOKENIZER_HEAP_H
#define LK_TOKENIZER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    double key;     /* SPM: -score; BPE: rank */
    int32_t left, right;
    uint32_t left_len, right_len; /* symbol lengths when queued (stale check) */
} lk_bigram;

typedef struct {
    lk_bigram *v;
    size_t n, cap;
    bool oom;
} lk_bigram_heap;

static inline bool lk_bigram_less(const lk_bigram *a, const lk_bigram *b) {
    return a->key < b->key || (a->key == b->key && a->left < b->left);
}

static inline void lk_heap_push(lk_bigram_heap *h, lk_bigram b) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        lk_bigram *v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            h->oom = true;
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!lk_bigram_less(&b, &h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = b;
}

static inline lk_bigram lk_heap_pop(lk_bigram_heap *h) {
    lk_bigram top = h->v[0];
    lk_bigram last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && lk_bigram_less(&h->v[c + 1], &h->v[c])) c++;
        if (!lk_bigram_less(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* One symbol of the word being merged: a span of the input, linked to its
 * neighbours; len 0 once merged into its left neighbour. */
typedef struct {
    uint32_t start, len;
    int32_t prev, next;
    int32_t id; /* token id (BPE with HF semantics), -1 when none */
} lk_symbol;

#endif
