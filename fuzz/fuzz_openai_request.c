/* Fuzzes the OpenAI request parser: arbitrary bytes as a chat and as a
 * completions body. It must accept or refuse with a message and a param
 * path, never crash or leak; what it accepts must keep its promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/openai_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const uint8_t *data, size_t size, srv_api api) {
    srv_openai_request r;
    char param[96];
    lk_error err = {0};
    if (srv_openai_request_parse((const char *)data, size, api, &r, param, sizeof param, &err) == LK_OK) {
        if (r.n < 1 || r.n * (api == SRV_API_CHAT ? 1 : r.n_prompts) > SRV_MAX_CHOICES) abort();
        if (api == SRV_API_CHAT && cJSON_GetArraySize(r.messages) < 1) abort();
        if (api == SRV_API_COMPLETION && (r.n_prompts < 1 || r.n_prompts > SRV_MAX_CHOICES)) abort();
        if (r.n_stops > SRV_MAX_USER_STOPS || r.top_logprobs < 0 || r.top_logprobs > SRV_MAX_TOP_LOGPROBS) abort();
        for (int i = 0; i < r.n_prompts; i++)
            for (int32_t k = 0; k < r.prompts[i].n_tokens; k++)
                if (r.prompts[i].tokens[k] < 0) abort();
    } else if (!err.msg[0] || memchr(param, '\0', sizeof param) == NULL) {
        abort();
    }
    srv_openai_request_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check(data, size, SRV_API_CHAT);
    check(data, size, SRV_API_COMPLETION);
    return 0;
}
