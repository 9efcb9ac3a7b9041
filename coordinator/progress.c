#include "progress.h"

#include "summary.h"
#include "text.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>

#define SGR_BOLD "1"
#define SGR_BOLD_GREEN "1;32"
#define SGR_CYAN "36"
#define SGR_DIM "2"

/* VT100: erase the line from the cursor, move up one line, erase it all */
#define ERASE_TO_END "\x1b[K"
#define ERASE_LINE "\x1b[2K"
#define CURSOR_UP "\x1b[1A"

#define EST_COLS 9 /* "693.6 µs", "12.345 s": the bar stays put as they change */

static void paint(const progress_t *p, const char *sgr, const char *s)
{
    if (p->color)
        fprintf(p->out, "\x1b[%sm%s\x1b[0m", sgr, s);
    else
        fputs(s, p->out);
}

/* s cut to max columns (on a character boundary), "…" marking the cut. */
static void put_cut(FILE *out, const char *s, size_t max)
{
    size_t n = text_cut(s, max);

    fwrite(s, 1, n, out);
    if (s[n]) fputs("…", out);
}

void progress_init(progress_t *p, FILE *out, int tty, int color)
{
    struct winsize ws;

    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = tty;
    p->color = color;
    p->cols = PROGRESS_COLS;
    if (tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) p->cols = ws.ws_col;
}

static void put_eta(FILE *out, double seconds)
{
    unsigned long s;

    if (!isfinite(seconds) || seconds < 0 || seconds > 3.6e8) {
        fputs("ETA --:--:--", out);
        return;
    }
    s = (unsigned long)(seconds + 0.5);
    fprintf(out, "ETA %02lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
}

/* width cells, done of total full; "█" and "░" are 3 bytes each */
static void put_bar(const progress_t *p, size_t done, size_t total, size_t width)
{
    size_t full = total ? done * width / total : 0;
    char cells[PROGRESS_BAR * 3 + 1] = "";

    if (full > width) full = width;
    for (size_t i = 0; i < full; i++)
        strcat(cells, "█");
    if (full) paint(p, SGR_CYAN, cells);
    cells[0] = '\0';
    for (size_t i = full; i < width; i++)
        strcat(cells, "░");
    if (full < width) paint(p, SGR_DIM, cells);
    fputs("  ", p->out);
}

/* The live line, from the start of the terminal's line. On a narrow
 * terminal the words go first, then the ETA; the bar gets what the text
 * leaves of the width, and goes when that is too little. */
static void draw(const progress_t *p, size_t done, double estimate_s)
{
    const char *label = "  Current estimate: ";
    char est[48] = "…", pad[EST_COLS + 1], count[48];
    size_t cols, text, bar;
    int eta = 1;

    if (isfinite(estimate_s))
        summary_time(est, sizeof est, estimate_s, summary_unit_for(estimate_s));
    cols = text_columns(est, strlen(est));
    memset(pad, ' ', sizeof pad - 1);
    pad[cols < EST_COLS ? EST_COLS - cols : 0] = '\0';
    snprintf(count, sizeof count, "%zu/%zu  ", done, p->total);
    /* LABEL EST "  " [BAR "  "] COUNT "ETA 00:00:00", and one column spare */
    text = strlen(label) + EST_COLS + 2 + strlen(count) + 12 + 1;
    if (text > p->cols) {
        label = "  ";
        text -= 18;
    }
    if (text > p->cols) {
        eta = 0;
        text -= 12;
    }
    bar = p->cols > text + 2 ? p->cols - text - 2 : 0;
    if (bar > PROGRESS_BAR) bar = PROGRESS_BAR;
    fprintf(p->out, "\r%s", label);
    paint(p, SGR_BOLD_GREEN, est);
    fprintf(p->out, "%s  ", pad);
    if (bar >= 5) put_bar(p, done, p->total, bar);
    fputs(count, p->out);
    if (eta) put_eta(p->out, done < p->total ? estimate_s * (double)(p->total - done) : 0);
    fputs(ERASE_TO_END, p->out);
    fflush(p->out);
}

/* hyperfine's warmup line: "  Performing warmup runs  ██░░  1/3"; the words
 * shorten, then the bar goes, on a narrow terminal. */
static void draw_warmup(const progress_t *p, size_t done)
{
    const char *label = "  Performing warmup runs  ";
    char count[48];
    size_t text, bar;

    snprintf(count, sizeof count, "%zu/%zu", done, p->warmup);
    text = strlen(label) + strlen(count) + 1;
    if (text > p->cols) {
        label = "  Warmup  ";
        text -= 16;
    }
    bar = p->cols > text + 2 ? p->cols - text - 2 : 0;
    if (bar > PROGRESS_BAR) bar = PROGRESS_BAR;
    fprintf(p->out, "\r%s", label);
    if (bar >= 5) put_bar(p, done, p->warmup, bar);
    fputs(count, p->out);
    fputs(ERASE_TO_END, p->out);
    fflush(p->out);
}

void progress_start(progress_t *p, size_t bench, const char *command, size_t warmup, size_t total)
{
    char head[48];

    progress_end(p);
    p->warmup = warmup;
    p->total = total;
    if (!p->tty) return;
    snprintf(head, sizeof head, "Benchmark %zu", bench + 1);
    paint(p, SGR_BOLD, head);
    fputs(": ", p->out);
    put_cut(p->out, command, p->cols > strlen(head) + 3 ? p->cols - strlen(head) - 3 : 1);
    fputc('\n', p->out);
    p->shown = 1;
    if (warmup > 0)
        draw_warmup(p, 0);
    else
        draw(p, 0, NAN);
}

void progress_warmup(progress_t *p, size_t done)
{
    if (!p->shown) return;
    if (done < p->warmup)
        draw_warmup(p, done);
    else
        draw(p, 0, NAN); /* the timed runs begin */
}

void progress_run(progress_t *p, size_t done, double estimate_s)
{
    if (p->shown) draw(p, done, estimate_s);
}

void progress_end(progress_t *p)
{
    if (!p->shown) return;
    fputs("\r" ERASE_LINE CURSOR_UP ERASE_LINE, p->out);
    fflush(p->out);
    p->shown = 0;
}

double progress_estimate(const bench_t *b)
{
    double sum = 0;
    size_t n = 0;

    for (size_t i = 0; i < b->nruns; i++)
        if (b->runs[i].measured) {
            sum += b->runs[i].time_s;
            n++;
        }
    return n ? sum / (double)n : NAN;
}
