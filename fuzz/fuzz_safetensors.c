/* Fuzzes the safetensors reader: any bytes must parse or fail cleanly, and
 * every tensor the reader accepts must lie inside the buffer. */
#include <stdint.h>
#include <string.h>

#include "format/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_error err;
    lk_safetensors *st = NULL;
    if (lk_safetensors_open_memory(data, size, "fuzz", &st, &err) != LK_OK) return 0;
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < lk_safetensors_tensor_count(st); i++) {
        const lk_safetensors_tensor *t = lk_safetensors_tensor_at(st, i);
        if (lk_safetensors_find_tensor(st, t->info.name) != t) __builtin_trap();
        if (t->info.nbytes) {
            const uint8_t *p = t->info.data;
            if (p < data || p + t->info.nbytes > data + size) __builtin_trap();
            sink ^= p[0] ^ p[t->info.nbytes - 1]; /* ASan checks these reads */
        }
    }
    for (size_t i = 0; i < lk_safetensors_metadata_count(st); i++)
        sink ^= (uint8_t)strlen(lk_safetensors_metadata_value(st, i));
    (void)sink;
    lk_safetensors_close(st);
    return 0;
}
