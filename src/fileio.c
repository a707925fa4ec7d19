/* SPDX-License-Identifier: MIT */
#include "fileio.h"

#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "macro.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

int read_file_nofollow(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        struct stat st;
        size_t size = 0;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;

        /* The size may change under us: read until EOF, bounded by max. */
        size_t alloc = (size_t) st.st_size + 1;
        buf = malloc(alloc);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (size + 1 >= alloc) {
                        if (alloc > max)
                                return -EFBIG;
                        size_t n = alloc * 2;
                        char *p = realloc(buf, n);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        alloc = n;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }
        if (size > max)
                return -EFBIG;
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

/* Creates "<dir>/.<base>.XXXXXX" exclusively. Returns the fd and *ret_tmp, or -errno. */
static int open_temp_beside(const char *path, mode_t mode, char **ret_tmp) {
        _cleanup_(freep) char *d = strdup(path), *b = strdup(path);
        if (!d || !b)
                return -ENOMEM;
        const char *dir = dirname(d), *base = basename(b);

        for (unsigned attempt = 0; attempt < 100; attempt++) {
                _cleanup_(freep) char *tmp = NULL;
                uint32_t rnd;

                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                        rnd = (uint32_t) getpid() * 2654435761u + attempt;
                if (asprintf(&tmp, "%s/.%s.%06" PRIx32, dir, base, rnd & 0xffffff) < 0)
                        return -ENOMEM;
                int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd < 0) {
                        if (errno == EEXIST)
                                continue;
                        return -errno;
                }
                *ret_tmp = TAKE_PTR(tmp);
                return fd;
        }
        return -EEXIST;
}

static int fsync_directory_of(const char *path) {
        _cleanup_(freep) char *d = strdup(path);
        _cleanup_(closep) int fd = -EBADF;

        if (!d)
                return -ENOMEM;
        fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

/* Writes (through fill), flushes, syncs and closes f; always closes it. */
static int write_and_close(FILE *f, write_file_fn fill, void *userdata, const char **step) {
        int r;

        *step = "write";
        r = fill(f, userdata);
        if (r == 0 && ferror(f))
                r = errno > 0 ? -errno : -EIO;
        if (r == 0 && fflush(f) != 0)
                r = errno > 0 ? -errno : -EIO;
        if (r == 0) {
                *step = "fsync";
                if (fsync(fileno(f)) < 0)
                        r = -errno;
        }
        /* fclose() flushes too: its failure means data may be lost. */
        if (fclose(f) != 0 && r == 0) {
                *step = "close";
                r = errno > 0 ? -errno : -EIO;
        }
        return r;
}

int write_file_atomic_with(const char *path, mode_t mode, write_file_fn fill, void *userdata,
                           const char **ret_step) {
        _cleanup_(freep) char *tmp = NULL;
        const char *step = "create";
        FILE *f;
        int fd, r;

        fd = open_temp_beside(path, mode, &tmp);
        if (fd < 0) {
                r = fd;
                goto done;
        }
        /* The umask may have cut the mode down, or the caller asked for less than it allows. */
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                (void) close(fd);
                goto fail;
        }
        f = fdopen(fd, "w");
        if (!f) {
                r = -errno;
                (void) close(fd);
                goto fail;
        }
        r = write_and_close(f, fill, userdata, &step);
        if (r < 0)
                goto fail;
        step = "rename";
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }
        /* The new content is in place but, until the directory is synced, a crash may bring
         * back the old one. Callers act on what they persisted (the tracker records a
         * decision before the cluster is changed), so this is a failure like any other,
         * reported as step "fsync directory"; the rename is not undone. */
        step = "fsync directory";
        r = fsync_directory_of(path);
        goto done;

fail:
        (void) unlink(tmp);
done:
        if (ret_step)
                *ret_step = step;
        return r;
}

struct buffer {
        const void *data;
        size_t size;
};

static int write_buffer(FILE *f, void *userdata) {
        const struct buffer *b = userdata;

        if (b->size > 0 && fwrite(b->data, 1, b->size, f) != b->size)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode,
                      const char **ret_step) {
        struct buffer b = { data, size };

        return write_file_atomic_with(path, mode, write_buffer, &b, ret_step);
}

int rename_noreplace(const char *from, const char *to) {
        if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        /* The file system does not support the flag: check, then rename (racy but rare). */
        struct stat st;
        if (lstat(to, &st) == 0)
                return -EEXIST;
        if (rename(from, to) < 0)
                return -errno;
        return 0;
}

static pid_t read_pid(int fd) {
        char buf[32];
        ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);
        if (k <= 0)
                return 0;
        buf[k] = '\0';
        char *end;
        errno = 0;
        long v = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || v <= 0 || v > INT32_MAX)
                return 0;
        return (pid_t) v;
}

/* The holder writes its pid just after taking the lock: give it a moment (~100 ms). */
static pid_t read_holder(int fd) {
        pid_t pid = read_pid(fd);
        for (unsigned i = 0; pid == 0 && i < 20; i++) {
                (void) nanosleep(&(struct timespec) { .tv_nsec = 5 * 1000 * 1000 }, NULL);
                pid = read_pid(fd);
        }
        return pid;
}

int lock_file_take(const char *path, int *ret_fd, pid_t *ret_holder) {
        _cleanup_(closep) int fd = -EBADF;
        char buf[32];

        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = -errno;
                if (r == -EWOULDBLOCK) {
                        if (ret_holder)
                                *ret_holder = read_holder(fd);
                        return -EAGAIN;
                }
                return r;
        }
        (void) fchmod(fd, 0600);
        int n = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
                return errno > 0 ? -errno : -EIO;
        *ret_fd = fd;
        fd = -EBADF;
        return 0;
}

void lock_file_release(int fd) {
        if (fd < 0)
                return;
        /* Leave the file in place: unlinking a flock file races with the next taker. */
        int r = ftruncate(fd, 0);
        (void) r; /* a stale pid in an unlocked file is harmless, ignoring */
        (void) close(fd);
}
