#include "daemon.h"

#include "opt.h"
#include "proto.h"

#include <string.h>

static const char k_usage[] =
    "Daemon options (agent [OPTIONS]):\n"
    "  --listen HOST:PORT       where coordinators connect (default 127.0.0.1:5555,\n"
    "                           0.0.0.0:5555 with keys; port 0 picks a free one,\n"
    "                           printed when ready)\n"
    "  --key FILE               this agent's CURVE secret key (agent keygen)\n"
    "  --authorized-keys FILE   coordinator public keys let in, one per line\n"
    "  --insecure               allow a non-loopback --listen without keys\n"
    "  --allow-target LIST      HOST[:PORT][,...]: the only targets this agent loads\n"
    "  --allow-exec             run the commands a coordinator's plan holds, as this\n"
    "                           agent's user (off loopback: only with keys)\n"
    "  --quiet                  log only what goes wrong (not sessions opened and\n"
    "                           ended by bye: the coordinator's embedded agent)\n"
    "\n"
    "The agent serves one coordinator session at a time; it answers heartbeats\n"
    "even while a run is timed, sends nothing else while timing, and goes back\n"
    "to idle when the coordinator goes silent, aborts or says bye.\n"
    "It stops on SIGINT/SIGTERM (exit 0).\n";

void daemon_usage(FILE *out)
{
    fputs(k_usage, out);
}

enum { O_LISTEN = 256, O_INSECURE, O_ALLOW, O_PROTO, O_KEY, O_AUTH, O_EXEC, O_QUIET };

static const struct option k_opts[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"insecure", no_argument, NULL, O_INSECURE},
    {"key", required_argument, NULL, O_KEY},
    {"authorized-keys", required_argument, NULL, O_AUTH},
    {"allow-target", required_argument, NULL, O_ALLOW},
    {"allow-exec", no_argument, NULL, O_EXEC},
    {"quiet", no_argument, NULL, O_QUIET},
    {"proto-version", required_argument, NULL, O_PROTO}, /* tests only: speak another version */
    {NULL, 0, NULL, 0},
};

static const opt_cli_t k_cli = {"agent --help", k_opts, NULL};

static int parse_allow(daemon_config_t *cfg, const char *list, fb_err_t *err)
{
    char buf[4096], *tok, *save = NULL;

    if (strlen(list) >= sizeof buf) {
        fb_err_set(err, "--allow-target: list too long");
        return -1;
    }
    strcpy(buf, list);
    if (strspn(list, ", ") == strlen(list)) { /* "" must not mean "any target" */
        fb_err_set(err, "--allow-target: empty list");
        return -1;
    }
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        unsigned i = cfg->nallow;
        if (i == DAEMON_MAX_ALLOW) {
            fb_err_set(err, "--allow-target: more than %d entries", DAEMON_MAX_ALLOW);
            return -1;
        }
        if (opt_hostport("--allow-target", tok, 0, cfg->allow_host[i], sizeof cfg->allow_host[i],
                         &cfg->allow_port[i], err) != 0)
            return -1;
        if (strchr(tok[0] == '[' ? strchr(tok, ']') : tok, ':') == NULL) cfg->allow_port[i] = -1;
        cfg->nallow++;
    }
    return 0;
}

static int parse_one(daemon_config_t *cfg, int c, const char *arg, fb_err_t *err)
{
    uint64_t v;

    switch (c) {
    case O_LISTEN:
        return opt_hostport("--listen", arg, 5555, cfg->host, sizeof cfg->host, &cfg->port, err);
    case O_INSECURE: cfg->insecure = 1; return 0;
    case O_EXEC: cfg->allow_exec = 1; return 0;
    case O_QUIET: cfg->quiet = 1; return 0;
    case O_KEY: cfg->key_path = arg; return 0;
    case O_AUTH: cfg->authorized_path = arg; return 0;
    case O_ALLOW: return parse_allow(cfg, arg, err);
    case O_PROTO:
        if (opt_u64("--proto-version", arg, 0, UINT32_MAX, &v, err) != 0) return -1;
        proto_set_version((uint32_t)v);
        return 0;
    }
    return -1;
}

int daemon_parse(daemon_config_t *cfg, int argc, char **argv, fb_err_t *err)
{
    int c;

    memset(cfg, 0, sizeof *cfg);
    cfg->port = 5555;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", k_opts, NULL)) != -1) {
        switch (c) {
        case ':':
        case '?': opt_getopt_error(&k_cli, c, argv, err); return DAEMON_ERROR;
        default:
            if (parse_one(cfg, c, optarg, err) != 0) return DAEMON_ERROR;
        }
    }
    if (optind < argc) {
        opt_unexpected(&k_cli, argv[optind], err);
        return DAEMON_ERROR;
    }
    if ((cfg->key_path == NULL) != (cfg->authorized_path == NULL)) {
        fb_err_set(err, "--key and --authorized-keys go together");
        return DAEMON_ERROR;
    }
    if (cfg->host[0] == '\0') strcpy(cfg->host, cfg->key_path ? "0.0.0.0" : "127.0.0.1");
    if (!opt_is_loopback(cfg->host) && !cfg->insecure && cfg->key_path == NULL) {
        fb_err_set(err,
                   "--listen %s: without keys an agent listens only on loopback "
                   "(pass --insecure to override)",
                   cfg->host);
        return DAEMON_ERROR;
    }
    /* whoever holds an authorized key may run any command as our user: off
     * loopback, that someone must at least be known (--insecure is not enough) */
    if (cfg->allow_exec && !opt_is_loopback(cfg->host) && cfg->key_path == NULL) {
        fb_err_set(err,
                   "--allow-exec with --listen %s: off loopback an agent runs commands only "
                   "with keys (--key and --authorized-keys)",
                   cfg->host);
        return DAEMON_ERROR;
    }
    return DAEMON_OK;
}
