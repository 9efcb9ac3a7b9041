/* agent: fleetbench's client program. Each mode is a subcommand (cmd.h);
 * `agent run` makes one run in the foreground. */
#include "cmd.h"
#include "curve.h"
#include "daemon.h"
#include "opt.h"
#include "proto.h"
#include "strategy.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} command_t;

/* agent keygen PREFIX: PREFIX.key (secret, 0600) and PREFIX.pub. */
static int cmd_keygen(int argc, char **argv)
{
    fb_err_t err = {""};

    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "Usage: agent keygen PREFIX   (writes PREFIX.key and PREFIX.pub)\n");
        return FB_EXIT_USAGE;
    }
    if (curve_keygen(argv[1], &err) != 0) {
        fprintf(stderr, "agent: %s\n", err.msg);
        return FB_EXIT_USAGE;
    }
    printf("agent: wrote %s.key (secret) and %s.pub\n", argv[1], argv[1]);
    return FB_EXIT_OK;
}

static const command_t k_commands[] = {
    {"run", cmd_run, "one run of one strategy in the foreground (agent run --help)"},
    {"keygen", cmd_keygen, "PREFIX: a CURVE key pair, PREFIX.key (0600) and PREFIX.pub"},
};

static void usage(FILE *out)
{
    fputs("Usage: agent [OPTIONS]             serve a coordinator (daemon mode)\n"
          "       agent COMMAND [OPTIONS]     run a command\n"
          "\n"
          "fleetbench's client: makes HTTP requests to a target server with one of\n"
          "several strategies (threads or an event loop) and measures them.\n"
          "\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(out, "  %-6s %s\n", k_commands[i].name, k_commands[i].summary);
    fputs("\nStrategies:\n", out);
    for (size_t i = 0; i < catalog_count(); i++)
        fprintf(out, "  %-18s %s\n", catalog_at(i)->name, catalog_at(i)->summary);
    fputs("\n", out);
    daemon_usage(out);
    fputs("\n"
          "Options:\n"
          "  -h, --help     this text\n"
          "  -V, --version  version and library versions\n"
          "\n"
          "Exit codes: 0 success; 1 usage or configuration error; 2 some requests\n"
          "failed (agent run); 4 target unreachable (agent run); 130 interrupted\n"
          "(agent run).\n",
          out);
}

static void version(void)
{
    printf("agent %s (protocol %u, libcurl %s, libuv %s)\n", FB_VERSION, PROTO_VERSION,
           curl_version_info(CURLVERSION_NOW)->version, uv_version_string());
}

/* `agent [OPTIONS]`: serve coordinators until a signal. */
static int daemon_main(int argc, char **argv)
{
    daemon_config_t *cfg = calloc(1, sizeof *cfg);
    fb_err_t err = {""};
    fb_exit_t code = FB_EXIT_USAGE;

    if (cfg == NULL) return FB_EXIT_USAGE;
    if (daemon_parse(cfg, argc, argv, &err) != DAEMON_OK) {
        fprintf(stderr, "agent: %s\n", err.msg);
    } else {
        signal(SIGPIPE, SIG_IGN);
        /* before any thread starts: curl's global init is not thread-safe */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            fprintf(stderr, "agent: curl_global_init failed\n");
        else
            code = daemon_run(cfg);
        curl_global_cleanup();
    }
    free(cfg);
    return code;
}

int main(int argc, char **argv)
{
    int code;

    if (argc < 2 || argv[1][0] == '-') {
        if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
            usage(stdout);
            return FB_EXIT_OK;
        }
        if (argc >= 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
            version();
            return FB_EXIT_OK;
        }
        return daemon_main(argc, argv);
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return FB_EXIT_OK;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        version();
        return FB_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++) {
        if (strcmp(argv[1], k_commands[i].name) != 0) continue;
        signal(SIGPIPE, SIG_IGN); /* a peer closing mid-write is an error code, not death */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            fprintf(stderr, "agent: curl_global_init failed\n");
            return FB_EXIT_USAGE;
        }
        code = k_commands[i].main(argc - 1, argv + 1);
        curl_global_cleanup();
        return code;
    }
    fprintf(stderr, "agent: unknown command '%s' (see agent --help)\n", argv[1]);
    return FB_EXIT_USAGE;
}
