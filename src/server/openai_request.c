/* Parsing and checking OpenAI request bodies; see openai_request.h. */
#include "server/openai_request.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/json.h"

#define MAX_MESSAGES 4096
#define MAX_PROMPT_TOKENS (1 << 24)

typedef struct {
    char *param;
    size_t param_size;
    lk_error *err;
} fail_ctx;

static lk_status fail(fail_ctx *f, const char *param, const char *fmt, const char *detail) {
    snprintf(f->param, f->param_size, "%s", param);
    return lk_error_set(f->err, LK_ERR_ARG, fmt, param, detail);
}

static const cJSON *field(const cJSON *root, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

static lk_status get_number(fail_ctx *f, const cJSON *root, const char *key, double lo, double hi,
                            double *out) {
    const cJSON *v = field(root, key);
    if (!v) return LK_OK;
    if (!cJSON_IsNumber(v)) return fail(f, key, "'%s' must be a number, not %s", lk_json_type_name(v));
    if (!isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi) {
        char range[96];
        snprintf(range, sizeof range, "%g..%g (got %g)", lo, hi, v->valuedouble);
        return fail(f, key, "'%s' must be in %s", range);
    }
    *out = v->valuedouble;
    return LK_OK;
}

static lk_status get_int(fail_ctx *f, const cJSON *v, const char *key, int64_t lo, int64_t hi,
                         int64_t *out) {
    if (!cJSON_IsNumber(v)) return fail(f, key, "'%s' must be an integer, not %s", lk_json_type_name(v));
    double d = v->valuedouble;
    if (d != floor(d) || !isfinite(d)) return fail(f, key, "'%s' must be an integer%s", "");
    if (d < (double)lo || d > (double)hi) {
        char range[96];
        snprintf(range, sizeof range, "%lld..%lld (got %.0f)", (long long)lo, (long long)hi, d);
        return fail(f, key, "'%s' must be in %s", range);
    }
    *out = (int64_t)d;
    return LK_OK;
}

static lk_status get_bool(fail_ctx *f, const cJSON *root, const char *key, bool *out) {
    const cJSON *v = field(root, key);
    if (!v) return LK_OK;
    if (!cJSON_IsBool(v)) return fail(f, key, "'%s' must be true or false, not %s", lk_json_type_name(v));
    *out = cJSON_IsTrue(v);
    return LK_OK;
}

/* ------------------------------------------------------------ messages */

static const char *const k_roles[] = {"system", "developer", "user", "assistant", "tool", NULL};

/* content: a string, null (an assistant turn of tool calls), or an array of
 * {"type": "text", "text": ...} parts, joined. */
static lk_status message_content(fail_ctx *f, const cJSON *content, const char *path, char **out) {
    char p[96];
    if (!content || cJSON_IsNull(content)) {
        *out = strdup("");
    } else if (cJSON_IsString(content)) {
        *out = strdup(content->valuestring);
    } else if (cJSON_IsArray(content)) {
        size_t len = 0;
        char *s = calloc(1, 1);
        const cJSON *part;
        int i = 0;
        cJSON_ArrayForEach(part, content) {
            snprintf(p, sizeof p, "%s[%d]", path, i++);
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (cJSON_IsString(part)) text = part;
            else if (!cJSON_IsObject(part) || !cJSON_IsString(type)) {
                free(s);
                return fail(f, p, "'%s' must be a content part {\"type\": \"text\", \"text\": ...}%s", "");
            } else if (strcmp(type->valuestring, "text") != 0) {
                free(s);
                return fail(f, p, "'%s': content parts of type '%s' are not supported (only text)",
                            type->valuestring);
            }
            if (!cJSON_IsString(text)) {
                free(s);
                return fail(f, p, "'%s' needs a \"text\" string%s", "");
            }
            size_t n = strlen(text->valuestring);
            char *t = s ? realloc(s, len + n + 1) : NULL;
            if (!t) {
                free(s);
                return lk_error_set(f->err, LK_ERR_NOMEM, "out of memory");
            }
            s = t;
            memcpy(s + len, text->valuestring, n + 1);
            len += n;
        }
        *out = s;
    } else {
        return fail(f, path, "'%s' must be a string or an array of text parts, not %s",
                    lk_json_type_name(content));
    }
    if (!*out) return lk_error_set(f->err, LK_ERR_NOMEM, "out of memory");
    return LK_OK;
}

/* A copy of the messages the chat template can render: content a string,
 * "developer" (OpenAI's newer name for system) as "system"; other keys
 * (name, tool_calls, tool_call_id) kept. */
static lk_status parse_messages(fail_ctx *f, const cJSON *root, cJSON **out) {
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (!msgs) return fail(f, "messages", "'%s' is required%s", "");
    if (!cJSON_IsArray(msgs)) return fail(f, "messages", "'%s' must be an array, not %s", lk_json_type_name(msgs));
    int n = cJSON_GetArraySize(msgs);
    if (n == 0) return fail(f, "messages", "'%s' must hold at least one message%s", "");
    if (n > MAX_MESSAGES) return fail(f, "messages", "'%s' holds too many messages%s", "");
    cJSON *list = cJSON_CreateArray();
    if (!list) return lk_error_set(f->err, LK_ERR_NOMEM, "out of memory");
    int i = 0;
    const cJSON *m;
    char path[96];
    cJSON_ArrayForEach(m, msgs) {
        snprintf(path, sizeof path, "messages[%d]", i);
        if (!cJSON_IsObject(m)) {
            cJSON_Delete(list);
            return fail(f, path, "'%s' must be an object, not %s", lk_json_type_name(m));
        }
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role");
        snprintf(path, sizeof path, "messages[%d].role", i);
        int r = -1;
        for (int k = 0; cJSON_IsString(role) && k_roles[k]; k++)
            if (!strcmp(role->valuestring, k_roles[k])) r = k;
        if (r < 0) {
            cJSON_Delete(list);
            return fail(f, path, "'%s' must be one of system, developer, user, assistant, tool%s", "");
        }
        snprintf(path, sizeof path, "messages[%d].content", i);
        char *content = NULL;
        lk_status st = message_content(f, cJSON_GetObjectItemCaseSensitive(m, "content"), path, &content);
        if (st != LK_OK) {
            cJSON_Delete(list);
            return st;
        }
        cJSON *copy = cJSON_Duplicate(m, 1);
        if (!copy) {
            free(content);
            cJSON_Delete(list);
            return lk_error_set(f->err, LK_ERR_NOMEM, "out of memory");
        }
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "content");
        cJSON_DeleteItemFromObjectCaseSensitive(copy, "role");
        cJSON_AddStringToObject(copy, "role", r == 1 ? "system" : k_roles[r]);
        cJSON_AddStringToObject(copy, "content", content);
        free(content);
        cJSON_AddItemToArray(list, copy);
        i++;
    }
    *out = list;
    return LK_OK;
}

/* ------------------------------------------------------------ prompts */

static lk_status token_array(fail_ctx *f, const cJSON *arr, const char *path, srv_text_prompt *p) {
    int n = cJSON_GetArraySize(arr);
    if (n > MAX_PROMPT_TOKENS) return fail(f, path, "'%s' holds too many tokens%s", "");
    p->tokens = malloc((size_t)(n ? n : 1) * sizeof *p->tokens);
    if (!p->tokens) return lk_error_set(f->err, LK_ERR_NOMEM, "out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) {
        int64_t id;
        lk_status st = get_int(f, v, path, 0, INT32_MAX, &id);
        if (st != LK_OK) return st;
        p->tokens[p->n_tokens++] = (int32_t)id;
    }
    return LK_OK;
}

/* prompt: a string, an array of strings, an array of token ids, or an
 * array of arrays of token ids. */
static lk_status parse_prompts(fail_ctx *f, const cJSON *root, srv_openai_request *r) {
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
    if (!prompt) return fail(f, "prompt", "'%s' is required%s", "");
    if (cJSON_IsString(prompt)) {
        r->prompts[0].text = prompt->valuestring;
        r->prompts[0].text_len = strlen(prompt->valuestring);
        r->n_prompts = 1;
        return LK_OK;
    }
    if (!cJSON_IsArray(prompt))
        return fail(f, "prompt", "'%s' must be a string, an array of strings or of token ids, not %s",
                    lk_json_type_name(prompt));
    const cJSON *first = cJSON_GetArrayItem(prompt, 0);
    if (!first) return fail(f, "prompt", "'%s' must not be empty%s", "");
    if (cJSON_IsNumber(first)) {
        r->n_prompts = 1;
        lk_status st = token_array(f, prompt, "prompt", &r->prompts[0]);
        if (st == LK_OK && r->prompts[0].n_tokens == 0) st = fail(f, "prompt", "'%s' must not be empty%s", "");
        return st;
    }
    if (cJSON_GetArraySize(prompt) > SRV_MAX_CHOICES) {
        char n[32];
        snprintf(n, sizeof n, "%d", SRV_MAX_CHOICES);
        return fail(f, "prompt", "'%s' holds more than %s prompts", n);
    }
    const cJSON *v;
    char path[48];
    cJSON_ArrayForEach(v, prompt) {
        srv_text_prompt *p = &r->prompts[r->n_prompts];
        snprintf(path, sizeof path, "prompt[%d]", r->n_prompts);
        r->n_prompts++;
        if (cJSON_IsString(v)) {
            p->text = v->valuestring;
            p->text_len = strlen(v->valuestring);
        } else if (cJSON_IsArray(v)) {
            lk_status st = token_array(f, v, path, p);
            if (st != LK_OK) return st;
            if (p->n_tokens == 0) return fail(f, path, "'%s' must not be empty%s", "");
        } else {
            return fail(f, path, "'%s' must be a string or an array of token ids, not %s", lk_json_type_name(v));
        }
    }
    return LK_OK;
}

/* ------------------------------------------------------------ the rest */

static lk_status parse_stops(fail_ctx *f, const cJSON *root, srv_openai_request *r) {
    const cJSON *stop = field(root, "stop");
    if (!stop) return LK_OK;
    if (cJSON_IsString(stop)) {
        if (stop->valuestring[0]) r->stops[r->n_stops++] = stop->valuestring;
        return LK_OK;
    }
    if (!cJSON_IsArray(stop)) return fail(f, "stop", "'%s' must be a string or an array of strings, not %s",
                                          lk_json_type_name(stop));
    if (cJSON_GetArraySize(stop) > SRV_MAX_USER_STOPS) {
        char n[16];
        snprintf(n, sizeof n, "%d", SRV_MAX_USER_STOPS);
        return fail(f, "stop", "'%s' holds more than %s strings", n);
    }
    const cJSON *v;
    cJSON_ArrayForEach(v, stop) {
        if (!cJSON_IsString(v)) return fail(f, "stop", "'%s' must hold strings, not %s", lk_json_type_name(v));
        if (v->valuestring[0]) r->stops[r->n_stops++] = v->valuestring;
    }
    return LK_OK;
}

static lk_status parse_logit_bias(fail_ctx *f, const cJSON *root, srv_openai_request *r) {
    const cJSON *lb = field(root, "logit_bias");
    if (!lb) return LK_OK;
    if (!cJSON_IsObject(lb)) return fail(f, "logit_bias", "'%s' must be an object of token id: bias, not %s",
                                         lk_json_type_name(lb));
    int n = cJSON_GetArraySize(lb);
    if (n > 1024) return fail(f, "logit_bias", "'%s' holds more than 1024 entries%s", "");
    r->bias = calloc((size_t)(n ? n : 1), sizeof *r->bias);
    if (!r->bias) return lk_error_set(f->err, LK_ERR_NOMEM, "out of memory");
    const cJSON *v;
    int i = 0;
    cJSON_ArrayForEach(v, lb) {
        char *end;
        long id = strtol(v->string, &end, 10);
        if (!v->string[0] || *end || id < 0 || id > INT32_MAX)
            return fail(f, "logit_bias", "'%s' keys must be token ids, not '%s'", v->string);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < -100 || v->valuedouble > 100)
            return fail(f, "logit_bias", "'%s' values must be numbers in -100..100%s", "");
        r->bias[i].token = (int32_t)id;
        /* -100 bans the token, as OpenAI documents */
        r->bias[i].bias = v->valuedouble <= -100 ? -INFINITY : (float)v->valuedouble;
        i++;
    }
    r->sampling.logit_bias = r->bias;
    r->sampling.n_logit_bias = i;
    return LK_OK;
}

static lk_status parse_logprobs(fail_ctx *f, const cJSON *root, srv_openai_request *r) {
    const cJSON *lp = field(root, "logprobs");
    int64_t v;
    if (r->api == SRV_API_COMPLETION) {
        /* completions: logprobs is how many alternatives (0..5) */
        if (!lp) return LK_OK;
        lk_status st = get_int(f, lp, "logprobs", 0, 5, &v);
        if (st != LK_OK) return st;
        r->logprobs = true;
        r->top_logprobs = (int32_t)v;
        return LK_OK;
    }
    lk_status st = get_bool(f, root, "logprobs", &r->logprobs);
    if (st != LK_OK) return st;
    const cJSON *top = field(root, "top_logprobs");
    if (!top) return LK_OK;
    if ((st = get_int(f, top, "top_logprobs", 0, SRV_MAX_TOP_LOGPROBS, &v)) != LK_OK) return st;
    if (!r->logprobs && v > 0) return fail(f, "top_logprobs", "'%s' needs \"logprobs\": true%s", "");
    r->top_logprobs = (int32_t)v;
    return LK_OK;
}

static lk_status parse_fields(fail_ctx *f, srv_openai_request *r) {
    const cJSON *root = r->root;
    lk_status st;
    const cJSON *model = field(root, "model");
    if (model && !cJSON_IsString(model)) return fail(f, "model", "'%s' must be a string, not %s", lk_json_type_name(model));
    r->model = model ? model->valuestring : "";
    const cJSON *user = field(root, "user");
    if (user && !cJSON_IsString(user)) return fail(f, "user", "'%s' must be a string, not %s", lk_json_type_name(user));

    if (r->api == SRV_API_CHAT) st = parse_messages(f, root, &r->messages);
    else st = parse_prompts(f, root, r);
    if (st != LK_OK) return st;

    const cJSON *v;
    int64_t i64;
    /* max_completion_tokens is the newer name; it wins when both are given */
    const char *mt_keys[] = {"max_tokens", "max_completion_tokens"};
    for (int k = 0; k < 2; k++) {
        if (!(v = field(root, mt_keys[k]))) continue;
        if ((st = get_int(f, v, mt_keys[k], 1, INT32_MAX, &i64)) != LK_OK) return st;
        r->max_tokens = i64;
    }
    if ((v = field(root, "n"))) {
        if ((st = get_int(f, v, "n", 1, SRV_MAX_CHOICES, &i64)) != LK_OK) return st;
        r->n = (int32_t)i64;
    }
    int32_t n_prompts = r->api == SRV_API_CHAT ? 1 : r->n_prompts;
    if (r->n * n_prompts > SRV_MAX_CHOICES) {
        char lim[32];
        snprintf(lim, sizeof lim, "%d", SRV_MAX_CHOICES);
        return fail(f, "n", "'%s' times the number of prompts must be at most %s", lim);
    }
    double d;
    d = r->sampling.temperature;
    if ((st = get_number(f, root, "temperature", 0, 2, &d)) != LK_OK) return st;
    r->sampling.temperature = (float)d;
    d = r->sampling.top_p;
    if ((st = get_number(f, root, "top_p", 0, 1, &d)) != LK_OK) return st;
    r->sampling.top_p = (float)d;
    d = r->sampling.min_p;
    if ((st = get_number(f, root, "min_p", 0, 1, &d)) != LK_OK) return st;
    r->sampling.min_p = (float)d;
    d = r->sampling.presence_penalty;
    if ((st = get_number(f, root, "presence_penalty", -2, 2, &d)) != LK_OK) return st;
    r->sampling.presence_penalty = (float)d;
    d = r->sampling.frequency_penalty;
    if ((st = get_number(f, root, "frequency_penalty", -2, 2, &d)) != LK_OK) return st;
    r->sampling.frequency_penalty = (float)d;
    d = r->sampling.repeat_penalty;
    if ((st = get_number(f, root, "repeat_penalty", 0, 10, &d)) != LK_OK) return st;
    r->sampling.repeat_penalty = (float)d;
    if ((v = field(root, "top_k"))) {
        if ((st = get_int(f, v, "top_k", 0, INT32_MAX, &i64)) != LK_OK) return st;
        r->sampling.top_k = (int32_t)i64;
    }
    if ((v = field(root, "seed"))) {
        if ((st = get_int(f, v, "seed", INT64_MIN / 2, INT64_MAX / 2, &i64)) != LK_OK) return st;
        r->sampling.seed = (uint64_t)i64;
        r->seed_given = true;
    }
    if ((st = parse_stops(f, root, r)) != LK_OK) return st;
    if ((st = parse_logit_bias(f, root, r)) != LK_OK) return st;
    if ((st = parse_logprobs(f, root, r)) != LK_OK) return st;
    if ((st = get_bool(f, root, "stream", &r->stream)) != LK_OK) return st;
    if (r->api == SRV_API_COMPLETION && (st = get_bool(f, root, "echo", &r->echo)) != LK_OK) return st;
    const cJSON *so = field(root, "stream_options");
    if (so) {
        if (!cJSON_IsObject(so))
            return fail(f, "stream_options", "'%s' must be an object, not %s", lk_json_type_name(so));
        const cJSON *iu = field(so, "include_usage");
        if (iu && !cJSON_IsBool(iu))
            return fail(f, "stream_options.include_usage", "'%s' must be true or false, not %s", lk_json_type_name(iu));
        r->include_usage = cJSON_IsTrue(iu);
    }
    return LK_OK;
}

lk_status srv_openai_request_parse(const char *body, size_t len, srv_api api, srv_openai_request *out,
                                   char *param, size_t param_size, lk_error *err) {
    memset(out, 0, sizeof *out);
    out->api = api;
    out->n = 1;
    out->max_tokens = -1;
    /* OpenAI's defaults: plain sampling at temperature 1, no truncation */
    lk_sampler_params_default(&out->sampling);
    out->sampling.temperature = 1.0f;
    out->sampling.top_k = 0;
    out->sampling.top_p = 1.0f;
    out->sampling.min_p = 0.0f;
    out->sampling.seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out;
    if (param_size) param[0] = '\0';
    fail_ctx f = {param, param_size, err};

    const char *where = NULL; /* not cJSON_GetErrorPtr: a global, and requests run in parallel */
    out->root = cJSON_ParseWithLengthOpts(body, len, &where, 0);
    if (!out->root) {
        size_t at = where && where >= body && where <= body + len ? (size_t)(where - body) : 0;
        return lk_error_set(err, LK_ERR_ARG, "the request body is not valid JSON (error near byte %zu)", at);
    }
    if (!cJSON_IsObject(out->root))
        return lk_error_set(err, LK_ERR_ARG, "the request body must be a JSON object, not %s",
                            lk_json_type_name(out->root));
    return parse_fields(&f, out);
}

void srv_openai_request_free(srv_openai_request *r) {
    if (!r) return;
    for (int i = 0; i < r->n_prompts; i++) free(r->prompts[i].tokens);
    free(r->bias);
    cJSON_Delete(r->messages);
    cJSON_Delete(r->root);
    memset(r, 0, sizeof *r);
}
