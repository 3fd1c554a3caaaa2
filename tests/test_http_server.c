/* The HTTP daemon before a model is loaded: /health and the API answer 503
 * in OpenAI's error envelope, routing (404, 405), the API key (401) and the
 * body limit (413) work, and stopping frees everything (ASan checks). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/http_server.h"
#include "test.h"

/* Sends one raw HTTP/1.0 request; returns the status, the response in buf. */
static int request(int port, const char *req, size_t req_len, char *buf, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    for (size_t off = 0; off < req_len;) {
        ssize_t n = write(fd, req + off, req_len - off);
        if (n <= 0) break;
        off += (size_t)n;
    }
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0) len += (size_t)n;
    buf[len] = '\0';
    close(fd);
    int status = -1;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    return status;
}

static int get(int port, const char *path, const char *headers, char *buf, size_t cap) {
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n%s\r\n", path, headers);
    return request(port, req, (size_t)n, buf, cap);
}

int main(void) {
    srv_metrics *metrics = srv_metrics_new();
    srv_http_config cfg = {.host = "127.0.0.1", .port = 0, .api_key = "k3y", .max_body = 2048,
                           .model_id = "tiny", .timeout_s = 10};
    srv_http *h = NULL;
    lk_error err = {0};
    CHECK_OK(srv_http_start(&cfg, metrics, &h, &err), &err);
    if (!h) return lk_test_finish("test_http_server");
    int port = srv_http_port(h);
    CHECK(port > 0);
    static char buf[65536];

    CHECK_EQ_INT(get(port, "/health", "", buf, sizeof buf), 503);
    CHECK(strstr(buf, "\"code\":\"model_loading\"") != NULL);
    CHECK_EQ_INT(get(port, "/", "", buf, sizeof buf), 200);
    CHECK(strstr(buf, "text/html") != NULL);
    CHECK_EQ_INT(get(port, "/nowhere", "", buf, sizeof buf), 404);
    CHECK(strstr(buf, "{\"error\":{\"message\":") != NULL && strstr(buf, "\"param\":null") != NULL);
    CHECK_EQ_INT(get(port, "/v1/models", "", buf, sizeof buf), 401);
    CHECK_EQ_INT(get(port, "/v1/models", "Authorization: Bearer k3\r\n", buf, sizeof buf), 401);
    CHECK_EQ_INT(get(port, "/v1/models", "Authorization: Bearer k3yy\r\n", buf, sizeof buf), 401);
    CHECK_EQ_INT(get(port, "/v1/models", "Authorization: Bearer k3y\r\n", buf, sizeof buf), 200);
    CHECK(strstr(buf, "\"id\":\"tiny\"") != NULL);
    CHECK_EQ_INT(get(port, "/metrics", "Authorization: Bearer k3y\r\n", buf, sizeof buf), 200);
    CHECK(strstr(buf, "llmkit_http_requests_total{code=\"401\"} 3") != NULL);
    CHECK_EQ_INT(get(port, "/v1/chat/completions", "Authorization: Bearer k3y\r\n", buf, sizeof buf), 405);

    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    char req[8192];
    int n = snprintf(req, sizeof req,
                     "POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer k3y\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    CHECK_EQ_INT(request(port, req, (size_t)n, buf, sizeof buf), 503); /* still loading */
    CHECK(strstr(buf, "model_loading") != NULL);
    /* over --max-body: 413 whatever the content */
    n = snprintf(req, sizeof req, "POST /v1/completions HTTP/1.0\r\nAuthorization: Bearer k3y\r\nContent-Length: 4000\r\n\r\n");
    memset(req + n, 'x', 4000);
    CHECK_EQ_INT(request(port, req, (size_t)n + 4000, buf, sizeof buf), 413);
    CHECK(strstr(buf, "request_too_large") != NULL);

    srv_http_stop(h);
    srv_metrics_free(metrics);
    return lk_test_finish("test_http_server");
}
