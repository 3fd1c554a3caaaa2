/* OpenAI response JSON; see openai_response.h. */
#include "server/openai_response.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>

void srv_response_meta_init(srv_response_meta *m, srv_api api, const char *model, const lk_tokenizer *tok,
                            bool logprobs) {
    memset(m, 0, sizeof *m);
    m->api = api;
    m->model = model;
    m->tok = tok;
    m->logprobs = logprobs;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    m->created = (long long)ts.tv_sec;
    unsigned long long x = 0;
    if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x) /* fall back on the clock and thread */
        x = ((unsigned long long)ts.tv_nsec * 0x9E3779B97F4A7C15ULL) ^ (unsigned long long)pthread_self();
    snprintf(m->id, sizeof m->id, "%s-%016llx", api == SRV_API_CHAT ? "chatcmpl" : "cmpl", x);
}

const char *srv_finish_reason(srv_finish f) {
    switch (f) {
    case SRV_FINISH_NONE: return NULL;
    case SRV_FINISH_STOP: return "stop";
    default: return "length";
    }
}

static char *print_and_free(cJSON *j) {
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return s;
}

static cJSON *add_string_len(cJSON *obj, const char *key, const char *s, size_t len) {
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    cJSON *v = cJSON_AddStringToObject(obj, key, copy);
    free(copy);
    return v;
}

char *srv_json_error(const char *message, const char *type, const char *param, const char *code) {
    cJSON *root = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", type);
    if (param && *param) cJSON_AddStringToObject(e, "param", param);
    else cJSON_AddNullToObject(e, "param");
    if (code && *code) cJSON_AddStringToObject(e, "code", code);
    else cJSON_AddNullToObject(e, "code");
    return print_and_free(root);
}

char *srv_json_models(const char *model_id, long long created, int32_t n_ctx) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "list");
    cJSON *data = cJSON_AddArrayToObject(root, "data");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", model_id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)created);
    cJSON_AddStringToObject(m, "owned_by", "llmkit");
    if (n_ctx > 0) cJSON_AddNumberToObject(m, "context_length", n_ctx);
    cJSON_AddItemToArray(data, m);
    return print_and_free(root);
}

static void add_usage(cJSON *obj, const srv_usage_total *u) {
    cJSON *usage = cJSON_AddObjectToObject(obj, "usage");
    cJSON_AddNumberToObject(usage, "prompt_tokens", (double)u->prompt_tokens);
    cJSON_AddNumberToObject(usage, "completion_tokens", (double)u->completion_tokens);
    cJSON_AddNumberToObject(usage, "total_tokens", (double)(u->prompt_tokens + u->completion_tokens));
    cJSON *details = cJSON_AddObjectToObject(usage, "prompt_tokens_details");
    cJSON_AddNumberToObject(details, "cached_tokens", (double)u->cached_tokens);
}

static void add_header(cJSON *root, const srv_response_meta *m, bool chunk) {
    cJSON_AddStringToObject(root, "id", m->id);
    cJSON_AddStringToObject(root, "object", m->api == SRV_API_CHAT
                                                ? (chunk ? "chat.completion.chunk" : "chat.completion")
                                                : "text_completion");
    cJSON_AddNumberToObject(root, "created", (double)m->created);
    cJSON_AddStringToObject(root, "model", m->model);
    cJSON_AddStringToObject(root, "system_fingerprint", "llmkit-" LK_VERSION_STRING);
}

/* The text of one token as the model would print it (special tokens too). */
static char *token_text(const lk_tokenizer *tok, int32_t id, size_t *len) {
    char *text = NULL;
    lk_error err;
    if (lk_tokenizer_decode(tok, &id, 1, false, &text, len, &err) != LK_OK) {
        *len = 0;
        return calloc(1, 1);
    }
    return text;
}

/* -INFINITY is not JSON: OpenAI's clients expect a number. */
static double finite_logprob(float lp) { return isfinite(lp) ? lp : -9999.0; }

static cJSON *chat_token(const lk_tokenizer *tok, const srv_token_logprob *t) {
    cJSON *o = cJSON_CreateObject();
    size_t len;
    char *text = token_text(tok, t->token, &len);
    add_string_len(o, "token", text ? text : "", text ? len : 0);
    cJSON_AddNumberToObject(o, "logprob", finite_logprob(t->logprob));
    cJSON *bytes = cJSON_AddArrayToObject(o, "bytes");
    for (size_t i = 0; text && i < len; i++) cJSON_AddItemToArray(bytes, cJSON_CreateNumber((unsigned char)text[i]));
    free(text);
    return o;
}

/* chat: {"content": [{token, logprob, bytes, top_logprobs}]}; completions:
 * {tokens, token_logprobs, top_logprobs, text_offset}. */
static cJSON *logprobs_json(const srv_response_meta *m, const srv_token_info *tokens, int32_t n,
                            size_t text_offset) {
    cJSON *lp = cJSON_CreateObject();
    if (m->api == SRV_API_CHAT) {
        cJSON *content = cJSON_AddArrayToObject(lp, "content");
        for (int32_t i = 0; i < n; i++) {
            cJSON *t = chat_token(m->tok, &tokens[i].chosen);
            cJSON *top = cJSON_AddArrayToObject(t, "top_logprobs");
            for (int32_t k = 0; k < tokens[i].n_top; k++) cJSON_AddItemToArray(top, chat_token(m->tok, &tokens[i].top[k]));
            cJSON_AddItemToArray(content, t);
        }
        cJSON_AddNullToObject(lp, "refusal");
        return lp;
    }
    cJSON *toks = cJSON_AddArrayToObject(lp, "tokens");
    cJSON *lps = cJSON_AddArrayToObject(lp, "token_logprobs");
    cJSON *tops = cJSON_AddArrayToObject(lp, "top_logprobs");
    cJSON *offs = cJSON_AddArrayToObject(lp, "text_offset");
    size_t off = text_offset;
    for (int32_t i = 0; i < n; i++) {
        size_t len;
        char *text = token_text(m->tok, tokens[i].chosen.token, &len);
        cJSON *s = cJSON_CreateObject();
        add_string_len(s, "t", text ? text : "", text ? len : 0);
        cJSON_AddItemToArray(toks, cJSON_DetachItemFromObject(s, "t"));
        cJSON_Delete(s);
        cJSON_AddItemToArray(lps, cJSON_CreateNumber(finite_logprob(tokens[i].chosen.logprob)));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        off += len;
        free(text);
        cJSON *top = cJSON_CreateObject();
        for (int32_t k = 0; k < tokens[i].n_top; k++) {
            size_t tl;
            char *tt = token_text(m->tok, tokens[i].top[k].token, &tl);
            char *key = tt ? tt : "";
            if (!cJSON_GetObjectItemCaseSensitive(top, key))
                cJSON_AddNumberToObject(top, key, finite_logprob(tokens[i].top[k].logprob));
            free(tt);
        }
        cJSON_AddItemToArray(tops, top);
    }
    return lp;
}

char *srv_json_completion(const srv_response_meta *m, const srv_choice *choices, int32_t n_choices,
                          const srv_usage_total *usage) {
    cJSON *root = cJSON_CreateObject();
    add_header(root, m, false);
    cJSON *arr = cJSON_AddArrayToObject(root, "choices");
    for (int32_t i = 0; i < n_choices; i++) {
        const srv_choice *c = &choices[i];
        cJSON *ch = cJSON_CreateObject();
        cJSON_AddNumberToObject(ch, "index", i);
        if (m->api == SRV_API_CHAT) {
            cJSON *msg = cJSON_AddObjectToObject(ch, "message");
            cJSON_AddStringToObject(msg, "role", "assistant");
            add_string_len(msg, "content", c->text ? c->text : "", c->text_len);
            cJSON_AddNullToObject(msg, "refusal");
        } else {
            add_string_len(ch, "text", c->text ? c->text : "", c->text_len);
        }
        if (m->logprobs) cJSON_AddItemToObject(ch, "logprobs", logprobs_json(m, c->tokens, c->n_tokens, c->text_offset));
        else cJSON_AddNullToObject(ch, "logprobs");
        const char *fr = srv_finish_reason(c->finish);
        cJSON_AddStringToObject(ch, "finish_reason", fr ? fr : "stop");
        cJSON_AddItemToArray(arr, ch);
    }
    add_usage(root, usage);
    return print_and_free(root);
}

char *srv_json_chunk(const srv_response_meta *m, int32_t index, bool with_role, const char *text, size_t len,
                     const srv_token_info *tokens, int32_t n_tokens, size_t text_offset, srv_finish finish,
                     bool usage_null) {
    cJSON *root = cJSON_CreateObject();
    add_header(root, m, true);
    cJSON *arr = cJSON_AddArrayToObject(root, "choices");
    cJSON *ch = cJSON_CreateObject();
    cJSON_AddNumberToObject(ch, "index", index);
    if (m->api == SRV_API_CHAT) {
        cJSON *delta = cJSON_AddObjectToObject(ch, "delta");
        if (with_role) cJSON_AddStringToObject(delta, "role", "assistant");
        if (with_role || len) add_string_len(delta, "content", text ? text : "", len);
    } else {
        add_string_len(ch, "text", text ? text : "", len);
    }
    if (m->logprobs && n_tokens > 0)
        cJSON_AddItemToObject(ch, "logprobs", logprobs_json(m, tokens, n_tokens, text_offset));
    else cJSON_AddNullToObject(ch, "logprobs");
    const char *fr = srv_finish_reason(finish);
    if (fr) cJSON_AddStringToObject(ch, "finish_reason", fr);
    else cJSON_AddNullToObject(ch, "finish_reason");
    cJSON_AddItemToArray(arr, ch);
    if (usage_null) cJSON_AddNullToObject(root, "usage");
    return print_and_free(root);
}

char *srv_json_usage_chunk(const srv_response_meta *m, const srv_usage_total *usage) {
    cJSON *root = cJSON_CreateObject();
    add_header(root, m, true);
    cJSON_AddArrayToObject(root, "choices");
    add_usage(root, usage);
    return print_and_free(root);
}
