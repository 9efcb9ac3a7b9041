#include "svg.h"

#include <math.h>

double svg_scale_at(const svg_scale_t *s, double v)
{
    double f;

    if (s->log)
        f = (log10(v) - log10(s->lo)) / (log10(s->hi) - log10(s->lo));
    else
        f = (v - s->lo) / (s->hi - s->lo);
    return s->a + (isfinite(f) ? f : 0) * (s->b - s->a);
}

/* 1, 2 or 5 times a power of ten, the first at least x. */
static double nice_up(double x)
{
    double p = pow(10, floor(log10(x)));

    return x <= p ? p : x <= 2 * p ? 2 * p : x <= 5 * p ? 5 * p : 10 * p;
}

/* 1, 2 or 5 times a power of ten, the last at most x. */
static double nice_down(double x)
{
    double p = pow(10, floor(log10(x)));

    return x >= 5 * p ? 5 * p : x >= 2 * p ? 2 * p : p;
}

/* About six steps across the domain. */
static double linear_step(const svg_scale_t *s)
{
    return nice_up((s->hi - s->lo) / 6);
}

void svg_scale_nice(svg_scale_t *s)
{
    double step;

    if (!(s->hi > s->lo)) s->hi = s->lo > 0 ? s->lo * 2 : s->lo + 1;
    if (s->log) {
        s->lo = nice_down(s->lo);
        s->hi = nice_up(s->hi);
        if (s->hi / s->lo > 1e3) { /* ticks on decades only: end on ticks */
            s->lo = pow(10, floor(log10(s->lo) + 1e-9));
            s->hi = pow(10, ceil(log10(s->hi) - 1e-9));
        }
        return;
    }
    step = linear_step(s);
    s->lo = floor(s->lo / step + 1e-9) * step;
    s->hi = ceil(s->hi / step - 1e-9) * step;
}

size_t svg_scale_ticks(const svg_scale_t *s, double *v)
{
    size_t n = 0;

    if (!s->log) {
        double step = linear_step(s);
        for (double x = ceil(s->lo / step - 1e-9) * step;
             x <= s->hi * (1 + 1e-9) + 1e-15 && n < SVG_MAX_TICKS; x += step)
            v[n++] = fabs(x) < step * 1e-9 ? 0 : x;
        return n;
    }
    for (int e = (int)floor(log10(s->lo)); e <= (int)ceil(log10(s->hi)); e++)
        for (int m = 0; m < 3; m++) {
            double x = (m == 0 ? 1 : m == 1 ? 2 : 5) * pow(10, e);
            if (m > 0 && s->hi / s->lo > 1e3) continue; /* decades are enough */
            if (x >= s->lo * (1 - 1e-9) && x <= s->hi * (1 + 1e-9) && n < SVG_MAX_TICKS) v[n++] = x;
        }
    return n;
}

/* Grid lines and labels at the ticks, then the base line and the title.
 * A horizontal axis runs its grid from y c0 to y c1 and labels under c1; a
 * vertical one from x c0 to x c1, labels left of c0, the title turned. */
static void axis(FILE *out, const svg_scale_t *s, const svg_tick_t *t, size_t n, int vertical,
                 double c0, double c1, const char *title)
{
    const char *line = "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>";
    const char *text = "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>";
    double mid = (s->a + s->b) / 2;

    fputs("<g class=\"axis\">", out);
    for (size_t i = 0; i < n; i++) {
        double at = svg_scale_at(s, t[i].v);
        if (vertical) {
            fprintf(out, line, "grid", c0, at, c1, at);
            fprintf(out, text, c0 - 8, at + 4, "end", t[i].label);
        } else {
            fprintf(out, line, "grid", at, c0, at, c1);
            fprintf(out, text, at, c1 + 16, "middle", t[i].label);
        }
    }
    if (vertical) {
        fprintf(out, line, "base", c0, s->a, c0, s->b);
        fprintf(out,
                "<text class=\"title\" transform=\"translate(16 %.1f) rotate(-90)\" "
                "text-anchor=\"middle\">%s</text>",
                mid, title);
    } else {
        fprintf(out, line, "base", s->a, c1, s->b, c1);
        fprintf(out, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                mid, c1 + 38, title);
    }
    fputs("</g>\n", out);
}

void svg_axis_x(FILE *out, const svg_scale_t *s, const svg_tick_t *t, size_t n, double y0,
                double y1, const char *title)
{
    axis(out, s, t, n, 0, y0, y1, title);
}

void svg_axis_y(FILE *out, const svg_scale_t *s, const svg_tick_t *t, size_t n, double x0,
                double x1, const char *title)
{
    axis(out, s, t, n, 1, x0, x1, title);
}
