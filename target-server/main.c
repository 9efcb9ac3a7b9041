/* target-server: the HTTP server under load. See config.c for the options. */
#include "config.h"
#include "fb_exit.h"
#include "opt.h"
#include "server.h"

#include <http_parser.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* Enough descriptors for --max-connections plus the listeners. */
static void raise_fd_limit(uint64_t want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

int main(int argc, char **argv)
{
    static config_t cfg;
    static atomic_uint_fast64_t nconns;
    fb_err_t err = {""};
    srv_worker_t *workers;
    int *fds, port, sig;
    sigset_t set;
    unsigned i;

    switch (config_parse(&cfg, argc, argv, stdout, &err)) {
    case CONFIG_EXIT: return FB_EXIT_OK;
    case CONFIG_ERROR: fprintf(stderr, "target-server: %s\n", err.msg); return FB_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    /* workers inherit this mask: only the main thread takes the signals */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    raise_fd_limit(cfg.max_conns + cfg.threads + 64);
    http_parser_set_max_header_size((uint32_t)cfg.max_header);

    workers = calloc(cfg.threads, sizeof *workers);
    fds = calloc(cfg.threads, sizeof *fds);
    if (workers == NULL || fds == NULL) {
        fb_err_set(&err, "out of memory");
        goto fail;
    }
    if (srv_listen_fds(&cfg, fds, cfg.threads, &port, &err) != 0) goto fail;
    for (i = 0; i < cfg.threads; i++) {
        if (srv_worker_init(&workers[i], &cfg, fds[i], i, &nconns, &err) != 0) goto fail;
        workers[i].all = workers; /* GET /stats reads them all */
        workers[i].nall = cfg.threads;
    }
    for (i = 0; i < cfg.threads; i++)
        if (srv_worker_start(&workers[i], &err) != 0)
            goto fail; /* the process ends: the started workers with it */
    printf("target-server: listening on http://%s:%d (%u threads)\n", cfg.host, port, cfg.threads);
    fflush(stdout);

    sigwait(&set, &sig); /* SIGINT or SIGTERM: drain quietly, as a daemon does */
    for (i = 0; i < cfg.threads; i++)
        srv_worker_stop(&workers[i]);
    for (i = 0; i < cfg.threads; i++) {
        srv_worker_join(&workers[i]);
        srv_worker_close(&workers[i]);
    }
    free(workers);
    free(fds);
    return FB_EXIT_OK;
fail:
    fprintf(stderr, "target-server: %s\n", err.msg);
    free(workers);
    free(fds);
    return FB_EXIT_USAGE; /* cannot listen, or no memory: README's table */
}
