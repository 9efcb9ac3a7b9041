#include "cmd_run.h"

#include "cmd.h"
#include "record.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char k_usage[] =
    "Usage: agent run STRATEGY [OPTIONS]\n"
    "\n"
    "Makes requests GET /multiply?number=i, i = 0 .. N-1, to the target with one\n"
    "strategy, checks every answer (result == 2i) and reports the run.\n"
    "\n"
    "Options:\n"
    "  -r, --requests N      requests to make (default 100)\n"
    "  -c, --chunk C         threads-recreate, threads-reuse: numbers per chunk, the\n"
    "                        thread count (default 100)\n"
    "      --connections K   async-*: connections to the target at most (default 100)\n"
    "      --in-flight M     async-*: transfers handed to curl at once; 0 adds all N\n"
    "                        at once and curl queues them (default: K)\n"
    "      --target HOST[:PORT]  the target server, or http://HOST[:PORT]/ (default\n"
    "                        $BENCHMARK_SERVER_HOST:$BENCHMARK_SERVER_PORT, else\n"
    "                        127.0.0.1:8080)\n"
    "      --timeout MS      per request, connecting included (default 10000)\n"
    "      --json            print the full record as JSON on stdout (the summary\n"
    "                        line goes to stderr)\n"
    "  -h, --help            this text\n"
    "\n"
    "Strategies:\n";

static const char k_usage_tail[] =
    "\n"
    "Exit codes: 0 every request passed; 1 usage or configuration error, or the run\n"
    "could not run (e.g. threads refused); 2 some requests failed; 4 target\n"
    "unreachable (every request failed to connect); 130 interrupted (SIGINT or\n"
    "SIGTERM stops the run; the requests made so far are reported).\n";

enum { O_CONNECTIONS = 256, O_IN_FLIGHT, O_TARGET, O_TIMEOUT, O_JSON };

static const struct option k_opts[] = {
    {"requests", required_argument, NULL, 'r'},
    {"chunk", required_argument, NULL, 'c'},
    {"connections", required_argument, NULL, O_CONNECTIONS},
    {"in-flight", required_argument, NULL, O_IN_FLIGHT},
    {"target", required_argument, NULL, O_TARGET},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"json", no_argument, NULL, O_JSON},
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

static int set_host(run_params_t *p, const char *flag, const char *host, char *err)
{
    if (host[0] == '\0' || strlen(host) >= sizeof p->host) {
        snprintf(err, OPT_ERR_LEN, "%s: '%.64s' is not a host", flag, host);
        return -1;
    }
    strcpy(p->host, host);
    return 0;
}

/* The seed's environment variables, overridden by --target. */
static int env_defaults(run_params_t *p, char *err)
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

static int parse_one(cmd_run_opts_t *o, int c, const char *arg, int *in_flight_set, char *err)
{
    run_params_t *p = &o->params;
    char host[sizeof p->host];

    switch (c) {
    case 'r': return opt_u64("--requests", arg, 1, 100000000, &p->requests, err);
    case 'c': return opt_u64("--chunk", arg, 1, 1000000, &p->chunk, err);
    case O_CONNECTIONS: return opt_u64("--connections", arg, 1, 100000, &p->connections, err);
    case O_IN_FLIGHT:
        *in_flight_set = 1;
        return opt_u64("--in-flight", arg, 0, 100000000, &p->in_flight, err);
    case O_TIMEOUT: return opt_u64("--timeout", arg, 1, 3600000, &p->timeout_ms, err);
    case O_JSON: o->json = 1; return 0;
    case O_TARGET:
        if (opt_target("--target", arg, p->port, host, sizeof host, &p->port, err) != 0) return -1;
        if (p->port == 0) {
            snprintf(err, OPT_ERR_LEN, "--target: '%s' has port 0", arg);
            return -1;
        }
        strcpy(p->host, host);
        return 0;
    }
    return -1;
}

static int pick_strategy(cmd_run_opts_t *o, int argc, char **argv, char *err)
{
    char names[160];

    catalog_names(names, sizeof names);
    if (optind >= argc) {
        snprintf(err, OPT_ERR_LEN, "run: missing STRATEGY (one of %s)", names);
        return -1;
    }
    if (optind + 1 < argc) {
        opt_unexpected(&k_cli, argv[optind + 1], err);
        return -1;
    }
    o->strategy = strategy_find(argv[optind]);
    if (o->strategy == NULL) {
        snprintf(err, OPT_ERR_LEN, "run: unknown strategy '%.48s' (valid: %s)", argv[optind],
                 names);
        return -1;
    }
    return 0;
}

int cmd_run_parse(cmd_run_opts_t *o, int argc, char **argv, FILE *out, char *err)
{
    int c, in_flight_set = 0;

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
            if (parse_one(o, c, optarg, &in_flight_set, err) != 0) return CMD_RUN_ERROR;
        }
    }
    if (pick_strategy(o, argc, argv, err) != 0) return CMD_RUN_ERROR;
    if (!in_flight_set) o->params.in_flight = o->params.connections;
    if (run_params_finish(&o->params, err) != 0) return CMD_RUN_ERROR;
    return CMD_RUN_OK;
}

int cmd_run_exit_code(const tally_t *t)
{
    uint64_t total = tally_total(t);

    if (total > 0 && t->count[REQ_CONNECT] == total) return CMD_EXIT_UNREACHABLE;
    return tally_failed(t) > 0 ? CMD_EXIT_FAILED : CMD_EXIT_OK;
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
    char err[OPT_ERR_LEN > RUN_ERR_LEN ? OPT_ERR_LEN : RUN_ERR_LEN] = "";
    run_result_t r;
    int code;

    switch (cmd_run_parse(&o, argc, argv, stdout, err)) {
    case CMD_RUN_EXIT: return CMD_EXIT_OK;
    case CMD_RUN_ERROR: fprintf(stderr, "agent: %s\n", err); return CMD_EXIT_USAGE;
    }
    run_raise_fd_limit();
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (run_result_init(&r) != 0) {
        fprintf(stderr, "agent: run: out of memory\n");
        return CMD_EXIT_USAGE;
    }
    if (run_execute(o.strategy, &o.params, &r) != 0) {
        fprintf(stderr, "agent: run: %s: %s\n", o.strategy->name, r.err);
        run_result_close(&r);
        return CMD_EXIT_USAGE;
    }
    code = run_aborted() ? 130 : cmd_run_exit_code(&r.tally);
    record_line(o.json ? stderr : stdout, o.strategy, &o.params, &r);
    if (o.json && print_json(&o, &r) != 0) code = CMD_EXIT_USAGE;
    run_result_close(&r);
    return code;
}
