/* --export-csv: hyperfine's columns, command,mean,stddev,median,user,system,
 * min,max then parameter_NAME, seconds in full precision. hyperfine names
 * its parameter columns after the first result's parameters; here they are
 * the union over the set, and a parameter that does not apply to a row (the
 * chunk of an async strategy) is an empty cell. */
#include "export.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void put(char *buf, size_t len, size_t *w, char c)
{
    if (*w + 1 < len) buf[(*w)++] = c;
}

/* The shortest decimal that reads back as v, written without an exponent:
 * how hyperfine (Rust's Display for f64) prints a number, "1" or "0.0693". */
static char *plain(char *buf, size_t len, double v)
{
    char e[40], digits[20];
    const char *p = e;
    int prec, nd = 0, point;
    size_t w = 0;

    if (v == 0 || !isfinite(v)) {
        snprintf(buf, len, "%s", v == 0 ? "0" : isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf");
        return buf;
    }
    for (prec = 1; prec < 17; prec++) { /* 17 digits always read back */
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    snprintf(e, sizeof e, "%.*e", prec - 1, v);
    if (*p == '-') put(buf, len, &w, *p++);
    for (; *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    point = atoi(p + 1) + 1; /* v = 0.d1d2...dn * 10^point */
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (point <= 0) {
        put(buf, len, &w, '0');
        put(buf, len, &w, '.');
        for (int i = 0; i < -point; i++)
            put(buf, len, &w, '0');
        for (int i = 0; i < nd; i++)
            put(buf, len, &w, digits[i]);
    } else {
        for (int i = 0; i < (nd > point ? nd : point); i++) {
            if (i == point) put(buf, len, &w, '.');
            put(buf, len, &w, i < nd ? digits[i] : '0');
        }
    }
    buf[w] = '\0';
    return buf;
}

/* Quoted only when it must be, as the csv crate does. */
static void put_field(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void put_number(FILE *out, double v)
{
    char buf[400];

    fputc(',', out);
    if (!isnan(v)) fputs(plain(buf, sizeof buf, v), out); /* unmeasured: empty */
}

static void put_row(FILE *out, const bench_set_t *set, size_t i, const bench_stats_t *s,
                    const char **names, size_t nnames)
{
    export_param_t p[EXPORT_MAX_PARAMS];
    size_t np = export_params(set, i, p), k = 0;
    const stats_desc_t *d = &s->time;

    put_field(out, set->benches[i]->command);
    put_number(out, d->mean);
    put_number(out, d->n == 1 ? 0 : d->stddev); /* hyperfine writes 0 for no σ */
    put_number(out, d->median);
    put_number(out, s->user);
    put_number(out, s->system);
    put_number(out, d->min);
    put_number(out, d->max);
    for (size_t c = 0; c < nnames; c++) {
        fputc(',', out);
        if (k < np && strcmp(p[k].name, names[c]) == 0) put_field(out, p[k++].value);
    }
    fputc('\n', out);
}

int export_csv(FILE *out, const bench_set_t *set, fb_err_t *err)
{
    const char *names[EXPORT_MAX_PARAMS];
    size_t nnames = export_param_names(set, names);
    bench_table_t t;

    if (bench_table_init(&t, set) != 0) {
        fb_err_set(err, "out of memory");
        return -1;
    }
    fputs("command,mean,stddev,median,user,system,min,max", out);
    for (size_t c = 0; c < nnames; c++)
        fprintf(out, ",parameter_%s", names[c]);
    fputc('\n', out);
    for (size_t i = 0; i < set->nbench; i++)
        put_row(out, set, i, &t.stats[i], names, nnames);
    bench_table_close(&t);
    if (ferror(out)) {
        fb_err_set(err, "cannot write: %s", strerror(errno));
        return -1;
    }
    return 0;
}
