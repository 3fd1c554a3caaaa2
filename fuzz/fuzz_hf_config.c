/* Fuzzes HF config.json parsing (lk_hf_config_parse) and tensor-name mapping
 * on arbitrary bytes. Input: config.json bytes, optionally followed by a NUL
 * byte and generation_config.json bytes. The same bytes, up to the first NUL,
 * are also tried as a tensor name for every architecture, both directions. */
#include <stdint.h>
#include <string.h>

#include "format/hf_config.h"
#include "format/tensor_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t config_len = nul ? (size_t)(nul - text) : size;
    lk_json_doc config = {text, config_len, "fuzz/config.json"};
    lk_json_doc gen = {nul ? nul + 1 : NULL, nul ? size - config_len - 1 : 0,
                       "fuzz/generation_config.json"};
    lk_hparams hp;
    lk_error err;
    if (lk_hf_config_parse(&config, nul ? &gen : NULL, &hp, &err) == LK_OK) {
        /* A success must satisfy the promises the forward pass relies on. */
        if (hp.n_head % hp.n_head_kv != 0 || hp.head_dim < 1 || hp.n_eos > LK_MAX_EOS ||
            (hp.rope_layout != LK_ROPE_NONE && (hp.n_rot < 2 || hp.n_rot > hp.head_dim)))
            __builtin_trap();
    }

    static const char *const archs[] = {"llama", "mistral", "qwen2", "qwen3", "gemma",
                                        "gemma2", "phi3", "gpt2", "bert"};
    char name[512];
    size_t n = config_len < sizeof name - 1 ? config_len : sizeof name - 1;
    memcpy(name, text, n);
    name[n] = '\0';
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        lk_tensor_name t, back;
        lk_tensor_name_from_hf(archs[i], name, &t, &err);
        if (t.kind == LK_TNAME_MAPPED) {
            /* Whatever maps in must map back out to a name that maps in again. */
            if (lk_tensor_name_to_hf(archs[i], t.name, &back, &err) != LK_OK ||
                back.kind != LK_TNAME_MAPPED)
                __builtin_trap();
            lk_tensor_name again;
            lk_tensor_name_from_hf(archs[i], back.name, &again, &err);
            if (again.kind != LK_TNAME_MAPPED || strcmp(again.name, t.name) != 0)
                __builtin_trap();
        }
        lk_tensor_name_to_hf(archs[i], name, &t, &err);
    }
    return 0;
}
