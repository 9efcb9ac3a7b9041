"""Randomized faults: seeded schedules of freezes, thaws, kills and restarts
of agents and of the coordinator, during real small matrices.

Each schedule starts 2 or 3 agents on 127.0.0.x (one of them, the anchor,
is never touched, so every run keeps a measurement), runs a coordinator
over a real target-server in lockstep or serial mode, and meanwhile, at
random moments, applies 1 to 4 faults:

  freeze         SIGSTOP an agent well under the liveness, then SIGCONT
  freeze-long    SIGSTOP an agent for about twice the liveness, then SIGCONT
  kill-restart   SIGKILL an agent, start it again on its address later
  kill           SIGKILL an agent for good (it is started again only for
                 the final resume check)
  coord-kill     SIGKILL the coordinator, then `coordinator --resume JOURNAL`
  coord-pause    SIGSTOP the coordinator, then SIGCONT

After each schedule the invariants (INVARIANTS below) are checked; every
violation is reported with the schedule's seed, what happened when, and
the coordinators' stderr.

Environment:
  FB_FAULTS_SCHEDULES  how many schedules (default 24, within the budget)
  FB_FAULTS_BUDGET     seconds after which no new schedule starts
                       (default 75 x the sanitizer slowdown, when
                       FB_FAULTS_SCHEDULES is not set; else none)
  FB_FAULTS_SEED       the first schedule's seed (then +1 each): replays a
                       schedule a failure printed (default: random, printed)
  FB_FAULTS_KEEP       keep every schedule's directory (logs, journal, JSON)

Long mode: FB_FAULTS_SCHEDULES=200 FB_BIN_DIR=build python3 -m unittest
test_faults (from tests/integration).
"""

import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import fbtest

INVARIANTS = """\
1. every coordinator that was not killed on purpose exits by itself (no hang)
   with 0 or 3, never another code or a signal; 3 whenever a result shows a
   lost agent, 0 when only harmless faults happened (short freezes, the
   coordinator killed and resumed, a short pause), 3 when an agent was
   killed for good, or frozen past the liveness during the runs, with runs
   still to go;
2. results.json is valid and passes check_hyperfine_scripts.py;
3. every asked run is there exactly once: measured (the anchor is never
   faulted: it is never lost unless the coordinator itself was paused past
   the liveness), or lost for every agent (unmeasured, only after such a
   pause); lost agents are null in
   the per-agent data and their runs have exit code 3; each agent's numbers
   are those of its journal line;
4. the journal holds the header and exactly one line per timed run, whole
   lines only, each agent either lost or with ok + failed = requests; a
   further --resume of it changes nothing and exits as the results say;
5. no process is left behind, every agent stops cleanly on SIGTERM, and no
   sanitizer reported anything."""

HB_MS = 100
LIVE_MS = int(1500 * fbtest.SLOW)
LIVE_S = LIVE_MS / 1000.0
TARGET_DELAY_MS = 20
STRATEGIES = ["threads-recreate", "threads-reuse", "threads-map", "async-for", "async-map"]
AGENT_READY = re.compile(r"listening on tcp://\S+:(\d+)\s*$", re.M)
SERVER_READY = re.compile(r"listening on http://\S+:(\d+) ")
CHECK_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "check_hyperfine_scripts.py")
# Seconds the coordinator of a schedule may take in all (x SLOW): the
# matrix, up to four faults, and a few liveness periods each.
COORD_DEADLINE = 120.0


def env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Event:
    def __init__(self, delay, kind, agent, duration):
        self.delay, self.kind, self.agent, self.duration = delay, kind, agent, duration
        self.applied = False
        self.at = None          # seconds since the schedule started
        self.runs_left = None   # timed runs not yet in the journal when applied
        self.running = None     # the coordinator had journaled a run of its own

    def __repr__(self):
        who = f" agent{self.agent}" if self.agent is not None else ""
        when = f"@{self.at:.2f}s left={self.runs_left}" if self.applied else "(not applied)"
        return f"{self.kind}{who} {self.duration:.2f}s {when}"


class Schedule:
    """Everything a seed decides: the matrix and the faults."""

    KINDS = [("freeze", 3), ("freeze-long", 2), ("kill-restart", 2), ("kill", 1),
             ("coord-kill", 2), ("coord-pause", 1)]

    def __init__(self, seed):
        rng = random.Random(seed)
        self.seed = seed
        self.mode = rng.choice(["lockstep", "serial"])
        self.nagents = rng.choice([2, 3])
        self.strategy = rng.choice(STRATEGIES)
        self.requests = sorted(rng.sample([6, 8, 10, 12, 16], 2))
        self.runs = rng.randint(4, 8)
        self.warmup = rng.randint(0, 1)
        self.events = []
        killed = set()
        kinds, weights = zip(*self.KINDS)
        for _ in range(rng.randint(1, 4)):
            kind = rng.choices(kinds, weights)[0]
            agent = None
            if not kind.startswith("coord"):
                alive = [i for i in range(1, self.nagents) if i not in killed]  # 0: the anchor
                if not alive:
                    kind = "coord-kill"
                else:
                    agent = rng.choice(alive)
                    if kind == "kill":
                        killed.add(agent)
            duration = {
                "freeze": rng.uniform(0.05, 0.25) * LIVE_S,
                "freeze-long": rng.uniform(1.6, 2.5) * LIVE_S,
                "kill-restart": rng.uniform(0.0, 1.5) * LIVE_S,
                "kill": 0.0,
                "coord-kill": rng.uniform(0.0, 1.2) * LIVE_S,
                "coord-pause": rng.choice([rng.uniform(0.05, 0.25), rng.uniform(1.5, 2.5)])
                * LIVE_S,
            }[kind]
            self.events.append(Event(rng.uniform(0.05, 0.8) * fbtest.SLOW, kind, agent, duration))

    def coordinator_args(self, agents, target):
        return ["--agents", ",".join(agents), "--target", target, "--matrix", self.strategy,
                "-r", ",".join(map(str, self.requests)), "-c", "1", "--connections", "1",
                "--runs", str(self.runs), "-w", str(self.warmup), "--mode", self.mode,
                "--heartbeat", str(HB_MS), "--liveness", str(LIVE_MS),
                "--export-json", "results.json", "--journal", "journal"]

    def describe(self):
        return (f"seed {self.seed}: {self.mode}, {self.nagents} agents, {self.strategy} "
                f"-r {','.join(map(str, self.requests))} --runs {self.runs} -w {self.warmup}; "
                f"events {self.events}")


class Proc:
    """A child with stdout and stderr in files of the schedule's directory."""

    def __init__(self, argv, cwd, name):
        self.argv, self.name = argv, name
        self.out_path = os.path.join(cwd, name + ".out")
        self.err_path = os.path.join(cwd, name + ".err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=err, env=fbtest.sanitizer_env())
        self.pid = self.popen.pid
        self.killed = False  # by us, on purpose

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            self.popen.send_signal(sig)

    def kill(self):
        self.killed = True
        self.signal(signal.SIGCONT)  # a stopped process dies of SIGKILL too, but be plain
        self.signal(signal.SIGKILL)
        self.popen.wait(10)

    def wait(self, timeout):
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def text(self, which="err"):
        try:
            with open(self.err_path if which == "err" else self.out_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def ready_port(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = pattern.search(self.text("out"))
            if m:
                return int(m.group(1))
            if not self.alive():
                break
            time.sleep(0.01)
        return None


def journal_lines(path):
    """The whole lines of a journal (text after the last newline is not one)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    return data.split(b"\n")[:-1]


def timed_runs_done(path):
    lines = journal_lines(path)
    return max(0, len(lines) - 1) if lines else 0


def procs_with_cwd_under(directory):
    """Pids of live processes whose working directory is in `directory`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if (cwd == directory or cwd.startswith(directory + "/")) and fbtest.pid_alive(int(entry)):
            found.append(int(entry))
    return found


class ScheduleRun:
    """Runs one schedule; `violations` lists what broke an invariant."""

    def __init__(self, sched, target, base):
        self.s = sched
        self.target = target
        self.dir = tempfile.mkdtemp(prefix=f"s{sched.seed}-", dir=base)
        self.t0 = time.monotonic()
        self.log = []
        self.violations = []
        self.agents = []     # current Proc per agent index
        self.addrs = []      # "HOST:PORT" per agent index
        self.all_procs = []  # every Proc started, for the final checks
        self.coords = []     # every coordinator Proc, in order
        self.dead = set()    # agents killed for good
        self.journal = os.path.join(self.dir, "journal")
        self.status = None     # the last coordinator's exit status, or "hung"
        self.any_lost = False  # a result shows a lost agent

    # -- helpers --

    def note(self, text):
        self.log.append(f"{time.monotonic() - self.t0:7.2f}s {text}")

    def violate(self, text):
        self.violations.append(text)

    def start_agent(self, i, host, port=0):
        name = f"agent{i}-{len([p for p in self.all_procs if p.name.startswith(f'agent{i}-')])}"
        for _ in range(50):  # a port just freed can take a moment
            proc = Proc([fbtest.binary("agent"), "--listen", f"{host}:{port}"], self.dir, name)
            self.all_procs.append(proc)
            got = proc.ready_port(AGENT_READY, fbtest.START_TIMEOUT * fbtest.SLOW)
            if got is not None:
                return proc, got
            proc.kill()
            proc.killed = False  # it died by itself: its status is checked
            if port == 0 or "Address already in use" not in proc.text():
                break
            time.sleep(0.1)
        raise AssertionError(f"agent {i} on {host}:{port} did not start:\n{proc.text()[-2000:]}")

    def restart_agent(self, i):
        host, port = self.addrs[i].rsplit(":", 1)
        self.agents[i], _ = self.start_agent(i, host, int(port))
        self.note(f"agent{i} restarted")

    def spawn_coordinator(self, args):
        self.runs_at_spawn = timed_runs_done(self.journal)
        proc = Proc([fbtest.binary("coordinator"), *args], self.dir, f"coord{len(self.coords)}")
        self.all_procs.append(proc)
        self.coords.append(proc)
        self.note(f"coordinator {len(self.coords) - 1} started: {' '.join(args[:2])}")
        return proc

    def coord(self):
        return self.coords[-1]

    def sleep_while_running(self, seconds):
        """Sleeps; False as soon as the coordinator has exited."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.coord().alive():
                return False
            time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
        return self.coord().alive()

    # -- the schedule --

    def run(self):
        s = self.s
        try:
            for i in range(s.nagents):
                host = fbtest.next_host()
                proc, port = self.start_agent(i, host)
                self.agents.append(proc)
                self.addrs.append(f"{host}:{port}")
            self.args = s.coordinator_args(self.addrs, self.target)
            self.spawn_coordinator(self.args)
            for ev in s.events:
                if not self.sleep_while_running(ev.delay):
                    break
                self.apply(ev)
            self.finish()
            self.check_results()
            self.check_resume()
        except Exception as e:  # an unexpected failure of the harness or the programs
            self.violate(f"{type(e).__name__}: {e}")
        finally:
            self.stop_all()
        return self.violations

    def apply(self, ev):
        ev.applied, ev.at = True, time.monotonic() - self.t0
        done = timed_runs_done(self.journal)
        ev.runs_left = 2 * self.s.runs - done
        ev.running = done > self.runs_at_spawn
        self.note(f"apply {ev.kind} agent{ev.agent} for {ev.duration:.2f}s "
                  f"({ev.runs_left} timed runs left)")
        if ev.kind in ("freeze", "freeze-long"):
            agent = self.agents[ev.agent]
            agent.signal(signal.SIGSTOP)
            time.sleep(ev.duration)
            agent.signal(signal.SIGCONT)
        elif ev.kind == "kill-restart":
            self.agents[ev.agent].kill()
            time.sleep(ev.duration)
            self.restart_agent(ev.agent)
        elif ev.kind == "kill":
            self.agents[ev.agent].kill()
            self.dead.add(ev.agent)
        elif ev.kind == "coord-kill":
            self.coord().kill()
            time.sleep(ev.duration)
            lines = journal_lines(self.journal)
            # killed before its journal had a whole header: nothing to resume
            if lines:
                self.spawn_coordinator(["--resume", "journal"])
            else:
                self.spawn_coordinator(self.args)
        elif ev.kind == "coord-pause":
            self.coord().signal(signal.SIGSTOP)
            time.sleep(ev.duration)
            self.coord().signal(signal.SIGCONT)
        self.note(f"done {ev.kind}")

    def finish(self):
        coord = self.coord()
        self.status = coord.wait(COORD_DEADLINE * fbtest.SLOW)
        if self.status is None:
            coord.kill()
            self.status = "hung"
            self.violate(f"the coordinator did not finish within {COORD_DEADLINE * fbtest.SLOW:.0f}"
                         " s (killed)")
        self.note(f"coordinator exited {self.status}")
        for c in self.coords[:-1]:
            if not c.killed:
                self.violate(f"{c.name} exited {c.popen.returncode} by itself, then was "
                             "resumed (the harness resumes only what it killed)")

    # -- invariants --

    def expected(self):
        """The exit codes the faults allow, and why."""
        applied = [e for e in self.s.events if e.applied]
        coord_faults = [e for e in applied if e.kind in ("coord-kill", "coord-pause")]
        for e in applied:
            later = [c for c in coord_faults if c.at > e.at]
            # an agent frozen while a coordinator is still greeting the fleet
            # may be waited for (a busy agent is retried): only in the runs
            # is a long freeze a certain loss
            certain = e.kind == "kill" or (e.kind == "freeze-long" and e.running)
            if certain and e.runs_left >= 2 and not later:
                return {3}, f"{e.kind} of agent{e.agent} with {e.runs_left} runs left"
        harmless = all(e.kind == "freeze" or e.kind == "coord-kill" or
                       (e.kind == "coord-pause" and e.duration < 0.5 * LIVE_S) for e in applied)
        if harmless:
            return {0}, "only harmless faults"
        return {0, 3}, "faults that may or may not lose an agent"

    def check_results(self):
        s = self.s
        if self.status == "hung":
            return
        if self.status not in (0, 3):
            self.violate(f"exit {self.status}: neither 0 nor 3")
        path = os.path.join(self.dir, "results.json")
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            self.violate(f"results.json: {e}")
            return
        # hyperfine's scripts need two results of two or more times each; a
        # matrix cut short leaves out a benchmark with no measured run
        results = doc.get("results", [])
        if len(results) == 2 and all(len(r.get("times", [])) >= 2 for r in results):
            check = subprocess.run([sys.executable, CHECK_SCRIPT, path, "KeysTheScriptsRead"],
                                   capture_output=True, text=True, timeout=60)
            if check.returncode != 0:
                self.violate(f"check_hyperfine_scripts.py failed:\n{check.stderr[-2000:]}")
        else:
            self.note("fewer than two measured runs somewhere: hyperfine's scripts not run")
        lines = journal_lines(self.journal) or []
        runs = [json.loads(line) for line in lines[1:]]
        if not lines or "fleetbench_journal" not in json.loads(lines[0]):
            self.violate("the journal has no header")
        with open(self.journal, "rb") as f:
            if not f.read().endswith(b"\n"):
                self.violate("the journal ends with a torn line")
        results = doc.get("results", [])
        if len(results) != 2:
            self.violate(f"{len(results)} results, 2 asked")
            return
        # a coordinator paused past the liveness heard nobody: it may take any
        # agent for lost, the anchor too, and a run may have none measured
        paused = any(e.applied and e.kind == "coord-pause" and e.duration >= 0.5 * LIVE_S
                     for e in s.events)
        any_lost = False
        for b, res in enumerate(results):
            jruns = [r for r in runs if r["bench"] == b]
            if len(jruns) != s.runs:
                self.violate(f"benchmark {b}: {len(jruns)} journal lines, {s.runs} runs asked")
                continue
            lost = [[a["lost"] for a in r["agents"]] for r in jruns]
            if any(len(x) != s.nagents for x in lost):
                self.violate(f"benchmark {b}: journal lines with other than {s.nagents} agents")
                continue
            any_lost |= any(any(x) for x in lost)
            measured = [k for k, x in enumerate(lost) if not all(x)]
            for k, x in enumerate(lost):
                if x[0] and not paused:
                    self.violate(f"benchmark {b} run {k}: agents lost {x}: the anchor (agent 0) "
                                 "is never faulted")
            times, codes = res["times"], res["exit_codes"]
            counts = res["fleetbench"]["runs"]
            if (len(times), len(codes), counts["measured"], counts["unmeasured"]) != \
                    (len(measured), len(measured), len(measured), s.runs - len(measured)):
                self.violate(f"benchmark {b}: {len(times)} times, {len(codes)} exit codes, "
                             f"runs {counts}; the journal has {len(measured)} of {s.runs} "
                             "runs measured")
                continue
            agents = res["fleetbench"]["agents"]
            if len(agents) != s.nagents:
                self.violate(f"benchmark {b}: {len(agents)} agents in the JSON")
                continue
            for i, k in enumerate(measured):  # the JSON's arrays hold the measured runs
                if (codes[i] == 3) != any(lost[k]):
                    self.violate(f"benchmark {b} run {k}: exit code {codes[i]}, lost {lost[k]}")
                for a, ja in enumerate(jruns[k]["agents"]):
                    got = agents[a]["times"][i]
                    if ja["lost"]:
                        if got is not None:
                            self.violate(f"benchmark {b} run {k} agent {a}: lost but {got}")
                        continue
                    if got is None or not math.isclose(got, ja["wall"], rel_tol=1e-9):
                        self.violate(f"benchmark {b} run {k} agent {a}: JSON {got}, journal "
                                     f"{ja['wall']}")
            for k, r in enumerate(jruns):
                for a, ja in enumerate(r["agents"]):
                    if not ja["lost"] and ja["ok"] + sum(ja["failed"]) != s.requests[b]:
                        self.violate(f"benchmark {b} run {k} agent {a}: ok {ja['ok']} failed "
                                     f"{ja['failed']} for {s.requests[b]} requests")
        allowed, why = self.expected()
        self.note(f"expected {sorted(allowed)} ({why}); lost in the results: {any_lost}")
        if self.status in (0, 3):
            if any_lost and self.status != 3:
                self.violate(f"exit {self.status} although results show a lost agent")
            if self.status not in allowed:
                self.violate(f"exit {self.status}, expected {sorted(allowed)}: {why}")
            # a resumed coordinator's 3 may come from the runs it replayed
            if self.status == 3 and not any_lost and "lost" not in self.coord().text():
                self.violate("exit 3 without a lost agent in the results or a word about one")
        self.any_lost = any_lost

    def check_resume(self):
        """The finished journal resumes: nothing runs, nothing changes."""
        if self.violations:  # an unfinished matrix would be finished: not this check
            return
        for i in sorted(self.dead):  # every agent reachable again
            self.restart_agent(i)
        self.dead.clear()
        with open(self.journal, "rb") as f:
            before = f.read()
        proc = self.spawn_coordinator(["--resume", "journal"])
        status = proc.wait(60 * fbtest.SLOW)
        if status is None:
            proc.kill()
            self.violate("--resume of the finished journal hung")
            return
        want = 3 if self.any_lost else 0
        if status != want:
            self.violate(f"--resume of the finished journal exited {status}, expected {want}:\n"
                         f"{proc.text()[-2000:]}")
        with open(self.journal, "rb") as f:
            if f.read() != before:
                self.violate("--resume of the finished journal changed it")

    def stop_all(self):
        for p in self.all_procs:  # nothing stays stopped
            p.signal(signal.SIGCONT)
        for p in self.coords:
            if p.alive():
                p.kill()
                self.violate(f"{p.name} still running at the end")
        for i, p in enumerate(self.agents):
            if i in self.dead or not p.alive():
                continue
            p.signal(signal.SIGTERM)
            status = p.wait(fbtest.STOP_TIMEOUT * fbtest.SLOW)
            if status is None:
                p.kill()
                self.violate(f"{p.name} did not stop within "
                             f"{fbtest.STOP_TIMEOUT * fbtest.SLOW:.0f} s of SIGTERM")
            elif status != 0:
                self.violate(f"{p.name} exited {status} on SIGTERM:\n{p.text()[-1500:]}")
        for p in self.all_procs:
            if p.alive():
                p.kill()
            status = p.popen.returncode
            if not p.killed and status is not None and status < 0:
                self.violate(f"{p.name} died of signal {-status}")
            marker = fbtest.sanitizer_report(p.text())
            if marker:
                self.violate(f"{p.name} reported '{marker}':\n{p.text()[-4000:]}")
        time.sleep(0.05)
        left = procs_with_cwd_under(self.dir)
        if left:
            self.violate(f"processes left behind: {[(pid, fbtest.pid_name(pid)) for pid in left]}")
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def report(self):
        tails = "\n".join(f"--- {c.name} stderr ---\n{c.text()[-2500:]}" for c in self.coords)
        return (f"schedule {self.s.describe()}\n"
                f"replay: FB_FAULTS_SEED={self.s.seed} FB_FAULTS_SCHEDULES=1\n"
                f"violations:\n  " + "\n  ".join(self.violations) + "\n"
                f"what happened:\n  " + "\n  ".join(self.log) + f"\n{tails}\n"
                f"files: {self.dir}")


class RandomFaults(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="fbfaults-")
        keep = os.environ.get("FB_FAULTS_KEEP")
        if not keep:
            self.addCleanup(shutil.rmtree, self.base, True)
        proc = Proc([fbtest.binary("target-server"), "--host", "127.0.0.1", "--port", "0",
                     "--threads", "1", "--delay", str(TARGET_DELAY_MS)], self.base, "target")
        self.addCleanup(self.stop_target, proc)
        port = proc.ready_port(SERVER_READY, fbtest.START_TIMEOUT * fbtest.SLOW)
        self.assertIsNotNone(port, proc.text())
        self.target = f"127.0.0.1:{port}"
        self.server = proc

    def stop_target(self, proc):
        proc.signal(signal.SIGTERM)
        status = proc.wait(fbtest.STOP_TIMEOUT * fbtest.SLOW)
        if status is None:
            proc.kill()
        marker = fbtest.sanitizer_report(proc.text())
        self.assertIsNone(marker, proc.text()[-4000:])
        self.assertEqual(status, 0, proc.text()[-2000:])

    def test_random_schedules(self):
        count = env_int("FB_FAULTS_SCHEDULES", None)
        budget = env_int("FB_FAULTS_BUDGET", None if count else int(75 * fbtest.SLOW))
        count = count or 24
        seed = env_int("FB_FAULTS_SEED", random.SystemRandom().randrange(1 << 31))
        print(f"\ntest_faults: {count} schedules from seed {seed}"
              f"{f', {budget} s budget' if budget else ''}", file=sys.stderr, flush=True)
        started = time.monotonic()
        failures, done = [], 0
        for i in range(count):
            if budget and done >= 2 and time.monotonic() - started > budget:
                break
            sched = Schedule(seed + i)
            run = ScheduleRun(sched, self.target, self.base)
            violations = run.run()
            done += 1
            verdict = "ok" if not violations else f"{len(violations)} VIOLATION(S)"
            print(f"  [{i + 1}/{count}] {time.monotonic() - started:6.1f}s seed {sched.seed} "
                  f"exit {run.status}: {verdict}  ({sched.mode}, {sched.nagents} agents; "
                  f"{', '.join(map(repr, sched.events))})", file=sys.stderr, flush=True)
            if violations:
                failures.append(run.report())
                print(failures[-1], file=sys.stderr, flush=True)
            elif not os.environ.get("FB_FAULTS_KEEP"):
                shutil.rmtree(run.dir, True)
            self.assertTrue(self.server.alive(), "the target-server died")
        print(f"test_faults: {done} schedules, {len(failures)} with violations",
              file=sys.stderr, flush=True)
        self.assertGreaterEqual(done, min(2, count))
        if failures:
            self.fail(f"{len(failures)} of {done} schedules broke an invariant (from seed {seed})"
                      f":\n\nINVARIANTS:\n{INVARIANTS}\n\n" + "\n\n".join(failures))


if __name__ == "__main__":
    unittest.main()
