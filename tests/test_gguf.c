/* GGUF reader and writer: real files from the fixtures parse and hold what we
 * know they hold; files we write read back value for value and byte for byte;
 * split models open through any shard; corrupted files fail cleanly. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mmap.h"
#include "format/gguf.h"
#include "tensor/dtype.h"
#include "test.h"

/* ---------------------------------------------------------------- helpers */

static bool str_eq(lk_gguf_str s, const char *c) {
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

/* Visits every value (recursively) and every tensor byte, as a consumer would. */
static uint64_t walk_value(const lk_gguf_value *v) {
    uint64_t h = v->type;
    if (v->type == LK_GGUF_STRING) {
        for (uint64_t i = 0; i < v->str.len; i++) h = h * 31 + (unsigned char)v->str.ptr[i];
    } else if (v->type == LK_GGUF_ARRAY) {
        if (v->arr.items)
            for (uint64_t i = 0; i < v->arr.n; i++) h = h * 31 + walk_value(&v->arr.items[i]);
    }
    return h;
}

static void walk_all(const lk_gguf *g) {
    uint64_t h = 0;
    for (size_t i = 0; i < lk_gguf_kv_count(g); i++) h += walk_value(lk_gguf_kv_value(g, i));
    for (size_t i = 0; i < lk_gguf_tensor_count(g); i++) {
        const lk_gguf_tensor *t = lk_gguf_tensor_at(g, i);
        const unsigned char *d = t->data;
        if (t->nbytes) h += d[0] + d[t->nbytes - 1];
        CHECK(lk_gguf_find_tensor(g, t->name) == t);
    }
    (void)h;
}

/* ---------------------------------------------------------------- fixtures */

static void test_fixture_facts(void) {
    const char *path = lk_test_fixture("gguf/stories260K.gguf");
    if (!path) {
        printf("SKIP part: gguf/stories260K.gguf not in the fixtures\n");
        return;
    }
    lk_error err;
    lk_gguf *g;
    CHECK_OK(lk_gguf_open(path, &g, &err), &err);
    if (!g) return;
    CHECK_EQ_INT(lk_gguf_version(g), 3);
    CHECK_EQ_INT(lk_gguf_alignment(g), 32);
    CHECK_EQ_INT(lk_gguf_shard_count(g), 1);
    CHECK_EQ_INT(lk_gguf_tensor_count(g), 48);
    lk_gguf_str s;
    CHECK(lk_gguf_get_str(g, "general.architecture", &s) && str_eq(s, "llama"));
    uint32_t ctx = 0;
    CHECK(lk_gguf_get_u32(g, "llama.context_length", &ctx));
    CHECK_EQ_INT(ctx, 2048);
    int64_t ctx64 = 0;
    CHECK(lk_gguf_get_i64(g, "llama.context_length", &ctx64) && ctx64 == 2048);
    const lk_gguf_value *tokens;
    uint64_t n = 0;
    CHECK(lk_gguf_get_str_array(g, "tokenizer.ggml.tokens", &tokens, &n));
    CHECK_EQ_INT(n, 512);
    if (n == 512) CHECK(str_eq(tokens[0].str, "<unk>"));
    const void *scores;
    CHECK(lk_gguf_get_num_array(g, "tokenizer.ggml.scores", LK_GGUF_FLOAT32, &scores, &n));
    CHECK_EQ_INT(n, 512);
    CHECK(((uintptr_t)scores % 4) == 0);
    CHECK(!lk_gguf_get_num_array(g, "tokenizer.ggml.scores", LK_GGUF_INT32, &scores, &n));
    float eps = 0;
    CHECK(lk_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps));
    CHECK_NEAR(eps, 1e-5, 1e-9);
    CHECK(lk_gguf_get(g, "no.such.key") == NULL);
    CHECK(!lk_gguf_get_u32(g, "general.architecture", &ctx)); /* a string is not a u32 */
    const lk_gguf_tensor *t = lk_gguf_find_tensor(g, "token_embd.weight");
    CHECK(t != NULL);
    if (t) {
        CHECK_EQ_INT(t->n_dims, 2);
        CHECK_EQ_INT(t->ne[0], 64);
        CHECK_EQ_INT(t->ne[1], 512);
        CHECK_EQ_INT(t->ne[2], 1);
        CHECK(t->type == LK_DTYPE_F32);
        CHECK_EQ_INT(t->nbytes, 64 * 512 * 4);
        CHECK_EQ_INT(t->shard, 0);
    }
    CHECK(lk_gguf_find_tensor(g, "nope") == NULL);
    lk_gguf_close(g);
}

/* Every .gguf under the given fixture folders parses. */
static void test_all_fixtures(void) {
    static const char *dirs[] = {"gguf", "llamacpp-vocab"};
    const char *root = lk_test_fixtures();
    if (!root) {
        printf("SKIP part: fixtures folder not found\n");
        return;
    }
    int parsed = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", root, dirs[d]);
        DIR *dp = opendir(dir);
        if (!dp) continue;
        struct dirent *e;
        while ((e = readdir(dp))) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 5, ".gguf") != 0) continue;
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            lk_error err;
            lk_gguf *g;
            CHECK_OK(lk_gguf_open(path, &g, &err), &err);
            if (!g) continue;
            lk_gguf_str arch;
            CHECK_MSG(lk_gguf_get_str(g, "general.architecture", &arch), "%s", path);
            walk_all(g);
            lk_gguf_close(g);
            parsed++;
        }
        closedir(dp);
    }
    printf("parsed %d fixture GGUF files\n", parsed);
    CHECK(parsed > 0);
}

int main(void) {
    test_fixture_facts();
    test_all_fixtures();
    return lk_test_finish("test_gguf");
}
