"""Small checks of the command line and the key files, each with the value
that used to slip through:

* --agents H:0, --target H:0 and an agent listed twice are usage errors
  (exit 1) naming the value, not an "agent lost" (exit 3) later;
* --resume takes no other option, wherever and however it is written;
* --liveness below three heartbeats is refused, three is enough for healthy
  agents;
* a public key (.pub) given as --key is refused by coordinator and agent;
* known-agents lines for IPv6 agents ([::1]:PORT) match, in any spelling.

Real agents, target-server and coordinators on loopback.
"""

import os
import shutil
import socket
import tempfile
import unittest

import fbtest

SERVER_READY = r"listening on http://[^ ]+:(?P<port>\d+) "
AGENT_READY = r"listening on tcp://\S+:(?P<port>\d+)$"


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class ChecksCase(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbchecks-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def coordinator(self, args, timeout=60.0):
        proc = fbtest.spawn_process(self, [fbtest.binary("coordinator"), *args], cwd=self.dir)
        status = proc.wait(timeout * fbtest.SLOW)
        if status is None:
            proc.kill()
            self.fail(f"coordinator {args} still running; killed\n{proc.stderr()[-3000:]}")
        err = proc.stderr()
        self.assertIsNone(fbtest.sanitizer_report(err), err)
        return status, proc.wait_stdout(), err

    def assert_usage_error(self, args, *words):
        status, out, err = self.coordinator(args, timeout=10.0)
        self.assertEqual(status, 1, f"coordinator {args}: exit {status}\n{err}")
        for word in words:
            self.assertIn(word, err, f"coordinator {args}")
        self.assertEqual(out.strip(), "", out)
        self.assertEqual(os.listdir(self.dir), [], "it went on to make files")

    def target(self):
        _, port = self.start("target-server", ["--host", self.host, "--port", "0", "--threads",
                                               "1"], SERVER_READY)
        return f"{self.host}:{port}"

    def agent(self, *extra, host=None):
        host = host or fbtest.next_host()
        proc, port = self.start("agent", ["--listen", f"{host}:0" if ":" not in host
                                          else f"[{host}]:0", *extra], AGENT_READY)
        return proc, host, port


class AddressTests(ChecksCase):
    def test_port_zero(self):
        self.assert_usage_error(["--agents", "127.0.0.9:0"], "--agents", "'127.0.0.9:0'",
                                "port 0")
        self.assert_usage_error(["--agents", "127.0.0.9:5555,127.0.0.8:00"], "--agents",
                                "'127.0.0.8:00'")
        self.assert_usage_error(["--agents", "[::1]:0"], "'[::1]:0'")
        self.assert_usage_error(["--target", "127.0.0.9:0"], "--target", "'127.0.0.9:0'",
                                "port 0")

    def test_agent_listed_twice(self):
        for agents, twice in (("127.0.0.9:5000,127.0.0.9:5000", "127.0.0.9:5000"),
                              ("127.0.0.9,127.0.0.8,127.0.0.9:5555", "127.0.0.9:5555"),
                              ("Host-A:7000,host-a:7000", "host-a:7000"),
                              ("[::1]:7000,[::1]:7000", "[::1]:7000")):
            with self.subTest(agents=agents):
                self.assert_usage_error(["--agents", agents], "--agents", f"'{twice}'",
                                        "listed twice")
        # one host, two ports: two agents
        status, _, err = self.coordinator(["--agents", "127.0.0.9:1,127.0.0.9:2", "--help"])
        self.assertEqual(status, 0, err)


class ResumeAloneTests(ChecksCase):
    def test_resume_with_any_other_option(self):
        journal = self.path("j")
        with open(journal, "w") as f:
            f.write('{"fleetbench_journal":1,"argv":["coordinator","--runs","1"]}\n')
        spellings = [
            ["--resume", journal, "--runs", "2"],
            ["--runs", "2", "--resume", journal],
            ["--runs=2", f"--resume={journal}"],
            [f"--resume={journal}", "--runs=2"],
            ["-w1", "--resume", journal],
            ["--resume", journal, "-w", "1"],
            ["--mode=serial", "--resume", journal],
            ["--resume", journal, "--resume", journal],
        ]
        for args in spellings:
            with self.subTest(args=args):
                status, out, err = self.coordinator(args, timeout=10.0)
                self.assertEqual(status, 1, err)
                self.assertIn("--resume takes no other options", err)
                with open(journal) as f:  # untouched
                    self.assertEqual(f.read().count("\n"), 1)


class LivenessTests(ChecksCase):
    def test_fewer_than_three_heartbeats_refused(self):
        for hb, live in (("100", "299"), ("10", "20"), ("1000", "2000")):
            with self.subTest(heartbeat=hb, liveness=live):
                self.assert_usage_error(["--heartbeat", hb, "--liveness", live], "--liveness",
                                        f"--heartbeat {hb}", "3 times")

    def test_three_heartbeats_serve_healthy_agents(self):
        target = self.target()
        _, host, port = self.agent()
        status, _, err = self.coordinator(["--agents", f"{host}:{port}", "--target", target,
                                           "--matrix", "async-for,threads-reuse", "-r", "20",
                                           "--runs", "3", "-w", "1", "--heartbeat", "100",
                                           "--liveness", "300", "--export-json", "r.json"])
        self.assertEqual(status, 0, err)


class KeyFileTests(ChecksCase):
    def setUp(self):
        super().setUp()
        for program, prefix in (("agent", "agent"), ("coordinator", "coord")):
            status, out, err = self.run_binary(program, ["keygen", self.path(prefix)])
            self.assertEqual(status, 0, out + err)
        with open(self.path("authorized"), "w") as f:
            f.write(self.pub("coord") + "\n")

    def pub(self, prefix):
        with open(self.path(prefix + ".pub")) as f:
            return f.read().strip()

    def known(self, lines):
        path = self.path("known")
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return path

    def test_public_key_refused_as_key(self):
        for prefix in ("agent", "coord"):
            os.chmod(self.path(prefix + ".pub"), 0o600)  # not the mode check speaking
        status, _, err = self.run_binary("agent", [
            "--listen", f"{self.host}:0", "--key", self.path("agent.pub"),
            "--authorized-keys", self.path("authorized")])
        self.assertEqual(status, 1, err)
        self.assertIn("agent.pub: a public key; --key wants the secret one", err)
        known = self.known([f"{self.host}:5555 {self.pub('agent')}"])
        status, _, err = self.coordinator(["--agents", f"{self.host}:5555", "--target",
                                           f"{self.host}:1", "--key", self.path("coord.pub"),
                                           "--known-agents", known, "--export-json", "r.json"],
                                          timeout=10.0)
        self.assertEqual(status, 1, err)
        self.assertIn("coord.pub: a public key; --key wants the secret one", err)

    @unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback (::1): skipped")
    def test_ipv6_known_agents(self):
        target = self.target()
        _, host, port = self.agent("--key", self.path("agent.key"), "--authorized-keys",
                                   self.path("authorized"), host="::1")
        self.assertEqual(host, "::1")
        args = ["--agents", f"[::1]:{port}", "--target", target, "--matrix", "async-for",
                "-r", "5", "--runs", "1", "-w", "0", "--key", self.path("coord.key"),
                "--heartbeat", "100", "--liveness", "1000", "--export-json", "r.json"]
        agent_pub = self.pub("agent")
        for line in (f"[::1]:{port} {agent_pub}", f"[::1] {agent_pub}",
                     f"[0:0:0:0:0:0:0:1]:{port} {agent_pub}", f"::1 {agent_pub}"):
            with self.subTest(line=line):
                status, _, err = self.coordinator([*args, "--known-agents", self.known([line])])
                self.assertEqual(status, 0, err)
        # another port only: not this agent
        known = self.known([f"[::1]:{port % 60000 + 1} {agent_pub}"])
        status, _, err = self.coordinator([*args, "--known-agents", known])
        self.assertEqual(status, 5, err)
        self.assertIn("is not in", err)
        # a malformed line is named
        for bad in (f"[::1:{port} {agent_pub}", f"[::1]:x {agent_pub}",
                    f"[::1]{port} {agent_pub}", f"[]:{port} {agent_pub}"):
            with self.subTest(bad=bad):
                status, _, err = self.coordinator([*args, "--known-agents", self.known([bad])],
                                                  timeout=10.0)
                self.assertEqual(status, 1, err)
                self.assertIn("line 1", err)


if __name__ == "__main__":
    unittest.main()
