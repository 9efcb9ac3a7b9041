#include "commands.h"

#include "proto.h"

#include <stdlib.h>
#include <string.h>

char *commands_subst(const char *s, size_t n, const char *const *names, const char *const *values)
{
    size_t cap = strlen(s) + 1, len = 0;
    char *out = malloc(cap);

    while (out && *s) {
        const char *put = s;
        size_t putlen = 1, skip = 1;
        for (size_t k = 0; k < n; k++) {
            size_t nl = strlen(names[k]);
            if (s[0] == '{' && strncmp(s + 1, names[k], nl) == 0 && s[1 + nl] == '}') {
                put = values[k];
                putlen = strlen(values[k]);
                skip = nl + 2;
                break;
            }
        }
        if (len + putlen + 1 > cap) {
            char *grown = realloc(out, cap = 2 * (len + putlen + 1));
            if (grown == NULL) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + len, put, putlen);
        len += putlen;
        s += skip;
    }
    if (out) out[len] = '\0';
    return out;
}

/* One -L list: comma-separated, "\," is a comma inside a value (hyperfine's
 * tokenizer). */
static int split_values(const char *list, char vals[][MATRIX_PARAM_LEN], size_t max, size_t *n,
                        const char *name, fb_err_t *err)
{
    size_t len = 0;

    *n = 0;
    for (const char *p = list;; p++) {
        if (*p == '\\' && (p[1] == ',' || p[1] == '\\'))
            p++;
        else if (*p == ',' || *p == '\0') {
            if (*n == max) {
                fb_err_set(err, "--parameter-list %s: more than %zu values", name, max);
                return -1;
            }
            vals[(*n)++][len] = '\0';
            len = 0;
            if (*p == '\0') return 0;
            continue;
        }
        if (len + 1 == MATRIX_PARAM_LEN) {
            fb_err_set(err, "--parameter-list %s: a value longer than %d bytes", name,
                       MATRIX_PARAM_LEN - 1);
            return -1;
        }
        vals[*n][len++] = *p;
    }
}

/* What the wire cannot carry, refused here rather than mangled there. */
static int check_command(const char *c, fb_err_t *err)
{
    if (strlen(c) >= PROTO_CMD) {
        fb_err_set(err, "command '%.40s...' is longer than %d bytes", c, PROTO_CMD - 1);
        return -1;
    }
    /* the agents refuse what their logs would show cleaned (proto.h) */
    if (!proto_text_valid(c)) {
        char shown[41];
        snprintf(shown, sizeof shown, "%s", c);
        proto_text_clean(shown); /* the message itself must not carry them */
        fb_err_set(err,
                   "command '%s': control characters (newlines, tabs) and bytes that are "
                   "not UTF-8 are not carried to the agents; use sh -c's ';' or a script",
                   shown);
        return -1;
    }
    if (c[strspn(c, " ")] == '\0') { /* "", only blanks, or so after -L */
        fb_err_set(err, "an empty command ('%s')", c);
        return -1;
    }
    return 0;
}

#define MAX_VALUES 64

int commands_expand(matrix_t *m, const cmdline_t *o, fb_err_t *err)
{
    static char vals[MATRIX_MAX_PARAMS][MAX_VALUES][MATRIX_PARAM_LEN];
    size_t nvals[MATRIX_MAX_PARAMS], idx[MATRIX_MAX_PARAMS + 1] = {0}, total = o->ncommands;

    for (size_t k = 0; k < o->nparams; k++) {
        if (split_values(o->param_values[k], vals[k], MAX_VALUES, &nvals[k], o->param_name[k],
                         err) != 0)
            return -1;
        total *= nvals[k];
    }
    if (o->nparams == 0 && o->nnames > o->ncommands) {
        fb_err_set(err, "Too many --command-name options: Expected %zu at most", o->ncommands);
        return -1;
    }
    if (o->nparams && o->nnames > 1 && o->nnames != total) {
        fb_err_set(err,
                   "'--command-name' has been specified %zu times. It has to appear exactly "
                   "once, or exactly %zu times (number of benchmarks)",
                   o->nnames, total);
        return -1;
    }
    for (size_t i = 0; i < total; i++) {
        const char *names[MATRIX_MAX_PARAMS], *values[MATRIX_MAX_PARAMS];
        const char *label = o->nparams ? (o->nnames > 1 ? o->names[i]
                                          : o->nnames   ? o->names[0]
                                                        : NULL)
                                       : (i < o->nnames ? o->names[i] : NULL);
        matrix_entry_t *e = matrix_append(m, err);
        if (e == NULL) return -1;
        e->is_command = 1;
        e->strategy = "";
        e->requests = e->chunk = e->connections = 1; /* on the wire, meaning nothing */
        e->nparams = o->nparams;
        for (size_t k = 0; k < o->nparams; k++) {
            names[k] = e->param_name[k] = o->param_name[k];
            memcpy(e->param_value[k], vals[k][idx[k + 1]], MATRIX_PARAM_LEN);
            values[k] = e->param_value[k];
        }
        e->exec = commands_subst(o->commands[idx[0]], o->nparams, names, values);
        e->name = label ? commands_subst(label, o->nparams, names, values) : NULL;
        if (e->exec == NULL || (label && e->name == NULL)) {
            fb_err_set(err, "out of memory");
            return -1;
        }
        if (e->name == NULL && (e->name = strdup(e->exec)) == NULL) {
            fb_err_set(err, "out of memory");
            return -1;
        }
        if (check_command(e->exec, err) != 0) return -1;
        snprintf(e->command, sizeof e->command, "%s", e->name);
        /* the next combination: the command fastest, then each list in order */
        for (size_t d = 0; d <= o->nparams; d++) {
            size_t dim = d == 0 ? o->ncommands : nvals[d - 1];
            if (++idx[d] < dim) break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* A benchmark's keys and numbers take under 128 bytes in msgpack. */
#define BENCH_WIRE_BYTES 128

int commands_fit(const matrix_t *m, fb_err_t *err)
{
    size_t bytes = 512; /* the plan's own fields */

    for (size_t i = 0; i < m->n; i++)
        bytes += BENCH_WIRE_BYTES + (m->e[i].exec ? strlen(m->e[i].exec) : 0);
    if (bytes <= PROTO_MAX_MSG) return 0;
    fb_err_set(err,
               "the plan would take about %zu bytes, over the %d-byte message limit: fewer "
               "or shorter commands (or -L values)",
               bytes, PROTO_MAX_MSG);
    return -1;
}
