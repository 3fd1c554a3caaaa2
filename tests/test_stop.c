/* Stop strings over streamed text: held-back tails, stops split across
 * chunks, the earliest of several, UTF-8 stop strings, flush. */
#include <string.h>

#include "generate/stop.h"
#include "test.h"

/* Streams chunks through a matcher; returns what was shown, and whether it stopped. */
static void run(const char *const *stops, size_t n_stops, const char *const *chunks,
                size_t n_chunks, char *shown, bool *stopped) {
    lk_stop_matcher *m;
    lk_error err;
    shown[0] = '\0';
    *stopped = false;
    CHECK_OK(lk_stop_matcher_new(stops, n_stops, &m, &err), &err);
    if (!m) return;
    for (size_t i = 0; i < n_chunks && !*stopped; i++) {
        const char *out;
        size_t len;
        CHECK_OK(lk_stop_matcher_push(m, chunks[i], strlen(chunks[i]), &out, &len, stopped, &err),
                 &err);
        strncat(shown, out, len);
    }
    if (!*stopped) {
        size_t len;
        const char *out = lk_stop_matcher_flush(m, &len);
        strncat(shown, out, len);
    }
    lk_stop_matcher_free(m);
}

int main(void) {
    char shown[256];
    bool stopped;
    const char *stops1[] = {"\nUser:"};
    const char *c1[] = {"Hello", " there\n", "Us", "er:", " more"};
    run(stops1, 1, c1, 5, shown, &stopped);
    CHECK(stopped);
    CHECK_EQ_STR(shown, "Hello there");

    /* A false start is released once it cannot match any more. */
    lk_stop_matcher *m;
    lk_error err;
    CHECK_OK(lk_stop_matcher_new(stops1, 1, &m, &err), &err);
    const char *out;
    size_t len;
    CHECK_OK(lk_stop_matcher_push(m, "a\nUs", 4, &out, &len, &stopped, &err), &err);
    CHECK(len == 1 && out[0] == 'a' && !stopped);
    CHECK_OK(lk_stop_matcher_push(m, "ed", 2, &out, &len, &stopped, &err), &err);
    CHECK(len == 5 && memcmp(out, "\nUsed", 5) == 0);
    lk_stop_matcher_free(m);

    /* The earliest of several stop strings wins, even inside one chunk. */
    const char *stops2[] = {"STOP", "</s>", "end"};
    const char *c2[] = {"one two </s> STOP end"};
    run(stops2, 3, c2, 1, shown, &stopped);
    CHECK(stopped);
    CHECK_EQ_STR(shown, "one two ");

    /* No stop: everything comes out, the held tail at flush. */
    const char *c3[] = {"ab", "cS", "TO"};
    run(stops2, 3, c3, 3, shown, &stopped);
    CHECK(!stopped);
    CHECK_EQ_STR(shown, "abcSTO");

    /* UTF-8: a Chinese stop string split over chunks. */
    const char *stops3[] = {"用户："};
    const char *c4[] = {"你好。", "用", "户：", "再见"};
    run(stops3, 1, c4, 4, shown, &stopped);
    CHECK(stopped);
    CHECK_EQ_STR(shown, "你好。");

    /* No stop strings at all, and empty ones, pass text straight through. */
    const char *stops4[] = {""};
    const char *c5[] = {"x", "y"};
    run(stops4, 1, c5, 2, shown, &stopped);
    CHECK(!stopped);
    CHECK_EQ_STR(shown, "xy");
    run(NULL, 0, c5, 2, shown, &stopped);
    CHECK_EQ_STR(shown, "xy");
    return lk_test_finish("test_stop");
}
