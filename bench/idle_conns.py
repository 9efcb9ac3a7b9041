#!/usr/bin/env python3
"""Open N idle keep-alive TCP connections to HOST:PORT and hold them.

Used by bench/server-vs-nginx.sh to measure a server's memory per idle
connection. Python 3 standard library only.

  idle_conns.py --host 127.0.0.1 --port 8080 -n 10000 [--request] [--hold 120]

Steps: raises RLIMIT_NOFILE, connects N sockets (blocking, with a timeout),
optionally sends one keep-alive request on each and reads every response, then
prints "idle_conns: open N" and holds the connections until SIGTERM/SIGINT,
a line (or EOF) on stdin with --stdin, or --hold seconds. Before closing it
checks how many connections the server closed meanwhile and prints
"idle_conns: closed N (still open at close: M)". Exit status 0 when every
connection was opened (and answered), 1 otherwise, 2 on usage errors.
"""

import argparse
import os
import resource
import selectors
import signal
import socket
import sys
import time


def log(msg):
    print(f"idle_conns: {msg}", flush=True)


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    if hard != resource.RLIM_INFINITY and hard < want:
        try:  # root may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            want = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def open_all(host, port, n, timeout, deadline):
    socks = []
    for _ in range(n):
        if time.monotonic() > deadline:
            log(f"connect phase timed out after {len(socks)} connections")
            break
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((host, port))
        except OSError as e:
            s.close()
            log(f"connect #{len(socks) + 1} failed: {e}")
            break
        s.setblocking(False)
        socks.append(s)
    return socks


def request_all(socks, host, port, path, deadline):
    """Sends one GET on every socket, reads each response; returns answered."""
    req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        try:
            s.send(req)  # tiny: fits the empty socket buffer in one go
        except OSError as e:
            log(f"send failed: {e}")
            continue
        bufs[s] = b""
        sel.register(s, selectors.EVENT_READ)
    answered, bad = 0, 0
    while bufs and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                bad += 1
                sel.unregister(s)
                del bufs[s]
                continue
            buf = bufs[s] + data
            head, sep, body = buf.partition(b"\r\n\r\n")
            if not sep:
                bufs[s] = buf
                continue
            clen = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    clen = int(value.strip() or 0)
            if len(body) < clen:
                bufs[s] = buf
                continue
            if not head.startswith(b"HTTP/1.1 200"):
                bad += 1
            else:
                answered += 1
            sel.unregister(s)
            del bufs[s]
    sel.close()
    if bufs:
        log(f"{len(bufs)} responses did not arrive in time")
    if bad:
        log(f"{bad} connections closed or answered non-200")
    return answered


def count_alive(socks):
    """Connections the peer has not closed (no EOF/RST pending)."""
    alive = 0
    for s in socks:
        try:
            data = s.recv(1, socket.MSG_PEEK)
            if data:
                alive += 1  # unexpected bytes, but still open
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    return alive


def main():
    ap = argparse.ArgumentParser(
        description="Open N idle keep-alive connections and hold them.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", "--connections", type=int, default=10000)
    ap.add_argument("--request", action="store_true",
                    help="send one keep-alive GET on each connection first")
    ap.add_argument("--path", default="/multiply?number=7",
                    help="request target for --request (default %(default)s)")
    ap.add_argument("--hold", type=float, default=120.0,
                    help="seconds to hold at most (default %(default)s)")
    ap.add_argument("--stdin", action="store_true",
                    help="also stop holding on a line or EOF on stdin")
    ap.add_argument("--setup-timeout", type=float, default=60.0,
                    help="seconds for connecting and requests (default %(default)s)")
    ap.add_argument("--connect-timeout", type=float, default=5.0)
    a = ap.parse_args()
    if a.connections < 1 or not 0 < a.port < 65536:
        ap.error("need --connections >= 1 and a valid --port")

    # Signals become a polite stop from here on (sigtimedwait below).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    limit = raise_nofile(a.connections + 64)
    if limit < a.connections + 16:
        log(f"RLIMIT_NOFILE is {limit}, too low for {a.connections} connections")
        return 1

    t0 = time.monotonic()
    deadline = t0 + a.setup_timeout
    socks = open_all(a.host, a.port, a.connections, a.connect_timeout, deadline)
    ok = len(socks) == a.connections
    if a.request and socks:
        answered = request_all(socks, a.host, a.port, a.path, deadline)
        log(f"answered {answered}/{len(socks)}")
        ok = ok and answered == len(socks)
    alive = count_alive(socks)
    log(f"open {alive} (of {a.connections} wanted) in {time.monotonic() - t0:.2f}s")
    ok = ok and alive == a.connections

    end = time.monotonic() + a.hold
    why = "hold timeout"
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        if a.stdin:
            r = selectors.DefaultSelector()
            r.register(sys.stdin, selectors.EVENT_READ)
            got = r.select(timeout=min(left, 0.2))
            r.close()
            if got:
                sys.stdin.readline()
                why = "stdin"
                break
            sig = signal.sigtimedwait({signal.SIGTERM, signal.SIGINT}, 0)
        else:
            sig = signal.sigtimedwait({signal.SIGTERM, signal.SIGINT}, min(left, 1.0))
        if sig is not None:
            why = signal.Signals(sig.si_signo).name
            break

    alive = count_alive(socks)
    for s in socks:
        s.close()
    log(f"closed {len(socks)} on {why} (still open at close: {alive})")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        os._exit(1)
