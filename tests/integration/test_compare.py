"""Comparisons a user can trust, end to end with real processes on 127.0.0.x.

* Run order: against a target that slows down linearly over time
  (drift_server.py), two equivalent strategies (async-for and async-map)
  come out equal under the default --order interleave and far apart under
  --order sequential, which is the drift a run order must not turn into a
  verdict. That target has no GET /stats: it is also the third-party target,
  measured without its own view and without an error.
* The target's own view: with no other load, target-server's count of each
  benchmark's timed runs equals the agents' ok + failed, exactly, in
  lockstep and in serial mode, with and without failing requests.
* Interrupted exports: SIGINT before a benchmark's first run ends leaves it
  out of "results" (listed under fleetbench.unfinished), and the file passes
  the key checks hyperfine's scripts need (check_hyperfine_scripts.py), and
  the scripts themselves when HYPERFINE_SCRIPTS names them.

Printed figures (means, ratios, p) go to stderr so a run shows what it saw.
"""

import json
import os
import signal
import subprocess
import sys
import time

import fbtest
from test_coordinator import CoordinatorCase, READY_AGENT

READY_DRIFT = r"^drift-server: listening on http://\S+:(?P<port>\d+)"
HERE = os.path.dirname(os.path.abspath(__file__))


def means(doc):
    return {r["command"]: r["mean"] for r in doc["results"]}


class RunOrderTests(CoordinatorCase):
    """A linear drift cancels under interleave and decides under sequential."""

    # 10 ms + 150 ms per second from the first request: each run waits about
    # 15 % longer than the one before, so the 12th run waits ~5x longer than
    # the first. What interleave leaves of it grows with the square of the
    # slope (about 2 % here); sequential's is about 6 runs' growth (~2x).
    BASE_MS, SLOPE_MS_PER_S = "10", "150"
    MATRIX = ["--matrix", "async-for,async-map", "-r", "20", "-c", "20", "--runs", "6",
              "-w", "0"]

    def drift_target(self):
        proc, port = fbtest.start_process(
            self, [sys.executable, os.path.join(HERE, "drift_server.py"), self.host,
                   self.BASE_MS, self.SLOPE_MS_PER_S], READY_DRIFT)
        return proc, f"{self.host}:{port}"

    def run_order(self, *order):
        _, target = self.drift_target()  # a fresh one: its drift starts now
        _, name = self.agent()
        run = self.coordinator("--agents", name, "--target", target, *self.MATRIX, *order)
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        self.assertEqual([r["command"] for r in doc["results"]],
                         ["async-for -r 20 -c 20", "async-map -r 20 -c 20"], "--matrix order")
        # a third-party target: no GET /stats, measured all the same
        self.assertFalse(doc["fleetbench"]["target_view"])
        for r in doc["results"]:
            self.assertIsNone(r["fleetbench"]["target"], r["command"])
            self.assertEqual(r["fleetbench"]["requests"]["failed"], 0, r["fleetbench"])
        m = list(means(doc).values())
        ratio = max(m) / min(m)
        (p,) = [r["fleetbench"]["comparison"]["welch_p"] for r in doc["results"]
                if r["fleetbench"]["comparison"]["welch_p"] is not None]
        print(f"\n  {doc['fleetbench']['order']}: means {m[0] * 1e3:.1f} ms and "
              f"{m[1] * 1e3:.1f} ms, ratio {ratio:.3f}, Welch p {p:.3g}", file=sys.stderr)
        return run, doc, ratio, p

    def test_interleave_cancels_a_linear_drift(self):
        run, doc, ratio, p = self.run_order()
        self.assertEqual(doc["fleetbench"]["order"], "interleave")
        self.assertLess(ratio, 1.15, run.out)
        self.assertGreater(p, 0.05, run.out)
        self.assertRegex(run.out, r"times faster than async-\S+ -r 20 -c 20 \(not statistically "
                                  r"significant, p = \d\.\d\d\)")

    def test_sequential_turns_the_drift_into_a_verdict(self):
        run, doc, ratio, p = self.run_order("--order", "sequential")
        self.assertEqual(doc["fleetbench"]["order"], "sequential")
        self.assertGreater(ratio, 1.5, run.out)
        self.assertLess(p, 0.05, run.out)
        self.assertNotIn("not statistically significant", run.out)
        later = means(doc)["async-map -r 20 -c 20"]
        self.assertEqual(later, max(means(doc).values()), "what ran later is slower")

    def test_shuffle_is_seeded(self):
        _, target = self.drift_target()
        _, name = self.agent()
        run = self.coordinator("--agents", name, "--target", target, *self.MATRIX,
                               "--order", "shuffle", "--seed", "7",
                               "--journal", self.json_path + ".journal")  # kept: asked for
        self.assert_exit(run, 0)
        top = self.assert_json(run)["fleetbench"]
        self.assertEqual((top["order"], top["seed"]), ("shuffle", 7))
        with open(self.json_path + ".journal", encoding="utf-8") as f:
            argv = json.loads(f.readline())["argv"]
        self.assertIn("--seed=7", argv, "the seed in use is in the journal, for --resume")


class TargetViewTests(CoordinatorCase):
    """target-server's own count of every timed run equals the agents'."""

    def check_view(self, doc, agents, requests, runs):
        self.assertTrue(doc["fleetbench"]["target_view"])
        for r in doc["results"]:
            fb, t = r["fleetbench"], r["fleetbench"]["target"]
            ctx = f"{r['command']}: {t}"
            total, failed = agents * requests * runs, fb["failures"]["http_status"]
            self.assertEqual(fb["requests"]["ok"] + fb["requests"]["failed"], total, ctx)
            self.assertEqual(fb["requests"]["failed"], failed, f"{ctx}: only status failures")
            self.assertEqual(t["requests"], total, ctx)  # exactly: no other load
            self.assertEqual(t["agents_requests"], total, ctx)
            self.assertEqual((t["runs"], t["compared_runs"]), (runs, runs), ctx)
            self.assertEqual(t["status"]["2xx"], total - failed, ctx)
            self.assertEqual(t["status"]["5xx"], failed, ctx)
            self.assertEqual(t["dropped"], 0, ctx)
            self.assertEqual(t["connections"], fb["requests"]["connections"], ctx)
            for key in ("busy", "busy_max", "cpu"):
                self.assertGreaterEqual(t[key], 0, ctx)
                self.assertLessEqual(t[key], 1, ctx)
            self.assertEqual(t["loops"], 2, ctx)
            print(f"\n  {r['command']}: target {t['requests']}, agents "
                  f"{fb['requests']['ok'] + fb['requests']['failed']}, busy {t['busy']:.3f}",
                  file=sys.stderr)

    def run_view(self, *extra, fault=None, mode="lockstep"):
        _, target = self.target("--threads", "2", *(["--fault", fault] if fault else []))
        names = [self.agent()[1] for _ in range(2)]
        run = self.coordinator("--agents", ",".join(names), "--target", target,
                               "--matrix", "threads-reuse,async-for", "-r", "100", "-c", "10",
                               "--runs", "3", "-w", "1", "--mode", mode, *extra)
        return run, self.assert_json(run)

    def test_counts_equal_lockstep(self):
        run, doc = self.run_view()
        self.assert_exit(run, 0)
        self.check_view(doc, 2, 100, 3)
        self.assertRegex(run.out, r"(?m)^  Target: 600 requests in 3 runs, event loops busy ")
        self.assertNotIn("The target counted", run.out)

    def test_counts_equal_serial_sequential(self):
        run, doc = self.run_view("--order", "sequential", mode="serial")
        self.assert_exit(run, 0)
        self.check_view(doc, 2, 100, 3)

    def test_counts_equal_with_failures(self):
        run, doc = self.run_view(fault="status-500:0.2")
        self.assert_exit(run, 2)
        for r in doc["results"]:
            self.assertGreater(r["fleetbench"]["failures"]["http_status"], 0, r["command"])
        self.check_view(doc, 2, 100, 3)

    def test_other_load_is_a_warning(self):
        """Requests the agents did not make show up as a mismatch naming both counts."""
        proc, target = self.target("--threads", "2", "--delay", "5")
        _, name = self.agent()
        host, port = target.rsplit(":", 1)
        stop = time.monotonic() + 30 * fbtest.SLOW
        noise = subprocess.Popen(
            [sys.executable, "-c",
             "import socket,sys,time\n"
             "end=time.monotonic()+float(sys.argv[3])\n"
             "while time.monotonic()<end:\n"
             "  s=socket.create_connection((sys.argv[1],int(sys.argv[2])))\n"
             "  s.sendall(b'GET /health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
             "  s.recv(4096); s.close(); time.sleep(0.002)\n",
             host, port, str(stop - time.monotonic())])
        self.addCleanup(lambda: (noise.kill(), noise.wait()))
        run = self.coordinator("--agents", name, "--target", target, "--matrix", "async-for",
                               "-r", "50", "-c", "5", "--runs", "3", "-w", "0")
        self.assert_exit(run, 0)
        t = self.assert_json(run)["results"][0]["fleetbench"]["target"]
        self.assertGreater(t["requests"], t["agents_requests"], t)
        self.assertIn(f"The target counted {t['requests']} requests, the agents made "
                      f"{t['agents_requests']} (ok + failed)", run.out)


class InterruptedExportTests(CoordinatorCase):
    """SIGINT before a benchmark's first run ends: it is left out of results."""

    def journal_runs(self):
        try:
            with open(self.json_path + ".journal", encoding="utf-8") as f:
                return max(0, sum(1 for line in f if line.endswith("\n")) - 1)
        except FileNotFoundError:
            return 0

    def interrupt_after(self, runs_done, *args):
        """Starts a coordinator and sends SIGINT once the journal holds runs_done runs."""
        proc, started = self.spawn(*args)
        deadline = time.monotonic() + 20 * fbtest.SLOW
        while self.journal_runs() < runs_done and proc.alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(self.journal_runs(), runs_done, proc.stderr())
        time.sleep(0.2)  # well inside the long run that comes next
        self.assertTrue(proc.alive(), proc.stderr())
        proc.popen.send_signal(signal.SIGINT)
        run = self.finish(proc, started)
        self.assert_exit(run, 130)
        return run, self.assert_json(run)

    def check_scripts(self, path):
        """check_hyperfine_scripts.py on the file: its key checks always, and
        hyperfine's own scripts when HYPERFINE_SCRIPTS names them."""
        parts = ["KeysTheScriptsRead"]
        if os.environ.get("HYPERFINE_SCRIPTS"):
            parts.append("HyperfineScriptsRun")
        for part in parts:
            p = subprocess.run([sys.executable, os.path.join(HERE, "check_hyperfine_scripts.py"),
                                path, part], capture_output=True, text=True, timeout=300)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            print("\n" + "\n".join(line for line in p.stderr.splitlines() if " ... " in line),
                  file=sys.stderr)

    def test_sigint_during_a_first_run(self):
        """Two benchmarks done (sequential: five runs each, as hyperfine's
        plot_parametrized.py needs a σ and plot_progression.py five runs), the
        third interrupted in its first run."""
        _, target = self.target("--delay", "20")
        _, name = self.agent()
        run, doc = self.interrupt_after(10, "--agents", name, "--target", target,
                                        "--matrix", "async-for", "-r", "2,3,400", "-c", "1",
                                        "--runs", "5", "-w", "0", "--order", "sequential")
        self.assertEqual([r["command"] for r in doc["results"]],
                         ["async-for -r 2 -c 1", "async-for -r 3 -c 1"])
        for r in doc["results"]:
            self.assertEqual(len(r["times"]), 5, r)
            self.assertEqual(r["parameters"], {"requests": r["command"].split()[2]})
        self.assertEqual(doc["fleetbench"]["unfinished"],
                         [{"command": "async-for -r 400 -c 1", "runs": 0}])
        self.assertIn("Benchmark 1: async-for -r 2 -c 1", run.out)
        self.assertIn("Benchmark 2: async-for -r 3 -c 1", run.out)
        self.assertNotIn("Benchmark 3", run.out)
        self.check_scripts(self.json_path)

    def test_sigint_before_the_first_run_ends(self):
        _, target = self.target("--delay", "20")
        _, name = self.agent()
        run, doc = self.interrupt_after(0, "--agents", name, "--target", target,
                                        "--matrix", "async-for,async-map", "-r", "400",
                                        "-c", "1", "--runs", "2", "-w", "0")
        self.assertEqual(doc["results"], [])
        self.assertEqual(doc["fleetbench"]["unfinished"],
                         [{"command": "async-for -r 400 -c 1", "runs": 0},
                          {"command": "async-map -r 400 -c 1", "runs": 0}])
        self.assertNotIn("Summary", run.out)


class MatrixOrderTests(CoordinatorCase):
    """--matrix's order, not the strategy table's, in every output."""

    def test_matrix_order_everywhere(self):
        _, target = self.target()
        _, name = self.agent()
        md, csv_path = (os.path.join(self.dir, f) for f in ("r.md", "r.csv"))
        run = self.coordinator("--agents", name, "--target", target,
                               "--matrix", "async-map,threads-reuse,async-for", "-r", "10",
                               "-c", "5", "--runs", "2", "-w", "0", "--export-markdown", md,
                               "--export-csv", csv_path)
        self.assert_exit(run, 0)
        want = ["async-map -r 10 -c 5", "threads-reuse -r 10 -c 5", "async-for -r 10 -c 5"]
        self.assertEqual([r["command"] for r in self.assert_json(run)["results"]], want)
        with open(md, encoding="utf-8") as f:
            self.assertEqual([line.split("`")[1] for line in f if line.startswith("| `")], want)
        with open(csv_path, encoding="utf-8") as f:
            self.assertEqual([line.split(",")[0] for line in f][1:], want)
        blocks = [run.out.index(f"Benchmark {i}: {cmd}\n") for i, cmd in enumerate(want, 1)]
        self.assertEqual(blocks, sorted(blocks), run.out)
