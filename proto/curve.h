/* curve: SSH-like authentication of agents and coordinators with ZeroMQ's
 * CURVE mechanism. Keys are Z85 text: PREFIX.key holds the secret key (mode
 * 0600), PREFIX.pub the public one. An agent admits only the coordinator
 * keys of its authorized-keys file, through a ZAP handler that fails closed
 * (without one, CURVE checks nobody's identity); a coordinator talks only to
 * agents proving the key its known-agents file lists for them. */
#ifndef FB_CURVE_H
#define FB_CURVE_H

#include "fb_err.h"

#include <stddef.h>

#define CURVE_KEY_LEN 40 /* Z85 text of a 32-byte key */
#define CURVE_MAX_KEYS 1024

typedef struct {
    char key[CURVE_KEY_LEN + 1];
} curve_key_t;

typedef struct {
    char host[256];
    int port; /* -1: any */
    curve_key_t pub;
} curve_known_t;

/* Writes PREFIX.key (0600) and PREFIX.pub; refuses to overwrite either. */
int curve_keygen(const char *prefix, fb_err_t *err);
/* Reads a secret key file; refuses one that others may read, and a .pub. */
int curve_load_secret(const char *path, curve_key_t *secret, fb_err_t *err);
/* Public keys, one per line ('#' comments and blank lines allowed). */
int curve_load_authorized(const char *path, curve_key_t **keys, size_t *n, fb_err_t *err);
/* "HOST[:PORT] PUBKEY" lines; an IPv6 HOST as [V6] or [V6]:PORT. */
int curve_load_known(const char *path, curve_known_t **known, size_t *n, fb_err_t *err);
/* The key known for host:port, or NULL. Host names match in any case, IPv6
 * addresses in any spelling. */
const curve_key_t *curve_known_find(const curve_known_t *known, size_t n, const char *host,
                                    int port);

/* Socket roles: a CURVE server (agent) or client (coordinator). */
int curve_server_setup(void *sock, const curve_key_t *secret, fb_err_t *err);
int curve_client_setup(void *sock, const curve_key_t *secret, const curve_key_t *server_pub,
                       fb_err_t *err);

/* The ZAP handler: a REP socket on inproc://zeromq.zap.01, bound before any
 * CURVE socket binds, served from the owner's poll loop. */
typedef struct {
    void *sock;
    const curve_key_t *keys;
    size_t n;
    unsigned long denied; /* for the log */
} curve_zap_t;

int curve_zap_init(curve_zap_t *z, void *zctx, const curve_key_t *keys, size_t n, fb_err_t *err);
/* Answers every pending ZAP request; denied peers are counted (and the
 * caller may log them from the returned count). */
int curve_zap_serve(curve_zap_t *z);
void curve_zap_close(curve_zap_t *z);

#endif
