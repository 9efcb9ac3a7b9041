"""The coordinator's files: exports on odd paths, journals under faults.

Exports: a symlink is written through and stays a symlink; a FIFO and
/dev/stdout are written in place, once, at the end; /dev/full is an error
(exit 1) naming it; a bad directory for any output is found before the first
run; a journal that is also an export is refused.

Journals: a torn tail is cut before appending, so --resume works again and
again; a torn header is an error naming the file, never a default matrix;
a second coordinator on a journal in use is refused (exit 1) and changes
nothing; a full disk (a small tmpfs as root, the file size limit otherwise)
ends the run with exit 1 and leaves a journal that --resume finishes.

Real target-server, agents and coordinators on 127.0.0.x.
"""

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import fbtest

SERVER_READY = r"listening on http://[^ ]+:(?P<port>\d+) "
AGENT_READY = r"listening on tcp://[^ ]+:(?P<port>\d+)$"
FAST = ["--heartbeat", "100", "--liveness", "1000"]
TIMEOUT = 60.0  # seconds a coordinator may take (x SLOW)


class FilesCase(fbtest.FbTestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="fbfiles-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self._fleet = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def fleet(self, delay=None):
        """A target-server and an agent, started once per test."""
        if self._fleet is None:
            extra = ["--delay", str(delay)] if delay else []
            _, tport = self.start("target-server", ["--host", self.host, "--port", "0",
                                                    "--threads", "1", *extra], SERVER_READY)
            host = fbtest.next_host()
            _, aport = self.start("agent", ["--listen", f"{host}:0"], AGENT_READY)
            self._fleet = ["--agents", f"{host}:{aport}", "--target", f"{self.host}:{tport}"]
        return self._fleet

    def matrix_args(self, runs=2, matrix="async-for", requests=5, delay=None):
        return [*self.fleet(delay), "--matrix", matrix, "-r", str(requests), "--runs", str(runs),
                "-w", "0", *FAST]

    def spawn(self, args, **kw):
        return fbtest.spawn_process(self, [fbtest.binary("coordinator"), *args], cwd=self.dir,
                                    **kw)

    def run_coordinator(self, args, timeout=TIMEOUT, **kw):
        """Runs a coordinator to completion; returns (status, stdout, stderr)."""
        proc = self.spawn(args, **kw)
        status = proc.wait(timeout * fbtest.SLOW)
        if status is None:
            proc.kill()
            self.fail(f"coordinator {args} still running after {timeout * fbtest.SLOW:.0f} s\n"
                      f"{proc.stderr()[-3000:]}")
        err = proc.stderr()
        marker = fbtest.sanitizer_report(err)
        if marker:
            self.fail(f"coordinator reported '{marker}':\n{err[-6000:]}")
        return status, proc.wait_stdout(), err

    def assert_no_temporaries(self):
        left = [n for n in os.listdir(self.dir) if ".tmp" in n]
        self.assertEqual(left, [], "temporary files left behind")


def journal_lines(path):
    """The journal's lines (the header first), whole ones only, as text."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    return lines[:-1]  # the part after the last newline is not a line


def journal_runs(path):
    lines = journal_lines(path)
    header = json.loads(lines[0])
    assert "fleetbench_journal" in header, lines[0]
    return [json.loads(line) for line in lines[1:]]


def bench_counts(runs):
    counts = {}
    for r in runs:
        counts[r["bench"]] = counts.get(r["bench"], 0) + 1
    return counts


class ExportPathTests(FilesCase):
    def test_symlinks_written_through(self):
        real = self.path("real.json")
        with open(real, "w") as f:
            f.write("old\n")
        os.symlink("real.json", self.path("link.json"))           # relative, to a file
        os.symlink(self.path("made.csv"), self.path("link.csv"))  # dangling: creates its target
        status, _, err = self.run_coordinator(
            [*self.matrix_args(), "--export-json", "link.json", "--export-csv", "link.csv"])
        self.assertEqual(status, 0, err)
        for link in ("link.json", "link.csv"):
            self.assertTrue(os.path.islink(self.path(link)), f"{link} was replaced")
        with open(real) as f:
            doc = json.load(f)
        self.assertEqual(len(doc["results"][0]["times"]), 2)
        with open(self.path("made.csv")) as f:
            self.assertTrue(f.read().startswith("command,mean,"))
        # a finished matrix leaves no journal behind (it was not asked for)
        self.assertFalse(os.path.exists(self.path("link.json.journal")))
        self.assert_no_temporaries()

    def test_fifo_written_in_place_once(self):
        fifo = self.path("results.fifo")
        os.mkfifo(fifo)
        got = []

        def reader():
            with open(fifo, "rb") as f:  # waits for the writer
                got.append(f.read())
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        # two benchmarks: a regular file is rewritten after each, the FIFO
        # must get the whole document once
        status, _, err = self.run_coordinator(
            [*self.matrix_args(matrix="async-for,threads-reuse"), "--export-json", fifo])
        t.join(10 * fbtest.SLOW)
        self.assertFalse(t.is_alive(), "the FIFO was never written and closed")
        self.assertEqual(status, 0, err)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")
        doc = json.loads(got[0].decode())  # one document, nothing after it
        self.assertEqual([len(r["times"]) for r in doc["results"]], [2, 2])
        # no journal named after a FIFO, and none left once the matrix finished
        self.assertFalse(os.path.exists(fifo + ".journal"))
        self.assertFalse(os.path.exists(self.path("fleetbench.journal")))

    def test_dev_stdout(self):
        self.addCleanup(self.restore_dev_stdout)  # should a regression replace it, as root
        status, out, err = self.run_coordinator(
            [*self.matrix_args(matrix="async-for,threads-reuse"), "--export-json", "/dev/stdout"])
        self.assertEqual(status, 0, err)
        # the summary, then the JSON once, at the end
        start = out.find("\n{\n")
        self.assertGreater(start, 0, out)
        doc, end = json.JSONDecoder().raw_decode(out, start + 1)
        self.assertEqual(out[end:].strip(), "", "something after the JSON")
        self.assertEqual(out.count('"results"'), 1, out)
        self.assertEqual([len(r["times"]) for r in doc["results"]], [2, 2])
        self.assertTrue(os.path.islink("/dev/stdout"), "/dev/stdout was replaced")
        self.assertFalse(os.path.exists(self.path("fleetbench.journal")))

    def restore_dev_stdout(self):
        if os.path.islink("/dev/stdout") or os.geteuid() != 0:
            return
        tmp = "/dev/.fbtest-stdout"
        if os.path.lexists(tmp):
            os.remove(tmp)
        os.symlink("/proc/self/fd/1", tmp)
        os.replace(tmp, "/dev/stdout")
        self.fail("/dev/stdout was replaced by a regular file (restored)")

    def device(self, name, major, minor):
        """/dev/NAME, or as root a node of our own with its numbers: a
        regression that renamed over it must not break the machine's."""
        if os.geteuid() != 0:
            return f"/dev/{name}"
        path = self.path(name)
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        return path

    def test_dev_full_is_an_error(self):
        full = self.device("full", 1, 7)
        status, _, err = self.run_coordinator([*self.matrix_args(), "--export-json", full,
                                               "--journal", "j"])
        self.assertEqual(status, 1, err)
        self.assertIn(f"{full}: cannot write: {os.strerror(28)}", err)  # ENOSPC
        self.assertTrue(stat.S_ISCHR(os.lstat(full).st_mode), f"{full} was replaced")
        # the runs are safe in the journal
        self.assertEqual(len(journal_runs(self.path("j"))), 2)

    def test_bad_directory_found_before_the_first_run(self):
        """Exit 1 at once, naming the flag and the path: no agent contacted
        (none listens at the address given: that would be exit 3 after the
        liveness), no journal created."""
        port = fbtest.unused_port(self.host)
        base = ["--agents", f"{self.host}:{port}", "--target", f"{self.host}:{port}",
                "--matrix", "async-for", "-r", "5", "--runs", "1", "-w", "0",
                "--heartbeat", "1000", "--liveness", "30000"]
        bad = self.path("missing/x")
        notdir = self.path("plain")
        with open(notdir, "w") as f:
            f.write("x")
        for flag in ("--export-json", "--export-markdown", "--export-csv", "--report",
                     "--journal"):
            for path in (bad, notdir + "/x", self.dir):
                with self.subTest(flag=flag, path=path):
                    args = base + [flag, path]
                    if flag != "--export-json":
                        args += ["--export-json", "r.json"]
                    started = time.monotonic()
                    status, out, err = self.run_coordinator(args)
                    self.assertEqual(status, 1, err)
                    self.assertIn(f"{flag} {path}", err)
                    self.assertLess(time.monotonic() - started, 10 * fbtest.SLOW)
                    self.assertEqual(os.listdir(self.dir), ["plain"])

    def test_journal_equal_to_an_export_refused(self):
        keep = self.path("keep.json")
        with open(keep, "w") as f:
            f.write("precious\n")
        os.symlink("keep.json", self.path("alias"))
        cases = [
            ["--journal", "keep.json", "--export-json", "keep.json"],
            ["--journal", "./keep.json", "--export-json", keep],
            ["--journal", "alias", "--export-json", "keep.json"],
            ["--export-markdown", "sub/../keep.json", "--journal", "keep.json"],
            ["--export-json", "new.json", "--journal", "./new.json"],  # not there yet
            ["--export-json", "keep.json", "--export-csv", "alias"],    # two exports
            ["--export-json", "r.json"],  # the default journal is r.json.journal...
        ]
        os.mkdir(self.path("sub"))
        for extra in cases[:-1]:
            with self.subTest(args=extra):
                status, _, err = self.run_coordinator([*self.matrix_args(), *extra])
                self.assertEqual(status, 1, err)
                self.assertIn("is the file", err)
                with open(keep) as f:
                    self.assertEqual(f.read(), "precious\n")
                self.assertFalse(os.path.exists(self.path("new.json")))
        # ...which an explicit export of that name collides with
        status, _, err = self.run_coordinator(
            [*self.matrix_args(), "--export-json", "r.json", "--export-csv", "r.json.journal"])
        self.assertEqual(status, 1, err)
        self.assertIn("--export-csv r.json.journal is the file --journal names too", err)


class JournalTests(FilesCase):
    def test_torn_tail_resumed_again_and_again(self):
        j = self.path("j")
        status, _, err = self.run_coordinator([*self.matrix_args(runs=6), "--journal", j,
                                               "--export-json", "r.json"])
        self.assertEqual(status, 0, err)
        full = journal_lines(j)
        self.assertEqual(len(full), 7)
        for keep in (2, 4, 1):  # crash after `keep` runs, mid-way through the next line
            with open(j, "w") as f:
                f.write("\n".join(full[:1 + keep]) + "\n" + full[1 + keep][:40])
            status, _, err = self.run_coordinator(["--resume", j])
            self.assertEqual(status, 0, err)
            runs = journal_runs(j)
            self.assertEqual(len(runs), 6, "a run lost or done twice")
            self.assertEqual(journal_lines(j)[:1 + keep], full[:1 + keep])  # kept as they were
            with open(self.path("r.json")) as f:
                self.assertEqual(len(json.load(f)["results"][0]["times"]), 6)

    def test_torn_header_is_an_error(self):
        j = self.path("j")
        for text in ('{"fleetbench_journal":1,"argv":["coordinator","--matrix","asy', ""):
            with self.subTest(text=text):
                with open(j, "w") as f:
                    f.write(text)
                status, out, err = self.run_coordinator(["--resume", j])
                self.assertEqual(status, 1, err)
                self.assertIn(j, err)
                self.assertIn("header", err)
                self.assertEqual(out, "")  # no matrix ran, default or other
                self.assertFalse(os.path.exists(self.path("results.json")))

    def test_second_coordinator_locked_out(self):
        j = self.path("j")
        args = [*self.matrix_args(runs=30, matrix="threads-reuse", requests=4, delay=25),
                "-c", "1", "--journal", j, "--export-json", "r.json"]
        first = self.spawn(args)
        deadline = time.monotonic() + 30 * fbtest.SLOW
        while time.monotonic() < deadline:
            if os.path.exists(j) and len(journal_lines(j)) >= 2:
                break
            time.sleep(0.02)
        self.assertTrue(first.alive(), first.stderr())
        for second in (["--resume", j], args):  # resumed, or started afresh over it
            with self.subTest(args=second):
                before = len(journal_lines(j))
                status, _, err = self.run_coordinator(second)
                self.assertEqual(status, 1, err)
                self.assertIn(f"journal {j}: in use by another coordinator", err)
                self.assertGreaterEqual(len(journal_lines(j)), before)  # not truncated
        self.assertEqual(first.wait(TIMEOUT * fbtest.SLOW), 0, first.stderr())
        runs = journal_runs(j)
        self.assertEqual(len(runs), 30)
        # free once the first is done: nothing left to run
        status, _, err = self.run_coordinator(["--resume", j])
        self.assertEqual(status, 0, err)
        self.assertEqual(journal_runs(j), runs)

    def full_disk(self, j, fill):
        """Runs a matrix whose journal fills the disk, then (fill: frees the
        space again) resumes it."""
        args = [*self.matrix_args(runs=40), "--journal", j, "--export-json", "r.json"]
        status, _, err = self.run_coordinator(args)
        self.assertEqual(status, 1, err)
        self.assertIn(f"journal {j}: cannot write", err)
        with open(j, "rb") as f:
            self.assertTrue(f.read().endswith(b"\n"), "a torn line left behind")
        done = len(journal_runs(j))
        self.assertLess(done, 40)
        with open(self.path("r.json")) as f:  # the finished runs are exported
            self.assertEqual(len(json.load(f)["results"][0]["times"]), done)
        fill()
        status, _, err = self.run_coordinator(["--resume", j])
        self.assertEqual(status, 0, err)
        runs = journal_runs(j)
        self.assertEqual(len(runs), 40)
        with open(self.path("r.json")) as f:
            self.assertEqual(len(json.load(f)["results"][0]["times"]), 40)

    def test_full_disk_file_size_limit(self):
        """RLIMIT_FSIZE makes writes past a size fail (EFBIG), as a full disk
        does: a short write, then an error."""
        j = self.path("j")

        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))
        # r.json stays below the limit; the journal's lines are ~300 bytes
        proc_args = [*self.matrix_args(runs=40), "--journal", j, "--export-json", "r.json"]
        proc = subprocess.run([fbtest.binary("coordinator"), *proc_args], cwd=self.dir,
                              env=fbtest.sanitizer_env(), capture_output=True,
                              preexec_fn=limit, timeout=TIMEOUT * fbtest.SLOW)
        err = proc.stderr.decode(errors="replace")
        self.assertIsNone(fbtest.sanitizer_report(err), err)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn(f"journal {j}: cannot write: {os.strerror(27)}", err)  # EFBIG
        with open(j, "rb") as f:
            self.assertTrue(f.read().endswith(b"\n"), "a torn line left behind")
        self.assertLess(len(journal_runs(j)), 40)
        status, _, err = self.run_coordinator(["--resume", j])
        self.assertEqual(status, 0, err)
        self.assertEqual(len(journal_runs(j)), 40)

    @unittest.skipUnless(os.geteuid() == 0, "a tmpfs of our own needs root: skipped")
    def test_full_disk_tmpfs(self):
        mnt = self.path("small")
        os.mkdir(mnt)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "fbfull", mnt],
                                 capture_output=True)
        if mounted.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
        self.addCleanup(subprocess.run, ["umount", "-l", mnt], capture_output=True)
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:  # leave about 8 KiB: two pages
            try:
                f.write(b"\0" * (56 * 1024))
            except OSError:
                pass
        self.full_disk(os.path.join(mnt, "j"), lambda: os.remove(filler))


if __name__ == "__main__":
    unittest.main()
