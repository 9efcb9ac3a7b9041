"""--agents-file with real agents, the agent limit, and simfleet's protocol.

Real processes on loopback: a target-server, agent daemons (IPv4 127.0.0.x
and IPv6 ::1, with and without CURVE keys) and coordinators that run to
completion.  Checked: the file's agents (after --agents' own) all take part
in a lockstep matrix, in that order, and their keys come from known-agents
as for --agents; a bad file is exit 1 naming the file and line before any
agent is contacted; more than 1024 agents is exit 1.  Last, bench/simfleet
(the simulated fleet of bench/fleet.sh) completes a matrix with the real
coordinator, so the benchmark tool cannot rot unnoticed.

Every wait has a deadline scaled by fbtest.SLOW; every process is stopped
at the end of its test.
"""

import os
import shutil
import socket
import tempfile
import time
import unittest

import fbtest

READY_SERVER = r"^target-server: listening on http://\S+:(?P<port>\d+) "
READY_AGENT = r"^agent: listening on tcp://(\[[0-9a-f:]+\]|[0-9.]+):(?P<port>\d+)\s*$"
# simfleet's ready line carries no port: "port" is the number of agents
READY_SIMFLEET = r"^simfleet: (?P<port>\d+) agents ready$"

HB_MS = 100
LIVE_MS = int(1000 * fbtest.SLOW)
COORD_TIMEOUT = 60.0


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class AgentsFileCase(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbagents-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.json_path = os.path.join(self.dir, "results.json")

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def target(self):
        proc, port = self.start("target-server", ["--host", self.host, "--port", "0",
                                                  "--threads", "1"], READY_SERVER)
        return f"{self.host}:{port}"

    def agent(self, host=None, *extra):
        """An agent daemon on host:0; returns "HOST:PORT" ([::1]:PORT for IPv6)."""
        host = host or fbtest.next_host()
        listen = f"[{host}]:0" if ":" in host else f"{host}:0"
        _, port = self.start("agent", ["--listen", listen, *extra], READY_AGENT)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def keygen(self, program, prefix):
        status, out, err = self.run_binary(program, ["keygen", self.path(prefix)])
        self.assertEqual(status, 0, f"{program} keygen: {out}{err}")
        with open(self.path(prefix + ".pub")) as f:
            return self.path(prefix + ".key"), f.read().strip()

    def coordinator(self, *args, timeout=COORD_TIMEOUT):
        """Runs a coordinator to completion; returns (status, stdout, stderr, JSON or None)."""
        if os.path.exists(self.json_path):
            os.unlink(self.json_path)
        argv = [fbtest.binary("coordinator"), "--heartbeat", str(HB_MS), "--liveness",
                str(LIVE_MS), "--export-json", self.json_path, *args]
        proc = fbtest.spawn_process(self, argv, cwd=self.dir)
        return fbtest.finish_process(self, proc, timeout, self.json_path)

    def assert_matrix(self, run, names, runs, requests):
        """Exit 0, every agent of `names` (in that order) ran every run."""
        status, out, err, doc = run
        self.assertEqual(status, 0, f"stdout:\n{out[-2000:]}\nstderr:\n{err[-3000:]}")
        self.assertIsNotNone(doc, err)
        self.assertEqual([a["name"] for a in doc["fleetbench"]["agents"]], names)
        r = doc["results"][0]
        fb = r["fleetbench"]
        self.assertEqual(r["exit_codes"], [0] * runs, fb["runs"])
        self.assertEqual([a["name"] for a in fb["agents"]], names)
        self.assertEqual(fb["requests"]["ok"], requests * runs * len(names), fb["requests"])
        for a in fb["agents"]:
            self.assertEqual(a["ok"], requests * runs, a)
            self.assertEqual(len(a["start_offsets"]), runs, a)
            self.assertNotIn(None, a["start_offsets"], a)
        # the scale measurements: GO fan-out of each lockstep run, the handshake
        self.assertEqual(len(fb["go_fanout"]), runs, fb["go_fanout"])
        for x in fb["go_fanout"]:
            self.assertIsInstance(x, float, fb["go_fanout"])
            self.assertGreater(x, 0, fb["go_fanout"])
        self.assertGreater(doc["fleetbench"]["handshake"], 0, doc["fleetbench"])
        return doc


class AgentsFileTests(AgentsFileCase):
    def test_file_after_agents_option(self):
        target = self.target()
        a, b, c = self.agent(), self.agent(), self.agent()
        path = self.write("agents", f"# the fleet\n\n  {b}   # second\n{c}\n# end\n")
        run = self.coordinator("--agents", a, "--agents-file", path, "--target", target,
                               "--matrix", "async-for", "-r", "5", "--connections", "2",
                               "--runs", "3", "-w", "1")
        self.assert_matrix(run, [a, b, c], 3, 5)

    def test_file_alone_serial(self):
        target = self.target()
        a, b = self.agent(), self.agent()
        path = self.write("agents", f"{a}\n{b}")  # no newline at the end
        run = self.coordinator("--agents-file", path, "--target", target, "--matrix",
                               "threads-reuse", "-r", "4", "-c", "2", "--runs", "2", "-w", "0",
                               "--mode", "serial")
        status, out, err, doc = run
        self.assertEqual(status, 0, err)
        self.assertEqual([x["name"] for x in doc["fleetbench"]["agents"]], [a, b])
        self.assertEqual(doc["results"][0]["fleetbench"]["requests"]["ok"], 4 * 2 * 2)
        # serial mode sends one GO at a time: no fan-out to measure
        self.assertEqual(doc["results"][0]["fleetbench"]["go_fanout"], [None, None])

    @unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback (::1) on this machine")
    def test_ipv6_with_keys(self):
        """[::1]:PORT lines, and known-agents keys for them and for an IPv4 agent."""
        target = self.target()
        agent_key, agent_pub = self.keygen("agent", "agent")
        coord_key, coord_pub = self.keygen("coordinator", "coord")
        authorized = self.write("authorized", coord_pub + "\n")
        keyed = ("--key", agent_key, "--authorized-keys", authorized)
        v6, v4 = self.agent("::1", *keyed), self.agent(None, *keyed)
        known = self.write("known", f"{v6} {agent_pub}\n{v4} {agent_pub}\n")
        path = self.write("agents", f"{v6}\n{v4}\n")
        run = self.coordinator("--agents-file", path, "--target", target, "--matrix",
                               "async-for", "-r", "3", "--connections", "1", "--runs", "2",
                               "-w", "0", "--key", coord_key, "--known-agents", known)
        self.assert_matrix(run, [v6, v4], 2, 3)
        # an agent of the file that known-agents does not list: refused, exit 5
        other = self.agent(None, *keyed)
        path = self.write("agents2", f"{v4}\n{other}\n")
        status, _, err, _ = self.coordinator("--agents-file", path, "--target", target,
                                             "--key", coord_key, "--known-agents", known)
        self.assertEqual(status, 5, err)
        self.assertIn(f"agent {other} is not in {known}", err)

    def test_bad_files_name_the_line(self):
        """Exit 1 before any agent is contacted: nothing listens at these addresses."""
        listed = self.write("twice", "127.0.0.1:7001\n# x\n127.0.0.1:7001\n")
        cases = [
            (self.write("word", "127.0.0.1:7001 127.0.0.1:7002\n"), 1, "one HOST[:PORT] per line"),
            (self.write("port", "\n127.0.0.1:http\n"), 2, "'http' is not a non-negative integer"),
            (self.write("zero", "127.0.0.1:0\n"), 1, "port 0"),
            (self.write("v6", "::1:5555\n"), 1, "is not HOST:PORT"),
            (listed, 3, "listed twice (also line 1)"),
        ]
        for path, line, what in cases:
            started = time.monotonic()
            status, _, err, doc = self.coordinator("--agents-file", path, "--target",
                                                   "127.0.0.1:9")
            self.assertEqual(status, 1, f"{path}: {err}")
            self.assertIn(f"coordinator: --agents-file {path}:{line}: ", err)
            self.assertIn(what, err)
            self.assertIsNone(doc)
            self.assertLess(time.monotonic() - started, 10 * fbtest.SLOW)
        for path, what in ((self.write("empty", "# nobody\n\n"), "no agent in it"),
                           (self.path("missing"), "No such file or directory")):
            status, _, err, _ = self.coordinator("--agents-file", path)
            self.assertEqual(status, 1, err)
            self.assertIn(f"--agents-file {path}: {what}", err)
        status, _, err, _ = self.coordinator("--agents", "127.0.0.1:7001", "--agents-file",
                                             listed)
        self.assertEqual(status, 1, err)
        self.assertIn("listed twice (also in --agents)", err)

    def test_at_most_1024_agents(self):
        lines = [f"127.0.{i // 200}.{i % 200 + 1}:{7000 + i}" for i in range(1025)]
        path = self.write("many", "\n".join(lines) + "\n")
        status, _, err, _ = self.coordinator("--agents-file", path, "--target", "127.0.0.1:9")
        self.assertEqual(status, 1, err)
        self.assertIn(f"{path}:1025: more than 1024 agents", err)
        status, _, err, _ = self.coordinator("--agents", ",".join(lines), "--target",
                                             "127.0.0.1:9")
        self.assertEqual(status, 1, err)
        self.assertIn("--agents: more than 1024 agents", err)


class SimfleetTests(AgentsFileCase):
    def simfleet(self, n, *extra):
        path = os.path.join(fbtest.BIN_DIR, "bench", "simfleet")
        self.assertTrue(os.access(path, os.X_OK), f"{path} not built")
        agents = self.path(f"sim{n}")
        fbtest.start_process(self, [path, "-n", str(n), "--agents-file", agents, *extra],
                             READY_SIMFLEET)
        with open(agents) as f:
            names = f.read().split()
        self.assertEqual(len(names), n)
        return agents, names

    def test_simulated_fleet_completes_a_matrix(self):
        """40 simulated agents: the counts of the plan, every run, no loss."""
        agents, names = self.simfleet(40)
        run = self.coordinator("--agents-file", agents, "--target", "127.0.0.1:9",
                               "--matrix", "async-for,threads-map", "-r", "7",
                               "--connections", "2", "-c", "3", "--runs", "3", "-w", "1")
        doc = self.assert_matrix(run, names, 3, 7)
        second = doc["results"][1]["fleetbench"]
        self.assertEqual(second["requests"]["ok"], 7 * 3 * 40, second["requests"])
        self.assertEqual(second["latency"]["count"], 7 * 3 * 40, second["latency"])
        # ceil(7 / 2) rounds of 100 us +- 20 %
        for t in doc["results"][0]["fleetbench"]["agents"][0]["times"]:
            self.assertTrue(4 * 80e-6 <= t <= 4 * 120e-6, t)

    def test_thousand_simulated_agents(self):
        """The largest fleet --agents-file takes, on the one ROUTER socket:
        every agent in every run, nothing lost (a few seconds)."""
        agents, names = self.simfleet(1024)
        run = self.coordinator("--agents-file", agents, "--target", "127.0.0.1:9",
                               "--matrix", "async-for", "-r", "4", "--connections", "2",
                               "--runs", "2", "-w", "1")
        self.assert_matrix(run, names, 2, 4)

    def test_simulated_fleet_with_keys(self):
        key, pub = self.keygen("agent", "sim")
        coord_key, coord_pub = self.keygen("coordinator", "coord")
        authorized = self.write("authorized", coord_pub + "\n")
        agents, names = self.simfleet(8, "--key", key, "--authorized-keys", authorized)
        known = self.write("known", f"127.0.0.1 {pub}\n")  # one key, every port
        run = self.coordinator("--agents-file", agents, "--target", "127.0.0.1:9",
                               "--matrix", "async-for", "-r", "2", "--runs", "2", "-w", "0",
                               "--key", coord_key, "--known-agents", known)
        self.assert_matrix(run, names, 2, 2)


if __name__ == "__main__":
    unittest.main()
