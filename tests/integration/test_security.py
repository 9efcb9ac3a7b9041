"""Security and hostile input: keys, --allow-target, junk on the agent's port.

Real processes on 127.0.0.x: a target-server, an agent daemon, coordinators
that run to completion, and hostile peers:

* CURVE keys: the right coordinator key gets in; an unknown key, no key, a
  wrong agent key in known-agents and an agent missing from known-agents
  are refused (exit 5), a secret key others may read is refused (exit 1),
  keygen never overwrites, and --key without its partner file is a usage
  error.  After every refusal the agent still serves the right coordinator.
* --allow-target: a plan for another target is refused (exit 1), the
  allowed one runs.
* Junk on the agent's port: raw TCP (random bytes, HTTP, a ZMTP greeting
  then garbage, a ZMTP frame claiming exabytes, silent connections) and,
  through a real ZeroMQ DEALER (tests/hostile/zmq_junk, FB_ZMQ_JUNK),
  malformed messages: every one that reaches the agent is answered with an
  ERROR (decoded here by an independent msgpack reader) and logged; an
  oversized one makes libzmq drop the connection.  Afterwards the agent is
  alive, has no sanitizer report, and serves a normal coordinator run.
* A second coordinator (and a stranger's hello) while a session is open
  gets "busy"; the first session is unaffected.

Every wait has a deadline scaled by fbtest.SLOW; every process is stopped
at the end of its test and must exit 0 on SIGTERM without a sanitizer report.
"""

import os
import random
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import time
import unittest

import fbtest

READY_SERVER = r"^target-server: listening on http://\S+:(?P<port>\d+) "
READY_AGENT = r"^agent: listening on tcp://[0-9.]+:(?P<port>\d+)\s*$"

HB_MS = 100
LIVE_MS = int(1000 * fbtest.SLOW)
COORD_TIMEOUT = 60.0
JUNK_TIMEOUT_MS = int(3000 * fbtest.SLOW)

PROTO_VERSION = 4
OTHER_VERSION = PROTO_VERSION + 1  # a version this build does not speak
T_HELLO, T_PLAN, T_HEARTBEAT, T_ABORT, T_ERROR, T_BYE = 1, 3, 8, 9, 10, 11
E_BAD, E_VERSION, E_BUSY, E_STATE = 1, 2, 3, 7
MAX_MSG = 256 * 1024


def junk_binary():
    path = os.environ.get("FB_ZMQ_JUNK") or os.path.join(fbtest.BIN_DIR, "tests", "zmq_junk")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise FileNotFoundError(f"zmq_junk not found at {path} (FB_ZMQ_JUNK; build it first)")
    return path


# ---- msgpack, independently of proto/ ------------------------------------------

class Raw(bytes):
    """Bytes put into a packed message as they are (a hand-made msgpack object)."""


def pack(o):
    """msgpack encoding of None, bool, int, float, str, bytes, list, dict and Raw."""
    if isinstance(o, Raw):
        return bytes(o)
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 0x80:
            return bytes([o])
        if -32 <= o < 0:
            return struct.pack("b", o)
        if o >= 0:
            for code, fmt, lim in ((0xcc, ">B", 1 << 8), (0xcd, ">H", 1 << 16),
                                   (0xce, ">I", 1 << 32), (0xcf, ">Q", 1 << 64)):
                if o < lim:
                    return bytes([code]) + struct.pack(fmt, o)
            raise ValueError(o)
        for code, fmt, lim in ((0xd0, ">b", 1 << 7), (0xd1, ">h", 1 << 15),
                               (0xd2, ">i", 1 << 31), (0xd3, ">q", 1 << 63)):
            if o >= -lim:
                return bytes([code]) + struct.pack(fmt, o)
        raise ValueError(o)
    if isinstance(o, float):
        return b"\xcb" + struct.pack(">d", o)
    if isinstance(o, str):
        b = o.encode()
        n = len(b)
        head = (bytes([0xa0 | n]) if n < 32 else b"\xd9" + struct.pack(">B", n) if n < 256
                else b"\xda" + struct.pack(">H", n) if n < 65536 else b"\xdb" + struct.pack(">I", n))
        return head + b
    if isinstance(o, (bytes, bytearray)):
        n = len(o)
        head = (b"\xc4" + struct.pack(">B", n) if n < 256 else b"\xc5" + struct.pack(">H", n)
                if n < 65536 else b"\xc6" + struct.pack(">I", n))
        return head + bytes(o)
    if isinstance(o, (list, tuple)):
        n = len(o)
        head = (bytes([0x90 | n]) if n < 16 else b"\xdc" + struct.pack(">H", n) if n < 65536
                else b"\xdd" + struct.pack(">I", n))
        return head + b"".join(pack(x) for x in o)
    if isinstance(o, dict):
        return pack_pairs(list(o.items()))
    raise TypeError(type(o))


def pack_pairs(pairs):
    """A map from (key, value) pairs, so that a key may be given twice."""
    n = len(pairs)
    head = (bytes([0x80 | n]) if n < 16 else b"\xde" + struct.pack(">H", n) if n < 65536
            else b"\xdf" + struct.pack(">I", n))
    return head + b"".join(pack(k) + pack(v) for k, v in pairs)


class Unpacker:
    """A strict msgpack reader for the agent's replies (maps, strings, ints...)."""

    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError(f"truncated at {self.pos} (+{n}) of {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")

    def obj(self, depth=0):
        if depth > 32:
            raise ValueError("too deep")
        b = self.take(1)[0]
        if b < 0x80:
            return b
        if b >= 0xe0:
            return b - 0x100
        if 0x80 <= b <= 0x8f:
            return self.map(b & 0x0f, depth)
        if 0x90 <= b <= 0x9f:
            return [self.obj(depth + 1) for _ in range(b & 0x0f)]
        if 0xa0 <= b <= 0xbf:
            return self.take(b & 0x1f).decode()
        simple = {0xc0: None, 0xc2: False, 0xc3: True}
        if b in simple:
            return simple[b]
        if b in (0xcc, 0xcd, 0xce, 0xcf):
            return self.uint(1 << (b - 0xcc))
        if b in (0xd0, 0xd1, 0xd2, 0xd3):
            n = 1 << (b - 0xd0)
            return int.from_bytes(self.take(n), "big", signed=True)
        if b in (0xd9, 0xda, 0xdb):
            return self.take(self.uint(1 << (b - 0xd9))).decode()
        if b in (0xc4, 0xc5, 0xc6):
            return self.take(self.uint(1 << (b - 0xc4)))
        if b == 0xca:
            return struct.unpack(">f", self.take(4))[0]
        if b == 0xcb:
            return struct.unpack(">d", self.take(8))[0]
        if b in (0xdc, 0xdd):
            return [self.obj(depth + 1) for _ in range(self.uint(2 if b == 0xdc else 4))]
        if b in (0xde, 0xdf):
            return self.map(self.uint(2 if b == 0xde else 4), depth)
        raise ValueError(f"unexpected msgpack byte {b:#x} at {self.pos - 1}")

    def map(self, n, depth):
        out = {}
        for _ in range(n):
            k = self.obj(depth + 1)
            if k in out:
                raise ValueError(f"key {k!r} given twice")
            out[k] = self.obj(depth + 1)
        return out


def unpack(data):
    u = Unpacker(data)
    o = u.obj()
    if u.pos != len(data):
        raise ValueError(f"{len(data) - u.pos} trailing bytes")
    return o


def message(t, v=PROTO_VERSION, s=0, **fields):
    """A message map: v, t, s, then `fields`."""
    return pack({"v": v, "t": t, "s": s, **fields})


def hello(v=PROTO_VERSION, s=0x5ec, **over):
    fields = {"heartbeat_ms": HB_MS, "liveness_ms": LIVE_MS, "name": "junk"}
    fields.update(over)
    return message(T_HELLO, v=v, s=s, **fields)


def nested(depth, leaf=None):
    """`depth` one-element arrays around `leaf`."""
    return Raw(b"\x91" * depth + pack(leaf))


# ---- the hostile ZeroMQ peer --------------------------------------------------

class JunkReply:
    def __init__(self, frames):
        self.frames = frames  # [bytes]
        self.decoded = None   # the helper's proto_decode line, if any
        self.map = None       # our own reading of a one-frame reply
        self.error = None
        if len(frames) == 1:
            try:
                self.map = unpack(frames[0])
            except (ValueError, UnicodeDecodeError) as e:
                self.error = str(e)

    def __repr__(self):
        return f"<reply {self.map if self.map is not None else self.frames!r} {self.decoded}>"


class JunkResult:
    """What zmq_junk printed, per message."""

    def __init__(self, argv, status, out, err):
        self.argv, self.status, self.out, self.err = argv, status, out, err
        self.sent, self.replies, self.timeouts, self.events = {}, {}, set(), {}
        for line in out.splitlines():
            m = re.match(r"msg (\d+): (\S+) ?(.*)$", line)
            if not m:
                continue
            i, what, rest = int(m.group(1)), m.group(2), m.group(3)
            if what == "sent":
                self.sent[i] = rest
            elif what == "reply":
                frames = [bytes.fromhex(h) for h in rest.split("+")] if rest else [b""]
                self.replies.setdefault(i, []).append(JunkReply(frames))
            elif what == "decoded" and self.replies.get(i):
                self.replies[i][-1].decoded = rest
            elif what == "timeout":
                self.timeouts.add(i)
            elif what == "event":
                self.events.setdefault(i, []).append(rest)

    def describe(self):
        cmd = " ".join(a if len(a) < 200 else a[:200] + "..." for a in self.argv)
        return f"$ {cmd}\nexit {self.status}\n--- stdout ---\n{self.out[-6000:]}\n" \
               f"--- stderr ---\n{self.err[-3000:]}"


def hexarg(msg):
    """One MESSAGE argument of zmq_junk: bytes, or a list of frames."""
    frames = msg if isinstance(msg, list) else [msg]
    return "+".join(f.hex() for f in frames)


# ---- test base ------------------------------------------------------------------

class Run:
    def __init__(self, argv, status, out, err, doc):
        self.argv, self.status, self.out, self.err, self.json = argv, status, out, err, doc

    def describe(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.status}\n--- stdout ---\n"
                f"{self.out[-2000:]}\n--- stderr ---\n{self.err[-3000:]}")


class SecurityCase(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbsec-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.runs = 0

    def path(self, name):
        return os.path.join(self.dir, name)

    # -- processes --

    def target(self, *extra, host=None):
        """A target-server; returns (Process, host, port)."""
        host = host or self.host
        proc, port = self.start("target-server", ["--host", host, "--port", "0",
                                                  "--threads", "1", *extra], READY_SERVER)
        return proc, host, port

    def agent(self, *extra, host=None):
        """An agent daemon on HOST:0; returns (Process, host, port)."""
        host = host or fbtest.next_host()
        proc, port = self.start("agent", ["--listen", f"{host}:0", *extra], READY_AGENT)
        return proc, host, port

    def spawn_coordinator(self, agent, target, *extra, liveness=LIVE_MS):
        """Starts a coordinator for agent (host, port) and target (host, port);
        returns (Process, json path)."""
        self.runs += 1
        json_path = self.path(f"results-{self.runs}.json")
        argv = [fbtest.binary("coordinator"), "--agents", f"{agent[0]}:{agent[1]}",
                "--target", f"{target[0]}:{target[1]}", "--matrix", "async-for",
                "-r", "10", "--runs", "2", "-w", "0", "--heartbeat", str(HB_MS),
                "--liveness", str(liveness), "--export-json", json_path, *extra]
        return fbtest.spawn_process(self, argv, cwd=self.dir), json_path

    def finish(self, proc, json_path, timeout=COORD_TIMEOUT):
        status, out, err, doc = fbtest.finish_process(self, proc, timeout, json_path)
        return Run(proc.argv, status, out, err, doc)

    def coordinator(self, agent, target, *extra, **kw):
        proc, json_path = self.spawn_coordinator(agent, target, *extra, **kw)
        return self.finish(proc, json_path)

    def assert_exit(self, run, code, message=None):
        self.assertEqual(run.status, code, f"expected exit {code}\n{run.describe()}")
        if message:
            self.assertIn(message, run.err, run.describe())

    def assert_served(self, agent_proc, agent, target, *extra, runs=2):
        """A normal coordinator run through this agent succeeds."""
        self.assertTrue(agent_proc.alive(), f"the agent died; stderr:\n{agent_proc.stderr()[-4000:]}")
        fbtest.check_no_sanitizer_report(self, agent_proc)
        run = self.coordinator(agent, target, *extra)
        self.assert_exit(run, 0)
        self.assertIsNotNone(run.json, f"no JSON export\n{run.describe()}")
        results = run.json["results"]
        self.assertEqual(len(results), 1, run.describe())
        self.assertEqual(len(results[0]["times"]), runs, results[0])
        self.assertEqual(results[0]["exit_codes"], [0] * runs, results[0])
        self.assertTrue(agent_proc.alive(), f"the agent died; stderr:\n{agent_proc.stderr()[-4000:]}")
        return run

    # -- keys --

    def keygen(self, program, prefix):
        status, out, err = self.run_binary(program, ["keygen", self.path(prefix)])
        self.assertEqual(status, 0, f"{program} keygen: {out}{err}")
        return self.path(prefix + ".key"), self.read_pub(prefix)

    def read_pub(self, prefix):
        with open(self.path(prefix + ".pub")) as f:
            return f.read().strip()

    def write(self, name, text, mode=0o644):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    # -- the hostile ZeroMQ peer --

    def junk(self, agent, *messages, replies=1, timeout_ms=JUNK_TIMEOUT_MS, opts=()):
        """Sends `messages` (bytes, or lists of frames) through zmq_junk's DEALER.

        A message given as ("@", bytes) goes through a file (large ones)."""
        args = []
        for i, msg in enumerate(messages):
            if isinstance(msg, tuple) and msg[0] == "@":
                path = self.path(f"junk-{time.monotonic_ns()}-{i}.bin")
                with open(path, "wb") as f:
                    f.write(msg[1])
                args.append("@" + path)
            else:
                args.append(hexarg(msg))
        return self.junk_args(args, addr=agent, timeout_ms=timeout_ms,
                              opts=("-r", str(replies), *opts),
                              budget=len(messages) * max(replies, 1) * timeout_ms / 1000.0)

    def junk_args(self, args, addr=None, timeout_ms=JUNK_TIMEOUT_MS, opts=(), budget=None):
        """Runs zmq_junk with MESSAGE arguments ("N:HEX" waits for N replies); returns
        its JunkResult.  Fails on a usage error or a sanitizer report."""
        addr = addr or self.agent_addr
        argv = [junk_binary(), "-t", str(timeout_ms), *opts, f"tcp://{addr[0]}:{addr[1]}", *args]
        if budget is None:
            budget = len(args) * timeout_ms / 1000.0
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                env=fbtest.sanitizer_env(), timeout=20 * fbtest.SLOW + budget)
        res = JunkResult(argv, result.returncode, result.stdout.decode(errors="replace"),
                         result.stderr.decode(errors="replace"))
        marker = fbtest.sanitizer_report(res.err)
        if marker:
            self.fail(f"zmq_junk reported '{marker}'\n{res.describe()}")
        self.assertIn(res.status, (0, 2), res.describe())
        return res

    def assert_error_reply(self, res, i, code, what, session=None):
        """Message i was answered by exactly one ERROR with `code` (and, unless
        `session` is None, that session id: the message's own once its header
        decoded, else 0)."""
        ctx = f"message {i} ({what})\n{res.describe()}"
        got = res.replies.get(i)
        self.assertTrue(got, f"no reply to {ctx}")
        self.assertEqual(len(got), 1, ctx)
        reply = got[0]
        self.assertEqual(len(reply.frames), 1, f"reply of several frames: {ctx}")
        self.assertIsNone(reply.error, f"reply is not msgpack ({reply.error}): {ctx}")
        m = reply.map
        self.assertIsInstance(m, dict, f"reply is not a map: {ctx}")
        self.assertEqual(m.get("v"), PROTO_VERSION, ctx)
        self.assertEqual(m.get("t"), T_ERROR, ctx)
        self.assertIsInstance(m.get("s"), int, ctx)
        if session is not None:
            self.assertEqual(m["s"], session, ctx)
        self.assertEqual(m.get("code"), code, f"{m}: {ctx}")
        self.assertEqual(m.get("peer_version"), PROTO_VERSION, ctx)
        self.assertIsInstance(m.get("message"), str, ctx)
        self.assertTrue(m["message"], ctx)
        # proto_decode (in the helper) reads it the same way
        self.assertIsNotNone(reply.decoded, ctx)
        self.assertIn(f"t=10 (error)", reply.decoded, ctx)
        self.assertIn(f"code={code} ", reply.decoded, ctx)
        return m

    def refusals(self, agent_proc):
        return len(re.findall(r"^agent: refused a (?:bad )?message", agent_proc.stderr(), re.M))


# ---- 1. keys ----------------------------------------------------------------------

class KeyTests(SecurityCase):
    """CURVE: who gets in, who is refused, and the agent keeps serving."""

    def setUp(self):
        super().setUp()
        self.agent_key, self.agent_pub = self.keygen("agent", "agent")
        self.coord_key, self.coord_pub = self.keygen("coordinator", "coord")
        self.other_key, self.other_pub = self.keygen("coordinator", "other")
        _, self.agent2_pub = self.keygen("agent", "agent2")
        self.authorized = self.write("authorized", f"# coordinators\n{self.coord_pub}\n\n")

    def keyed_agent(self):
        proc, host, port = self.agent("--key", self.agent_key, "--authorized-keys", self.authorized)
        known = self.write("known", f"{host}:{port} {self.agent_pub}\n")
        return proc, (host, port), known

    def test_keygen_files(self):
        for prefix in ("agent", "coord"):
            key, pub = self.path(prefix + ".key"), self.path(prefix + ".pub")
            self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600, key)
            self.assertEqual(stat.S_IMODE(os.stat(pub).st_mode) & 0o022, 0, pub)
            for path in (key, pub):
                with open(path) as f:
                    text = f.read()
                self.assertRegex(text, r"^[0-9A-Za-z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}\n$", path)
        self.assertNotEqual(self.agent_pub, self.coord_pub)

    def test_keygen_refuses_to_overwrite(self):
        for program, prefix in (("agent", "agent"), ("coordinator", "coord")):
            before = {}
            for ext in (".key", ".pub"):
                with open(self.path(prefix + ext)) as f:
                    before[ext] = f.read()
            status, out, err = self.run_binary(program, ["keygen", self.path(prefix)])
            self.assertEqual(status, 1, f"{program} keygen over existing files: {out}{err}")
            self.assertRegex(err, r"(?i)exists", err)
            for ext in (".key", ".pub"):
                with open(self.path(prefix + ext)) as f:
                    self.assertEqual(f.read(), before[ext], f"{program} keygen rewrote {ext}")
            self.assertEqual(stat.S_IMODE(os.stat(self.path(prefix + ".key")).st_mode), 0o600)

    def test_keygen_refuses_when_only_the_public_key_exists(self):
        for program in ("agent", "coordinator"):
            prefix = f"half-{program}"
            self.write(prefix + ".pub", self.agent_pub + "\n")
            status, out, err = self.run_binary(program, ["keygen", self.path(prefix)])
            self.assertEqual(status, 1, f"{program} keygen: {out}{err}")
            # refusing must leave nothing behind: a new secret key next to an
            # old public key is a pair that does not match
            self.assertFalse(os.path.exists(self.path(prefix + ".key")),
                             f"{program} keygen left {prefix}.key behind while refusing")

    def test_key_options_go_together(self):
        status, _, err = self.run_binary("agent", ["--listen", f"{self.host}:0",
                                                   "--key", self.agent_key])
        self.assertEqual(status, 1, err)
        self.assertIn("--authorized-keys", err)
        status, _, err = self.run_binary("agent", ["--listen", f"{self.host}:0",
                                                   "--authorized-keys", self.authorized])
        self.assertEqual(status, 1, err)
        self.assertIn("--key", err)
        known = self.write("known", f"{self.host} {self.agent_pub}\n")
        for extra in (["--key", self.coord_key], ["--known-agents", known]):
            status, _, err = self.run_binary("coordinator", [
                "--agents", f"{self.host}:5555", "--target", f"{self.host}:8080", *extra])
            self.assertEqual(status, 1, f"{extra}: {err}")
            self.assertIn("--known-agents", err)

    def test_non_loopback_listen_needs_keys_or_insecure(self):
        # only the refusal is checked: nothing here binds a non-loopback address
        for addr in ("0.0.0.0:0", "192.0.2.1:0", "10.1.2.3:5555"):
            status, out, err = self.run_binary("agent", ["--listen", addr])
            self.assertEqual(status, 1, f"--listen {addr}: {out}{err}")
            self.assertIn("--insecure", err)
            self.assertNotIn("listening", out)

    def test_bad_key_files(self):
        """Unreadable, world-readable or malformed key files stop the program (exit 1)."""
        loose = self.path("loose.key")
        shutil.copy(self.coord_key, loose)
        os.chmod(loose, 0o644)
        status, _, err = self.run_binary("agent", ["--listen", f"{self.host}:0",
                                                   "--key", loose, "--authorized-keys",
                                                   self.authorized])
        self.assertEqual(status, 1, err)
        self.assertIn("chmod 600", err)
        bad_lines = self.write("bad_auth", "not a key\n")
        status, _, err = self.run_binary("agent", ["--listen", f"{self.host}:0",
                                                   "--key", self.agent_key, "--authorized-keys",
                                                   bad_lines])
        self.assertEqual(status, 1, err)
        self.assertIn("line 1", err)
        missing = self.path("missing.key")
        status, _, err = self.run_binary("agent", ["--listen", f"{self.host}:0",
                                                   "--key", missing, "--authorized-keys",
                                                   self.authorized])
        self.assertEqual(status, 1, err)
        garbage = self.write("garbage.key", "," * 40 + "\n", 0o600)  # ',' is not Z85
        status, _, err = self.run_binary("agent", ["--listen", f"{self.host}:0",
                                                   "--key", garbage, "--authorized-keys",
                                                   self.authorized])
        self.assertEqual(status, 1, err)
        self.assertIn("not a fleetbench key", err)

    def test_who_gets_in(self):
        _, th, tp = self.target()
        target = (th, tp)
        agent_proc, agent, known = self.keyed_agent()
        right = ("--key", self.coord_key, "--known-agents", known)

        # the right key gets in
        self.assert_served(agent_proc, agent, target, *right)

        # an unknown coordinator key: the agent's ZAP handler says no
        run = self.coordinator(agent, target, "--key", self.other_key, "--known-agents", known)
        self.assert_exit(run, 5, "authentication failed: it does not accept our key")
        self.assertIsNotNone(fbtest.wait_for_stderr(
            agent_proc, r"agent: refused a coordinator whose key is not in " +
            re.escape(self.authorized), 5 * fbtest.SLOW), agent_proc.stderr())
        self.assert_served(agent_proc, agent, target, *right)

        # no key at all against a keyed agent
        run = self.coordinator(agent, target)
        self.assert_exit(run, 5, "secure handshake failed")
        self.assert_served(agent_proc, agent, target, *right)

        # known-agents lists another key for this agent (a man in the middle)
        wrong = self.write("known_wrong", f"{agent[0]} {self.agent2_pub}\n")
        run = self.coordinator(agent, target, "--key", self.coord_key, "--known-agents", wrong)
        self.assert_exit(run, 5, "secure handshake failed")
        self.assert_served(agent_proc, agent, target, *right)

        # known-agents lists this host on another port only: not this agent
        other_port = self.write("known_port",
                                f"{agent[0]}:{agent[1] % 60000 + 1} {self.agent_pub}\n")
        run = self.coordinator(agent, target, "--key", self.coord_key, "--known-agents", other_port)
        self.assert_exit(run, 5, f"is not in {other_port}: refusing to talk to it")

        # a secret key others may read
        loose = self.path("loose.key")
        shutil.copy(self.coord_key, loose)
        os.chmod(loose, 0o644)
        run = self.coordinator(agent, target, "--key", loose, "--known-agents", known)
        self.assert_exit(run, 1, "chmod 600")
        self.assert_served(agent_proc, agent, target, *right)

        # every session the agent opened was the right coordinator's
        opened = re.findall(r"session \S+ opened", agent_proc.stderr())
        self.assertEqual(len(opened), 5, agent_proc.stderr())

    def test_agent_not_in_known_agents(self):
        """Refused before any connection: nothing listens at that address."""
        known = self.write("known", f"127.0.0.1:1 {self.agent_pub}\n")
        port = fbtest.unused_port(self.host)
        started = time.monotonic()
        run = self.coordinator((self.host, port), (self.host, 8080),
                               "--key", self.coord_key, "--known-agents", known)
        self.assert_exit(run, 5, f"agent {self.host}:{port} is not in {known}: refusing to talk")
        self.assertLess(time.monotonic() - started, 10 * fbtest.SLOW)

    def test_keyed_coordinator_unkeyed_agent(self):
        _, th, tp = self.target()
        agent_proc, ah, ap = self.agent()
        known = self.write("known", f"{ah}:{ap} {self.agent_pub}\n")
        run = self.coordinator((ah, ap), (th, tp), "--key", self.coord_key, "--known-agents", known)
        self.assert_exit(run, 5, "secure handshake failed")
        self.assert_served(agent_proc, (ah, ap), (th, tp))

    def test_junk_through_curve(self):
        """Strangers never reach the decoder; an authorized peer's junk is answered."""
        _, th, tp = self.target()
        agent_proc, agent, known = self.keyed_agent()
        right = ("--key", self.coord_key, "--known-agents", known)
        # no CURVE at all: the handshake fails, nothing is answered
        res = self.junk(agent, b"\xc1", hello(), timeout_ms=int(1000 * fbtest.SLOW))
        self.assertEqual(res.replies, {}, res.describe())
        # an unknown key: refused by the ZAP handler, logged
        res = self.junk(agent, hello(), timeout_ms=int(1000 * fbtest.SLOW),
                        opts=("-k", self.other_key, "-s", self.agent_pub))
        self.assertEqual(res.replies, {}, res.describe())
        self.assertIsNotNone(fbtest.wait_for_stderr(
            agent_proc, r"refused a coordinator whose key", 5 * fbtest.SLOW))
        # the authorized key: junk gets a bad-message ERROR
        res = self.junk(agent, b"\xc1", hello(v=OTHER_VERSION),
                        opts=("-k", self.coord_key, "-s", self.agent_pub))
        self.assertEqual(res.status, 0, res.describe())
        self.assert_error_reply(res, 0, E_BAD, "0xc1 through CURVE")
        self.assert_error_reply(res, 1, E_VERSION, "other-version hello through CURVE")
        self.assert_served(agent_proc, agent, (th, tp), *right)


# ---- 2. --allow-target ---------------------------------------------------------------

class AllowTargetTests(SecurityCase):
    def test_allow_target(self):
        _, th, tp = self.target()
        _, oh, op = self.target(host=fbtest.next_host())
        agent_proc, ah, ap = self.agent("--allow-target", f"{th}:{tp}")
        # the allowed host on another port
        run = self.coordinator((ah, ap), (th, op if op != tp else tp + 1))
        self.assert_exit(run, 1, "not in this agent's --allow-target")
        # another host
        run = self.coordinator((ah, ap), (oh, op))
        self.assert_exit(run, 1, "not in this agent's --allow-target")
        self.assertIn(f"{oh}:{op}", run.err)
        self.assert_served(agent_proc, (ah, ap), (th, tp))
        self.assertEqual(len(re.findall(r"session \S+ opened", agent_proc.stderr())), 3)

    def test_allow_target_host_only_and_list(self):
        _, th, tp = self.target()
        _, oh, op = self.target(host=fbtest.next_host())
        agent_proc, ah, ap = self.agent("--allow-target", f"192.0.2.7:80,{th}")
        self.assert_served(agent_proc, (ah, ap), (th, tp))  # any port of an allowed host
        run = self.coordinator((ah, ap), (oh, op))
        self.assert_exit(run, 1, "not in this agent's --allow-target")
        self.assert_served(agent_proc, (ah, ap), (th, tp))

    def test_allow_target_bad_values(self):
        for bad in ("host:99999", "host:x", "host:-1"):
            status, _, err = self.run_binary("agent", ["--listen", f"{self.host}:0",
                                                       "--allow-target", bad], timeout=5)
            self.assertEqual(status, 1, f"--allow-target {bad!r}: {err}")
            self.assertIn("--allow-target", err)

    def test_allow_target_empty_list_is_refused(self):
        """`--allow-target ""` (say, an unset shell variable) must not mean
        "any target": the agent refuses to start, or loads no target."""
        _, th, tp = self.target()
        for empty in ("", ","):
            proc = subprocess.Popen([fbtest.binary("agent"), "--listen", f"{self.host}:0",
                                     "--allow-target", empty], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=fbtest.sanitizer_env())
            try:
                status = proc.wait(2 * fbtest.SLOW)
            except subprocess.TimeoutExpired:
                status = None
            if status is None:  # it started: does it load any target?
                line = proc.stdout.readline().decode()
                port = int(re.search(READY_AGENT, line).group("port"))
                run = self.coordinator((self.host, port), (th, tp))
                proc.terminate()
                proc.communicate(timeout=10 * fbtest.SLOW)
                self.assert_exit(run, 1, "not in this agent's --allow-target")
            else:
                proc.communicate()
                self.assertEqual(status, 1, f"--allow-target {empty!r}")


# ---- 3. junk on the agent's port -----------------------------------------------------

ZMTP_GREETING = (b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00")
                 + b"\x00" + b"\x00" * 31)
READY_BODY = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 6) + b"DEALER"
ZMTP_READY = b"\x04" + bytes([len(READY_BODY)]) + READY_BODY


class JunkTests(SecurityCase):
    def setUp(self):
        super().setUp()
        _, th, tp = self.target()
        self.target_addr = (th, tp)
        self.agent_proc, ah, ap = self.agent()
        self.agent_addr = (ah, ap)

    def served(self):
        self.assert_served(self.agent_proc, self.agent_addr, self.target_addr)

    def raw(self, data, read_for=0.3, close_wait=0.0):
        """Sends `data` over a fresh TCP connection; returns what came back."""
        got = b""
        with socket.create_connection(self.agent_addr, timeout=5) as s:
            s.settimeout(5)
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                return got
            deadline = time.monotonic() + read_for
            while time.monotonic() < deadline:
                s.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    continue
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                got += chunk
        return got

    def test_raw_tcp_junk(self):
        rng = random.Random(20240601)
        for size in (1, 10, 64, 1000, 65536, 1 << 20):
            self.raw(bytes(rng.randrange(256) for _ in range(min(size, 4096))) * (size // 4096 + 1))
        self.raw(b"GET / HTTP/1.1\r\nHost: agent\r\nConnection: keep-alive\r\n\r\n")
        self.raw(b"GET /" + b"A" * 100000 + b" HTTP/1.1\r\n\r\n")
        self.raw(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(rng.randrange(256)
                                                                       for _ in range(500)))  # TLS
        # a valid ZMTP 3.0 greeting: the agent greets back; then garbage
        with socket.create_connection(self.agent_addr, timeout=5) as s:
            s.sendall(ZMTP_GREETING)
            back = b""
            deadline = time.monotonic() + 5 * fbtest.SLOW
            while len(back) < 64 and time.monotonic() < deadline:
                chunk = s.recv(4096)
                if not chunk:
                    break
                back += chunk
            self.assertEqual(back[:1], b"\xff", f"no ZMTP greeting from the agent: {back[:80]!r}")
            self.assertEqual(back[9:11], b"\x7f\x03", f"not ZMTP 3.x: {back[:80]!r}")
            self.assertEqual(back[12:16], b"NULL", f"mechanism: {back[:80]!r}")
            try:
                s.sendall(bytes(rng.randrange(256) for _ in range(5000)))
            except (BrokenPipeError, ConnectionResetError):
                pass
        # greeting, READY, then frames claiming 2^63-1 and 2^64-1 bytes
        for size in (b"\x7f" + b"\xff" * 7, b"\xff" * 8):
            self.raw(ZMTP_GREETING + ZMTP_READY + b"\x02" + size + b"\x00" * 1000)
        # ZMTP 1.0-style greetings and a greeting cut short
        self.raw(b"\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f" + b"\x01\x00" * 50)
        self.raw(b"\x01\x00" + b"\x05\x00hello" * 20)
        self.raw(ZMTP_GREETING[:20])
        # a greeting asking for CURVE from an agent without keys
        self.raw(ZMTP_GREETING[:12] + b"CURVE".ljust(20, b"\x00") + b"\x00" * 32 + b"\x00" * 200)
        # many silent connections held open while a coordinator runs
        held = []
        try:
            for _ in range(50):
                s = socket.create_connection(self.agent_addr, timeout=5)
                held.append(s)
            held[0].sendall(ZMTP_GREETING[:11])
            self.served()
        finally:
            for s in held:
                s.close()
        self.served()

    def test_malformed_messages_are_answered(self):
        cases = [
            # (what, message or list of frames, expected code)
            ("random bytes", bytes(random.Random(7).randrange(256) for _ in range(200)), E_BAD),
            ("one byte 0xc1 (never used)", b"\xc1", E_BAD),
            ("empty frame", b"", E_BAD),
            ("nil", b"\xc0", E_BAD),
            ("an integer", b"\x01", E_BAD),
            ("array32 of 2^32-1", b"\xdd\xff\xff\xff\xff", E_BAD),
            ("map32 of 2^32-1", b"\xdf\xff\xff\xff\xff", E_BAD),
            ("str32 of 2^32-1", b"\xdb\xff\xff\xff\xff", E_BAD),
            ("bin32 of 2^32-1", b"\xc6\xff\xff\xff\xff", E_BAD),
            ("ext32 of 2^32-1", b"\xc9\xff\xff\xff\xff\x01", E_BAD),
            ("array16 of 65535, 10 present", b"\xdc\xff\xff" + b"\xc0" * 10, E_BAD),
            ("map with a huge array value", pack_pairs([("v", PROTO_VERSION), ("t", 1), ("s", 0),
                                                        ("x", Raw(b"\xdd\xff\xff\xff\xff"))]), E_BAD),
            ("map with a huge map value", pack_pairs([("v", PROTO_VERSION), ("x", Raw(b"\xdf\x7f\xff\xff\xff"))]),
             E_BAD),
            ("map with a huge str key", b"\x81\xdb\xff\xff\xff\xff\x01", E_BAD),
            ("map16 claiming 65535 pairs", b"\xde\xff\xff" + pack("v") + pack(1), E_BAD),
            ("17 levels of nesting", pack({"v": 1, "t": 8, "s": 0, "x": nested(17)}), E_BAD),
            ("200000 levels of nesting", b"\x81\xa1x" + b"\x91" * 200000 + b"\xc0", E_BAD),
            ("200000 nested maps", b"\x81\xa1x" + b"\x81\xa1x" * 60000 + b"\xc0", E_BAD),
            ("truncated hello", hello()[:-1], E_BAD),
            ("hello with a trailing byte", hello() + b"\x00", E_BAD),
            ("two maps in one frame", hello() + hello(), E_BAD),
            ("an array of the hello's fields", pack([1, 1, 0]), E_BAD),
            ("empty map", pack({}), E_BAD),
            ("no v", pack({"t": T_HEARTBEAT, "s": 0, "seq": 1}), E_BAD),
            ("no t", pack({"v": 1, "s": 0, "seq": 1}), E_BAD),
            ("no s", pack({"v": 1, "t": T_HEARTBEAT, "seq": 1}), E_BAD),
            ("v as a string", pack({"v": "1", "t": T_HEARTBEAT, "s": 0, "seq": 1}), E_BAD),
            ("v as a float", pack({"v": 1.0, "t": T_HEARTBEAT, "s": 0, "seq": 1}), E_BAD),
            ("v negative", pack({"v": -1, "t": T_HEARTBEAT, "s": 0, "seq": 1}), E_BAD),
            ("v over 32 bits", pack({"v": 1 << 40, "t": T_HEARTBEAT, "s": 0, "seq": 1}), E_BAD),
            ("v nil", pack({"v": None, "t": T_HEARTBEAT, "s": 0, "seq": 1}), E_BAD),
            ("v true", pack({"v": True, "t": T_HEARTBEAT, "s": 0, "seq": 1}), E_BAD),
            ("v given twice", pack_pairs([("v", PROTO_VERSION), ("v", PROTO_VERSION), ("t", T_HEARTBEAT), ("s", 0),
                                          ("seq", 1)]), E_BAD),
            ("t given twice", pack_pairs([("v", PROTO_VERSION), ("t", T_HEARTBEAT), ("t", T_HEARTBEAT),
                                          ("s", 0), ("seq", 1)]), E_BAD),
            ("unknown type 99", message(99), E_BAD),
            ("unknown type 0", message(0), E_BAD),
            ("type 2^32+8", message((1 << 32) + T_HEARTBEAT, seq=1), E_BAD),
            ("t as a string", pack({"v": 1, "t": "hello", "s": 0}), E_BAD),
            ("s negative", message(T_HEARTBEAT, s=-5, seq=1), E_BAD),
            ("s as bytes", pack({"v": 1, "t": T_HEARTBEAT, "s": b"\x00" * 8, "seq": 1}), E_BAD),
            ("hello without fields", message(T_HELLO), E_BAD),
            ("hello, heartbeat_ms a string", hello(heartbeat_ms="100"), E_BAD),
            ("hello, heartbeat_ms 5 (< 10)", hello(heartbeat_ms=5), E_BAD),
            ("hello, heartbeat_ms 2^32", hello(heartbeat_ms=1 << 32), E_BAD),
            ("hello, liveness_ms negative", hello(liveness_ms=-1000), E_BAD),
            ("hello, liveness_ms a float", hello(liveness_ms=1000.0), E_BAD),
            ("hello, name an integer", hello(name=7), E_BAD),
            ("hello, name nil", hello(name=None), E_BAD),
            ("hello, name as bytes", hello(name=b"junk"), E_BAD),
            ("hello, name of 10000 chars", hello(name="n" * 10000), E_BAD),
            ("hello, name given twice", pack_pairs([("v", PROTO_VERSION), ("t", 1), ("s", 1),
                                                    ("heartbeat_ms", 100), ("liveness_ms", 1000),
                                                    ("name", "a"), ("name", "b")]), E_BAD),
            ("plan, benches a map", message(T_PLAN, target_host="127.0.0.1", target_port=80,
                                            timeout_ms=1000, benches={"a": 1}), E_BAD),
            ("plan, no benches", message(T_PLAN, target_host="127.0.0.1", target_port=80,
                                         timeout_ms=1000, benches=[]), E_BAD),
            ("plan, 1025 benches", message(T_PLAN, target_host="127.0.0.1", target_port=80,
                                           timeout_ms=1000, benches=[
                                               {"strategy": "async-for", "requests": 1, "chunk": 1,
                                                "connections": 1}] * 1025), E_BAD),
            ("plan, a bench of wrong types", message(T_PLAN, target_host="127.0.0.1",
                                                     target_port=80, timeout_ms=1000, benches=[
                                                         {"strategy": 5, "requests": "1",
                                                          "chunk": [], "connections": {}}]), E_BAD),
            ("plan, target_port 70000", message(T_PLAN, target_host="127.0.0.1",
                                                target_port=70000, timeout_ms=1000, benches=[
                                                    {"strategy": "async-for", "requests": 1,
                                                     "chunk": 1, "connections": 1}]), E_BAD),
            ("plan, target_host 1000 chars", message(T_PLAN, target_host="h" * 1000,
                                                     target_port=80, timeout_ms=1000, benches=[
                                                         {"strategy": "async-for", "requests": 1,
                                                          "chunk": 1, "connections": 1}]), E_BAD),
            ("plan, requests 10^7+1", message(T_PLAN, target_host="127.0.0.1", target_port=80,
                                              timeout_ms=1000, benches=[
                                                  {"strategy": "async-for",
                                                   "requests": 10 ** 7 + 1, "chunk": 1,
                                                   "connections": 1}]), E_BAD),
            ("error, code 0", message(T_ERROR, code=0, peer_version=1, message="x"), E_BAD),
            ("error, code 999", message(T_ERROR, code=999, peer_version=1, message="x"), E_BAD),
            ("non-string keys", pack({1: 1, 2: 8, 3: 0}), E_BAD),
            ("two frames", [hello(), hello()], E_BAD),
            ("three frames", [b"\x81\xa1v", b"\x01", b""], E_BAD),
            ("empty frame then a hello", [b"", hello()], E_BAD),
            # well-formed but wrong: version, then state
            ("hello of another version", hello(v=OTHER_VERSION), E_VERSION),
            ("heartbeat of version 0", message(T_HEARTBEAT, v=0, seq=1), E_VERSION),
            ("hello of version 2^32-1", hello(v=(1 << 32) - 1), E_VERSION),
            ("heartbeat without a session", message(T_HEARTBEAT, seq=1), E_STATE),
            ("plan without a session", message(T_PLAN, target_host="127.0.0.1", target_port=80,
                                               timeout_ms=1000, benches=[
                                                   {"strategy": "async-for", "requests": 1,
                                                    "chunk": 1, "connections": 1}]), E_STATE),
            ("go without a session", message(6, bench=0, run=0, warmup=0, clock_ns=0), E_STATE),
            ("welcome sent to an agent", message(2, host="h", cpu="c", kernel="k", libcurl="1",
                                                 libuv="1", libzmq="1", version="1", boot_id="b",
                                                 cores=1), E_STATE),
            # an accepted depth: an unknown key nested 10 deep is ignored, the
            # message then fails only for having no session
            ("10 levels of nesting in an unknown key",
             pack_pairs([("v", PROTO_VERSION), ("t", T_HEARTBEAT), ("s", 0), ("seq", 1),
                         ("x", nested(10))]), E_STATE),
        ]
        before = self.refusals(self.agent_proc)
        msgs = [c[1] for c in cases]
        big = [i for i, m in enumerate(msgs) if isinstance(m, bytes) and len(m) > 20000]
        res = self.junk(self.agent_addr, *[("@", m) if i in big else m for i, m in enumerate(msgs)])
        self.assertEqual(res.status, 0, res.describe())
        malformed = 0
        for i, (what, _, code) in enumerate(cases):
            m = self.assert_error_reply(res, i, code, what,
                                        session=0 if code == E_BAD else unpack(msgs[i])["s"])
            if code == E_VERSION:
                self.assertRegex(m["message"], rf"\b{PROTO_VERSION}\b", f"{what}: {m}")
                v = unpack(msgs[i] if not isinstance(msgs[i], list) else msgs[i][0])["v"]
                self.assertRegex(m["message"], rf"\b{v}\b", f"{what}: {m}")
            if code in (E_BAD, E_VERSION):
                malformed += 1
        # every refused message was logged, once
        deadline = time.monotonic() + 5 * fbtest.SLOW
        while self.refusals(self.agent_proc) < before + malformed and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.refusals(self.agent_proc) - before, malformed,
                         self.agent_proc.stderr()[-6000:])
        self.assertNotIn("session", self.agent_proc.stderr(), "junk opened a session")
        self.served()

    def test_version_mismatch_names_both_versions(self):
        res = self.junk(self.agent_addr, hello(v=OTHER_VERSION), hello(v=7, s=12345))
        for i, v in ((0, OTHER_VERSION), (1, 7)):
            m = self.assert_error_reply(res, i, E_VERSION, f"hello v={v}", session=0x5ec if i == 0 else 12345)
            self.assertIn(str(PROTO_VERSION), m["message"])
            self.assertIn(str(v), m["message"])
        self.assertIsNotNone(fbtest.wait_for_stderr(
            self.agent_proc, rf"it speaks protocol 7, this agent {PROTO_VERSION}",
            5 * fbtest.SLOW),
            self.agent_proc.stderr())
        self.served()

    def test_version_checked_before_type(self):
        """A newer protocol's message type (t=15, one past this version's) is a
        version mismatch (code 2, naming both versions), not a bad message."""
        res = self.junk(self.agent_addr, message(15, v=OTHER_VERSION, newfield=1))
        self.assert_error_reply(res, 0, E_VERSION, "t=15 of a newer version")

    def test_messages_nobody_answers(self):
        """ERROR and BYE from a stranger are never answered (no error ping-pong)."""
        res = self.junk(self.agent_addr, message(T_ERROR, code=1, peer_version=1, message="x"),
                        message(T_BYE), timeout_ms=int(800 * fbtest.SLOW))
        self.assertEqual(res.replies, {}, res.describe())
        self.served()

    def test_oversized_message(self):
        """At the limit: answered.  Over it (up to 4x, the sockets'
        ZMQ_MAXMSGSIZE): refused with an ERROR and a log line.  Far over:
        libzmq drops the connection, nothing reaches the decoder; the DEALER
        reconnects and is served."""
        fields = [("v", PROTO_VERSION), ("t", T_ABORT), ("s", 0), ("reason", "x")]
        pad = MAX_MSG - len(pack_pairs(fields + [("pad", b"\x00" * 70000)])) + 70000
        at_limit = pack_pairs(fields + [("pad", b"\x00" * pad)])
        self.assertEqual(len(at_limit), MAX_MSG)
        over = at_limit + b"\x00"
        huge = b"\xc0" * (4 << 20)
        res = self.junk(self.agent_addr, ("@", at_limit), b"\xc1", ("@", over), b"\xc1",
                        ("@", huge), b"\xc1", timeout_ms=int(2000 * fbtest.SLOW))
        self.assertEqual(res.status, 2, res.describe())
        self.assert_error_reply(res, 0, E_STATE, "an abort of exactly 256 KiB from a stranger")
        self.assert_error_reply(res, 2, E_BAD, "one byte over the limit")
        self.assertIn(4, res.timeouts, res.describe())
        self.assertIn("disconnected", " ".join(res.events.get(4, [])), res.describe())
        for i in (1, 3, 5):
            self.assert_error_reply(res, i, E_BAD, "0xc1 after an oversized message")
        self.assertIn("over the 262144-byte limit", self.agent_proc.stderr())
        self.served()

    def test_hostile_session(self):
        """A peer that opens a session, then sends steps out of order: each
        gets the right answer, and the agent serves a coordinator afterwards."""
        th, tp = self.target_addr
        sid = 0x0123456789abcdef
        bench = {"strategy": "async-for", "requests": 10, "chunk": 10, "connections": 2}

        def plan(**over):
            fields = {"target_host": th, "target_port": tp, "timeout_ms": 5000,
                      "benches": [bench]}
            fields.update(over)
            return message(T_PLAN, s=sid, **fields)

        def step(t, b=0, r=0, s=sid, clock=0):
            return message(t, s=s, bench=b, run=r, warmup=0, clock_ns=clock)

        T_WELCOME, T_PREPARE, T_READY, T_GO, T_RESULT, T_ACCEPT = 2, 4, 5, 6, 7, 12
        # heartbeats every 10 minutes: no agent heartbeat mixes with the replies
        script = [
            ("hello", hello(s=sid, heartbeat_ms=600000, liveness_ms=600000), T_WELCOME, None),
            ("plan, unknown strategy", plan(benches=[dict(bench, strategy="nope")]), T_ERROR, 4),
            ("plan, nothing listens", plan(target_port=fbtest.unused_port(th)), T_ERROR, 6),
            ("prepare without a plan", step(T_PREPARE), T_ERROR, E_STATE),
            ("go without a prepare", step(T_GO), T_ERROR, E_STATE),
            ("plan", plan(), T_ACCEPT, None),
            ("prepare of a benchmark the plan lacks", step(T_PREPARE, b=5), T_ERROR, E_STATE),
            ("go before prepare", step(T_GO), T_ERROR, E_STATE),
            ("prepare", step(T_PREPARE), T_READY, None),
            ("prepare again", step(T_PREPARE), T_ERROR, E_STATE),
            ("plan while prepared", plan(), T_ERROR, E_STATE),
            ("go for another run", step(T_GO, r=1), T_ERROR, E_STATE),
            ("heartbeat of another session", message(T_HEARTBEAT, s=sid + 1, seq=1), T_ERROR,
             E_STATE),
            ("go", step(T_GO), T_RESULT, None),
            ("heartbeat", message(T_HEARTBEAT, s=sid, seq=42), T_HEARTBEAT, None),
            # GO's start time is capped (100 ms): one far away must not stall the agent
            ("prepare run 1", step(T_PREPARE, r=1), T_READY, None),
            ("go at 2^64-1 ns", step(T_GO, r=1, clock=(1 << 64) - 1), T_RESULT, None),
            ("prepare run 2", step(T_PREPARE, r=2), T_READY, None),
            ("go in 50 ms", step(T_GO, r=2, clock=time.monotonic_ns() + 50_000_000), T_RESULT,
             None),
            ("a session's own welcome", message(T_WELCOME, s=sid, host="h", cpu="c", kernel="k",
                                                libcurl="1", libuv="1", libzmq="1", version="1",
                                                boot_id="b", cores=1), T_ERROR, E_STATE),
            ("hello again, new session", hello(s=sid + 2, heartbeat_ms=600000,
                                               liveness_ms=600000), T_WELCOME, None),
            ("prepare of the old session", step(T_PREPARE, s=sid), T_ERROR, E_STATE),
            ("bye", message(T_BYE, s=sid + 2), None, None),
        ]
        res = self.junk(self.agent_addr, *[m for _, m, _, _ in script],
                        timeout_ms=int(10000 * fbtest.SLOW))
        for i, (what, _, want_t, code) in enumerate(script):
            if want_t is None:
                self.assertNotIn(i, res.replies, f"{what}\n{res.describe()}")
                continue
            if want_t == T_ERROR:
                self.assert_error_reply(res, i, code, what)
                continue
            got = res.replies.get(i)
            self.assertTrue(got, f"no reply to {what}\n{res.describe()}")
            m = got[0].map
            self.assertIsInstance(m, dict, f"{what}\n{res.describe()}")
            self.assertEqual(m.get("t"), want_t, f"{what}: {m}\n{res.describe()}")
            self.assertEqual(m.get("s"), sid + 2 if "again" in what else sid, f"{what}: {m}")
            self.assertIsNotNone(got[0].decoded, f"proto_decode refused the {what} reply\n"
                                                 f"{res.describe()}")
            if want_t == T_RESULT:
                self.assertEqual(m["ok"], 10, m)
            if want_t == T_HEARTBEAT:
                self.assertEqual(m["seq"], 42, m)
        self.assertIsNotNone(fbtest.wait_for_stderr(self.agent_proc, r"ended: bye",
                                                    5 * fbtest.SLOW), self.agent_proc.stderr())
        self.served()

    def test_abort_mid_run_and_stop_mid_run(self):
        """A peer that starts runs and aborts them at once, opens sessions while
        the aborted run winds down, and finally leaves a run going while the
        agent gets SIGTERM: answers stay consistent, nothing leaks or races."""
        _, th, tp = self.target("--delay", "50", host=fbtest.next_host())
        sid = 77
        strategies = ["async-for", "threads-reuse", "threads-recreate", "threads-map", "async-map"]

        def plan():
            return message(T_PLAN, s=sid, target_host=th, target_port=tp, timeout_ms=5000,
                           benches=[{"strategy": n, "requests": 200, "chunk": 10,
                                     "connections": 4} for n in strategies])

        def step(t, b, s=sid):
            return message(t, s=s, bench=b, run=0, warmup=0, clock_ns=0)

        def hx(m, wait=None):
            return ("" if wait is None else f"{wait}:") + m.hex()

        quiet = {"heartbeat_ms": 600000, "liveness_ms": 600000}
        for b in range(len(strategies)):
            args = [hx(hello(s=sid, **quiet)), hx(plan()), hx(step(4, b)), hx(step(6, b), 0),
                    hx(message(T_ABORT, s=sid, reason="x"), 0), hx(hello(s=sid + 1, **quiet)),
                    hx(message(T_BYE, s=sid + 1), 0)]  # ends the new session, if it opened
            res = self.junk_args(args)
            self.assertEqual([r[0].map["t"] for r in (res.replies[0], res.replies[1],
                                                      res.replies[2])], [2, 12, 5], res.describe())
            last = res.replies[5][0].map
            if last["t"] == T_ERROR:  # the aborted run is still winding down
                self.assertEqual(last["code"], E_BUSY, res.describe())
            else:
                self.assertEqual(last["t"], 2, res.describe())
            self.assertNotIn(7, [r.map.get("t") for rs in res.replies.values() for r in rs],
                             f"an aborted run's result was sent\n{res.describe()}")
            # the next peer waits until the aborted run has wound down
            self.assertIsNotNone(fbtest.wait_for_stderr(
                self.agent_proc, rf"run 0 of benchmark {b} aborted", 10 * fbtest.SLOW),
                self.agent_proc.stderr())
        self.served()
        # a run left going while the agent gets SIGTERM (a fresh agent, so that
        # this one's exit status and leak check are about that alone)
        proc, ah, ap = self.agent()
        res = self.junk_args([hx(hello(s=sid, **quiet)), hx(plan()), hx(step(4, 0)),
                              hx(step(6, 0), 0)], addr=(ah, ap))
        time.sleep(0.2)
        self.stop(proc, expect=0)
        self.assertIn("ended: agent stopping", proc.stderr())
        fbtest.check_no_sanitizer_report(self, proc)

    def test_long_routing_id(self):
        """A DEALER with a 255-byte routing id is answered like any other."""
        res = self.junk(self.agent_addr, b"\xc1", hello(v=OTHER_VERSION), opts=("-i", "ab" * 255))
        self.assertEqual(res.status, 0, res.describe())
        self.assert_error_reply(res, 0, E_BAD, "0xc1, long routing id")
        self.assert_error_reply(res, 1, E_VERSION, "other-version hello, long routing id")
        self.served()

    def test_flood_without_reading(self):
        """3000 junk messages from a peer that never reads its replies: the
        agent neither blocks nor dies, and answers the next peer."""
        res = self.junk(self.agent_addr, *([b"\xc1"] * 3000), replies=0)
        self.assertEqual(res.status, 0, res.describe())
        res = self.junk(self.agent_addr, b"\xdd\xff\xff\xff\xff")
        self.assert_error_reply(res, 0, E_BAD, "array32 after a flood")
        self.served()

    def test_junk_during_a_session(self):
        """Junk from a stranger while a coordinator runs: answered, and the
        session and its results are unaffected."""
        _, th, tp = self.target("--delay", "20", host=fbtest.next_host())
        proc, json_path = self.spawn_coordinator(self.agent_addr, (th, tp), "--connections", "1",
                                                 "--runs", "5")
        self.assertIsNotNone(fbtest.wait_for_stderr(self.agent_proc, r"session \S+ opened",
                                                    15 * fbtest.SLOW), self.agent_proc.stderr())
        res = self.junk(self.agent_addr, b"\xc1", hello(v=OTHER_VERSION), message(T_HEARTBEAT, seq=1),
                        message(T_ABORT, reason="stranger"), message(T_BYE),
                        message(T_ERROR, code=8, peer_version=1, message="stranger"),
                        b"\xdf\xff\xff\xff\xff", timeout_ms=int(500 * fbtest.SLOW))
        self.assert_error_reply(res, 0, E_BAD, "0xc1 during a session")
        self.assert_error_reply(res, 1, E_VERSION, "other-version hello during a session")
        self.assert_error_reply(res, 2, E_STATE, "a stranger's heartbeat")
        self.assert_error_reply(res, 3, E_STATE, "a stranger's abort")
        self.assertNotIn(4, res.replies, res.describe())
        self.assertNotIn(5, res.replies, res.describe())
        self.assert_error_reply(res, 6, E_BAD, "map32 during a session")
        run = self.finish(proc, json_path)
        self.assert_exit(run, 0)
        self.assertEqual(len(run.json["results"][0]["times"]), 5, run.describe())
        self.assertNotIn("stranger", self.agent_proc.stderr())
        self.served()


# ---- 4. a second coordinator ---------------------------------------------------------

class BusyTests(SecurityCase):
    def first_session(self, runs):
        """A target answering after 100 ms, an agent, and a first coordinator
        whose session lasts about `runs` seconds (runs of 10 sequential
        requests); returns (agent Process, agent, target, coordinator, json path)."""
        _, th, tp = self.target("--delay", "100")
        agent_proc, ah, ap = self.agent()
        first, first_json = self.spawn_coordinator((ah, ap), (th, tp), "--connections", "1",
                                                   "--runs", str(runs),
                                                   liveness=int(3000 * fbtest.SLOW))
        self.assertIsNotNone(fbtest.wait_for_stderr(agent_proc, r"session \S+ opened",
                                                    15 * fbtest.SLOW), agent_proc.stderr())
        return agent_proc, (ah, ap), (th, tp), first, first_json

    def test_second_coordinator_is_refused(self):
        agent_proc, agent, target, first, first_json = self.first_session(6)
        # a stranger's hello: busy, naming the session it serves
        res = self.junk(agent, hello())
        m = self.assert_error_reply(res, 0, E_BUSY, "hello during a session", session=0x5ec)
        self.assertRegex(m["message"], r"serving session [0-9a-f]{16}")
        # a second coordinator does not get in (its exit code: see the next test)
        second = self.coordinator(agent, target)
        self.assertIn(second.status, (3, 5), second.describe())
        self.assertTrue(first.alive(), "the first coordinator ended while the second tried")
        # the first session is unaffected
        run = self.finish(first, first_json)
        self.assert_exit(run, 0)
        self.assertEqual(len(run.json["results"][0]["times"]), 6, run.describe())
        self.assertEqual(run.json["results"][0]["exit_codes"], [0] * 6)
        self.assertEqual(len(re.findall(r"session \S+ opened", agent_proc.stderr())), 1,
                         agent_proc.stderr())
        # and once it is over, the agent serves the next coordinator
        self.assert_served(agent_proc, agent, target)

    def busy_agent(self):
        """An agent kept busy by a stranger's session (hello, 10 min liveness;
        the agent does not notice that the stranger went away)."""
        agent_proc, ah, ap = self.agent()
        res = self.junk((ah, ap), hello(s=1, heartbeat_ms=600000, liveness_ms=600000))
        self.assertEqual(res.replies[0][0].map["t"], 2, res.describe())
        return agent_proc, (ah, ap)

    # Regression: a coordinator saying hello also sent heartbeats, which an
    # agent slow to answer (SIGSTOPped here; loaded in real life) answered
    # with ERROR 7 from a peer without a session: exit 5 instead of retrying.
    def test_busy_agent_slow_to_answer_is_retried_then_exit_3(self):
        agent_proc, agent = self.busy_agent()
        proc, json_path = None, None
        agent_proc.popen.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            proc, json_path = self.spawn_coordinator(agent, (agent[0], 1))
            time.sleep(0.5)
        finally:
            agent_proc.popen.send_signal(signal.SIGCONT)
        second = self.finish(proc, json_path)
        elapsed = time.monotonic() - started
        self.assert_exit(second, 3)
        self.assertGreaterEqual(elapsed, 2 * LIVE_MS / 1000.0 * 0.9, second.describe())


if __name__ == "__main__":
    unittest.main()
