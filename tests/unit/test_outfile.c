/* outfile: regular files replaced atomically through a unique temporary,
 * symlinks written through, devices, FIFOs and descriptors written in place,
 * every error reported; the checks made before a run and the same-file test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "outfile.h"

typedef struct {
    char dir[64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);

    snprintf(fx->dir, sizeof fx->dir, "/tmp/fb-outfile-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) return -1;
    signal(SIGPIPE, SIG_IGN); /* a FIFO's reader gone is an error to report, not a death */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0) return -1;
    free(fx);
    return 0;
}

static const char *at(const fixture_t *fx, const char *name)
{
    static char buf[4][256];
    static int i;

    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", fx->dir, name);
    return buf[i];
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 16);

    assert_non_null(f);
    assert_non_null(buf);
    (void)fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

static int write_text(const char *path, const char *text, fb_err_t *err)
{
    outfile_t o;

    if (outfile_open(&o, path, err) != 0) return -1;
    fputs(text, o.f);
    return outfile_commit(&o, err);
}

static void has_content(const char *path, const char *want)
{
    char *got = slurp(path);

    assert_string_equal(got, want);
    free(got);
}

/* How many entries the directory holds: no temporary may be left behind. */
static int entries(const fixture_t *fx)
{
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static void test_regular_replaced(void **state)
{
    fixture_t *fx = *state;
    const char *p = at(fx, "r.json");
    fb_err_t err = {""};
    struct stat before, after;
    mode_t mask = umask(022);

    /* new: created with 0666 under the umask, not mkstemp's 0600 */
    assert_int_equal(write_text(p, "one\n", &err), 0);
    has_content(p, "one\n");
    assert_int_equal(stat(p, &after), 0);
    assert_int_equal(after.st_mode & 0777, 0644);
    /* replaced: a new inode (a reader keeps the old one whole), the mode kept */
    assert_int_equal(chmod(p, 0640), 0);
    assert_int_equal(stat(p, &before), 0);
    assert_int_equal(write_text(p, "two\n", &err), 0);
    has_content(p, "two\n");
    assert_int_equal(stat(p, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    assert_int_equal(after.st_mode & 0777, 0640);
    assert_int_equal(entries(fx), 1);
    umask(mask);
}

static void test_unique_temporaries(void **state)
{
    fixture_t *fx = *state;
    const char *p = at(fx, "r.json");
    fb_err_t err = {""};
    outfile_t a, b;

    /* two writers at once (two coordinators, one path): neither clobbers
     * the other's temporary, the last rename wins whole */
    assert_int_equal(outfile_open(&a, p, &err), 0);
    assert_int_equal(outfile_open(&b, p, &err), 0);
    assert_string_not_equal(a.tmp, b.tmp);
    assert_true(strncmp(a.tmp, p, strlen(p)) == 0); /* beside it: the rename stays on its disk */
    fputs("from a\n", a.f);
    fputs("from b\n", b.f);
    assert_int_equal(outfile_commit(&b, &err), 0);
    assert_int_equal(outfile_commit(&a, &err), 0);
    has_content(p, "from a\n");
    assert_int_equal(entries(fx), 1);
}

static void test_abort_keeps_old(void **state)
{
    fixture_t *fx = *state;
    const char *p = at(fx, "r.json");
    fb_err_t err = {""};
    outfile_t o;

    put(p, "old\n");
    assert_int_equal(outfile_open(&o, p, &err), 0);
    fputs("half of a new one", o.f);
    outfile_abort(&o);
    has_content(p, "old\n");
    assert_int_equal(entries(fx), 1);
}

static void test_symlinks_followed(void **state)
{
    fixture_t *fx = *state;
    fb_err_t err = {""};
    char target[300];
    struct stat st;

    assert_int_equal(mkdir(at(fx, "sub"), 0755), 0);
    put(at(fx, "sub/real.json"), "old\n");
    /* a relative link, to a relative link: each resolved from its own directory */
    assert_int_equal(symlink("real.json", at(fx, "sub/inner")), 0);
    assert_int_equal(symlink("sub/inner", at(fx, "outer")), 0);
    assert_int_equal(write_text(at(fx, "outer"), "new\n", &err), 0);
    has_content(at(fx, "sub/real.json"), "new\n");
    assert_int_equal(lstat(at(fx, "outer"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(lstat(at(fx, "sub/inner"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    /* a dangling link: its target is created, the link stays */
    snprintf(target, sizeof target, "%s", at(fx, "sub/new.json"));
    assert_int_equal(symlink(target, at(fx, "dangling")), 0);
    assert_int_equal(write_text(at(fx, "dangling"), "made\n", &err), 0);
    has_content(target, "made\n");
    assert_int_equal(lstat(at(fx, "dangling"), &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_false(outfile_in_place(at(fx, "outer")));
    /* a loop is an error, not a hang */
    assert_int_equal(symlink("loop2", at(fx, "loop1")), 0);
    assert_int_equal(symlink("loop1", at(fx, "loop2")), 0);
    assert_int_equal(write_text(at(fx, "loop1"), "x", &err), -1);
    assert_non_null(strstr(err.msg, "loop1"));
    assert_non_null(strstr(err.msg, strerror(ELOOP)));
}

static void test_fifo_in_place(void **state)
{
    fixture_t *fx = *state;
    const char *p = at(fx, "fifo");
    fb_err_t err = {""};
    char got[64] = "";
    struct stat st;
    int pipefd[2], status;
    pid_t reader;
    ssize_t n;

    assert_int_equal(mkfifo(p, 0600), 0);
    assert_true(outfile_in_place(p));
    /* checked without opening it: no reader yet, and it must not wait for one */
    assert_int_equal(outfile_check(p, &err), 0);
    assert_int_equal(pipe(pipefd), 0);
    reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) { /* cat FIFO > pipe */
        char buf[64];
        int fd = open(p, O_RDONLY);
        ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof buf);
        while (k > 0) {
            if (write(pipefd[1], buf, (size_t)k) != k) _exit(2);
            k = read(fd, buf, sizeof buf);
        }
        _exit(k == 0 ? 0 : 1);
    }
    close(pipefd[1]);
    assert_int_equal(write_text(p, "through the fifo\n", &err), 0);
    n = read(pipefd[0], got, sizeof got - 1);
    assert_true(n > 0);
    got[n] = '\0';
    assert_string_equal(got, "through the fifo\n");
    assert_int_equal(waitpid(reader, &status, 0), reader);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pipefd[0]);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    assert_int_equal(entries(fx), 1);
}

/* /dev/full and /dev/null, or as root nodes of our own with their numbers:
 * a regression that renamed over them must not break the machine's. */
static const char *device(const fixture_t *fx, const char *name, dev_t dev)
{
    static char path[2][256];
    char *p = path[dev == makedev(1, 3)];

    if (geteuid() != 0) {
        snprintf(p, sizeof path[0], "/dev/%s", name);
        return p;
    }
    snprintf(p, sizeof path[0], "%s/%s", fx->dir, name);
    assert_int_equal(mknod(p, S_IFCHR | 0666, dev), 0);
    return p;
}

static void test_dev_full(void **state)
{
    fixture_t *fx = *state;
    const char *full = device(fx, "full", makedev(1, 7)), *null = device(fx, "null", makedev(1, 3));
    fb_err_t err = {""};
    struct stat st;

    assert_true(outfile_in_place(full));
    assert_int_equal(outfile_check(full, &err), 0);
    assert_int_equal(write_text(full, "nowhere\n", &err), -1);
    assert_non_null(strstr(err.msg, full));
    assert_non_null(strstr(err.msg, strerror(ENOSPC)));
    /* still the device (the old rename replaced it when run as root) */
    assert_int_equal(lstat(full, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    /* /dev/null: in place, no error */
    assert_int_equal(write_text(null, "gone\n", &err), 0);
    assert_int_equal(lstat(null, &st), 0);
    assert_true(S_ISCHR(st.st_mode));
}

static void test_descriptor_names(void **state)
{
    fixture_t *fx = *state;
    fb_err_t err = {""};
    char name[64];
    const char *p = at(fx, "stdout.txt");
    struct stat before, after;
    int fd, pipefd[2];
    char got[64] = "";
    ssize_t n;

    /* a pipe's write end: its /proc name is "pipe:[N]", not a file */
    assert_int_equal(pipe(pipefd), 0);
    snprintf(name, sizeof name, "/dev/fd/%d", pipefd[1]);
    assert_true(outfile_in_place(name));
    assert_int_equal(outfile_check(name, &err), 0);
    assert_int_equal(write_text(name, "piped\n", &err), 0);
    n = read(pipefd[0], got, sizeof got - 1);
    assert_int_equal(n, 6);
    assert_string_equal(got, "piped\n");
    /* the read end is not for writing */
    snprintf(name, sizeof name, "/proc/self/fd/%d", pipefd[0]);
    assert_int_equal(outfile_check(name, &err), -1);
    assert_non_null(strstr(err.msg, "not open for writing"));
    close(pipefd[0]);
    close(pipefd[1]);
    /* stdout redirected to a regular file: written at its offset, after what
     * is already there, and the file is not replaced */
    put(p, "summary\n");
    fd = open(p, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &before), 0);
    snprintf(name, sizeof name, "/proc/%ld/fd/%d", (long)getpid(), fd);
    assert_true(outfile_in_place(name));
    assert_int_equal(write_text(name, "{}\n", &err), 0);
    close(fd);
    has_content(p, "summary\n{}\n");
    assert_int_equal(stat(p, &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    /* a descriptor that is not open */
    assert_int_equal(outfile_check("/dev/fd/987", &err), -1);
    assert_int_equal(write_text("/dev/fd/987", "x", &err), -1);
    assert_non_null(strstr(err.msg, "/dev/fd/987"));
}

static void test_errors_name_the_path(void **state)
{
    fixture_t *fx = *state;
    fb_err_t err = {""};

    /* a missing directory, found by the check before anything runs */
    assert_int_equal(outfile_check(at(fx, "missing/r.json"), &err), -1);
    assert_non_null(strstr(err.msg, "missing/r.json"));
    assert_non_null(strstr(err.msg, strerror(ENOENT)));
    assert_int_equal(write_text(at(fx, "missing/r.json"), "x", &err), -1);
    assert_non_null(strstr(err.msg, "missing/r.json"));
    /* a directory */
    assert_int_equal(outfile_check(fx->dir, &err), -1);
    assert_non_null(strstr(err.msg, strerror(EISDIR)));
    assert_int_equal(write_text(fx->dir, "x", &err), -1);
    assert_non_null(strstr(err.msg, strerror(EISDIR)));
    /* a directory where a file would have to be created */
    put(at(fx, "plain"), "x");
    assert_int_equal(outfile_check(at(fx, "plain/r.json"), &err), -1);
    assert_non_null(strstr(err.msg, strerror(ENOTDIR)));
    /* fine: the check leaves nothing behind */
    assert_int_equal(outfile_check(at(fx, "r.json"), &err), 0);
    assert_int_equal(entries(fx), 1);
    if (geteuid() != 0) { /* root writes anywhere */
        assert_int_equal(mkdir(at(fx, "ro"), 0555), 0);
        assert_int_equal(outfile_check(at(fx, "ro/r.json"), &err), -1);
        assert_non_null(strstr(err.msg, strerror(EACCES)));
    }
}

static void test_same_file(void **state)
{
    fixture_t *fx = *state;
    char a[300], b[300], cwd[4096];

    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->dir), 0);
    /* not there yet: the names are compared once resolved */
    assert_true(outfile_same("j", "./j"));
    assert_true(outfile_same("j", "sub/../j") == false); /* no sub: cannot resolve */
    assert_int_equal(mkdir("sub", 0755), 0);
    assert_true(outfile_same("j", "sub/../j"));
    snprintf(a, sizeof a, "%s/j", fx->dir);
    assert_true(outfile_same("j", a));
    assert_false(outfile_same("j", "k"));
    /* through a symlink, before and after the target exists */
    assert_int_equal(symlink("j", "link"), 0);
    assert_true(outfile_same("link", "j"));
    put("j", "x");
    assert_true(outfile_same("link", "./j"));
    snprintf(b, sizeof b, "%s/sub/../link", fx->dir);
    assert_true(outfile_same(b, "j"));
    /* hard links are one file too */
    assert_int_equal(link("j", "hard"), 0);
    assert_true(outfile_same("hard", "j"));
    /* two names of one descriptor */
    assert_true(outfile_same("/dev/stdout", "/dev/fd/1"));
    assert_false(outfile_same("/dev/stdout", "j"));
    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regular_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unique_temporaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_in_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
