/* Fuzz target: arbitrary bytes as a tokenizer vocabulary file of the two
 * binary kinds: a GGUF (tokenizer.ggml.* keys) when the bytes start with
 * "GGUF", else a llama2.c tok*.bin. Loading must fail cleanly or give a tokenizer
 * that encodes and decodes a fixed text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/gguf.h"
#include "llmkit.h"
#include "tokenizer/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_error err;
    lk_tokenizer *tok = NULL;
    if (size >= 4 && memcmp(data, "GGUF", 4) == 0) {
        lk_gguf *g;
        if (lk_gguf_open_memory(data, size, "fuzz.gguf", &g, &err) != LK_OK) return 0;
        lk_tokenizer_from_gguf(g, "fuzz.gguf", &tok, &err);
        lk_gguf_close(g);
    } else {
        lk_tokenizer_from_llama2c(data, size, "fuzz.bin", &tok, &err);
    }
    if (!tok) return 0;
    static const char text[] = "Hello, world! 你好，世界 <s> 123  \t\n\xff end";
    int32_t *ids;
    size_t n;
    if (lk_tokenizer_encode(tok, text, sizeof text - 1, true, true, &ids, &n, &err) == LK_OK) {
        char *out;
        size_t len;
        if (lk_tokenizer_decode(tok, ids, n, false, &out, &len, &err) == LK_OK) free(out);
        free(ids);
    }
    lk_tokenizer_free(tok);
    return 0;
}
