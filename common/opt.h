/* opt: parsing of command-line values shared by every fleetbench program.
 * Each parser returns 0 on success or -1 with a message naming the flag and
 * the bad value in err; nothing is printed here. */
#ifndef FB_OPT_H
#define FB_OPT_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "fb_err.h"

/* A decimal integer in [min, max]. */
int opt_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out,
            fb_err_t *err);
/* A decimal fraction in [min, max], e.g. "0.25". */
int opt_double(const char *flag, const char *s, double min, double max, double *out, fb_err_t *err);
/* HOST:PORT, [V6]:PORT, or HOST alone when default_port >= 0. host gets a
 * NUL-terminated copy (brackets stripped). */
int opt_hostport(const char *flag, const char *s, int default_port, char *host, size_t hostlen,
                 int *port, fb_err_t *err);

/* --target: HOST:PORT as opt_hostport, or the same as a URL,
 * http://HOST:PORT or http://HOST:PORT/ (what a browser or curl is given).
 * Another scheme, or a path other than "/", is refused saying so. */
int opt_target(const char *flag, const char *s, int default_port, char *host, size_t hostlen,
               int *port, fb_err_t *err);
/* 127.0.0.0/8, ::1 or "localhost": an address only this machine reaches. */
int opt_is_loopback(const char *host);
/* *out = s, a file name: "" is refused naming flag. */
int opt_path(const char *flag, const char *s, const char **out, fb_err_t *err);

/* What to say about an option a user brings from another tool (hyperfine's
 * "-m", "--style"): option as typed, without "=VALUE". */
typedef struct {
    const char *option;
    const char *hint;
} opt_hint_t;

/* A program's command line, for the messages below. */
typedef struct {
    const char *help;              /* how to get help: "coordinator --help" */
    const struct option *longopts; /* getopt_long's table */
    const opt_hint_t *hints;       /* NULL, or ended by {NULL, NULL} */
} opt_cli_t;

/* After getopt_long (opterr = 0, optstring starting with ':') returned ':'
 * or '?': a message in err naming the option. A missing value says so; an
 * unknown option gets its hint, or "did you mean --runs?" when a long option
 * is near it (edit distance), or the options an ambiguous prefix matches. */
void opt_getopt_error(const opt_cli_t *cli, int c, char **argv, fb_err_t *err);
/* An operand where none is expected. */
void opt_unexpected(const opt_cli_t *cli, const char *arg, fb_err_t *err);

#endif
