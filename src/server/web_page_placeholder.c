/* A stand-in for the web chat page until web/ provides the real one (this
 * file then goes away). */
#include "server/web_page.h"

#include <string.h>

static const char k_page[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>llmkit</title></head>\n"
    "<body><h1>llmkit serve</h1><p>The OpenAI-compatible API is at <code>/v1</code>: "
    "<code>/v1/models</code>, <code>/v1/chat/completions</code>, <code>/v1/completions</code>; "
    "<code>/health</code> and <code>/metrics</code> beside it.</p></body></html>\n";

const char *srv_web_page(size_t *len) {
    *len = sizeof k_page - 1;
    return k_page;
}
