#include "run.h"

#include "clock.h"
#include "request.h"
#include "strategy.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

void run_params_defaults(run_params_t *p)
{
    memset(p, 0, sizeof *p);
    strcpy(p->host, "127.0.0.1");
    p->port = 8080;
    p->requests = 100;
    p->chunk = 100;
    p->connections = 100;
    p->in_flight = 100;
    p->timeout_ms = 10000;
}

int run_params_finish(run_params_t *p, char *err)
{
    if (req_base_url(p->base_url, sizeof p->base_url, p->host, p->port) != 0) {
        snprintf(err, RUN_ERR_LEN, "target host '%.64s...' is too long", p->host);
        return -1;
    }
    return 0;
}

int run_result_init(run_result_t *r)
{
    memset(r, 0, sizeof *r);
    return tally_init(&r->tally);
}

void run_result_close(run_result_t *r)
{
    tally_close(&r->tally);
}

static atomic_int g_abort;

void run_abort_set(int on)
{
    atomic_store(&g_abort, on);
}

int run_aborted(void)
{
    return atomic_load_explicit(&g_abort, memory_order_relaxed);
}

void run_raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static uint64_t tv_ns(struct timeval tv)
{
    return (uint64_t)tv.tv_sec * 1000000000u + (uint64_t)tv.tv_usec * 1000u;
}

int run_execute(const strategy_t *s, const run_params_t *p, run_result_t *r)
{
    struct rusage before, after;
    uint64_t t0;
    int rc;

    getrusage(RUSAGE_SELF, &before);
    t0 = clock_now_ns();
    r->start_ns = t0;
    rc = s->run(p, r);
    r->wall_ns = clock_now_ns() - t0;
    getrusage(RUSAGE_SELF, &after);
    r->user_ns = tv_ns(after.ru_utime) - tv_ns(before.ru_utime);
    r->sys_ns = tv_ns(after.ru_stime) - tv_ns(before.ru_stime);
    return rc;
}
