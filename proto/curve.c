#include "curve.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static int write_file(const char *path, const char *text, mode_t mode, fb_err_t *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    size_t len = strlen(text);

    if (fd < 0) {
        fb_err_set(err, "%.300s: %s", path, strerror(errno));
        return -1;
    }
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        fb_err_set(err, "%.300s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return close(fd);
}

int curve_keygen(const char *prefix, fb_err_t *err)
{
    char pub[CURVE_KEY_LEN + 1], sec[CURVE_KEY_LEN + 1], path[4200], line[64];

    if (zmq_curve_keypair(pub, sec) != 0) {
        fb_err_set(err, "keygen: %s (libzmq without CURVE?)", zmq_strerror(errno));
        return -1;
    }
    /* neither may exist: never leave a new secret beside an old public key */
    for (int i = 0; i < 2; i++) {
        struct stat st;
        snprintf(path, sizeof path, "%s.%s", prefix, i ? "pub" : "key");
        if (lstat(path, &st) == 0) {
            fb_err_set(err, "%.300s: %s", path, strerror(EEXIST));
            return -1;
        }
    }
    snprintf(path, sizeof path, "%s.key", prefix);
    snprintf(line, sizeof line, "%s\n", sec);
    if (write_file(path, line, 0600, err) != 0) return -1;
    snprintf(path, sizeof path, "%s.pub", prefix);
    snprintf(line, sizeof line, "%s\n", pub);
    return write_file(path, line, 0644, err);
}

/* A Z85 key at the start of s (after blanks); the rest of s is returned. */
static const char *parse_key(const char *s, curve_key_t *k)
{
    uint8_t bin[32];
    size_t n = 0;

    while (*s == ' ' || *s == '\t')
        s++;
    while (s[n] && !isspace((unsigned char)s[n]))
        n++;
    if (n != CURVE_KEY_LEN) return NULL;
    memcpy(k->key, s, n);
    k->key[n] = '\0';
    if (zmq_z85_decode(bin, k->key) == NULL) return NULL;
    return s + n;
}

static int blank_or_comment(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '#' || *s == '\n' || *s == '\r' || *s == '\0';
}

static FILE *open_read(const char *path, fb_err_t *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) fb_err_set(err, "%.300s: %s", path, strerror(errno));
    return f;
}

int curve_load_secret(const char *path, curve_key_t *secret, fb_err_t *err)
{
    struct stat st;
    char line[256];
    size_t len = strlen(path);
    FILE *f;
    int rc = -1;

    /* both files hold 40 Z85 characters: the name is what tells them apart,
     * and a .pub made 0600 to please the check below would load and then
     * fail every handshake with nothing saying why */
    if (len >= 4 && strcmp(path + len - 4, ".pub") == 0) {
        fb_err_set(err, "%.300s: a public key; --key wants the secret one (PREFIX.key, beside it)",
                   path);
        return -1;
    }
    f = open_read(path, err);
    if (f == NULL) return -1;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077) != 0)
        fb_err_set(err, "%.300s: secret key readable by others (chmod 600 it)", path);
    else if (fgets(line, sizeof line, f) == NULL || parse_key(line, secret) == NULL)
        fb_err_set(err, "%.300s: not a fleetbench key (40 Z85 characters)", path);
    else
        rc = 0;
    fclose(f);
    return rc;
}

/* Calls add(line) for each non-comment line; err names the line on failure. */
static int each_line(const char *path, int (*add)(void *, const char *), void *ctx, fb_err_t *err)
{
    FILE *f = open_read(path, err);
    char line[1024];
    size_t no = 0;
    int rc = 0;

    if (f == NULL) return -1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        if (blank_or_comment(line)) continue;
        if (add(ctx, line) != 0) {
            fb_err_set(err, "%.300s: line %zu: not a valid entry", path, no);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

typedef struct {
    curve_key_t *keys;
    size_t n;
} keys_acc_t;

static int add_authorized(void *ctx, const char *line)
{
    keys_acc_t *a = ctx;
    const char *rest;

    if (a->n == CURVE_MAX_KEYS) return -1;
    rest = parse_key(line, &a->keys[a->n]);
    if (rest == NULL || !blank_or_comment(rest)) return -1;
    a->n++;
    return 0;
}

int curve_load_authorized(const char *path, curve_key_t **keys, size_t *n, fb_err_t *err)
{
    keys_acc_t a = {calloc(CURVE_MAX_KEYS, sizeof(curve_key_t)), 0};

    if (a.keys == NULL || each_line(path, add_authorized, &a, err) != 0) {
        free(a.keys);
        return -1;
    }
    *keys = a.keys;
    *n = a.n;
    return 0;
}

typedef struct {
    curve_known_t *known;
    size_t n;
} known_acc_t;

/* "1..65535" and nothing else; -1 otherwise. */
static int parse_port(const char *s)
{
    char *end;
    long v;

    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    return *end == '\0' && errno == 0 && v >= 1 && v <= 65535 ? (int)v : -1;
}

/* HOST, HOST:PORT, [V6] or [V6]:PORT (as --agents writes them), or a bare
 * V6 address (more than one colon: no port can be told apart). */
static int parse_addr(const char *addr, curve_known_t *k)
{
    const char *colon = strrchr(addr, ':'), *host = addr;
    size_t hl = strlen(addr);

    k->port = -1;
    if (addr[0] == '[') {
        const char *rb = strchr(addr, ']');
        if (rb == NULL || (rb[1] != '\0' && rb[1] != ':')) return -1;
        if (rb[1] == ':' && (k->port = parse_port(rb + 2)) < 0) return -1;
        host = addr + 1;
        hl = (size_t)(rb - host);
    } else if (colon != NULL && strchr(addr, ':') == colon) {
        if ((k->port = parse_port(colon + 1)) < 0) return -1;
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= sizeof k->host) return -1;
    memcpy(k->host, host, hl);
    k->host[hl] = '\0';
    return 0;
}

static int add_known(void *ctx, const char *line)
{
    known_acc_t *a = ctx;
    curve_known_t *k;
    char addr[256];
    const char *rest;
    int used = 0;

    if (a->n == CURVE_MAX_KEYS || sscanf(line, " %255s %n", addr, &used) != 1) return -1;
    k = &a->known[a->n];
    if (parse_addr(addr, k) != 0) return -1;
    rest = parse_key(line + used, &k->pub);
    if (rest == NULL || !blank_or_comment(rest) || k->host[0] == '\0') return -1;
    a->n++;
    return 0;
}

int curve_load_known(const char *path, curve_known_t **known, size_t *n, fb_err_t *err)
{
    known_acc_t a = {calloc(CURVE_MAX_KEYS, sizeof(curve_known_t)), 0};

    if (a.known == NULL || each_line(path, add_known, &a, err) != 0) {
        free(a.known);
        return -1;
    }
    *known = a.known;
    *n = a.n;
    return 0;
}

/* Host names in any case; addresses in any spelling ("::1" is
 * "0:0:0:0:0:0:0:1"). */
static bool same_host(const char *a, const char *b)
{
    unsigned char ba[16], bb[16];

    if (strcasecmp(a, b) == 0) return true;
    return inet_pton(AF_INET6, a, ba) == 1 && inet_pton(AF_INET6, b, bb) == 1 &&
           memcmp(ba, bb, sizeof ba) == 0;
}

const curve_key_t *curve_known_find(const curve_known_t *known, size_t n, const char *host,
                                    int port)
{
    for (size_t i = 0; i < n; i++)
        if (same_host(known[i].host, host) && (known[i].port < 0 || known[i].port == port))
            return &known[i].pub;
    return NULL;
}

static int sockopt_err(const char *what, fb_err_t *err)
{
    fb_err_set(err, "CURVE %s: %s", what, zmq_strerror(errno));
    return -1;
}

int curve_server_setup(void *sock, const curve_key_t *secret, fb_err_t *err)
{
    int one = 1;

    /* a ZAP domain makes libzmq ask our handler about every peer */
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret->key, CURVE_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "fleetbench", 10) != 0)
        return sockopt_err("server", err);
    return 0;
}

int curve_client_setup(void *sock, const curve_key_t *secret, const curve_key_t *server_pub,
                       fb_err_t *err)
{
    char pub[CURVE_KEY_LEN + 1];

    if (zmq_curve_public(pub, secret->key) != 0) return sockopt_err("public key", err);
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_pub->key, CURVE_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, CURVE_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, secret->key, CURVE_KEY_LEN) != 0)
        return sockopt_err("client", err);
    return 0;
}

int curve_zap_init(curve_zap_t *z, void *zctx, const curve_key_t *keys, size_t n, fb_err_t *err)
{
    memset(z, 0, sizeof *z);
    z->keys = keys;
    z->n = n;
    z->sock = zmq_socket(zctx, ZMQ_REP);
    if (z->sock == NULL || zmq_bind(z->sock, "inproc://zeromq.zap.01") != 0) {
        fb_err_set(err, "ZAP handler: %s", zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* ZAP (RFC 27): version, request id, domain, address, identity, mechanism,
 * credentials (the client's 32-byte public key for CURVE). */
static void zap_answer(curve_zap_t *z, zmq_msg_t *f, int nf)
{
    char z85[CURVE_KEY_LEN + 1];
    int ok = 0;

    if (nf == 7 && zmq_msg_size(&f[5]) == 5 && memcmp(zmq_msg_data(&f[5]), "CURVE", 5) == 0 &&
        zmq_msg_size(&f[6]) == 32 && zmq_z85_encode(z85, zmq_msg_data(&f[6]), 32) != NULL)
        for (size_t i = 0; i < z->n && !ok; i++)
            ok = strcmp(z->keys[i].key, z85) == 0;
    if (!ok) z->denied++;
    zmq_send(z->sock, "1.0", 3, ZMQ_SNDMORE);
    if (nf >= 2)
        zmq_send(z->sock, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else
        zmq_send(z->sock, "", 0, ZMQ_SNDMORE);
    zmq_send(z->sock, ok ? "200" : "400", 3, ZMQ_SNDMORE);
    zmq_send(z->sock, ok ? "OK" : "key not authorized", ok ? 2 : 18, ZMQ_SNDMORE);
    zmq_send(z->sock, ok ? z85 : "", ok ? CURVE_KEY_LEN : 0, ZMQ_SNDMORE); /* user id */
    zmq_send(z->sock, "", 0, 0);                                           /* metadata */
}

int curve_zap_serve(curve_zap_t *z)
{
    zmq_msg_t f[8];
    int nf, more;
    size_t sz;

    for (;;) {
        for (nf = 0, more = 1; more; nf++) {
            zmq_msg_t tmp;
            zmq_msg_init(nf < 8 ? &f[nf] : &tmp);
            if (zmq_msg_recv(nf < 8 ? &f[nf] : &tmp, z->sock, nf == 0 ? ZMQ_DONTWAIT : 0) < 0) {
                zmq_msg_close(nf < 8 ? &f[nf] : &tmp);
                return 0; /* nothing (more) pending */
            }
            sz = sizeof more;
            zmq_getsockopt(z->sock, ZMQ_RCVMORE, &more, &sz);
            if (nf >= 8) zmq_msg_close(&tmp);
        }
        zap_answer(z, f, nf > 8 ? 0 : nf);
        for (int i = 0; i < nf && i < 8; i++)
            zmq_msg_close(&f[i]);
    }
}

void curve_zap_close(curve_zap_t *z)
{
    if (z->sock) zmq_close(z->sock);
    z->sock = NULL;
}
