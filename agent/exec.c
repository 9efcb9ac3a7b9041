#include "exec.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_SLICE_MS 20 /* how often a run checks for an abort */

int exec_split(const char *s, char *buf, char **argv)
{
    int n = 0;
    char *save = NULL, *tok;

    strcpy(buf, s);
    for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        if (n == EXEC_ARGS_MAX) return -1;
        argv[n++] = tok;
    }
    argv[n] = NULL;
    return n > 0 ? n : -1;
}

static uint64_t tv_ns(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(const exec_params_t *p, char **argv, char *const *envp)
{
    int null;

    setpgid(0, 0); /* its own group: a timeout or abort kills all it started */
    if (!p->show_output && (null = open("/dev/null", O_RDWR)) >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO) close(null);
    }
    if (strchr(argv[0], '/'))
        execve(argv[0], argv, envp);
    else
        execvpe(argv[0], argv, envp); /* -N: a bare name is looked up in PATH */
    _exit(127);
}

/* The environment: ours, with the target and the iteration set. */
static char **make_env(const exec_params_t *p, char *vars[4], char buf[4][320])
{
    extern char **environ;
    size_t n = 0, k = 0;
    char **env;

    while (environ[n])
        n++;
    env = calloc(n + 5, sizeof *env);
    if (env == NULL) return NULL;
    snprintf(buf[0], 320, "BENCHMARK_SERVER_HOST=%s", p->host);
    snprintf(buf[1], 320, "BENCHMARK_SERVER_PORT=%d", p->port);
    snprintf(buf[2], 320, "FLEETBENCH_ITERATION=%llu", (unsigned long long)p->iteration);
    snprintf(buf[3], 320, "FLEETBENCH_WARMUP=%d", p->warmup ? 1 : 0);
    for (int i = 0; i < 4; i++)
        vars[i] = buf[i];
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        if (strncmp(e, "BENCHMARK_SERVER_HOST=", 22) == 0 ||
            strncmp(e, "BENCHMARK_SERVER_PORT=", 22) == 0 ||
            strncmp(e, "FLEETBENCH_ITERATION=", 21) == 0 ||
            strncmp(e, "FLEETBENCH_WARMUP=", 18) == 0)
            continue;
        env[k++] = environ[i];
    }
    for (int i = 0; i < 4; i++)
        env[k++] = vars[i];
    env[k] = NULL;
    return env;
}

int exec_run(const exec_params_t *p, int (*aborted)(void), exec_result_t *r, fb_err_t *err)
{
    char *argv[EXEC_ARGS_MAX + 1], *vars[4], vbuf[4][320];
    char *words = malloc(strlen(p->command) + 1);
    char **env = make_env(p, vars, vbuf);
    struct rusage ru;
    int status = 0, pidfd, rc = -1;
    uint64_t t0;
    pid_t pid;

    memset(r, 0, sizeof *r);
    if (words == NULL || env == NULL) {
        fb_err_set(err, "out of memory");
        goto out;
    }
    if (p->no_shell) {
        if (exec_split(p->command, words, argv) < 0) {
            fb_err_set(err, "command '%.64s' has no words or more than %d", p->command,
                       EXEC_ARGS_MAX);
            goto out;
        }
    } else {
        argv[0] = "/bin/sh";
        argv[1] = "-c";
        argv[2] = (char *)p->command;
        argv[3] = NULL;
    }
    t0 = clock_now_ns();
    r->start_ns = t0;
    pid = fork();
    if (pid < 0) {
        fb_err_set(err, "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) child(p, argv, env);
    setpgid(pid, pid); /* also here: no race with a kill before the child ran */
    /* a pidfd lets us wait for the child with a timeout and still reap it
     * at once: the wall time ends when it does, not at a poll tick */
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        uint64_t now = clock_now_ns();
        int ms = POLL_SLICE_MS;
        if (p->timeout_ns && now - t0 >= p->timeout_ns) r->timed_out = 1;
        if (r->timed_out || (aborted && aborted())) {
            kill(-pid, SIGKILL);
            break;
        }
        if (p->timeout_ns && (p->timeout_ns - (now - t0)) / 1000000 < (uint64_t)ms)
            ms = (int)((p->timeout_ns - (now - t0)) / 1000000) + 1;
        if (pidfd >= 0) {
            struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
            if (poll(&pfd, 1, ms) > 0) break;
        } else { /* no pidfd (an old kernel): block until it ends */
            break;
        }
    }
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
    r->wall_ns = clock_now_ns() - t0;
    if (pidfd >= 0) close(pidfd);
    kill(-pid, SIGKILL); /* what it left running in its group goes with it */
    r->user_ns = tv_ns(ru.ru_utime);
    r->sys_ns = tv_ns(ru.ru_stime);
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    rc = 0;
out:
    free(words);
    free(env);
    return rc;
}
