/* tokenizer.json features on small hand-written files (pre-tokenizer split
 * behaviours, Metaspace, normalizers, added tokens, post-processor and
 * tokenizer_config overrides) and the errors a malformed file gets: each
 * must name the offending key. Expected ids follow the HF tokenizers
 * semantics of each component. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

static lk_tokenizer *load(const char *json, const char *config) {
    lk_error err;
    lk_tokenizer *tok = NULL;
    lk_status st = lk_tokenizer_from_hf_json(json, strlen(json), config, config ? strlen(config) : 0, "t.json",
                                             &tok, &err);
    CHECK_MSG(st == LK_OK, "%s", err.msg);
    return tok;
}

/* Encodes and compares with a -1 terminated list. */
static void expect(lk_tokenizer *tok, const char *text, bool add_special, bool parse_special, const int32_t *want) {
    if (!tok) return;
    lk_error err;
    int32_t *ids;
    size_t n, nw = 0;
    while (want[nw] >= 0) nw++;
    CHECK_OK(lk_tokenizer_encode(tok, text, strlen(text), add_special, parse_special, &ids, &n, &err), &err);
    bool same = n == nw && memcmp(ids, want, n * sizeof *ids) == 0;
    CHECK_MSG(same, "\"%s\": got %zu ids (first %d)", text, n, n ? ids[0] : -1);
    if (!same) {
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    free(ids);
}

#define IDS(...) ((const int32_t[]){__VA_ARGS__, -1})
#define NONE ((const int32_t[]){-1})

static const char *split_json(const char *behavior) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"-\":2,\"a-\":3,\"-b\":4},"
             "\"merges\":[\"a -\",[\"-\",\"b\"]]},"
             "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"%s\",\"invert\":false}}",
             behavior);
    return buf;
}

static void test_split_behaviors(void) {
    lk_tokenizer *t = load(split_json("Isolated"), NULL);
    expect(t, "a-b", false, false, IDS(0, 2, 1));
    lk_tokenizer_free(t);
    t = load(split_json("Removed"), NULL);
    expect(t, "a-b", false, false, IDS(0, 1));
    lk_tokenizer_free(t);
    t = load(split_json("MergedWithPrevious"), NULL);
    expect(t, "a-b", false, false, IDS(3, 1));
    lk_tokenizer_free(t);
    t = load(split_json("MergedWithNext"), NULL);
    expect(t, "a-b", false, false, IDS(0, 4));
    lk_tokenizer_free(t);
    t = load(split_json("Contiguous"), NULL);
    expect(t, "a--b", false, false, IDS(0, 2, 2, 1));
    lk_tokenizer_free(t);
    /* without a pre-tokenizer the merges run across the dash */
    t = load("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"-\":2,\"a-\":3,\"-b\":4},\"merges\":[\"a -\",\"- b\"]}}",
             NULL);
    expect(t, "a-b", false, false, IDS(3, 1));
    lk_tokenizer_free(t);
}

/* A Llama-like SPM-as-BPE file: Metaspace, byte fallback, added tokens,
 * TemplateProcessing. */
static const char *const k_llamaish =
    "{\"added_tokens\":["
    "{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
    "{\"id\":1,\"content\":\"<s>\",\"special\":true},"
    "{\"id\":2,\"content\":\"</s>\",\"special\":true},"
    "{\"id\":12,\"content\":\"<tool>\",\"special\":false,\"lstrip\":true,\"rstrip\":true}],"
    "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\",\"split\":false},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
    "\"decoder\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\",\"prepend_scheme\":\"first\"},"
    "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"byte_fallback\":true,\"fuse_unk\":true,"
    "\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2,\"<0xE4>\":3,\"<0xBD>\":4,\"<0xA0>\":5,"
    "\"\\u2581\":6,\"h\":7,\"i\":8,\"\\u2581h\":9,\"\\u2581hi\":10,\"\\u597d\":11,\"<tool>\":12},"
    "\"merges\":[\"\\u2581 h\",\"\\u2581h i\"]}}";

static void test_llamaish(void) {
    lk_tokenizer *t = load(k_llamaish, NULL);
    if (!t) return;
    expect(t, "hi", true, false, IDS(1, 10));
    expect(t, "hi hi", false, false, IDS(10, 10));
    /* 你 is not in the vocabulary: byte fallback; 好 is */
    expect(t, "你好", false, false, IDS(6, 3, 4, 5, 11));
    /* special text: matched with parse_special; the text after it is not at
     * offset 0, so prepend_scheme "first" adds no U+2581 */
    expect(t, "<s>hi", false, true, IDS(1, 7, 8));
    /* without parse_special it is text: U+2581, then "<s>" unknown, fused */
    expect(t, "<s>hi", false, false, IDS(6, 0, 7, 8));
    /* non-special added token, matched always; lstrip/rstrip eat the spaces */
    expect(t, "hi <tool> hi", false, false, IDS(10, 12, 7, 8));
    char *text;
    size_t len;
    lk_error err;
    int32_t ids[] = {1, 10, 10, 3, 4, 5, 11};
    CHECK_OK(lk_tokenizer_decode(t, ids, 7, true, &text, &len, &err), &err);
    CHECK_EQ_STR(text, "hi hi你好");
    free(text);
    CHECK_OK(lk_tokenizer_decode(t, ids, 7, false, &text, &len, &err), &err);
    CHECK_EQ_STR(text, "<s> hi hi你好");
    free(text);
    lk_tokenizer_free(t);

    /* tokenizer_config.json: add_bos_token false, add_eos_token true */
    t = load(k_llamaish, "{\"add_bos_token\":false,\"add_eos_token\":true,\"bos_token\":\"<s>\","
                         "\"eos_token\":{\"content\":\"</s>\"}}");
    expect(t, "hi", true, false, IDS(10, 2));
    CHECK_EQ_INT(lk_tokenizer_bos(t), 1);
    CHECK_EQ_INT(lk_tokenizer_eos(t), 2);
    lk_tokenizer_free(t);
}

static void test_normalizers(void) {
    lk_tokenizer *t = load("{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},{\"type\":\"Lowercase\"},"
                           "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"},{\"type\":\"Strip\"}]},"
                           "\"pre_tokenizer\":{\"type\":\"WhitespaceSplit\"},"
                           "\"model\":{\"type\":\"BPE\",\"unk_token\":\"?\",\"vocab\":{\"?\":0,\"a\":1,\"b\":2,\"1\":3,\"ab\":4},\"merges\":[\"a b\"]}}",
                           NULL);
    /* fullwidth "ＡＢ" -> "ab" (NFKC + lowercase), "①" -> "1" */
    expect(t, "  ＡＢ \t\n ①  ", false, false, IDS(4, 3));
    lk_tokenizer_free(t);
}

static void expect_error(const char *json, lk_status code, const char *needle) {
    lk_error err;
    lk_tokenizer *tok = (lk_tokenizer *)&err; /* must be reset to NULL */
    lk_status st = lk_tokenizer_from_hf_json(json, strlen(json), NULL, 0, "bad.json", &tok, &err);
    CHECK_MSG(st == code, "%s: got %s (%s)", json, lk_status_name(st), err.msg);
    CHECK(tok == NULL);
    CHECK_MSG(strstr(err.msg, needle) && strstr(err.msg, "bad.json"), "message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_errors(void) {
    expect_error("{\"model\": ", LK_ERR_FORMAT, "not valid JSON");
    expect_error("[]", LK_ERR_FORMAT, "top level");
    expect_error("{}", LK_ERR_FORMAT, "\"model\"");
    expect_error("{\"model\":{\"type\":\"Magic\"}}", LK_ERR_UNSUPPORTED, "model.type");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":[1]}}", LK_ERR_FORMAT, "model.vocab");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-3},\"merges\":[]}}", LK_ERR_FORMAT, "model.vocab");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":1e300},\"merges\":[]}}", LK_ERR_FORMAT, "model.vocab");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0}}}", LK_ERR_FORMAT, "model.merges");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a z\"]}}", LK_ERR_FORMAT, "model.merges[0]");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[7]}}", LK_ERR_FORMAT, "model.merges[0]");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},"
                 "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Wat\"}]}}",
                 LK_ERR_UNSUPPORTED, "normalizer.normalizers[1].type");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},"
                 "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"([a\"},\"behavior\":\"Isolated\"}}",
                 LK_ERR_FORMAT, "pre_tokenizer");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},"
                 "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Sideways\"}}",
                 LK_ERR_UNSUPPORTED, "pre_tokenizer.behavior");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"added_tokens\":[{\"id\":\"x\"}]}",
                 LK_ERR_FORMAT, "added_tokens[0]");
    expect_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},"
                 "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\"}}],"
                 "\"special_tokens\":{}}}",
                 LK_ERR_FORMAT, "post_processor.special_tokens[\"<s>\"]");
}

int main(void) {
    test_split_behaviors();
    test_llamaish();
    test_normalizers();
    test_errors();
    return lk_test_finish("tokenizer_json");
}
