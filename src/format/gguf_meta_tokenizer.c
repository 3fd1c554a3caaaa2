/* Tokenizer metadata for converted models (see gguf_meta_write.h). */
#include "format/gguf_meta_write.h"

#include "base/error.h"

lk_status lk_gguf_meta_write_tokenizer(lk_gguf_writer *w, const lk_model_file *mf, lk_error *err) {
    const lk_hparams *hp = lk_model_file_hparams(mf);
    lk_status st = LK_OK;
    if (hp->bos_id >= 0) st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)hp->bos_id);
    if (st == LK_OK && hp->n_eos > 0)
        st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)hp->eos_ids[0]);
    if (st == LK_OK && hp->pad_id >= 0)
        st = lk_gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)hp->pad_id);
    if (st != LK_OK)
        return lk_error_set(err, st, "%s: cannot write the tokenizer ids", lk_model_file_path(mf));
    return LK_OK;
}
