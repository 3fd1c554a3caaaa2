/* Progress bar: the pure formatters, silence on a non-terminal, and drawing
 * (throttled) on a pseudo-terminal. */
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "base/progress.h"
#include "test.h"

static void test_format_bytes(void) {
    char b[32];
    lk_format_bytes(b, sizeof b, 0);
    CHECK_EQ_STR(b, "0 B");
    lk_format_bytes(b, sizeof b, 1023);
    CHECK_EQ_STR(b, "1023 B");
    lk_format_bytes(b, sizeof b, 1024);
    CHECK_EQ_STR(b, "1.00 KiB");
    lk_format_bytes(b, sizeof b, 1536);
    CHECK_EQ_STR(b, "1.50 KiB");
    lk_format_bytes(b, sizeof b, 10239); /* 9.999 KiB rounds up a digit */
    CHECK_EQ_STR(b, "10.0 KiB");
    lk_format_bytes(b, sizeof b, 45.6 * 1024 * 1024);
    CHECK_EQ_STR(b, "45.6 MiB");
    lk_format_bytes(b, sizeof b, 123.0 * 1024 * 1024 * 1024);
    CHECK_EQ_STR(b, "123 GiB");
    lk_format_bytes(b, sizeof b, 2.0 * 1024 * 1024 * 1024 * 1024);
    CHECK_EQ_STR(b, "2.00 TiB");
    lk_format_bytes(b, sizeof b, -5);
    CHECK_EQ_STR(b, "0 B");
    char tiny[4];
    CHECK_EQ_INT(lk_format_bytes(tiny, sizeof tiny, 1536), 3); /* cut, still terminated */
    CHECK_EQ_STR(tiny, "1.5");
}

static void test_format_duration(void) {
    char b[32];
    lk_format_duration(b, sizeof b, 7);
    CHECK_EQ_STR(b, "0:07");
    lk_format_duration(b, sizeof b, 754.4);
    CHECK_EQ_STR(b, "12:34");
    lk_format_duration(b, sizeof b, 3723);
    CHECK_EQ_STR(b, "1:02:03");
    lk_format_duration(b, sizeof b, -1);
    CHECK_EQ_STR(b, "--:--");
    lk_format_duration(b, sizeof b, NAN);
    CHECK_EQ_STR(b, "--:--");
    lk_format_duration(b, sizeof b, 1e9);
    CHECK_EQ_STR(b, "--:--");
}

static void test_render(void) {
    char b[256];
    const double MiB = 1024.0 * 1024;
    lk_progress_render(b, sizeof b, "model.gguf", (uint64_t)(25 * MiB), (uint64_t)(100 * MiB), 5);
    CHECK_EQ_STR(b, "model.gguf  [#####...............]  25%  25.0 MiB / 100 MiB  5.00 MiB/s  ETA 0:15");
    lk_progress_render(b, sizeof b, "模型", 100, 100, 2);
    CHECK_EQ_STR(b, "模型  [####################] 100%  100 B / 100 B  50 B/s  ETA 0:00");
    lk_progress_render(b, sizeof b, "x", 0, 1000, 0);
    CHECK_EQ_STR(b, "x  [....................]   0%  0 B / 1000 B  -- B/s  ETA --:--");
    lk_progress_render(b, sizeof b, "x", 999, 1000, 1); /* 99.9% is not 100% */
    CHECK(strstr(b, " 99%") != NULL);
    lk_progress_render(b, sizeof b, "x", 5000, 1000, 1); /* done beyond total is capped */
    CHECK(strstr(b, "100%  1000 B / 1000 B") != NULL);
    lk_progress_render(b, sizeof b, "stream", 3 * 1024, 0, 2); /* unknown total */
    CHECK_EQ_STR(b, "stream  3.00 KiB  1.50 KiB/s");
    char small[16];
    CHECK(lk_progress_render(small, sizeof small, "model.gguf", 1, 2, 1) == 15);
}

static void test_silent_when_not_a_tty(void) {
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f) return;
    lk_progress p;
    lk_progress_begin(&p, f, "quiet", 1000);
    for (int i = 0; i <= 1000; i++) lk_progress_update(&p, (uint64_t)i);
    lk_progress_add(&p, 5);
    lk_progress_end(&p);
    fflush(f);
    CHECK_EQ_INT(ftell(f), 0);
    fclose(f);

    lk_progress_begin(&p, NULL, "no stream", 10); /* NULL stream: silent too */
    lk_progress_update(&p, 5);
    lk_progress_end(&p);
    CHECK_EQ_INT(p.done, 5);
}

/* On a pseudo-terminal it draws; 20000 quick updates give only a few frames. */
static void test_draws_on_a_tty(void) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
        printf("note: no pseudo-terminal here; drawing not tested\n");
        if (master >= 0) close(master);
        return;
    }
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    CHECK(slave >= 0);
    if (slave < 0) {
        close(master);
        return;
    }
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t); /* no "\n" -> "\r\n", so carriage returns count frames */
    tcsetattr(slave, TCSANOW, &t);
    FILE *out = fdopen(slave, "w");

    lk_progress p;
    lk_progress_begin(&p, out, "loading", 20000);
    for (int i = 1; i <= 20000; i++) lk_progress_update(&p, (uint64_t)i);
    lk_progress_end(&p);

    char got[8192];
    size_t n = 0;
    fcntl(master, F_SETFL, O_NONBLOCK);
    for (ssize_t r; n < sizeof got - 1 && (r = read(master, got + n, sizeof got - 1 - n)) > 0;)
        n += (size_t)r;
    got[n] = '\0';
    int frames = 0;
    for (size_t i = 0; i < n; i++) frames += got[i] == '\r';
    CHECK_MSG(frames >= 2 && frames <= 30, "%d frames", frames);
    CHECK(n > 0 && got[n - 1] == '\n');
    CHECK(strstr(got, "loading  [####################] 100%") != NULL);
    fclose(out);
    close(master);
}

int main(void) {
    test_format_bytes();
    test_format_duration();
    test_render();
    test_silent_when_not_a_tty();
    test_draws_on_a_tty();
    return lk_test_finish("test_progress");
}
