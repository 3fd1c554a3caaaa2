/* Chat prompts for the server; see chat_prompt.h. */
#include "server/chat_prompt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "chat/builtin_formats.h"
#include "chat/chat_template.h"
#include "chat/prompt_tokens.h"
#include "chat/template_source.h"

struct srv_chat_prompt {
    lk_template_source src;
    lk_chat_template *tmpl;
    cJSON *vars; /* bos_token, eos_token, ... */
    char name[1100];
    const char *stops[SRV_MAX_TURN_MARKERS];
    size_t n_stops;
};

static void add_stop(srv_chat_prompt *c, const char *text) {
    if (!text || !*text || c->n_stops == SRV_MAX_TURN_MARKERS) return;
    for (size_t i = 0; i < c->n_stops; i++)
        if (!strcmp(c->stops[i], text)) return;
    c->stops[c->n_stops++] = text;
}

static void set_var_if_missing(cJSON *vars, const char *name, const char *value) {
    if (value && *value && !cJSON_GetObjectItemCaseSensitive(vars, name)) cJSON_AddStringToObject(vars, name, value);
}

lk_status srv_chat_prompt_new(const char *model_path, const lk_model_file *mf, const char *template_file,
                              const char *format_name, srv_chat_prompt **out, lk_error *err) {
    *out = NULL;
    srv_chat_prompt *c = calloc(1, sizeof *c);
    if (!c) return lk_error_set(err, LK_ERR_NOMEM, "out of memory");
    const lk_model_meta *meta = lk_model_file_meta(mf);
    const lk_chat_format *fmt = NULL;
    const char *text;
    if (template_file) {
        if (lk_template_source_load(template_file, NULL, false, &c->src, err) != LK_OK) goto fail;
        text = c->src.text;
        snprintf(c->name, sizeof c->name, "%s", c->src.path);
    } else if (format_name || !meta->chat_template) {
        fmt = lk_chat_format_find(format_name ? format_name : "chatml");
        if (!fmt) {
            lk_error_set(err, LK_ERR_ARG, "unknown chat format '%s'", format_name);
            goto fail;
        }
        if (!format_name)
            lk_log(LK_LOG_WARN, "%s has no chat template: using the built-in chatml format "
                                "(choose another with --chat-format or --chat-template)", model_path);
        text = fmt->jinja;
        snprintf(c->name, sizeof c->name, "built-in %s", fmt->name);
    } else {
        if (lk_template_source_load(model_path, NULL, false, &c->src, err) != LK_OK) goto fail;
        text = c->src.text;
        snprintf(c->name, sizeof c->name, "%s", c->src.path);
    }
    if (lk_chat_template_parse(text, strlen(text), c->name, &c->tmpl, err) != LK_OK) goto fail;
    c->vars = c->src.special_tokens ? cJSON_Duplicate(c->src.special_tokens, 1) : cJSON_CreateObject();
    if (!c->vars) {
        lk_error_set(err, LK_ERR_NOMEM, "out of memory");
        goto fail;
    }
    set_var_if_missing(c->vars, "bos_token", meta->bos_text);
    set_var_if_missing(c->vars, "eos_token", meta->eos_text);
    if (fmt) add_stop(c, fmt->end_of_turn);
    for (int i = 0; lk_chat_turn_markers[i]; i++)
        if (strstr(text, lk_chat_turn_markers[i])) add_stop(c, lk_chat_turn_markers[i]);
    *out = c;
    return LK_OK;
fail:
    srv_chat_prompt_free(c);
    return err->code;
}

void srv_chat_prompt_free(srv_chat_prompt *c) {
    if (!c) return;
    lk_chat_template_free(c->tmpl);
    cJSON_Delete(c->vars);
    lk_template_source_free(&c->src);
    free(c);
}

const char *srv_chat_prompt_name(const srv_chat_prompt *c) { return c->name; }

size_t srv_chat_prompt_stops(const srv_chat_prompt *c, const char **stops, size_t max) {
    size_t n = 0;
    for (; n < c->n_stops && n < max; n++) stops[n] = c->stops[n];
    return n;
}

size_t srv_chat_prompt_stop_tokens(const srv_chat_prompt *c, const lk_tokenizer *tok, int32_t *ids,
                                   size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < c->n_stops && n < max; i++) {
        int32_t id = lk_tokenizer_find(tok, c->stops[i], strlen(c->stops[i]));
        if (id >= 0 && lk_tokenizer_is_special(tok, id)) ids[n++] = id;
    }
    return n;
}

lk_status srv_chat_prompt_tokens(const srv_chat_prompt *c, const lk_tokenizer *tok, const cJSON *messages,
                                 int32_t **ids, size_t *n_ids, lk_error *err) {
    char *text = NULL;
    size_t len = 0;
    lk_status st = lk_chat_render_generation_prompt(c->tmpl, c->vars, messages, &text, &len, err);
    if (st != LK_OK) {
        /* the template refused the conversation: the client's fault */
        if (st != LK_ERR_NOMEM) err->code = LK_ERR_ARG;
        return err->code;
    }
    st = lk_chat_prompt_tokens(tok, text, len, ids, n_ids, err);
    free(text);
    return st;
}
