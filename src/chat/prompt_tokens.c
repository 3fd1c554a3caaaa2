#include "chat/prompt_tokens.h"

#include <string.h>

lk_status lk_chat_prompt_tokens(const lk_tokenizer *tok, const char *text, size_t len, int32_t **ids,
                                size_t *n_ids, lk_error *err) {
    lk_status st = lk_tokenizer_encode(tok, text, len, true, true, ids, n_ids, err);
    if (st != LK_OK) return st;
    int32_t bos = lk_tokenizer_bos(tok);
    if (*n_ids >= 2 && bos >= 0 && (*ids)[0] == bos && (*ids)[1] == bos) {
        memmove(*ids, *ids + 1, (*n_ids - 1) * sizeof **ids);
        (*n_ids)--;
    }
    return LK_OK;
}
