"""`agent run` against the real target-server on 127.0.0.x.

Every strategy at several N and C must make exactly N requests, all passing,
with a histogram of N latencies and no more connections than the strategy
allows; each --fault kind of the server must come back classified as the
right cause with exit 2; a closed port is exit 4; a stalled server ends in
timeouts within a bounded time; usage errors are exit 1 and say what is
wrong.  Under FB_SANITIZE=thread a ThreadSanitizer report fails the run
(halt_on_error=1) and the test (fbtest looks for the report on stderr).
"""

import json
import os
import re
import resource
import signal
import socket
import time
import unittest

import fbtest

if fbtest.SANITIZE == "thread":
    os.environ.setdefault("TSAN_OPTIONS", "halt_on_error=1:exitcode=66:second_deadlock_stack=1:"
                                          f"suppressions={fbtest.TSAN_SUPPRESSIONS}")

STRATEGIES = ["threads-recreate", "threads-reuse", "threads-map", "async-for", "async-map"]
CHUNKED = {"threads-recreate", "threads-reuse"}
ASYNC = {"async-for", "async-map"}
VALID = ", ".join(STRATEGIES)
READY = r"^target-server: listening on http://\S+:(?P<port>\d+) "
FAILURE_KEYS = ["connect", "timeout", "transport", "http_status", "bad_body", "wrong_result"]
# Seconds for one agent run of up to 1000 requests (scaled by fbtest.SLOW).
RUN_TIMEOUT = 60.0


def allowed_connections(strategy, n, c):
    """The most connections a run may open: one per worker or slot."""
    if strategy in CHUNKED or strategy in ASYNC:
        return min(c, n)
    return n  # threads-map: at most one per request in progress


class AgentCase(fbtest.FbTestCase):
    """Helpers: a target on this test's address, and agent runs."""

    def target(self, *extra, threads=1):
        proc, port = self.start("target-server", ["--host", self.host, "--port", "0",
                                                  "--threads", str(threads), *extra], READY)
        return proc, f"{self.host}:{port}"

    def agent(self, *args, timeout=RUN_TIMEOUT, env=None):
        """Runs `agent ARGS`; returns (status, stdout, stderr); fails on a sanitizer report."""
        status, out, err = fbtest.run_process([fbtest.binary("agent"), *args], timeout=timeout,
                                              env=env)
        marker = fbtest.sanitizer_report(err)
        if marker:
            self.fail(f"agent {' '.join(args)} reported '{marker}':\n{err[-6000:]}")
        return status, out, err

    def run_json(self, strategy, target, n, c=None, *extra, expect=0, timeout=RUN_TIMEOUT):
        """`agent run STRATEGY -r N [-c C | --connections C] --json`; the record."""
        args = ["run", strategy, "-r", str(n), "--target", target, "--json", *extra]
        if c is not None:
            args += ["-c", str(c)] if strategy not in ASYNC else ["--connections", str(c)]
        status, out, err = self.agent(*args, timeout=timeout)
        self.assertEqual(status, expect, f"agent {' '.join(args)}: exit {status}\n{err[-3000:]}")
        try:
            rec = json.loads(out)
        except ValueError:
            self.fail(f"agent {' '.join(args)}: stdout is not JSON: {out[:500]!r}\n{err[-2000:]}")
        # the summary line goes to stderr with --json
        self.assertRegex(err, rf"(?m)^{re.escape(strategy)} N={n}\b.*\bok {rec['ok']}, ")
        self.last_err = err
        return rec

    def assert_all_failed_as(self, rec, n, cause):
        self.assertEqual(rec["ok"], 0, rec)
        self.assertEqual(rec["failed"], n, rec)
        want = {k: (n if k == cause else 0) for k in FAILURE_KEYS}
        self.assertEqual(rec["failures"], want)
        self.assertEqual(rec["latency"]["count"], n)


class TestStrategies(AgentCase):
    def check_clean_run(self, rec, strategy, n, c):
        where = f"{strategy} N={n} C={c}"
        self.assertEqual(rec["strategy"], strategy)
        self.assertEqual(rec["requests"], n)
        self.assertEqual(rec["ok"], n, where)
        self.assertEqual(rec["failed"], 0, where)
        self.assertEqual(rec["failures"], {k: 0 for k in FAILURE_KEYS}, where)
        lat = rec["latency"]
        self.assertEqual(lat["count"], n, where)
        self.assertEqual(sum(b[1] for b in lat["buckets"]), n, where)
        self.assertTrue(0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"], lat)
        self.assertLess(lat["max"], rec["wall_s"] * 1e9 + 1e6, where)
        conns = rec["connections_opened"]
        self.assertGreaterEqual(conns, 1, where)
        self.assertLessEqual(conns, allowed_connections(strategy, n, c), where)
        if strategy in CHUNKED:  # one connection per worker, each worker used
            self.assertEqual(conns, min(c, n), where)
        # a response is ~140 bytes of header and body; the body grows with i
        self.assertTrue(100 * n <= rec["bytes_received"] <= 300 * n, rec["bytes_received"])
        self.assertGreater(rec["wall_s"], 0)
        self.assertAlmostEqual(rec["throughput_rps"], n / rec["wall_s"], delta=1e-6 * n / rec["wall_s"])
        # CPU time is the agent's getrusage difference over the run: never
        # negative, more than nothing for 100 requests, and at most every
        # core busy for the whole run (plus a little accounting slack).
        cpu = rec["user_s"] + rec["system_s"]
        self.assertGreaterEqual(rec["user_s"], 0, where)
        self.assertGreaterEqual(rec["system_s"], 0, where)
        if n >= 100:
            self.assertGreater(cpu, 0, where)
        self.assertLessEqual(cpu, rec["wall_s"] * (os.cpu_count() or 1) + 0.05, where)
        threads = {"threads-recreate": n, "threads-reuse": min(c, n), "threads-map": n}
        self.assertEqual(rec["threads"], threads.get(strategy, 1), where)

    def test_every_strategy_at_several_sizes(self):
        _, target = self.target(threads=2)
        for strategy in STRATEGIES:
            # threads-map has no C: one run per N
            chunks = [1, 10, 100] if strategy != "threads-map" else [100]
            for n in (1, 7, 100, 1000):
                for c in chunks:
                    with self.subTest(strategy=strategy, n=n, c=c):
                        rec = self.run_json(strategy, target, n, c)
                        self.check_clean_run(rec, strategy, n, c)

    def test_async_all_at_once_queues_in_curl(self):
        # --in-flight 0: every transfer added at once; curl's limit still holds
        _, target = self.target()
        for strategy in sorted(ASYNC):
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, 500, 10, "--in-flight", "0")
                self.check_clean_run(rec, strategy, 500, 10)
                self.assertEqual(rec["in_flight"], 0)

    def test_summary_line_without_json(self):
        _, target = self.target()
        status, out, err = self.agent("run", "threads-reuse", "-r", "20", "-c", "5",
                                      "--target", target)
        self.assertEqual(status, 0, err)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, out)
        self.assertRegex(lines[0], r"^threads-reuse N=20 C=5: [0-9.]+ s, \d+ req/s, ok 20, "
                                   r"failed 0, latency p50 [0-9.]+ ms p99 [0-9.]+ ms$")

    def test_target_as_a_url(self):
        _, target = self.target()
        for form in (f"http://{target}", f"http://{target}/", f"HTTP://{target}/"):
            with self.subTest(target=form):
                rec = self.run_json("async-for", form, 5)
                self.assertEqual(rec["target"], target)

    def test_target_from_environment(self):
        _, target = self.target()
        host, port = target.rsplit(":", 1)
        env = dict(os.environ, BENCHMARK_SERVER_HOST=host, BENCHMARK_SERVER_PORT=port)
        status, out, err = fbtest.run_process([fbtest.binary("agent"), "run", "async-for",
                                               "-r", "5", "--json"], timeout=RUN_TIMEOUT, env=env)
        self.assertEqual(status, 0, err)
        self.assertEqual(json.loads(out)["target"], target)
        self.assertIsNone(fbtest.sanitizer_report(err), err)


class TestInterrupt(AgentCase):
    def test_sigint_stops_the_run_and_reports(self):
        """SIGINT: no new request, what was made is reported, exit 130."""
        _, target = self.target("--delay", "20")
        for strategy in ("threads-reuse", "async-for"):
            with self.subTest(strategy=strategy):
                proc = fbtest.spawn_process(self, [fbtest.binary("agent"), "run", strategy, "-r",
                                                   "100000", "-c", "4", "--connections", "4",
                                                   "--target", target, "--json"])
                time.sleep(1.0)
                proc.popen.send_signal(signal.SIGINT)
                self.assertEqual(proc.wait(10 * fbtest.SLOW), 130, proc.stderr())
                rec = json.loads(proc.wait_stdout())
                self.assertEqual(rec["requests"], 100000)  # asked for
                self.assertGreater(rec["ok"], 0)           # made before the signal
                self.assertLess(rec["ok"] + rec["failed"], 100000)


class TestFailures(AgentCase):
    N = 20
    C = 5

    def test_wrong_result(self):
        _, target = self.target("--fault", "wrong-result:1")
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, self.N, self.C, expect=2)
                self.assert_all_failed_as(rec, self.N, "wrong_result")

    def test_status_500(self):
        _, target = self.target("--fault", "status-500:1")
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, self.N, self.C, expect=2)
                self.assert_all_failed_as(rec, self.N, "http_status")
                # the cause as the JSON and the coordinator name it, its count after a colon
                self.assertIn(f"failed {self.N} (http_status: {self.N})", self.last_err)
                # failed requests are no throughput
                self.assertEqual(rec["throughput_rps"], 0)
                self.assertIn(" 0 req/s, ok 0, ", self.last_err)

    def test_close(self):
        _, target = self.target("--fault", "close:1")
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, self.N, self.C, expect=2)
                self.assert_all_failed_as(rec, self.N, "transport")

    def test_stall_times_out_in_bounded_time(self):
        timeout_ms = 300
        _, target = self.target("--fault", "stall:1")
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                start = time.monotonic()
                rec = self.run_json(strategy, target, self.N, self.C, "--timeout",
                                    str(timeout_ms), expect=2)
                elapsed = time.monotonic() - start
                self.assert_all_failed_as(rec, self.N, "timeout")
                # N/C waves of one timeout each (threads-map: one wave)
                waves = 1 if strategy == "threads-map" else -(-self.N // self.C)
                bound = waves * timeout_ms / 1000 * 1.5 + 2 * fbtest.SLOW
                self.assertLess(elapsed, bound, f"{strategy} took {elapsed:.2f} s")
                self.assertGreaterEqual(rec["latency"]["min"], timeout_ms * 1e6 * 0.9)

    def test_timeouts_that_cut_connects_short(self):
        """2 ms timeouts against a stalled server cut some connects short;
        libcurl 7.88 then closes the socket without the agent's close
        callback and the next socket gets the same number. The event loop
        must drop the stale watcher (it failed with EEXIST from
        uv_poll_init_socket before)."""
        _, target = self.target("--fault", "stall:1")
        for strategy in ("async-for", "async-map"):
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, 2000, 1, "--timeout", "2", expect=2)
                self.assert_all_failed_as(rec, 2000, "timeout")

    def test_fractional_faults(self):
        n = 400
        _, target = self.target("--fault", "wrong-result:0.25", "--fault", "status-500:0.25",
                                "--seed", "7")
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, n, 10, expect=2)
                f = rec["failures"]
                self.assertEqual(rec["ok"] + f["wrong_result"] + f["http_status"], n, rec)
                for count in (rec["ok"], f["wrong_result"], f["http_status"]):
                    self.assertTrue(n * 0.1 < count < n * 0.8, rec)  # ~50/25/25 %
                for k in ("connect", "timeout", "transport", "bad_body"):
                    self.assertEqual(f[k], 0, rec)
                self.assertEqual(rec["latency"]["count"], n)

    def check_only(self, rec, n, causes):
        """ok + the failures of `causes` == n, both kinds seen, no other cause."""
        f = rec["failures"]
        self.assertEqual(rec["ok"] + sum(f[k] for k in causes), n, rec)
        self.assertGreater(rec["ok"], 0, rec)
        self.assertGreater(sum(f[k] for k in causes), 0, rec)
        for k in FAILURE_KEYS:
            if k not in causes:
                self.assertEqual(f[k], 0, rec)
        self.assertEqual(rec["latency"]["count"], n)

    def test_fractional_close(self):
        # closed connections are replaced by new sockets that reuse their fd
        # numbers at once; curl retries a request whose reused connection
        # died, so fewer than 30 % fail
        n = 300
        _, target = self.target("--fault", "close:0.3", "--seed", "11")
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, n, 10, expect=2)
                self.check_only(rec, n, ["transport"])

    def test_server_closing_idle_connections(self):
        # stalled requests are closed by the server after its idle timeout,
        # and so are connections left idle meanwhile (async: watchers of
        # parked connections see the peer close). curl retries a request once
        # when a reused connection dies unanswered, so the stall rate is high
        # enough that some retries stall too (~18 of 200 expected; P(none) is
        # negligible), whatever the timing of a sanitized build.
        n = 200
        _, target = self.target("--idle-timeout", "100", "--fault", "stall:0.3", "--seed", "3")
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                start = time.monotonic()
                rec = self.run_json(strategy, target, n, 8, "--timeout", "400", expect=2)
                self.check_only(rec, n, ["transport", "timeout"])
                self.assertLess(time.monotonic() - start, 30 * fbtest.SLOW)

    def test_unreachable_target_is_exit_4(self):
        # a bound socket that does not listen: connections are refused, and
        # the port cannot be taken by anyone else meanwhile
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(sock.close)
        sock.bind((self.host, 0))
        target = f"{self.host}:{sock.getsockname()[1]}"
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                rec = self.run_json(strategy, target, 5, 2, expect=4)
                self.assert_all_failed_as(rec, 5, "connect")
                self.assertEqual(rec["connections_opened"], 0)


class TestUsage(AgentCase):
    def test_unknown_strategy_lists_valid_ones(self):
        status, out, err = self.agent("run", "threads-pool", "-r", "1")
        self.assertEqual(status, 1)
        self.assertIn("threads-pool", err)
        self.assertIn(VALID, err)
        self.assertEqual(out, "")

    def test_bad_numbers_name_the_flag(self):
        for args, flag in ((["-r", "0"], "--requests"), (["-c", "x"], "--chunk"),
                           (["--connections", "-1"], "--connections"),
                           (["--timeout", "1e3"], "--timeout"),
                           (["--target", "127.0.0.2:99999"], "--target")):
            with self.subTest(args=args):
                status, _, err = self.agent("run", "async-for", *args)
                self.assertEqual(status, 1, err)
                self.assertIn(flag, err)

    def test_help_and_version(self):
        status, out, _ = self.agent("--help")
        self.assertEqual(status, 0)
        self.assertIn("agent COMMAND [OPTIONS]", out)
        self.assertIn("--listen HOST:PORT", out)
        for strategy in STRATEGIES:
            self.assertIn(strategy, out)
        status, out, _ = self.agent("run", "--help")
        self.assertEqual(status, 0)
        self.assertIn("Usage: agent run STRATEGY", out)
        self.assertIn("Exit codes", out)
        status, out, _ = self.agent("--version")
        self.assertEqual(status, 0)
        self.assertRegex(out,
                         r"^agent \d+\.\d+\.\d+ \(protocol \d+, libcurl [0-9.]+, libuv [0-9.]+\)$")
        # without a command the agent is a daemon: a bad daemon option is usage
        status, _, err = self.agent("--bogus")
        self.assertEqual(status, 1)
        self.assertIn("unknown option '--bogus'", err)
        status, _, err = self.agent("--listen", "10.1.2.3:5555")
        self.assertEqual(status, 1)
        self.assertIn("only on loopback", err)
        status, _, err = self.agent("sprint")
        self.assertEqual(status, 1)
        self.assertIn("unknown command 'sprint'", err)

    def test_daemon_port_taken(self):
        # the daemon's setup errors come back to daemon_run, printed once, exit 1
        blocker = fbtest.SilentListener(self.host)
        self.addCleanup(blocker.close)
        status, out, err = self.agent("--listen", f"{blocker.host}:{blocker.port}")
        self.assertEqual(status, 1, err)
        self.assertIn(f"agent: cannot listen on tcp://{blocker.host}:{blocker.port}: ", err)
        self.assertEqual(err.count("agent: "), 1, err)
        self.assertNotIn("listening", out)


@unittest.skipIf(fbtest.SANITIZE, "sanitizers need address space that RLIMIT_AS would take")
class TestThreadLimit(AgentCase):
    def test_threads_map_names_the_thread_it_could_not_start(self):
        # every request waits 500 ms, so all threads are alive together, and
        # 48 MiB of address space cannot hold 3000 stacks
        _, target = self.target("--delay", "500")
        limit = 48 << 20

        def cap():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        import subprocess
        result = subprocess.run([fbtest.binary("agent"), "run", "threads-map", "-r", "3000",
                                 "--target", target], capture_output=True, text=True,
                                timeout=RUN_TIMEOUT, preexec_fn=cap)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertRegex(result.stderr, r"threads-map: cannot start thread \d+ of 3000: ")


if __name__ == "__main__":
    unittest.main()
