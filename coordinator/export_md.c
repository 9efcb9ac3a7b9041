/* --export-markdown: hyperfine's table. One unit for the whole table, the
 * one the first benchmark's mean picks; rows in matrix order; "Relative" is
 * each mean over the fastest one of its group (bench_group_t: the same
 * requests, concurrency and agents). When there is more than one group, a
 * last column says which group each row is in, so no row reads as relative
 * to one it may not be compared with. */
#include "export.h"
#include "summary.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static summary_unit_t table_unit(const bench_table_t *t)
{
    for (size_t i = 0; i < t->nbench; i++)
        if (t->stats[i].time.n > 0) return summary_unit_for(t->stats[i].time.mean);
    return SUMMARY_UNIT_S;
}

/* `command` with the table's cell separator escaped */
static void put_command(FILE *out, const char *command)
{
    fputc('`', out);
    for (const char *p = command; *p; p++) {
        if (*p == '|') fputc('\\', out);
        fputc(*p, out);
    }
    fputc('`', out);
}

static void put_row(FILE *out, const bench_table_t *t, size_t i, summary_unit_t u)
{
    const stats_desc_t *d = &t->stats[i].time;
    const stats_ratio_t *r = &t->rel[i];
    char a[64], b[64];

    if (d->n == 0) {
        fputs(t->ngroups > 1 ? " | N/A | N/A | N/A | N/A | |\n" : " | N/A | N/A | N/A | N/A |\n",
              out);
        return;
    }
    fprintf(out, " | %s", summary_value(a, sizeof a, d->mean, u));
    if (!isnan(d->stddev)) fprintf(out, " ± %s", summary_value(a, sizeof a, d->stddev, u));
    fprintf(out, " | %s | %s | %.2f", summary_value(a, sizeof a, d->min, u),
            summary_value(b, sizeof b, d->max, u), r->ratio);
    if (!bench_table_is_ref(t, i) && !isnan(r->stddev)) fprintf(out, " ± %.2f", r->stddev);
    if (t->ngroups > 1) fprintf(out, " | %s", t->groups[t->group[i]].label);
    fputs(" |\n", out);
}

int export_markdown(FILE *out, const bench_set_t *set, fb_err_t *err)
{
    bench_table_t t;
    summary_unit_t u;
    const char *name;

    if (bench_table_init(&t, set) != 0) {
        fb_err_set(err, "out of memory");
        return -1;
    }
    u = table_unit(&t);
    name = summary_unit_name(u);
    fprintf(out, "| Command | Mean [%s] | Min [%s] | Max [%s] | Relative |%s\n", name, name, name,
            t.ngroups > 1 ? " Group |" : "");
    fprintf(out, "|:---|---:|---:|---:|---:|%s\n", t.ngroups > 1 ? ":---|" : "");
    for (size_t i = 0; i < set->nbench; i++) {
        fputs("| ", out);
        put_command(out, set->benches[i]->command);
        put_row(out, &t, i, u);
    }
    bench_table_close(&t);
    if (ferror(out)) {
        fb_err_set(err, "cannot write: %s", strerror(errno));
        return -1;
    }
    return 0;
}
