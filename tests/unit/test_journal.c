/* journal: a torn tail is cut before appending (resume works again and
 * again), a torn or invalid header is an error naming the file, the lock
 * keeps a second writer out, and a write cut short by a full disk is taken
 * back so the file stays resumable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"

static char g_dir[64], g_path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/fb-journal-XXXXXX");
    if (mkdtemp(g_dir) == NULL) return -1;
    snprintf(g_path, sizeof g_path, "%s/j", g_dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *k_argv[] = {"coordinator", "--runs", "3", "--export-json", "r.json"};
#define K_ARGC 5

/* One agent run whose ok count says which run it was. */
static int append_run(journal_t *j, size_t bench, uint64_t tag, fb_err_t *err)
{
    bench_agent_run_t a = {.wall_s = 0.5, .ok = tag};
    hist_t *h = hist_new();
    int rc;

    assert_non_null(h);
    hist_record(h, 1000 + tag);
    rc = journal_append(j, bench, &a, 1, h, NULL, NULL, err);
    hist_free(&h);
    return rc;
}

typedef struct {
    size_t n;
    uint64_t tags[64];
} seen_t;

static int on_run(void *ctx, size_t bench, const bench_agent_run_t *agents, size_t nagents,
                  const hist_t *latency, const hist_t *service, const bench_target_t *target,
                  fb_err_t *err)
{
    seen_t *s = ctx;

    (void)bench;
    (void)latency;
    (void)service;
    (void)target;
    (void)err;
    assert_int_equal(nagents, 1);
    assert_true(s->n < 64);
    s->tags[s->n++] = agents[0].ok;
    return 0;
}

/* Loads g_path: 0 with the runs' tags in *s, or -1 with err. */
static int load(seen_t *s, fb_err_t *err)
{
    journal_load_t l = {.on_run = on_run, .ctx = s};
    int rc;

    memset(s, 0, sizeof *s);
    rc = journal_load(g_path, &l, err);
    if (rc == 0) {
        assert_int_equal(l.argc, K_ARGC);
        assert_string_equal(l.argv[3], "--export-json");
    }
    journal_load_free(&l);
    return rc;
}

static void tear(const char *bytes, size_t len)
{
    int fd = open(g_path, O_WRONLY | O_APPEND);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    close(fd);
}

static off_t size_of(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void test_torn_tail_cut_every_time(void **state)
{
    fb_err_t err = {""};
    journal_t j;
    seen_t s;

    (void)state;
    assert_int_equal(journal_create(&j, g_path, K_ARGC, k_argv, &err), 0);
    assert_int_equal(append_run(&j, 0, 1, &err), 0);
    journal_close(&j);
    /* crash, resume, crash, resume...: each time a half-written line */
    for (uint64_t round = 2; round < 7; round++) {
        off_t whole = size_of(g_path);
        /* a line cut mid-way, or the zeros a file system can leave after a crash */
        if (round % 2)
            tear("{\"bench\":0,\"agents\":[{\"wall\":0.5", 31);
        else
            tear("\0\0\0\0", 4);
        assert_int_equal(load(&s, &err), 0); /* the tail never counted */
        assert_int_equal(s.n, round - 1);
        assert_int_equal(journal_reopen(&j, g_path, &err), 0);
        assert_int_equal(size_of(g_path), whole); /* cut before anything is appended */
        assert_int_equal(append_run(&j, 0, round, &err), 0);
        journal_close(&j);
        assert_int_equal(load(&s, &err), 0);
        assert_int_equal(s.n, round);
        for (size_t i = 0; i < s.n; i++)
            assert_int_equal(s.tags[i], i + 1);
    }
}

static void test_header_validated(void **state)
{
    static const char *const k_bad[] = {
        "{\"fleetbench_journal\":1,\"argv\":[\"coordinator\",\"--ru", /* torn */
        "",
        "{\"fleetbench_journal\":1,\"argv\":[]}\n",
        "{\"fleetbench_journal\":1,\"argv\":[\"c\",\"--resume\",\"x\"]}\n",
        "{\"fleetbench_journal\":1,\"argv\":[\"c\",3]}\n",
        "{\"fleetbench_journal\":2,\"argv\":[\"c\"]}\n",
        "{\"argv\":[\"c\"]}\n",
        "not json\n",
    };
    fb_err_t err = {""};
    journal_t j;
    seen_t s;

    (void)state;
    for (size_t i = 0; i < sizeof k_bad / sizeof *k_bad; i++) {
        FILE *f = fopen(g_path, "w");
        assert_non_null(f);
        fputs(k_bad[i], f);
        fclose(f);
        fb_err_clear(&err);
        assert_int_equal(load(&s, &err), -1);
        assert_non_null(strstr(err.msg, g_path)); /* names the file */
        if (i < 2) { /* no whole first line: nothing to reopen either */
            assert_int_equal(journal_reopen(&j, g_path, &err), -1);
            assert_non_null(strstr(err.msg, g_path));
            assert_non_null(strstr(err.msg, "header"));
        }
    }
}

static void test_lock_keeps_second_out(void **state)
{
    fb_err_t err = {""};
    char fifo[160];
    journal_t a, b;
    seen_t s;

    (void)state;
    assert_int_equal(journal_create(&a, g_path, K_ARGC, k_argv, &err), 0);
    assert_int_equal(append_run(&a, 0, 1, &err), 0);
    /* a second coordinator: neither a new journal over it nor a resume */
    assert_int_equal(journal_create(&b, g_path, K_ARGC, k_argv, &err), -1);
    assert_non_null(strstr(err.msg, "in use by another coordinator"));
    assert_non_null(strstr(err.msg, g_path));
    assert_int_equal(journal_reopen(&b, g_path, &err), -1);
    assert_non_null(strstr(err.msg, "in use by another coordinator"));
    /* the first is untouched and goes on */
    assert_int_equal(append_run(&a, 0, 2, &err), 0);
    journal_close(&a);
    assert_int_equal(load(&s, &err), 0);
    assert_int_equal(s.n, 2);
    /* free again once closed */
    assert_int_equal(journal_reopen(&b, g_path, &err), 0);
    journal_close(&b);
    journal_close(&b); /* twice is fine */
    /* not a regular file (a FIFO of our own: O_RDWR opens it without a reader) */
    snprintf(fifo, sizeof fifo, "%s/fifo", g_dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(journal_create(&b, fifo, K_ARGC, k_argv, &err), -1);
    assert_non_null(strstr(err.msg, "not a regular file"));
}

/* In a child: the file size limit stands in for a full disk (EFBIG after a
 * short write). Appends until one fails; exits 0 if it did, cleanly. */
static void fill_up(void)
{
    struct rlimit rl;
    fb_err_t err = {""};
    journal_t j;

    signal(SIGXFSZ, SIG_IGN);
    if (journal_reopen(&j, g_path, &err) != 0) _exit(10);
    rl.rlim_cur = rl.rlim_max = (rlim_t)j.size + 700; /* a few lines more */
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(11);
    for (uint64_t tag = 100; tag < 200; tag++)
        if (append_run(&j, 0, tag, &err) != 0) {
            _exit(strstr(err.msg, strerror(EFBIG)) && strstr(err.msg, g_path) ? 0 : 12);
        }
    _exit(13);
}

static void test_full_disk_leaves_it_resumable(void **state)
{
    fb_err_t err = {""};
    char last;
    journal_t j;
    seen_t s;
    pid_t pid;
    int status, fd;

    (void)state;
    assert_int_equal(journal_create(&j, g_path, K_ARGC, k_argv, &err), 0);
    assert_int_equal(append_run(&j, 0, 1, &err), 0);
    journal_close(&j);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) fill_up();
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the failed line was taken back: the file ends with a whole line */
    fd = open(g_path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &last, 1, size_of(g_path) - 1), 1);
    close(fd);
    assert_int_equal(last, '\n');
    assert_int_equal(load(&s, &err), 0);
    assert_true(s.n >= 2); /* some fitted */
    /* space again: resumes and appends */
    assert_int_equal(journal_reopen(&j, g_path, &err), 0);
    assert_int_equal(append_run(&j, 0, 999, &err), 0);
    journal_close(&j);
    assert_int_equal(load(&s, &err), 0);
    assert_int_equal(s.tags[s.n - 1], 999);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torn_tail_cut_every_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_validated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_keeps_second_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_disk_leaves_it_resumable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
