/* Rank-ordered BPE on one pre-token (a "word").
 *
 * The word is split into characters, each looked up as a piece; the
 * adjacent pair with the lowest merge rank merges first (ties: leftmost),
 * exactly the loop of HF's BPE model and llama.cpp's llm_tokenizer_bpe.
 * For byte-level vocabularies the caller has already mapped the word's
 * bytes to GPT-2's alphabet, so every character is a piece.
 *
 * Characters that are not pieces: with HF semantics they become <0xNN>
 * byte tokens (byte_fallback) or <unk> (consecutive ones fused when
 * fuse_unk); with llama.cpp semantics they are emitted as any single-byte
 * pieces their bytes match, and dropped otherwise. */
#include <stdlib.h>

#include "tokenizer/heap.h"
#include "tokenizer/tokenizer.h"

static void bpe_try_pair(const lk_tokenizer *t, const lk_symbol *sym, int32_t l, int32_t r,
                         lk_bigram_heap *heap) {
    if (l < 0 || r < 0) return;
    int32_t result;
    int32_t rank = lk_tok_merge_rank(t, sym[l].id, sym[r].id, &result);
    if (rank < 0) return;
    lk_bigram b = {(double)rank, l, r, sym[l].len, sym[r].len};
    lk_heap_push(heap, b);
}

void lk_bpe_encode_word(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out) {
    if (n == 0) return;
    if (t->ignore_merges) {
        int32_t id = lk_tok_lookup(t, s, n);
        if (id >= 0) {
            lk_ids_push(out, id);
            return;
        }
    }
    /* A character may expand into up to 4 byte symbols. */
    lk_symbol *sym = malloc(n * sizeof *sym);
    if (!sym) {
        out->oom = true;
        return;
    }
    int32_t ns = 0;
    for (size_t off = 0; off < n;) {
        size_t k = lk_utf8_len((uint8_t)s[off]);
        if (k > n - off) k = n - off;
        int32_t id = lk_tok_lookup(t, s + off, k);
        if (id < 0 && t->hf_bpe) {
            bool bytes_ok = t->byte_fallback;
            int32_t bid[4];
            for (size_t j = 0; bytes_ok && j < k; j++) {
                bid[j] = lk_tok_byte_token(t, (uint8_t)s[off + j]);
                if (bid[j] < 0) bytes_ok = false;
            }
            if (bytes_ok) {
                for (size_t j = 0; j < k; j++) {
                    sym[ns] = (lk_symbol){(uint32_t)(off + j), 1, ns - 1, ns + 1, bid[j]};
                    ns++;
                }
                off += k;
                continue;
            }
            /* <unk>; fuse_unk joins it to an <unk> just before it. */
            if (t->fuse_unk && ns > 0 && sym[ns - 1].id == t->unk && t->unk >= 0) {
                sym[ns - 1].len += (uint32_t)k;
                off += k;
                continue;
            }
            id = t->unk;
        }
        sym[ns] = (lk_symbol){(uint32_t)off, (uint32_t)k, ns - 1, ns + 1, id};
        ns++;
        off += k;
    }
    sym[ns - 1].next = -1;

    lk_bigram_heap heap = {0};
    for (int32_t i = 1; i < ns; i++) bpe_try_pair(t, sym, i - 1, i, &heap);
    while (heap.n > 0) {
        lk_bigram b = lk_heap_pop(&heap);
        lk_symbol *L = &sym[b.left], *R = &sym[b.right];
        if (L->len == 0 || R->len == 0 || L->len != b.left_len || R->len != b.right_len) continue;
        int32_t result = -1;
        lk_tok_merge_rank(t, L->id, R->id, &result);
        L->len += R->len;
        L->id = result;
        R->len = 0;
        L->next = R->next;
        if (R->next >= 0) sym[R->next].prev = b.left;
        bpe_try_pair(t, sym, L->prev, b.left, &heap);
        bpe_try_pair(t, sym, b.left, L->next, &heap);
    }
    if (heap.oom) out->oom = true;
    for (int32_t i = 0; i != -1; i = sym[i].next) {
        if (sym[i].id >= 0) {
            lk_ids_push(out, sym[i].id);
        } else if (!t->hf_bpe) {
            for (uint32_t j = 0; j < sym[i].len; j++) {
                int32_t id = lk_tok_lookup(t, s + sym[i].start + j, 1);
                if (id >= 0) lk_ids_push(out, id);
            }
        }
    }
    free(heap.v);
    free(sym);
}
