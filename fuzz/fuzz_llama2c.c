/* Fuzzes the llama2.c checkpoint reader: any bytes must parse or fail
 * cleanly, and every tensor it accepts must lie inside the buffer. */
#include <stdint.h>

#include "format/llama2c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_error err;
    lk_llama2c *m = NULL;
    if (lk_llama2c_open_memory(data, size, "fuzz", &m, &err) != LK_OK) return 0;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < lk_llama2c_tensor_count(m); i++) {
        const lk_tensor_info *t = lk_llama2c_tensor_at(m, i);
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size) __builtin_trap();
        sink ^= p[0] ^ p[t->nbytes - 1];
    }
    (void)sink;
    lk_llama2c_close(m);
    return 0;
}
