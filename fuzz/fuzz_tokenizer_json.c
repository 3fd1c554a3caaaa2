/* Fuzz target: arbitrary bytes loaded as a Hugging Face tokenizer.json.
 * Loading must fail cleanly or give a tokenizer that then encodes and
 * decodes a fixed mixed-script text without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llmkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_error err;
    lk_tokenizer *tok;
    if (lk_tokenizer_from_hf_json((const char *)data, size, NULL, 0, "fuzz.json", &tok, &err) != LK_OK)
        return 0;
    static const char text[] = "Hello, world! 你好，世界 <s> 123  \t\n\xff end";
    int32_t *ids;
    size_t n;
    if (lk_tokenizer_encode(tok, text, sizeof text - 1, true, true, &ids, &n, &err) == LK_OK) {
        char *out;
        size_t len;
        if (lk_tokenizer_decode(tok, ids, n, false, &out, &len, &err) == LK_OK) free(out);
        lk_detokenizer *d = lk_detokenizer_new(tok, true);
        for (size_t i = 0; d && i < n; i++) lk_detokenizer_push(d, ids[i], &len);
        if (d) lk_detokenizer_flush(d, &len);
        lk_detokenizer_free(d);
        free(ids);
    }
    for (int32_t id = 0; id < lk_tokenizer_n_vocab(tok) && id < 64; id++) lk_tokenizer_piece(tok, id, NULL);
    lk_tokenizer_free(tok);
    return 0;
}
