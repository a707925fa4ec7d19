/* SPDX-License-Identifier: MIT */
/* Small file helpers for state files: read without following symlinks, atomic
 * replace, rename without overwriting, and a pid-carrying flock lock file. */
#pragma once

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Reads a regular file into a NUL-terminated buffer, refusing symlinks (O_NOFOLLOW).
 * Returns 0 with *ret (owned) and *ret_size; -ENOENT, -ELOOP (symlink), -EISDIR,
 * -EBADFD (not a regular file), -EFBIG (larger than max), -ENOMEM, or the read errno. */
int read_file_nofollow(const char *path, size_t max, char **ret, size_t *ret_size);

/* Replaces path with data atomically: a temp file "<dir>/.<name>.XXXXXX" created
 * O_EXCL|O_NOFOLLOW with the given mode (enforced with fchmod whatever the umask), write,
 * fflush, fsync, checked fclose, rename, fsync of the directory. Returns 0 or a negative
 * errno; *ret_step (may be NULL) names the step that failed ("create", "write", "fsync",
 * "close", "rename", "fsync directory"). Up to "rename" a failure removes the temp file
 * and leaves path untouched; a failed "fsync directory" leaves the new content in place
 * but not known to survive a crash, and is reported all the same. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode,
                      const char **ret_step);

/* The same, with the content written by fill(f, userdata) straight into the temp file, so
 * a large document need not be built in memory first. fill returns 0 or a negative errno
 * (which fails the write, step "write"); write errors on f are caught afterwards too. */
typedef int (*write_file_fn)(FILE *f, void *userdata);
int write_file_atomic_with(const char *path, mode_t mode, write_file_fn fill, void *userdata,
                           const char **ret_step);

/* rename(2) that never overwrites: -EEXIST when to exists. Works on symlinks. */
int rename_noreplace(const char *from, const char *to);

/* Opens (creating 0600, O_NOFOLLOW) path and takes an exclusive non-blocking flock.
 * On success writes our pid into the file and returns 0 with *ret_fd. When another
 * process holds it returns -EAGAIN and *ret_holder (may be NULL) = the pid in the file,
 * 0 when none could be read. -ELOOP for a symlink; other negative errno. */
int lock_file_take(const char *path, int *ret_fd, pid_t *ret_holder);

/* Empties the pid and closes the lock fd (which releases the lock). fd < 0 is fine. */
void lock_file_release(int fd);
