/* llama.cpp's tokenizer test vectors: for every ggml-vocab-*.gguf whose
 * vocabulary is among the fixtures, each input in X.gguf.inp must encode
 * (no BOS, parse_special off) to exactly the ids in X.gguf.out, which
 * llama.cpp's convert_hf_to_gguf_update.py wrote with HF transformers.
 * Byte-level and SPM vocabularies must also decode back to the input. */
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "test.h"

#define SEP "\n__ggml_vocab_test__\n"

static const struct {
    const char *name;
    bool lossless;
} k_vocabs[] = {
    {"llama-spm", true},   {"phi-3", true},      {"gpt-2", true},   {"mpt", true},
    {"starcoder", true},   {"refact", true},     {"falcon", true},  {"deepseek-coder", true},
    {"deepseek-llm", true}, {"bert-bge", false}, {"llama-bpe", true}, {"qwen2", true},
    {"command-r", true},   {"gpt-neox", true},   {"baichuan", true},
};

static int n_skipped;

/* vocab_rel: the vocabulary to load (NULL: the ggml-vocab GGUF itself). */
static void run_vocab(const char *name, bool lossless, const char *vocab_rel) {
    char rel[256];
    snprintf(rel, sizeof rel, "llamacpp-vocab/ggml-vocab-%s.gguf", name);
    char gguf_copy[4096];
    const char *gguf = lk_test_fixture(vocab_rel ? vocab_rel : rel);
    snprintf(gguf_copy, sizeof gguf_copy, "%s", gguf ? gguf : "");
    if (gguf) gguf = gguf_copy;
    snprintf(rel, sizeof rel, "llamacpp-vocab/ggml-vocab-%s.gguf.inp", name);
    const char *inp_path = lk_test_fixture(rel);
    char inp_copy[4096];
    snprintf(inp_copy, sizeof inp_copy, "%s", inp_path ? inp_path : "");
    snprintf(rel, sizeof rel, "llamacpp-vocab/ggml-vocab-%s.gguf.out", name);
    const char *out_path = lk_test_fixture(rel);
    if (!gguf || !inp_path || !out_path) {
        printf("SKIP %-16s (%s absent from the fixtures)\n", name, gguf ? "test vectors" : "vocab GGUF");
        n_skipped++;
        return;
    }
    lk_error err;
    lk_tokenizer *tok = NULL;
    CHECK_OK(lk_tokenizer_load(gguf, &tok, &err), &err);
    if (!tok) return;
    char *inp, *outs;
    size_t inp_len, outs_len;
    CHECK_OK(lk_read_file(inp_copy, 1 << 20, &inp, &inp_len, &err), &err);
    CHECK_OK(lk_read_file(out_path, 1 << 20, &outs, &outs_len, &err), &err);
    int cases = 0, pass = 0, roundtrip_fail = 0;
    char *p = inp, *line = outs;
    for (;;) {
        char *sep = strstr(p, SEP);
        if (!sep) break;
        size_t len = (size_t)(sep - p);
        char *eol = strchr(line, '\n');
        if (!eol) break;
        *eol = '\0';
        /* expected ids */
        int32_t want[512];
        int nw = 0;
        for (char *q = line; *q && nw < 512;) {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q) break;
            want[nw++] = (int32_t)v;
            q = end;
        }
        int32_t *ids;
        size_t n;
        cases++;
        if (lk_tokenizer_encode(tok, p, len, false, false, &ids, &n, &err) == LK_OK) {
            bool same = (int)n == nw && (n == 0 || memcmp(ids, want, n * sizeof *ids) == 0);
            if (same) pass++;
            else {
                fprintf(stderr, "%s case %d \"%.*s\":\n  want:", name, cases, (int)(len > 60 ? 60 : len), p);
                for (int i = 0; i < nw; i++) fprintf(stderr, " %d", want[i]);
                fprintf(stderr, "\n  got: ");
                for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
                fprintf(stderr, "\n");
            }
            if (lossless) {
                char *text;
                size_t tl;
                if (lk_tokenizer_decode(tok, ids, n, true, &text, &tl, &err) == LK_OK) {
                    if (tl != len || memcmp(text, p, len) != 0) {
                        roundtrip_fail++;
                        fprintf(stderr, "%s case %d: decode gives \"%s\"\n", name, cases, text);
                    }
                    free(text);
                }
            }
            free(ids);
        }
        p = sep + strlen(SEP);
        line = eol + 1;
    }
    printf("%-16s %-22s %d/%d exact%s\n", name, vocab_rel ? vocab_rel : "(gguf)", pass, cases, lossless ? (roundtrip_fail ? ", ROUND TRIP FAILS" : ", round trip ok") : "");
    CHECK(cases > 0);
    CHECK_EQ_INT(pass, cases);
    CHECK_EQ_INT(roundtrip_fail, 0);
    free(inp);
    free(outs);
    lk_tokenizer_free(tok);
}

int main(int argc, char **argv) {
    if (!lk_test_fixtures()) lk_test_skip("fixtures folder not found");
    for (size_t i = 0; i < sizeof k_vocabs / sizeof k_vocabs[0]; i++)
        if (argc < 2 || strcmp(argv[1], k_vocabs[i].name) == 0) run_vocab(k_vocabs[i].name, k_vocabs[i].lossless, NULL);
    /* The same vocabularies from their other sources must agree too. */
    static const struct {
        const char *name, *rel;
        bool lossless;
    } alt[] = {
        {"llama-spm", "llama2c/tokenizer.bin", true},
        {"llama-spm", "tokenizers/llama2-hf/tokenizer.json", true},
        {"phi-3", "tokenizers/phi-3-mini/tokenizer.json", true},
        /* lossy: GPT-2's decode cleans up " ." -> "." as transformers does */
        {"gpt-2", "tokenizers/gpt2/vocab.json", false},
        {"bert-bge", "tokenizers/bert-base-uncased/vocab.txt", false},
    };
    for (size_t i = 0; i < sizeof alt / sizeof alt[0]; i++) {
        if (argc >= 2 && strcmp(argv[1], alt[i].name) != 0) continue;
        if (lk_test_fixture(alt[i].rel)) run_vocab(alt[i].name, alt[i].lossless, alt[i].rel);
        else printf("SKIP %s (absent)\n", alt[i].rel);
    }
    printf("(%d vocabularies skipped: not in the fixtures)\n", n_skipped);
    return lk_test_finish("tokenizer_llamacpp");
}
