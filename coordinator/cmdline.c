#include "cmdline.h"

#include "agents_file.h"
#include "opt.h"
#include "proto.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char k_usage[] =
    "Usage: coordinator [OPTIONS] [COMMAND...]\n"
    "       coordinator keygen PREFIX   write PREFIX.key (secret, 0600) and PREFIX.pub\n"
    "\n"
    "Runs the benchmark matrix on agents over ZeroMQ and aggregates the runs\n"
    "into hyperfine-compatible results. With no --agents an agent is started on\n"
    "loopback; with no --target a target-server is started on loopback, so\n"
    "`coordinator --matrix all` alone runs the whole experiment on this machine.\n"
    "Each COMMAND is run as a whole process on every agent, as hyperfine runs it\n"
    "(agents started with --allow-exec only); with commands, --matrix strategies\n"
    "run beside them only when --matrix is given.\n"
    "\n"
    "Options:\n"
    "  --agents HOST[:PORT][,...]  agents to drive (default port 5555)\n"
    "  --agents-file FILE          more agents: one HOST[:PORT] per line, '#' comments;\n"
    "                              added after --agents' (at most 1024 in all)\n"
    "  --target HOST:PORT          the server under load, as the agents reach it\n"
    "                              (or http://HOST:PORT/); needed with remote agents\n"
    "  --matrix SPEC               all, threads, async or NAME[,NAME...] (default all)\n"
    "  -r, --requests LIST         requests per run, e.g. 100,1000 (default 100);\n"
    "                              not hyperfine's -r: runs are --runs\n"
    "  -c, --concurrency LIST      concurrency of every strategy: the chunk (threads)\n"
    "                              of threads-recreate and threads-reuse, the connection\n"
    "                              limit of async-*; threads-map has a thread per\n"
    "                              request (default 100; --chunk is the same flag)\n"
    "  --connections LIST          async-*: connections instead of -c's\n"
    "  -w, --warmup N              warmup runs per benchmark, not kept (default 3)\n"
    "  --runs N                    timed runs per benchmark (default 10)\n"
    "  --mode lockstep|serial      all agents at once after one go (default), or one\n"
    "                              agent after another\n"
    "  --order interleave|shuffle|sequential  when each benchmark's runs are made:\n"
    "                              spread over the matrix so a drift cancels (default),\n"
    "                              rounds in a random order, or one benchmark after\n"
    "                              another\n"
    "  --seed N                    the random order of --order shuffle (default: random,\n"
    "                              recorded in the JSON)\n"
    "  --on-agent-loss continue|abort  go on without a lost agent (default) or stop\n"
    "  --heartbeat MS              heartbeat interval (default 1000)\n"
    "  --liveness MS               an agent silent this long is lost (default 5000,\n"
    "                              at least 3 heartbeats)\n"
    "  --timeout MS                per-request timeout on the agents (default 10000)\n"
    "  --rate R                    open loop: R requests per second for the whole fleet,\n"
    "                              shared among the agents (R/K each, started in\n"
    "                              lockstep), on a fixed schedule; latency counts from\n"
    "                              each request's due time (needs --duration, excludes -r)\n"
    "  --duration S                with --rate: seconds of schedule per run\n"
    "  --run-timeout S             an agent without its result this long after the go\n"
    "                              is lost for that run (default: 2 x the requests'\n"
    "                              waves x --timeout + --liveness, at most 24 h)\n"
    "  --export-json FILE          hyperfine's JSON (default results.json)\n"
    "  --export-markdown FILE      hyperfine's markdown table\n"
    "  --export-csv FILE           hyperfine's CSV\n"
    "  --report FILE.html          a self-contained HTML page with charts\n"
    "  --export-hdr FILE           each benchmark's latency (with --rate: corrected) as\n"
    "                              HdrHistogram's percentile distribution, in ms; with\n"
    "                              several benchmarks, one file each: FILE's name with\n"
    "                              .N-STRATEGY before its extension\n"
    "  --journal FILE              every finished run, synced to disk before it counts\n"
    "                              (default: the JSON export's name + .journal,\n"
    "                              removed once the matrix is finished)\n"
    "  --resume FILE               finish the matrix a journal started (no other options)\n"
    "  --key FILE                  our CURVE secret key (coordinator keygen PREFIX)\n"
    "  --known-agents FILE         HOST[:PORT] PUBKEY lines: the only agents we talk to\n"
    "  --server-threads N          embedded target-server's event loops (default: cores)\n"
    "  -h, --help                  this text\n"
    "  -V, --version               version\n"
    "\n"
    "Commands (hyperfine's options for them):\n"
    "  -n, --command-name NAME     the next command's name (with -L: once, or once\n"
    "                              per benchmark; {NAME}s are substituted)\n"
    "  -L, --parameter-list NAME V1,V2,...  one benchmark per value (several -L: the\n"
    "                              cartesian product), {NAME} substituted in commands\n"
    "  -i, --ignore-failure        record a non-zero exit code instead of stopping\n"
    "                              that benchmark\n"
    "  --show-output               the commands' output on the agents' terminals\n"
    "                              (default: discarded)\n"
    "  -N, --shell=none            split each command on blanks and exec it directly\n"
    "                              (default: sh -c COMMAND)\n"
    "  A command gets BENCHMARK_SERVER_HOST, BENCHMARK_SERVER_PORT (the target),\n"
    "  FLEETBENCH_ITERATION (the run's number, warmups first) and\n"
    "  FLEETBENCH_WARMUP (1 in a warmup run) in its environment.\n"
    "\n"
    "Exit codes: 0 success; 1 usage or configuration error; 2 some requests\n"
    "failed; 3 an agent was lost or a result refused; 4 target unreachable; 5\n"
    "protocol, version or authentication error; 130 interrupted (finished runs\n"
    "are still exported).\n";

enum {
    O_AGENTS = 256,
    O_TARGET,
    O_MATRIX,
    O_CONNS,
    O_RUNS,
    O_MODE,
    O_LOSS,
    O_HB,
    O_LIVE,
    O_TIMEOUT,
    O_JSON,
    O_MD,
    O_CSV,
    O_SRVTHREADS,
    O_PROTO,
    O_JOURNAL,
    O_RESUME,
    O_KEY,
    O_KNOWN,
    O_REPORT,
    O_AGENTS_FILE,
    O_ORDER,
    O_SEED,
    O_RUN_TIMEOUT,
    O_SHOW_OUTPUT,
    O_SHELL,
    O_RATE,
    O_DURATION,
    O_HDR
};

static const struct option k_opts[] = {
    {"agents", required_argument, NULL, O_AGENTS},
    {"agents-file", required_argument, NULL, O_AGENTS_FILE},
    {"target", required_argument, NULL, O_TARGET},
    {"matrix", required_argument, NULL, O_MATRIX},
    {"requests", required_argument, NULL, 'r'},
    {"concurrency", required_argument, NULL, 'c'},
    {"chunk", required_argument, NULL, 'c'},
    {"connections", required_argument, NULL, O_CONNS},
    {"warmup", required_argument, NULL, 'w'},
    {"runs", required_argument, NULL, O_RUNS},
    {"mode", required_argument, NULL, O_MODE},
    {"order", required_argument, NULL, O_ORDER},
    {"seed", required_argument, NULL, O_SEED},
    {"on-agent-loss", required_argument, NULL, O_LOSS},
    {"heartbeat", required_argument, NULL, O_HB},
    {"liveness", required_argument, NULL, O_LIVE},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"run-timeout", required_argument, NULL, O_RUN_TIMEOUT},
    {"rate", required_argument, NULL, O_RATE},
    {"duration", required_argument, NULL, O_DURATION},
    {"export-hdr", required_argument, NULL, O_HDR},
    {"export-json", required_argument, NULL, O_JSON},
    {"export-markdown", required_argument, NULL, O_MD},
    {"export-csv", required_argument, NULL, O_CSV},
    {"report", required_argument, NULL, O_REPORT},
    {"server-threads", required_argument, NULL, O_SRVTHREADS},
    {"journal", required_argument, NULL, O_JOURNAL},
    {"resume", required_argument, NULL, O_RESUME},
    {"key", required_argument, NULL, O_KEY},
    {"known-agents", required_argument, NULL, O_KNOWN},
    {"command-name", required_argument, NULL, 'n'},
    {"parameter-list", required_argument, NULL, 'L'},
    {"ignore-failure", no_argument, NULL, 'i'},
    {"show-output", no_argument, NULL, O_SHOW_OUTPUT},
    {"shell", required_argument, NULL, O_SHELL},
    {"proto-version", required_argument, NULL, O_PROTO}, /* tests only */
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* hyperfine's options that a hyperfine user will try: what to do here. */
#define RUNS_HINT "fleetbench makes exactly --runs N timed runs (and -r is --requests here)"
static const opt_hint_t k_hints[] = {
    {"-m", "hyperfine's --min-runs is not supported: " RUNS_HINT},
    {"--min-runs", "not supported: " RUNS_HINT},
    {"-M", "hyperfine's --max-runs is not supported: " RUNS_HINT},
    {"--max-runs", "not supported: " RUNS_HINT},
    {"-p", "hyperfine's --prepare is not supported: each run starts with no open connection"},
    {"--prepare", "not supported: each run starts with no open connection"},
    {"-s", "hyperfine's --setup is not supported: no command runs before each benchmark"},
    {"--setup", "not supported: no command runs before each benchmark"},
    {"--style", "not supported: a live progress line on a TTY, plain lines otherwise"},
    {"-u",
     "hyperfine's --time-unit is not supported: each time is shown in the unit that suits it"},
    {"--time-unit", "not supported: each time is shown in the unit that suits it"},
    {"-P", "hyperfine's --parameter-scan is not supported: give lists, e.g. -L N 1,2,3"},
    {"--parameter-scan", "not supported: give lists, e.g. -L N 1,2,3 or -r 100,1000"},
    {NULL, NULL},
};

/* Port 0 means "any free port" to a listener; nothing can be reached there. */
static int no_port_zero(const char *flag, const char *arg, int port, fb_err_t *err)
{
    if (port != 0) return 0;
    fb_err_set(err, "%s: '%s': port 0 cannot be connected to", flag, arg);
    return -1;
}

/* The same agent twice would be measured twice and load the target twice. */
static int listed_twice(const cmdline_t *o, const char *tok, fb_err_t *err)
{
    size_t n = o->nagents;

    for (size_t i = 0; i < n; i++)
        if (o->agent_port[i] == o->agent_port[n] &&
            strcasecmp(o->agent_host[i], o->agent_host[n]) == 0) {
            fb_err_set(err, "--agents: '%s' is listed twice", tok);
            return -1;
        }
    return 0;
}

static const opt_cli_t k_cli = {"coordinator --help", k_opts, k_hints};

static int parse_agents(cmdline_t *o, const char *list, fb_err_t *err)
{
    char *buf = strdup(list), *tok, *save = NULL;
    int rc = 0;

    if (buf == NULL) {
        fb_err_set(err, "--agents: out of memory");
        return -1;
    }
    o->nagents = 0;
    for (tok = strtok_r(buf, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        if (o->nagents == CMDLINE_MAX_AGENTS) {
            fb_err_set(err,
                       "--agents: more than %d agents (the most one coordinator "
                       "drives)",
                       CMDLINE_MAX_AGENTS);
            rc = -1;
        } else if (opt_hostport("--agents", tok, 5555, o->agent_host[o->nagents], 256,
                                &o->agent_port[o->nagents], err) != 0 ||
                   no_port_zero("--agents", tok, o->agent_port[o->nagents], err) != 0 ||
                   listed_twice(o, tok, err) != 0) {
            rc = -1;
        } else {
            o->nagents++;
        }
    }
    free(buf);
    if (rc == 0 && o->nagents == 0) {
        fb_err_set(err, "--agents: empty list");
        rc = -1;
    }
    return rc;
}

/* --agents-file: its agents follow --agents' (read once every option is in). */
static int load_agents_file(cmdline_t *o, fb_err_t *err)
{
    agents_file_list_t l = {o->agent_host, o->agent_port, &o->nagents, CMDLINE_MAX_AGENTS, 5555};

    if (o->agents_file == NULL || agents_file_load(o->agents_file, &l, err) == 0) return 0;
    fb_err_prefix(err, "--agents-file ");
    return -1;
}

static int parse_choice(const char *flag, const char *arg, const char *a, const char *b, int *out,
                        fb_err_t *err)
{
    if (strcmp(arg, a) == 0)
        *out = 0;
    else if (strcmp(arg, b) == 0)
        *out = 1;
    else {
        fb_err_set(err, "%s: '%s' is neither %s nor %s", flag, arg, a, b);
        return -1;
    }
    return 0;
}

static int parse_u(const char *flag, const char *arg, uint64_t lo, uint64_t hi, unsigned *out,
                   fb_err_t *err)
{
    uint64_t v;

    if (opt_u64(flag, arg, lo, hi, &v, err) != 0) return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_one(cmdline_t *o, int c, const char *arg, fb_err_t *err)
{
    int choice;
    unsigned v;

    switch (c) {
    case O_AGENTS: return parse_agents(o, arg, err);
    case O_AGENTS_FILE: o->agents_file = arg; return 0;
    case O_TARGET:
        if (opt_target("--target", arg, -1, o->target_host, sizeof o->target_host, &o->target_port,
                       err) != 0)
            return -1;
        return no_port_zero("--target", arg, o->target_port, err);
    case O_MATRIX:
        if (strlen(arg) >= sizeof o->matrix_spec) {
            fb_err_set(err, "--matrix: too long");
            return -1;
        }
        strcpy(o->matrix_spec, arg);
        return 0;
    case 'r': return matrix_list_parse(&o->requests, "--requests", arg, 1, PROTO_MAX_REQUESTS, err);
    case 'c':
        return matrix_list_parse(&o->chunks, "--concurrency", arg, 1, PROTO_MAX_REQUESTS, err);
    case O_CONNS:
        return matrix_list_parse(&o->connections, "--connections", arg, 1, PROTO_MAX_CONNECTIONS,
                                 err);
    case 'w': return parse_u("--warmup", arg, 0, 10000, &o->warmup, err);
    case O_RUNS: return parse_u("--runs", arg, 1, 100000, &o->runs, err);
    case O_MODE:
        if (parse_choice("--mode", arg, "lockstep", "serial", &choice, err) != 0) return -1;
        o->mode = choice ? MODE_SERIAL : MODE_LOCKSTEP;
        return 0;
    case O_ORDER:
        if (order_parse(arg, &o->order) == 0) return 0;
        fb_err_set(err, "--order: '%s' is not interleave, shuffle or sequential", arg);
        return -1;
    case O_SEED: o->seed_set = 1; return opt_u64("--seed", arg, 0, INT64_MAX, &o->seed, err);
    case O_LOSS:
        if (parse_choice("--on-agent-loss", arg, "continue", "abort", &choice, err) != 0) return -1;
        o->on_loss = choice ? LOSS_ABORT : LOSS_CONTINUE;
        return 0;
    case O_HB: return parse_u("--heartbeat", arg, 10, 600000, &o->heartbeat_ms, err);
    case O_LIVE: return parse_u("--liveness", arg, 20, 3600000, &o->liveness_ms, err);
    case O_TIMEOUT: return parse_u("--timeout", arg, 1, 3600000, &o->timeout_ms, err);
    case O_RUN_TIMEOUT: return parse_u("--run-timeout", arg, 1, 86400, &o->run_timeout_s, err);
    case O_JSON: o->export_json = arg; return 0;
    case O_MD: o->export_md = arg; return 0;
    case O_CSV: o->export_csv = arg; return 0;
    case O_REPORT: o->report = arg; return 0;
    case O_RATE: return opt_double("--rate", arg, 0.001, 10000000, &o->rate, err);
    case O_DURATION: return opt_double("--duration", arg, 0.001, 86400, &o->duration_s, err);
    case O_HDR: return opt_path("--export-hdr", arg, &o->export_hdr, err);
    case O_JOURNAL:
        o->journal = arg;
        o->journal_given = 1;
        return 0;
    case O_RESUME: o->resume = arg; return 0;
    case O_KEY: o->key_path = arg; return 0;
    case O_KNOWN: o->known_path = arg; return 0;
    case O_SRVTHREADS: return parse_u("--server-threads", arg, 1, 256, &o->server_threads, err);
    case O_PROTO:
        if (parse_u("--proto-version", arg, 0, UINT32_MAX, &v, err) != 0) return -1;
        proto_set_version(v);
        return 0;
    case 'n':
        if (o->nnames == CMDLINE_MAX_COMMANDS) {
            fb_err_set(err, "--command-name: more than %d", CMDLINE_MAX_COMMANDS);
            return -1;
        }
        o->names[o->nnames++] = arg;
        return 0;
    case 'L':
        if (o->nparams == MATRIX_MAX_PARAMS) {
            fb_err_set(err, "--parameter-list: more than %d", MATRIX_MAX_PARAMS);
            return -1;
        }
        if (arg[0] == '\0' || strpbrk(arg, "{}")) {
            fb_err_set(err, "--parameter-list: '%s' is not a parameter name", arg);
            return -1;
        }
        for (size_t i = 0; i < o->nparams; i++)
            if (strcmp(o->param_name[i], arg) == 0) {
                fb_err_set(err, "Duplicate parameter names: %s", arg);
                return -1;
            }
        o->param_name[o->nparams] = arg; /* its values are the next argument */
        o->param_values[o->nparams++] = NULL;
        return 0;
    case 'i': o->ignore_failure = 1; return 0;
    case 'N': o->no_shell = 1; return 0;
    case O_SHOW_OUTPUT: o->show_output = 1; return 0;
    case O_SHELL:
        if (parse_choice("--shell", arg, "sh", "none", &o->no_shell, err) != 0) return -1;
        return 0;
    }
    return -1;
}

/* A positional argument: the values of the -L just given, or a command. */
static int positional(cmdline_t *o, const char *arg, fb_err_t *err)
{
    if (o->nparams && o->param_values[o->nparams - 1] == NULL) {
        o->param_values[o->nparams - 1] = arg;
        return 0;
    }
    if (o->ncommands == CMDLINE_MAX_COMMANDS) {
        fb_err_set(err, "more than %d commands", CMDLINE_MAX_COMMANDS);
        return -1;
    }
    o->commands[o->ncommands++] = arg; /* checked once expanded (commands.c) */
    return 0;
}

static void cmdline_defaults(cmdline_t *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->matrix_spec, "all");
    o->requests = (matrix_list_t){{100}, 1};
    o->chunks = (matrix_list_t){{100}, 1};
    o->connections.n = 0; /* not given: the async strategies take -c */
    o->warmup = 3;
    o->runs = 10;
    o->heartbeat_ms = 1000;
    o->liveness_ms = 5000;
    o->timeout_ms = 10000;
    o->export_json = "results.json";
}

/* --rate and --duration: every agent's share of the rate, and requests
 * per agent as proto_bench_paced_requests counts them (agents check). */
static int finish_rate(cmdline_t *o, int requests_set, fb_err_t *err)
{
    size_t k = o->nagents ? o->nagents : 1; /* 0: one embedded agent */
    proto_bench_t b = {0};

    if (o->rate == 0 && o->duration_s == 0) return 0;
    if (o->rate == 0) {
        fb_err_set(err, "--duration needs --rate (it sets an open-loop run's length)");
        return -1;
    }
    if (o->duration_s == 0) {
        fb_err_set(err, "--rate needs --duration S (each run's schedule)");
        return -1;
    }
    if (requests_set) {
        fb_err_set(err, "--requests and --rate exclude each other (with --rate, requests = rate x "
                        "duration)");
        return -1;
    }
    if (o->mode == MODE_SERIAL) {
        fb_err_set(err, "--rate needs --mode lockstep: the agents share the rate, all at once");
        return -1;
    }
    if (o->ncommands > 0) {
        fb_err_set(err, "--rate paces the strategies' requests; a command (COMMAND...) runs on no "
                        "schedule");
        return -1;
    }
    b.rate_milli = (uint64_t)llround(o->rate * 1000.0 / (double)k);
    b.duration_ms = (uint64_t)llround(o->duration_s * 1000.0);
    if (b.rate_milli == 0 || b.duration_ms == 0) {
        fb_err_set(err,
                   "--rate %g over %zu agents is below 0.001 request per second each, or "
                   "--duration %g below 1 ms",
                   o->rate, k, o->duration_s);
        return -1;
    }
    if (proto_bench_paced_requests(&b) > PROTO_MAX_REQUESTS) {
        fb_err_set(err,
                   "--rate %g x --duration %g is %llu requests per agent (%zu agents), more than "
                   "%d",
                   o->rate, o->duration_s, (unsigned long long)proto_bench_paced_requests(&b), k,
                   PROTO_MAX_REQUESTS);
        return -1;
    }
    o->rate_milli = b.rate_milli;
    o->duration_ms = b.duration_ms;
    o->requests = (matrix_list_t){{proto_bench_paced_requests(&b)}, 1};
    return 0;
}

int cmdline_parse(cmdline_t *o, int argc, char **argv, FILE *out, fb_err_t *err)
{
    int c, others = 0, resumes = 0, requests_set = 0;

    cmdline_defaults(o);
    opterr = 0;
    optind = 1;
    /* "-": positional arguments come in order, as 1, so that -L NAME takes
     * the argument after it and commands may stand among the options */
    while ((c = getopt_long(argc, argv, "-:hVr:c:w:n:L:iN", k_opts, NULL)) != -1) {
        if (c != 1 && o->nparams && o->param_values[o->nparams - 1] == NULL) {
            fb_err_set(err, "--parameter-list %s: a list of values must follow",
                       o->param_name[o->nparams - 1]);
            return CMDLINE_ERROR;
        }
        switch (c) {
        case 1:
            if (positional(o, optarg, err) != 0) return CMDLINE_ERROR;
            others++;
            break;
        case 'h': fputs(k_usage, out); return CMDLINE_EXIT;
        case 'V':
            fprintf(out, "coordinator %s (protocol %u)\n", FB_VERSION, PROTO_VERSION);
            return CMDLINE_EXIT;
        case ':':
        case '?': opt_getopt_error(&k_cli, c, argv, err); return CMDLINE_ERROR;
        default:
            if (parse_one(o, c, optarg, err) != 0) return CMDLINE_ERROR;
            requests_set |= c == 'r';
            if (c == O_RESUME)
                resumes++;
            else
                others++;
            if (c == O_MATRIX) o->matrix_set = 1;
        }
    }
    for (; optind < argc; optind++, others++) /* after "--" */
        if (positional(o, argv[optind], err) != 0) return CMDLINE_ERROR;
    if (o->nparams && o->param_values[o->nparams - 1] == NULL) {
        fb_err_set(err, "--parameter-list %s: a list of values must follow",
                   o->param_name[o->nparams - 1]);
        return CMDLINE_ERROR;
    }
    if (o->ncommands == 0 &&
        (o->nnames || o->nparams || o->ignore_failure || o->show_output || o->no_shell)) {
        fb_err_set(err, "%s without a command to apply it to",
                   o->nnames           ? "--command-name"
                   : o->nparams        ? "--parameter-list"
                   : o->ignore_failure ? "--ignore-failure"
                   : o->show_output    ? "--show-output"
                                       : "--shell=none");
        return CMDLINE_ERROR;
    }
    /* counted as parsed: wherever it stands, in whatever spelling */
    if (resumes > 1 || (resumes && others)) {
        fb_err_set(err, "--resume takes no other options: the journal has them");
        return CMDLINE_ERROR;
    }
    if ((o->key_path == NULL) != (o->known_path == NULL)) {
        fb_err_set(err, "--key and --known-agents go together");
        return CMDLINE_ERROR;
    }
    if (o->resume == NULL && load_agents_file(o, err) != 0) return CMDLINE_ERROR;
    if (o->resume == NULL && finish_rate(o, requests_set, err) != 0) return CMDLINE_ERROR;
    /* a late heartbeat or two must not lose a healthy agent */
    if ((uint64_t)o->liveness_ms < (uint64_t)CMDLINE_LIVENESS_BEATS * o->heartbeat_ms) {
        fb_err_set(err, "--liveness %u must be at least %d times --heartbeat %u (at least %llu)",
                   o->liveness_ms, CMDLINE_LIVENESS_BEATS, o->heartbeat_ms,
                   (unsigned long long)CMDLINE_LIVENESS_BEATS * o->heartbeat_ms);
        return CMDLINE_ERROR;
    }
    return CMDLINE_OK;
}
