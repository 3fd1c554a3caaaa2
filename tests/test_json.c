/* JSON helpers: syntax errors point at line and column, invalid UTF-8 and
 * trailing text are caught, typed getters name the file and key path, integer
 * getters reject fractions and out-of-range values, optional getters default
 * on absent or null. */
#include <stdint.h>

#include "base/json.h"
#include "test.h"

static lk_status parse(const char *text, cJSON **root, lk_error *err) {
    return lk_json_parse(text, strlen(text), "config.json", root, err);
}

static void expect_parse_error(const char *text, const char *want) {
    cJSON *root = NULL;
    lk_error err;
    lk_status st = parse(text, &root, &err);
    CHECK(st == LK_ERR_FORMAT && root == NULL);
    CHECK_MSG(st != LK_OK && strcmp(err.msg, want) == 0, "got \"%s\", want \"%s\"", err.msg, want);
    cJSON_Delete(root);
}

static void test_syntax_errors(void) {
    /* Python's json module reports the same line and column for these. */
    expect_parse_error("{\n  \"a\": 1,\n  \"b\": tru\n}",
                       "config.json:3:8: JSON syntax error near 'tru'");
    expect_parse_error("{\n  \"a\": 1,\n}", "config.json:3:1: JSON syntax error near '}'");
    expect_parse_error("{\"名字\": x}", "config.json:1:8: JSON syntax error near 'x}'");
    expect_parse_error("{\"a\": [1, 2\n\n", "config.json:3:1: JSON syntax error at end of input (truncated file?)");
    expect_parse_error("", "config.json:1:1: JSON syntax error at end of input (truncated file?)");
    expect_parse_error("{} x", "config.json:1:4: unexpected text after the JSON value near 'x'");
    expect_parse_error("{\"a\": \"\xe4\xbd\"}",
                       "config.json:1:8: invalid UTF-8 (invalid continuation byte, byte 0xE4)");
    expect_parse_error("{\"a\":\n \"\xed\xa0\x80\"}",
                       "config.json:2:3: invalid UTF-8 (encoded surrogate, byte 0xED)");
    /* Not NUL-terminated: only len bytes are read. */
    cJSON *root;
    lk_error err;
    CHECK_OK(lk_json_parse("{\"a\":1}garbage", 7, "x.json", &root, &err), &err);
    cJSON_Delete(root);
    /* A byte-order mark is skipped. */
    CHECK_OK(parse("\xEF\xBB\xBF{\"a\": 1}", &root, &err), &err);
    cJSON_Delete(root);
}

static void test_load_file(void) {
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", lk_test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\n  \"model_type\": \"qwen2\",\n  \"名字\": \"通义千问\",\n  \"hidden_size\": 896.5\n}\n", f);
    fclose(f);
    cJSON *root;
    lk_error err;
    lk_json_obj cfg;
    CHECK_OK(lk_json_load_file(path, 0, &root, &err), &err);
    CHECK_OK(lk_json_root(root, path, &cfg, &err), &err);
    const char *s;
    CHECK_OK(lk_json_get_string(&cfg, "名字", &s, &err), &err);
    CHECK_EQ_STR(s, "通义千问");
    int64_t v;
    CHECK(lk_json_get_int(&cfg, "hidden_size", 1, INT32_MAX, &v, &err) == LK_ERR_FORMAT);
    char want[700];
    snprintf(want, sizeof want, "%s: key 'hidden_size' must be an integer, not 896.5", path);
    CHECK_EQ_STR(err.msg, want);
    cJSON_Delete(root);

    CHECK(lk_json_load_file(path, 10, &root, &err) == LK_ERR_RANGE); /* over max_size */
    snprintf(path, sizeof path, "%s/missing.json", lk_test_tmpdir());
    CHECK(lk_json_load_file(path, 0, &root, &err) == LK_ERR_NOT_FOUND && root == NULL);
    CHECK(strstr(err.msg, "missing.json") != NULL);
}

static const char *CONFIG =
    "{\"hidden_size\": 4096, \"rms_norm_eps\": 1e-6, \"tie_word_embeddings\": false,"
    " \"model_type\": \"llama\", \"sliding_window\": null, \"vocab_size\": -1,"
    " \"big\": 9007199254740993, \"rope_theta\": 10000.0, \"dup\": 1, \"dup\": 2,"
    " \"rope_scaling\": {\"type\": \"linear\", \"factor\": \"2\"},"
    " \"eos_token_id\": [1, 2.5, \"x\"], \"count\": 3.0}";

static void test_getters(void) {
    cJSON *root;
    lk_error err;
    lk_json_obj cfg;
    CHECK_OK(parse(CONFIG, &root, &err), &err);
    CHECK_OK(lk_json_root(root, "config.json", &cfg, &err), &err);

    int64_t i;
    CHECK_OK(lk_json_get_int(&cfg, "hidden_size", 1, INT32_MAX, &i, &err), &err);
    CHECK_EQ_INT(i, 4096);
    CHECK_OK(lk_json_get_int(&cfg, "count", 0, 10, &i, &err), &err); /* 3.0 is integral */
    CHECK_EQ_INT(i, 3);
    CHECK_OK(lk_json_get_int(&cfg, "dup", 0, 10, &i, &err), &err);
    CHECK_EQ_INT(i, 2); /* last one wins, as in Python */
    CHECK(lk_json_get_int(&cfg, "vocab_size", 1, INT32_MAX, &i, &err) == LK_ERR_RANGE);
    CHECK_EQ_STR(err.msg, "config.json: key 'vocab_size' is -1, must be in [1, 2147483647]");
    CHECK(lk_json_get_int(&cfg, "big", INT64_MIN, INT64_MAX, &i, &err) == LK_ERR_RANGE);
    CHECK(strstr(err.msg, "too large to be read exactly") != NULL);
    CHECK(lk_json_get_int(&cfg, "model_type", 0, 1, &i, &err) == LK_ERR_FORMAT);
    CHECK_EQ_STR(err.msg, "config.json: key 'model_type' must be an integer, not a string");
    CHECK(lk_json_get_int(&cfg, "num_layers", 0, 1, &i, &err) == LK_ERR_FORMAT);
    CHECK_EQ_STR(err.msg, "config.json: required key 'num_layers' is missing");

    double d;
    CHECK_OK(lk_json_get_number(&cfg, "rms_norm_eps", &d, &err), &err);
    CHECK(d == 1e-6);
    bool b = true;
    CHECK_OK(lk_json_get_bool(&cfg, "tie_word_embeddings", &b, &err), &err);
    CHECK(b == false);
    CHECK(lk_json_get_bool(&cfg, "hidden_size", &b, &err) == LK_ERR_FORMAT);
    CHECK_EQ_STR(err.msg, "config.json: key 'hidden_size' must be true or false, not a number");
    const char *s;
    CHECK_OK(lk_json_get_string(&cfg, "model_type", &s, &err), &err);
    CHECK_EQ_STR(s, "llama");

    /* Optional: absent and null take the default; a wrong type is still an error. */
    CHECK_OK(lk_json_opt_int(&cfg, "sliding_window", 0, INT32_MAX, 77, &i, &err), &err);
    CHECK_EQ_INT(i, 77);
    CHECK_OK(lk_json_opt_int(&cfg, "absent", 0, 10, 5, &i, &err), &err);
    CHECK_EQ_INT(i, 5);
    CHECK(lk_json_opt_int(&cfg, "model_type", 0, 10, 5, &i, &err) == LK_ERR_FORMAT);
    CHECK_OK(lk_json_opt_number(&cfg, "rope_theta", 1.0, &d, &err), &err);
    CHECK(d == 10000.0);
    CHECK_OK(lk_json_opt_number(&cfg, "absent", 0.5, &d, &err), &err);
    CHECK(d == 0.5);
    CHECK_OK(lk_json_opt_bool(&cfg, "absent", true, &b, &err), &err);
    CHECK(b == true);
    CHECK_OK(lk_json_opt_string(&cfg, "absent", "silu", &s, &err), &err);
    CHECK_EQ_STR(s, "silu");

    /* Nested objects carry their path into messages. */
    lk_json_obj rs;
    CHECK_OK(lk_json_get_object(&cfg, "rope_scaling", &rs, &err), &err);
    CHECK_OK(lk_json_get_string(&rs, "type", &s, &err), &err);
    CHECK_EQ_STR(s, "linear");
    CHECK(lk_json_get_number(&rs, "factor", &d, &err) == LK_ERR_FORMAT);
    CHECK_EQ_STR(err.msg, "config.json: key 'rope_scaling.factor' must be a number, not a string");
    lk_json_obj none;
    CHECK_OK(lk_json_opt_object(&cfg, "sliding_window", &none, &err), &err);
    CHECK(none.node == NULL);
    CHECK(lk_json_find(&none, "anything") == NULL);
    CHECK_OK(lk_json_opt_int(&none, "x", 0, 9, 4, &i, &err), &err); /* absent parent: default */
    CHECK_EQ_INT(i, 4);
    CHECK(lk_json_get_object(&cfg, "model_type", &none, &err) == LK_ERR_FORMAT);

    /* Arrays: elements are read with the value getters and a described path. */
    const cJSON *arr;
    CHECK_OK(lk_json_get_array(&cfg, "eos_token_id", &arr, &err), &err);
    CHECK_EQ_INT(cJSON_GetArraySize(arr), 3);
    CHECK_OK(lk_json_value_int(cJSON_GetArrayItem(arr, 0), "config.json", "eos_token_id[0]", 0,
                               100, &i, &err), &err);
    CHECK_EQ_INT(i, 1);
    CHECK(lk_json_value_int(cJSON_GetArrayItem(arr, 1), "config.json", "eos_token_id[1]", 0, 100,
                            &i, &err) == LK_ERR_FORMAT);
    CHECK_EQ_STR(err.msg, "config.json: key 'eos_token_id[1]' must be an integer, not 2.5");
    CHECK_OK(lk_json_value_string(cJSON_GetArrayItem(arr, 2), "config.json", "eos_token_id[2]",
                                  &s, &err), &err);
    const cJSON *none_arr = (const cJSON *)1;
    CHECK_OK(lk_json_opt_array(&cfg, "absent", &none_arr, &err), &err);
    CHECK(none_arr == NULL);
    CHECK(lk_json_get_array(&cfg, "hidden_size", &arr, &err) == LK_ERR_FORMAT);
    cJSON_Delete(root);

    /* The top level must be an object. */
    CHECK_OK(parse("[1, 2]", &root, &err), &err);
    CHECK(lk_json_root(root, "x.json", &cfg, &err) == LK_ERR_FORMAT);
    CHECK_EQ_STR(err.msg, "x.json: expected a JSON object at the top level, found an array");
    cJSON_Delete(root);
}

int main(void) {
    test_syntax_errors();
    test_load_file();
    test_getters();
    return lk_test_finish("test_json");
}
