/* err_compat: the transition of coordinator/cmdline.c and main.c to fb_err_t
 * (docs/errors.md). CMakeLists.txt force-includes this header into those two
 * files only: they still hold char buffers (main.c's FLEET_ERR_LEN, 600
 * bytes, and the names below, FB_ERR_MAX) and pass them where opt, matrix,
 * agents_file and embed now take an fb_err_t *, which FB_ERR_BUF adapts.
 * Delete a file from the CMake list once it declares fb_err_t, and this
 * header with the last one. */
#ifndef CO_ERR_COMPAT_H
#define CO_ERR_COMPAT_H

#include "agents_file.h"
#include "cmdline.h"
#include "embed.h"
#include "curve.h"
#include "fb_err.h"
#include "matrix.h"
#include "opt.h"
#include "wire.h"

#define OPT_ERR_LEN FB_ERR_MAX
#define AGENTS_FILE_ERR_LEN FB_ERR_MAX

#define opt_u64(flag, s, min, max, out, err) opt_u64(flag, s, min, max, out, FB_ERR_BUF(err))
#define opt_double(flag, s, min, max, out, err) opt_double(flag, s, min, max, out, FB_ERR_BUF(err))
#define opt_hostport(flag, s, dport, host, hostlen, port, err)                                     \
    opt_hostport(flag, s, dport, host, hostlen, port, FB_ERR_BUF(err))
#define opt_target(flag, s, dport, host, hostlen, port, err)                                       \
    opt_target(flag, s, dport, host, hostlen, port, FB_ERR_BUF(err))
#define opt_getopt_error(cli, c, argv, err) opt_getopt_error(cli, c, argv, FB_ERR_BUF(err))
#define opt_unexpected(cli, arg, err) opt_unexpected(cli, arg, FB_ERR_BUF(err))
#define matrix_list_parse(l, flag, s, min, max, err)                                               \
    matrix_list_parse(l, flag, s, min, max, FB_ERR_BUF(err))
#define matrix_build(m, spec, requests, conc, conns, err)                                          \
    matrix_build(m, spec, requests, conc, conns, FB_ERR_BUF(err))
#define cmdline_parse(o, argc, argv, out, err) cmdline_parse(o, argc, argv, out, FB_ERR_BUF(err))
#define agents_file_load(path, l, err) agents_file_load(path, l, FB_ERR_BUF(err))
#define embed_start(p, name, args, err) embed_start(p, name, args, FB_ERR_BUF(err))

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
