#!/usr/bin/env python3
"""A rogue agent for tests: speaks fleetbench's protocol (docs/protocol.md)
over ZeroMQ's wire (fbwire: ZMTP 3.0 and msgpack in the standard library),
and lies, floods or goes quiet on demand.

Honest by default: it welcomes, accepts any plan, answers prepare with ready
and go with a result that fits the plan (every request ok, 1 us each, a few
ms of wall time on this host's CLOCK_MONOTONIC, which the coordinator shares
when both claim this boot id).  Options make it misbehave:

  --lie FIELD=VALUE     a result field as given (ok, wall_ns, start_ns, bytes,
                        connections, user_ns, sys_ns, lat_min, lat_max,
                        lat_sum, bench, run, warmup, failed.N, buckets=[...]);
                        VALUE is a Python integer expression (2**64-1)
  --lie-from N          lie only from the N-th timed result on (0: the first)
  --welcome FIELD=HEX   a welcome text field as raw bytes (may be bad UTF-8)
  --no-result           heartbeat and answer, but never send a result
  --silent              bind and never say anything
  --busy                answer every hello with error 3 (busy)
  --drop-session-at N   at the N-th go, answer it with error 7 as a restarted
                        agent would ("no session here") and forget the session
  --freeze-after-ready S  after the first ready, read nothing for S seconds
  --flood N             after accept, N heartbeats, unasked readies and
                        results and another session's messages, at once
  --malformed-result    a result whose "ok" is a string
  --version V           speak protocol version V

It prints "rogue-agent: listening on tcp://HOST:PORT" when ready and logs
what it does on stderr.  It runs until SIGTERM/SIGINT (exit 0) or
--max-seconds.
"""

import argparse
import os
import signal
import sys
import time

import fbwire

T = dict(hello=1, welcome=2, plan=3, prepare=4, ready=5, go=6, result=7, heartbeat=8,
         abort=9, error=10, bye=11, accept=12, stats_req=13, stats=14)
PROTO_VERSION = 4  # proto/proto.h's PROTO_VERSION
NAMES = {v: k for k, v in T.items()}
FIELDS = ("bench", "run", "warmup", "start_ns", "wall_ns", "user_ns", "sys_ns", "ok", "bytes",
          "connections", "lat_min", "lat_max", "lat_sum")


def log(*args):
    print("rogue-agent:", *args, file=sys.stderr, flush=True)


def boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def integer(text):
    return int(eval(text, {"__builtins__": {}}, {}))  # test code: trusted arguments


class Rogue:
    def __init__(self, opts):
        self.o = opts
        host, port = opts.listen.rsplit(":", 1)
        self.server = fbwire.Server(host, int(port))
        self.endpoint = f"tcp://{self.server.host}:{self.server.port}"
        self.route = None
        self.session = None
        self.hb_ms = 1000
        self.last_sent = 0.0
        self.plan = None
        self.step = None
        self.pending = []    # (when, message): results due
        self.timed = 0       # timed results sent
        self.gos = 0
        self.frozen = False
        self.stop = False

    # -- wire --

    def send(self, t, route=None, session=None, **fields):
        m = {"v": self.o.version, "t": T[t], "s": self.session if session is None else session}
        m.update(fields)
        try:
            (route or self.route).send(fbwire.pack(m))
        except OSError as e:  # the coordinator went away
            log(f"send: {e}")
        self.last_sent = time.monotonic()

    def error(self, route, session, code, text):
        self.send("error", route=route, session=session, code=code, peer_version=self.o.version,
                  message=text)

    # -- what it says --

    def welcome(self):
        facts = dict(host="rogue", cpu="none", kernel="none", libcurl="0", libuv="0", libzmq="0",
                     version="rogue", boot_id=boot_id(), cores=os.cpu_count() or 1)
        for spec in self.o.welcome:
            key, _, hexval = spec.partition("=")
            facts[key] = bytes.fromhex(hexval)  # a msgpack str of these bytes, as they are
        self.send("welcome", **facts)

    def result(self, step, start, now):
        bench = self.plan["benches"][step["bench"]]
        n = bench["requests"]
        r = dict(bench=step["bench"], run=step["run"], warmup=step["warmup"], start_ns=start,
                 wall_ns=now - start, user_ns=1000, sys_ns=1000, ok=n, failed=[0] * 6,
                 bytes=100 * n, connections=min(n, bench["connections"]), lat_min=1000,
                 lat_max=1000, lat_sum=1000 * n, buckets=[0, n])
        if not step["warmup"]:
            if self.timed >= self.o.lie_from:
                for spec in self.o.lie:
                    key, _, val = spec.partition("=")
                    if key.startswith("failed."):
                        r["failed"][int(key[7:])] = integer(val)
                    elif key == "buckets":
                        r["buckets"] = [integer(v) for v in val.strip("[]").split(",") if v]
                    else:
                        r[key] = integer(val)
            self.timed += 1
        if self.o.malformed_result:
            r["ok"] = "ten"
        return r

    def flood(self):
        for i in range(self.o.flood):
            kind = i % 4
            if kind == 0:
                self.send("heartbeat", seq=i)
            elif kind == 1:
                self.send("ready", bench=0, run=1000 + i, warmup=0, clock_ns=time.monotonic_ns())
            elif kind == 2:
                step = dict(bench=0, run=1000 + i, warmup=0)
                now = time.monotonic_ns()
                self.send("result", **self.result(step, now - 1_000_000, now))
            else:
                self.send("heartbeat", session=(self.session + 1) % (1 << 64), seq=i)
        log(f"flooded {self.o.flood} messages")

    # -- what it hears --

    def on_message(self, route, data):
        try:
            m = fbwire.unpack(data)
            t, s = m["t"], m["s"]
        except Exception as e:  # noqa: BLE001 - a rogue does not care why
            log(f"undecodable message: {e}")
            return
        name = NAMES.get(t, str(t))
        if name == "hello":
            if self.o.busy:
                self.error(route, s, 3, "rogue agent is always busy")
                return
            self.route, self.session, self.hb_ms = route, s, m["heartbeat_ms"]
            self.plan = self.step = None
            self.pending = []
            log(f"session {s:016x} opened")
            self.welcome()
            return
        if s != self.session:
            if name not in ("error", "bye"):
                self.error(route, s, 7, f"no session {s:016x} here: send hello first")
            return
        self.route = route
        if name == "stats_req":  # no target of its own to read: no view, as a third-party one
            self.send("stats", phase=m["phase"], status=1, requests=0, codes=[0] * 5, dropped=0,
                      connections=0, cpu_ns=0, wall_ns=0, busy_ns=0, busy_max_ns=0, loops=0,
                      cores=0, detail="rogue agent: no view")
            return
        if name == "plan":
            self.plan = m
            self.send("accept")
            if self.o.flood:
                self.flood()
        elif name == "prepare":
            self.step = dict(bench=m["bench"], run=m["run"], warmup=m["warmup"])
            self.send("ready", **self.step, clock_ns=time.monotonic_ns())
            if self.o.freeze_after_ready and not self.frozen:
                self.frozen = True
                log(f"frozen for {self.o.freeze_after_ready} s")
                time.sleep(self.o.freeze_after_ready)
        elif name == "go":
            self.gos += 1
            if self.o.drop_session_at and self.gos == self.o.drop_session_at:
                log("dropping the session as a restarted agent would")
                self.error(route, s, 7, f"no session {s:016x} here: send hello first")
                self.session = None
                return
            if self.o.no_result:
                log("go: no result will come")
                return
            start = time.monotonic_ns()
            self.pending.append((time.monotonic() + self.o.run_ms / 1000.0,
                                 dict(self.step), start))
        elif name == "heartbeat":
            self.send("heartbeat", seq=m["seq"])
        elif name in ("abort", "bye"):
            log(f"session {s:016x} ended: {name}")
            self.session = None
            self.pending = []

    def due(self):
        now = time.monotonic()
        for item in [p for p in self.pending if p[0] <= now]:
            self.pending.remove(item)
            _, step, start = item
            r = self.result(step, start, time.monotonic_ns())
            self.send("result", **r)
        if self.session is not None and now - self.last_sent >= self.hb_ms / 1000.0:
            self.send("heartbeat", seq=int(now * 1000))

    def serve(self):
        deadline = time.monotonic() + self.o.max_seconds
        while not self.stop and time.monotonic() < deadline:
            for route, frames in self.server.poll(0.005):
                if not self.o.silent:
                    self.on_message(route, frames[-1])
            if not self.o.silent:
                self.due()
        self.server.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--lie", action="append", default=[])
    p.add_argument("--lie-from", type=int, default=0)
    p.add_argument("--welcome", action="append", default=[])
    p.add_argument("--no-result", action="store_true")
    p.add_argument("--silent", action="store_true")
    p.add_argument("--busy", action="store_true")
    p.add_argument("--drop-session-at", type=int, default=0)
    p.add_argument("--freeze-after-ready", type=float, default=0)
    p.add_argument("--flood", type=int, default=0)
    p.add_argument("--malformed-result", action="store_true")
    p.add_argument("--version", type=int, default=PROTO_VERSION)
    p.add_argument("--run-ms", type=float, default=3.0)
    p.add_argument("--max-seconds", type=float, default=300.0)
    opts = p.parse_args()
    rogue = Rogue(opts)

    def on_signal(sig, frame):
        rogue.stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"rogue-agent: listening on {rogue.endpoint}", flush=True)
    rogue.serve()


if __name__ == "__main__":
    main()
