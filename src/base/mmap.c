#include "base/mmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

lk_status lk_mmap_open(const char *path, lk_mmap *out, lk_error *err) {
    out->data = NULL;
    out->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return lk_error_set(err, errno == ENOENT ? LK_ERR_NOT_FOUND : LK_ERR_IO,
                            "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return lk_error_set(err, LK_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lk_error_set(err, LK_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return LK_OK;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return lk_error_set(err, LK_ERR_IO, "%s: cannot mmap: %s", path, strerror(e));
    out->data = p;
    out->size = (size_t)st.st_size;
    return LK_OK;
}

void lk_mmap_close(lk_mmap *m) {
    if (m && m->data) munmap((void *)m->data, m->size);
    if (m) {
        m->data = NULL;
        m->size = 0;
    }
}

void lk_mmap_release(const lk_mmap *m, const void *p, size_t n) {
    if (!m || !m->data || !p || n == 0) return;
    const uintptr_t lo = (uintptr_t)m->data, hi = lo + m->size;
    uintptr_t a = (uintptr_t)p, b = a + n;
    if (a < lo) a = lo;
    if (b > hi) b = hi;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    a = (a + page - 1) & ~(page - 1);
    b &= ~(page - 1);
    /* a private read-only file mapping: dropped pages come back from the file */
    if (a < b) madvise((void *)a, b - a, MADV_DONTNEED);
}

lk_status lk_read_file(const char *path, size_t max_size, char **out, size_t *size,
                       lk_error *err) {
    *out = NULL;
    if (size) *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lk_error_set(err, errno == ENOENT ? LK_ERR_NOT_FOUND : LK_ERR_IO,
                            "%s: cannot open: %s", path, strerror(errno));
    size_t cap = max_size < 4096 ? max_size : 4096, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (len == cap) {
            if (cap >= max_size) {
                int extra = fgetc(f);
                if (extra == EOF) break;
                free(buf);
                fclose(f);
                return lk_error_set(err, LK_ERR_RANGE, "%s: larger than the %zu-byte limit",
                                    path, max_size);
            }
            cap = cap * 2 > max_size ? max_size : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return lk_error_set(err, LK_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return lk_error_set(err, LK_ERR_IO, "%s: read error", path);
    }
    buf[len] = '\0';
    *out = buf;
    if (size) *size = len;
    return LK_OK;
}
