/* SentencePiece-style BPE as llama.cpp's llm_tokenizer_spm does it.
 *
 * The input (spaces already replaced by U+2581, dummy prefix added by the
 * caller) is split into UTF-8 characters. Every adjacent pair whose
 * concatenation is a vocabulary piece is a candidate; the candidate with the
 * highest piece score merges first (ties: leftmost), and the new symbol's
 * neighbours become candidates. Symbols left that are not pieces (characters
 * outside the vocabulary) fall back to their <0xNN> byte tokens.
 *
 * A merged symbol is always a piece (a pair is only queued when its
 * concatenation is one), so llama.cpp's re-segmentation of non-piece symbols
 * reduces to the byte fallback here. */
#include <stdlib.h>

#include "tokenizer/heap.h"
#include "tokenizer/tokenizer.h"

static void spm_try_pair(const lk_tokenizer *t, const char *s, const lk_symbol *sym, int32_t l,
                         int32_t r, lk_bigram_heap *heap) {
    if (l < 0 || r < 0) return;
    int32_t id = lk_tok_lookup2(t, s + sym[l].start, sym[l].len, s + sym[r].start, sym[r].len);
    if (id < 0) return;
    lk_bigram b = {-(double)t->score[id], l, r, sym[l].len, sym[r].len};
    lk_heap_push(heap, b);
}

static void spm_emit_bytes(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out) {
    for (size_t i = 0; i < n; i++) {
        int32_t id = lk_tok_byte_token(t, (uint8_t)s[i]);
        lk_ids_push(out, id >= 0 ? id : t->unk);
    }
}

void lk_spm_encode(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out) {
    if (n == 0) return;
    lk_symbol *sym = malloc(n * sizeof *sym);
    if (!sym) {
        out->oom = true;
        return;
    }
    int32_t ns = 0;
    for (size_t off = 0; off < n;) {
        size_t k = lk_utf8_len((uint8_t)s[off]);
        if (k > n - off) k = n - off;
        sym[ns] = (lk_symbol){(uint32_t)off, (uint32_t)k, ns - 1, -1, -1};
        off += k;
        if (off < n) sym[ns].next = ns + 1;
        ns++;
    }
    lk_bigram_heap heap = {0};
    for (int32_t i = 1; i < ns; i++) spm_try_pair(t, s, sym, i - 1, i, &heap);
    while (heap.n > 0) {
        lk_bigram b = lk_heap_pop(&heap);
        lk_symbol *L = &sym[b.left], *R = &sym[b.right];
        if (L->len == 0 || R->len == 0 || L->len + R->len != b.left_len + b.right_len) continue;
        L->len += R->len;
        R->len = 0;
        L->next = R->next;
        if (R->next >= 0) sym[R->next].prev = b.left;
        spm_try_pair(t, s, sym, L->prev, b.left, &heap);
        spm_try_pair(t, s, sym, b.left, L->next, &heap);
    }
    if (heap.oom) out->oom = true;
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        int32_t id = lk_tok_lookup(t, s + sym[i].start, sym[i].len);
        if (id >= 0) lk_ids_push(out, id);
        else spm_emit_bytes(t, s + sym[i].start, sym[i].len, out);
    }
    free(heap.v);
    free(sym);
}
