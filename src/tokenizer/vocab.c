/* The vocabulary: pieces in one arena, a piece -> id hash, the merge table,
 * the added-token table, and the public accessors. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "tokenizer/tokenizer.h"

void lk_ids_push(lk_ids *a, int32_t id) {
    if (a->oom) return;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = id;
}

lk_tokenizer *lk_tok_new(lk_tokmodel model) {
    lk_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->model = model;
    t->bos = t->eos = t->unk = t->pad = t->sep = t->cls = t->mask = -1;
    t->wp_max_chars = 100;
    for (int b = 0; b < 256; b++) t->byte_cp[b] = (uint16_t)lk_byte_to_unicode((uint8_t)b);
    for (uint32_t cp = 0; cp < 0x144; cp++) t->cp_byte[cp] = (int16_t)lk_unicode_to_byte(cp);
    return t;
}

void lk_tokenizer_free(lk_tokenizer *t) {
    if (!t) return;
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->score);
    free(t->type);
    free(t->slots);
    free(t->merges);
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].norm_text);
    free(t->added);
    free(t->uscore);
    for (int i = 0; i < t->n_pretok; i++) lk_regex_free(t->pretok[i].re);
    free(t->pretok);
    lk_norm_steps_free(t);
    free(t);
}

int32_t lk_tok_add_piece(lk_tokenizer *t, const char *s, size_t n, float score, lk_token_type type) {
    if (n > UINT32_MAX / 2 || t->n_vocab == INT32_MAX) return -1;
    if (t->n_vocab == 0 || (t->n_vocab >= 256 && (t->n_vocab & (t->n_vocab - 1)) == 0)) {
        /* capacity: 256, then doubling at each power of two */
        size_t cap = t->n_vocab ? (size_t)t->n_vocab * 2 : 256;
        uint32_t *off = realloc(t->off, cap * sizeof *off);
        if (off) t->off = off;
        uint32_t *len = realloc(t->len, cap * sizeof *len);
        if (len) t->len = len;
        float *sc = realloc(t->score, cap * sizeof *sc);
        if (sc) t->score = sc;
        uint8_t *ty = realloc(t->type, cap);
        if (ty) t->type = ty;
        if (!off || !len || !sc || !ty) return -1;
    }
    if (t->text_len + n + 1 > t->text_cap) {
        size_t cap = t->text_cap ? t->text_cap : 4096;
        while (cap < t->text_len + n + 1) cap *= 2;
        if (cap > UINT32_MAX) return -1;
        char *nt = realloc(t->text, cap);
        if (!nt) return -1;
        t->text = nt;
        t->text_cap = cap;
    }
    int32_t id = t->n_vocab++;
    if (n) memcpy(t->text + t->text_len, s, n);
    t->text[t->text_len + n] = '\0';
    t->off[id] = (uint32_t)t->text_len;
    t->len[id] = (uint32_t)n;
    t->text_len += n + 1;
    t->score[id] = score;
    t->type[id] = (uint8_t)type;
    if (n > t->max_piece_len) t->max_piece_len = (uint32_t)n;
    return id;
}

/* FNV-1a over the concatenation a+b. */
static uint32_t hash2(const char *a, size_t na, const char *b, size_t nb) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < na; i++) h = (h ^ (uint8_t)a[i]) * 16777619u;
    for (size_t i = 0; i < nb; i++) h = (h ^ (uint8_t)b[i]) * 16777619u;
    return h;
}

lk_status lk_tok_build_index(lk_tokenizer *t, lk_error *err) {
    size_t cap = 16;
    while (cap < (size_t)t->n_vocab * 2) cap *= 2;
    free(t->slots);
    t->slots = malloc(cap * sizeof *t->slots);
    if (!t->slots) return lk_error_set(err, LK_ERR_NOMEM, "tokenizer: out of memory");
    memset(t->slots, 0xff, cap * sizeof *t->slots);
    t->slot_mask = (uint32_t)(cap - 1);
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *p = t->text + t->off[id];
        uint32_t h = hash2(p, t->len[id], "", 0) & t->slot_mask;
        bool dup = false;
        while (t->slots[h] >= 0) {
            int32_t o = t->slots[h];
            if (t->len[o] == t->len[id] && memcmp(t->text + t->off[o], p, t->len[id]) == 0) {
                dup = true; /* the first id wins, as in llama.cpp and HF */
                break;
            }
            h = (h + 1) & t->slot_mask;
        }
        if (!dup) t->slots[h] = id;
    }
    return LK_OK;
}

int32_t lk_tok_lookup2(const lk_tokenizer *t, const char *a, size_t na, const char *b, size_t nb) {
    if (!t->slots) return -1;
    uint32_t h = hash2(a, na, b, nb) & t->slot_mask;
    for (;;) {
        int32_t id = t->slots[h];
        if (id < 0) return -1;
        if (t->len[id] == na + nb) {
            const char *p = t->text + t->off[id];
            if (memcmp(p, a, na) == 0 && memcmp(p + na, b, nb) == 0) return id;
        }
        h = (h + 1) & t->slot_mask;
    }
}

int32_t lk_tok_lookup(const lk_tokenizer *t, const char *s, size_t n) {
    return lk_tok_lookup2(t, s, n, "", 0);
}

static uint32_t hash64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return (uint32_t)k;
}

static bool merge_insert(struct lk_merge *tab, uint32_t mask, uint64_t key, int32_t rank,
                         int32_t result) {
    uint32_t h = hash64(key) & mask;
    while (tab[h].key != UINT64_MAX) {
        if (tab[h].key == key) return false; /* the first (lowest) rank wins */
        h = (h + 1) & mask;
    }
    tab[h].key = key;
    tab[h].rank = rank;
    tab[h].result = result;
    return true;
}

lk_status lk_tok_add_merge(lk_tokenizer *t, int32_t left, int32_t right, int32_t rank,
                           int32_t result, lk_error *err) {
    if ((size_t)(t->n_merges + 1) * 2 > (size_t)t->merge_mask + 1 || !t->merges) {
        size_t cap = t->merges ? ((size_t)t->merge_mask + 1) * 2 : 1024;
        struct lk_merge *tab = malloc(cap * sizeof *tab);
        if (!tab) return lk_error_set(err, LK_ERR_NOMEM, "tokenizer: out of memory (merges)");
        for (size_t i = 0; i < cap; i++) tab[i].key = UINT64_MAX;
        if (t->merges)
            for (size_t i = 0; i <= t->merge_mask; i++)
                if (t->merges[i].key != UINT64_MAX)
                    merge_insert(tab, (uint32_t)(cap - 1), t->merges[i].key, t->merges[i].rank,
                                 t->merges[i].result);
        free(t->merges);
        t->merges = tab;
        t->merge_mask = (uint32_t)(cap - 1);
    }
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    if (merge_insert(t->merges, t->merge_mask, key, rank, result)) t->n_merges++;
    return LK_OK;
}

int32_t lk_tok_merge_rank(const lk_tokenizer *t, int32_t left, int32_t right, int32_t *result) {
    if (!t->merges || left < 0 || right < 0) return -1;
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    uint32_t h = hash64(key) & t->merge_mask;
    while (t->merges[h].key != UINT64_MAX) {
        if (t->merges[h].key == key) {
            *result = t->merges[h].result;
            return t->merges[h].rank;
        }
        h = (h + 1) & t->merge_mask;
    }
    return -1;
}

lk_status lk_tok_add_special(lk_tokenizer *t, int32_t id, bool special, bool lstrip, bool rstrip,
                             bool single_word, lk_error *err) {
    if (id < 0 || id >= t->n_vocab || t->len[id] == 0) return LK_OK;
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].id == id) return LK_OK;
    lk_added_token *a = t->added;
    if (t->n_added == 0 || (t->n_added >= 8 && (t->n_added & (t->n_added - 1)) == 0)) {
        size_t cap = t->n_added < 8 ? 8 : t->n_added * 2; /* capacity: 8, then doubling */
        a = realloc(t->added, cap * sizeof *a);
        if (!a) return lk_error_set(err, LK_ERR_NOMEM, "tokenizer: out of memory");
        t->added = a;
    }
    lk_added_token at = {id, t->text + t->off[id], t->len[id], special, lstrip, rstrip, single_word,
                         false, NULL, 0};
    /* Keep longest first so that the first match at a position is the longest. */
    size_t pos = t->n_added;
    while (pos > 0 && a[pos - 1].len < at.len) {
        a[pos] = a[pos - 1];
        pos--;
    }
    a[pos] = at;
    t->n_added++;
    return LK_OK;
}

lk_status lk_tok_normalize_added(lk_tokenizer *t, const bool *flag, lk_error *err) {
    if (t->n_norm == 0) return LK_OK;
    for (size_t i = 0; i < t->n_added; i++) {
        lk_added_token *a = &t->added[i];
        if (!flag[a->id]) continue;
        size_t n;
        char *s = lk_normalize(t, a->text, a->len, &n);
        if (!s) return lk_error_set(err, LK_ERR_NOMEM, "tokenizer: out of memory");
        if (n == 0 || n > UINT32_MAX) {
            free(s);
            continue; /* normalizes to nothing: cannot be matched */
        }
        a->normalized = true;
        a->norm_text = s;
        a->norm_len = (uint32_t)n;
    }
    return LK_OK;
}

lk_status lk_tok_add_specials_from_types(lk_tokenizer *t, lk_error *err) {
    for (int32_t id = 0; id < t->n_vocab; id++) {
        lk_token_type ty = (lk_token_type)t->type[id];
        if (ty == LK_TOKEN_CONTROL || ty == LK_TOKEN_USER_DEFINED || ty == LK_TOKEN_UNKNOWN) {
            lk_status st = lk_tok_add_special(t, id, ty != LK_TOKEN_USER_DEFINED, false, false,
                                              false, err);
            if (st != LK_OK) return st;
        }
    }
    return LK_OK;
}

void lk_tok_check_split(lk_tokenizer *t, const char *marker) {
    size_t ml = strlen(marker);
    memcpy(t->split_marker, marker, ml + 1);
    t->split_safe = false;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *p = t->text + t->off[id];
        size_t n = t->len[id];
        /* a marker that follows something other than a marker */
        for (size_t i = ml; i + ml <= n; i++)
            if (memcmp(p + i, marker, ml) == 0 && memcmp(p + i - ml, marker, ml) != 0) return;
    }
    t->split_safe = true;
}

int32_t lk_tok_byte_token(const lk_tokenizer *t, uint8_t byte) {
    static const char hex[] = "0123456789ABCDEF";
    char buf[6] = {'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>'};
    int32_t id = lk_tok_lookup(t, buf, 6);
    if (id >= 0) return id;
    /* Some vocabularies hold the raw byte instead. */
    char raw = (char)byte;
    return lk_tok_lookup(t, &raw, 1);
}

/* ---------------------------------------------------------------- public accessors */

int32_t lk_tokenizer_n_vocab(const lk_tokenizer *t) { return t->n_vocab; }

const char *lk_tokenizer_kind(const lk_tokenizer *t) {
    switch (t->model) {
    case LK_TOKMODEL_SPM: return "spm";
    case LK_TOKMODEL_BPE: return "bpe";
    case LK_TOKMODEL_WPM: return "wordpiece";
    case LK_TOKMODEL_UGM: return "unigram";
    }
    return "?";
}

const char *lk_tokenizer_piece(const lk_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->len[id];
    return t->text + t->off[id];
}

int32_t lk_tokenizer_find(const lk_tokenizer *t, const char *piece, size_t len) {
    return lk_tok_lookup(t, piece, len);
}

lk_token_type lk_tokenizer_token_type(const lk_tokenizer *t, int32_t id) {
    if (id < 0 || id >= t->n_vocab) return LK_TOKEN_UNUSED;
    return (lk_token_type)t->type[id];
}

int32_t lk_tokenizer_bos(const lk_tokenizer *t) { return t->bos; }
int32_t lk_tokenizer_eos(const lk_tokenizer *t) { return t->eos; }
int32_t lk_tokenizer_unk(const lk_tokenizer *t) { return t->unk; }
int32_t lk_tokenizer_pad(const lk_tokenizer *t) { return t->pad; }

bool lk_tokenizer_is_special(const lk_tokenizer *t, int32_t id) {
    if (id < 0 || id >= t->n_vocab) return false;
    return t->type[id] == LK_TOKEN_CONTROL;
}
