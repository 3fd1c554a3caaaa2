/* Unigram (T5, ALBERT, XLNet): the segmentation of highest total piece
 * score, found by Viterbi over byte positions, as HF's Unigram model does
 * it (encode_optimized): pieces ending at each position are tried
 * shortest first and replace the best path only when strictly better; a
 * character no piece starts with costs min_score - 10 as <unk>; runs of
 * <unk> are fused into one. Scores are doubles, as in HF, so ties break
 * the same way. */
#include <float.h>
#include <stdlib.h>

#include "tokenizer/tokenizer.h"

typedef struct {
    double score;
    int32_t id;
    int32_t start; /* -1: no path reaches this position yet */
} best_node;

void lk_ugm_encode(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out) {
    if (n == 0) return;
    best_node *best = malloc((n + 1) * sizeof *best);
    int32_t *rev = malloc((n + 1) * sizeof *rev);
    if (!best || !rev) {
        free(best);
        free(rev);
        out->oom = true;
        return;
    }
    for (size_t i = 0; i <= n; i++) best[i] = (best_node){0.0, t->unk, -1};
    best[0].start = 0;
    double unk_score = t->ugm_min_score - 10.0;
    for (size_t at = 0; at < n;) {
        size_t mblen = lk_utf8_len((uint8_t)s[at]);
        if (mblen > n - at) mblen = n - at;
        if (best[at].start < 0) { /* unreachable (cannot happen: every char gets a node) */
            at += mblen;
            continue;
        }
        double here = best[at].score;
        bool single = false;
        size_t maxlen = t->max_piece_len;
        for (size_t len = 1; len <= maxlen && at + len <= n; len++) {
            int32_t id = lk_tok_lookup(t, s + at, len);
            if (id < 0) continue;
            double cand = here + t->uscore[id];
            best_node *target = &best[at + len];
            if (target->start < 0 || cand > target->score) *target = (best_node){cand, id, (int32_t)at};
            if (len == mblen) single = true;
        }
        if (!single) {
            double cand = here + unk_score;
            best_node *target = &best[at + mblen];
            if (target->start < 0 || cand > target->score) *target = (best_node){cand, t->unk, (int32_t)at};
        }
        at += mblen;
    }
    /* Backtrack from the end; fuse consecutive <unk>. */
    size_t nr = 0;
    bool prev_unk = false;
    for (size_t end = n; end > 0;) {
        best_node *b = &best[end];
        bool is_unk = b->id == t->unk;
        if (!(is_unk && prev_unk)) rev[nr++] = b->id;
        prev_unk = is_unk;
        if (b->start < 0 || (size_t)b->start >= end) break;
        end = (size_t)b->start;
    }
    while (nr > 0) lk_ids_push(out, rev[--nr]);
    free(best);
    free(rev);
}
