"""The session protocol's state table (docs/protocol.md), row by row where a
row can be driven from outside, and the faults it exists for.

* The agent's table: a hand-driven coordinator (a DEALER over fbwire in this
  process) against a real agent: a busy answer is no sign of life, a
  coordinator that greets again gets its agent back even mid-run, a
  reconnect keeps the session, a prepared run waits for its GO only so
  long, the coordinator's name is cleaned before it is logged; plans a
  coordinator of ours never sends (a command too long, with control
  characters or not UTF-8, a rate without a duration, too high or
  disagreeing with the requests, a rate on a command) are each refused
  with error 1 and why, the agent serving on.
* The coordinator's view: a real coordinator against rogue agents
  (rogue_agent.py) that lie in their results (each lie refused by name,
  exit 3, the JSON valid and without the lie), send bad UTF-8, never send
  a result, never answer, stay busy, drop the session, freeze while
  prepared, flood, or send a malformed result (exit 5).
* Faults with real processes: an agent frozen (SIGSTOP) longer than the
  liveness and thawed, in lockstep and serial mode; an agent restarted on
  its port within the liveness; a paused coordinator. Each ends in exit 3
  (never 5) with the agent back for the last runs.

Every wait has a deadline scaled by fbtest.SLOW; every process started here
is stopped at the end of its test.
"""

import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import unittest

import fbtest
import fbwire

READY_SERVER = r"listening on http://[^ ]+:(?P<port>\d+) "
READY_AGENT = r"listening on tcp://[^ ]+:(?P<port>\d+)$"
READY_ROGUE = r"^rogue-agent: listening on tcp://[^ ]+:(?P<port>\d+)$"
ROGUE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rogue_agent.py")

HB_MS = 100
LIVE_MS = int(1000 * fbtest.SLOW)
LIVE_S = LIVE_MS / 1000.0
COORD_TIMEOUT = 90.0

T = dict(hello=1, welcome=2, plan=3, prepare=4, ready=5, go=6, result=7, heartbeat=8,
         abort=9, error=10, bye=11, accept=12, stats_req=13, stats=14)
PROTO_VERSION = 4  # proto/proto.h's PROTO_VERSION
E_BAD_MESSAGE, E_BUSY, E_STATE = 1, 3, 7


class Run:
    def __init__(self, argv, status, out, err, elapsed, doc):
        self.argv, self.status, self.out, self.err = argv, status, out, err
        self.elapsed, self.json = elapsed, doc

    def describe(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.status} after {self.elapsed:.2f} s\n"
                f"--- stdout ---\n{self.out[-2000:]}\n--- stderr ---\n{self.err[-5000:]}")


class SessionCase(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbsession-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.json_path = os.path.join(self.dir, "results.json")

    def target(self, *extra):
        proc, port = self.start("target-server", ["--host", self.host, "--port", "0",
                                                  "--threads", "1", *extra], READY_SERVER)
        return proc, f"{self.host}:{port}"

    def agent(self, port=0, host=None):
        host = host or fbtest.next_host()
        proc, port = self.start("agent", ["--listen", f"{host}:{port}"], READY_AGENT)
        return proc, f"{host}:{port}"

    def rogue(self, *args):
        host = fbtest.next_host()
        proc, port = fbtest.start_process(
            self, [sys.executable, ROGUE, "--listen", f"{host}:0", *args], READY_ROGUE)
        return proc, f"{host}:{port}"

    def spawn(self, *args, live=LIVE_MS):
        argv = [fbtest.binary("coordinator"), "--heartbeat", str(HB_MS), "--liveness", str(live),
                "--export-json", self.json_path, *args]
        return fbtest.spawn_process(self, argv, cwd=self.dir), time.monotonic()

    def finish(self, proc, started, timeout=COORD_TIMEOUT):
        status = proc.wait(timeout * fbtest.SLOW)
        elapsed = time.monotonic() - started
        if status is None:
            proc.kill()
            self.fail(f"coordinator still running after {timeout * fbtest.SLOW:.0f} s; killed\n"
                      f"$ {' '.join(proc.argv)}\nstderr:\n{proc.stderr()[-5000:]}")
        out, err = proc.wait_stdout(), proc.stderr()
        marker = fbtest.sanitizer_report(err)
        if marker:
            self.fail(f"coordinator reported '{marker}':\n{err[-6000:]}")
        doc = None
        if os.path.exists(self.json_path):
            with open(self.json_path, "rb") as f:
                raw = f.read()
            try:
                doc = json.loads(raw.decode("utf-8"))  # strict: valid UTF-8 and JSON
            except ValueError as e:
                self.fail(f"{self.json_path} is not valid UTF-8 JSON ({e}): {raw[:1000]!r}")
        return Run(proc.argv, status, out, err, elapsed, doc)

    def coordinator(self, *args, **kw):
        proc, started = self.spawn(*args, **kw)
        return self.finish(proc, started)

    def assert_exit(self, run, code):
        self.assertEqual(run.status, code, f"expected exit {code}\n{run.describe()}")

    def result(self, run):
        self.assertIsNotNone(run.json, f"no JSON export\n{run.describe()}")
        (r,) = run.json["results"]
        return r


# ---- the agent's table, driven by hand ------------------------------------------

class Coord:
    """A hand-driven coordinator: one DEALER connection to an agent."""

    def __init__(self, test, agent, session):
        host, port = agent.rsplit(":", 1)
        self.client = fbwire.Client(host, int(port))
        self.session = session
        test.addCleanup(self.client.close)

    def send(self, t, session=None, **fields):
        m = {"v": PROTO_VERSION, "t": T[t], "s": self.session if session is None else session, **fields}
        self.client.send(fbwire.pack(m))

    def hello(self, hb=HB_MS, live=LIVE_MS, name="hand", session=None):
        self.send("hello", session, heartbeat_ms=hb, liveness_ms=live, name=name)

    def step(self, t, bench=0, run=0, clock=0):
        self.send(t, bench=bench, run=run, warmup=0, clock_ns=clock)

    def recv(self, timeout, heartbeats=False):
        """The next message (heartbeats skipped unless asked for), or None
        after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.client.recv(max(0.0, deadline - time.monotonic()))
            if data is None:
                return None
            m = fbwire.unpack(data)
            if heartbeats or m["t"] != T["heartbeat"]:
                return m

    def expect(self, test, t, timeout=5.0, code=None):
        m = self.recv(timeout * fbtest.SLOW)
        test.assertIsNotNone(m, f"no {t} within {timeout * fbtest.SLOW:.1f} s")
        test.assertEqual(m["t"], T[t], m)
        if code is not None:
            test.assertEqual(m["code"], code, m)
        return m


class WireVersion(unittest.TestCase):
    def test_python_peers_speak_the_current_version(self):
        """The hand-driven peers here and rogue_agent.py speak proto.h's version."""
        import rogue_agent
        header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto",
                              "proto.h")
        with open(header) as f:
            v = int(re.search(r"#define PROTO_VERSION (\d+)", f.read()).group(1))
        self.assertEqual(PROTO_VERSION, v)
        self.assertEqual(rogue_agent.PROTO_VERSION, v)


class AgentTable(SessionCase):
    def setUp(self):
        super().setUp()
        _, self.target_addr = self.target("--delay", "50")
        self.agent_proc, self.agent_addr = self.agent()

    def plan(self, c, requests=10, connections=1):
        th, tp = self.target_addr.rsplit(":", 1)
        c.send("plan", target_host=th, target_port=int(tp), timeout_ms=5000,
               benches=[{"strategy": "threads-reuse", "requests": requests, "chunk": connections,
                         "connections": connections}])
        self.assertEqual(c.expect(self, "accept")["t"], T["accept"])

    def prepared(self, session, live=LIVE_MS):
        c = Coord(self, self.agent_addr, session)
        c.hello(live=live)
        c.expect(self, "welcome")
        self.plan(c, requests=200)
        c.step("prepare")
        c.expect(self, "ready")
        return c

    def test_busy_answers_are_no_sign_of_life(self):
        """A session whose coordinator went silent ends after its liveness even
        while another coordinator keeps saying hello (answered busy)."""
        self.prepared(0x1001)
        other = Coord(self, self.agent_addr, 0x2002)
        deadline = time.monotonic() + 10 * LIVE_S
        got = None
        while time.monotonic() < deadline:
            other.hello()
            got = other.recv(0.2)
            if got and got["t"] == T["welcome"]:
                break
            self.assertEqual(got and (got["t"], got["code"]), (T["error"], E_BUSY), got)
        self.assertEqual(got and got["t"], T["welcome"], "the silent session never ended")
        self.assertRegex(self.agent_proc.stderr(), r"session 0*1001 .*ended: coordinator lost")

    def test_greeted_again_mid_run(self):
        """The serving coordinator's own hello (it lost the agent) aborts the
        run: busy while it winds down, then welcome; never busy forever."""
        c = self.prepared(0x1003)
        c.step("go")
        time.sleep(0.3)
        deadline = time.monotonic() + 10 * fbtest.SLOW
        answers = []
        while time.monotonic() < deadline:
            c.hello()
            m = c.recv(0.3)
            if m is None:
                continue
            answers.append(m["t"] if m["t"] != T["error"] else ("error", m["code"]))
            if m["t"] == T["welcome"]:
                break
        self.assertEqual(answers[-1:], [T["welcome"]], answers)
        self.assertNotIn(T["result"], answers, "the aborted run's result was sent")
        self.assertTrue(set(answers[:-1]) <= {("error", E_BUSY)}, answers)
        self.assertRegex(self.agent_proc.stderr(), r"greeted this agent again")

    def test_reconnect_keeps_the_session(self):
        """A message of the session from a new connection is the session's."""
        c = Coord(self, self.agent_addr, 0x1004)
        c.hello(live=60000)
        c.expect(self, "welcome")
        again = Coord(self, self.agent_addr, 0x1004)
        again.send("heartbeat", seq=77)
        m = again.recv(5 * fbtest.SLOW, heartbeats=True)
        self.assertIsNotNone(m, "no answer on the new connection")
        self.assertEqual((m["t"], m.get("seq")), (T["heartbeat"], 77), m)
        self.plan(again)  # and the session goes on there

    def test_prepared_run_waits_for_go_only_so_long(self):
        live = int(500 * fbtest.SLOW)
        c = self.prepared(0x1005, live=live)
        started = time.monotonic()
        while time.monotonic() - started < 5 * live / 1000.0:  # keep the session alive
            c.send("heartbeat", seq=1)
            if "no go for the prepared run" in self.agent_proc.stderr():
                break
            time.sleep(0.05)
        self.assertIn("no go for the prepared run", self.agent_proc.stderr())
        c.step("go")
        c.expect(self, "error", code=E_STATE)

    def test_coordinator_name_is_cleaned_before_logging(self):
        c = Coord(self, self.agent_addr, 0x1006)
        c.send("hello", heartbeat_ms=HB_MS, liveness_ms=60000,
               name=b"evil\nagent: forged line\x1b[31m\xff")
        c.expect(self, "welcome")
        self.assertTrue(fbtest.wait_for_stderr(self.agent_proc, r"opened by evil", 5))
        err = self.agent_proc.stderr()
        self.assertIn("opened by evil?agent: forged line?[31m?\n", err)
        self.assertNotIn("\nagent: forged line", err)
        self.assertNotIn("\x1b", err)


class HostilePlans(SessionCase):
    """Plans a coordinator of ours never sends, each refused with error 1
    and its reason, the agent serving on: the same session's next plan is
    accepted. A command must arrive as it was sent or not at all (a
    cleaned command would be another command)."""

    def setUp(self):
        super().setUp()
        _, self.target_addr = self.target()
        host = fbtest.next_host()
        self.agent_proc, port = self.start("agent", ["--listen", f"{host}:0", "--allow-exec"],
                                           READY_AGENT)
        self.agent_addr = f"{host}:{port}"
        self.c = Coord(self, self.agent_addr, 0x3001)
        self.c.hello(live=60000)
        self.c.expect(self, "welcome")

    def send_plan(self, **bench):
        th, tp = self.target_addr.rsplit(":", 1)
        b = {"requests": 1, "chunk": 1, "connections": 1, **bench}
        self.c.send("plan", target_host=th, target_port=int(tp), timeout_ms=5000, benches=[b])

    def refused(self, why, **bench):
        self.send_plan(**bench)
        m = self.c.expect(self, "error", code=E_BAD_MESSAGE)
        self.assertIn(why, m["message"])
        self.send_plan(strategy="threads-reuse")  # still serving, the session too
        self.c.expect(self, "accept")

    def test_longest_command_runs(self):
        cmd = "true #" + "x" * (1023 - 6)
        self.send_plan(command=cmd)
        self.c.expect(self, "accept")
        self.c.step("prepare")
        self.c.expect(self, "ready")
        self.c.step("go")
        r = self.c.expect(self, "result", timeout=10)
        self.assertEqual(r.get("exit_code", 0), 0, r)

    def test_command_too_long(self):
        self.refused("field 'command': text too long", command="true #" + "x" * (1024 - 6))

    def test_command_with_control_characters(self):
        for cmd in ("echo a\ntouch x", "echo\tb", "echo \x1b[2J", "echo \u0085"):
            with self.subTest(cmd=cmd):
                self.refused("field 'command': control characters", command=cmd)
        self.assertNotIn("touch", self.agent_proc.stderr())

    def test_command_without_words(self):
        # refused with the plan, not after go
        self.refused("has no words", command="   ", no_shell=1)
        self.refused("has no words", command="   ")

    def test_command_not_utf8(self):
        self.refused("field 'command': control characters or bytes that are not UTF-8",
                     command=b"cat caf\xe9")

    def test_rate_without_duration(self):
        self.refused("both or neither", strategy="async-for", rate_milli=1000)
        self.refused("both or neither", strategy="async-for", duration_ms=1000)

    def test_rate_too_high(self):
        self.refused("field 'rate_milli'", strategy="async-for", rate_milli=10**10 + 1,
                     duration_ms=1, requests=10**4)

    def test_rate_and_requests_disagree(self):
        # 1.5/s for 1 s is 2 requests (rounded up), not 1
        self.refused("1 requests, but rate x duration is 2", strategy="async-for",
                     rate_milli=1500, duration_ms=1000)
        # the longest schedule at the highest rate would be 8.64e11 requests
        self.refused("but rate x duration is 864000000000", strategy="async-for",
                     rate_milli=10**10, duration_ms=86400000, requests=10**7)

    def test_rate_on_a_command(self):
        self.refused("a command runs on no schedule", command="true", rate_milli=1000,
                     duration_ms=1)


# ---- the coordinator's view, with rogue agents ---------------------------------

class RogueTests(SessionCase):
    """A real agent and a rogue one in lockstep: 20 requests a run."""

    def run_pair(self, rogue_args, *extra, expect=3, runs=2, delay=0):
        _, target = self.target("--delay", str(delay))
        _, real = self.agent()
        _, rogue = self.rogue(*rogue_args)
        run = self.coordinator("--agents", f"{real},{rogue}", "--target", target, "--matrix",
                               "threads-reuse", "-r", "20", "-c", "4", "--runs", str(runs),
                               "-w", "1", *extra)
        self.assert_exit(run, expect)
        return run, real, rogue

    def assert_refused(self, lie, why):
        run, real, rogue = self.run_pair(["--lie", lie])
        self.assertRegex(run.err, rf"agent {re.escape(rogue)}: result of run 1 of benchmark 0 "
                                  rf"refused: {why}", run.describe())
        self.assertRegex(run.err, rf"result of run 2 of benchmark 0 refused", run.describe())
        r = self.result(run)
        self.assertEqual(r["exit_codes"], [3, 3], run.describe())
        real_part, rogue_part = r["fleetbench"]["agents"]
        self.assertEqual(rogue_part["times"], [None, None], rogue_part)
        self.assertNotIn(None, real_part["times"], real_part)
        self.assertEqual(r["fleetbench"]["requests"]["ok"], 40, "a lie reached the export")
        self.assertLess(r["fleetbench"]["requests"]["bytes"], 40 * 1000)
        self.assertLess(r["fleetbench"]["requests"]["connections"], 100)
        self.assertEqual(r["fleetbench"]["latency"]["count"], 40)
        for t in r["times"]:
            self.assertLess(t, 60.0, "a lying wall time reached the export")
        return run

    def test_lie_ok(self):
        self.assert_refused("ok=10**7", r"ok 10000000 \+ failed 0 != 20 requests")

    def test_lie_failed(self):
        self.assert_refused("failed.3=5", r"ok 20 \+ failed 5 != 20 requests")

    def test_lie_wall_max(self):
        self.assert_refused("wall_ns=2**64-1", r"wall time 18446744073709551615 ns is not in")

    def test_lie_wall_zero(self):
        self.assert_refused("wall_ns=0", r"wall time 0 ns is not in")

    def test_lie_start_zero(self):
        self.assert_refused("start_ns=0", r"start 0 \+ wall \d+ ns is outside the run's window")

    def test_lie_start_max(self):
        self.assert_refused("start_ns=2**64-1", r"start 18446744073709551615 \+ wall \d+ ns is "
                                                r"outside")

    def test_lie_bytes(self):
        self.assert_refused("bytes=2**63", r"9223372036854775808 bytes for 20 requests")

    def test_lie_connections(self):
        self.assert_refused("connections=2**63", r"9223372036854775808 connections for 20 "
                                                  r"requests")

    def test_lie_cpu(self):
        self.assert_refused("user_ns=2**63", r"CPU time user 9223372036854775808 \+ sys")

    def test_lie_histogram_counts(self):
        self.assert_refused("buckets=[0,19]", r"latency histogram counts 19 requests, not 20")

    def test_lie_histogram_wrap(self):
        self.assert_refused("buckets=[0,2**64-1,1,21]", r"latency bucket 1 \(count 21\) out of "
                                                        r"range")

    def test_lie_histogram_index(self):
        self.assert_refused("buckets=[5000,20]", r"latency bucket 5000 \(count 20\) out of range")

    def test_lie_latency_extremes(self):
        self.assert_refused("lat_max=10**12", r"latency min 1000, max 1000000000000")

    def test_lie_step(self):
        self.assert_refused("run=99", r"it is run 99 of benchmark 0, not the one asked")

    def test_bad_utf8_welcome(self):
        """Bad UTF-8 and escape codes in the facts: cleaned, results whole."""
        bad = "ff1b5b33316d0a6576696c"  # \xff ESC [31m \n evil
        run, real, rogue = self.run_pair(["--welcome", f"host={bad}", "--welcome",
                                          f"cpu={bad}"], expect=0)
        hosts = {h["name"]: h for h in run.json["fleetbench"]["agents"]}
        self.assertEqual(hosts[rogue]["host"], "??[31m?evil")
        self.assertEqual(hosts[rogue]["cpu_model"], "??[31m?evil")
        self.assertEqual(self.result(run)["exit_codes"], [0, 0])

    def test_heartbeats_but_no_result(self):
        """Lost at the run timeout (the default: 2 x 1 wave x 200 ms + the
        liveness), in bounded time; the other agent's runs are whole."""
        run, real, rogue = self.run_pair(["--no-result"], "--timeout", "200", "-c", "20")
        want = (2 * 200 + LIVE_MS) / 1000.0
        self.assertRegex(run.err, rf"agent {re.escape(rogue)} lost: no result of run 0 of "
                                  rf"benchmark 0 within the run timeout \({want:.1f} s\)")
        r = self.result(run)
        self.assertNotIn(None, r["fleetbench"]["agents"][0]["times"])
        self.assertEqual(r["fleetbench"]["agents"][1]["times"], [None, None])
        self.assertLess(run.elapsed, 10 * want + 20 * fbtest.SLOW, run.describe())

    def test_run_timeout_option(self):
        run, real, rogue = self.run_pair(["--no-result"], "--run-timeout", "1")
        self.assertRegex(run.err, r"no result of run 0 of benchmark 0 within the run timeout "
                                  r"\(1\.0 s\)")

    def test_silent_agent_named(self):
        _, target = self.target()
        _, rogue = self.rogue("--silent")
        run = self.coordinator("--agents", rogue, "--target", target, "--matrix", "async-for",
                               "-r", "5", "--runs", "1", "-w", "0")
        self.assert_exit(run, 3)
        self.assertIn(f"no answer from {rogue} in {2 * LIVE_S:.1f} s — is `agent` running there "
                      f"and reachable?", run.err)

    def test_busy_agent_named(self):
        run, real, rogue = self.run_pair(["--busy"])
        self.assertRegex(run.err, rf"agent {re.escape(rogue)} lost: still busy after \d+ ms: "
                                  r"rogue agent is always busy")

    def test_agent_dropping_the_session_comes_back(self):
        """Error 7 mid-matrix (what a restarted agent answers): lost, greeted
        again, back from the next run; exit 3, never 5."""
        run, real, rogue = self.run_pair(["--drop-session-at", "2"], runs=6)
        self.assertRegex(run.err, rf"agent {re.escape(rogue)} lost: out of step")
        self.assertIn(f"agent {rogue} is back", run.err)
        times = self.result(run)["fleetbench"]["agents"][1]["times"]
        self.assertIsNone(times[0])  # the run of the second go (the first is the warmup)
        self.assertIsNotNone(times[-1], times)

    def test_frozen_while_prepared_comes_back(self):
        """Frozen after its ready for longer than the liveness (the go and the
        coordinator's abort and hellos wait in its queue): lost, then back.
        Runs of 5 x 20 ms, enough of them to outlast the freeze and a greeting."""
        freeze = 1.5 * LIVE_S
        runs = int((1 + freeze + 3 * LIVE_S) / 0.1) + 10
        run, real, rogue = self.run_pair(["--freeze-after-ready", str(freeze)], runs=runs,
                                         delay=20)
        self.assertIn(f"agent {rogue} lost", run.err)
        self.assertIn(f"agent {rogue} is back", run.err)
        times = self.result(run)["fleetbench"]["agents"][1]["times"]
        self.assertIsNotNone(times[-1], run.describe())

    def test_flood(self):
        """Thousands of unasked messages: ignored, a few logged, the matrix whole."""
        run, real, rogue = self.run_pair(["--flood", "4000"], expect=0)
        self.assertLessEqual(len(re.findall(rf"agent {re.escape(rogue)}: ignored", run.err)), 10,
                             run.describe())
        self.assertEqual(self.result(run)["exit_codes"], [0, 0])

    def test_malformed_result(self):
        run, real, rogue = self.run_pair(["--malformed-result"], expect=5)
        self.assertRegex(run.err, rf"agent {re.escape(rogue)} sent a malformed message: field "
                                  r"'ok'")


# ---- faults with real processes --------------------------------------------------

class FaultTests(SessionCase):
    """Two agents, runs of 10 requests two at a time against a 20 ms target
    (~0.1 s each), enough of them to outlast a fault, a liveness to notice
    it and a greeting to come back."""

    RUNS = int((2 + 4 * LIVE_S) * 10)

    def start_matrix(self, mode):
        _, target = self.target("--delay", "20")
        first, a = self.agent()
        second, b = self.agent()
        proc, started = self.spawn("--agents", f"{a},{b}", "--target", target, "--matrix",
                                   "threads-reuse", "-r", "10", "-c", "2", "--runs",
                                   str(self.RUNS), "-w", "0", "--mode", mode)
        self.assertTrue(fbtest.wait_for_stderr(second, r"session \w+ opened", 10 * fbtest.SLOW))
        time.sleep(1.0 * fbtest.SLOW)
        self.assertTrue(proc.alive(), proc.stderr())
        return proc, started, (first, a), (second, b)

    def assert_all_runs(self, r):
        """Every run asked is there once: measured (in "times", hyperfine's
        list) or unmeasured (every agent lost)."""
        runs = r["fleetbench"]["runs"]
        self.assertEqual(len(r["times"]), runs["measured"])
        self.assertEqual(runs["measured"] + runs["unmeasured"], self.RUNS, runs)

    def assert_back(self, run, name):
        self.assert_exit(run, 3)
        self.assertIn(f"agent {name} is back", run.err)
        r = self.result(run)
        self.assert_all_runs(r)
        codes = r["exit_codes"]
        self.assertIn(3, codes)
        self.assertEqual(codes[-1], 0, f"the agent was not back for the last run: {codes}")
        times = r["fleetbench"]["agents"][1]["times"]
        self.assertIsNone(times[codes.index(3)])
        self.assertIsNotNone(times[-1])

    def freeze_and_thaw(self, mode):
        proc, started, _, (second, b) = self.start_matrix(mode)
        second.popen.send_signal(signal.SIGSTOP)
        try:
            self.assertTrue(fbtest.wait_for_stderr(proc, rf"agent {re.escape(b)} lost",
                                                   5 * LIVE_S + 5))
            time.sleep(1.5 * LIVE_S)
        finally:
            second.popen.send_signal(signal.SIGCONT)
        self.assert_back(self.finish(proc, started), b)

    def test_agent_frozen_and_thawed_lockstep(self):
        self.freeze_and_thaw("lockstep")

    def test_agent_frozen_and_thawed_serial(self):
        self.freeze_and_thaw("serial")

    def test_agent_restarted_within_liveness(self):
        proc, started, _, (second, b) = self.start_matrix("lockstep")
        second.popen.kill()
        second.popen.wait(5)
        host, port = b.rsplit(":", 1)
        self.agent(port=int(port), host=host)
        self.assert_back(self.finish(proc, started), b)

    def test_coordinator_paused(self):
        """Its agents drop the session; it finds them gone, greets them again
        and goes on: exit 3 (0 if nothing was lost), never 5."""
        proc, started, _, _ = self.start_matrix("lockstep")
        proc.popen.send_signal(signal.SIGSTOP)
        time.sleep(2.5 * LIVE_S)
        proc.popen.send_signal(signal.SIGCONT)
        run = self.finish(proc, started)
        self.assertIn(run.status, (0, 3), run.describe())
        r = self.result(run)
        self.assert_all_runs(r)
        self.assertEqual(r["exit_codes"][-1], 0, run.describe())


if __name__ == "__main__":
    unittest.main()
