/* `llmkit template`: prints the exact prompt a chat template makes of an
 * OpenAI-style messages array, rendered as transformers'
 * apply_chat_template would, so prompts can be debugged without a model. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mmap.h"
#include "chat/chat_template.h"
#include "chat/template_source.h"
#include "chat/prompt_tokens.h"
#include "commands.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: llmkit template TEMPLATE (--messages FILE.json | --context FILE.json) [options]\n"
            "\n"
            "Prints the prompt that TEMPLATE makes of a conversation, byte for byte as\n"
            "Hugging Face transformers' apply_chat_template renders it.\n"
            "\n"
            "TEMPLATE is a GGUF model (tokenizer.chat_template), a .jinja file, a\n"
            "tokenizer_config.json or chat_template.json (their chat_template member), or\n"
            "a Hugging Face model directory. bos_token, eos_token, ... come from the GGUF's\n"
            "vocabulary or the tokenizer_config.json beside the template.\n"
            "\n"
            "options:\n"
            "  --messages FILE        JSON array of {role, content, ...} messages, or an object\n"
            "                         with \"messages\" (and optionally \"tools\"); - reads stdin\n"
            "  --tools FILE           JSON array of tool (function) definitions\n"
            "  --context FILE         JSON object of template variables (messages, tools,\n"
            "                         bos_token, enable_thinking, ...); the other options\n"
            "                         override what it sets\n"
            "  --no-generation-prompt do not end with the assistant's turn header\n"
            "                         (add_generation_prompt=false)\n"
            "  --var NAME=JSON        an extra template variable, e.g. --var enable_thinking=false\n"
            "                         or --var bos_token='\"<s>\"' (repeatable)\n"
            "  --variant NAME         which template of a named list (default, tool_use, rag)\n"
            "  --date YYYY-MM-DD      the date strftime_now() sees (default: today, UTC)\n"
            "  --tokens               print the prompt's token ids (as chat feeds them to the\n"
            "                         model) instead of its text; TEMPLATE must be a model\n"
            "                         (GGUF or HF directory) or --tokenizer given\n"
            "  --tokenizer PATH       the tokenizer for --tokens (default: TEMPLATE)\n"
            "  -h, --help             this help\n");
}

/* --tokens: the ids chat would feed the model for this prompt. */
static int print_tokens(const char *tokenizer_path, const char *text, size_t len) {
    lk_error err;
    lk_tokenizer *tok;
    if (lk_tokenizer_load(tokenizer_path, &tok, &err) != LK_OK) {
        cli_error("template: --tokens needs a tokenizer (a model, or --tokenizer PATH): %s", err.msg);
        return 1;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (lk_chat_prompt_tokens(tok, text, len, &ids, &n, &err) != LK_OK) {
        rc = cli_fail(&err);
    } else {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        printf("\n");
    }
    free(ids);
    lk_tokenizer_free(tok);
    return rc;
}

static cJSON *read_json_arg(const char *path, lk_error *err) {
    char *text = NULL;
    size_t n = 0;
    if (strcmp(path, "-") == 0) {
        size_t cap = 1 << 16;
        text = malloc(cap);
        size_t got;
        while (text && (got = fread(text + n, 1, cap - n - 1, stdin)) > 0) {
            n += got;
            if (cap - n - 1 == 0) {
                char *t = realloc(text, cap * 2);
                if (!t) {
                    free(text);
                    text = NULL;
                    break;
                }
                text = t;
                cap *= 2;
            }
        }
        if (!text) {
            snprintf(err->msg, sizeof err->msg, "out of memory reading stdin");
            return NULL;
        }
        text[n] = '\0';
    } else if (lk_read_file(path, (size_t)256 << 20, &text, &n, err) != LK_OK) {
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, n);
    free(text);
    if (!j) snprintf(err->msg, sizeof err->msg, "%s: not valid JSON", path);
    return j;
}

int cmd_template(int argc, char **argv) {
    const char *tmpl_path = NULL, *messages_path = NULL, *tools_path = NULL, *variant = NULL, *date = NULL;
    const char *context_path = NULL;
    bool gen_prompt = true, tokens = false;
    const char *tokenizer_path = NULL;
    const char *vars[64];
    int nvars = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--messages") == 0 && has_next) {
            messages_path = argv[++i];
        } else if (strcmp(a, "--context") == 0 && has_next) {
            context_path = argv[++i];
        } else if (strcmp(a, "--tools") == 0 && has_next) {
            tools_path = argv[++i];
        } else if (strcmp(a, "--variant") == 0 && has_next) {
            variant = argv[++i];
        } else if (strcmp(a, "--date") == 0 && has_next) {
            date = argv[++i];
        } else if (strcmp(a, "--var") == 0 && has_next) {
            if (nvars == 64) {
                cli_error("too many --var options (64 at most)");
                return 2;
            }
            vars[nvars++] = argv[++i];
        } else if (strcmp(a, "--no-generation-prompt") == 0) {
            gen_prompt = false;
        } else if (strcmp(a, "--tokens") == 0) {
            tokens = true;
        } else if (strcmp(a, "--tokenizer") == 0 && has_next) {
            tokenizer_path = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("template: unknown option or missing value: %s", a);
            usage(stderr);
            return 2;
        } else if (!tmpl_path) {
            tmpl_path = a;
        } else {
            cli_error("template: unexpected argument %s", a);
            return 2;
        }
    }
    if (!tmpl_path || (!messages_path && !context_path)) {
        cli_error("template: %s", !tmpl_path ? "no TEMPLATE given" : "--messages FILE (or --context FILE) is required");
        usage(stderr);
        return 2;
    }
    char model_path[4096];
    if (cli_resolve_model(tmpl_path, model_path, sizeof model_path) != 0) return 1;
    tmpl_path = model_path;
    int64_t now = 0;
    if (date) {
        struct tm tm = {0};
        char *end = strptime(date, "%Y-%m-%d", &tm);
        if (!end || *end) {
            cli_error("template: --date wants YYYY-MM-DD, got '%s'", date);
            return 2;
        }
        now = (int64_t)timegm(&tm);
    }

    lk_error err = {0};
    cJSON *base = NULL;
    if (context_path) {
        base = read_json_arg(context_path, &err);
        if (!base) return cli_fail(&err);
        if (!cJSON_IsObject(base)) {
            cJSON_Delete(base);
            cli_error("%s: the context must be a JSON object of template variables", context_path);
            return 1;
        }
    }
    cJSON *msgs = NULL, *tools = NULL;
    if (messages_path) {
        msgs = read_json_arg(messages_path, &err);
        if (!msgs) {
            cJSON_Delete(base);
            return cli_fail(&err);
        }
    } else {
        msgs = cJSON_DetachItemFromObjectCaseSensitive(base, "messages");
        tools = cJSON_DetachItemFromObjectCaseSensitive(base, "tools");
        if (!msgs) msgs = cJSON_CreateArray();
    }
    if (cJSON_IsObject(msgs)) {
        tools = cJSON_DetachItemFromObjectCaseSensitive(msgs, "tools");
        cJSON *inner = cJSON_DetachItemFromObjectCaseSensitive(msgs, "messages");
        cJSON_Delete(msgs);
        msgs = inner;
    }
    if (!cJSON_IsArray(msgs)) {
        cJSON_Delete(msgs);
        cJSON_Delete(tools);
        cJSON_Delete(base);
        cli_error("%s: expected a JSON array of messages (or an object with \"messages\")",
                  messages_path ? messages_path : context_path);
        return 1;
    }
    if (tools_path) {
        cJSON_Delete(tools);
        tools = read_json_arg(tools_path, &err);
        if (!tools) {
            cJSON_Delete(msgs);
            cJSON_Delete(base);
            return cli_fail(&err);
        }
    }

    lk_template_source src;
    if (lk_template_source_load(tmpl_path, variant, tools != NULL && !cJSON_IsNull(tools), &src, &err) != LK_OK) {
        cJSON_Delete(msgs);
        cJSON_Delete(tools);
        cJSON_Delete(base);
        return cli_fail(&err);
    }
    /* the context as apply_chat_template builds it: special tokens, then the
     * --context variables, messages, tools, documents, add_generation_prompt */
    cJSON *ctx = cJSON_Duplicate(src.special_tokens, 1);
    cJSON *it = base ? base->child : NULL;
    for (; it; it = it->next) {
        cJSON_DeleteItemFromObjectCaseSensitive(ctx, it->string);
        cJSON_AddItemToObject(ctx, it->string, cJSON_Duplicate(it, 1));
    }
    cJSON_AddItemToObject(ctx, "messages", msgs);
    cJSON_AddItemToObject(ctx, "tools", tools ? tools : cJSON_CreateNull());
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "documents")) cJSON_AddNullToObject(ctx, "documents");
    if (!cJSON_GetObjectItemCaseSensitive(ctx, "add_generation_prompt") || !gen_prompt) {
        cJSON_DeleteItemFromObjectCaseSensitive(ctx, "add_generation_prompt");
        cJSON_AddBoolToObject(ctx, "add_generation_prompt", gen_prompt);
    }
    cJSON_Delete(base);
    int rc = 0;
    for (int i = 0; i < nvars && rc == 0; i++) {
        const char *eq = strchr(vars[i], '=');
        cJSON *v = eq ? cJSON_Parse(eq + 1) : NULL;
        if (!v) {
            cli_error("template: --var wants NAME=JSON (strings in quotes), got '%s'", vars[i]);
            rc = 2;
            break;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - vars[i]), vars[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(ctx, name);
        cJSON_AddItemToObject(ctx, name, v);
    }
    lk_chat_template *t = NULL;
    char *out = NULL;
    size_t len = 0;
    if (rc == 0 && lk_chat_template_parse(src.text, strlen(src.text), src.path, &t, &err) != LK_OK) rc = cli_fail(&err);
    lk_chat_template_options opt = {.now = now};
    if (rc == 0 && lk_chat_template_render_cjson(t, ctx, &opt, &out, &len, &err) != LK_OK) rc = cli_fail(&err);
    if (rc == 0 && !tokens) fwrite(out, 1, len, stdout);
    if (rc == 0 && tokens) rc = print_tokens(tokenizer_path ? tokenizer_path : tmpl_path, out, len);
    free(out);
    lk_chat_template_free(t);
    cJSON_Delete(ctx);
    lk_template_source_free(&src);
    return rc;
}
