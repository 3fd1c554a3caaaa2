/* The default model for chat/serve when no MODEL is given: the store's copy
 * of LK_DEFAULT_MODEL, pulled first when missing and the caller allows it. */
#include <string.h>

#include "base/error.h"
#include "hub/pull.h"
#include "hub/store.h"

lk_status lk_store_default_model_ex(char *out, size_t n, const lk_pull_options *opt,
                                    lk_error *err) {
    lk_error rerr;
    lk_status s = lk_store_resolve(LK_DEFAULT_MODEL, out, n, &rerr);
    if (s != LK_ERR_NOT_FOUND) {
        if (s != LK_OK && err) *err = rerr;
        return s;
    }
    if (!opt)
        return lk_error_set(err, LK_ERR_NOT_FOUND,
                            "the default model %s is not in the model store (llmkit pull %s)",
                            LK_DEFAULT_MODEL, LK_DEFAULT_MODEL);
    return lk_pull(LK_DEFAULT_MODEL, opt, out, n, err);
}

lk_status lk_store_default_model(char *out, size_t n, bool pull_if_missing, lk_error *err) {
    lk_pull_options opt;
    memset(&opt, 0, sizeof opt);
    opt.retries = -1;
    return lk_store_default_model_ex(out, n, pull_if_missing ? &opt : NULL, err);
}
