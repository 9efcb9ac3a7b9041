/* svg: the geometry of the report's charts — scales that map a domain to
 * pixels (linear or log10), round ("nice") domains and 1-2-5 tick values —
 * and the two axes drawn as inline SVG. Nothing here knows benchmarks or
 * time units, so it is tested alone (tests/unit/test_svg.c). */
#ifndef FB_SVG_H
#define FB_SVG_H

#include <stddef.h>
#include <stdio.h>

#define SVG_MAX_TICKS 48

typedef struct {
    double lo, hi; /* the domain; lo > 0 on a log scale */
    double a, b;   /* the pixels lo and hi map to (b < a for a y axis) */
    int log;       /* log10 instead of linear */
} svg_scale_t;

typedef struct {
    double v;       /* where, in the scale's domain */
    char label[32]; /* markup-safe text under or beside the tick */
} svg_tick_t;

/* The pixel of v; a non-finite position (a log of 0, an empty domain) maps
 * to a, so that the SVG never holds "nan". */
double svg_scale_at(const svg_scale_t *s, double v);

/* Widens the domain to round values (1, 2 or 5 times a power of ten), so
 * that the ticks frame the data; an empty or inverted domain is made one. */
void svg_scale_nice(svg_scale_t *s);

/* Tick values into v (SVG_MAX_TICKS at most): 1-2-5 steps on a linear
 * scale; 1-2-5 per decade on a log scale, decades only beyond 3 decades.
 * Returns how many. */
size_t svg_scale_ticks(const svg_scale_t *s, double *v);

/* A horizontal axis: vertical grid lines from y0 to y1 at the ticks, their
 * labels under y1, the title (markup-safe) below them. */
void svg_axis_x(FILE *out, const svg_scale_t *s, const svg_tick_t *t, size_t n, double y0,
                double y1, const char *title);

/* A vertical axis: horizontal grid lines from x0 to x1, labels left of x0,
 * the title turned along the left edge. */
void svg_axis_y(FILE *out, const svg_scale_t *s, const svg_tick_t *t, size_t n, double x0,
                double x1, const char *title);

#endif
