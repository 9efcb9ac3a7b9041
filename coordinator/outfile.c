#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40 /* the kernel's own limit (ELOOP) */

static int fail(fb_err_t *err, const char *path, const char *what, int e)
{
    fb_err_set(err, "%.400s: %s: %s", path, what, strerror(e));
    return -1;
}

/* The descriptor a name stands for — /dev/stdout, /dev/fd/N, /proc/self/fd/N
 * — or -1. Opening such a name reopens the file behind the descriptor (at
 * offset 0 for a regular one) and realpath() gives names like "pipe:[42]":
 * the descriptor itself is what the user means. */
static int fd_alias(const char *p)
{
    static const char *const k_std[] = {"/dev/stdin", "/dev/stdout", "/dev/stderr"};
    char self[64], *end;
    const char *num = NULL;
    long v;

    for (int i = 0; i < 3; i++)
        if (strcmp(p, k_std[i]) == 0) return i;
    snprintf(self, sizeof self, "/proc/%ld/fd/", (long)getpid());
    if (strncmp(p, "/dev/fd/", 8) == 0)
        num = p + 8;
    else if (strncmp(p, "/proc/self/fd/", 14) == 0)
        num = p + 14;
    else if (strncmp(p, "/proc/thread-self/fd/", 21) == 0)
        num = p + 21;
    else if (strncmp(p, self, strlen(self)) == 0)
        num = p + strlen(self);
    if (num == NULL || *num < '0' || *num > '9') return -1;
    errno = 0;
    v = strtol(num, &end, 10);
    return *end == '\0' && errno == 0 && v <= INT_MAX ? (int)v : -1;
}

/* Follows path's symlinks, hop by hop, to the name they end at (which need
 * not exist yet: a dangling link creates its target). *fd is the descriptor
 * when a hop names one (then final is that hop), else -1. */
static int resolve(const char *path, char *final, int *fd, fb_err_t *err)
{
    char cur[OUTFILE_PATH_LEN], link[OUTFILE_PATH_LEN], next[OUTFILE_PATH_LEN];
    struct stat st;

    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur || path[0] == '\0')
        return fail(err, path, "bad file name", ENAMETOOLONG);
    for (int hops = 0;; hops++) {
        const char *slash;
        ssize_t n;
        if ((*fd = fd_alias(cur)) >= 0) break;
        if (lstat(cur, &st) != 0) {
            if (errno != ENOENT) return fail(err, path, "cannot look it up", errno);
            break; /* a new file; a missing directory shows when it is created */
        }
        if (!S_ISLNK(st.st_mode)) break;
        if (hops == MAX_LINKS) return fail(err, path, "cannot follow its symlinks", ELOOP);
        n = readlink(cur, link, sizeof link - 1);
        if (n < 0) return fail(err, path, "cannot read the symlink", errno);
        link[n] = '\0';
        slash = strrchr(cur, '/');
        /* a relative target is relative to the link's own directory */
        if (link[0] == '/' || slash == NULL)
            n = snprintf(next, sizeof next, "%s", link);
        else
            n = snprintf(next, sizeof next, "%.*s%s", (int)(slash - cur + 1), cur, link);
        if (n >= (ssize_t)sizeof next)
            return fail(err, path, "cannot follow its symlinks", ENAMETOOLONG);
        memcpy(cur, next, (size_t)n + 1);
    }
    memcpy(final, cur, strlen(cur) + 1);
    return 0;
}

/* A new file is created as open(2) with 0666 would, under the umask. */
static mode_t new_file_mode(void)
{
    mode_t mask = umask(0);

    umask(mask);
    return 0666 & ~mask;
}

/* A unique temporary beside final, with the mode the file is to have. */
static int make_tmp(char *tmp, const char *final, mode_t mode)
{
    int fd;

    if (snprintf(tmp, OUTFILE_PATH_LEN, "%s.tmp.XXXXXX", final) >= OUTFILE_PATH_LEN) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd >= 0 && fchmod(fd, mode) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    return fd;
}

int outfile_open(outfile_t *o, const char *path, fb_err_t *err)
{
    struct stat st;
    int alias, fd, exists;

    memset(o, 0, sizeof *o);
    snprintf(o->path, sizeof o->path, "%s", path);
    if (resolve(path, o->final, &alias, err) != 0) return -1;
    exists = alias < 0 && stat(o->final, &st) == 0;
    if (alias >= 0) {
        fd = fcntl(alias, F_DUPFD_CLOEXEC, 3); /* ours to close; the original stays */
        if (fd < 0) return fail(err, path, "no such open descriptor", errno);
    } else if (exists && S_ISDIR(st.st_mode)) {
        return fail(err, path, "cannot write", EISDIR);
    } else if (exists && !S_ISREG(st.st_mode)) {
        fd = open(o->final, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) return fail(err, path, "cannot open", errno);
    } else {
        fd = make_tmp(o->tmp, o->final, exists ? st.st_mode & 07777 : new_file_mode());
        if (fd < 0) {
            o->tmp[0] = '\0';
            return fail(err, path, "cannot create a file beside it", errno);
        }
    }
    o->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    o->f = fdopen(fd, "w");
    if (o->f == NULL) {
        int e = errno;
        close(fd);
        outfile_abort(o);
        return fail(err, path, "cannot write", e);
    }
    return 0;
}

/* The rename is durable only once the directory entry is on disk too. */
static int sync_dir(const char *final)
{
    char dir[OUTFILE_PATH_LEN];
    const char *slash = strrchr(final, '/');
    int fd, rc;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == final ? 1 : (int)(slash - final), final);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    rc = fsync(fd);
    if (rc != 0 && errno == EINVAL) rc = 0; /* a file system that cannot sync directories */
    close(fd);
    return rc;
}

int outfile_commit(outfile_t *o, fb_err_t *err)
{
    int e = 0;

    if (fflush(o->f) != 0)
        e = errno;
    else if (o->regular && fsync(fileno(o->f)) != 0)
        e = errno;
    if (fclose(o->f) != 0 && e == 0) e = errno;
    o->f = NULL;
    if (e != 0) {
        outfile_abort(o);
        return fail(err, o->path, "cannot write", e);
    }
    if (o->tmp[0] == '\0') return 0;
    if (rename(o->tmp, o->final) != 0) {
        e = errno;
        outfile_abort(o);
        return fail(err, o->path, "cannot replace", e);
    }
    o->tmp[0] = '\0';
    if (sync_dir(o->final) != 0) return fail(err, o->path, "cannot sync its directory", errno);
    return 0;
}

void outfile_abort(outfile_t *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    if (o->tmp[0]) unlink(o->tmp);
    o->tmp[0] = '\0';
}

int outfile_check(const char *path, fb_err_t *err)
{
    char final[OUTFILE_PATH_LEN], tmp[OUTFILE_PATH_LEN];
    struct stat st;
    int alias, fd, flags;

    if (resolve(path, final, &alias, err) != 0) return -1;
    if (alias >= 0) {
        flags = fcntl(alias, F_GETFL);
        if (flags < 0) return fail(err, path, "no such open descriptor", errno);
        if ((flags & O_ACCMODE) == O_RDONLY) return fail(err, path, "not open for writing", EBADF);
        return 0;
    }
    if (stat(final, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return fail(err, path, "cannot write", EISDIR);
        if (!S_ISREG(st.st_mode)) /* written in place: opening a FIFO would wait for a reader */
            return access(final, W_OK) == 0 ? 0 : fail(err, path, "cannot write", errno);
    } else if (errno != ENOENT) {
        return fail(err, path, "cannot look it up", errno);
    }
    fd = make_tmp(tmp, final, 0600);
    if (fd < 0) return fail(err, path, "cannot create a file beside it", errno);
    close(fd);
    unlink(tmp);
    return 0;
}

bool outfile_in_place(const char *path)
{
    char final[OUTFILE_PATH_LEN];
    fb_err_t err;
    struct stat st;
    int alias;

    if (resolve(path, final, &alias, &err) != 0) return false;
    if (alias >= 0) return true;
    return stat(final, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/* final with its directory made canonical: "./x", "d/../x" and "x" agree
 * even before x exists. */
static void canonical(const char *final, char *out)
{
    char dir[OUTFILE_PATH_LEN], *real;
    const char *slash = strrchr(final, '/'), *base = slash ? slash + 1 : final;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == final ? 1 : (int)(slash - final), final);
    real = realpath(dir, NULL);
    if (real == NULL || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        snprintf(out, OUTFILE_PATH_LEN, "%s", final);
    else
        snprintf(out, OUTFILE_PATH_LEN, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
    free(real);
}

/* stat of what a resolved name stands for; -1 if nothing is there yet. */
static int stat_of(const char *final, int alias, struct stat *st)
{
    return alias >= 0 ? fstat(alias, st) : stat(final, st);
}

bool outfile_same(const char *a, const char *b)
{
    char fa[OUTFILE_PATH_LEN], fb[OUTFILE_PATH_LEN], ca[OUTFILE_PATH_LEN], cb[OUTFILE_PATH_LEN];
    fb_err_t err;
    struct stat sa, sb;
    int da, db;

    if (resolve(a, fa, &da, &err) != 0 || resolve(b, fb, &db, &err) != 0) return false;
    if (da >= 0 && da == db) return true;
    if (stat_of(fa, da, &sa) == 0 && stat_of(fb, db, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (da >= 0 || db >= 0) return false;
    canonical(fa, ca);
    canonical(fb, cb);
    return strcmp(ca, cb) == 0;
}
