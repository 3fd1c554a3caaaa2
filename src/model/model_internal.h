/* Internal: the lk_model struct, shared by model.c and model_load.c. */
#ifndef LK_MODEL_MODEL_INTERNAL_H
#define LK_MODEL_MODEL_INTERNAL_H

#include "base/threadpool.h"
#include "llmkit.h"
#include "model/weights.h"
#include "tensor/kernels.h"
#include "tensor/rope.h"

struct lk_model {
    lk_weights w;
    lk_rope rope;
    const lk_kernels *kern;
    lk_threadpool *tp;           /* NULL: caller's thread only */
    lk_model_file *owned_file;   /* set by lk_model_load */
};

/* lk_model_from_tensors; with mf (the file the tensors are in, or NULL),
 * the file pages of each packed matrix are let go once it is packed. */
lk_status lk_model_build(const lk_hparams *hp, const lk_tensor_info *tensors, size_t n,
                         const lk_model_params *p, const lk_model_file *mf, lk_model **out,
                         lk_error *err);

#endif
