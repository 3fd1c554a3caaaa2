/* The template engine's features one by one: every filter, test, method,
 * statement and whitespace rule in tests/chat/features.json is
 * rendered and compared with the output Python's jinja2 gave for the same
 * template (written by tests/chat/make_golden.py), plus the things jinja2
 * cannot tell us: error messages with line and column, the render budget,
 * and bad input. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/mmap.h"
#include "chat/chat_template.h"
#include "test.h"

static lk_status render(const char *tmpl, const char *ctx_json, const lk_chat_template_options *opt, char **out,
                        lk_error *err) {
    lk_chat_template *t;
    *out = NULL;
    lk_status st = lk_chat_template_parse(tmpl, strlen(tmpl), "t.jinja", &t, err);
    if (st != LK_OK) return st;
    st = lk_chat_template_render(t, ctx_json, opt, out, NULL, err);
    lk_chat_template_free(t);
    return st;
}

static void test_features(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/chat/features.json", lk_test_source_dir());
    char *text;
    size_t n;
    lk_error err;
    CHECK_OK(lk_read_file(path, 1 << 24, &text, &n, &err), &err);
    cJSON *j = cJSON_Parse(text);
    free(text);
    CHECK(j != NULL);
    if (!j) return;
    cJSON *ctx = cJSON_GetObjectItemCaseSensitive(j, "context");
    lk_chat_template_options opt = {.now = (int64_t)cJSON_GetObjectItemCaseSensitive(j, "fixed_epoch")->valuedouble};
    cJSON *c;
    int pass = 0, total = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cases")) {
        const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
        const char *tmpl = cJSON_GetObjectItemCaseSensitive(c, "template")->valuestring;
        cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "output");
        cJSON *want_err = cJSON_GetObjectItemCaseSensitive(c, "error");
        cJSON *want_msg = cJSON_GetObjectItemCaseSensitive(c, "message");
        lk_chat_template *t;
        char *out = NULL;
        lk_status st = lk_chat_template_parse(tmpl, strlen(tmpl), name, &t, &err);
        if (st == LK_OK) {
            st = lk_chat_template_render_cjson(t, ctx, &opt, &out, NULL, &err);
            lk_chat_template_free(t);
        }
        total++;
        if (cJSON_IsString(want)) {
            CHECK_MSG(st == LK_OK && strcmp(out, want->valuestring) == 0, "%s: expected [%s], got [%s]", name,
                      want->valuestring, st == LK_OK ? out : err.msg);
            pass += st == LK_OK && strcmp(out, want->valuestring) == 0;
        } else {
            bool raise = strcmp(want_err->valuestring, "TemplateError") == 0;
            bool ok = st != LK_OK && (!raise || strstr(err.msg, want_msg->valuestring));
            CHECK_MSG(ok, "%s: expected %s: %s, got %s", name, want_err->valuestring, want_msg->valuestring,
                      st == LK_OK ? out : err.msg);
            pass += ok;
        }
        free(out);
    }
    printf("features: %d / %d identical to jinja2\n", pass, total);
    cJSON_Delete(j);
}

/* Errors carry the template name, line and column of the offending tag. */
static void expect_error(const char *tmpl, const char *ctx, const char *want_substr) {
    char *out;
    lk_error err;
    lk_status st = render(tmpl, ctx, NULL, &out, &err);
    CHECK_MSG(st != LK_OK, "'%s' rendered [%s] instead of failing", tmpl, out ? out : "");
    CHECK_MSG(st == LK_OK || strstr(err.msg, want_substr), "'%s': error [%s] lacks [%s]", tmpl, err.msg, want_substr);
    free(out);
}

static void test_errors(void) {
    expect_error("a\n{% if x %}\nb", "{}", "t.jinja:2:4: template syntax error: 'if' block is never closed");
    expect_error("{{ 1 + }}", "{}", "t.jinja:1:8: template syntax error");
    expect_error("ab\n  {% endfor %}", "{}", "t.jinja:2:6: template syntax error: unexpected 'endfor'");
    expect_error("{% frobnicate %}", "{}", "unknown or unsupported statement 'frobnicate'");
    expect_error("{{ 'abc }}", "{}", "unterminated string");
    expect_error("{{ x", "{}", "unclosed tag");
    expect_error("{# never closed", "{}", "unclosed comment");
    expect_error("{% include 'x.jinja' %}", "{}", "unsupported statement 'include'");
    expect_error("{% for x in y recursive %}{% endfor %}", "{}", "recursive loops are not supported");
    expect_error("x\n\n   {{ raise_exception('Only user and assistant roles') }}", "{}",
                 "t.jinja:3:7: raise_exception: Only user and assistant roles");
    expect_error("{{ undefined_macro(1) }}", "{}", "t.jinja:1:4: UndefinedError: 'undefined_macro' is undefined");
    expect_error("{{ x | nosuchfilter }}", "{}", "no filter named 'nosuchfilter'");
    expect_error("{{ x is nosuchtest }}", "{}", "no test named 'nosuchtest'");
    expect_error("{{ x | groupby('a') }}", "{}", "the jinja2 filter 'groupby' is not supported by llmkit");
    expect_error("{{ messages[0].role.x.y }}", "{\"messages\": []}", "UndefinedError");
    expect_error("{{ 'a' + 1 }}", "{}", "TypeError");
    expect_error("{% set x = 1 %}{% set x.y = 2 %}", "{}", "cannot assign attribute on non-namespace object");
    expect_error("{{ 9223372036854775807 + 1 }}", "{}", "integer overflow");
}

static void test_budget(void) {
    char *out;
    lk_error err;
    lk_chat_template_options opt = {.max_steps = 100000};
    CHECK(render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "{}", &opt,
                 &out, &err) == LK_ERR_RANGE);
    CHECK(strstr(err.msg, "step limit") != NULL);
    lk_chat_template_options small = {.max_output = 1000};
    CHECK(render("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", "{}", &small, &out, &err) == LK_ERR_RANGE);
    CHECK(strstr(err.msg, "output exceeds") != NULL);
    /* exponential string growth hits the memory limit, not the machine's */
    lk_chat_template_options mem = {.max_memory = 1 << 20};
    CHECK(render("{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                 "{}", &mem, &out, &err) != LK_OK);
    expect_error("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "{}", "nested too deeply");
    CHECK(render("{{ range(1000000) | length }}", "{}", NULL, &out, &err) != LK_OK);
    /* deep nesting and long operator chains end with an error, not a stack overflow */
    size_t n = 20000;
    char *deep = malloc(12 * n + 16), *p = deep;
    p += sprintf(p, "{{ ");
    for (size_t i = 0; i < n; i++) *p++ = '(';
    *p++ = '1';
    for (size_t i = 0; i < n; i++) *p++ = ')';
    strcpy(p, " }}");
    CHECK(render(deep, "{}", NULL, &out, &err) == LK_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "nesting deeper") != NULL, "%s", err.msg);
    p = deep + sprintf(deep, "{{ ");
    for (size_t i = 0; i < n; i++) p += sprintf(p, "1+");
    strcpy(p, "1 }}");
    CHECK(render(deep, "{}", NULL, &out, &err) == LK_ERR_RANGE);
    CHECK_MSG(strstr(err.msg, "expression nested deeper") != NULL, "%s", err.msg);
    p = deep;
    for (size_t i = 0; i < n; i++) p += sprintf(p, "{%% if 1 %%}");
    strcpy(p, "x");
    CHECK(render(deep, "{}", NULL, &out, &err) == LK_ERR_FORMAT);
    CHECK_MSG(strstr(err.msg, "nesting deeper") != NULL, "%s", err.msg);
    free(deep);
    /* a value nested by a loop prints as an error past 400 levels */
    CHECK(render("{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x }}",
                 "{}", NULL, &out, &err) == LK_ERR_RANGE);
}

static void test_api(void) {
    char *out;
    lk_error err;
    lk_chat_template *t;
    const char *src = "{{ bos_token }}{{ messages[0]['content'] }}";
    CHECK_OK(lk_chat_template_parse(src, strlen(src), "x", &t, &err), &err);
    CHECK(lk_chat_template_render(t, "not json", NULL, &out, NULL, &err) == LK_ERR_ARG);
    CHECK(lk_chat_template_render(t, "[1]", NULL, &out, NULL, &err) == LK_ERR_ARG);
    size_t len;
    CHECK_OK(lk_chat_template_render(t, "{\"bos_token\": \"<s>\", \"messages\": [{\"content\": \"你好\"}]}", NULL, &out,
                                     &len, &err),
             &err);
    CHECK_EQ_STR(out, "<s>你好");
    CHECK_EQ_INT(len, strlen("<s>你好"));
    free(out);
    /* NULL context: no variables at all, so messages[0] is an error */
    CHECK(lk_chat_template_render(t, NULL, NULL, &out, NULL, &err) == LK_ERR_ARG);
    CHECK(strstr(err.msg, "x:1:27: UndefinedError: 'messages' is undefined") != NULL);
    lk_chat_template_free(t);
    lk_chat_template_free(NULL);
    /* embedded bytes that are not UTF-8 pass through unharmed */
    CHECK_OK(render("a\xff{{ 'b\xfe' }}", "{}", NULL, &out, &err), &err);
    CHECK_EQ_STR(out, "a\xff" "b\xfe");
    free(out);
}

int main(void) {
    test_features();
    test_errors();
    test_budget();
    test_api();
    return lk_test_finish("jinja");
}
