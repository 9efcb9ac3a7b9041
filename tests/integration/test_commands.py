"""Commands on agents, as hyperfine runs them, end to end on 127.0.0.x.

* A shell command on two agents in lockstep: every run of every agent gets
  the target and its iteration in its environment, -L substitutes and names
  as hyperfine does, and the JSON is hyperfine's (the key checks of
  check_hyperfine_scripts.py, which also hold for the -L "parameters").
* The seed's Python client (examples/seed/benchmark.py, Debian's
  python3-requests and python3-aiohttp) on two agents beside the C
  strategies: one matrix, one summary; target-server counts exactly the
  requests the Python processes made.
* Refusals: an agent without --allow-exec refuses the plan (exit 1, the
  message names the flag); --allow-exec off loopback without keys does not
  start, even with --insecure.
* --show-output: the command's stdout and stderr are the agent's; without
  it, nothing of them reaches the agent's.
* A non-zero exit stops its benchmark with hyperfine's message (exit 2);
  -i records it instead. A command past its timeout is killed with its
  whole process group.

Each test takes a few seconds at most (the Python one the most: about a
dozen interpreter start-ups).
"""

import os
import subprocess
import sys
import time

import fbtest
from test_coordinator import CoordinatorCase, HYPERFINE_KEYS, LIVE_MS, READY_AGENT

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "seed", "benchmark.py"))
PYTHON = "/usr/bin/python3"  # Debian's: apt's python3-* are visible to it only
HINT = ("Use the '-i'/'--ignore-failure' option if you want to ignore this. Alternatively, "
        "use the '--show-output' option to debug what went wrong.")


class CommandCase(CoordinatorCase):
    def exec_agents(self, n=2, *extra):
        return [self.agent(None, "--allow-exec", *extra)[1] for _ in range(n)]

    def check_hyperfine_result(self, r, runs):
        ctx = f"result {r['command']!r}"
        for key in HYPERFINE_KEYS:
            self.assertIn(key, r, ctx)
        self.assertEqual(len(r["times"]), runs, ctx)
        self.check_stats(r)


class LockstepTests(CommandCase):
    def test_shell_command_on_two_agents(self):
        _, target = self.target()
        names = self.exec_agents(2)
        log = os.path.join(self.dir, "env.log")
        cmd = (f'echo "$BENCHMARK_SERVER_HOST $BENCHMARK_SERVER_PORT $FLEETBENCH_ITERATION '
               f'$FLEETBENCH_WARMUP {{n}}" >> {log}')
        run = self.coordinator("--agents", ",".join(names), "--target", target, "-w", "1",
                               "--runs", "3", "-L", "n", "1,2", "-n", "echo-{n}", cmd)
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        self.assertEqual([r["command"] for r in doc["results"]], ["echo-1", "echo-2"])
        self.assertEqual([r["parameters"] for r in doc["results"]], [{"n": "1"}, {"n": "2"}])
        for r in doc["results"]:
            self.check_hyperfine_result(r, 3)
            self.assertEqual(r["exit_codes"], [0, 0, 0])
            fb = r["fleetbench"]
            self.assertEqual([a["name"] for a in fb["agents"]], names)
            for a in fb["agents"]:  # each agent timed each run of its own process
                self.assertEqual(len(a["times"]), 3, a)
                self.assertTrue(all(t > 0 for t in a["times"]), a)
                self.assertEqual(len(a["start_offsets"]), 3, a)
            self.assertEqual((fb["requests"]["ok"], fb["requests"]["failed"]), (0, 0))
        self.assertEqual(doc["fleetbench"]["mode"], "lockstep")
        # every agent ran every run, warmups first, with the target's address
        with open(log, encoding="utf-8") as f:
            lines = sorted(f.read().split("\n")[:-1])
        host, port = target.rsplit(":", 1)
        want = sorted(f"{host} {port} {k} {int(k == 0)} {n}"
                      for n in (1, 2) for k in range(4) for _ in names)
        self.assertEqual(lines, want)
        self.assertIn("Summary", run.out)
        # hyperfine's scripts read it: two results scanning one parameter
        p = subprocess.run([sys.executable, os.path.join(HERE, "check_hyperfine_scripts.py"),
                            self.json_path, "KeysTheScriptsRead"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_no_shell_and_names(self):
        _, target = self.target()
        names = self.exec_agents(1)
        # -N: no shell, so the quotes are no quotes: sh gets "'exit" and fails
        # (exit 2) where sh -c "sh -c 'exit 0'" would succeed
        run = self.coordinator("--agents", ",".join(names), "--target", target, "-w", "0",
                               "--runs", "2", "-N", "-n", "t", "true", "sh -c 'exit 0'")
        self.assert_exit(run, 2)
        doc = self.assert_json(run)
        self.assertEqual([r["command"] for r in doc["results"]], ["t"])
        self.assertNotIn("parameters", doc["results"][0])
        self.assertIn("Command terminated with non-zero exit code 2 in the first benchmark run. "
                      + HINT, run.err)


    def test_show_output(self):
        _, target = self.target()
        agent, name = self.agent(None, "--allow-exec")
        for show in ("", "--show-output"):  # the hidden one first: it would come out first
            run = self.coordinator("--agents", name, "--target", target, "-w", "0", "--runs",
                                   "1", *([show] if show else []),
                                   f"echo marker{show}-out; echo marker{show}-err >&2")
            self.assert_exit(run, 0)
        # stderr is a file, stdout a pipe drained by a thread: wait for the shown one
        deadline = time.monotonic() + 5
        while "marker--show-output-out" not in agent.stdout() and time.monotonic() < deadline:
            time.sleep(0.05)
        out, err = agent.stdout(), agent.stderr()
        self.assertIn("marker--show-output-out", out)
        self.assertIn("marker--show-output-err", err)
        self.assertNotIn("marker-out", out + err)
        self.assertNotIn("marker-err", out + err)


class MixedTests(CommandCase):
    def test_python_client_beside_c_strategies(self):
        _, target = self.target("--threads", "1")
        names = self.exec_agents(2)
        runs, requests = 2, 20
        run = self.coordinator(
            "--agents", ",".join(names), "--target", target, "-w", "1", "--runs", str(runs),
            "--matrix", "async-for", "-r", str(requests), "-c", "5",
            "-L", "s", "async-for,threads-reuse", "-n", "python {s}",
            f"{PYTHON} {SEED} {{s}} -r {requests} -c 5", timeout=120)
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        cmds = [r["command"] for r in doc["results"]]
        self.assertEqual(cmds, ["async-for -r 20 -c 5", "python async-for",
                                "python threads-reuse"])
        total = len(names) * requests * runs
        for r in doc["results"]:
            self.check_hyperfine_result(r, runs)
            self.assertEqual(r["exit_codes"], [0] * runs, r["command"])
            t = r["fleetbench"]["target"]
            # what target-server counted is what the processes sent: each
            # checks every answer itself and exits 2 on a wrong one
            self.assertEqual(t["requests"], total, f"{r['command']}: {t}")
            self.assertEqual(t["status"]["2xx"], total, f"{r['command']}: {t}")
            g = r["fleetbench"]["comparison"]["group"]
            self.assertEqual(g, 0, "one group: commands ranked with the strategies")
        self.assertEqual(run.out.count("Summary"), 1, run.out)
        self.assertNotIn("not compared", run.out)
        self.assertEqual(len(doc["fleetbench"]["groups"]), 1, doc["fleetbench"]["groups"])
        for name in cmds:
            self.assertIn(name, run.out)
        print("\n  " + ", ".join(f"{r['command']}: {r['mean'] * 1e3:.1f} ms"
                                 for r in doc["results"]), file=sys.stderr)


class RefusalTests(CommandCase):
    def test_agent_without_allow_exec(self):
        _, target = self.target()
        _, name = self.agent()
        run = self.coordinator("--agents", name, "--target", target, "--runs", "1", "true")
        self.assert_exit(run, 1)
        self.assertIn("--allow-exec", run.err)
        self.assertIn(name, run.err)

    def test_allow_exec_off_loopback_needs_keys(self):
        status, _, err = self.run_binary("agent", ["--listen", "0.0.0.0:0", "--insecure",
                                                   "--allow-exec"])
        self.assertEqual(status, 1, err)
        self.assertIn("--allow-exec", err)
        self.assertIn("keys", err)

    def test_control_characters_refused(self):
        # the agents would refuse them too: a cleaned command would be another one
        for cmd in ("echo a\necho b", "echo \u0085", os.fsdecode(b"cat caf\xe9")):
            with self.subTest(cmd=cmd):
                status, _, err = self.run_binary("coordinator", [cmd])
                self.assertEqual(status, 1, err)
                self.assertIn("control characters (newlines, tabs) and bytes that are not UTF-8",
                              err)

    def test_empty_command_refused(self):
        for args in (["   "], ["-N", "  "], ["-L", "x", "a,", "{x}"]):
            with self.subTest(args=args):
                status, _, err = self.run_binary("coordinator", args)
                self.assertEqual(status, 1, err)
                self.assertIn("an empty command", err)

    def test_bad_name_count(self):
        status, _, err = self.run_binary("coordinator", ["-n", "a", "-n", "b", "-n", "c",
                                                         "-L", "x", "1,2", "echo {x}"])
        self.assertEqual(status, 1, err)
        self.assertIn("It has to appear exactly once, or exactly 2 times", err)


class FailureTests(CommandCase):
    ARGS = ["-w", "1", "--runs", "2", "-L", "c", "0,3", "sh -c 'exit {c}'"]

    def test_non_zero_exit_stops_that_benchmark(self):
        _, target = self.target()
        names = self.exec_agents(1)
        run = self.coordinator("--agents", names[0], "--target", target, *self.ARGS)
        self.assert_exit(run, 2)
        self.assertIn("Command terminated with non-zero exit code 3 in the first warmup run. "
                      + HINT, run.err)
        doc = self.assert_json(run)
        self.assertEqual([r["command"] for r in doc["results"]], ["sh -c 'exit 0'"])
        self.assertEqual(doc["fleetbench"]["unfinished"][0]["command"], "sh -c 'exit 3'")

    def test_ignore_failure_records_exit_codes(self):
        _, target = self.target()
        names = self.exec_agents(2)
        run = self.coordinator("--agents", ",".join(names), "--target", target, "-i",
                               *self.ARGS)
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        self.assertEqual([r["exit_codes"] for r in doc["results"]], [[0, 0], [3, 3]])
        self.assertIn("Ignoring non-zero exit code", run.out)

    def test_timeout_kills_the_process_group(self):
        _, target = self.target()
        names = self.exec_agents(1)
        pidfile = os.path.join(self.dir, "pid")
        # the agent kills it a liveness (or half the run timeout) before the
        # coordinator would give up on the agent
        run = self.coordinator("--agents", names[0], "--target", target, "-w", "0", "--runs",
                               "1", "--run-timeout", str(2 * LIVE_MS // 1000),
                               f"sleep 60 & echo $! > {pidfile}; wait")
        self.assert_exit(run, 2)
        self.assertIn("non-zero exit code 137", run.err)
        with open(pidfile, encoding="utf-8") as f:
            pid = int(f.read())
        deadline = time.monotonic() + 5
        while fbtest.pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(fbtest.pid_alive(pid), "the command's child outlived the timeout")


if __name__ == "__main__":
    import unittest
    unittest.main()
