/* The OpenAI request parser (fields honoured, defaults, the bad field named)
 * and the response shapes (error envelope, chunks, usage), without a model. */
#include <cjson/cJSON.h>

#include "server/metrics.h"
#include "server/openai_request.h"
#include "server/openai_response.h"
#include "test.h"

static lk_status parse(const char *body, srv_api api, srv_openai_request *r, char *param, lk_error *err) {
    return srv_openai_request_parse(body, strlen(body), api, r, param, 96, err);
}

/* The body must be refused, naming `want_param` ("" for none). */
static void refuse(const char *body, srv_api api, const char *want_param) {
    srv_openai_request r;
    char param[96];
    lk_error err = {0};
    lk_status st = parse(body, api, &r, param, &err);
    CHECK_MSG(st == LK_ERR_ARG, "%s accepted", body);
    CHECK_MSG(!strcmp(param, want_param), "%s: param '%s', want '%s' (%s)", body, param, want_param, err.msg);
    CHECK_MSG(err.msg[0] != '\0', "%s: no message", body);
    if (*want_param) CHECK_MSG(strstr(err.msg, want_param) != NULL, "message names the field: %s", err.msg);
    srv_openai_request_free(&r);
}

static void test_chat(void) {
    srv_openai_request r;
    char param[96];
    lk_error err = {0};
    CHECK_OK(parse("{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"be brief\"},"
                   "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"},{\"type\":\"text\",\"text\":\" you\"}]},"
                   "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]},{\"role\":\"tool\",\"content\":\"42\"}],"
                   "\"max_tokens\":7,\"max_completion_tokens\":9,\"temperature\":0.5,\"top_p\":0.9,\"top_k\":20,"
                   "\"min_p\":0.1,\"seed\":42,\"presence_penalty\":0.5,\"frequency_penalty\":-0.5,\"repeat_penalty\":1.1,"
                   "\"stop\":[\"a\",\"\",\"b\"],\"logprobs\":true,\"top_logprobs\":3,\"stream\":true,"
                   "\"stream_options\":{\"include_usage\":true},\"logit_bias\":{\"5\":-100,\"7\":2},\"n\":2,"
                   "\"user\":\"u\",\"some_new_field\":[1,2]}",
                   SRV_API_CHAT, &r, param, &err),
             &err);
    CHECK_EQ_INT(cJSON_GetArraySize(r.messages), 4);
    const cJSON *m0 = cJSON_GetArrayItem(r.messages, 0), *m1 = cJSON_GetArrayItem(r.messages, 1);
    const cJSON *m2 = cJSON_GetArrayItem(r.messages, 2);
    CHECK_EQ_STR(cJSON_GetObjectItem(m0, "role")->valuestring, "system"); /* developer */
    CHECK_EQ_STR(cJSON_GetObjectItem(m1, "content")->valuestring, "hi you");
    CHECK_EQ_STR(cJSON_GetObjectItem(m2, "content")->valuestring, "");
    CHECK(cJSON_GetObjectItem(m2, "tool_calls") != NULL);
    CHECK_EQ_INT(r.max_tokens, 9);
    CHECK_NEAR(r.sampling.temperature, 0.5, 1e-6);
    CHECK_NEAR(r.sampling.top_p, 0.9, 1e-6);
    CHECK_EQ_INT(r.sampling.top_k, 20);
    CHECK_NEAR(r.sampling.min_p, 0.1, 1e-6);
    CHECK(r.seed_given && r.sampling.seed == 42);
    CHECK_NEAR(r.sampling.presence_penalty, 0.5, 1e-6);
    CHECK_NEAR(r.sampling.frequency_penalty, -0.5, 1e-6);
    CHECK_NEAR(r.sampling.repeat_penalty, 1.1, 1e-6);
    CHECK_EQ_INT(r.n_stops, 2); /* the empty one dropped */
    CHECK_EQ_STR(r.stops[1], "b");
    CHECK(r.logprobs && r.top_logprobs == 3 && r.stream && r.include_usage);
    CHECK_EQ_INT(r.sampling.n_logit_bias, 2);
    CHECK(r.sampling.logit_bias[0].token == 5 && isinf(r.sampling.logit_bias[0].bias));
    CHECK(r.sampling.logit_bias[1].token == 7 && r.sampling.logit_bias[1].bias == 2.0f);
    CHECK_EQ_INT(r.n, 2);
    CHECK_EQ_STR(r.model, "m");
    srv_openai_request_free(&r);

    /* OpenAI's defaults */
    CHECK_OK(parse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", SRV_API_CHAT, &r, param, &err), &err);
    CHECK(r.sampling.temperature == 1.0f && r.sampling.top_p == 1.0f && r.sampling.top_k == 0 &&
          r.sampling.min_p == 0.0f && r.max_tokens == -1 && r.n == 1 && !r.stream && !r.logprobs);
    srv_openai_request_free(&r);
}

static void test_completion(void) {
    srv_openai_request r;
    char param[96];
    lk_error err = {0};
    CHECK_OK(parse("{\"prompt\":[\"a\",[1,2,3]],\"echo\":true,\"logprobs\":2,\"n\":3}", SRV_API_COMPLETION, &r,
                   param, &err),
             &err);
    CHECK_EQ_INT(r.n_prompts, 2);
    CHECK_EQ_STR(r.prompts[0].text, "a");
    CHECK(r.prompts[1].text == NULL && r.prompts[1].n_tokens == 3 && r.prompts[1].tokens[2] == 3);
    CHECK(r.echo && r.logprobs && r.top_logprobs == 2 && r.n == 3);
    srv_openai_request_free(&r);
    CHECK_OK(parse("{\"prompt\":[5,6]}", SRV_API_COMPLETION, &r, param, &err), &err);
    CHECK(r.n_prompts == 1 && r.prompts[0].n_tokens == 2 && r.prompts[0].tokens[0] == 5);
    srv_openai_request_free(&r);
}

static void test_refusals(void) {
    refuse("{\"messages\": [", SRV_API_CHAT, "");
    refuse("", SRV_API_CHAT, "");
    refuse("[1]", SRV_API_CHAT, "");
    refuse("{}", SRV_API_CHAT, "messages");
    refuse("{\"messages\":[]}", SRV_API_CHAT, "messages");
    refuse("{\"messages\":{}}", SRV_API_CHAT, "messages");
    refuse("{\"messages\":[1]}", SRV_API_CHAT, "messages[0]");
    refuse("{\"messages\":[{\"content\":\"x\"}]}", SRV_API_CHAT, "messages[0].role");
    refuse("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"user\",\"content\":{}}]}", SRV_API_CHAT,
           "messages[1].content");
    refuse("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", SRV_API_CHAT,
           "messages[0].content[0]");
    const char *ok_msgs = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
    struct {
        const char *rest, *param;
    } bad[] = {
        {"\"temperature\":\"hot\"}", "temperature"}, {"\"temperature\":3}", "temperature"},
        {"\"top_p\":1.5}", "top_p"},                 {"\"top_k\":-1}", "top_k"},
        {"\"max_tokens\":0}", "max_tokens"},          {"\"max_tokens\":1.5}", "max_tokens"},
        {"\"max_tokens\":1e12}", "max_tokens"},       {"\"max_completion_tokens\":\"9\"}", "max_completion_tokens"},
        {"\"n\":0}", "n"},                            {"\"n\":17}", "n"},
        {"\"stop\":5}", "stop"},                      {"\"stop\":[\"a\",1]}", "stop"},
        {"\"stop\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}", "stop"},
        {"\"stream\":1}", "stream"},                  {"\"stream_options\":{\"include_usage\":\"y\"}}", "stream_options.include_usage"},
        {"\"logit_bias\":[1]}", "logit_bias"},         {"\"logit_bias\":{\"x\":1}}", "logit_bias"},
        {"\"logit_bias\":{\"1\":500}}", "logit_bias"}, {"\"logprobs\":3}", "logprobs"},
        {"\"top_logprobs\":2}", "top_logprobs"},       {"\"logprobs\":true,\"top_logprobs\":21}", "top_logprobs"},
        {"\"seed\":\"s\"}", "seed"},                   {"\"model\":5}", "model"},
        {"\"user\":{}}", "user"},                      {"\"presence_penalty\":9}", "presence_penalty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, "%s%s", ok_msgs, bad[i].rest);
        refuse(body, SRV_API_CHAT, bad[i].param);
    }
    refuse("{}", SRV_API_COMPLETION, "prompt");
    refuse("{\"prompt\":[]}", SRV_API_COMPLETION, "prompt");
    refuse("{\"prompt\":5}", SRV_API_COMPLETION, "prompt");
    refuse("{\"prompt\":[1,-1]}", SRV_API_COMPLETION, "prompt");
    refuse("{\"prompt\":[\"a\",5]}", SRV_API_COMPLETION, "prompt[1]");
    refuse("{\"prompt\":[\"a\",[]]}", SRV_API_COMPLETION, "prompt[1]");
    refuse("{\"prompt\":[\"a\",\"b\"],\"n\":9}", SRV_API_COMPLETION, "n");
    refuse("{\"prompt\":\"a\",\"echo\":\"yes\"}", SRV_API_COMPLETION, "echo");
}

static void test_responses(void) {
    char *e = srv_json_error("bad \"x\"", "invalid_request_error", "temperature", NULL);
    cJSON *j = cJSON_Parse(e);
    const cJSON *err = cJSON_GetObjectItem(j, "error");
    CHECK_EQ_INT(cJSON_GetArraySize(err), 4);
    CHECK_EQ_STR(cJSON_GetObjectItem(err, "message")->valuestring, "bad \"x\"");
    CHECK_EQ_STR(cJSON_GetObjectItem(err, "param")->valuestring, "temperature");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(err, "code")));
    cJSON_Delete(j);
    free(e);

    srv_response_meta m;
    srv_response_meta_init(&m, SRV_API_CHAT, "tiny", NULL, false);
    CHECK(!strncmp(m.id, "chatcmpl-", 9));
    char *c = srv_json_chunk(&m, 1, true, "", 0, NULL, 0, 0, SRV_FINISH_NONE, true);
    j = cJSON_Parse(c);
    CHECK_EQ_STR(cJSON_GetObjectItem(j, "object")->valuestring, "chat.completion.chunk");
    const cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    CHECK_EQ_INT(cJSON_GetObjectItem(ch, "index")->valueint, 1);
    CHECK_EQ_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(ch, "delta"), "role")->valuestring, "assistant");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(ch, "finish_reason")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "usage")));
    cJSON_Delete(j);
    free(c);
    c = srv_json_chunk(&m, 0, false, "", 0, NULL, 0, 0, SRV_FINISH_TIMEOUT, false);
    j = cJSON_Parse(c);
    ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    CHECK_EQ_STR(cJSON_GetObjectItem(ch, "finish_reason")->valuestring, "length");
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(ch, "delta")), 0);
    CHECK(cJSON_GetObjectItem(j, "usage") == NULL);
    cJSON_Delete(j);
    free(c);
    srv_usage_total u = {.prompt_tokens = 5, .completion_tokens = 3, .cached_tokens = 2};
    c = srv_json_usage_chunk(&m, &u);
    j = cJSON_Parse(c);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "choices")), 0);
    CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "usage"), "total_tokens")->valueint, 8);
    cJSON_Delete(j);
    free(c);

    srv_response_meta_init(&m, SRV_API_COMPLETION, "tiny", NULL, false);
    srv_choice choice = {.text = "Once upon", .text_len = 9, .finish = SRV_FINISH_STOP};
    c = srv_json_completion(&m, &choice, 1, &u);
    j = cJSON_Parse(c);
    CHECK_EQ_STR(cJSON_GetObjectItem(j, "object")->valuestring, "text_completion");
    ch = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
    CHECK_EQ_STR(cJSON_GetObjectItem(ch, "text")->valuestring, "Once upon");
    CHECK_EQ_STR(cJSON_GetObjectItem(ch, "finish_reason")->valuestring, "stop");
    cJSON_Delete(j);
    free(c);
}

static void test_metrics(void) {
    srv_metrics *m = srv_metrics_new();
    srv_metrics_http(m, 200);
    srv_metrics_http(m, 200);
    srv_metrics_http(m, 404);
    srv_usage u = {.prompt_s = 0.02, .generation_s = 3.0};
    srv_metrics_request_done(m, &u);
    srv_sched_stats st = {.n_slots = 4, .busy_slots = 1, .queued = 2, .completion_tokens = 10, .generation_s = 2};
    size_t len;
    char *text = srv_metrics_render(m, &st, &len);
    CHECK(text && strlen(text) == len);
    CHECK(strstr(text, "llmkit_http_requests_total{code=\"200\"} 2\n") != NULL);
    CHECK(strstr(text, "llmkit_http_requests_total{code=\"404\"} 1\n") != NULL);
    CHECK(strstr(text, "\nllmkit_slots_busy 1\n") != NULL);
    CHECK(strstr(text, "\nllmkit_queue_depth 2\n") != NULL);
    CHECK(strstr(text, "\nllmkit_generation_tokens_per_second 5\n") != NULL);
    CHECK(strstr(text, "llmkit_prompt_seconds_bucket{le=\"0.025\"} 1\n") != NULL);
    CHECK(strstr(text, "llmkit_prompt_seconds_bucket{le=\"0.01\"} 0\n") != NULL);
    CHECK(strstr(text, "llmkit_generation_seconds_bucket{le=\"2.5\"} 0\n") != NULL);
    CHECK(strstr(text, "llmkit_generation_seconds_bucket{le=\"+Inf\"} 1\n") != NULL);
    free(text);
    srv_metrics_free(m);
}

int main(void) {
    test_chat();
    test_completion();
    test_refusals();
    test_responses();
    test_metrics();
    return lk_test_finish("test_openai_request");
}
