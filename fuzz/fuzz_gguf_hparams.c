/* Fuzzes GGUF metadata -> lk_hparams: arbitrary bytes go through the GGUF
 * reader (lk_gguf_open_memory) and, when they parse, through lk_gguf_hparams,
 * whose result must then satisfy the promises the forward pass relies on. */
#include <stdint.h>

#include "format/gguf.h"
#include "format/gguf_hparams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_gguf *g;
    lk_error err;
    if (lk_gguf_open_memory(data, size, "fuzz.gguf", &g, &err) != LK_OK) return 0;
    lk_hparams hp;
    if (lk_gguf_hparams(g, "fuzz.gguf", &hp, &err) == LK_OK) {
        if (hp.n_head % hp.n_head_kv != 0 || hp.n_eos > LK_MAX_EOS || hp.n_vocab < 1 ||
            (hp.rope_layout != LK_ROPE_NONE && (hp.n_rot < 2 || hp.n_rot > hp.head_dim)))
            __builtin_trap();
        for (int i = 0; i < hp.n_eos; i++)
            if (hp.eos_ids[i] < 0 || hp.eos_ids[i] >= hp.n_vocab) __builtin_trap();
    }
    lk_gguf_close(g);
    return 0;
}
