/* Encoding: split the text at added/special tokens, run the model on each
 * plain segment, and add what the model's configuration puts around it.
 *
 * Added tokens are matched leftmost-longest on the raw text (HF's
 * added-token matcher; llama.cpp's tokenizer_st_partition gives the same
 * result on every vocabulary we test). Control tokens ("special") are only
 * matched when the caller asks (parse_special), so user text that spells
 * "<|im_start|>" cannot forge one. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_word_byte(uint8_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_' || c >= 0x80;
}

/* Runs encode on each word of s: a word starts at a space marker that
 * follows a non-marker. Only used when split_safe says no piece spans such
 * a start, so the ids are those of encoding s whole. */
static void encode_words(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out,
                         void (*encode)(const lk_tokenizer *, const char *, size_t, lk_ids *)) {
    if (!t->split_safe) {
        encode(t, s, n, out);
        return;
    }
    const char *m = t->split_marker;
    size_t ml = strlen(m), start = 0;
    for (size_t i = ml; i + ml <= n; i++) {
        if (memcmp(s + i, m, ml) == 0 && memcmp(s + i - ml, m, ml) != 0) {
            encode(t, s + start, i - start, out);
            start = i;
        }
    }
    encode(t, s + start, n - start, out);
}

/* The SPM text of one segment: spaces as U+2581, the dummy prefix first. */
static void encode_spm_segment(const lk_tokenizer *t, const char *s, size_t n, bool prefix,
                               lk_ids *out) {
    if (t->spm_raw_spaces) { /* llama2.c: the pieces hold real spaces */
        char *buf = malloc(n + 2);
        if (!buf) {
            out->oom = true;
            return;
        }
        size_t k = 0;
        if (prefix) buf[k++] = ' ';
        memcpy(buf + k, s, n);
        encode_words(t, buf, k + n, out, lk_spm_encode);
        free(buf);
        return;
    }
    size_t spaces = prefix ? 1 : 0;
    for (size_t i = 0; i < n; i++) spaces += s[i] == ' ';
    char *buf = malloc(n + 2 * spaces + 1);
    if (!buf) {
        out->oom = true;
        return;
    }
    size_t k = 0;
    if (prefix) memcpy(buf + k, "\xe2\x96\x81", 3), k += 3;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') memcpy(buf + k, "\xe2\x96\x81", 3), k += 3;
        else buf[k++] = s[i];
    }
    encode_words(t, buf, k, out, lk_spm_encode);
    free(buf);
}

static void encode_pipeline_segment(const lk_tokenizer *t, const char *s, size_t n, bool first,
                                    bool normalized, lk_ids *out) {
    char *norm = NULL;
    if (t->n_norm > 0 && !normalized) {
        norm = lk_normalize(t, s, n, &n);
        if (!norm) {
            out->oom = true;
            return;
        }
        s = norm;
    }
    lk_pieces pieces = {0};
    lk_pretokenize(t, s, n, first, &pieces);
    if (pieces.oom) out->oom = true;
    for (size_t i = 0; i < pieces.n; i++) {
        const char *p = pieces.buf + pieces.start[i];
        if (t->model == LK_TOKMODEL_WPM) lk_wpm_encode(t, p, pieces.len[i], out);
        else if (t->model == LK_TOKMODEL_UGM) lk_ugm_encode(t, p, pieces.len[i], out);
        else if (t->n_pretok == 0) encode_words(t, p, pieces.len[i], out, lk_bpe_encode_word);
        else lk_bpe_encode_word(t, p, pieces.len[i], out);
    }
    lk_pieces_free(&pieces);
    free(norm);
}

/* HF: added tokens marked "normalized" are found in the normalized text
 * by their normalized form; the text between them is not normalized again. */
static void encode_normalized_segment(const lk_tokenizer *t, const char *s, size_t n, bool first,
                                      bool parse_special, lk_ids *out) {
    size_t nn;
    char *norm = lk_normalize(t, s, n, &nn);
    if (!norm) {
        out->oom = true;
        return;
    }
    size_t seg = 0;
    for (size_t i = 0; i < nn;) {
        const lk_added_token *best = NULL;
        for (size_t k = 0; k < t->n_added; k++) {
            const lk_added_token *a = &t->added[k];
            if (!a->normalized || (a->special && !parse_special)) continue;
            if (a->norm_len <= nn - i && memcmp(norm + i, a->norm_text, a->norm_len) == 0 &&
                (!best || a->norm_len > best->norm_len))
                best = a;
        }
        if (!best) {
            i++;
            continue;
        }
        encode_pipeline_segment(t, norm + seg, i - seg, first && seg == 0, true, out);
        lk_ids_push(out, best->id);
        i += best->norm_len;
        seg = i;
    }
    encode_pipeline_segment(t, norm + seg, nn - seg, first && seg == 0, true, out);
    free(norm);
}

static bool has_normalized_added(const lk_tokenizer *t) {
    for (size_t k = 0; k < t->n_added; k++)
        if (t->added[k].normalized) return true;
    return false;
}

static void encode_segment(const lk_tokenizer *t, const char *s, size_t n, bool first,
                           bool prev_special, bool parse_special, lk_ids *out) {
    if (n == 0) return;
    if (t->model == LK_TOKMODEL_SPM) encode_spm_segment(t, s, n, t->add_space_prefix && prev_special, out);
    else if (t->model == LK_TOKMODEL_WPM && t->wp_gguf) lk_wpm_encode(t, s, n, out);
    else if (t->n_norm > 0 && has_normalized_added(t)) encode_normalized_segment(t, s, n, first, parse_special, out);
    else encode_pipeline_segment(t, s, n, first, false, out);
}

/* The added token that starts at s[i], or NULL. */
static const lk_added_token *match_added(const lk_tokenizer *t, const char *s, size_t n, size_t i,
                                         bool parse_special, const bool *first_byte) {
    if (!first_byte[(uint8_t)s[i]]) return NULL;
    for (size_t k = 0; k < t->n_added; k++) {
        const lk_added_token *a = &t->added[k];
        if ((a->special && !parse_special) || a->normalized) continue;
        if (a->len > n - i || memcmp(s + i, a->text, a->len) != 0) continue;
        if (a->single_word && ((i > 0 && is_word_byte((uint8_t)s[i - 1])) ||
                               (i + a->len < n && is_word_byte((uint8_t)s[i + a->len]))))
            continue;
        return a;
    }
    return NULL;
}

lk_status lk_tokenizer_encode(const lk_tokenizer *t, const char *text, size_t len,
                              bool add_special, bool parse_special, int32_t **ids, size_t *n_ids,
                              lk_error *err) {
    *ids = NULL;
    *n_ids = 0;
    if (!text && len) return lk_error_set(err, LK_ERR_ARG, "tokenize: text is NULL");
    lk_ids out = {0};
    if (add_special)
        for (int i = 0; i < t->n_prefix; i++) lk_ids_push(&out, t->prefix[i]);

    bool first_byte[256] = {false};
    for (size_t k = 0; k < t->n_added; k++)
        if (!t->added[k].normalized) first_byte[(uint8_t)t->added[k].text[0]] = true;

    size_t seg = 0; /* start of the pending plain segment */
    bool prev_special = true;
    for (size_t i = 0; i < len;) {
        const lk_added_token *a = match_added(t, text, len, i, parse_special, first_byte);
        if (!a) {
            i++;
            continue;
        }
        size_t seg_end = i;
        if (a->lstrip)
            while (seg_end > seg && is_space(text[seg_end - 1])) seg_end--;
        encode_segment(t, text + seg, seg_end - seg, seg == 0, prev_special, parse_special, &out);
        if (seg_end > seg) prev_special = false;
        lk_ids_push(&out, a->id);
        prev_special = true;
        i += a->len;
        if (a->rstrip)
            while (i < len && is_space(text[i])) i++;
        seg = i;
    }
    encode_segment(t, text + seg, len - seg, seg == 0, prev_special, parse_special, &out);

    if (add_special)
        for (int i = 0; i < t->n_suffix; i++) lk_ids_push(&out, t->suffix[i]);
    if (out.oom) {
        free(out.v);
        return lk_error_set(err, LK_ERR_NOMEM, "tokenize: out of memory");
    }
    if (!out.v) {
        out.v = malloc(sizeof *out.v); /* a valid pointer even for no ids */
        if (!out.v) return lk_error_set(err, LK_ERR_NOMEM, "tokenize: out of memory");
    }
    *ids = out.v;
    *n_ids = out.n;
    return LK_OK;
}
