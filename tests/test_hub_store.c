/* The model store: repo id, revision and file name validation (everything
 * that could point outside the store is refused), path layout, MODEL
 * resolution, list and remove, all in a temporary LLMKIT_HOME. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/hub_http.h"
#include "hub/pull.h"
#include "hub/store.h"
#include "test.h"

static void test_repo_ids(void) {
    static const char *good[] = {"Qwen/Qwen2.5-0.5B-Instruct", "a/b", "TheBloke/x_y.z-1",
                                 "meta-llama/Llama-3.2-1B"};
    static const char *bad[] = {"",          "noslash",   "a/b/c",     "../etc",    "a/..",
                                "a/../b",    "./a",       ".a/b",      "a/.b",      "-a/b",
                                "a/b..c",    "a b/c",     "a/b;c",     "a/b\\c",    "/a/b",
                                "a/",        "/b",        "a//b",      "a/b\n",     "ä/b"};
    lk_error err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_MSG(lk_hub_check_repo_id(good[i], &err) == LK_OK, "%s: %s", good[i], err.msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(lk_hub_check_repo_id(bad[i], &err) == LK_ERR_ARG, "'%s' accepted", bad[i]);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname);
    longname[0] = 'o', longname[1] = '/';
    longname[2 + 96] = '\0';
    CHECK(lk_hub_check_repo_id(longname, &err) == LK_OK);
    longname[2 + 96] = 'a', longname[2 + 97] = '\0';
    CHECK(lk_hub_check_repo_id(longname, &err) == LK_ERR_ARG);
    CHECK(lk_hub_check_repo_id(NULL, &err) == LK_ERR_ARG);
}

static void test_revisions(void) {
    static const char *good[] = {"main", "v1.0", "refs/pr/1", "0123456789abcdef0123456789abcdef01234567",
                                 "release_2-x"};
    static const char *bad[] = {"",    "..",   "../x",  "a/../b", "a//b", "/a",   "a/",
                                ".git", "a/.x", "-rf",   "a b",    "a;b",  "a\\b", "a\nb",
                                "a@b", "a:b",  "a~1",   "a^",     "a*",   "a+b"};
    lk_error err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_MSG(lk_hub_check_revision(good[i], &err) == LK_OK, "%s: %s", good[i], err.msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(lk_hub_check_revision(bad[i], &err) == LK_ERR_ARG, "'%s' accepted", bad[i]);
    char rev[200];
    memset(rev, 'a', sizeof rev);
    rev[128] = '\0';
    CHECK(lk_hub_check_revision(rev, &err) == LK_OK);
    rev[128] = 'a', rev[129] = '\0';
    CHECK(lk_hub_check_revision(rev, &err) == LK_ERR_ARG);
}

static void test_filenames(void) {
    static const char *good[] = {"config.json", "onnx/model.onnx", "a b.txt", "中文/模型.gguf",
                                 ".gitattributes", "x..y"};
    static const char *bad[] = {"",         "/etc/passwd", "../x",    "a/../../x", "a/..",
                                "..",       ".",           "./a",     "a//b",      "a/",
                                "a\\..\\b", "C:x",         "a\nb",    "a\tb",      "a\x7f"};
    lk_error err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_MSG(lk_hub_check_filename(good[i], &err) == LK_OK, "%s: %s", good[i], err.msg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(lk_hub_check_filename(bad[i], &err) != LK_OK, "'%s' accepted", bad[i]);
    char name[600];
    memset(name, 'a', sizeof name);
    name[599] = '\0';
    CHECK(lk_hub_check_filename(name, &err) != LK_OK); /* over 512 bytes */
    name[256] = '\0';
    CHECK(lk_hub_check_filename(name, &err) != LK_OK); /* one part over 255 */
}

static void test_parse_ref(void) {
    char repo[LK_REPO_ID_MAX + 1], rev[LK_REVISION_MAX + 1];
    bool given;
    lk_error err;
    CHECK_OK(lk_hub_parse_ref("Qwen/Qwen2.5-0.5B-Instruct", repo, rev, &given, &err), &err);
    CHECK_EQ_STR(repo, "Qwen/Qwen2.5-0.5B-Instruct");
    CHECK_EQ_STR(rev, "main");
    CHECK(!given);
    CHECK_OK(lk_hub_parse_ref("a/b@refs/pr/3", repo, rev, &given, &err), &err);
    CHECK_EQ_STR(rev, "refs/pr/3");
    CHECK(given);
    CHECK(lk_hub_parse_ref("a/b@", repo, rev, &given, &err) == LK_ERR_ARG);
    CHECK(lk_hub_parse_ref("a/b@x@y", repo, rev, &given, &err) == LK_ERR_ARG);
    CHECK(lk_hub_parse_ref("../b@main", repo, rev, &given, &err) == LK_ERR_ARG);
}

static void test_default_selection(void) {
    CHECK(lk_pull_default_file("config.json", false));
    CHECK(lk_pull_default_file("tokenizer.json", true));
    CHECK(lk_pull_default_file("model-00001-of-00002.safetensors", false));
    CHECK(lk_pull_default_file("model.safetensors.index.json", false));
    CHECK(!lk_pull_default_file("model.safetensors", true));
    CHECK(!lk_pull_default_file("onnx/model.safetensors", false));
    CHECK(!lk_pull_default_file("README.md", false));
    CHECK(!lk_pull_default_file("pytorch_model.bin", false));
}

static void test_listing(void) {
    lk_hub_listing l;
    lk_error err;
    const char *good = "{\"id\":\"a/b\",\"sha\":\"abc123\",\"siblings\":[{\"rfilename\":\"config.json\"},"
                       "{\"rfilename\":\"onnx/m.onnx\",\"size\":3}]}";
    CHECK_OK(lk_hub_parse_listing(good, strlen(good), "info", &l, &err), &err);
    CHECK_EQ_INT(l.count, 2);
    if (l.count == 2) CHECK_EQ_STR(l.names[1], "onnx/m.onnx");
    CHECK_EQ_STR(l.commit, "abc123");
    lk_hub_listing_free(&l);
    /* A commit that is not a plain name is dropped, not used as a file name. */
    const char *odd_sha = "{\"sha\":\"../x\",\"siblings\":[]}";
    CHECK_OK(lk_hub_parse_listing(odd_sha, strlen(odd_sha), "info", &l, &err), &err);
    CHECK_EQ_STR(l.commit, "");
    lk_hub_listing_free(&l);
    static const char *bad[] = {
        "{\"siblings\":[{\"rfilename\":\"../../escape.json\"}]}",
        "{\"siblings\":[{\"rfilename\":\"/etc/passwd\"}]}",
        "{\"siblings\":[{\"rfilename\":\"a\\\\b\"}]}",
        "{\"siblings\":[{\"rfilename\":\"ok.json\"},{\"rfilename\":\"x/\\u0000y\"}]}",
        "{\"siblings\":[{\"rfilename\":3}]}",
        "{\"siblings\":[\"config.json\"]}",
        "{\"siblings\":{}}",
        "{}",
        "[]",
        "{\"siblings\":[",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(lk_hub_parse_listing(bad[i], strlen(bad[i]), "info", &l, &err) != LK_OK,
                  "accepted %s", bad[i]);
    }
    CHECK(lk_hub_parse_listing(bad[0], strlen(bad[0]), "info", &l, &err) == LK_ERR_FORMAT);
    CHECK(strstr(err.msg, "escape the model store") != NULL);
}

static void test_escape(void) {
    char out[64];
    lk_error err;
    CHECK_OK(lk_http_escape_path("onnx/a b+c.json", true, out, sizeof out, &err), &err);
    CHECK_EQ_STR(out, "onnx/a%20b%2Bc.json");
    CHECK_OK(lk_http_escape_path("refs/pr/1", false, out, sizeof out, &err), &err);
    CHECK_EQ_STR(out, "refs%2Fpr%2F1");
    CHECK_OK(lk_http_escape_path("\xe4\xb8\xad.gguf", true, out, sizeof out, &err), &err);
    CHECK_EQ_STR(out, "%E4%B8%AD.gguf");
    CHECK(lk_http_escape_path("aaaaaaaa", true, out, 8, &err) == LK_ERR_RANGE);
}

static void touch(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_store(void) {
    char home[512], path[LK_STORE_PATH_MAX], out[LK_STORE_PATH_MAX];
    snprintf(home, sizeof home, "%s/store", lk_test_tmpdir());
    setenv("LLMKIT_HOME", home, 1);
    lk_error err;
    CHECK_OK(lk_store_root(out, sizeof out, &err), &err);
    CHECK_EQ_STR(out, home);
    CHECK_OK(lk_store_repo_path("a/b", "refs/pr/1", path, sizeof path, &err), &err);
    snprintf(out, sizeof out, "%s/models/a/b/snapshots/refs+pr+1", home);
    CHECK_EQ_STR(path, out);
    CHECK(lk_store_repo_path("a/..", "main", path, sizeof path, &err) == LK_ERR_ARG);
    CHECK(lk_store_repo_path("a/b", "../x", path, sizeof path, &err) == LK_ERR_ARG);

    lk_store_entry *list;
    size_t n;
    CHECK_OK(lk_store_list(&list, &n, &err), &err); /* no store yet */
    CHECK_EQ_INT(n, 0);
    free(list);

    /* An HF snapshot and a GGUF snapshot (two shards), one partial. */
    char snap[LK_STORE_PATH_MAX], ref[LK_STORE_PATH_MAX];
    lk_store_repo_path("o/hf", "main", snap, sizeof snap, &err);
    CHECK_OK(lk_store_mkdirs(snap, &err), &err);
    snprintf(path, sizeof path, "%s/config.json", snap);
    touch(path, "{}");
    lk_store_ref_path("o/hf", "main", ref, sizeof ref, &err);
    snprintf(path, sizeof path, "%s/models/o/hf/refs", home);
    lk_store_mkdirs(path, &err);
    CHECK(lk_store_resolve("o/hf", out, sizeof out, &err) == LK_ERR_NOT_FOUND); /* partial */
    CHECK(strstr(err.msg, "llmkit pull o/hf") != NULL);
    touch(ref, "abc\n");
    CHECK_OK(lk_store_resolve("o/hf", out, sizeof out, &err), &err);
    CHECK_EQ_STR(out, snap);
    CHECK_OK(lk_store_resolve("o/hf@main", out, sizeof out, &err), &err);
    CHECK(lk_store_resolve("o/hf@v2", out, sizeof out, &err) == LK_ERR_NOT_FOUND);

    char gsnap[LK_STORE_PATH_MAX];
    lk_store_repo_path("o/g", "v1", gsnap, sizeof gsnap, &err);
    lk_store_mkdirs(gsnap, &err);
    snprintf(path, sizeof path, "%s/m-00002-of-00002.gguf", gsnap);
    touch(path, "GGUF");
    snprintf(path, sizeof path, "%s/m-00001-of-00002.gguf", gsnap);
    touch(path, "GGUF");
    snprintf(path, sizeof path, "%s/models/o/g/refs", home);
    lk_store_mkdirs(path, &err);
    lk_store_ref_path("o/g", "v1", ref, sizeof ref, &err);
    touch(ref, "def\n");
    /* No "main": the only complete revision is taken; the first shard. */
    CHECK_OK(lk_store_resolve("o/g", out, sizeof out, &err), &err);
    snprintf(path, sizeof path, "%s/m-00001-of-00002.gguf", gsnap);
    CHECK_EQ_STR(out, path);

    /* An existing path wins over the store, even when it looks like a repo id. */
    char cwd[1024];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(lk_test_tmpdir()) == 0);
    mkdir("o", 0755);
    mkdir("o/hf", 0755);
    CHECK_OK(lk_store_resolve("o/hf", out, sizeof out, &err), &err);
    CHECK_EQ_STR(out, "o/hf");
    CHECK(chdir(cwd) == 0);
    CHECK(lk_store_resolve("/nonexistent/model.gguf", out, sizeof out, &err) == LK_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "/nonexistent/model.gguf") != NULL);

    CHECK_OK(lk_store_list(&list, &n, &err), &err);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_EQ_STR(list[0].repo, "o/g");
        CHECK(list[0].gguf && list[0].complete);
        CHECK_EQ_INT(list[0].bytes, 8);
        CHECK_EQ_STR(list[0].commit, "def");
        CHECK_EQ_STR(list[1].repo, "o/hf");
        CHECK(!list[1].gguf);
    }
    free(list);

    /* Removal: never follows a link out of the store. */
    char outside[512];
    snprintf(outside, sizeof outside, "%s/outside.txt", lk_test_tmpdir());
    touch(outside, "keep");
    snprintf(path, sizeof path, "%s/link", snap);
    CHECK(symlink(outside, path) == 0);
    CHECK(lk_store_remove("o/..", NULL, &err) == LK_ERR_ARG);
    CHECK(lk_store_remove("o/none", NULL, &err) == LK_ERR_NOT_FOUND);
    CHECK(lk_store_remove("o/hf", "v9", &err) == LK_ERR_NOT_FOUND);
    CHECK_OK(lk_store_remove("o/hf", "main", &err), &err);
    struct stat st;
    CHECK(stat(outside, &st) == 0);
    snprintf(path, sizeof path, "%s/models/o/hf", home);
    CHECK(stat(path, &st) != 0); /* last revision gone: repo folder gone */
    CHECK_OK(lk_store_remove("o/g", NULL, &err), &err);
    snprintf(path, sizeof path, "%s/models/o", home);
    CHECK(stat(path, &st) != 0); /* empty owner folder gone */
    remove(outside);
}

int main(void) {
    test_repo_ids();
    test_revisions();
    test_filenames();
    test_parse_ref();
    test_default_selection();
    test_listing();
    test_escape();
    test_store();
    return lk_test_finish("test_hub_store");
}
