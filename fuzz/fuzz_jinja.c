/* Fuzz target for the chat-template engine: arbitrary bytes are parsed as a
 * template and, when they parse, rendered against a fixed conversation with
 * tools. Small step, output and memory budgets keep endless loops and
 * exponential strings from hanging or exhausting the fuzzer; any crash,
 * sanitizer report or leak is a bug. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "llmkit.h"

static const char k_context[] =
    "{\"messages\": ["
    "{\"role\": \"system\", \"content\": \"You are helpful.\"},"
    "{\"role\": \"user\", \"content\": \"你好 <b> \\\"q\\\"\"},"
    "{\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"id\": \"call12345\", \"type\": \"function\","
    " \"function\": {\"name\": \"f\", \"arguments\": {\"x\": 1.5, \"y\": [true, null]}}}]},"
    "{\"role\": \"tool\", \"content\": \"42\"},"
    "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"hi\"}]}],"
    " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \"d\","
    " \"parameters\": {\"type\": \"object\", \"properties\": {\"x\": {\"type\": \"number\"}}}}}],"
    " \"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\","
    " \"enable_thinking\": false, \"documents\": null}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lk_chat_template *t;
    lk_error err;
    if (lk_chat_template_parse((const char *)data, size, "fuzz", &t, &err) != LK_OK) return 0;
    lk_chat_template_options opt = {.now = 1785056700, .max_steps = 200000, .max_output = 1 << 20,
                                    .max_memory = 64 << 20};
    char *out = NULL;
    if (lk_chat_template_render(t, k_context, &opt, &out, NULL, &err) == LK_OK) free(out);
    lk_chat_template_free(t);
    return 0;
}
