/* Progress bar.
 *
 * Design note. Rendering is a pure function of (label, done, total, elapsed)
 * so it can be tested without a terminal; lk_progress only decides when to
 * draw. Each draw returns the cursor with "\r" and clears the old line's tail
 * with ESC[K, so a shorter line leaves no debris. Speed is the average since
 * begin: simple, and steady enough for file-sized work. */
#include "base/progress.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/utf8.h"

enum { LK_BAR_WIDTH = 20 };
#define LK_REDRAW_INTERVAL_S 0.1

static double monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* snprintf's result clamped to what was actually written. */
static size_t written(int n, size_t cap) {
    if (n < 0 || cap == 0) return 0;
    return (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t lk_format_bytes(char *buf, size_t cap, double bytes) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (!(bytes >= 0)) bytes = 0;
    if (bytes < 1024) return written(snprintf(buf, cap, "%.0f B", floor(bytes)), cap);
    int u = 0;
    while (bytes >= 1024 && u < 5) {
        bytes /= 1024;
        u++;
    }
    /* Three significant digits; round first so 9.999 shows as "10.0", not "10.00". */
    const char *fmt = bytes < 9.995 ? "%.2f %s" : bytes < 99.95 ? "%.1f %s" : "%.0f %s";
    return written(snprintf(buf, cap, fmt, bytes, units[u]), cap);
}

size_t lk_format_duration(char *buf, size_t cap, double seconds) {
    if (!(seconds >= 0) || seconds >= 100 * 3600.0) return written(snprintf(buf, cap, "--:--"), cap);
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        return written(snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60), cap);
    return written(snprintf(buf, cap, "%ld:%02ld", s / 60, s % 60), cap);
}

size_t lk_progress_render(char *buf, size_t cap, const char *label, uint64_t done,
                          uint64_t total, double elapsed_s) {
    char done_s[32], total_s[32], speed_s[32], eta_s[32];
    if (total && done > total) done = total;
    double speed = elapsed_s > 0 ? (double)done / elapsed_s : 0;
    lk_format_bytes(done_s, sizeof done_s, (double)done);
    if (speed > 0) {
        size_t n = lk_format_bytes(speed_s, sizeof speed_s, speed);
        snprintf(speed_s + n, sizeof speed_s - n, "/s");
    } else {
        snprintf(speed_s, sizeof speed_s, "-- B/s");
    }
    if (total == 0)
        return written(snprintf(buf, cap, "%s  %s  %s", label, done_s, speed_s), cap);

    double frac = (double)done / (double)total;
    char bar[LK_BAR_WIDTH + 1];
    int filled = (int)(frac * LK_BAR_WIDTH);
    for (int i = 0; i < LK_BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[LK_BAR_WIDTH] = '\0';
    lk_format_bytes(total_s, sizeof total_s, (double)total);
    double eta = done == total ? 0 : speed > 0 ? (double)(total - done) / speed : -1;
    lk_format_duration(eta_s, sizeof eta_s, eta);
    /* Floor the percentage: "100%" only when truly done. */
    return written(snprintf(buf, cap, "%s  [%s] %3d%%  %s / %s  %s  ETA %s", label, bar,
                            (int)(frac * 100), done_s, total_s, speed_s, eta_s),
                   cap);
}

void lk_progress_begin(lk_progress *p, FILE *out, const char *label, uint64_t total) {
    memset(p, 0, sizeof *p);
    p->out = out && isatty(fileno(out)) ? out : NULL;
    size_t len = strlen(label);
    size_t n = lk_utf8_truncate(label, len, sizeof p->label - 1);
    memcpy(p->label, label, n);
    p->label[n] = '\0';
    p->total = total;
    p->start_s = monotonic_s();
    p->last_draw_s = -1e9; /* the first update draws */
}

static void draw(lk_progress *p, double now) {
    char line[256];
    lk_progress_render(line, sizeof line, p->label, p->done, p->total, now - p->start_s);
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->last_draw_s = now;
    p->drawn = 1;
}

void lk_progress_update(lk_progress *p, uint64_t done) {
    p->done = done;
    if (!p->out) return;
    double now = monotonic_s();
    if (now - p->last_draw_s >= LK_REDRAW_INTERVAL_S) draw(p, now);
}

void lk_progress_add(lk_progress *p, uint64_t delta) { lk_progress_update(p, p->done + delta); }

void lk_progress_end(lk_progress *p) {
    if (!p->out) return;
    draw(p, monotonic_s());
    fputc('\n', p->out);
    fflush(p->out);
    p->drawn = 0;
}
