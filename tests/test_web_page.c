/* The web chat page compiled into the library (tools/embed_web.cmake): one
 * self-contained UTF-8 HTML document that holds every web/ stylesheet and
 * script verbatim and points at no other file. */
#include <stdio.h>

#include "base/utf8.h"
#include "server/web_page.h"
#include "test.h"

/* The whole file in a malloc'd, NUL-terminated buffer, or NULL. */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)n + 1);
            if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            }
            if (buf) buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static void check_inlined(const char *page, const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/web/%s", lk_test_source_dir(), name);
    char *text = read_file(path);
    CHECK_MSG(text != NULL, "cannot read %s", path);
    if (!text) return;
    CHECK_MSG(strstr(page, text) != NULL, "the page does not hold web/%s as it is now", name);
    free(text);
}

int main(void) {
    size_t len = 0;
    const char *page = srv_web_page(&len);
    CHECK(page != NULL);
    CHECK(len > 1000);
    CHECK_EQ_INT(strlen(page), len); /* no NUL inside, NUL after */
    CHECK_EQ_INT(lk_utf8_validate(page, len), len);
    CHECK(strncmp(page, "<!doctype html>", 15) == 0);
    CHECK(strstr(page, "<meta charset=\"utf-8\">") != NULL);
    CHECK(strstr(page, "<meta name=\"viewport\"") != NULL);
    /* Everything inline: no script or stylesheet fetched from anywhere. */
    CHECK(strstr(page, "<script src=") == NULL);
    CHECK(strstr(page, "<link rel=\"stylesheet\"") == NULL);
    CHECK(strstr(page, "cdn") == NULL);
    CHECK(strstr(page, "/v1/chat/completions") != NULL);
    CHECK(strstr(page, "/v1/models") != NULL);
    CHECK(strstr(page, "中文") != NULL); /* the Chinese UI strings came through intact */
    const char *files[] = {"style.css", "markdown.js", "sse.js", "i18n.js", "app.js"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) check_inlined(page, files[i]);
    /* Same storage every call. */
    size_t len2 = 0;
    CHECK(srv_web_page(&len2) == page && len2 == len);
    return lk_test_finish("test_web_page");
}
