/* coordinator: runs the benchmark matrix on agents and aggregates it.
 * See cmdline.c for the command line, drive.c for the protocol steps. */
#include "clock.h"
#include "curve.h"
#include "drive.h"
#include "embed.h"
#include "export.h"
#include "fb_err.h"
#include "fb_exit.h"
#include "export_hdr.h"
#include "fleet.h"
#include "journal.h"
#include "matrix.h"
#include "opt.h"
#include "cmdline.h"
#include "commands.h"
#include "outfile.h"
#include "summary.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* The embedded target-server listens on this machine's loopback: an agent
 * on another host would fail every request against it. */
static int check_target_reachable(const cmdline_t *o, fb_err_t *err)
{
    if (o->target_host[0] != '\0') return 0;
    for (size_t i = 0; i < o->nagents; i++)
        if (!opt_is_loopback(o->agent_host[i])) {
            fb_err_set(err,
                       "--agents %.64s: remote agents need --target HOST:PORT, a target-server "
                       "they can reach; the one started without --target listens on 127.0.0.1 "
                       "here, out of their reach",
                       o->agent_host[i]);
            return -1;
        }
    return 0;
}

/* Starts what --target and --agents did not name, on loopback. */
static int start_embedded(cmdline_t *o, embed_proc_t *server, embed_proc_t *agent, fb_err_t *err)
{
    char threads[16];
    char *srv_args[] = {"--host", "127.0.0.1", "--port", "0", NULL, NULL, NULL};
    /* our own agent, on loopback: it runs the commands we were given */
    char *agent_args[] = {"--listen", "127.0.0.1:0", "--quiet",
                          o->ncommands ? "--allow-exec" : NULL, NULL};

    if (o->target_host[0] == '\0') {
        if (o->server_threads) {
            snprintf(threads, sizeof threads, "%u", o->server_threads);
            srv_args[4] = "--threads";
            srv_args[5] = threads;
        }
        if (embed_start(server, "target-server", srv_args, err) != 0) return -1;
        snprintf(o->target_host, sizeof o->target_host, "%s", server->host);
        o->target_port = server->port;
    }
    if (o->nagents == 0) {
        if (embed_start(agent, "agent", agent_args, err) != 0) return -1;
        snprintf(o->agent_host[0], sizeof o->agent_host[0], "%s", agent->host);
        o->agent_port[0] = agent->port;
        o->nagents = 1;
    }
    return 0;
}

static void set_meta(bench_set_t *set, const cmdline_t *o)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(set->date, sizeof set->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(set->target, sizeof set->target, strchr(o->target_host, ':') ? "[%s]:%d" : "%s:%d",
             o->target_host, o->target_port);
    snprintf(set->mode, sizeof set->mode, "%s", o->mode == MODE_SERIAL ? "serial" : "lockstep");
    snprintf(set->order, sizeof set->order, "%s", order_name(o->order));
    set->seed = o->seed;
    set->seeded = o->order == ORDER_SHUFFLE;
    set->warmup = o->warmup;
}

/* shuffle with no --seed: one at random, written into the journal's command
 * line so that --resume keeps the order. */
static void pick_seed(cmdline_t *o)
{
    struct timespec ts;

    if (o->seed_set || o->order != ORDER_SHUFFLE) return;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->seed = (((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec) ^
               ((uint64_t)getpid() << 40)) &
              INT64_MAX; /* JSON integers are signed */
    o->seed_set = 1;
}

/* Descriptors for n agents: a TCP connection and three libzmq mailboxes
 * (the DEALER and its monitor's two PAIRs) each, and some to spare. The soft
 * limit (often 1024) is raised to the hard one, as agent run does. */
static int raise_nofile(size_t n, fb_err_t *err)
{
    rlim_t need = 4 * (rlim_t)n + 64;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need) return 0;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        fb_err_set(err,
                   "%zu agents need about %llu file descriptors; the limit is %llu (ulimit -n)", n,
                   (unsigned long long)need, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

/* coordinator keygen PREFIX */
static int keygen_main(int argc, char **argv)
{
    fb_err_t err = {""};

    if (argc != 3 || argv[2][0] == '-') {
        fprintf(stderr, "Usage: coordinator keygen PREFIX   (writes PREFIX.key and PREFIX.pub)\n");
        return FB_EXIT_USAGE;
    }
    if (curve_keygen(argv[2], &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        return FB_EXIT_USAGE;
    }
    printf("coordinator: wrote %s.key (secret) and %s.pub\n", argv[2], argv[2]);
    return FB_EXIT_OK;
}

/* --resume FILE: the journal locked and its torn tail cut, then the
 * options it was started with. */
static int resume_opts(cmdline_t *o, journal_t *j, journal_load_t *jl, fb_err_t *err)
{
    const char *path = o->resume;

    memset(jl, 0, sizeof *jl);
    if (journal_reopen(j, path, err) != 0) {
        fb_err_prefix(err, "--resume: ");
        return -1;
    }
    if (journal_load(path, jl, err) != 0) return -1;
    if (cmdline_parse(o, jl->argc, jl->argv, stdout, err) != CMDLINE_OK) return -1;
    o->journal = path;
    o->resume = path;
    return 0;
}

/* Without --journal: beside the JSON export, unless that is written in
 * place (--export-json /dev/stdout, a FIFO). */
static void default_journal(cmdline_t *o)
{
    static char path[4096];
    const char *json = o->export_json ? o->export_json : "results.json";

    if (o->journal != NULL) return;
    if (outfile_in_place(json)) json = "fleetbench";
    snprintf(path, sizeof path, "%s.journal", json);
    o->journal = path;
}

/* Every file the run ends with is checked now, not after an hour of runs:
 * writable, and no two of them (the journal included) the same file. */
static int check_outputs(const cmdline_t *o, fb_err_t *err)
{
    const struct {
        const char *flag, *path;
    } out[] = {{"--journal", o->journal},
               {"--export-json", o->export_json},
               {"--export-markdown", o->export_md},
               {"--export-csv", o->export_csv},
               {"--report", o->report}};
    const size_t n = sizeof out / sizeof *out;

    for (size_t i = 0; i < n; i++) {
        if (out[i].path == NULL) continue;
        for (size_t k = 0; k < i; k++)
            if (out[k].path && outfile_same(out[k].path, out[i].path)) {
                fb_err_set(err, "%s %.300s is the file %s names too%s", out[i].flag, out[i].path,
                           out[k].flag, k == 0 ? ": the export would overwrite the journal" : "");
                return -1;
            }
        /* the journal is created (and locked) by open_journal */
        if (i > 0 && outfile_check(out[i].path, err) != 0) {
            fb_err_prefix(err, "%s ", out[i].flag);
            return -1;
        }
    }
    return 0;
}

/* --export-hdr's files, one per benchmark, checked as check_outputs does. */
static int check_hdr(const cmdline_t *o, const matrix_t *m, fb_err_t *err)
{
    char name[OUTFILE_PATH_LEN];

    for (size_t i = 0; o->export_hdr && i < m->n; i++) {
        if (export_hdr_path(name, sizeof name, o->export_hdr, i, m->n, m->e[i].strategy) != 0) {
            fb_err_set(err, "--export-hdr %.300s: name too long", o->export_hdr);
            return -1;
        }
        if (outfile_check(name, err) != 0) {
            fb_err_prefix(err, "--export-hdr ");
            return -1;
        }
    }
    return 0;
}

/* A new journal, or the runs of the one being resumed replayed into the set. */
static int open_journal(drive_t *r, cmdline_t *o, journal_t *j, int argc, char **argv,
                        fb_err_t *err)
{
    journal_load_t runs = {.on_run = drive_replay, .ctx = r};
    int rc;

    if (o->resume == NULL) {
        char seed[32], **args = malloc(((size_t)argc + 1) * sizeof *args);
        if (args == NULL) {
            fb_err_set(err, "out of memory");
            return -1;
        }
        memcpy(args, argv, (size_t)argc * sizeof *argv);
        if (o->order == ORDER_SHUFFLE) {
            snprintf(seed, sizeof seed, "--seed=%llu", (unsigned long long)o->seed);
            args[argc++] = seed; /* a later --seed wins: the one in use */
        }
        rc = journal_create(j, o->journal, argc, args, err);
        free(args);
        if (rc != 0) fb_err_prefix(err, "--"); /* "--journal PATH: why" */
    } else {
        /* a second pass for the runs; o keeps pointing into the first's argv */
        rc = journal_load(o->resume, &runs, err);
        journal_load_free(&runs);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static cmdline_t o;
    fb_err_t err = {""};
    embed_proc_t server = {0}, agent = {0};
    struct sigaction sa = {.sa_handler = on_signal};
    matrix_t m = {0};
    fleet_t f;
    bench_set_t set;
    drive_t r = {0};
    journal_t journal = {.fd = -1};
    journal_load_t jl = {0};
    fb_exit_t code = FB_EXIT_USAGE;
    int color;

    if (argc >= 2 && strcmp(argv[1], "keygen") == 0) return keygen_main(argc, argv);
    switch (cmdline_parse(&o, argc, argv, stdout, &err)) {
    case CMDLINE_EXIT: return FB_EXIT_OK;
    case CMDLINE_ERROR: fprintf(stderr, "coordinator: %s\n", err.msg); return FB_EXIT_USAGE;
    }
    if (o.resume && resume_opts(&o, &journal, &jl, &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        journal_close(&journal);
        journal_load_free(&jl);
        return FB_EXIT_USAGE;
    }
    default_journal(&o);
    if (check_target_reachable(&o, &err) != 0 ||
        ((o.matrix_set || o.ncommands == 0) &&
         matrix_build(&m, o.matrix_spec, &o.requests, &o.chunks, &o.connections, &err) != 0) ||
        commands_expand(&m, &o, &err) != 0 || commands_fit(&m, &err) != 0 ||
        check_outputs(&o, &err) != 0 || check_hdr(&o, &m, &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        journal_close(&journal);
        journal_load_free(&jl);
        matrix_free(&m);
        return FB_EXIT_USAGE;
    }
    if (o.rate > 0) matrix_name_rate(&m, o.rate, o.duration_s);
    pick_seed(&o);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    bench_set_init(&set);
    memset(&f, 0, sizeof f);
    r = (drive_t){
        .opts = &o, .matrix = &m, .fleet = &f, .set = &set, .out = stdout, .journal = &journal};
    if (open_journal(&r, &o, &journal, argc, argv, &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        goto out;
    }
    if (start_embedded(&o, &server, &agent, &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        goto out;
    }
    if (raise_nofile(o.nagents, &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        goto out;
    }
    r.connect_ns = clock_now_ns();
    if (fleet_init(&f, o.agent_host, o.agent_port, o.nagents, o.heartbeat_ms, o.liveness_ms,
                   o.key_path, o.known_path, &err) != 0) {
        fprintf(stderr, "coordinator: %s\n", err.msg);
        code = f.fatal ? f.fatal : FB_EXIT_USAGE;
        goto out;
    }
    f.stop = &g_stop;
    f.loss_abort = o.on_loss == LOSS_ABORT;
    set_meta(&set, &o);
    color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
    r.target_host = o.target_host;
    r.target_port = o.target_port;
    r.color = color;
    code = drive_matrix(&r);
    if (r.err.msg[0] != '\0') fprintf(stderr, "coordinator: %s\n", r.err.msg);
    if (f.fatal) fprintf(stderr, "coordinator: %s\n", f.fatal_err.msg);
    if (code == FB_EXIT_INTERRUPTED)
        fprintf(stderr, "coordinator: interrupted; exporting the finished runs\n");
    summary_compare(stdout, &set, color);
    fflush(stdout); /* before the embedded processes say goodbye on stderr */
    if (drive_export(&r, true) != 0) {
        if (code == FB_EXIT_OK) code = FB_EXIT_USAGE;
    } else if (!o.journal_given && code != FB_EXIT_INTERRUPTED && !f.fatal && drive_finished(&r)) {
        /* no litter: a finished matrix's default journal has nothing left to
         * resume; the exports hold every run (--journal keeps it) */
        unlink(o.journal);
    }
out:
    journal_close(&journal);
    journal_load_free(&jl);
    fleet_close(&f);
    embed_stop(&agent);
    embed_stop(&server);
    bench_set_close(&set);
    matrix_free(&m);
    return code;
}
