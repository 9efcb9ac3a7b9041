/* opt: parsing of command-line values shared by every fleetbench program.
 * Each parser returns 0 on success or -1 with a message naming the flag and
 * the bad value in err; nothing is printed here. */
#ifndef FB_OPT_H
#define FB_OPT_H

#include <stddef.h>
#include <stdint.h>

#define OPT_ERR_LEN 256

/* A decimal integer in [min, max]. */
int opt_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err);
/* A decimal fraction in [min, max], e.g. "0.25". */
int opt_double(const char *flag, const char *s, double min, double max, double *out, char *err);
/* HOST:PORT, [V6]:PORT, or HOST alone when default_port >= 0. host gets a
 * NUL-terminated copy (brackets stripped). */
int opt_hostport(const char *flag, const char *s, int default_port, char *host, size_t hostlen,
                 int *port, char *err);

#endif
