#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int opt_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out,
            fb_err_t *err)
{
    char *end;
    unsigned long long v;

    /* strtoull accepts "-1" and leading spaces; a count never has either. */
    if (s == NULL || *s < '0' || *s > '9') goto bad;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') goto bad;
    if (v < min || v > max) {
        fb_err_set(err, "%s: %s is out of range (%llu..%llu)", flag, s, (unsigned long long)min,
                   (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    fb_err_set(err, "%s: '%s' is not a non-negative integer", flag, s ? s : "");
    return -1;
}

int opt_double(const char *flag, const char *s, double min, double max, double *out, fb_err_t *err)
{
    char *end;
    double v;

    if (s == NULL || *s == '\0') goto bad;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v)) goto bad;
    if (v < min || v > max) {
        fb_err_set(err, "%s: %s is out of range (%g..%g)", flag, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    fb_err_set(err, "%s: '%s' is not a number", flag, s ? s : "");
    return -1;
}

int opt_hostport(const char *flag, const char *s, int default_port, char *host, size_t hostlen,
                 int *port, fb_err_t *err)
{
    const char *h = s, *colon;
    size_t hl;
    uint64_t p;

    if (s == NULL || *s == '\0') {
        fb_err_set(err, "%s: empty address", flag);
        return -1;
    }
    if (*s == '[') { /* [v6]:port */
        const char *rb = strchr(s, ']');
        if (rb == NULL) goto bad;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] != '\0' && colon == NULL) goto bad;
    } else {
        colon = strrchr(s, ':');
        if (colon != NULL && strchr(s, ':') != colon) goto bad; /* bare v6 needs [] */
        hl = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (hl == 0 || hl >= hostlen) goto bad;
    if (colon == NULL) {
        if (default_port < 0) {
            fb_err_set(err, "%s: '%s' needs a port (HOST:PORT)", flag, s);
            return -1;
        }
        p = (uint64_t)default_port;
    } else if (opt_u64(flag, colon + 1, 0, 65535, &p, err) != 0) {
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
bad:
    fb_err_set(err, "%s: '%s' is not HOST:PORT", flag, s);
    return -1;
}

int opt_target(const char *flag, const char *s, int default_port, char *host, size_t hostlen,
               int *port, fb_err_t *err)
{
    char buf[512];
    const char *rest = s, *slash;
    size_t n;

    if (s != NULL && strstr(s, "://") != NULL) {
        if (strncasecmp(s, "http://", 7) != 0) {
            fb_err_set(err, "%s: '%.64s': only http:// (target-server speaks plain HTTP)", flag, s);
            return -1;
        }
        rest = s + 7;
        slash = strchr(rest, '/');
        n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (slash && strcmp(slash, "/") != 0) {
            fb_err_set(err,
                       "%s: '%.64s' has a path; give http://HOST:PORT/ (the agents ask for "
                       "/multiply themselves)",
                       flag, s);
            return -1;
        }
        if (n >= sizeof buf) {
            fb_err_set(err, "%s: '%.64s' is too long", flag, s);
            return -1;
        }
        memcpy(buf, rest, n);
        buf[n] = '\0';
        rest = buf;
    }
    return opt_hostport(flag, rest, default_port, host, hostlen, port, err);
}

int opt_path(const char *flag, const char *s, const char **out, fb_err_t *err)
{
    if (s[0] == '\0') {
        fb_err_set(err, "%s: needs a file name", flag);
        return -1;
    }
    *out = s;
    return 0;
}

int opt_is_loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "localhost") == 0 ||
           strcmp(host, "::1") == 0;
}

/* Optimal string alignment distance: insertions, deletions, substitutions
 * and swaps of neighbours each cost 1 ("--runz" and "--rusn" are both 1
 * from "--runs"). Names longer than 63 bytes are far from everything. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[64][64];

    if (la >= 64 || lb >= 64) return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

static const char *hint_for(const opt_cli_t *cli, const char *typed, size_t n)
{
    for (const opt_hint_t *h = cli->hints; h && h->option; h++)
        if (strlen(h->option) == n && strncmp(h->option, typed, n) == 0) return h->hint;
    return NULL;
}

/* An unknown or ambiguous long option: name is what followed "--", n bytes. */
static void unknown_long(const opt_cli_t *cli, const char *name, size_t n, int has_value,
                         fb_err_t *err)
{
    const struct option *o, *best = NULL;
    size_t d, best_d = SIZE_MAX, matches = 0;

    for (o = cli->longopts; o->name; o++) {
        if (strlen(o->name) == n && strncmp(o->name, name, n) == 0 && has_value &&
            o->has_arg == no_argument) {
            fb_err_set(err, "--%s takes no value (see %s)", o->name, cli->help);
            return;
        }
        matches += strncmp(o->name, name, n) == 0;
    }
    if (matches > 1) { /* getopt_long takes unambiguous prefixes only */
        fb_err_set(err, "option '--%.*s' is ambiguous:", (int)n, name);
        for (o = cli->longopts; o->name; o++)
            if (strncmp(o->name, name, n) == 0) fb_err_append(err, " --%s", o->name);
        return;
    }
    for (o = cli->longopts; o->name; o++) {
        d = edit_distance(name, n, o->name, strlen(o->name));
        if (d < best_d) {
            best_d = d;
            best = o;
        }
    }
    /* one edit in a short name, two in a longer one: beyond that a
     * suggestion is a guess */
    if (best != NULL && best_d <= (n <= 5 ? 1 : 2))
        fb_err_set(err, "unknown option '--%.*s'; did you mean --%s? (see %s)", (int)n, name,
                   best->name, cli->help);
    else
        fb_err_set(err, "unknown option '--%.*s' (see %s)", (int)n, name, cli->help);
}

/* Whether getopt's complaint is about the long option arg rather than a
 * short one inside a bundle ("-xr" leaves optind on the word before). */
static int is_long(const opt_cli_t *cli, const char *arg)
{
    const char *name = arg + 2;
    size_t n = strcspn(name, "=");

    if (strncmp(arg, "--", 2) != 0) return 0;
    if (optopt <= 0) return 1; /* unknown or ambiguous long options leave optopt 0 */
    for (const struct option *o = cli->longopts; o->name; o++)
        if (strlen(o->name) == n && strncmp(o->name, name, n) == 0) return o->val == optopt;
    return 0;
}

void opt_getopt_error(const opt_cli_t *cli, int c, char **argv, fb_err_t *err)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    const char *hint;
    char shortopt[3] = {'-', (char)optopt, '\0'};

    if (c == ':') {
        /* a short option's value is the rest of its word or the next word */
        fb_err_set(err, "%s: needs a value (see %s)",
                   is_long(cli, arg) || optopt <= 0 || optopt > 127 ? arg : shortopt, cli->help);
        return;
    }
    if (is_long(cli, arg)) {
        const char *name = arg + 2;
        size_t n = strcspn(name, "=");
        if ((hint = hint_for(cli, arg, n + 2)) != NULL)
            fb_err_set(err, "--%.*s: %s", (int)n, name, hint);
        else
            unknown_long(cli, name, n, name[n] == '=', err);
        return;
    }
    if (optopt > 0 && optopt < 128) {
        if ((hint = hint_for(cli, shortopt, 2)) != NULL)
            fb_err_set(err, "%s: %s", shortopt, hint);
        else
            fb_err_set(err, "unknown option '%s' (see %s)", shortopt, cli->help);
        return;
    }
    fb_err_set(err, "unknown option '%s' (see %s)", arg, cli->help);
}

void opt_unexpected(const opt_cli_t *cli, const char *arg, fb_err_t *err)
{
    fb_err_set(err, "unexpected argument '%.64s' (see %s)", arg, cli->help);
}
