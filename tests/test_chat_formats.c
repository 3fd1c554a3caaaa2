/* The built-in chat formats (src/chat/builtin_formats.c) render plain
 * system/user/assistant conversations byte for byte as the official
 * templates in the fixtures do: chatml as Qwen2.5 (with a system message,
 * which Qwen otherwise supplies itself), llama2 and llama3 as chujiezheng's
 * llama-2-chat / llama-3-instruct (their pretty-printed form with the
 * indentation and newlines removed, as that project applies them), gemma as
 * Gemma 3's chat_template.json, phi3 as Phi-3-mini's tokenizer_config.json.
 * The template engine itself is checked against Python's jinja2 in
 * test_chat_template. */
#include <stdlib.h>
#include <string.h>

#include "chat/builtin_formats.h"
#include "chat/template_source.h"
#include "test.h"

static const char *k_convs[] = {
    "[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi \\u4f60\\u597d\"},"
    "{\"role\":\"assistant\",\"content\":\"Hello.\"},{\"role\":\"user\",\"content\":\"Again?\"}]",
    "[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello.\"},"
    "{\"role\":\"user\",\"content\":\"Again?\"}]",
};

static char *render(const char *text, const char *messages) {
    lk_error err;
    lk_chat_template *t = NULL;
    if (lk_chat_template_parse(text, strlen(text), "t", &t, &err) != LK_OK) return NULL;
    char ctx[2048];
    snprintf(ctx, sizeof ctx,
             "{\"messages\": %s, \"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}",
             messages);
    char *out = NULL;
    lk_status st = lk_chat_template_render(t, ctx, NULL, &out, NULL, &err);
    lk_chat_template_free(t);
    return st == LK_OK ? out : NULL;
}

/* chujiezheng's files are indented for reading; drop "    " and newlines. */
static void squeeze(char *s) {
    char *w = s;
    for (char *r = s; *r;) {
        if (!strncmp(r, "    ", 4)) r += 4;
        else if (*r == '\n') r++;
        else *w++ = *r++;
    }
    *w = '\0';
}

static void compare(const char *format, const char *rel, bool squeezed, int first_conv, int n_conv) {
    const char *path = lk_test_fixture(rel);
    lk_template_source src;
    lk_error err;
    if (!path || lk_template_source_load(path, NULL, false, &src, &err) != LK_OK) {
        CHECK_MSG(false, "fixture %s", rel);
        return;
    }
    if (squeezed) squeeze(src.text);
    for (int i = first_conv; i < first_conv + n_conv; i++) {
        char *want = render(src.text, k_convs[i]);
        char *got = render(lk_chat_format_find(format)->jinja, k_convs[i]);
        CHECK_MSG(want && got && !strcmp(want, got), "%s conversation %d:\n got  %s\n want %s", format, i,
                  got ? got : "(error)", want ? want : "(error)");
        free(want);
        free(got);
    }
    lk_template_source_free(&src);
}

int main(void) {
    if (!lk_test_fixture("chat-templates/tokenizer_configs/phi-3-mini/tokenizer_config.json"))
        lk_test_skip("fixtures chat-templates/ not found");
    compare("chatml", "chat-templates/llamacpp-templates/Qwen-Qwen2.5-7B-Instruct.jinja", false, 0, 1);
    compare("llama2", "chat-templates/chujiezheng/chat_templates/llama-2-chat.jinja", true, 0, 2);
    compare("llama3", "chat-templates/chujiezheng/chat_templates/llama-3-instruct.jinja", true, 0, 2);
    compare("gemma", "chat-templates/tokenizer_configs/gemma-3/chat_template.json", false, 0, 2);
    compare("phi3", "chat-templates/tokenizer_configs/phi-3-mini/tokenizer_config.json", false, 0, 2);
    /* every format renders both conversations */
    for (size_t i = 0; lk_chat_format_at(i); i++)
        for (int c = 0; c < 2; c++) {
            char *out = render(lk_chat_format_at(i)->jinja, k_convs[c]);
            CHECK_MSG(out && strstr(out, "Again?"), "%s renders", lk_chat_format_at(i)->name);
            free(out);
        }
    CHECK(lk_chat_format_find("nope") == NULL);
    return lk_test_finish("chat_formats");
}
