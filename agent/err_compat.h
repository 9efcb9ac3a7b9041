/* err_compat: the transition of agent/daemon.c to fb_err_t (docs/errors.md).
 * CMakeLists.txt force-includes this header into daemon.c only, which still
 * holds char buffers and passes them where probe.c and run.c now take an
 * fb_err_t *. Its buffers are sized with the names below, all FB_ERR_MAX
 * bytes, which FB_ERR_BUF needs. Delete this file, and the line in
 * CMakeLists.txt, once daemon.c declares fb_err_t and reads result.error. */
#ifndef AGENT_ERR_COMPAT_H
#define AGENT_ERR_COMPAT_H

#include "curve.h"
#include "fb_err.h"
#include "probe.h"
#include "run.h"
#include "wire.h"

#define PROBE_ERR_LEN FB_ERR_MAX
#define RUN_ERR_LEN FB_ERR_MAX

#define probe_tcp(host, port, timeout_ms, err) probe_tcp(host, port, timeout_ms, FB_ERR_BUF(err))
#define run_params_finish(p, err) run_params_finish(p, FB_ERR_BUF(err))

#define PROTO_ERR_LEN FB_ERR_MAX
#define CURVE_ERR_LEN FB_ERR_MAX
#define proto_encode(m, buf, len, err) proto_encode(m, buf, len, FB_ERR_BUF(err))
#define proto_decode(buf, len, out, err) proto_decode(buf, len, out, FB_ERR_BUF(err))
#define wire_socket_setup(sock, err) wire_socket_setup(sock, FB_ERR_BUF(err))
#define wire_send(sock, id, idlen, m, err) wire_send(sock, id, idlen, m, FB_ERR_BUF(err))
#define wire_recv(sock, id, idlen, m, err) wire_recv(sock, id, idlen, m, FB_ERR_BUF(err))
#define curve_keygen(prefix, err) curve_keygen(prefix, FB_ERR_BUF(err))
#define curve_load_secret(path, secret, err) curve_load_secret(path, secret, FB_ERR_BUF(err))
#define curve_load_authorized(path, keys, n, err)                                                  \
    curve_load_authorized(path, keys, n, FB_ERR_BUF(err))
#define curve_load_known(path, known, n, err) curve_load_known(path, known, n, FB_ERR_BUF(err))
#define curve_server_setup(sock, secret, err) curve_server_setup(sock, secret, FB_ERR_BUF(err))
#define curve_client_setup(sock, secret, server, err)                                              \
    curve_client_setup(sock, secret, server, FB_ERR_BUF(err))
#define curve_zap_init(z, zctx, keys, n, err) curve_zap_init(z, zctx, keys, n, FB_ERR_BUF(err))

#endif
