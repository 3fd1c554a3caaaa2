/* Fuzz target for what the hub client trusts least: the model-info listing
 * (JSON from the network) and the names typed by users. Parse the input as a
 * listing; then as a "repo[@rev]" argument. Every name accepted must stay
 * inside the store: relative, no "." or ".." part, no backslash. Errors are
 * expected; a crash, sanitizer report, leak or broken invariant is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/pull.h"
#include "hub/store.h"

/* A path that stays below its folder: relative, no empty, "." or ".." part. */
static int stays_inside(const char *p) {
    if (!*p || *p == '/' || strchr(p, '\\')) return 0;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
        if (!end) return 1;
        p = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_error err;
    lk_hub_listing l;
    if (lk_hub_parse_listing((const char *)data, size, "fuzz", &l, &err) == LK_OK) {
        for (size_t i = 0; i < l.count; i++)
            if (!stays_inside(l.names[i])) __builtin_trap();
        if (l.commit[0] && !stays_inside(l.commit)) __builtin_trap();
        lk_hub_listing_free(&l);
    }
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char repo[LK_REPO_ID_MAX + 1], rev[LK_REVISION_MAX + 1];
    bool given;
    if (lk_hub_parse_ref(text, repo, rev, &given, &err) == LK_OK) {
        if (!stays_inside(repo) || !stays_inside(rev) || strchr(strchr(repo, '/') + 1, '/'))
            __builtin_trap();
    }
    if (lk_hub_check_filename(text, &err) == LK_OK && !stays_inside(text)) __builtin_trap();
    free(text);
    return 0;
}
