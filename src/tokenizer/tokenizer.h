/* The tokenizer object shared by every tokenizer kind and source.
 *
 * One struct holds the vocabulary (pieces, scores, types, a piece->id hash),
 * the BPE merge table, the added/special tokens, and the small pipeline that
 * Hugging Face tokenizers describe (normalizer, pre-tokenizer, decoder),
 * reduced to the steps llmkit supports. Loaders (load_*.c) fill it; the
 * models (spm.c, bpe.c, wordpiece.c) encode one plain-text segment; encode.c
 * splits out added tokens and adds BOS/EOS; decode.c goes back.
 *
 * The public API (lk_tokenizer_* in llmkit.h) is the promise; this header is
 * for the files of src/tokenizer/ only.
 */
#ifndef LK_TOKENIZER_TOKENIZER_H
#define LK_TOKENIZER_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/utf8.h"
#include "llmkit.h"

typedef enum {
    LK_TOKMODEL_SPM = 0, /* llama.cpp / sentencepiece BPE: merges ordered by piece score */
    LK_TOKMODEL_BPE,     /* merges ordered by rank (GPT-2 style, or HF's SPM-as-BPE) */
    LK_TOKMODEL_WPM,     /* WordPiece, greedy longest match */
    LK_TOKMODEL_UGM      /* Unigram (Viterbi) */
} lk_tokmodel;

/* A growable array of token ids (the encoder's output). */
typedef struct {
    int32_t *v;
    size_t n, cap;
    bool oom; /* set once an append failed; checked at the end */
} lk_ids;

void lk_ids_push(lk_ids *a, int32_t id);

/* A token matched whole before the model runs (HF added_tokens; GGUF
 * control and user-defined tokens). */
typedef struct {
    int32_t id;
    const char *text; /* points into the vocabulary arena */
    uint32_t len;
    bool special;     /* needs parse_special to be matched in user text */
    bool lstrip, rstrip;
    bool single_word;
    /* HF "normalized": matched in the normalized text, by its own
     * normalized form (Llama-2's "<s>" is looked for as "\u2581<s>"). */
    bool normalized;
    char *norm_text;  /* owned; NULL when matched raw */
    uint32_t norm_len;
} lk_added_token;

/* ---- pre-tokenizer: a list of split steps applied in order */

typedef enum {
    LK_SPLIT_ISOLATED = 0,  /* delimiters become pieces of their own */
    LK_SPLIT_REMOVED,       /* delimiters are dropped */
    LK_SPLIT_MERGED_PREV,   /* delimiter joins the piece before it */
    LK_SPLIT_MERGED_NEXT,   /* delimiter joins the piece after it */
    LK_SPLIT_CONTIGUOUS     /* runs of delimiters become one piece */
} lk_split_behavior;

typedef enum {
    LK_PRE_REGEX = 0, /* split on a regex (PCRE2, UTF + UCP) */
    LK_PRE_BYTELEVEL, /* map every byte to GPT-2's printable alphabet */
    LK_PRE_METASPACE  /* ' ' -> U+2581, optional prefix, optional split */
} lk_pretok_kind;

typedef struct {
    lk_pretok_kind kind;
    void *re;        /* pcre2_code_8 * */
    lk_split_behavior behavior;
    bool invert;     /* the text between matches is the delimiter */
    bool add_prefix_space; /* ByteLevel */
    int prepend;     /* Metaspace: 0 never, 1 first segment, 2 always */
    bool split;      /* Metaspace: split at each U+2581 */
} lk_pretok_step;

/* ---- normalizer: applied to each plain-text segment before pre-tokenizing */

typedef enum {
    LK_NORM_NFC = 0,
    LK_NORM_NFD,
    LK_NORM_NFKC,
    LK_NORM_NFKD,
    LK_NORM_LOWER,
    LK_NORM_STRIP_ACCENTS,
    LK_NORM_STRIP,       /* left/right whitespace */
    LK_NORM_REPLACE,     /* literal string or regex -> content */
    LK_NORM_PREPEND,
    LK_NORM_BERT_CLEAN,  /* drop controls, map whitespace to ' ' */
    LK_NORM_BERT_CHINESE, /* put spaces around CJK ideographs */
    LK_NORM_PRECOMPILED   /* SentencePiece's compiled normalization rules (T5) */
} lk_norm_kind_t;

typedef struct {
    lk_norm_kind_t kind;
    char *pattern;  /* REPLACE literal (NULL when re is set) */
    size_t pattern_len;
    void *re;       /* REPLACE regex */
    char *content;  /* REPLACE / PREPEND */
    size_t content_len;
    bool left, right; /* STRIP */
    /* PRECOMPILED: the decoded charsmap (content) split into its parts */
    const uint32_t *trie; /* double-array units (n_trie) */
    size_t n_trie;
    const char *repl;     /* NUL-separated replacement strings (n_repl bytes) */
    size_t n_repl;
} lk_norm_step;

/* ---- decoder flags (what decode undoes) */
enum {
    LK_DEC_BYTELEVEL = 1 << 0,    /* pieces are in GPT-2's byte alphabet */
    LK_DEC_SPACE_MARKER = 1 << 1, /* U+2581 -> ' ' */
    LK_DEC_BYTE_FALLBACK = 1 << 2,/* <0xNN> -> the byte */
    LK_DEC_STRIP_ONE = 1 << 3,    /* drop one leading space (the dummy prefix) */
    LK_DEC_WORDPIECE = 1 << 4,    /* "##x" joins; other pieces get a space */
    LK_DEC_CLEANUP = 1 << 5       /* " ." -> "." etc. (HF clean_up_tokenization_spaces) */
};

struct lk_tokenizer {
    lk_tokmodel model;

    /* Vocabulary: piece i is text + off[i], len[i] bytes (NUL after it). */
    int32_t n_vocab;
    char *text;
    size_t text_len, text_cap;
    uint32_t *off;   /* (n_vocab) */
    uint32_t *len;   /* (n_vocab) */
    float *score;    /* (n_vocab) */
    uint8_t *type;   /* (n_vocab) lk_token_type */
    uint32_t max_piece_len;

    /* piece -> id: open addressing, -1 empty; capacity slot_mask + 1. */
    int32_t *slots;
    uint32_t slot_mask;

    /* BPE merges: (left id, right id) -> rank and result id. */
    struct lk_merge *merges;
    uint32_t merge_mask;
    int32_t n_merges;

    lk_added_token *added; /* sorted longest first */
    size_t n_added;

    int32_t bos, eos, unk, pad, sep, cls, mask;
    /* What add_special adds around the text. */
    int32_t prefix[4], suffix[4];
    int n_prefix, n_suffix;

    /* SPM */
    bool add_space_prefix; /* the dummy prefix: " " before the first segment */
    bool spm_raw_spaces;   /* llama2.c files store U+2581 as a plain space */
    /* When no piece holds the space marker after another character, no
     * merge can cross the start of a word, so long texts are encoded one
     * word at a time (same ids, and the merge queue stays small). */
    char split_marker[4];
    bool split_safe;
    /* BPE */
    bool byte_fallback;    /* unknown chars -> <0xNN> tokens */
    bool fuse_unk;
    bool ignore_merges;    /* a pre-token that is a whole token skips merging */
    bool hf_bpe;           /* HF semantics: chars missing from vocab -> unk/bytes, id merges */
    /* WordPiece */
    char wp_prefix[8];     /* "##" (HF) or "" with U+2581 word starts (GGUF) */
    bool wp_gguf;          /* llama.cpp's WordPiece (vocab with U+2581 word starts) */
    int wp_max_chars;      /* words longer than this (in chars) become [UNK] */
    bool wp_lower, wp_strip_accents;
    /* Unigram: scores in double precision, as HF keeps them */
    double *uscore;   /* (n_vocab) */
    double ugm_min_score;

    lk_norm_step *norm;
    int n_norm;
    lk_pretok_step *pretok;
    int n_pretok;
    unsigned dec; /* LK_DEC_* */

    uint16_t byte_cp[256];   /* GPT-2 alphabet: byte -> code point */
    int16_t cp_byte[0x144];  /* and back; -1 outside the alphabet */
};

struct lk_merge {
    uint64_t key; /* left << 32 | right; UINT64_MAX empty */
    int32_t rank;
    int32_t result;
};

/* ---- vocab.c */
lk_tokenizer *lk_tok_new(lk_tokmodel model);
/* Appends a piece (any bytes). Returns its id, or -1 when out of memory. */
int32_t lk_tok_add_piece(lk_tokenizer *t, const char *s, size_t n, float score, lk_token_type type);
/* Builds the piece hash (call once, after the last add_piece). */
lk_status lk_tok_build_index(lk_tokenizer *t, lk_error *err);
int32_t lk_tok_lookup(const lk_tokenizer *t, const char *s, size_t n);
/* Looks up a+b without joining them first. */
int32_t lk_tok_lookup2(const lk_tokenizer *t, const char *a, size_t na, const char *b, size_t nb);
lk_status lk_tok_add_merge(lk_tokenizer *t, int32_t left, int32_t right, int32_t rank,
                           int32_t result, lk_error *err);
/* rank, or -1; *result gets the merged id. */
int32_t lk_tok_merge_rank(const lk_tokenizer *t, int32_t left, int32_t right, int32_t *result);
/* Adds id to the added-token table (kept sorted longest first). */
lk_status lk_tok_add_special(lk_tokenizer *t, int32_t id, bool special, bool lstrip, bool rstrip,
                             bool single_word, lk_error *err);
/* After the normalizer is known: the normalized forms of added tokens
 * marked normalized (HF). */
lk_status lk_tok_normalize_added(lk_tokenizer *t, const bool *normalized_ids_flag, lk_error *err);
/* Registers every CONTROL / USER_DEFINED / UNKNOWN piece as an added token, as
 * llama.cpp does for GGUF and llama2.c vocabularies. */
lk_status lk_tok_add_specials_from_types(lk_tokenizer *t, lk_error *err);
/* Sets split_marker/split_safe for a space marker (" " or U+2581). */
void lk_tok_check_split(lk_tokenizer *t, const char *marker);
/* The <0xNN> token for a byte, or -1. */
int32_t lk_tok_byte_token(const lk_tokenizer *t, uint8_t byte);

/* ---- load_gguf.c: a GGUF file's tokenizer.ggml.* keys */
lk_status lk_tokenizer_from_gguf_file(const char *path, lk_tokenizer **out, lk_error *err);
/* From an open GGUF (name is used in messages). */
struct lk_gguf;
lk_status lk_tokenizer_from_gguf(const struct lk_gguf *g, const char *name, lk_tokenizer **out,
                                 lk_error *err);

/* ---- load_hf.c: pre-tokenizer.json HF files */
/* GPT-2's vocab.json + merges.txt (byte-level BPE, GPT-2 regex). */
lk_status lk_tokenizer_from_gpt2_files(const char *vocab_json, size_t vocab_len, const char *merges,
                                       size_t merges_len, const char *name, lk_tokenizer **out,
                                       lk_error *err);
/* BERT's vocab.txt (WordPiece with the BERT normalizer and pre-tokenizer). */
lk_status lk_tokenizer_from_bert_vocab(const char *vocab_txt, size_t len, bool lowercase,
                                       const char *name, lk_tokenizer **out, lk_error *err);

/* ---- models: encode one plain-text segment, appending ids */
void lk_spm_encode(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out);
void lk_bpe_encode_word(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out);
void lk_wpm_encode(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out);
void lk_ugm_encode(const lk_tokenizer *t, const char *s, size_t n, lk_ids *out);

/* ---- pretokenize.c */
/* Compiles a PCRE2 pattern (UTF, UCP). NULL on error (message in err). */
void *lk_regex_compile(const char *pattern, size_t len, lk_error *err);
void lk_regex_free(void *re);
/* The llama.cpp pre-tokenizer regexes for a GGUF tokenizer.ggml.pre name.
 * Returns the number of patterns (0 for an unknown name). */
int lk_pretok_patterns_for(const char *pre, const char *const **patterns);
lk_status lk_pretok_add_regex(lk_tokenizer *t, const char *pattern, lk_split_behavior b,
                              bool invert, lk_error *err);
lk_status lk_pretok_add_step(lk_tokenizer *t, const lk_pretok_step *step, lk_error *err);

/* A list of byte spans over a buffer the list owns. */
typedef struct {
    char *buf;
    size_t buf_len, buf_cap;
    size_t *start, *len;
    size_t n, cap;
    bool oom;
} lk_pieces;
void lk_pieces_free(lk_pieces *p);
/* Splits text into pre-tokens with t's pre-tokenizer steps. first: this is
 * the first segment of the input (Metaspace prepend_scheme "first"). */
void lk_pretokenize(const lk_tokenizer *t, const char *s, size_t n, bool first, lk_pieces *out);

/* ---- normalize.c: returns a malloc'd normalized copy (NULL when out of memory) */
char *lk_normalize(const lk_tokenizer *t, const char *s, size_t n, size_t *out_len);
/* Checks a decoded precompiled charsmap and points the step into it. */
bool lk_precompiled_init(lk_norm_step *st);
void lk_norm_steps_free(lk_tokenizer *t);

/* ---- UTF-8 stepping (base/utf8.h) and the GPT-2 byte alphabet (byte_alphabet.c) */
/* Length of the sequence a lead byte starts (1 for invalid lead bytes). */
static inline size_t lk_utf8_len(uint8_t c) {
    static const uint8_t lens[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lens[c >> 4];
}
/* Steps over one code point of s[0..n) (n >= 1): returns the bytes used.
 * Anything but a whole valid character counts as one byte with *cp =
 * U+FFFD, so invalid input is walked byte by byte. (base/utf8.h holds the
 * rules.) */
static inline size_t lk_tok_utf8_next(const char *s, size_t n, uint32_t *cp) {
    size_t k;
    if (lk_utf8_decode(s, n, cp, &k) == LK_UTF8_OK) return k;
    *cp = 0xFFFD;
    return n > 0 ? 1 : 0;
}
/* GPT-2 byte <-> printable code point (slow; the tables in the tokenizer
 * struct are filled from these). */
uint32_t lk_byte_to_unicode(uint8_t b);
int lk_unicode_to_byte(uint32_t cp); /* -1 when cp is not in the alphabet */

#endif
