"""Shared helpers for fleetbench integration tests (stdlib only).

The integration tests start the real binaries of a build on loopback
addresses and talk to them over raw sockets, so that what is tested is the
bytes on the wire, not what some HTTP library makes of them.  This module
holds what every component's tests need:

* where the binaries are (``FB_BIN_DIR``, default /work/main/build);
* a private 127.0.0.x address per test, so tests never share a listener;
* starting a process and waiting for its ready line, stopping it, and the
  cleanup that kills it whatever happens and fails the test when a
  sanitizer (``FB_SANITIZE``) reported something on its stderr;
* a raw HTTP/1.1 client that sends arbitrary bytes and parses responses.

Everything blocking has a deadline: a hung server fails a test, it never
hangs the suite.
"""

import itertools
import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

BIN_DIR = os.environ.get("FB_BIN_DIR") or "/work/main/build"
#: libzmq is not instrumented for TSan: its internals are suppressed (tests/tsan.supp).
TSAN_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tsan.supp")
SANITIZE = os.environ.get("FB_SANITIZE", "")

#: Seconds a process gets to print its ready line (sanitizers start slowly).
START_TIMEOUT = 15.0
#: Seconds a process gets to exit after SIGTERM before it is killed.
STOP_TIMEOUT = 10.0
#: Default timeout of one socket operation, and of reading one response.
IO_TIMEOUT = 5.0

# Sanitized builds are slower; tests scale their timing margins by this.
SLOW = {"": 1.0, "address": 2.0, "thread": 3.0}.get(SANITIZE, 2.0)


# ---- binaries ---------------------------------------------------------------

def binary(name):
    """Path of the built executable `name` (e.g. "target-server").

    CMake puts each component's binary in <build>/<component>/<name>; an
    installed tree has <prefix>/bin/<name>.  A missing binary is an error,
    not a skip: a test that silently does not run tests nothing.
    """
    for path in (os.path.join(BIN_DIR, name, name), os.path.join(BIN_DIR, "bin", name),
                 os.path.join(BIN_DIR, name)):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(f"{name} not found under FB_BIN_DIR={BIN_DIR} (build it first)")


# ---- addresses --------------------------------------------------------------

_FIRST_HOST, _LAST_HOST = 2, 250
# Start at a pid-dependent place so that test modules run in parallel by
# ctest -j mostly pick different addresses; collisions are harmless anyway
# since every listener uses port 0.
_host_counter = itertools.count((os.getpid() * 37) % (_LAST_HOST - _FIRST_HOST + 1))
_host_lock = threading.Lock()


def next_host():
    """A loopback address 127.0.0.2-127.0.0.250, a different one each call.

    Giving each test its own address keeps one test's leftovers (lingering
    connections, TIME_WAIT, a port taken on purpose) away from the next.
    Only loopback addresses are ever handed out.
    """
    with _host_lock:
        n = next(_host_counter)
    return f"127.0.0.{_FIRST_HOST + n % (_LAST_HOST - _FIRST_HOST + 1)}"


# ---- processes --------------------------------------------------------------

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "WARNING: ThreadSanitizer",
    "ERROR: ThreadSanitizer",
    "runtime error:",  # UndefinedBehaviorSanitizer
    "ERROR: UndefinedBehaviorSanitizer",
)


def sanitizer_env(base=None):
    """The environment for a child: sanitizers report loudly and abort.

    abort_on_error turns a report into a non-zero exit, which the exit-code
    check catches even if nobody reads stderr; detect_leaks makes a clean
    exit also a leak check.
    """
    env = dict(os.environ if base is None else base)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:halt_on_error=1:"
                                   "detect_stack_use_after_return=1:strict_string_checks=1:"
                                   "check_initialization_order=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:abort_on_error=1")
    env.setdefault("LSAN_OPTIONS", "exitcode=23")
    env.setdefault("TSAN_OPTIONS", "halt_on_error=0:second_deadlock_stack=1:exitcode=66:"
                                   f"suppressions={TSAN_SUPPRESSIONS}")
    return env


class Process:
    """A child process started by `start_process`.

    stdout after the ready line is drained by a thread (a child that keeps
    printing must never block on a full pipe); stderr goes to a temporary
    file so it can be read after the child died, for sanitizer reports and
    error messages.
    """

    def __init__(self, argv, popen, stderr_file):
        self.argv = argv
        self.popen = popen
        self.pid = popen.pid
        self._stderr_file = stderr_file
        self._stdout = bytearray()
        self._drainer = None
        self.exited_at = None  # time.monotonic() when wait() saw it exit

    def drain_stdout(self):
        """Keeps reading stdout in the background into `stdout()`."""
        fd = self.popen.stdout.fileno()

        def run():
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self._stdout.extend(chunk)
        self._drainer = threading.Thread(target=run, daemon=True)
        self._drainer.start()

    def stdout(self):
        """What the child printed after its ready line, so far."""
        return bytes(self._stdout).decode(errors="replace")

    def wait_stdout(self, timeout=2.0):
        """Once the child has exited: waits (up to `timeout` s) until its stdout is
        read to EOF, then returns all of it."""
        if self._drainer:
            self._drainer.join(timeout)
        return self.stdout()

    def stderr(self):
        """Everything the child wrote to stderr so far."""
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode(errors="replace")

    def alive(self):
        return self.popen.poll() is None

    def wait(self, timeout):
        """Exit status, or None if still running after `timeout` seconds."""
        try:
            status = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self.exited_at is None:
            self.exited_at = time.monotonic()
        return status

    def kill(self):
        if self.alive():
            self.popen.kill()
        self.popen.wait(STOP_TIMEOUT)

    def close(self):
        """Kills the child if needed and releases the pipe and the file."""
        self.kill()
        if self._drainer:  # EOF is near once the child is gone
            self._drainer.join(1.0)
        if self.popen.stdout:
            self.popen.stdout.close()
        self._stderr_file.close()


def _read_line(proc, deadline):
    """Reads stdout up to the first newline, or until the deadline/EOF."""
    fd = proc.popen.stdout.fileno()
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    proc._stdout.extend(rest)
    return line.decode(errors="replace")


def sanitizer_report(text):
    """The first sanitizer marker found in `text`, or None."""
    for marker in SANITIZER_MARKERS:
        if marker in text:
            return marker
    return None


def check_no_sanitizer_report(test, proc):
    """Fails `test` if `proc` printed a sanitizer report on stderr."""
    err = proc.stderr()
    marker = sanitizer_report(err)
    if marker:
        test.fail(f"{os.path.basename(proc.argv[0])} reported '{marker}':\n{err[-6000:]}")


def start_process(test, argv, ready, timeout=START_TIMEOUT, env=None,
                  stop_signal=signal.SIGTERM, expect_exit=0):
    """Starts `argv` and waits for its ready line; returns (Process, port).

    `ready` is a regular expression with a group named "port", matched
    against the first stdout line.  If the process exits or prints something
    else first, the test fails with what it wrote on stderr.

    The process is always cleaned up via `test.addCleanup`, so a failing
    test never leaks a process: if still running at the end of the test it
    gets `stop_signal` and must exit with `expect_exit` (None: any status;
    stop_signal None: just SIGKILL).  Stopping gracefully in every test
    means every scenario also checks a clean shutdown and, under
    FB_SANITIZE=address, leaks.  Then its stderr is checked for sanitizer
    reports.
    """
    stderr_file = tempfile.NamedTemporaryFile(prefix="fbtest-", suffix=".stderr")
    popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=stderr_file, env=sanitizer_env(env), close_fds=True)
    proc = Process(argv, popen, stderr_file)
    test.addCleanup(_cleanup_process, test, proc, stop_signal, expect_exit)
    line = _read_line(proc, time.monotonic() + timeout * SLOW)
    match = re.search(ready, line)
    if not match:
        status = proc.wait(0.5)
        test.fail(f"{' '.join(argv)}: no ready line within {timeout * SLOW:.0f} s "
                  f"(got {line!r}, exit status {status}); stderr:\n{proc.stderr()[-4000:]}")
    proc.drain_stdout()
    return proc, int(match.group("port"))


def _cleanup_process(test, proc, stop_signal, expect_exit):
    """Cleanup of `start_process`: stop (or kill), then look for sanitizer reports."""
    try:
        if proc.alive() and stop_signal is not None:
            stop_process(test, proc, expect_exit, stop_signal)
    finally:  # a report explains a bad exit: look for one in any case
        try:
            proc.kill()
            check_no_sanitizer_report(test, proc)
        finally:
            proc.close()


def stop_process(test, proc, expect=0, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
    """Sends `sig`, waits up to `timeout` s, then SIGKILLs; returns the status.

    With `expect` not None, fails the test unless the process exited by
    itself with that status (a kill after the timeout is a failure).
    """
    if proc.alive():
        proc.popen.send_signal(sig)
    status = proc.wait(timeout * SLOW)
    if status is None:
        proc.kill()
        if expect is not None:
            test.fail(f"{os.path.basename(proc.argv[0])} did not exit within "
                      f"{timeout * SLOW:.0f} s of signal {sig}; killed")
        return None
    if expect is not None and status != expect:
        test.fail(f"{os.path.basename(proc.argv[0])} exited {status}, expected {expect}; "
                  f"stderr:\n{proc.stderr()[-4000:]}")
    return status


def run_process(argv, timeout=10.0, env=None):
    """Runs a short-lived command; returns (exit status, stdout, stderr)."""
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                            env=sanitizer_env(env), timeout=timeout * SLOW)
    return (result.returncode, result.stdout.decode(errors="replace"),
            result.stderr.decode(errors="replace"))


def spawn_process(test, argv, cwd=None, env=None, stop_signal=None, expect_exit=None):
    """Starts `argv` without waiting for a ready line; returns its Process.

    For programs that run to completion (a coordinator): stdout is drained
    in the background from the start, stderr goes to a file.  Cleaned up
    like `start_process` (default: SIGKILL if still running, any status),
    and its stderr is checked for sanitizer reports.
    """
    stderr_file = tempfile.NamedTemporaryFile(prefix="fbtest-", suffix=".stderr")
    popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=stderr_file, env=sanitizer_env(env), cwd=cwd,
                             close_fds=True)
    proc = Process(argv, popen, stderr_file)
    test.addCleanup(_cleanup_process, test, proc, stop_signal, expect_exit)
    proc.drain_stdout()
    return proc


def finish_process(test, proc, timeout, json_path=None):
    """Waits for a spawned program that runs to completion (a coordinator).

    Fails `test` if it is still running after `timeout` seconds (times SLOW;
    it is then killed) or printed a sanitizer report.  Returns (exit status,
    stdout, stderr, the JSON document at `json_path` or None without one).
    """
    name = os.path.basename(proc.argv[0])
    status = proc.wait(timeout * SLOW)
    if status is None:
        proc.kill()
        test.fail(f"{name} still running after {timeout * SLOW:.0f} s; killed\n"
                  f"$ {' '.join(proc.argv)}\nstderr:\n{proc.stderr()[-4000:]}")
    out, err = proc.wait_stdout(), proc.stderr()
    marker = sanitizer_report(err)
    if marker:
        test.fail(f"{name} reported '{marker}':\n{err[-6000:]}")
    doc = None
    if json_path and os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as f:
            text = f.read()
        try:
            doc = json.loads(text)
        except ValueError as e:
            test.fail(f"{json_path} is not JSON ({e}): {text[:1000]!r}")
    return status, out, err, doc


def wait_for_stderr(proc, pattern, timeout):
    """Waits until `proc`'s stderr matches the regular expression `pattern`;
    returns the match, or None after `timeout` s (or if the process exited
    without printing it)."""
    deadline = time.monotonic() + timeout
    while True:
        match = re.search(pattern, proc.stderr())
        if match or time.monotonic() >= deadline:
            return match
        if not proc.alive():
            return re.search(pattern, proc.stderr())
        time.sleep(0.02)


# ---- ports and processes of the system ----------------------------------------

def unused_port(host):
    """A TCP port on `host` where nothing listens (bound, then released).

    The kernel hands out ephemeral ports in turn, so the port stays free for
    the short time a test needs it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class SilentListener:
    """A TCP listener on host:0 that accepts connections and never sends a byte.

    A peer that completes the TCP handshake and then says nothing: what a
    hung or foreign service looks like to a protocol client.
    """

    def __init__(self, host):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.accepted = 0
        self._conns = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self._conns.append(conn)  # kept open, never written to
            self.accepted += 1

    def close(self):
        self._closed.set()
        self._thread.join(1.0)
        self.sock.close()
        for conn in self._conns:
            conn.close()


def _proc_stat(pid):
    """(state, ppid) of a process from /proc/PID/stat, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the name may hold spaces
    return fields[0], int(fields[1])


def child_pids(pid):
    """The pids of the running (not zombie) children of `pid`."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc_stat(int(entry))
            if stat and stat[1] == pid and stat[0] != "Z":
                children.append(int(entry))
    return children


def pid_alive(pid):
    """True if `pid` is a process that is not a zombie."""
    stat = _proc_stat(pid)
    return stat is not None and stat[0] != "Z"


def pid_name(pid):
    """The command name of `pid` (/proc/PID/comm), or "" if it is gone."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


# ---- raw HTTP client --------------------------------------------------------

class ProtocolError(AssertionError):
    """The peer sent something that is not a well-formed HTTP/1.x response.

    An AssertionError, so that a malformed response fails the test rather
    than erroring it.
    """


class Closed(AssertionError):
    """The connection ended (EOF or reset) where a response was expected."""


class TimedOut(AssertionError):
    """Nothing more arrived before the deadline (the bytes so far are in the message)."""


class Response:
    """One parsed HTTP response."""

    def __init__(self, version, status, reason, headers, body, raw):
        self.version = version  # "HTTP/1.1"
        self.status = status    # int
        self.reason = reason
        self.headers = headers  # [(name, value)] in order, as sent
        self.body = body        # bytes
        self.raw = raw          # the bytes of this response as received

    def header(self, name):
        """The value of the last header `name` (any case), or None."""
        value = None
        for k, v in self.headers:
            if k.lower() == name.lower():
                value = v
        return value

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class RawClient:
    """An HTTP/1.x client over one TCP connection that sends raw bytes.

    Nothing is added to what the test sends, so malformed, pipelined, split
    or slow requests are all just `send` calls.  Reads have deadlines
    (`timeout` per response) and bytes read past one response stay buffered
    for the next, as pipelining needs.
    """

    def __init__(self, host, port, timeout=IO_TIMEOUT, nodelay=True):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        if nodelay:  # each send() its own segment: splits reach the server as split
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.eof = False
        self.reset = False

    # -- sending --

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def send_slowly(self, data, chunk=1, pause=0.001):
        """Sends `data` `chunk` bytes at a time with `pause` s between writes."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i:i + chunk])
            if pause:
                time.sleep(pause)

    # -- receiving --

    def _fill(self, deadline):
        """Reads more bytes into the buffer; False at EOF or reset."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise socket.timeout
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise TimedOut(f"nothing more within the deadline; buffered: "
                           f"{bytes(self.buf)[:2000]!r}") from None
        except ConnectionResetError:
            self.eof = self.reset = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _read_until(self, marker, deadline):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                return i
            if not self._fill(deadline):
                raise Closed(f"connection closed before {marker!r}; got {bytes(self.buf)!r}")

    def _read_exactly(self, n, deadline):
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise Closed(f"connection closed with {len(self.buf)} of {n} body bytes; "
                             f"got {bytes(self.buf)!r}")

    def _take(self, n):
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def read_response(self, head=False, timeout=None):
        """Reads and parses one response; `head`: it answers a HEAD request.

        The body is delimited by Content-Length (the servers under test never
        send chunked responses; one that does fails here), or by EOF when
        there is no Content-Length.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        end = self._read_until(b"\r\n\r\n", deadline)
        head_bytes = self._take(end + 4)
        version, status, reason, headers = _parse_head(head_bytes)
        lengths = [v for k, v in headers if k.lower() == "content-length"]
        if any(k.lower() == "transfer-encoding" for k, _ in headers):
            raise ProtocolError(f"unexpected Transfer-Encoding in {head_bytes!r}")
        if len(set(lengths)) > 1 or (lengths and not lengths[0].isdigit()):
            raise ProtocolError(f"bad Content-Length in {head_bytes!r}")
        if head or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif lengths:
            self._read_exactly(int(lengths[0]), deadline)
            body = self._take(int(lengths[0]))
        else:
            while self._fill(deadline):
                pass
            body = self._take(len(self.buf))
        return Response(version, status, reason, headers, body, head_bytes + body)

    def read_responses(self, n, head=False, timeout=None):
        """Reads `n` responses within `timeout` s for them all (default: n/10 s + timeout)."""
        budget = timeout or (self.timeout + n / 10.0)
        deadline = time.monotonic() + budget
        return [self.read_response(head, timeout=max(0.001, deadline - time.monotonic()))
                for _ in range(n)]

    def read_until_closed(self, timeout=None):
        """Reads until EOF or reset; returns the bytes not yet consumed.

        Raises TimedOut if the peer keeps the connection open longer.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while self._fill(deadline):
            pass
        return self._take(len(self.buf))

    def closed_within(self, timeout):
        """Seconds until the peer closed (EOF/reset), or None if still open after `timeout`."""
        start = time.monotonic()
        try:
            self.read_until_closed(timeout)
        except TimedOut:
            return None
        return time.monotonic() - start

    def nothing_within(self, seconds):
        """True if neither a byte nor EOF arrives for `seconds` (a stalled peer)."""
        try:
            self._fill(time.monotonic() + seconds)
        except TimedOut:
            return True
        return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _parse_head(head_bytes):
    """Status line and headers of a response head (ending in CRLF CRLF)."""
    lines = head_bytes[:-4].decode("latin-1").split("\r\n")
    m = re.fullmatch(r"(HTTP/1\.[01]) (\d{3}) ?(.*)", lines[0])
    if not m:
        raise ProtocolError(f"bad status line {lines[0]!r} in {head_bytes!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ProtocolError(f"bad header line {line!r} in {head_bytes!r}")
        headers.append((name, value.strip(" \t")))
    return m.group(1), int(m.group(2)), m.group(3), headers


def request(method="GET", target="/", version="HTTP/1.1", headers=(), body=b""):
    """The bytes of one request: request line, `headers` (name, value), body."""
    lines = [f"{method} {target} {version}"] + [f"{k}: {v}" for k, v in headers]
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data + (body.encode("latin-1") if isinstance(body, str) else body)


# ---- a TestCase base --------------------------------------------------------

class FbTestCase(unittest.TestCase):
    """Base of integration TestCases: per-test address, processes, clients.

    Everything a test opens through these methods is closed by cleanups,
    in reverse order (clients before the servers they talk to).
    """

    def setUp(self):
        super().setUp()
        self.host = next_host()

    def start(self, name, args, ready, **kw):
        """Starts binary `name` with `args`; returns (Process, port)."""
        return start_process(self, [binary(name)] + list(args), ready, **kw)

    def stop(self, proc, expect=0, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        return stop_process(self, proc, expect, sig, timeout)

    def connect(self, port, host=None, timeout=IO_TIMEOUT, nodelay=True):
        """A RawClient to host:port, closed at cleanup."""
        client = RawClient(host or self.host, port, timeout=timeout, nodelay=nodelay)
        self.addCleanup(client.close)
        return client

    def run_binary(self, name, args, timeout=10.0):
        """Runs binary `name` to completion; returns (status, stdout, stderr).

        Fails the test if a sanitizer reported something.
        """
        status, out, err = run_process([binary(name)] + list(args), timeout=timeout)
        marker = sanitizer_report(err)
        if marker:
            self.fail(f"{name} reported '{marker}':\n{err[-6000:]}")
        return status, out, err
