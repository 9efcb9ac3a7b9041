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

void svg_axis_x(FILE *out, const svg_scale_t *s, const svg_tick_t *t, size_t n, double y0,
                double y1, const char *title)
{
    fputs("<g class=\"axis\">", out);
    for (size_t i = 0; i < n; i++) {
        double x = svg_scale_at(s, t[i].v);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x,
                y0, x, y1);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, y1 + 16,
                t[i].label);
    }
    fprintf(out, "<line class=\"base\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", s->a, y1,
            s->b, y1);
    fprintf(out, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
            (s->a + s->b) / 2, y1 + 38, title);
    fputs("</g>\n", out);
}

void svg_axis_y(FILE *out, const svg_scale_t *s, const svg_tick_t *t, size_t n, double x0,
                double x1, const char *title)
{
    fputs("<g class=\"axis\">", out);
    for (size_t i = 0; i < n; i++) {
        double y = svg_scale_at(s, t[i].v);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0,
                y, x1, y);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", x0 - 8, y + 4,
                t[i].label);
    }
    fprintf(out, "<line class=\"base\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0, s->a,
            x0, s->b);
    fprintf(out,
            "<text class=\"title\" transform=\"translate(16 %.1f) rotate(-90)\" "
            "text-anchor=\"middle\">%s</text>",
            (s->a + s->b) / 2, title);
    fputs("</g>\n", out);
}
