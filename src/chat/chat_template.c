/* The public chat-template API (include/llmkit.h): parse once, render many
 * times. Parsing owns an arena holding the normalised text and the tree;
 * each render owns another for its values, freed before returning, so the
 * caller only ever frees the output string. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "chat/chat_template.h"
#include "chat/jinja.h"

struct lk_chat_template {
    jparse parse;
    jnode *root;
    char name[256];
};


static void parse_oom(void *user) {
    jparse *p = user;
    lk_error_set(p->err, LK_ERR_NOMEM, "%s: out of memory while parsing the template", p->name);
    longjmp(p->jb, 1);
}

lk_status lk_chat_template_parse(const char *text, size_t len, const char *name, lk_chat_template **out,
                                 lk_error *err) {
    *out = NULL;
    if (!text) return lk_error_set(err, LK_ERR_ARG, "chat template: no text given");
    lk_chat_template *t = calloc(1, sizeof *t);
    if (!t) return lk_error_set(err, LK_ERR_NOMEM, "chat template: out of memory");
    snprintf(t->name, sizeof t->name, "%s", name ? name : "template");
    lk_error local;
    t->parse.err = err ? err : &local;
    t->parse.name = t->name;
    jarena_init(&t->parse.arena, (size_t)64 << 20, parse_oom, &t->parse);
    if (setjmp(t->parse.jb)) {
        lk_status st = t->parse.err->code;
        lk_chat_template_free(t);
        return st;
    }
    /* jinja2 turns \r\n and \r into \n and drops one trailing newline. */
    char *norm = jarena_alloc(&t->parse.arena, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\r') {
            norm[n++] = '\n';
            if (i + 1 < len && text[i + 1] == '\n') i++;
        } else {
            norm[n++] = text[i];
        }
    }
    if (n > 0 && norm[n - 1] == '\n') n--;
    norm[n] = '\0';
    t->root = jinja_parse(&t->parse, norm, n);
    if (!t->root) {
        lk_status st = t->parse.err->code;
        lk_chat_template_free(t);
        return st;
    }
    t->parse.err = NULL;
    *out = t;
    return LK_OK;
}

void lk_chat_template_free(lk_chat_template *t) {
    if (!t) return;
    jarena_free(&t->parse.arena);
    free(t);
}

static void render_oom(void *user) {
    jctx *c = user;
    jinja_fail(c, NULL, LK_ERR_NOMEM, "render memory limit (%zu bytes) exceeded", c->arena.limit);
}

lk_status lk_chat_template_render_cjson(const lk_chat_template *t, const cJSON *context,
                                        const lk_chat_template_options *opt, char **out, size_t *out_len,
                                        lk_error *err) {
    *out = NULL;
    if (out_len) *out_len = 0;
    if (context && !cJSON_IsObject(context))
        return lk_error_set(err, LK_ERR_ARG, "%s: the render context must be a JSON object", t->name);
    lk_chat_template_options o = opt ? *opt : (lk_chat_template_options){0};
    lk_error local;
    /* volatile: read after longjmp */
    jctx *volatile cv = calloc(1, sizeof(jctx));
    jctx *c = cv;
    if (!c) return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", t->name);
    c->err = err ? err : &local;
    c->name = t->name;
    c->max_steps = o.max_steps ? o.max_steps : 10000000;
    c->max_output = o.max_output ? o.max_output : (size_t)16 << 20;
    c->now = o.now ? o.now : (int64_t)time(NULL);
    jarena_init(&c->arena, o.max_memory ? o.max_memory : (size_t)512 << 20, render_oom, c);
    if (setjmp(c->jb)) {
        c = cv;
        lk_status st = c->err->code;
        jarena_free(&c->arena);
        free(c);
        return st;
    }
    jscope *globals = jarena_alloc(&c->arena, sizeof *globals);
    globals->vars = jv_dict(c, 8);
    jinja_add_globals(c, globals);
    jscope *top = jarena_alloc(&c->arena, sizeof *top);
    top->parent = globals;
    top->vars = context ? jinja_from_cjson(c, context) : jv_dict(c, 4);
    jbuf result;
    jbuf_init(&result, c);
    c->out = &result;
    jinja_exec(c, top, t->root);
    char *s = malloc(result.n + 1);
    if (!s) jinja_fail(c, NULL, LK_ERR_NOMEM, "out of memory copying the output");
    memcpy(s, result.s, result.n);
    s[result.n] = '\0';
    *out = s;
    if (out_len) *out_len = result.n;
    jarena_free(&c->arena);
    free(c);
    return LK_OK;
}

lk_status lk_chat_template_render(const lk_chat_template *t, const char *context_json,
                                  const lk_chat_template_options *opt, char **out, size_t *out_len,
                                  lk_error *err) {
    *out = NULL;
    cJSON *ctx = NULL;
    if (context_json) {
        ctx = cJSON_Parse(context_json);
        if (!ctx) return lk_error_set(err, LK_ERR_ARG, "%s: the render context is not valid JSON", t->name);
    }
    lk_status st = lk_chat_template_render_cjson(t, ctx, opt, out, out_len, err);
    cJSON_Delete(ctx);
    return st;
}

const char *const lk_chat_turn_markers[] = {"<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>",
                                            "<|endoftext|>", "<|end_of_text|>", NULL};

lk_status lk_chat_render_generation_prompt(const lk_chat_template *t, const cJSON *vars,
                                           const cJSON *messages, char **out, size_t *out_len,
                                           lk_error *err) {
    cJSON *ctx = vars ? cJSON_Duplicate(vars, 1) : cJSON_CreateObject();
    if (!ctx || !cJSON_AddItemReferenceToObject(ctx, "messages", (cJSON *)messages) ||
        !cJSON_AddNullToObject(ctx, "tools") || !cJSON_AddNullToObject(ctx, "documents") ||
        !cJSON_AddBoolToObject(ctx, "add_generation_prompt", true)) {
        cJSON_Delete(ctx);
        return lk_error_set(err, LK_ERR_NOMEM, "out of memory rendering the chat prompt");
    }
    lk_status st = lk_chat_template_render_cjson(t, ctx, NULL, out, out_len, err);
    cJSON_Delete(ctx);
    return st;
}
