"""Durability: a coordinator killed and resumed, a coordinator gone while its
agent is busy, a target killed mid-run, an agent cut off by a partition.

Real processes over real ZeroMQ on 127.0.0.x; the partition test builds its
own network namespaces (no default route, nothing leaves the machine) and is
skipped, with a message, when not root.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import fbtest

SERVER_READY = r"listening on http://[^ ]+:(?P<port>\d+) "
AGENT_READY = r"listening on tcp://[^ ]+:(?P<port>\d+)$"
FAST = ["--heartbeat", "100", "--liveness", "1000"]
RUNS = 20  # per benchmark of the kill-and-resume test: it must not end before the kill


def served(target, at_least, timeout):
    """True once the target-server at HOST:PORT has answered `at_least`
    requests (its GET /stats), within `timeout` s: the timed run is under
    way, however slowly the machine started it."""
    host, port = target.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(host, int(port), timeout=1)
        try:
            conn.request("GET", "/stats")
            if json.loads(conn.getresponse().read())["requests"] >= at_least:
                return True
        except (OSError, ValueError, KeyError):
            pass
        finally:
            conn.close()
        time.sleep(0.02)
    return False


class Durability(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbdur-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def target(self, *extra):
        proc, port = self.start("target-server",
                                ["--host", self.host, "--port", "0", "--threads", "1", *extra],
                                SERVER_READY)
        return proc, f"{self.host}:{port}"

    def agent(self):
        host = fbtest.next_host()
        proc, port = self.start("agent", ["--listen", f"{host}:0"], AGENT_READY)
        return proc, f"{host}:{port}"

    def coordinator(self, args):
        return fbtest.spawn_process(self, [fbtest.binary("coordinator"), *args], cwd=self.dir)

    def path(self, name):
        return os.path.join(self.dir, name)

    def journal_runs(self):
        with open(self.path("r.json.journal")) as f:
            lines = [json.loads(line) for line in f if line.endswith("\n")]
        self.assertIn("fleetbench_journal", lines[0])
        return lines[1:]

    def test_kill_coordinator_then_resume(self):
        """SIGKILL mid-matrix loses no finished run; --resume redoes none."""
        _, target = self.target("--delay", "20")
        _, agent = self.agent()
        args = ["--agents", agent, "--target", target, "--matrix", "threads-reuse,async-for",
                "-r", "20", "-c", "10", "--runs", str(RUNS), "-w", "1", *FAST,
                "--export-json", "r.json", "--journal", "r.json.journal"]  # kept: asked for
        coord = self.coordinator(args)
        # each run takes >= 2 x 20 ms: wait until some runs are journaled
        deadline = time.monotonic() + 30 * fbtest.SLOW
        while time.monotonic() < deadline:
            if os.path.exists(self.path("r.json.journal")) and len(self.journal_runs()) >= 5:
                break
            time.sleep(0.02)
        coord.kill()
        before = self.journal_runs()
        self.assertGreaterEqual(len(before), 5)
        self.assertLess(len(before), 2 * RUNS, "the matrix finished before the kill")
        resumed = self.coordinator(["--resume", "r.json.journal"])
        self.assertEqual(resumed.wait(60 * fbtest.SLOW), 0, resumed.stderr())
        after = self.journal_runs()
        self.assertEqual(len(after), 2 * RUNS)       # 2 benchmarks x RUNS runs, none twice
        self.assertEqual(after[:len(before)], before)  # nothing rewritten
        with open(self.path("r.json")) as f:
            results = json.load(f)["results"]
        self.assertEqual([len(r["times"]) for r in results], [RUNS, RUNS])
        # the runs from before the kill are the first times of their benchmark
        first = [run["agents"][0]["wall"] for run in before if run["bench"] == 0]
        self.assertEqual(len(first), min(RUNS, len(first)))
        for got, want in zip(results[0]["times"], first):
            self.assertAlmostEqual(got, want, places=9)
        latency = results[0]["fleetbench"]["latency"]["count"]
        self.assertEqual(latency, RUNS * 20)  # every request of every run, resumed or not

    def test_resume_errors(self):
        status, _, err = self.run_binary("coordinator", ["--resume", self.path("none")])
        self.assertEqual(status, 1)
        self.assertIn("--resume", err)
        with open(self.path("bad"), "w") as f:
            f.write("{\"not\": \"a journal\"}\n")
        status, _, err = self.run_binary("coordinator", ["--resume", self.path("bad")])
        self.assertEqual(status, 1)
        self.assertIn("not a fleetbench journal", err)
        status, _, err = self.run_binary("coordinator", ["--resume", self.path("bad"), "--runs", "2"])
        self.assertEqual(status, 1)
        self.assertIn("no other options", err)

    def test_coordinator_gone_agent_aborts_and_goes_idle(self):
        """No orphaned load: the agent drops the run within the liveness."""
        _, target = self.target("--delay", "100")
        agent_proc, agent = self.agent()
        # one request at a time, 100 ms each: a 30 s run unless aborted
        coord = self.coordinator(["--agents", agent, "--target", target, "--matrix",
                                  "threads-reuse", "-r", "300", "-c", "1", "--runs", "1",
                                  "-w", "0", *FAST])
        self.assertTrue(fbtest.wait_for_stderr(agent_proc, r"session \w+ opened", 10 * fbtest.SLOW))
        self.assertTrue(served(target, 1, 20 * fbtest.SLOW), "the timed run never started")
        coord.kill()
        killed = time.monotonic()
        match = fbtest.wait_for_stderr(agent_proc, r"run \d+ of benchmark \d+ aborted",
                                       5 * fbtest.SLOW)
        self.assertTrue(match, agent_proc.stderr())
        # liveness 1 s, then at most one 100 ms request in flight
        self.assertLess(time.monotonic() - killed, 3.0 * fbtest.SLOW)
        self.assertIn("coordinator lost", agent_proc.stderr())
        # idle again: the next coordinator is served at once
        nxt = self.coordinator(["--agents", agent, "--target", target, "--matrix", "async-for",
                                "-r", "5", "--runs", "1", "-w", "0", *FAST,
                                "--export-json", "next.json"])
        self.assertEqual(nxt.wait(30 * fbtest.SLOW), 0, nxt.stderr())

    def test_target_killed_mid_run(self):
        """Failures classified, runs marked failed, nothing hangs."""
        server, target = self.target("--delay", "50")
        coord = self.coordinator(["--target", target, "--matrix", "threads-reuse", "-r", "200",
                                  "-c", "2", "--runs", "2", "-w", "0", "--timeout", "1000",
                                  *FAST, "--export-json", "r.json"])
        # mid-run: not before the agent's probe of the target (that is exit 4)
        self.assertTrue(served(target, 4, 20 * fbtest.SLOW), coord.stderr())
        server.kill()
        self.assertEqual(coord.wait(60 * fbtest.SLOW), 2, coord.stderr())
        with open(self.path("r.json")) as f:
            result = json.load(f)["results"][0]
        self.assertIn(2, result["exit_codes"])
        failures = result["fleetbench"]["failures"]
        self.assertGreater(failures["connect"] + failures["transport"] + failures["timeout"], 0)


def ip(*args, ns=None):
    argv = (["ip", "netns", "exec", ns] if ns else []) + ["ip", *args]
    subprocess.run(argv, check=True, capture_output=True, timeout=10)


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("ip"),
                     "partition test needs root and iproute2 (network namespaces): skipped")
class Partition(fbtest.FbTestCase):
    """Two namespaces joined by a veth pair, no default route in either: the
    coordinator and target in one, the agent in the other; the link goes
    down mid-run."""

    def setUp(self):
        super().setUp()
        tag = f"{os.getpid() % 100000}"
        self.ns_c, self.ns_a = f"fbc{tag}", f"fba{tag}"
        for ns in (self.ns_c, self.ns_a):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            ip("netns", "add", ns)
            self.addCleanup(subprocess.run, ["ip", "netns", "del", ns], capture_output=True)
            ip("link", "set", "lo", "up", ns=ns)
        ip("link", "add", f"vc{tag}", "netns", self.ns_c, "type", "veth", "peer", "name",
           f"va{tag}", "netns", self.ns_a)
        self.link = f"vc{tag}"
        ip("addr", "add", "10.213.0.1/30", "dev", f"vc{tag}", ns=self.ns_c)
        ip("addr", "add", "10.213.0.2/30", "dev", f"va{tag}", ns=self.ns_a)
        ip("link", "set", f"vc{tag}", "up", ns=self.ns_c)
        ip("link", "set", f"va{tag}", "up", ns=self.ns_a)

    def in_ns(self, ns, name, args):
        return ["ip", "netns", "exec", ns, fbtest.binary(name), *args]

    def test_partition_agent_lost(self):
        server, port = fbtest.start_process(
            self, self.in_ns(self.ns_c, "target-server",
                             ["--host", "10.213.0.1", "--port", "0", "--threads", "1",
                              "--delay", "20"]), SERVER_READY)
        agent, aport = fbtest.start_process(
            self, self.in_ns(self.ns_a, "agent", ["--listen", "10.213.0.2:0", "--insecure"]),
            AGENT_READY)
        tmp = tempfile.mkdtemp(prefix="fbpart-")
        self.addCleanup(shutil.rmtree, tmp, True)
        coord = fbtest.spawn_process(self, self.in_ns(
            self.ns_c, "coordinator",
            ["--agents", f"10.213.0.2:{aport}", "--target", f"10.213.0.1:{port}", "--matrix",
             "threads-reuse", "-r", "20", "-c", "2", "--runs", "50", "-w", "0", *FAST,
             "--export-json", "r.json"]), cwd=tmp)
        time.sleep(1.5)
        ip("link", "set", self.link, "down", ns=self.ns_c)
        cut = time.monotonic()
        self.assertEqual(coord.wait(20 * fbtest.SLOW), 3, coord.stderr())
        self.assertLess(time.monotonic() - cut, 5 * fbtest.SLOW)  # liveness 1 s, bounded
        self.assertIn("lost", coord.stderr())
        with open(os.path.join(tmp, "r.json")) as f:
            result = json.load(f)["results"][0]
        self.assertGreater(result["exit_codes"].count(0), 0)  # finished runs kept

    def test_partition_heals_agent_back(self):
        """Two agents; one is cut off, lost, and used again once the link is
        back; the other never stops."""
        server, port = fbtest.start_process(
            self, self.in_ns(self.ns_c, "target-server",
                             ["--host", "10.213.0.1", "--port", "0", "--threads", "1",
                              "--delay", "20"]), SERVER_READY)
        far, far_port = fbtest.start_process(
            self, self.in_ns(self.ns_a, "agent", ["--listen", "10.213.0.2:0", "--insecure"]),
            AGENT_READY)
        near, near_port = fbtest.start_process(
            self, self.in_ns(self.ns_c, "agent", ["--listen", "127.0.0.1:0"]), AGENT_READY)
        tmp = tempfile.mkdtemp(prefix="fbpart-")
        self.addCleanup(shutil.rmtree, tmp, True)
        coord = fbtest.spawn_process(self, self.in_ns(
            self.ns_c, "coordinator",
            ["--agents", f"10.213.0.2:{far_port},127.0.0.1:{near_port}",
             "--target", f"10.213.0.1:{port}", "--matrix", "threads-reuse", "-r", "20", "-c", "2",
             "--runs", "60", "-w", "0", *FAST, "--export-json", "r.json"]), cwd=tmp)
        time.sleep(1.5)
        ip("link", "set", self.link, "down", ns=self.ns_c)
        self.assertTrue(fbtest.wait_for_stderr(coord, r"agent 10\.213\.0\.2:\d+ lost",
                                               5 * fbtest.SLOW), coord.stderr())
        ip("link", "set", self.link, "up", ns=self.ns_c)
        self.assertTrue(fbtest.wait_for_stderr(coord, r"agent 10\.213\.0\.2:\d+ is back",
                                               10 * fbtest.SLOW), coord.stderr())
        self.assertEqual(coord.wait(60 * fbtest.SLOW), 3, coord.stderr())
        with open(os.path.join(tmp, "r.json")) as f:
            result = json.load(f)["results"][0]
        self.assertEqual(len(result["times"]), 60)
        codes = result["exit_codes"]
        self.assertIn(3, codes)                    # runs while it was lost: marked
        self.assertEqual(codes[-1], 0)             # and whole again at the end
        far_times = result["fleetbench"]["agents"][0]["times"]
        self.assertIsNone(far_times[codes.index(3)])
        self.assertIsNotNone(far_times[-1])


if __name__ == "__main__":
    unittest.main()
