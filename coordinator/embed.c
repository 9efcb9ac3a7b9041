#include "embed.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 15000
#define STOP_GRACE_MS 5000

/* The sibling program: installed side by side (bin/agent), or in the build
 * tree (build/agent/agent beside build/coordinator/coordinator). */
static int find_binary(const char *name, char *path, size_t cap)
{
    char self[PATH_MAX], dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

    if (n <= 0) return -1;
    self[n] = '\0';
    snprintf(dir, sizeof dir, "%s", dirname(self));
    snprintf(path, cap, "%s/%s", dir, name);
    if (access(path, X_OK) == 0) return 0;
    snprintf(path, cap, "%s/../%s/%s", dir, name, name);
    return access(path, X_OK) == 0 ? 0 : -1;
}

/* Reads the child's stdout until the ready line, or the deadline. */
static int read_ready(embed_proc_t *p, int fd, fb_err_t *err)
{
    char buf[512];
    size_t len = 0;
    struct pollfd pfd = {fd, POLLIN, 0};
    int waited = 0;

    while (waited < READY_TIMEOUT_MS && len < sizeof buf - 1) {
        char *nl, *at, *colon;
        ssize_t n;
        if (poll(&pfd, 1, 100) == 0) {
            waited += 100;
            continue;
        }
        n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        if ((nl = strchr(buf, '\n')) == NULL) continue;
        *nl = '\0';
        at = strstr(buf, "://");
        colon = at ? strrchr(at + 3, ':') : NULL;
        if (colon == NULL) break;
        snprintf(p->host, sizeof p->host, "%.*s", (int)(colon - at - 3), at + 3);
        p->port = atoi(colon + 1);
        if (p->port > 0) return 0;
        break;
    }
    fb_err_set(err, "embedded %s did not start (see its messages above)", p->name);
    return -1;
}

int embed_start(embed_proc_t *p, const char *name, char *const args[], fb_err_t *err)
{
    char path[PATH_MAX + 32], *argv[32];
    int pipefd[2], i;

    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    if (find_binary(name, path, sizeof path) != 0) {
        fb_err_set(err, "cannot find the %s program beside the coordinator", name);
        return -1;
    }
    argv[0] = path;
    for (i = 0; args[i] && i < 30; i++)
        argv[i + 1] = args[i];
    argv[i + 1] = NULL;
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        fb_err_set(err, "pipe: %s", strerror(errno));
        return -1;
    }
    p->pid = fork();
    if (p->pid < 0) {
        fb_err_set(err, "fork: %s", strerror(errno));
        return -1;
    }
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the coordinator */
        dup2(pipefd[1], STDOUT_FILENO);
        execv(path, argv);
        _exit(127); /* as a shell says "command not found" */
    }
    close(pipefd[1]);
    p->out_fd = pipefd[0];
    i = read_ready(p, pipefd[0], err);
    if (i != 0) embed_stop(p);
    return i;
}

void embed_stop(embed_proc_t *p)
{
    int status;

    if (p->pid <= 0) return;
    kill(p->pid, SIGTERM);
    close(p->out_fd);
    for (int waited = 0; waited < STOP_GRACE_MS; waited += 10) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return;
        }
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
}
