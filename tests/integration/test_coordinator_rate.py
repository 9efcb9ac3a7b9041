"""`coordinator --rate R --duration S`: open-loop runs across agents.

Real processes on 127.0.0.x: a target-server, agent daemons and a
coordinator over real ZeroMQ.  Checked here:

* the fleet's rate is shared (R/K per agent, each making ceil(R/K x S)
  requests), held within 5 % (the agents' achieved rates summed), and the
  JSON export has fleetbench.rate, .latency (corrected) and .service, with
  every request counted once and the corrected view never below the
  service one; the summary ranks by p99 ("times lower p99 than");
* --export-hdr writes one HdrHistogram percentile distribution per
  benchmark that parses (header, monotone rows, the footer's count); the
  report draws the corrected and the service-time curve of each;
* --resume rebuilds the rate blocks from the journal;
* a target frozen for half a second in the middle of a run shows in the
  corrected percentiles and not in the service time (threads-reuse with 10
  threads: only the requests in flight wait in their service time);
* --rate's usage errors are exit 1, and so is a threads-map rate the
  agent refuses (more threads than its host allows).

Each test takes a few seconds (runs of 1 to 3 s of schedule).
"""

import json
import os
import re
import signal
import time
import unittest

import fbtest
from test_coordinator import CoordinatorCase

RATE = 400       # requests per second, the whole fleet
DURATION = 1     # seconds of schedule per run
FREEZE = 0.5     # seconds the target is stopped
SESSION = r"agent: session \S+ opened by"


def parse_hgrm(text):
    """HdrHistogram's percentile text: (rows of (value, percentile, count), footer)."""
    lines = text.splitlines()
    if not lines or lines[0].split() != ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"]:
        raise ValueError(f"no header: {lines[:1]}")
    rows, footer = [], {}
    for line in lines[1:]:
        if not line.strip():
            continue
        if line.startswith("#["):
            for key, val in re.findall(r"(\w[\w ]*?)\s*=\s*([0-9.]+)", line):
                footer[key.strip()] = float(val)
            continue
        value, pct, count, _inv = line.split()
        rows.append((float(value), float(pct), int(count)))
    return rows, footer


class RateFleetTests(CoordinatorCase):
    def fleet(self, n):
        _, target = self.target()
        return target, [self.agent()[1] for _ in range(n)]

    def check_blocks(self, r, runs, nagents):
        """The rate, latency and service blocks of one result."""
        f = r["fleetbench"]
        per_agent = -(-RATE * DURATION // nagents)  # ceil
        self.assertEqual(f["setup"]["requests"], per_agent)
        self.assertEqual(f["setup"]["rate"], RATE)
        rate = f["rate"]
        self.assertEqual(rate["target"], RATE)
        self.assertEqual(rate["per_agent"], RATE / nagents)
        self.assertEqual(rate["never_sent"], 0)
        self.assertLess(abs(rate["achieved"] - RATE), 0.05 * RATE, rate)
        n = runs * nagents * per_agent
        lat, svc = f["latency"], f["service"]
        self.assertEqual(lat["count"], n)
        self.assertEqual(svc["count"], n)  # every request was sent
        for key in ("min", "p50", "p90", "p99", "max"):
            self.assertGreaterEqual(lat[key], svc[key], f"{key}: {lat} vs {svc}")
        self.assertEqual(f["comparison"]["by"], "p99")
        return n

    def test_rate_shared_and_held(self):
        target, agents = self.fleet(2)
        hdr = os.path.join(self.dir, "lat.hgrm")
        report = os.path.join(self.dir, "report.html")
        run = self.coordinator("--agents", ",".join(agents), "--target", target, "--matrix",
                               "async-for,threads-reuse", "-c", "20", "--rate", str(RATE),
                               "--duration", str(DURATION), "--runs", "2", "-w", "0",
                               "--export-hdr", hdr, "--report", report,
                               "--journal", self.json_path + ".journal")  # kept: asked for
        self.assert_exit(run, 0)
        doc = self.assert_json(run)
        self.assertEqual([r["command"] for r in doc["results"]],
                         [f"async-for --rate {RATE} --duration {DURATION} -c 20",
                          f"threads-reuse --rate {RATE} --duration {DURATION} -c 20"])
        counts = [self.check_blocks(r, 2, 2) for r in doc["results"]]
        self.assertIn("Rate:", run.out)
        self.assertIn(" had\n", run.out)
        self.assertRegex(run.out, r"times (lower|higher) p99 than|As low a p99")
        for i, (r, n) in enumerate(zip(doc["results"], counts)):
            strategy = r["fleetbench"]["setup"]["strategy"]
            path = os.path.join(self.dir, f"lat.{i + 1}-{strategy}.hgrm")
            with open(path, encoding="ascii") as f:
                rows, footer = parse_hgrm(f.read())
            self.assertEqual(rows[-1][2], n)
            self.assertEqual(footer["Total count"], n)
            for a, b in zip(rows, rows[1:]):
                self.assertLessEqual(a[0], b[0], path)
                self.assertLessEqual(a[1], b[1], path)
                self.assertLessEqual(a[2], b[2], path)
            # the highest value of the max's bucket (0.8 %), in ms
            lat_max_ms = r["fleetbench"]["latency"]["max"] * 1e3
            self.assertLess(abs(footer["Max"] - lat_max_ms), 0.01 * lat_max_ms + 0.002, path)
        self.assertFalse(os.path.exists(hdr))  # several benchmarks: one file each
        with open(report, encoding="utf-8") as f:
            html = f.read()
        # each benchmark's corrected and service-time curves
        self.assertEqual(html.count(" (corrected)</title><polyline"), 2)
        self.assertEqual(html.count(" (service time)</title><polyline"), 2)
        self.assertEqual(html.count("<td>service</td>"), 2)  # and a table row each

        # --resume from the journal cut after its first run: the blocks again
        journal = self.json_path + ".journal"
        with open(journal, encoding="utf-8") as f:
            lines = f.readlines()
        cut = os.path.join(self.dir, "cut.journal")
        with open(cut, "w", encoding="utf-8") as f:
            f.writelines(lines[:2])
        self.assertIn('"service"', lines[1])
        os.remove(self.json_path)
        run = self.coordinator("--resume", cut, short=False, export=False)
        self.assert_exit(run, 0)
        for r in self.assert_json(run)["results"]:
            self.check_blocks(r, 2, 2)

    def test_freeze_shows_in_corrected_not_service(self):
        ts, target = self.target()
        agent_proc, agent = self.agent()
        proc, started = self.spawn("--agents", agent, "--target", target, "--matrix",
                                   "threads-reuse", "-c", "10", "--rate", str(RATE), "--duration",
                                   "3", "--runs", "1", "-w", "0")
        self.assertIsNotNone(fbtest.wait_for_stderr(agent_proc, SESSION, 10 * fbtest.SLOW),
                             agent_proc.stderr())
        time.sleep(1.0)  # the run (3 s) started within a few ms of the session
        stopped = time.monotonic()
        os.kill(ts.pid, signal.SIGSTOP)
        try:
            time.sleep(FREEZE)
        finally:
            os.kill(ts.pid, signal.SIGCONT)
            frozen = time.monotonic() - stopped
        run = self.finish(proc, started)
        self.assert_exit(run, 0)
        f = self.assert_json(run)["results"][0]["fleetbench"]
        lat, svc = f["latency"], f["service"]
        tail = 0.2 * frozen
        print(f"\n  freeze {frozen * 1e3:.0f} ms: corrected p90 {lat['p90'] * 1e3:.1f} p99 "
              f"{lat['p99'] * 1e3:.1f} max {lat['max'] * 1e3:.1f} ms; service p90 "
              f"{svc['p90'] * 1e3:.1f} p99 {svc['p99'] * 1e3:.1f} max {svc['max'] * 1e3:.1f} ms",
              end="")
        self.assertEqual(lat["count"], RATE * 3)
        # about R x freeze requests (1/6 of them) fell due during it and waited
        self.assertGreaterEqual(lat["max"], 0.8 * frozen, lat)
        self.assertGreaterEqual(lat["p90"], tail, lat)
        # only the <= 10 in flight (< 1 %) waited in their service time
        self.assertLess(svc["p99"], tail, svc)
        self.assertIn("fell behind the schedule", run.out)  # the client waited, not the target

    def test_threads_map_rate_the_agent_refuses(self):
        """A threads-map rate the agent's host cannot run (a thread per request
        in progress: rate x --timeout of them) is the agent's refusal, named: exit 1."""
        target, agents = self.fleet(1)
        run = self.coordinator("--agents", agents[0], "--target", target, "--matrix", "threads-map",
                               # 10^7 threads at once: beyond any pid_max (at most 2^22)
                               "--rate", "1000000", "--duration", "10", "--timeout", "600000",
                               "--runs", "1", "-w", "0")
        self.assert_exit(run, 1)
        self.assertIn("threads-map could not run", run.err)
        self.assertIn("lower --rate or --timeout", run.err)

    def test_usage_errors(self):
        cases = [
            (["--duration", "1"], "--duration needs --rate"),
            (["--rate", "100"], "--rate needs --duration"),
            (["--rate", "100", "--duration", "1", "-r", "10"], "exclude each other"),
            (["--rate", "100", "--duration", "1", "--mode", "serial"], "needs --mode lockstep"),
            (["--rate", "0", "--duration", "1"], "--rate"),
            (["--rate", "100", "--duration", "1", "true"], "a command (COMMAND...) runs on no"),
            (["--rate", "1e7", "--duration", "10"], "more than 10000000"),
            (["--export-hdr", ""], "--export-hdr: needs a file name"),
            # checked before any run, per benchmark file
            (["--matrix", "async-for,async-map", "--export-hdr", "/nonexistent-fb/lat.hgrm"],
             "--export-hdr /nonexistent-fb/lat.1-async-for.hgrm: cannot create"),
        ]
        for args, text in cases:
            with self.subTest(args=args):
                status, out, err = self.run_binary("coordinator", args)
                self.assertEqual(status, 1, err)
                self.assertIn(text, err)


if __name__ == "__main__":
    unittest.main()
