#include "opt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opt_u64(const char *flag, const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err)
{
    char *end;
    unsigned long long v;

    /* strtoull accepts "-1" and leading spaces; a count never has either. */
    if (s == NULL || *s < '0' || *s > '9') goto bad;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0') goto bad;
    if (v < min || v > max) {
        snprintf(err, OPT_ERR_LEN, "%s: %s is out of range (%llu..%llu)", flag, s,
                 (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    snprintf(err, OPT_ERR_LEN, "%s: '%s' is not a non-negative integer", flag, s ? s : "");
    return -1;
}

int opt_double(const char *flag, const char *s, double min, double max, double *out, char *err)
{
    char *end;
    double v;

    if (s == NULL || *s == '\0') goto bad;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(v)) goto bad;
    if (v < min || v > max) {
        snprintf(err, OPT_ERR_LEN, "%s: %s is out of range (%g..%g)", flag, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
bad:
    snprintf(err, OPT_ERR_LEN, "%s: '%s' is not a number", flag, s ? s : "");
    return -1;
}

int opt_hostport(const char *flag, const char *s, int default_port, char *host, size_t hostlen,
                 int *port, char *err)
{
    const char *h = s, *colon;
    size_t hl;
    uint64_t p;

    if (s == NULL || *s == '\0') {
        snprintf(err, OPT_ERR_LEN, "%s: empty address", flag);
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
            snprintf(err, OPT_ERR_LEN, "%s: '%s' needs a port (HOST:PORT)", flag, s);
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
    snprintf(err, OPT_ERR_LEN, "%s: '%s' is not HOST:PORT", flag, s);
    return -1;
}
