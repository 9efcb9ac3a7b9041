#include "config.h"

#include "opt.h"

#include <time.h>
#include <string.h>
#include <unistd.h>

static const char k_usage[] =
    "Usage: target-server [OPTIONS]\n"
    "\n"
    "HTTP/1.1 server for fleetbench: GET /multiply?number=N answers {\"result\":2N}.\n"
    "\n"
    "Options:\n"
    "  --host HOST              address to listen on (default 0.0.0.0)\n"
    "  --port PORT              TCP port, 0 picks a free one (default 8080)\n"
    "  --threads N              event loops sharing the port (default: cores)\n"
    "  --max-connections N      open connections at most; more get 503 (default 16384)\n"
    "  --header-timeout MS      a started request must arrive within MS (default 10000)\n"
    "  --idle-timeout MS        close keep-alive connections idle for MS (default 60000)\n"
    "  --drain-timeout MS       on SIGTERM wait at most MS for in-flight requests\n"
    "                           (default 10000)\n"
    "  --max-header-size BYTES  request line + headers, larger is 431 (default 16384)\n"
    "  --max-uri BYTES          request target, longer is 414 (default 8192)\n"
    "  --max-body BYTES         request body, larger is 413 (default 1048576)\n"
    "  --delay MS               answer /multiply after MS, without blocking (default 0);\n"
    "                           a request's ?delay_ms= overrides it\n"
    "  --fault KIND:RATE        spoil RATE (0..1) of /multiply responses; KIND is\n"
    "                           wrong-result, status-500, close or stall; repeatable\n"
    "  --seed N                 seed of the fault generator (default: time)\n"
    "  -h, --help               this text\n"
    "  -V, --version            version\n"
    "\n"
    "Endpoints: GET|HEAD /multiply?number=N[&delay_ms=MS], GET|HEAD /health.\n"
    "Signals: SIGTERM or SIGINT stops accepting, answers in-flight requests, exits 0.\n"
    "Exit codes: 0 success, 1 usage or configuration error (bad flag, cannot listen).\n";

enum {
    O_HOST = 256,
    O_PORT,
    O_THREADS,
    O_MAXCONN,
    O_HDRTO,
    O_IDLETO,
    O_DRAINTO,
    O_MAXHDR,
    O_MAXURI,
    O_MAXBODY,
    O_DELAY,
    O_FAULT,
    O_SEED
};

static const struct option k_opts[] = {
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"threads", required_argument, NULL, O_THREADS},
    {"max-connections", required_argument, NULL, O_MAXCONN},
    {"header-timeout", required_argument, NULL, O_HDRTO},
    {"idle-timeout", required_argument, NULL, O_IDLETO},
    {"drain-timeout", required_argument, NULL, O_DRAINTO},
    {"max-header-size", required_argument, NULL, O_MAXHDR},
    {"max-uri", required_argument, NULL, O_MAXURI},
    {"max-body", required_argument, NULL, O_MAXBODY},
    {"delay", required_argument, NULL, O_DELAY},
    {"fault", required_argument, NULL, O_FAULT},
    {"seed", required_argument, NULL, O_SEED},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const opt_cli_t k_cli = {"target-server --help", k_opts, NULL};

static void config_defaults(config_t *cfg)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->host, "0.0.0.0");
    cfg->port = 8080;
    cfg->threads = ncpu > 0 ? (unsigned)ncpu : 1;
    cfg->max_conns = 16384;
    cfg->header_timeout_ms = 10000;
    cfg->idle_timeout_ms = 60000;
    cfg->drain_timeout_ms = 10000;
    cfg->max_header = 16384;
    cfg->max_uri = 8192;
    cfg->max_body = 1 << 20;
}

static int parse_one(config_t *cfg, int c, const char *arg, char *err)
{
    uint64_t v;
    const uint64_t day = 86400000;

    switch (c) {
    case O_HOST:
        if (strlen(arg) == 0 || strlen(arg) >= sizeof cfg->host) {
            snprintf(err, OPT_ERR_LEN, "--host: '%s' is not a host", arg);
            return -1;
        }
        strcpy(cfg->host, arg);
        return 0;
    case O_PORT:
        if (opt_u64("--port", arg, 0, 65535, &v, err)) return -1;
        cfg->port = (int)v;
        return 0;
    case O_THREADS:
        if (opt_u64("--threads", arg, 1, 256, &v, err)) return -1;
        cfg->threads = (unsigned)v;
        return 0;
    case O_MAXCONN: return opt_u64("--max-connections", arg, 1, 1000000, &cfg->max_conns, err);
    case O_HDRTO: return opt_u64("--header-timeout", arg, 1, day, &cfg->header_timeout_ms, err);
    case O_IDLETO: return opt_u64("--idle-timeout", arg, 1, day, &cfg->idle_timeout_ms, err);
    case O_DRAINTO: return opt_u64("--drain-timeout", arg, 0, day, &cfg->drain_timeout_ms, err);
    case O_MAXHDR: return opt_u64("--max-header-size", arg, 64, 1 << 20, &cfg->max_header, err);
    case O_MAXURI: return opt_u64("--max-uri", arg, 16, 1 << 20, &cfg->max_uri, err);
    case O_MAXBODY: return opt_u64("--max-body", arg, 0, UINT64_MAX / 2, &cfg->max_body, err);
    case O_DELAY: return opt_u64("--delay", arg, 0, 60000, &cfg->delay_ms, err);
    case O_FAULT: return fault_parse(&cfg->faults, arg, err);
    case O_SEED: return opt_u64("--seed", arg, 0, UINT64_MAX, &cfg->seed, err);
    }
    return -1;
}

int config_parse(config_t *cfg, int argc, char **argv, FILE *out, char *err)
{
    int c;

    config_defaults(cfg);
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":hV", k_opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(k_usage, out); return CONFIG_EXIT;
        case 'V': fprintf(out, "target-server %s\n", FB_VERSION); return CONFIG_EXIT;
        case ':':
        case '?': opt_getopt_error(&k_cli, c, argv, err); return CONFIG_ERROR;
        default:
            if (parse_one(cfg, c, optarg, err) != 0) return CONFIG_ERROR;
        }
    }
    if (optind < argc) {
        opt_unexpected(&k_cli, argv[optind], err);
        return CONFIG_ERROR;
    }
    /* the URI is part of the head, so its limit cannot be the larger one */
    if (cfg->max_uri > cfg->max_header) cfg->max_uri = cfg->max_header;
    if (cfg->seed == 0) cfg->seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)time(NULL);
    return CONFIG_OK;
}
