"""The distributed path end to end: coordinator, agents and target-server.

Every test starts real processes on 127.0.0.x (a target-server, agent
daemons, then a coordinator that runs to completion) and checks what a user
sees: the exit code (README.md's table), the hyperfine-style terminal output, and the
exports field by field (hyperfine's JSON schema plus the "fleetbench"
extras of coordinator/export_json.c, hyperfine's markdown and CSV).

Failure paths are driven for real: an agent address where nothing listens,
a listener that never speaks ZMTP, an agent SIGKILLed mid-matrix, protocol
version mismatches both ways, a target that is down or answers 500, bad
flags, and SIGINT to the coordinator.  Every wait has a deadline (scaled by
fbtest.SLOW for sanitized builds), every process is stopped at the end of
its test, and a sanitizer report on any process's stderr fails the test
(the embedded agent and target-server write to the coordinator's stderr).

Heartbeats are 100 ms and the liveness 1 s (x SLOW) so that losing an agent
takes about a second and the module runs in well under three minutes.
"""

import csv
import json
import math
import os
import re
import shutil
import signal
import statistics
import tempfile
import time
import unittest

import fbtest

READY_SERVER = r"^target-server: listening on http://\S+:(?P<port>\d+) "
READY_AGENT = r"^agent: listening on tcp://[0-9.]+:(?P<port>\d+)\s*$"

STRATEGIES = ["threads-recreate", "threads-reuse", "threads-map", "async-for", "async-map"]
GROUPS = ["all", "threads", "async"]
CAUSES = ["connect", "timeout", "transport", "http_status", "bad_body", "wrong_result"]
HYPERFINE_KEYS = ["command", "mean", "stddev", "median", "user", "system", "min", "max",
                  "times", "exit_codes"]

HB_MS = 100
LIVE_MS = int(1000 * fbtest.SLOW)
LIVE_S = LIVE_MS / 1000.0
# Seconds one coordinator run may take before the test gives up (x SLOW).
COORD_TIMEOUT = 60.0
# The addresses of the three-agent lockstep test (the brief's fleet); no
# other test of this module runs at the same time, and listeners use port 0.
FLEET_HOSTS = ["127.0.0.3", "127.0.0.4", "127.0.0.5"]


def close(a, b, rel=1e-9, abs_tol=1e-12):
    """a == b up to the 15 significant digits of the JSON export."""
    return a is not None and b is not None and math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def strip_addresses(text):
    """`text` with IPv4 addresses and ports replaced, so that digits left are
    numbers the program meant (version numbers, counts)."""
    return re.sub(r"\d+\.\d+\.\d+\.\d+(:\d+)?", "ADDR", text)


class Run:
    """A finished coordinator: exit status, output, elapsed seconds, JSON export."""

    def __init__(self, argv, status, out, err, elapsed, doc):
        self.argv, self.status, self.out, self.err = argv, status, out, err
        self.elapsed, self.json = elapsed, doc

    def describe(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.status} after {self.elapsed:.2f} s\n"
                f"--- stdout ---\n{self.out[-3000:]}\n--- stderr ---\n{self.err[-4000:]}")


class CoordinatorCase(fbtest.FbTestCase):
    """Helpers: targets and agents on 127.0.0.x, coordinator runs, JSON checks."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbcoord-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.json_path = os.path.join(self.dir, "results.json")

    # -- processes --

    def target(self, *extra, host=None):
        """A target-server with one event loop; returns (Process, "HOST:PORT")."""
        host = host or self.host
        proc, port = self.start("target-server", ["--host", host, "--port", "0",
                                                  "--threads", "1", *extra], READY_SERVER)
        return proc, f"{host}:{port}"

    def agent(self, host=None, *extra):
        """An agent daemon on host:0; returns (Process, "HOST:PORT")."""
        host = host or fbtest.next_host()
        proc, port = self.start("agent", ["--listen", f"{host}:0", *extra], READY_AGENT)
        return proc, f"{host}:{port}"

    def coordinator_argv(self, args, short=True, export=True):
        argv = [fbtest.binary("coordinator")]
        if short:  # quick loss detection
            argv += ["--heartbeat", str(HB_MS), "--liveness", str(LIVE_MS)]
        if export:
            argv += ["--export-json", self.json_path]
        return argv + list(args)

    def spawn(self, *args, short=True, export=True, cwd=None):
        """Starts a coordinator (cwd: this test's directory); returns (Process, start time)."""
        argv = self.coordinator_argv(args, short, export)
        return fbtest.spawn_process(self, argv, cwd=cwd or self.dir), time.monotonic()

    def finish(self, proc, started, timeout=COORD_TIMEOUT, json_path=None):
        """Waits for a spawned coordinator to exit; returns its Run."""
        status, out, err, doc = fbtest.finish_process(self, proc, timeout,
                                                      json_path or self.json_path)
        return Run(proc.argv, status, out, err, proc.exited_at - started, doc)

    def coordinator(self, *args, timeout=COORD_TIMEOUT, **kw):
        """Runs a coordinator to completion; returns its Run."""
        proc, started = self.spawn(*args, **kw)
        return self.finish(proc, started, timeout)

    def assert_exit(self, run, code):
        self.assertEqual(run.status, code, f"expected exit {code}\n{run.describe()}")

    def assert_json(self, run):
        self.assertIsNotNone(run.json, f"no JSON export at {self.json_path}\n{run.describe()}")
        left = [n for n in os.listdir(os.path.dirname(self.json_path)) if n.endswith(".tmp")]
        self.assertEqual(left, [], "a temporary export file was left behind")
        return run.json

    # -- JSON checks --

    def check_stats(self, r):
        """hyperfine's summary numbers agree with "times" (the measured runs)."""
        times = r["times"]
        ctx = f"result {r['command']!r}: {json.dumps({k: r[k] for k in HYPERFINE_KEYS})}"
        self.assertTrue(times, ctx)
        for t in times:
            self.assertIsInstance(t, (int, float), ctx)
            self.assertGreater(t, 0, ctx)
        self.assertEqual(len(r["exit_codes"]), len(times), ctx)
        for c in r["exit_codes"]:
            self.assertIsInstance(c, int, ctx)
        self.assertTrue(close(r["mean"], statistics.fmean(times)), ctx)
        if len(times) > 1:
            self.assertTrue(close(r["stddev"], statistics.stdev(times), rel=1e-7), ctx)
        else:
            self.assertIsNone(r["stddev"], ctx)  # hyperfine: null for one run
        self.assertTrue(close(r["median"], statistics.median(times)), ctx)
        self.assertTrue(close(r["min"], min(times)), ctx)
        self.assertTrue(close(r["max"], max(times)), ctx)
        self.assertLessEqual(r["min"], r["median"], ctx)
        self.assertLessEqual(r["median"], r["max"], ctx)
        for key in ("user", "system"):
            self.assertIsInstance(r[key], (int, float), ctx)
            self.assertGreaterEqual(r[key], 0, ctx)

    def check_agents(self, r, names, lockstep):
        """Per-agent arrays aligned with "times"; each time is the makespan."""
        fb = r["fleetbench"]
        n = len(r["times"])
        ctx = f"result {r['command']!r} fleetbench.agents: {json.dumps(fb['agents'])[:3000]}"
        self.assertEqual([a["name"] for a in fb["agents"]], names, ctx)
        for a in fb["agents"]:
            for key in ("times", "user", "system", "start_offsets"):
                self.assertEqual(len(a[key]), n, f"{key}: {ctx}")
            for key in ("ok", "failed"):
                self.assertIsInstance(a[key], int, ctx)
        users = []
        for k in range(n):
            live = [a for a in fb["agents"] if a["times"][k] is not None]
            self.assertTrue(live, f"run {k} measured with no agent: {ctx}")
            walls = [a["times"][k] for a in live]
            offsets = [a["start_offsets"][k] for a in live]
            for a in fb["agents"]:  # an agent lost in a run has nulls throughout
                nulls = {key: a[key][k] is None
                         for key in ("times", "user", "system", "start_offsets")}
                self.assertEqual(len(set(nulls.values())), 1, f"run {k}: {nulls}: {ctx}")
            for w in walls:
                self.assertGreater(w, 0, ctx)
            # the run's time is the makespan over the agents: never below one agent's time
            self.assertGreaterEqual(r["times"][k], max(walls) - 1e-9, f"run {k}: {ctx}")
            for o in offsets:
                self.assertGreaterEqual(o, 0, ctx)
            if lockstep:
                self.assertEqual(min(offsets), 0, f"run {k}: offsets relative to the first")
                self.assertTrue(close(r["times"][k], max(o + w for o, w in zip(offsets, walls)),
                                      abs_tol=1e-9), f"run {k}: time is not the makespan: {ctx}")
            else:  # one agent after another: each timed on its own
                self.assertEqual(offsets, [0] * len(offsets), ctx)
                self.assertTrue(close(r["times"][k], max(walls), abs_tol=1e-9),
                                f"run {k}: {ctx}")
            users.append(statistics.fmean(a["user"][k] for a in live))
        # "user" reads like one process: each run's mean over its agents, then the mean
        self.assertTrue(close(r["user"], statistics.fmean(users), rel=1e-7, abs_tol=1e-9),
                        f"user {r['user']} vs {statistics.fmean(users)}")

    def check_latency(self, lat, count):
        self.assertEqual(lat["count"], count, lat)
        if count == 0:
            return
        keys = ["min", "p50", "p90", "p99", "p99.9", "max"]
        for key in keys + ["mean"]:
            self.assertIsInstance(lat[key], (int, float), lat)
        self.assertGreater(lat["min"], 0, lat)
        values = [lat[k] for k in keys]
        for lo, hi in zip(values, values[1:]):  # histogram percentiles: 1 % relative error
            self.assertLessEqual(lo, hi * 1.01 + 1e-9, lat)
        self.assertLessEqual(lat["min"], lat["mean"] * 1.01 + 1e-9, lat)
        self.assertLessEqual(lat["mean"], lat["max"] * 1.01 + 1e-9, lat)

    def check_result(self, r, *, command, runs, requests, names, lockstep=True,
                     failed_cause=None, setup=None):
        """One result of a run where no agent was lost."""
        nag = len(names)
        ctx = f"result {command!r}"
        self.assertEqual(r["command"], command)
        keys = HYPERFINE_KEYS + (["parameters"] if "parameters" in r else []) + ["fleetbench"]
        self.assertEqual(list(r), keys, f"{ctx}: keys (hyperfine's, in its order)")
        self.assertEqual(len(r["times"]), runs, ctx)
        code = 2 if failed_cause else 0
        self.assertEqual(r["exit_codes"], [code] * runs, ctx)
        self.check_stats(r)
        self.check_agents(r, names, lockstep)
        fb = r["fleetbench"]
        total = requests * nag * runs
        if setup is not None:
            self.assertEqual(fb["setup"], setup, ctx)
        self.assertEqual(fb["runs"], {"measured": runs, "failed": runs if failed_cause else 0,
                                      "lost": 0, "unmeasured": 0}, ctx)
        want_fail = {c: (total if c == failed_cause else 0) for c in CAUSES}
        self.assertEqual(fb["failures"], want_fail, ctx)
        ok = 0 if failed_cause else total
        self.assertEqual(fb["requests"]["ok"], ok, ctx)
        self.assertEqual(fb["requests"]["failed"], total - ok, ctx)
        if not failed_cause:
            self.assertGreater(fb["requests"]["bytes"], 0, ctx)
            self.assertGreater(fb["requests"]["connections"], 0, ctx)
            self.assertTrue(close(fb["throughput"], ok / sum(r["times"]), rel=1e-6), fb)
        for a in fb["agents"]:
            self.assertEqual(a["ok"], ok // nag, f"{ctx}: {a}")
            self.assertEqual(a["failed"], (total - ok) // nag, f"{ctx}: {a}")
        # every request of every agent and run is in the histogram
        self.check_latency(fb["latency"], total)
        skew = fb["skew"]
        self.assertIsInstance(skew["p50"], (int, float), f"{ctx}: skew {skew}")
        self.assertIsInstance(skew["max"], (int, float), f"{ctx}: skew {skew}")
        self.assertGreaterEqual(skew["p50"], 0, skew)
        self.assertGreaterEqual(skew["max"], skew["p50"], skew)
        if lockstep:  # each run's skew is its latest start
            per_run = [max(a["start_offsets"][k] for a in fb["agents"]) for k in range(runs)]
            self.assertTrue(close(skew["max"], max(per_run), abs_tol=1e-9), (skew, per_run))
            self.assertTrue(close(skew["p50"], statistics.median(per_run), abs_tol=1e-9),
                            (skew, per_run))

    def check_document(self, doc, *, names, target, mode, warmup, live=None):
        """The top-level "fleetbench" key: target, date, mode, agents' host facts."""
        self.assertEqual(list(doc), ["results", "fleetbench"])
        top = doc["fleetbench"]
        self.assertEqual(top["target"], target)
        self.assertEqual(top["mode"], mode)
        self.assertEqual(top["warmup"], warmup)
        self.assertIsInstance(top["version"], str)
        self.assertTrue(top["version"])
        self.assertRegex(top["date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")
        self.assertEqual([a["name"] for a in top["agents"]], names)
        for a in top["agents"]:
            if live is not None and a["name"] not in live:
                continue  # a lost agent never told its facts
            self.assertGreater(a["cores"], 0, a)
            for key in ("host", "kernel", "libcurl", "libuv", "libzmq", "version"):
                self.assertIsInstance(a[key], str, a)
                self.assertTrue(a[key].strip(), f"{key} empty: {a}")
            self.assertIsInstance(a["cpu_model"], str, a)
            self.assertRegex(a["libzmq"], r"^\d+\.\d+\.\d+$", a)

    def check_lost_agent(self, r, dead_index, runs):
        """Every run of a benchmark had `dead_index` lost (lost before the first run)."""
        fb = r["fleetbench"]
        self.assertEqual(len(r["times"]), runs, r)
        self.assertEqual(r["exit_codes"], [3] * runs, r)
        self.assertEqual(fb["runs"]["lost"], runs, fb["runs"])
        self.assertEqual(fb["runs"]["unmeasured"], 0, fb["runs"])
        dead = fb["agents"][dead_index]
        for key in ("times", "user", "system", "start_offsets"):
            self.assertEqual(dead[key], [None] * runs, f"{key}: {dead}")
        self.assertEqual(dead["ok"], 0, dead)

    # -- timing helpers --

    def wait_session(self, agent_proc, timeout=15.0):
        """Waits until the agent logged that a coordinator opened a session."""
        m = fbtest.wait_for_stderr(agent_proc, r"session \S+ opened", timeout * fbtest.SLOW)
        self.assertIsNotNone(m, f"the agent never opened a session; stderr:\n"
                                f"{agent_proc.stderr()[-3000:]}")


class LockstepTests(CoordinatorCase):
    """Three agents in lockstep, then the same in serial mode."""

    def test_lockstep_three_agents(self):
        _, target = self.target()
        names = [self.agent(host)[1] for host in FLEET_HOSTS]
        run = self.coordinator("--agents", ",".join(names), "--target", target,
                               "--matrix", "threads-reuse,async-for", "-r", "50",
                               "--runs", "3", "-w", "1", "--mode", "lockstep")
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        self.check_document(doc, names=names, target=target, mode="lockstep", warmup=1)
        results = doc["results"]
        self.assertEqual([r["command"] for r in results],
                         ["threads-reuse -r 50 -c 100", "async-for -r 50 -c 100"])
        self.check_result(results[0], command="threads-reuse -r 50 -c 100", runs=3, requests=50,
                          names=names, setup={"strategy": "threads-reuse", "requests": 50,
                                              "chunk": 100})
        self.check_result(results[1], command="async-for -r 50 -c 100", runs=3,
                          requests=50, names=names,
                          setup={"strategy": "async-for", "requests": 50, "connections": 100})
        # only the strategy differs between the two: the one scanned dimension
        self.assertEqual(results[0]["parameters"], {"strategy": "threads-reuse"})
        self.assertEqual(results[1]["parameters"], {"strategy": "async-for"})
        # the terminal: hyperfine's blocks, then the comparison
        self.assertIn("Benchmark 1: threads-reuse -r 50 -c 100\n", run.out)
        self.assertIn("Benchmark 2: async-for -r 50 -c 100\n", run.out)
        self.assertRegex(run.out, r"(?m)^  Time \(mean ± σ\): +\S+ (s|ms|µs) ± +\S+ (s|ms|µs) +"
                                  r"\[User: \S+ (s|ms|µs), System: \S+ (s|ms|µs)\]$")
        self.assertRegex(run.out, r"(?m)^  Range \(min … max\): .* 3 runs$")
        self.assertIn("Start skew (3 agents)", run.out)
        self.assertRegex(run.out, r"(?m)^Summary$")
        self.assertRegex(run.out, r"(?m)^  (threads-reuse|async-for) .* ran$")
        self.assertRegex(run.out, r"times faster than (threads-reuse|async-for)")
        self.assertNotIn("\x1b[", run.out, "colour on a pipe")

    def test_serial_mode(self):
        _, target = self.target()
        names = [self.agent()[1] for _ in range(2)]
        run = self.coordinator("--agents", ",".join(names), "--target", target,
                               "--matrix", "threads-reuse,async-for", "-r", "30",
                               "--runs", "3", "-w", "1", "--mode", "serial")
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        self.check_document(doc, names=names, target=target, mode="serial", warmup=1)
        self.assertEqual(len(doc["results"]), 2)
        for r, cmd in zip(doc["results"], ["threads-reuse -r 30 -c 100",
                                           "async-for -r 30 -c 100"]):
            self.check_result(r, command=cmd, runs=3, requests=30, names=names, lockstep=False)
        self.assertIn("Benchmark 2: async-for -r 30 -c 100\n", run.out)

    def test_cartesian_product(self):
        _, target = self.target()
        _, name = self.agent()
        run = self.coordinator("--agents", name, "--target", target,
                               "--matrix", "threads-reuse,async-for", "-r", "10,20",
                               "-c", "5,10", "--connections", "4", "--runs", "1", "-w", "0")
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        want = {  # command -> (parameters, setup)
            f"threads-reuse -r {r} -c {c}": (
                {"chunk": str(c), "requests": str(r), "strategy": "threads-reuse"},
                {"strategy": "threads-reuse", "requests": r, "chunk": c})
            for r in (10, 20) for c in (5, 10)}
        want.update({  # connections takes one value: not a scanned dimension
            f"async-for -r {r} --connections 4": (
                {"requests": str(r), "strategy": "async-for"},
                {"strategy": "async-for", "requests": r, "connections": 4})
            for r in (10, 20)})
        got = [r["command"] for r in doc["results"]]
        self.assertEqual(sorted(got), sorted(want), "2x2 threads-reuse + 2 async-for")
        for r in doc["results"]:
            params, setup = want[r["command"]]
            self.check_result(r, command=r["command"], runs=1, requests=setup["requests"],
                              names=[name], setup=setup)
            self.assertEqual(r["parameters"], params, r["command"])
            self.assertEqual(list(r["parameters"]), sorted(params), "hyperfine's key order")
        for i, cmd in enumerate(got, 1):
            self.assertIn(f"Benchmark {i}: {cmd}\n", run.out)
        self.assertRegex(run.out, r"(?m)^  Time \(abs ≡\): ")  # one run: no σ


    def test_target_as_a_url(self):
        """--target http://HOST:PORT/ is HOST:PORT, as curl or a browser is given it."""
        _, target = self.target()
        _, name = self.agent()
        run = self.coordinator("--agents", name, "--target", f"http://{target}/",
                               "--matrix", "async-for", "-r", "10", "--runs", "1", "-w", "0")
        self.assert_exit(run, 0)
        self.assertEqual(self.assert_json(run)["fleetbench"]["target"], target)


class AgentLossTests(CoordinatorCase):
    """Agents that never answer, or die mid-matrix."""

    def bound(self, run_time):
        """Seconds a run with one loss may take: three liveness periods plus the runs."""
        return 3 * LIVE_S + (run_time + 3.0) * fbtest.SLOW

    def test_dead_port_with_real_agent(self):
        _, target = self.target()
        _, real = self.agent()
        dead = f"{self.host}:{fbtest.unused_port(self.host)}"
        run = self.coordinator("--agents", f"{real},{dead}", "--target", target,
                               "--matrix", "async-for", "-r", "20", "--runs", "2", "-w", "0")
        self.assert_exit(run, 3)
        self.assertLess(run.elapsed, self.bound(1.0), run.describe())
        self.assertRegex(run.err, rf"{re.escape(dead)}.*lost|lost.*{re.escape(dead)}")
        doc = self.assert_json(run)
        self.check_document(doc, names=[real, dead], target=target, mode="lockstep",
                            warmup=0, live=[real])
        (r,) = doc["results"]
        self.check_stats(r)
        self.check_agents(r, [real, dead], lockstep=True)
        self.check_lost_agent(r, 1, runs=2)
        fb = r["fleetbench"]
        self.assertEqual(fb["agents"][0]["ok"], 40, fb["agents"][0])  # the real agent's runs
        self.assertEqual(fb["requests"]["ok"], 40)
        self.check_latency(fb["latency"], 40)
        self.assertIn("Benchmark 1: async-for -r 20 -c 100\n", run.out)

    def test_only_a_dead_port(self):
        dead = f"{self.host}:{fbtest.unused_port(self.host)}"
        _, target = self.target()
        run = self.coordinator("--agents", dead, "--target", target, "--matrix", "async-for",
                               "-r", "20", "--runs", "2", "-w", "0")
        self.assert_exit(run, 3)
        self.assertLess(run.elapsed, self.bound(0), run.describe())

    def test_silent_listener_instead_of_an_agent(self):
        """A TCP peer that accepts the connection but never speaks ZMTP."""
        silent = fbtest.SilentListener(self.host)
        self.addCleanup(silent.close)
        _, target = self.target()
        _, real = self.agent()
        name = f"{silent.host}:{silent.port}"
        run = self.coordinator("--agents", f"{name},{real}", "--target", target,
                               "--matrix", "threads-reuse", "-r", "20", "-c", "5",
                               "--runs", "2", "-w", "0")
        self.assert_exit(run, 3)
        self.assertLess(run.elapsed, self.bound(1.0), run.describe())
        self.assertGreater(silent.accepted, 0, "the coordinator never connected")
        doc = self.assert_json(run)
        (r,) = doc["results"]
        self.check_stats(r)
        self.check_agents(r, [name, real], lockstep=True)
        self.check_lost_agent(r, 0, runs=2)
        self.assertEqual(r["fleetbench"]["agents"][1]["ok"], 40)

    def test_only_a_silent_listener(self):
        silent = fbtest.SilentListener(self.host)
        self.addCleanup(silent.close)
        _, target = self.target()
        run = self.coordinator("--agents", f"{silent.host}:{silent.port}", "--target", target,
                               "--matrix", "async-for", "-r", "20", "--runs", "2", "-w", "0")
        self.assert_exit(run, 3)
        self.assertLess(run.elapsed, self.bound(0), run.describe())

    # An agent SIGKILLed mid-matrix. threads-reuse -c 1 makes its 10 requests
    # one after another, each delayed 20 ms by the target: ~0.2 s a run.
    SLOW_RUN = ["--matrix", "threads-reuse", "-r", "10", "-c", "1", "-w", "0"]

    def kill_mid_matrix(self, runs, *extra):
        """Two agents; the second is SIGKILLed ~1 s into the runs.

        Returns (run, seconds from the kill to the coordinator's exit, names).
        """
        _, target = self.target("--delay", "20")
        survivor, a = self.agent()
        victim, b = self.agent()
        proc, started = self.spawn("--agents", f"{a},{b}", "--target", target, *self.SLOW_RUN,
                                   "--runs", str(runs), *extra)
        self.wait_session(victim)
        time.sleep(1.0 * fbtest.SLOW)  # a few runs finish
        self.assertTrue(proc.alive(), f"the matrix ended before the kill:\n{proc.stderr()}")
        victim.popen.send_signal(signal.SIGKILL)
        victim.wait(5)
        killed = time.monotonic()
        run = self.finish(proc, started)
        return run, time.monotonic() - killed, [a, b]

    def check_partial(self, r, names, runs):
        """Runs before the loss have both agents; after it only the survivor."""
        codes = r["exit_codes"]
        finished = codes.index(3) if 3 in codes else len(codes)
        self.assertGreaterEqual(finished, 1, f"no run finished before the kill: {codes}")
        self.assertEqual(codes[:finished], [0] * finished, codes)
        self.assertEqual(codes[finished:], [3] * (len(codes) - finished), codes)
        self.check_stats(r)
        self.check_agents(r, names, lockstep=True)
        survivor, victim = r["fleetbench"]["agents"]
        self.assertNotIn(None, survivor["times"], survivor)
        self.assertEqual([t is None for t in victim["times"]],
                         [c == 3 for c in codes], victim)
        self.assertEqual(victim["ok"], 10 * finished, victim)
        self.assertEqual(r["fleetbench"]["runs"]["lost"], len(codes) - finished)
        return finished

    def test_agent_killed_continue(self):
        runs = 20
        run, after_kill, names = self.kill_mid_matrix(runs, "--on-agent-loss", "continue")
        self.assert_exit(run, 3)
        # loss detected within about a liveness, then the survivor's remaining runs
        self.assertLess(after_kill, self.bound(runs * 0.25), run.describe())
        self.assertRegex(run.err, rf"{re.escape(names[1])}.*lost")
        doc = self.assert_json(run)
        (r,) = doc["results"]
        self.assertEqual(len(r["times"]), runs, "the survivor did every run")
        finished = self.check_partial(r, names, runs)
        self.assertLess(finished, runs, "the agent was killed after the last run")
        self.assertEqual(r["fleetbench"]["agents"][0]["ok"], 10 * runs)
        self.assertIn("An agent was lost during", run.out)

    def test_agent_killed_abort(self):
        runs = 40  # ~8 s of runs: the abort must come long before
        run, after_kill, names = self.kill_mid_matrix(runs, "--on-agent-loss", "abort")
        self.assert_exit(run, 3)
        self.assertLess(after_kill, 2 * LIVE_S + 1.5 * fbtest.SLOW,
                        f"abort took {after_kill:.2f} s after the kill\n{run.describe()}")
        self.assertRegex(run.err, r"abort")
        doc = self.assert_json(run)
        (r,) = doc["results"]
        self.assertLess(len(r["times"]), runs, "the matrix went on after the loss")
        self.check_partial(r, names, runs)


class RefusalTests(CoordinatorCase):
    """Errors that end the matrix before it starts: strategy, version, target."""

    def test_unknown_strategy(self):
        status, out, err = self.run_binary("coordinator", ["--matrix", "nope"])
        self.assertEqual(status, 1, err)
        self.assertIn("nope", err)
        self.assertIn("--matrix", err)
        for name in GROUPS + STRATEGIES:
            self.assertRegex(err, rf"(?<![\w-]){re.escape(name)}(?![\w-])", f"{name} not listed")
        self.assertNotIn("Benchmark", out)

    def test_unknown_strategy_in_a_list(self):
        status, _, err = self.run_binary("coordinator", ["--matrix", "async-for,threads-nope"])
        self.assertEqual(status, 1, err)
        self.assertIn("threads-nope", err)
        self.assertIn("threads-recreate", err)

    def version_lines(self, text):
        """The lines of `text` that talk about versions, addresses masked."""
        return "\n".join(line for line in strip_addresses(text).splitlines()
                         if re.search(r"version|protocol", line, re.I))

    def assert_names_versions(self, text, who):
        lines = self.version_lines(text)
        self.assertRegex(lines, r"\b4\b", f"{who} does not name version 4:\n{text[-3000:]}")
        self.assertRegex(lines, r"\b99\b", f"{who} does not name version 99:\n{text[-3000:]}")

    def test_agent_speaks_another_version(self):
        _, target = self.target()
        agent, name = self.agent(None, "--proto-version", "99")
        run = self.coordinator("--agents", name, "--target", target, "--matrix", "async-for",
                               "-r", "10", "--runs", "1", "-w", "0")
        self.assert_exit(run, 5)
        self.assertLess(run.elapsed, 3 * LIVE_S + 3 * fbtest.SLOW, run.describe())
        self.assert_names_versions(run.err, "coordinator")
        self.assertIsNotNone(fbtest.wait_for_stderr(agent, r"(?i)version|protocol", 2),
                             agent.stderr())
        self.assert_names_versions(agent.stderr(), "agent")

    def test_coordinator_speaks_another_version(self):
        _, target = self.target()
        agent, name = self.agent()
        run = self.coordinator("--proto-version", "99", "--agents", name, "--target", target,
                               "--matrix", "async-for", "-r", "10", "--runs", "1", "-w", "0")
        self.assert_exit(run, 5)
        self.assertLess(run.elapsed, 3 * LIVE_S + 3 * fbtest.SLOW, run.describe())
        self.assert_names_versions(run.err, "coordinator")
        self.assertIsNotNone(fbtest.wait_for_stderr(agent, r"(?i)version|protocol", 2),
                             agent.stderr())
        self.assert_names_versions(agent.stderr(), "agent")
        # the agent stays up and serves a coordinator of its own version right away
        self.assertTrue(agent.alive())
        if os.path.exists(self.json_path):
            os.remove(self.json_path)
        run = self.coordinator("--agents", name, "--target", target, "--matrix", "async-for",
                               "-r", "10", "--runs", "1", "-w", "0")
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        self.check_result(doc["results"][0], command="async-for -r 10 -c 100",
                          runs=1, requests=10, names=[name])

    def test_target_unreachable(self):
        _, name = self.agent()
        target = f"{self.host}:{fbtest.unused_port(self.host)}"
        run = self.coordinator("--agents", name, "--target", target, "--matrix", "async-for",
                               "-r", "10", "--runs", "1", "-w", "0")
        self.assert_exit(run, 4)
        self.assertLess(run.elapsed, 3 * LIVE_S + 5 * fbtest.SLOW, run.describe())
        self.assertIn(target.split(":")[1], run.err, "the error does not name the target")

    def test_target_unreachable_embedded_agent(self):
        target = f"{self.host}:{fbtest.unused_port(self.host)}"
        run = self.coordinator("--target", target, "--matrix", "async-for", "-r", "10",
                               "--runs", "1", "-w", "0")
        self.assert_exit(run, 4)

    def test_requests_failing(self):
        _, target = self.target("--fault", "status-500:1")
        _, name = self.agent()
        run = self.coordinator("--agents", name, "--target", target,
                               "--matrix", "threads-reuse,async-for", "-r", "20", "-c", "5",
                               "--runs", "2", "-w", "0")
        self.assert_exit(run, 2)
        doc = self.assert_json(run)
        for r, cmd in zip(doc["results"], ["threads-reuse -r 20 -c 5",  # -c: every strategy's
                                           "async-for -r 20 -c 5"]):
            self.check_result(r, command=cmd, runs=2, requests=20, names=[name],
                              failed_cause="http_status")
        self.assertRegex(run.out, r"Failed:? 40 of 40 requests \(http_status: 40\)")


class EmbeddedTests(CoordinatorCase):
    """No --agents, no --target: everything on loopback, nothing left behind."""

    def run_watching_children(self, *args):
        """Runs a coordinator in self.dir, recording its children while it runs."""
        proc, started = self.spawn(*args, export=False)
        seen = {}
        self.addCleanup(self.kill_leftovers, seen)
        while proc.alive():
            for pid in fbtest.child_pids(proc.pid):
                # the latest name: a child first seen between fork and exec
                # still bears the coordinator's
                seen[pid] = fbtest.pid_name(pid) or seen.get(pid, "")
            time.sleep(0.005)
            if time.monotonic() - started > COORD_TIMEOUT * fbtest.SLOW:
                break
        run = self.finish(proc, started)
        return run, seen

    def kill_leftovers(self, seen):
        for pid in seen:  # only what the coordinator of this test started
            if fbtest.pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def test_embedded_default(self):
        run, seen = self.run_watching_children("--matrix", "async-for", "-r", "20",
                                               "--runs", "2", "-w", "0")
        self.assert_exit(run, 0)
        names = sorted(seen.values())
        self.assertIn("agent", names, f"no embedded agent seen: {seen}")
        self.assertIn("target-server", names, f"no embedded target-server seen: {seen}")
        left = {pid: name for pid, name in seen.items() if fbtest.pid_alive(pid)}
        self.assertEqual(left, {}, "children survived the coordinator")
        # results.json in the working directory (a journal may sit beside it)
        self.assertIn("results.json", os.listdir(self.dir))
        doc = self.assert_json(run)
        (r,) = doc["results"]
        agents = doc["fleetbench"]["agents"]
        self.assertEqual(len(agents), 1)
        self.assertRegex(agents[0]["name"], r"^127\.0\.0\.\d+:\d+$")
        self.assertRegex(doc["fleetbench"]["target"], r"^127\.0\.0\.\d+:\d+$")
        self.check_document(doc, names=[agents[0]["name"]], target=doc["fleetbench"]["target"],
                            mode="lockstep", warmup=0)
        self.check_result(r, command="async-for -r 20 -c 100", runs=2, requests=20,
                          names=[agents[0]["name"]])
        self.assertNotIn("parameters", r, "one benchmark: nothing scanned")
        self.assertIn("Benchmark 1: async-for -r 20 -c 100\n", run.out)
        self.assertNotIn("Summary", run.out)
        # the embedded agent is quiet when nothing goes wrong (agent --quiet)
        self.assertNotIn("agent: session", run.err)

    def test_embedded_two_benchmarks(self):
        run, seen = self.run_watching_children("--matrix", "threads-reuse,async-for",
                                               "-r", "20", "--runs", "2", "-w", "0")
        self.assert_exit(run, 0)
        left = {pid: name for pid, name in seen.items() if fbtest.pid_alive(pid)}
        self.assertEqual(left, {}, "children survived the coordinator")
        self.assertIn("Benchmark 1: threads-reuse -r 20 -c 100\n", run.out)
        self.assertIn("Benchmark 2: async-for -r 20 -c 100\n", run.out)
        self.assertRegex(run.out, r"(?m)^Summary$")
        self.assertRegex(run.out, r"times faster than ")
        self.assertEqual(len(self.assert_json(run)["results"]), 2)


class ExportTests(CoordinatorCase):
    """--export-markdown and --export-csv in hyperfine's columns."""

    def test_markdown_and_csv(self):
        _, target = self.target()
        _, name = self.agent()
        md = os.path.join(self.dir, "results.md")
        csv_path = os.path.join(self.dir, "results.csv")
        run = self.coordinator("--agents", name, "--target", target,
                               "--matrix", "threads-reuse,async-for", "-r", "20",
                               "--runs", "3", "-w", "0", "--export-markdown", md,
                               "--export-csv", csv_path)
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        commands = [r["command"] for r in doc["results"]]
        self.assertEqual(commands, ["threads-reuse -r 20 -c 100",
                                    "async-for -r 20 -c 100"])
        self.assertLessEqual({"results.csv", "results.json", "results.md"},
                             set(os.listdir(self.dir)))
        self.assertEqual([n for n in os.listdir(self.dir) if n.endswith(".tmp")], [])

        with open(md, encoding="utf-8") as f:
            lines = f.read().splitlines()
        m = re.fullmatch(r"\| Command \| Mean \[(s|ms|µs)\] \| Min \[(s|ms|µs)\] \| "
                         r"Max \[(s|ms|µs)\] \| Relative \|", lines[0])
        self.assertIsNotNone(m, lines[0])
        self.assertEqual(len(set(m.groups())), 1, "one unit for the table")
        self.assertEqual(lines[1], "|:---|---:|---:|---:|---:|")
        self.assertEqual(len(lines), 2 + len(commands), lines)
        relatives = []
        for line, cmd in zip(lines[2:], commands):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            self.assertEqual(cells[0], f"`{cmd}`", line)
            self.assertRegex(cells[1], r"^\d+\.\d+ ± \d+\.\d+$", line)
            self.assertRegex(cells[2], r"^\d+\.\d+$", line)
            self.assertRegex(cells[3], r"^\d+\.\d+$", line)
            self.assertRegex(cells[4], r"^\d+\.\d\d( ± \d+\.\d\d)?$", line)
            relatives.append(cells[4])
        self.assertIn("1.00", relatives, "the fastest is the reference")

        with open(csv_path, newline="", encoding="utf-8") as f:
            text = f.read()
        header = text.splitlines()[0]
        self.assertEqual(header, "command,mean,stddev,median,user,system,min,max,"
                                 "parameter_strategy")
        rows = list(csv.DictReader(text.splitlines()))
        self.assertEqual([row["command"] for row in rows], commands)
        for row, r in zip(rows, doc["results"]):
            for key in ("mean", "stddev", "median", "user", "system", "min", "max"):
                self.assertTrue(close(float(row[key]), r[key]), f"{key}: {row} vs {r[key]}")
            self.assertEqual(row["parameter_strategy"], r["parameters"]["strategy"])


class CommandLineTests(CoordinatorCase):
    """Bad flags exit 1 naming the flag, before any process is started."""

    def assert_usage_error(self, args, flag):
        status, out, err = self.run_binary("coordinator", args)
        self.assertEqual(status, 1, f"coordinator {args}: exit {status}\n{err}")
        self.assertIn(flag, err, f"coordinator {args}: the error does not name {flag}")
        self.assertEqual(out.strip(), "", out)

    def test_bad_mode(self):
        self.assert_usage_error(["--mode", "nope"], "--mode")

    def test_zero_runs(self):
        self.assert_usage_error(["--runs", "0"], "--runs")

    def test_empty_agents(self):
        self.assert_usage_error(["--agents", ""], "--agents")

    def test_target_without_port(self):
        self.assert_usage_error(["--target", "nohostport"], "--target")

    def test_bad_on_agent_loss(self):
        self.assert_usage_error(["--on-agent-loss", "retry"], "--on-agent-loss")

    def test_liveness_below_two_heartbeats(self):
        self.assert_usage_error(["--heartbeat", "500", "--liveness", "600"], "--liveness")

    def test_bad_requests_list(self):
        self.assert_usage_error(["-r", "10,,20"], "--requests")

    def test_unknown_option(self):
        self.assert_usage_error(["--frobnicate"], "--frobnicate")

    def test_remote_agents_need_a_target(self):
        # the embedded target-server would listen on this host's loopback
        self.assert_usage_error(["--agents", "127.0.0.1:5555,10.0.0.5"],
                                "--agents 10.0.0.5: remote agents need --target HOST:PORT")

    def test_target_url_forms(self):
        self.assert_usage_error(["--target", "https://127.0.0.1:8080/"], "only http://")
        self.assert_usage_error(["--target", "http://127.0.0.1:8080/multiply"], "has a path")

    def test_unknown_option_gets_a_suggestion(self):
        self.assert_usage_error(["--runz", "3"], "unknown option '--runz'; did you mean --runs?")

    def test_hyperfine_habits_get_a_hint(self):
        for args, said in ((["-m", "5"], "-m: hyperfine's --min-runs is not supported"),
                           (["-M", "5"], "-M: hyperfine's --max-runs is not supported"),
                           (["-p", "true"], "-p: hyperfine's --prepare is not supported"),
                           (["--style", "basic"], "--style: not supported"),
                           (["-u", "ms"], "-u: hyperfine's --time-unit is not supported")):
            with self.subTest(args=args):
                self.assert_usage_error(args, said)
        status, out, _ = self.run_binary("coordinator", ["--help"])
        self.assertEqual(status, 0)
        self.assertIn("not hyperfine's -r: runs are --runs", out)

    def test_help(self):
        status, out, err = self.run_binary("coordinator", ["--help"])
        self.assertEqual(status, 0, err)
        self.assertIn("Usage: coordinator", out)
        for flag in ("--agents", "--target", "--matrix", "--mode", "--on-agent-loss",
                     "--export-json", "--export-markdown", "--export-csv"):
            self.assertIn(flag, out)
        self.assertRegex(out, r"Exit codes")

    def test_version(self):
        status, out, err = self.run_binary("coordinator", ["--version"])
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"^coordinator \S+")


class InterruptTests(CoordinatorCase):
    """SIGINT mid-matrix: exit 130, the finished runs exported, the agent free again."""

    def test_sigint_mid_matrix(self):
        _, target = self.target("--delay", "20")
        agent, name = self.agent()
        runs = 30  # ~6 s of runs
        proc, started = self.spawn("--agents", name, "--target", target,
                                   "--matrix", "threads-reuse", "-r", "10", "-c", "1",
                                   "-w", "0", "--runs", str(runs))
        self.wait_session(agent)
        time.sleep(1.0 * fbtest.SLOW)
        self.assertTrue(proc.alive(), f"the matrix ended before SIGINT:\n{proc.stderr()}")
        proc.popen.send_signal(signal.SIGINT)
        sent = time.monotonic()
        run = self.finish(proc, started)
        self.assertLess(time.monotonic() - sent, 3.0 * fbtest.SLOW, "slow to stop on SIGINT")
        self.assert_exit(run, 130)
        doc = self.assert_json(run)
        (r,) = doc["results"]
        n = len(r["times"])
        self.assertGreaterEqual(n, 1, "no finished run exported")
        self.assertLess(n, runs)
        self.assertEqual(r["exit_codes"], [0] * n)
        self.check_stats(r)
        self.check_agents(r, [name], lockstep=True)
        self.assertEqual(r["fleetbench"]["requests"]["ok"], 10 * n)
        self.check_latency(r["fleetbench"]["latency"], 10 * n)
        # an interrupted matrix keeps its journal, beside the export, for --resume
        self.assertTrue(os.path.exists(self.json_path + ".journal"))
        # the agent ends the session and serves the next coordinator at once
        self.assertIsNotNone(fbtest.wait_for_stderr(agent, r"session \S+ .*ended",
                                                    3 * fbtest.SLOW), agent.stderr())
        self.assertTrue(agent.alive())
        os.remove(self.json_path)
        run = self.coordinator("--agents", name, "--target", target, "--matrix", "async-for",
                               "-r", "10", "--runs", "1", "-w", "0")
        self.assert_exit(run, 0)
        self.assertLess(run.elapsed, 3 * LIVE_S + 3 * fbtest.SLOW, run.describe())
        self.check_result(self.assert_json(run)["results"][0],
                          command="async-for -r 10 -c 100", runs=1, requests=10,
                          names=[name])
        # a finished one leaves none behind
        self.assertFalse(os.path.exists(self.json_path + ".journal"))


if __name__ == "__main__":
    unittest.main()
