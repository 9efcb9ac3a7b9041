"""`agent run --rate R --duration S`: open-loop runs against the real target-server.

Every strategy must hold a schedule (request i due at i/R s) whatever the
target does, and measure latency both from each request's due time
(corrected for coordinated omission) and from its actual send (service
time).  Checked here:

* the rate is held: N = R x S requests exactly (2000/s for 5 s; 500/s
  under ThreadSanitizer), all passing, the achieved rate within 5 % of R, and a run never faster than
  its schedule;
* a target frozen (SIGSTOP, then SIGCONT) for half a second in the middle
  of a run shows in the corrected latency in full.  With a bounded number
  of threads or connections (threads-recreate, threads-reuse, async-*:
  C = K = 20 here), only the <= C requests in flight when the target froze
  wait for it in their service time; the requests that fell due meanwhile
  wait in the client, so only the corrected view sees them.  threads-map
  starts a thread per request at its due time, so it keeps sending into the
  frozen target: there the service time sees the freeze as well, and on a
  plain build the agent stays on schedule (small lateness);
* a request's --timeout counts from its due time, so a run against a
  stalled target ends by S + --timeout, and requests that cannot be sent in
  time are counted as timeouts without being sent;
* --export-hdr writes HdrHistogram's percentile text of the corrected
  latency; usage errors and a threads-map rate the system cannot host are
  exit 1; SIGTERM ends a slow schedule at once.

Under FB_SANITIZE=thread a ThreadSanitizer report fails the run
(halt_on_error=1) and the test.  FB_RATE_REPEAT=N repeats the timing tests
N times in one process (default 1).
"""

import json
import os
import re
import signal
import tempfile
import time
import unittest

import fbtest

if fbtest.SANITIZE == "thread":
    os.environ.setdefault("TSAN_OPTIONS", "halt_on_error=1:exitcode=66:second_deadlock_stack=1:"
                                          f"suppressions={fbtest.TSAN_SUPPRESSIONS}")

STRATEGIES = ["threads-recreate", "threads-reuse", "threads-map", "async-for", "async-map"]
BOUNDED = ["threads-recreate", "threads-reuse", "async-for", "async-map"]
ASYNC = {"async-for", "async-map"}
READY = r"^target-server: listening on http://\S+:(?P<port>\d+) "
# Requests per second. ThreadSanitizer makes starting a thread so dear that
# threads-recreate (a thread per request) and threads-map fall behind 2000/s
# on 2 CPUs; the race checks need the code paths, not the rate.
RATE = 500 if fbtest.SANITIZE == "thread" else 2000
DURATION = 2      # seconds (the freeze and timeout tests)
# The rate test runs longer: a machine busy with other jobs can delay the
# last completions by 100 ms or more, which is 5 % of 2 s but 2 % of 5 s.
RATE_DURATION = 5
FREEZE = 0.5      # seconds the target is stopped
CONC = 20         # -c / --connections in the freeze test
REPEAT = int(os.environ.get("FB_RATE_REPEAT", "1"))
RUN_TIMEOUT = 60.0


def brief(hist):
    """A JSON histogram without its buckets, for failure messages."""
    return {k: v for k, v in hist.items() if k != "buckets"}


def over(hist, ns):
    """How many values of a JSON latency histogram lie in buckets at or above ns."""
    return sum(count for low, count in hist["buckets"] if low >= ns)


class RateCase(fbtest.FbTestCase):
    def target(self, *extra):
        proc, port = self.start("target-server", ["--host", self.host, "--port", "0",
                                                  "--threads", "1", *extra], READY)
        return proc, f"{self.host}:{port}"

    def agent_args(self, strategy, target, rate, duration, conc=None, *extra):
        args = [fbtest.binary("agent"), "run", strategy, "--rate", str(rate),
                "--duration", str(duration), "--target", target, "--json", *extra]
        if conc is not None:
            args += ["--connections", str(conc)] if strategy in ASYNC else ["-c", str(conc)]
        return args

    def finish(self, proc, args, expect=0):
        """Waits for an agent spawned with agent_args; its JSON record."""
        status = proc.wait(RUN_TIMEOUT * fbtest.SLOW)
        if status is None:
            self.fail(f"{' '.join(args)}: still running after {RUN_TIMEOUT * fbtest.SLOW:.0f} s")
        out = proc.wait_stdout()
        err = proc.stderr()
        marker = fbtest.sanitizer_report(err)
        if marker:
            self.fail(f"agent reported '{marker}':\n{err[-6000:]}")
        self.assertEqual(status, expect, f"{' '.join(args[1:])}: exit {status}\n{err[-3000:]}")
        try:
            return json.loads(out)
        except ValueError:
            self.fail(f"stdout is not JSON: {out[:500]!r}\n{err[-2000:]}")

    def run_rate(self, strategy, target, rate, duration, conc=None, *extra, expect=0):
        args = self.agent_args(strategy, target, rate, duration, conc, *extra)
        return self.finish(fbtest.spawn_process(self, args), args, expect)

    def check_counts(self, rec, n):
        """The three histograms hold every request (never-sent ones only corrected)."""
        never = rec["rate"]["never_sent"]
        self.assertEqual(rec["ok"] + rec["failed"], n)
        self.assertEqual(rec["latency"]["count"], n)
        self.assertEqual(rec["service"]["count"], n - never)
        self.assertEqual(rec["lateness"]["count"], n - never)
        for h in ("latency", "service", "lateness"):
            self.assertEqual(sum(b[1] for b in rec[h]["buckets"]), rec[h]["count"], h)

    def check_corrected_dominates(self, rec):
        """Per request, latency from the due time >= latency from the send; so
        every order statistic of the corrected view is >= the service one's."""
        lat, srv = rec["latency"], rec["service"]
        if rec["rate"]["never_sent"]:
            return  # a never-sent request has no service time to compare
        for key in ("min", "p50", "p90", "p99", "max"):
            self.assertGreaterEqual(lat[key], srv[key], f"{key}: {brief(lat)} vs {brief(srv)}")


class TestRateIsHeld(RateCase):
    def test_every_strategy_holds_the_rate(self):
        _, target = self.target()
        n = RATE * RATE_DURATION
        for _ in range(REPEAT):
            for strategy in STRATEGIES:
                with self.subTest(strategy=strategy):
                    rec = self.run_rate(strategy, target, RATE, RATE_DURATION)
                    r = rec["rate"]
                    print(f"\n  {strategy}: achieved {r['achieved']:.1f}/s of {RATE}, "
                          f"corrected p50/p99 {rec['latency']['p50'] / 1e6:.3f}/"
                          f"{rec['latency']['p99'] / 1e6:.3f} ms, service p50/p99 "
                          f"{rec['service']['p50'] / 1e6:.3f}/{rec['service']['p99'] / 1e6:.3f}"
                          f" ms, late p99 {rec['lateness']['p99'] / 1e6:.3f} ms", end="")
                    self.assertEqual(rec["requests"], n)
                    self.assertEqual(rec["ok"], n, rec["failures"])
                    self.assertEqual(r["never_sent"], 0)
                    self.assertEqual(r["target"], RATE)
                    self.assertEqual(r["duration_s"], RATE_DURATION)
                    self.check_counts(rec, n)
                    self.check_corrected_dominates(rec)
                    self.assertLess(abs(r["achieved"] - RATE), 0.05 * RATE, r)
                    # never ahead of the schedule: the last request is due at (n-1)/R
                    self.assertGreaterEqual(rec["wall_s"], (n - 1) / RATE)
                    threads = {"threads-reuse": 100, "threads-recreate": n, "threads-map": n}
                    self.assertEqual(rec["threads"], threads.get(strategy, 1))
                    if strategy != "threads-map":
                        self.assertLessEqual(rec["connections_opened"], 100)


class TestFreeze(RateCase):
    def run_frozen(self, ts, target, strategy):
        """A run of RATE x DURATION with the target stopped for FREEZE s in
        its middle; (record, measured freeze in s)."""
        args = self.agent_args(strategy, target, RATE, DURATION, CONC)
        proc = fbtest.spawn_process(self, args)
        time.sleep(DURATION / 2 - FREEZE / 2)
        stopped = time.monotonic()
        os.kill(ts.pid, signal.SIGSTOP)
        try:
            time.sleep(FREEZE)
        finally:
            os.kill(ts.pid, signal.SIGCONT)
            frozen = time.monotonic() - stopped
        return self.finish(proc, args), frozen

    def test_freeze_shows_in_corrected_latency(self):
        ts, target = self.target()
        for _ in range(REPEAT):
            for strategy in STRATEGIES:
                with self.subTest(strategy=strategy):
                    self.check_freeze(ts, target, strategy)

    def check_freeze(self, ts, target, strategy):
        rec, frozen = self.run_frozen(ts, target, strategy)
        n = RATE * DURATION
        lat, srv, late = rec["latency"], rec["service"], rec["lateness"]
        tail = 0.2 * frozen * 1e9  # "saw the freeze": waited a fifth of it or more
        n_lat, n_srv = over(lat, tail), over(srv, tail)
        print(f"\n  {strategy}: freeze {frozen * 1e3:.0f} ms; corrected p90 {lat['p90'] / 1e6:.1f}"
              f" p99 {lat['p99'] / 1e6:.1f} max {lat['max'] / 1e6:.1f} ms; service p90 "
              f"{srv['p90'] / 1e6:.1f} p99 {srv['p99'] / 1e6:.1f} max {srv['max'] / 1e6:.1f} ms;"
              f" >= {tail / 1e6:.0f} ms: corrected {n_lat}, service {n_srv}; late max "
              f"{late['max'] / 1e6:.1f} ms", end="")
        self.assertEqual(rec["ok"], n, rec["failures"])  # the 10 s timeout outlasts the freeze
        self.check_counts(rec, n)
        self.check_corrected_dominates(rec)
        # The request due just after the stop waited for the whole freeze.
        self.assertGreaterEqual(lat["max"], 0.8 * frozen * 1e9, brief(lat))
        # About R x freeze requests fell due during it; those due in its first
        # 4/5 waited at least a fifth of it, counted from their due time.
        self.assertGreaterEqual(n_lat, 0.5 * RATE * frozen)
        self.assertGreaterEqual(lat["p90"], tail, brief(lat))
        if strategy == "threads-map":
            # It sent each request at its due time, into the frozen target:
            # the service time saw the freeze too.
            self.assertGreaterEqual(n_srv, 0.5 * RATE * frozen)
            self.assertGreaterEqual(srv["max"], 0.8 * frozen * 1e9, brief(srv))
            # And most requests went out on time: a thread and a connection
            # per request cost some lateness, far less than the freeze. Not
            # under sanitizers: there the ~1000 threads that end together at
            # the thaw (thread exit is several times dearer) starve the thread
            # that starts the next ones, and the rest of the run goes out late.
            if not fbtest.SANITIZE:
                self.assertLess(late["p90"], tail, brief(late))
        else:
            # At most CONC requests were in flight when the target froze; the
            # rest waited in the client, where only the corrected view counts
            # the wait.
            self.assertLessEqual(n_srv, 2 * CONC)
            self.assertGreaterEqual(n_lat, 5 * max(n_srv, 1))
            self.assertLess(srv["p90"], tail, brief(srv))
            self.assertGreaterEqual(late["max"], 0.5 * frozen * 1e9, brief(late))


class TestTimeoutFromDue(RateCase):
    def test_stalled_target_ends_by_duration_plus_timeout(self):
        """Every answer stalls: each request times out --timeout after it fell
        due (not after it was sent), so the run ends by S + --timeout."""
        _, target = self.target("--fault", "stall:1")
        timeout_ms, rate, duration = 300, 50, 1
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                start = time.monotonic()
                rec = self.run_rate(strategy, target, rate, duration, 2,
                                    "--timeout", str(timeout_ms), expect=2)
                took = time.monotonic() - start
                n = rate * duration
                self.assertEqual(rec["failures"]["timeout"], n, rec["failures"])
                self.check_counts(rec, n)
                # corrected latency of a timeout: its --timeout from the due time
                # (curl counts whole ms, so up to 1 ms early; a loaded machine
                # wakes late); a request never sent counts its --timeout
                self.assertGreaterEqual(rec["latency"]["min"], (timeout_ms - 1) * 1e6)
                self.assertLess(rec["latency"]["max"], (timeout_ms + 200 * fbtest.SLOW) * 1e6,
                                brief(rec["latency"]))
                self.assertLess(rec["wall_s"], duration + timeout_ms / 1e3 + 0.5 * fbtest.SLOW)
                self.assertLess(took, duration + timeout_ms / 1e3 + 5 * fbtest.SLOW)

    def test_requests_that_cannot_go_in_time_are_never_sent(self):
        """One thread or connection, a stalled target, 10 requests due per ms
        and a 2 ms timeout: each request sent holds the only slot for 2 ms or
        more, so most expire unsent; they count as timeouts, with a corrected
        latency and no service time. (Timeouts this short also cut connects
        short: libcurl 7.88 then closes the socket without the agent's close
        callback, which the event loop must survive.)"""
        _, target = self.target("--fault", "stall:1")
        rate, duration = 10000, 0.1
        n = int(rate * duration)
        for strategy in ("threads-reuse", "async-for"):
            with self.subTest(strategy=strategy):
                rec = self.run_rate(strategy, target, rate, duration, 1, "--timeout", "2",
                                    expect=2)
                self.assertEqual(rec["failures"]["timeout"], n, rec["failures"])
                self.assertGreaterEqual(rec["rate"]["never_sent"], n // 4, rec["rate"])
                self.check_counts(rec, n)


class TestExportAndErrors(RateCase):
    def test_export_hdr(self):
        _, target = self.target()
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "corrected.hdr")
            rec = self.run_rate("async-for", target, 1000, 0.5, None, "--export-hdr", path)
            with open(path) as f:
                text = f.read()
        n = 500
        lines = text.splitlines()
        self.assertEqual(lines[0].split(), ["Value", "Percentile", "TotalCount",
                                            "1/(1-Percentile)"])
        self.assertEqual(lines[1], "")
        rows = [ln.split() for ln in lines[2:] if not ln.startswith("#")]
        self.assertGreater(len(rows), 10)
        values = [float(r[0]) for r in rows]
        pcts = [float(r[1]) for r in rows]
        counts = [int(r[2]) for r in rows]
        self.assertEqual(values, sorted(values))
        self.assertEqual(pcts, sorted(pcts))
        self.assertEqual(counts, sorted(counts))
        self.assertEqual((pcts[0], pcts[-1], counts[-1], rows[-1][3]), (0.0, 1.0, n, "inf"))
        footer = [ln for ln in lines if ln.startswith("#")]
        self.assertEqual(len(footer), 3, text)
        m = re.fullmatch(r"#\[Max     = +([\d.]+), Total count    = +(\d+)\]", footer[1])
        self.assertIsNotNone(m, footer[1])
        self.assertEqual(int(m.group(2)), n)
        # the corrected latency, in ms: Max is the highest value of the max's
        # bucket (within 1/128 above), and the 50 % row's bucket holds p50
        lat = rec["latency"]
        self.assertTrue(lat["max"] / 1e6 - 0.001 <= float(m.group(1)) <= lat["max"] / 1e6 * 1.01,
                        (m.group(1), lat["max"]))
        p50_row = next(v for v, p in zip(values, pcts) if p >= 0.5)
        self.assertAlmostEqual(p50_row, lat["p50"] / 1e6, delta=lat["p50"] / 1e6 * 0.01 + 0.001)
        self.assertRegex(footer[2], r"^#\[Buckets = +29, SubBuckets     = +256\]$")

    def agent(self, *args, timeout=RUN_TIMEOUT):
        status, out, err = fbtest.run_process([fbtest.binary("agent"), *args], timeout=timeout)
        marker = fbtest.sanitizer_report(err)
        if marker:
            self.fail(f"agent reported '{marker}':\n{err[-6000:]}")
        return status, out, err

    def test_usage_errors(self):
        port = fbtest.unused_port(self.host)
        target = f"{self.host}:{port}"
        cases = [
            (["--rate", "100"], "--rate needs --duration"),
            (["--duration", "1"], "--duration needs --rate"),
            (["-r", "10", "--rate", "100", "--duration", "1"], "exclude each other"),
            (["--rate", "0", "--duration", "1"], "--rate"),
            (["--rate", "1e9", "--duration", "1"], "--rate"),
            (["--rate", "10000000", "--duration", "86400"], "more than 100000000"),
            (["--rate", "10", "--duration", "1", "--export-hdr", "/nonexistent/dir/x.hdr"],
             "--export-hdr: cannot write '/nonexistent/dir/x.hdr'"),
        ]
        for extra, message in cases:
            with self.subTest(args=extra):
                status, out, err = self.agent("run", "async-for", "--target", target, *extra)
                self.assertEqual(status, 1, err)
                self.assertIn(message, err)
                self.assertNotIn("async-for N=", out + err)  # refused before any run

    def test_threads_map_refuses_what_the_system_cannot_host(self):
        """10^7 requests/s with a 10 s timeout could need 10^7 threads at once:
        more than kernel.pid_max can ever be (4194304)."""
        port = fbtest.unused_port(self.host)
        status, _, err = self.agent("run", "threads-map", "--rate", "10000000", "--duration", "1",
                                    "--target", f"{self.host}:{port}")
        self.assertEqual(status, 1, err)
        self.assertRegex(err, r"threads-map: at --rate 1e\+07 with --timeout 10000 ms up to "
                              r"10000000 requests, each on its own thread, can be in progress at "
                              r"once; \S+ allows \d+ threads: lower --rate or --timeout")

    def test_sigterm_ends_a_slow_schedule(self):
        """One request a second for 30 s: the threads (and the loop) sleep
        towards due times seconds away, and still stop at once."""
        _, target = self.target()
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                args = self.agent_args(strategy, target, 1, 30, 4)
                proc = fbtest.spawn_process(self, args)
                time.sleep(1.5 * fbtest.SLOW)
                start = time.monotonic()
                proc.popen.send_signal(signal.SIGTERM)
                status = proc.wait(10 * fbtest.SLOW)
                took = time.monotonic() - start
                self.assertEqual(status, 130, proc.stderr()[-2000:])
                self.assertLess(took, 3 * fbtest.SLOW)
                rec = json.loads(proc.wait_stdout())
                # what was made by then is reported: request 0 at least
                self.assertGreaterEqual(rec["ok"], 1)
                self.assertLess(rec["ok"], 30)
                self.check_counts(rec, rec["ok"] + rec["failed"])


if __name__ == "__main__":
    unittest.main()
