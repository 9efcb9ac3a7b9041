#include "cmd_run.h"

#include "cmd.h"
#include "hist.h"
#include "record.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char k_usage[] =
    "Usage: agent run STRATEGY [OPTIONS]\n"
    "\n"
    "Makes requests GET /multiply?number=i, i = 0 .. N-1, to the target with one\n"
    "strategy, checks every answer (result == 2i) and reports the run. By default\n"
    "as fast as the strategy goes (closed loop); with --rate, request i falls due\n"
    "at i/R s whatever the target does (open loop), and latency counts from then.\n"
    "\n"
    "Options:\n"
    "  -r, --requests N      requests to make (default 100)\n"
    "      --rate R          open loop: R requests per second on a fixed schedule;\n"
    "                        N = R x S (needs --duration, excludes --requests)\n"
    "      --duration S      with --rate: seconds of schedule (fractions allowed)\n"
    "  -c, --chunk C         the concurrency: threads-recreate, threads-reuse: numbers\n"
    "                        per chunk, the thread count; async-*: connections to the\n"
    "                        target at most, unless --connections (default 100)\n"
    "      --connections K   async-*: connections to the target at most (default: -c)\n"
    "      --in-flight M     async-*: transfers handed to curl at once; 0 adds all N\n"
    "                        at once and curl queues them (default: K)\n"
    "      --target HOST[:PORT]  the target server, or http://HOST[:PORT]/ (default\n"
    "                        $BENCHMARK_SERVER_HOST:$BENCHMARK_SERVER_PORT, else\n"
    "                        127.0.0.1:8080)\n"
    "      --timeout MS      per request, connecting included (default 10000); with\n"
    "                        --rate it counts from the request's due time, so a run\n"
    "                        ends by S + MS\n"
    "      --json            print the full record as JSON on stdout (the summary\n"
    "                        line goes to stderr)\n"
    "      --export-hdr FILE write the latency histogram (with --rate: corrected,\n"
    "                        from the due times) as HdrHistogram's percentile\n"
    "                        distribution, in ms\n"
    "  -h, --help            this text\n"
    "\n"
    "Strategies:\n";

static const char k_usage_tail[] =
    "\n"
    "Exit codes: 0 every request passed; 1 usage or configuration error, or the run\n"
    "could not run (e.g. threads refused); 2 some requests failed; 4 target\n"
    "unreachable (every request failed to connect); 130 interrupted (SIGINT or\n"
    "SIGTERM stops the run; the requests made so far are reported).\n";

enum { O_CONNECTIONS = 256, O_IN_FLIGHT, O_TARGET, O_TIMEOUT, O_JSON, O_RATE, O_DURATION, O_HDR };

/* Options seen, for the checks across options. */
enum {
    SEEN_REQUESTS = 1,
    SEEN_IN_FLIGHT = 2,
    SEEN_RATE = 4,
    SEEN_DURATION = 8,
    SEEN_CHUNK = 16,
    SEEN_CONNECTIONS = 32
};

#define REQUESTS_MAX 100000000 /* a run's requests, --rate x --duration included */

static const struct option k_opts[] = {
    {"requests", required_argument, NULL, 'r'},
    {"chunk", required_argument, NULL, 'c'},
    {"connections", required_argument, NULL, O_CONNECTIONS},
    {"in-flight", required_argument, NULL, O_IN_FLIGHT},
    {"target", required_argument, NULL, O_TARGET},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"json", no_argument, NULL, O_JSON},
    {"rate", required_argument, NULL, O_RATE},
    {"duration", required_argument, NULL, O_DURATION},
    {"export-hdr", required_argument, NULL, O_HDR},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const opt_cli_t k_cli = {"agent run --help", k_opts, NULL};

static void print_usage(FILE *out)
{
    fputs(k_usage, out);
    for (size_t i = 0; i < catalog_count(); i++)
        fprintf(out, "  %-18s %s\n", catalog_at(i)->name, catalog_at(i)->summary);
    fputs(k_usage_tail, out);
}

static int set_host(run_params_t *p, const char *flag, const char *host, fb_err_t *err)
{
    if (host[0] == '\0' || strlen(host) >= sizeof p->host) {
        fb_err_set(err, "%s: '%.64s' is not a host", flag, host);
        return -1;
    }
    strcpy(p->host, host);
    return 0;
}

/* The seed's environment variables, overridden by --target. */
static int env_defaults(run_params_t *p, fb_err_t *err)
{
    const char *host = getenv("BENCHMARK_SERVER_HOST");
    const char *port = getenv("BENCHMARK_SERVER_PORT");
    uint64_t v;

    if (host != NULL && host[0] != '\0' && set_host(p, "BENCHMARK_SERVER_HOST", host, err) != 0)
        return -1;
    if (port != NULL && port[0] != '\0') {
        if (opt_u64("BENCHMARK_SERVER_PORT", port, 1, 65535, &v, err) != 0) return -1;
        p->port = (int)v;
    }
    return 0;
}

static int parse_one(cmd_run_opts_t *o, int c, const char *arg, unsigned *seen, fb_err_t *err)
{
    run_params_t *p = &o->params;
    char host[sizeof p->host];

    switch (c) {
    case 'r':
        *seen |= SEEN_REQUESTS;
        return opt_u64("--requests", arg, 1, REQUESTS_MAX, &p->requests, err);
    case 'c': return opt_u64("--chunk", arg, 1, 1000000, &p->chunk, err);
    case O_CONNECTIONS: return opt_u64("--connections", arg, 1, 100000, &p->connections, err);
    case O_IN_FLIGHT:
        *seen |= SEEN_IN_FLIGHT;
        return opt_u64("--in-flight", arg, 0, 100000000, &p->in_flight, err);
    case O_RATE:
        *seen |= SEEN_RATE;
        return opt_double("--rate", arg, 0.001, 10000000, &p->rate, err);
    case O_DURATION:
        *seen |= SEEN_DURATION;
        return opt_double("--duration", arg, 0.001, 86400, &p->duration_s, err);
    case O_HDR: return opt_path("--export-hdr", arg, &o->export_hdr, err);
    case O_TIMEOUT: return opt_u64("--timeout", arg, 1, 3600000, &p->timeout_ms, err);
    case O_JSON: o->json = 1; return 0;
    case O_TARGET:
        if (opt_target("--target", arg, p->port, host, sizeof host, &p->port, err) != 0) return -1;
        if (p->port == 0) {
            fb_err_set(err, "--target: '%s' has port 0", arg);
            return -1;
        }
        strcpy(p->host, host);
        return 0;
    }
    return -1;
}

static int pick_strategy(cmd_run_opts_t *o, int argc, char **argv, fb_err_t *err)
{
    char names[160];

    catalog_names(names, sizeof names);
    if (optind >= argc) {
        fb_err_set(err, "run: missing STRATEGY (one of %s)", names);
        return -1;
    }
    if (optind + 1 < argc) {
        opt_unexpected(&k_cli, argv[optind + 1], err);
        return -1;
    }
    o->strategy = strategy_find(argv[optind]);
    if (o->strategy == NULL) {
        fb_err_set(err, "run: unknown strategy '%.48s' (valid: %s)", argv[optind], names);
        return -1;
    }
    return 0;
}

/* --rate and --duration go together and make N = R x S requests (request
 * i is due at i/R < S). */
static int finish_rate(run_params_t *p, unsigned seen, fb_err_t *err)
{
    double n;

    if (!(seen & (SEEN_RATE | SEEN_DURATION))) return 0;
    if (!(seen & SEEN_RATE)) {
        fb_err_set(err, "--duration needs --rate (it sets an open-loop run's length)");
        return -1;
    }
    if (!(seen & SEEN_DURATION)) {
        fb_err_set(err, "--rate needs --duration S (requests = rate x duration)");
        return -1;
    }
    if (seen & SEEN_REQUESTS) {
        fb_err_set(err, "--requests and --rate exclude each other (with --rate, requests = rate x "
                        "duration)");
        return -1;
    }
    /* request 0 is due at 0 < S, so n >= 1; 0.1 x 30 is 3.0000000000000004 */
    n = ceil(p->rate * p->duration_s - 1e-9);
    if (n < 1) n = 1;
    if (n > REQUESTS_MAX) {
        fb_err_set(err, "--rate %g x --duration %g is %.0f requests, more than %d", p->rate,
                   p->duration_s, n, REQUESTS_MAX);
        return -1;
    }
    p->requests = (uint64_t)n;
    return 0;
}

int cmd_run_parse(cmd_run_opts_t *o, int argc, char **argv, FILE *out, fb_err_t *err)
{
    unsigned seen = 0;
    int c;

    memset(o, 0, sizeof *o);
    run_params_defaults(&o->params);
    if (env_defaults(&o->params, err) != 0) return CMD_RUN_ERROR;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:c:h", k_opts, NULL)) != -1) {
        switch (c) {
        case 'h': print_usage(out); return CMD_RUN_EXIT;
        case ':':
        case '?': opt_getopt_error(&k_cli, c, argv, err); return CMD_RUN_ERROR;
        default:
            seen |= c == 'c' ? SEEN_CHUNK : c == O_CONNECTIONS ? SEEN_CONNECTIONS : 0;
            if (parse_one(o, c, optarg, &seen, err) != 0) return CMD_RUN_ERROR;
        }
    }
    if (pick_strategy(o, argc, argv, err) != 0) return CMD_RUN_ERROR;
    if (finish_rate(&o->params, seen, err) != 0) return CMD_RUN_ERROR;
    /* -c is the concurrency of every strategy, as the coordinator's */
    if ((seen & SEEN_CHUNK) && !(seen & SEEN_CONNECTIONS) &&
        strategy_info(o->strategy)->uses_connections) {
        if (o->params.chunk > 100000) {
            fb_err_set(err, "--chunk: %s takes at most 100000 connections", o->strategy->name);
            return CMD_RUN_ERROR;
        }
        o->params.connections = o->params.chunk;
    }
    if (!(seen & SEEN_IN_FLIGHT)) o->params.in_flight = o->params.connections;
    if (run_params_finish(&o->params, err) != 0) return CMD_RUN_ERROR;
    return CMD_RUN_OK;
}

fb_exit_t cmd_run_exit_code(const tally_t *t)
{
    uint64_t total = tally_total(t);

    if (total > 0 && t->count[REQ_CONNECT] == total) return FB_EXIT_UNREACHABLE;
    return tally_failed(t) > 0 ? FB_EXIT_FAILED : FB_EXIT_OK;
}

static int print_json(const cmd_run_opts_t *o, const run_result_t *r)
{
    json_t *rec = record_json(o->strategy, &o->params, r);
    int rc = rec ? json_dumpf(rec, stdout, JSON_COMPACT) : -1;

    json_decref(rec);
    if (rc != 0) {
        fprintf(stderr, "agent: run: out of memory for the JSON record\n");
        return -1;
    }
    fputc('\n', stdout);
    return 0;
}

/* The latency histogram in ms, 3 decimals as wrk2 prints; closes f. */
static int write_hdr(FILE *f, const char *path, const run_result_t *r)
{
    int rc = hist_write_hdr_percentiles(f, r->tally.latency, 1e6, 3);

    if (fclose(f) != 0) rc = -1;
    if (rc != 0) fprintf(stderr, "agent: --export-hdr: writing '%s' failed\n", path);
    return rc;
}

/* SIGINT/SIGTERM: strategies start no new request, the run ends and what
 * was made is reported (run_abort_set is a lock-free atomic store). */
static void on_signal(int sig)
{
    (void)sig;
    run_abort_set(1);
}

int cmd_run(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_signal};
    cmd_run_opts_t o;
    fb_err_t err = {""};
    run_result_t r;
    FILE *hdr = NULL;
    fb_exit_t code;

    switch (cmd_run_parse(&o, argc, argv, stdout, &err)) {
    case CMD_RUN_EXIT: return FB_EXIT_OK;
    case CMD_RUN_ERROR: fprintf(stderr, "agent: %s\n", err.msg); return FB_EXIT_USAGE;
    }
    /* opened before the run, so that a bad path costs no run */
    if (o.export_hdr != NULL && (hdr = fopen(o.export_hdr, "w")) == NULL) {
        fprintf(stderr, "agent: --export-hdr: cannot write '%s': %s\n", o.export_hdr,
                strerror(errno));
        return FB_EXIT_USAGE;
    }
    run_raise_fd_limit();
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (run_result_init(&r) != 0) {
        fprintf(stderr, "agent: run: out of memory\n");
        if (hdr) fclose(hdr);
        return FB_EXIT_USAGE;
    }
    if (run_execute(o.strategy, &o.params, &r) != 0) {
        fprintf(stderr, "agent: run: %s: %s\n", o.strategy->name, r.error.msg);
        run_result_close(&r);
        if (hdr) fclose(hdr);
        return FB_EXIT_USAGE;
    }
    code = run_aborted() ? FB_EXIT_INTERRUPTED : cmd_run_exit_code(&r.tally);
    record_line(o.json ? stderr : stdout, o.strategy, &o.params, &r);
    if (o.json && print_json(&o, &r) != 0) code = FB_EXIT_USAGE;
    if (hdr && write_hdr(hdr, o.export_hdr, &r) != 0) code = FB_EXIT_USAGE;
    run_result_close(&r);
    return code;
}
