/* Loading a model from a model file (GGUF, HF directory, llama2.c): the
 * file's tensor table and hyper-parameters feed lk_model_from_tensors.
 * Kept apart from model.c so that programs building models from their own
 * tensor tables do not pull in the file readers. */
#include <stdlib.h>

#include "base/error.h"
#include "model/model_internal.h"

lk_status lk_model_load_file(const lk_model_file *mf, const lk_model_params *p, lk_model **out,
                             lk_error *err) {
    *out = NULL;
    size_t n = lk_model_file_tensor_count(mf);
    lk_tensor_info *table = calloc(n ? n : 1, sizeof *table);
    if (!table) return lk_error_set(err, LK_ERR_NOMEM, "model: out of memory");
    for (size_t i = 0; i < n; i++) table[i] = *lk_model_file_tensor(mf, i);
    lk_status st = lk_model_build(lk_model_file_hparams(mf), table, n, p, mf, out, err);
    free(table);
    if (st != LK_OK) lk_error_wrap(err, "%s", lk_model_file_path(mf));
    return st;
}

lk_status lk_model_load(const char *path, const lk_model_params *p, lk_model **out,
                        lk_error *err) {
    *out = NULL;
    lk_model_file *mf;
    lk_status st = lk_model_file_open(path, &mf, err);
    if (st != LK_OK) return st;
    st = lk_model_load_file(mf, p, out, err);
    if (st != LK_OK) {
        lk_model_file_close(mf);
        return st;
    }
    (*out)->owned_file = mf;
    return LK_OK;
}
