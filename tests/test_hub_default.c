/* The default model (lk_store_default_model): missing -> NOT_FOUND without
 * pulling; pulled from a fake hub (tests/hub/fake_hub.py, on 127.0.0.1)
 * serving a repo named Qwen/Qwen2.5-0.5B-Instruct; then found offline. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hub/pull.h"
#include "hub/store.h"
#include "test.h"

static void write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, len, f);
    fclose(f);
}

/* Starts the fake hub on ROOT; returns its pid and writes its URL. */
static pid_t start_hub(const char *root, const char *tmp, char *url, size_t n) {
    char script[1024], port_file[600], log[600];
    snprintf(script, sizeof script, "%s/tests/hub/fake_hub.py", lk_test_source_dir());
    snprintf(port_file, sizeof port_file, "%s/port", tmp);
    snprintf(log, sizeof log, "%s/hub.log", tmp);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("python3", "python3", script, "--root", root, "--port-file", port_file, "--log",
               log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1) port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(url, n, "http://127.0.0.1:%d", port);
            return pid;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) return -1; /* it died */
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

static void on_notice(void *user, const char *msg) {
    int *count = user;
    (*count)++;
    (void)msg;
}

int main(void) {
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0)
        lk_test_skip("python3 not found (needed for the fake hub)");
    const char *tmp = lk_test_tmpdir();
    char root[600], repo[700], path[800], store[600], url[64];
    snprintf(root, sizeof root, "%s/hub", tmp);
    snprintf(repo, sizeof repo, "%s/%s", root, LK_DEFAULT_MODEL);
    lk_error err;
    CHECK_OK(lk_store_mkdirs(repo, &err), &err);
    snprintf(path, sizeof path, "%s/config.json", repo);
    write_file(path, "{}", 2);
    snprintf(path, sizeof path, "%s/model.safetensors", repo);
    write_file(path, "not really weights, but hashed all the same", 43);
    snprintf(path, sizeof path, "%s/README.md", repo);
    write_file(path, "# skip me", 9);
    snprintf(store, sizeof store, "%s/store", tmp);
    setenv("LLMKIT_HOME", store, 1);

    char out[LK_STORE_PATH_MAX];
    CHECK(lk_store_default_model(out, sizeof out, false, &err) == LK_ERR_NOT_FOUND);
    CHECK(strstr(err.msg, "llmkit pull " LK_DEFAULT_MODEL) != NULL);

    pid_t hub = start_hub(root, tmp, url, sizeof url);
    if (hub < 0) lk_test_skip("the fake hub did not start");
    setenv("HF_ENDPOINT", url, 1);
    setenv("no_proxy", "*", 1); /* the fake hub is local: never through a proxy */
    int notices = 0;
    lk_pull_options opt = {.retries = 0, .notice = on_notice, .user = &notices};
    CHECK_OK(lk_store_default_model_ex(out, sizeof out, &opt, &err), &err);
    char want[LK_STORE_PATH_MAX];
    lk_store_repo_path(LK_DEFAULT_MODEL, "main", want, sizeof want, &err);
    CHECK_EQ_STR(out, want);
    CHECK(notices >= 2);
    snprintf(path, sizeof path, "%s/model.safetensors", want);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 43);
    snprintf(path, sizeof path, "%s/README.md", want);
    CHECK(stat(path, &st) != 0);

    /* Offline now: the stored copy is found without the network. */
    kill(hub, SIGTERM);
    waitpid(hub, NULL, 0);
    memset(out, 0, sizeof out);
    CHECK_OK(lk_store_default_model(out, sizeof out, true, &err), &err);
    CHECK_EQ_STR(out, want);
    return lk_test_finish("test_hub_default");
}
