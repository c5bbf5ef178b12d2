"""Soak test of resume: random faults on a long `symbreak run`, then checks that nothing was lost or corrupted.

Purpose (issue 12, item 4): a study runs for days and processes die. This script runs one
`symbreak run` (liquid PIMD with the toy potential by default: no model needed, fast
steps) for a given time and, at random times, kills or stops one of its processes; after
every fault it waits for the runner to exit and re-runs the *same* command (a resume). At
the end it stops the run cleanly and checks every output.

    python scripts/soak.py --minutes 60 --out soak-run \
        [--case liquid-pimd --potential toy --beads 4 --size 16 --seed 31415 --mean-interval 40]

Layout of OUT: OUT/run (the symbreak run folder), OUT/logs/runner-NNN.log (stdout and
stderr of every runner launched), OUT/soak.json (everything below). OUT must not exist or
be empty. Exit code 0 only if every check passed; 1 if one failed or the soak stopped on an error;
2 for a bad option or an OUT in use; 130 if interrupted (Ctrl-C, SIGTERM, SIGHUP). Every process the
soak started (runners and, through the run's lock file, their i-PI, servers and
reference) is stopped on exit, Ctrl-C or error.

The run's length. A re-run with other options is refused, so every launch is the same
command: `symbreak run CASE --potential P --beads B --size N --seed S --steps STEPS
--stall-timeout T --out OUT/run` (OMP_NUM_THREADS=1 unless set). STEPS is chosen so that
the run does not finish during the soak: a calibration run of the same case (in
OUT/calibrate, removed afterwards) is timed for min(60 s, max(15 s, 10 % of the soak))
(the first minute for a soak of >= 10 min), and STEPS = 3 x the steps that speed would
make in --minutes, rounded up to 1000 (--steps skips the calibration). Should the run
finish anyway, the soak ends there and says so (a note, not a failure).

The faults (kinds; a seeded shuffled deck, so that every kind comes once per round):
  kill9_ipi, kill9_server, kill9_reference (cases with a reference), kill9_runner,
  sigstop_ipi, sigstop_server, sigstop_reference (the runner's stall watchdog must catch
  these: --stall-timeout, default 20 s, is passed to `symbreak run`), sigterm_runner.
Each comes an exponential interval (mean --mean-interval s, seeded by --seed) after the
previous recovery, and not before the running attempt has written 3 new rows (so that
the watchdog's start-up allowance of 300 s does not apply). The PIDs come from the run's
lock file OUT/run/symbreak.lock (runner and children), each checked against /proc (same
PID, start time and command line) before it is signalled, and cross-checked with the
runner's children in /proc (their PPID).

Per cycle it records: the fault and its target, the step before the fault (last row of
simulation.out), the runner's exit code and first error line, the time to detection
(fault -> runner exit) and to recovery (fault -> the first new row of the resumed run),
the step resumed from (the manifest's new attempt, checked against the runner's
"resuming ... (step N)" line) and the steps recomputed (step before - step resumed from).
Findings, each a failed check:
  * the runner did not exit within --exit-bound s (default stall timeout + 60 s) of the
    fault (it is then killed);
  * a SIGSTOP was not caught within stall timeout + 30 s;
  * the runner's exit code is not the expected one (2 after a child's fault, 130 after
    SIGTERM) or its output holds a Python traceback;
  * after the runner exited (not killed), a process of its attempt is still alive;
  * a re-run did not resume at once (it failed, was refused, or made no progress within
    --recover-bound s, default 300 s; up to 3 re-runs are tried), or resumed from step 0
    although a checkpoint step had been passed;
  * the runner exited without a fault.

The checks at the end (after the run is stopped with SIGTERM to the runner):
  * the integrity checks of `symbreak check` (symbreak.campaign.run_check, the same for any run folder):
    the properties file's steps 0, s, 2s, ... each once with complete rows; every xyz trajectory of every
    bead with whole frames, one atom count, contiguous steps and the steps of the properties file; one
    complete extras block per step; no NUL byte in any file; the conserved quantity continuous at every
    seam (a resume's step S: |jump| <= SEAM_K x the largest change between other consecutive rows);
  * the soak's own, which know its faults: the manifest's config and options unchanged since the first
    attempt, the requested steps, one attempt per launch in order (runner PIDs), every attempt ended
    with an outcome that fits its fault (no record after kill -9 of the runner, 'interrupted' after
    SIGTERM, 'stalled' after SIGSTOP, 'failed' naming the killed process), each from_step equal to the
    step the runner printed, not finished;
  * processes: none of any attempt alive at the end, the lock file gone;
  * sockets: no UNIX socket file of any attempt left in /tmp.
"Frames lost" counts the steps missing from any output (properties, each trajectory,
each extras file); duplicates are counted too. Both must be 0.

A summary table is printed (faults by kind, cycles, steps done, frames lost, max
recovery time, failed checks) and OUT/soak.json holds it with every cycle.

Trial runs (2026-11-28, 2 cores shared with other jobs). A 4-minute trial
    OMP_NUM_THREADS=1 python scripts/soak.py --minutes 4 --mean-interval 20 --out /tmp/soak-trial
found one lost properties row: the runner's stall stop signalled i-PI, the server and the weight-0
reference at once, and the reference died while i-PI was writing the outputs of a checkpoint step.
Runners now stop i-PI first and alone, then its clients (commit 8f1cf64); the 1-hour soak that followed
(issue 12) lost nothing, and tests/campaign/test_soak_script.py runs a short soak in CI.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from symbreak.campaign.cases import get_case
from symbreak.campaign.manifest import read_manifest
from symbreak.campaign.run_check import SEAM_K, check_run
from symbreak.campaign.runlock import LOCK_NAME, find_orphans, read_lock, role_of
from symbreak.ipi.input_reader import read_description
from symbreak.ipi.launch import symbreak_command
from symbreak.ipi.processes import SOCKETS_PREFIX, is_alive_as, process_identity, stop_process_group

#: rows an attempt must have written before a fault is injected into it
MIN_NEW_ROWS = 3
#: re-runs tried after a fault before the soak gives up
MAX_RERUNS = 3
#: a SIGSTOP must be detected within stall timeout + this (the runner's grace of 10 s included)
STALL_MARGIN_S = 30.0
#: the run's length: this many times the steps the calibrated speed makes in the soak's time
STEPS_SAFETY = 3.0

KINDS = ("kill9_ipi", "kill9_server", "kill9_reference", "kill9_runner",
         "sigstop_ipi", "sigstop_server", "sigstop_reference", "sigterm_runner")


class SoakError(RuntimeError):
    """The soak cannot go on (a setup problem, or a run that cannot be resumed)."""


def now() -> float:
    return time.monotonic()


# ----------------------------------------------------------------------------------------
# processes (/proc; psutil is not installed)


def children_of(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (from /proc/*/stat)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def signal_name(sig: int) -> str:
    return signal.Signals(sig).name


# ----------------------------------------------------------------------------------------
# reading the run's outputs while it runs


def last_row_step(path: Path) -> int | None:
    """The step of the last complete row of i-PI's properties file (None if none)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 16384))
            data = fh.read()
    except OSError:
        return None
    lines = data.split(b"\n")[:-1]  # the last piece has no newline: incomplete (or empty)
    for line in reversed(lines):
        line = line.strip()
        if not line or line.startswith(b"#"):
            continue
        try:
            return int(float(line.split()[0]))
        except ValueError:
            continue
    return None


def first_error_line(text: str) -> str:
    """The first line of a runner's output that reports an error or an interruption ('' if none: e.g. kill -9)."""
    for line in text.splitlines():
        if re.search(r"\berror\b|Traceback|interrupted", line, re.IGNORECASE):
            return line.strip()
    return ""


# ----------------------------------------------------------------------------------------
# the soak


class Runner:
    """One launch of `symbreak run` (its own session, output in a log file)."""

    def __init__(self, command: list[str], log_path: Path, env: dict):
        self.command, self.log_path = command, log_path
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=env, start_new_session=True)
        self.pid = self.popen.pid
        self.started = now()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def kill(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout: float) -> int | None:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


class Soak:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out).resolve()
        self.run_dir = self.out / "run"
        self.logs = self.out / "logs"
        self.rng = random.Random(args.seed)
        self.env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        self.case = get_case(args.case)
        self.has_reference = bool(self.case.reference) and not args.no_reference and args.potential != "qtip4pf"
        kinds = [k for k in (args.faults.split(",") if args.faults else KINDS)]
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise SoakError(f"unknown fault kinds {unknown}; known: {', '.join(KINDS)}")
        if not self.has_reference:
            kinds = [k for k in kinds if not k.endswith("_reference")]
        if not kinds:
            raise SoakError("no fault kinds left to inject")
        self.kinds = kinds
        self.deck: list[str] = []
        self.runners: list[Runner] = []  # every launch, in order
        self.runner: Runner | None = None  # the current one
        self.calibration: Runner | None = None
        self.seen: dict[int, dict] = {}  # every child identity seen in a lock record (for the cleanup)
        self.cycles: list[dict] = []
        self.findings: list[str] = []
        self.notes: list[str] = []
        self.snapshot: dict | None = None  # the manifest's config and options after the first attempt
        self.steps: int | None = args.steps
        self.calibration_info: dict | None = None
        self.launch_reasons: list[str] = []
        self.expected_outcomes: dict[int, tuple[str, str]] = {}  # runner PID -> (fault kind, target name)
        self.printed_from: dict[int, int] = {}  # runner PID -> the step its log says it resumed from
        self.finished_early = False
        self.final: dict = {}
        self.lock_before: dict = {}
        self.alive_at_end: list[str] | None = None
        self.lock_left_at_end = False

    # ---- launching

    def options(self, steps: int, out: Path) -> list[str]:
        a = self.args
        opts = [a.case, "--potential", a.potential, "--strategy", a.strategy, "--beads", str(a.beads),
                "--seed", str(a.seed), "--steps", str(steps), "--stall-timeout", f"{a.stall_timeout:g}",
                "--out", str(out)]
        if a.size is not None:
            opts += ["--size", str(a.size)]
        if a.no_reference:
            opts.append("--no-reference")
        return opts

    def command(self) -> list[str]:
        return symbreak_command("run", *self.options(self.steps, self.run_dir))

    def launch(self, reason: str) -> Runner:
        log = self.logs / f"runner-{len(self.runners) + 1:03d}.log"
        runner = Runner(self.command(), log, self.env)
        self.runners.append(runner)
        self.launch_reasons.append(reason)
        self.runner = runner
        return runner

    def remember_children(self) -> dict:
        record = read_lock(self.run_dir)
        for identity in (record.get("children") or {}).values():
            if isinstance(identity, dict) and "pid" in identity:
                self.seen[identity["pid"]] = identity
        return record

    # ---- calibration

    def calibrate(self) -> None:
        folder = self.out / "calibrate"
        seconds = min(60.0, max(15.0, 0.1 * self.args.minutes * 60))
        runner = Runner(symbreak_command("run", *self.options(10_000_000, folder), "--quiet"),
                        self.logs / "calibrate.log", self.env)
        self.calibration = runner
        print(f"soak: calibrating the speed for {seconds:.0f} s in {folder} ...", flush=True)
        deadline = now() + 300
        first = None
        points = []
        try:
            while True:
                if not runner.alive():
                    raise SoakError(f"the calibration run ended (code {runner.popen.returncode}): "
                                    f"{first_error_line(runner.log())}")
                self._remember(folder)
                step = last_row_step(folder / "simulation.out")
                t = now()
                if step is not None and (not points or step != points[-1][1]):
                    points.append((t, step))
                    if first is None and len(points) >= 2:
                        first = points[-1]
                if first is not None and t - first[0] >= seconds:
                    break
                if first is None and t > deadline:
                    raise SoakError("the calibration run wrote no two rows within 300 s")
                time.sleep(0.1)
        finally:
            runner.kill(signal.SIGTERM)
            if runner.wait(60) is None:
                runner.kill(signal.SIGKILL)
                runner.wait(10)
            self._stop_leftovers(folder)
        last = points[-1]
        rate = (last[1] - first[1]) / max(1e-9, last[0] - first[0])
        if rate <= 0:
            raise SoakError("the calibration run made no progress")
        steps = int(math.ceil(rate * self.args.minutes * 60 * STEPS_SAFETY / 1000.0) * 1000)
        self.steps = max(steps, 1000)
        self.calibration_info = {"seconds": round(last[0] - first[0], 1), "steps_per_s": round(rate, 2),
                                 "ms_per_step": round(1e3 / rate, 1), "steps_chosen": self.steps,
                                 "safety": STEPS_SAFETY}
        shutil.rmtree(folder, ignore_errors=True)
        print(f"soak: {rate:.1f} steps/s ({1e3 / rate:.0f} ms/step): --steps {self.steps}", flush=True)

    def _remember(self, folder: Path) -> None:
        for identity in (read_lock(folder).get("children") or {}).values():
            if isinstance(identity, dict) and "pid" in identity:
                self.seen[identity["pid"]] = identity

    def _stop_leftovers(self, folder: Path) -> list[str]:
        """Stop what a runner of ``folder`` left alive; return their names."""
        names = []
        if folder.exists():
            for name, identity in find_orphans(read_lock(folder), folder):
                names.append(f"{name} (PID {identity['pid']})")
                stop_process_group(identity, grace=5.0)
        return names

    # ---- waiting for the run

    def attempt_of(self, runner: Runner):
        """The manifest's Attempt of ``runner`` (None until the runner has written it)."""
        manifest = read_manifest_quietly(self.run_dir)
        return next((a for a in (manifest.attempts if manifest else ()) if a.runner_pid == runner.pid), None)

    def wait_progress(self, runner: Runner, bound: float) -> dict:
        """Wait until ``runner``'s attempt has written MIN_NEW_ROWS rows past its from_step.

        Returns {'ok', 'from_step', 't_first_row', 'why'}.
        """
        deadline = now() + bound
        attempt, first_row = None, None
        while now() < deadline:
            if not runner.alive():
                return {"ok": False, "why": f"exited with code {runner.popen.returncode}: "
                                             f"{first_error_line(runner.log())}", "from_step": None}
            if attempt is None:
                attempt = self.attempt_of(runner)
            if attempt is not None:
                self.remember_children()
                step = last_row_step(self.run_dir / "simulation.out")
                from_step = attempt.from_step
                stride = self.stride()
                if step is not None and step > from_step and first_row is None:
                    first_row = now()
                if step is not None and step >= from_step + MIN_NEW_ROWS * stride and first_row is not None:
                    return {"ok": True, "from_step": from_step, "t_first_row": first_row}
            time.sleep(0.1)
        return {"ok": False, "why": f"no progress within {bound:.0f} s", "from_step": None}

    def stride(self) -> int:
        if not hasattr(self, "_stride"):
            output = read_description(self.run_dir).properties_output
            self._stride = output.stride if output else 1
        return self._stride

    # ---- faults

    def next_kind(self) -> str:
        if not self.deck:
            self.deck = list(self.kinds)
            self.rng.shuffle(self.deck)
        return self.deck.pop()

    def target(self, kind: str) -> tuple[str, dict]:
        """(name, identity) of the process ``kind`` hits: the lock's record, checked against /proc."""
        runner = self.runner
        record = self.remember_children()
        self.lock_before = record
        if kind.endswith("_runner"):
            identity = process_identity(runner.pid)
            if record.get("pid") != runner.pid:
                self.findings.append(f"the lock names runner PID {record.get('pid')}, not the live runner {runner.pid}")
            return "runner", identity
        children = {n: c for n, c in (record.get("children") or {}).items() if isinstance(c, dict) and is_alive_as(c)}
        tree = {}
        for pid in children_of(runner.pid):
            identity = process_identity(pid)
            if identity is not None and role_of(identity["cmdline"]):
                tree[pid] = identity
        missing = [f"{role_of(i['cmdline'])} PID {p}" for p, i in tree.items()
                   if p not in {c["pid"] for c in children.values()}]
        if missing:
            self.findings.append(f"runner {runner.pid}: live children not in the lock file: {', '.join(missing)}")
        if kind.endswith("_ipi"):
            names = [n for n in children if n == "ipi"]
        elif kind.endswith("_reference"):
            names = [n for n in children if n.startswith("reference")]
        else:
            names = [n for n in children if n != "ipi" and not n.startswith("reference")]
        if not names:
            raise LookupError(f"no live process for {kind} in the lock of {self.run_dir} (children: {sorted(children)})")
        name = self.rng.choice(sorted(names))
        return name, children[name]

    def inject(self, kind: str) -> dict:
        name, identity = self.target(kind)
        sig = {"kill9": signal.SIGKILL, "sigstop": signal.SIGSTOP, "sigterm": signal.SIGTERM}[kind.split("_")[0]]
        step = last_row_step(self.run_dir / "simulation.out")
        if identity is None or not is_alive_as(identity):
            raise LookupError(f"{name} is gone before the fault")
        os.kill(identity["pid"], sig)
        return {"kind": kind, "target": name, "target_pid": identity["pid"], "signal": signal_name(sig),
                "step_before": step, "identity": identity}

    # ---- one cycle

    def cycle(self, kind: str) -> dict:
        runner = self.runner
        a = self.args
        try:
            fault = self.inject(kind)
        except LookupError as err:
            self.notes.append(f"skipped {kind}: {err}")
            return {}
        t_fault = now()
        fault.pop("identity")  # used to check the target before signalling; not part of the record
        record = {"cycle": len(self.cycles) + 1, **fault, "runner_pid": runner.pid,
                  "t": round(t_fault - self.t0, 1)}
        self.expected_outcomes[runner.pid] = (kind, fault["target"])
        print(f"soak: cycle {record['cycle']}: {kind} -> {fault['target']} (PID {fault['target_pid']}) "
              f"at step {fault['step_before']}", flush=True)
        code = runner.wait(a.exit_bound)
        record["detect_s"] = round(now() - t_fault, 1)
        if code is None:
            self.findings.append(f"cycle {record['cycle']}: runner {runner.pid} did not exit within "
                                 f"{a.exit_bound:g} s of {kind} ({fault['target']}); killed it")
            record["hung"] = True
            runner.kill(signal.SIGKILL)
            code = runner.wait(30)
        record["exit_code"] = code
        log = runner.log()
        record["error"] = first_error_line(log)
        if "Traceback" in log:
            self.findings.append(f"cycle {record['cycle']}: runner {runner.pid} printed a traceback ({runner.log_path})")
        expected = {"kill9_runner": -9, "sigterm_runner": 130}.get(kind, 2)
        if code != expected:
            self.findings.append(f"cycle {record['cycle']}: after {kind} the runner exited with {code}, not {expected}: "
                                 f"{record['error']}")
        if kind.startswith("sigstop") and record["detect_s"] > a.stall_timeout + STALL_MARGIN_S:
            self.findings.append(f"cycle {record['cycle']}: {kind} detected after {record['detect_s']} s "
                                 f"(bound {a.stall_timeout + STALL_MARGIN_S:g} s)")
        attempt_children = {n: c for n, c in (self.lock_before.get("children") or {}).items() if isinstance(c, dict)}
        if kind != "kill9_runner" and not record.get("hung"):
            alive = [f"{n} (PID {c['pid']})" for n, c in attempt_children.items() if is_alive_as(c)]
            if alive:
                self.findings.append(f"cycle {record['cycle']}: the runner exited but left {', '.join(alive)} alive")
                record["left_alive"] = alive
        else:
            record["orphans_alive"] = sum(1 for c in attempt_children.values() if is_alive_as(c))

        # the re-run: the same command, once (more only if it fails)
        for rerun in range(1, MAX_RERUNS + 1):
            new = self.launch(f"resume after cycle {record['cycle']} ({kind})")
            progress = self.wait_progress(new, a.recover_bound)
            if progress["ok"]:
                break
            if new.alive():
                new.kill(signal.SIGTERM)
                if new.wait(60) is None:
                    new.kill(signal.SIGKILL)
                    new.wait(10)
            self.findings.append(f"cycle {record['cycle']}: re-run {rerun} (runner {new.pid}) did not resume: "
                                 f"{progress['why']}")
        else:
            record["reruns"] = MAX_RERUNS
            self.cycles.append(record)
            raise SoakError(f"the run could not be resumed after cycle {record['cycle']} ({kind}); see {self.logs}")
        record["reruns"] = rerun
        record["from_step"] = progress["from_step"]
        record["recover_s"] = round(progress["t_first_row"] - t_fault, 1)
        if fault["step_before"] is not None:
            record["steps_recomputed"] = fault["step_before"] - progress["from_step"]
        m = re.search(r"resuming .* \(step (\d+)\)", new.log())
        printed = int(m.group(1)) if m else (0 if "again from step 0" in new.log() else None)
        self.printed_from[new.pid] = printed
        record["printed_from"] = printed
        if progress["from_step"] == 0 and (fault["step_before"] or 0) >= 2 * self.checkpoint_stride():
            self.findings.append(f"cycle {record['cycle']}: resumed from step 0 although step {fault['step_before']} "
                                 "had been reached (every output was thrown away)")
        print(f"soak:   runner exit {code} after {record['detect_s']} s ({record['error'][:120] or 'no error line'}); "
              f"resumed from step {progress['from_step']}, recovered in {record['recover_s']} s", flush=True)
        self.cycles.append(record)
        return record

    def checkpoint_stride(self) -> int:
        m = re.search(r"<checkpoint stride='(\d+)'", (self.run_dir / "input.xml").read_text())
        return int(m.group(1)) if m else 100

    # ---- the whole soak

    def run(self) -> None:
        a = self.args
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.steps is None:
            self.calibrate()
        self.t0 = now()
        deadline = self.t0 + a.minutes * 60
        print(f"soak: {' '.join(self.command())}", flush=True)
        runner = self.launch("start")
        progress = self.wait_progress(runner, a.recover_bound)
        if not progress["ok"]:
            raise SoakError(f"the run did not start: {progress['why']}")
        manifest = read_manifest_quietly(self.run_dir)
        self.snapshot = {"config": manifest.config, "options": manifest.options, "steps": manifest.steps}
        recovered = progress["t_first_row"]
        while True:
            t_fault = recovered + self.rng.expovariate(1.0 / a.mean_interval)
            if t_fault >= deadline:
                break
            while now() < t_fault and self.runner.alive():
                time.sleep(0.1)
            if not self.runner.alive():
                if self._unprovoked_exit():
                    break
                recovered = now()
                continue
            self.cycle(self.next_kind())
            recovered = now()  # the resumed attempt has written MIN_NEW_ROWS rows
        if self.runner.alive() and not self.finished_early:
            self.stop()
        self.duration = now() - self.t0

    def _unprovoked_exit(self) -> bool:
        """The runner exited without a fault: finished (True: the soak ends) or a finding (re-run)."""
        runner = self.runner
        code = runner.popen.returncode
        manifest = read_manifest_quietly(self.run_dir)
        if code == 0 and manifest is not None and manifest.finished is not None:
            self.finished_early = True
            self.notes.append(f"the run finished all {self.steps} steps before the soak's time was up "
                              "(choose more --steps)")
            return True
        self.findings.append(f"runner {runner.pid} exited with {code} without a fault: {first_error_line(runner.log())}")
        new = self.launch("resume after an unprovoked exit")
        if not self.wait_progress(new, self.args.recover_bound)["ok"]:
            raise SoakError("the run could not be resumed after an unprovoked exit")
        return False

    def stop(self) -> None:
        """Stop the run cleanly: SIGTERM to the runner."""
        runner = self.runner
        step = last_row_step(self.run_dir / "simulation.out")
        self.remember_children()
        runner.kill(signal.SIGTERM)
        t = now()
        code = runner.wait(60)
        self.final = {"step_before_stop": step, "exit_code": code, "stop_s": round(now() - t, 1),
                      "error": first_error_line(runner.log())}
        self.expected_outcomes[runner.pid] = ("final_sigterm", "runner")
        if code is None:
            self.findings.append(f"the final SIGTERM did not stop runner {runner.pid} within 60 s; killed it")
            runner.kill(signal.SIGKILL)
            runner.wait(30)
        elif code != 130:
            self.findings.append(f"the final SIGTERM: runner exit code {code}, not 130: {self.final['error']}")
        print(f"soak: stopped the run at step {step} (runner exit {code})", flush=True)

    def alive_processes(self) -> list[str]:
        """The runners and run processes alive now."""
        alive = [f"runner {r.pid}" for r in self.runners if r.alive()]
        alive += [f"PID {p} ({' '.join(i['cmdline'][-3:])})" for p, i in self.seen.items() if is_alive_as(i)]
        if self.run_dir.exists():
            alive += [f"{n} (PID {i['pid']})" for n, i in find_orphans(read_lock(self.run_dir), self.run_dir)
                      if i["pid"] not in self.seen]
        return alive

    def cleanup(self) -> list[str]:
        """Stop every process this soak started (runners and what they left); return what had to be stopped."""
        stopped = []
        for runner in self.runners + ([self.calibration] if self.calibration else []):
            if runner.alive():
                runner.kill(signal.SIGTERM)
                if runner.wait(30) is None:
                    runner.kill(signal.SIGKILL)
                    runner.wait(10)
                stopped.append(f"runner {runner.pid}")
        for folder in (self.run_dir, self.out / "calibrate"):
            stopped += self._stop_leftovers(folder)
        for pid, identity in self.seen.items():
            if is_alive_as(identity):
                stopped.append(f"PID {pid} ({' '.join(identity['cmdline'][-3:])})")
                stop_process_group(identity, grace=5.0)
        return stopped


# ----------------------------------------------------------------------------------------
# the checks at the end


def check(name: str, ok: bool, detail: str = "") -> dict:
    return {"check": name, "ok": bool(ok), "detail": detail}


def read_manifest_quietly(folder: Path):
    """The run's Manifest, or None while there is none (or it is being replaced)."""
    try:
        return read_manifest(folder)
    except (OSError, ValueError):
        return None


#: the checks of `symbreak check` that the soak makes itself, knowing more (its runners, what it saw at the end)
OWN_CHECKS = ("manifest", "no process of the run alive", "no UNIX socket file")


def run_checks(soak: Soak) -> tuple[list[dict], dict]:
    run = soak.run_dir
    report = check_run(run)  # steps, trajectories, extras, NUL bytes, the conserved quantity at the seams
    checks = [check(c.name, c.status != "FAIL", c.detail) for c in report.checks if not c.name.startswith(OWN_CHECKS)]
    figures = {"frames_lost": report.frames_lost, "duplicates": report.duplicates, "last_step": report.last_step}

    # the manifest
    issues = []
    manifest = read_manifest_quietly(run)
    attempts = list(manifest.attempts) if manifest else []
    snap = soak.snapshot or {}
    now_values = {"config": manifest.config, "options": manifest.options, "steps": manifest.steps} if manifest else {}
    for key in ("config", "options", "steps"):
        if now_values.get(key) != snap.get(key):
            issues.append(f"{key} changed since the first attempt")
    if manifest is not None and manifest.steps != soak.steps:
        issues.append(f"steps {manifest.steps}, not {soak.steps}")
    pids = [a.runner_pid for a in attempts]
    launched = [r.pid for r in soak.runners]
    if pids != launched:
        issues.append(f"attempts of runners {pids}, launched {launched}")
    for a in attempts:
        pid, outcome = a.runner_pid, a.outcome or ""
        if a.ended is None or not outcome:
            issues.append(f"attempt of runner {pid} has no end or outcome")
            continue
        kind, target = soak.expected_outcomes.get(pid, (None, None))
        fits = {None: True,
                "kill9_runner": outcome.startswith("no record: the runner was killed"),
                "sigterm_runner": outcome.startswith("interrupted"),
                "final_sigterm": outcome.startswith("interrupted")}.get(kind)
        if fits is None:  # a child's fault
            if kind.startswith("sigstop"):
                fits = outcome.startswith("stalled") and f"{target} stopped (state T)" in outcome
            else:
                fits = outcome.startswith("failed") and f"{target} was killed by SIGKILL" in outcome
        if not fits:
            issues.append(f"runner {pid} ({kind} of {target}): outcome '{outcome[:150]}'")
        printed = soak.printed_from.get(pid)
        if printed is not None and a.from_step != printed:
            issues.append(f"runner {pid}: from_step {a.from_step} but it printed step {printed}")
    if manifest is not None and manifest.finished is not None and not soak.finished_early:
        issues.append("marked finished")
    checks.append(check(f"manifest consistent ({len(attempts)} attempts, config unchanged, outcomes fit the faults)",
                        not issues, "; ".join(issues[:6])))

    # processes and sockets (as they were after the final stop, before the soak's own cleanup)
    alive = soak.alive_at_end or []
    lock_left = soak.lock_left_at_end
    checks.append(check("no process of the run alive after the final stop, lock file gone", not alive and not lock_left,
                        ", ".join(alive) + (" lock file left" if lock_left else "")))
    sockets = []
    for a in attempts:
        for _, address in a.sockets:
            if ":" not in str(address) and os.path.exists(SOCKETS_PREFIX + str(address)):
                sockets.append(SOCKETS_PREFIX + str(address))
    checks.append(check("no UNIX socket file of any attempt left", not sockets, ", ".join(sockets[:5])))

    checks.append(check("frames lost = 0 and no duplicates", figures["frames_lost"] == 0 and figures["duplicates"] == 0,
                        f"{figures['frames_lost']} lost, {figures['duplicates']} duplicates"))
    checks.append(check("no finding during the cycles (hangs, exit codes, tracebacks, failed or repeated re-runs)",
                        not soak.findings, "; ".join(soak.findings[:6])))
    figures["backup_files"] = sorted(p.name for p in run.glob("#*"))
    return checks, figures


# ----------------------------------------------------------------------------------------
# the summary


def summarize(soak: Soak, checks: list[dict], figures: dict) -> dict:
    by_kind: dict[str, dict] = {}
    for c in soak.cycles:
        k = by_kind.setdefault(c["kind"], {"count": 0, "exit_codes": [], "max_detect_s": 0.0, "max_recover_s": 0.0,
                                           "max_steps_recomputed": 0})
        k["count"] += 1
        if c.get("exit_code") not in k["exit_codes"]:
            k["exit_codes"].append(c.get("exit_code"))
        k["max_detect_s"] = max(k["max_detect_s"], c.get("detect_s") or 0.0)
        k["max_recover_s"] = max(k["max_recover_s"], c.get("recover_s") or 0.0)
        k["max_steps_recomputed"] = max(k["max_steps_recomputed"], c.get("steps_recomputed") or 0)
    failed = [c["check"] for c in checks if not c["ok"]]
    return {
        "cycles": len(soak.cycles), "launches": len(soak.runners), "faults_by_kind": by_kind,
        "steps_done": figures.get("last_step"), "steps_requested": soak.steps,
        "frames_lost": figures.get("frames_lost"), "duplicates": figures.get("duplicates"),
        "max_recover_s": max((c.get("recover_s") or 0.0 for c in soak.cycles), default=None),
        "max_detect_s": max((c.get("detect_s") or 0.0 for c in soak.cycles), default=None),
        "seams": figures.get("seams"), "seam_jump_ratio_max": figures.get("seam_jump_ratio_max"),
        "backup_files": figures.get("backup_files"), "failed_checks": failed, "passed": not failed,
    }


def print_summary(soak: Soak, summary: dict, checks: list[dict]) -> None:
    print("\n== soak summary ==")
    print(f"duration {soak.duration / 60:.1f} min, cycles {summary['cycles']}, launches {summary['launches']}, "
          f"steps done {summary['steps_done']} of {summary['steps_requested']}")
    print(f"{'fault':20s} {'n':>3s} {'exit codes':>12s} {'max detect s':>13s} {'max recover s':>14s} {'max redone':>11s}")
    for kind in KINDS:
        k = summary["faults_by_kind"].get(kind)
        if k:
            print(f"{kind:20s} {k['count']:3d} {','.join(map(str, k['exit_codes'])):>12s} {k['max_detect_s']:13.1f} "
                  f"{k['max_recover_s']:14.1f} {k['max_steps_recomputed']:11d}")
    print(f"frames lost {summary['frames_lost']}, duplicates {summary['duplicates']}, max recovery "
          f"{summary['max_recover_s']} s, seams {summary['seams']} (worst jump {summary['seam_jump_ratio_max']} x "
          f"the largest elsewhere)")
    for c in checks:
        print(f"  [{'ok' if c['ok'] else 'FAIL'}] {c['check']}" + (f": {c['detail']}" if c["detail"] else ""))
    backups = summary.get("backup_files") or []
    if backups:
        print(f"  note: {len(backups)} backup files of i-PI's checkpoints (#RESTART#N#, #simulation.restart#N#) "
              "accumulate in the run folder")
    for note in soak.notes:
        print(f"  note: {note}")
    print("PASSED" if summary["passed"] else f"FAILED: {len(summary['failed_checks'])} check(s)")


# ----------------------------------------------------------------------------------------


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, required=True, help="how long to inject faults")
    p.add_argument("--out", required=True, help="soak folder (new or empty): OUT/run, OUT/logs, OUT/soak.json")
    p.add_argument("--case", default="liquid-pimd")
    p.add_argument("--potential", default="toy")
    p.add_argument("--strategy", default="plain")
    p.add_argument("--beads", type=int, default=4)
    p.add_argument("--size", type=int, default=16, help="molecules (default 16: fast steps)")
    p.add_argument("--seed", type=int, default=31415, help="seed of the run and of the fault schedule")
    p.add_argument("--mean-interval", type=float, default=40.0, help="mean seconds between faults (exponential)")
    p.add_argument("--stall-timeout", type=float, default=20.0, help="passed to `symbreak run` (default 20 s)")
    p.add_argument("--steps", type=int, default=None, help="the run's steps (default: from a calibration run)")
    p.add_argument("--faults", default=None, help=f"comma-separated kinds (default all: {','.join(KINDS)})")
    p.add_argument("--no-reference", action="store_true", help="run without the q-TIP4P/F reference")
    p.add_argument("--exit-bound", type=float, default=None,
                   help="seconds the runner may take to exit after a fault (default stall timeout + 60)")
    p.add_argument("--recover-bound", type=float, default=300.0,
                   help="seconds a re-run may take to write new rows (default 300)")
    args = p.parse_args(argv)
    if args.exit_bound is None:
        args.exit_bound = args.stall_timeout + 60.0
    if args.minutes <= 0 or args.mean_interval <= 0 or args.stall_timeout <= 0:
        p.error("--minutes, --mean-interval and --stall-timeout must be > 0")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        print(f"soak: {out} exists and is not an empty folder: choose another --out", file=sys.stderr)
        return 2
    try:
        soak = Soak(args)
    except (SoakError, ValueError) as err:
        print(f"soak: {err}", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    code, error = 0, None
    soak.duration = 0.0
    try:
        soak.run()
    except KeyboardInterrupt:
        code, error = 130, "interrupted"
    except SoakError as err:
        code, error = 1, str(err)
    except BaseException as err:  # an error of the soak itself: clean up, then report it
        code, error = 1, f"{type(err).__name__}: {err}"
        import traceback

        traceback.print_exc()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # the cleanup must not be cut short
        if not soak.duration:
            soak.duration = now() - getattr(soak, "t0", now())
        soak.alive_at_end = soak.alive_processes()
        soak.lock_left_at_end = (soak.run_dir / LOCK_NAME).exists()
        stopped = soak.cleanup()
        if stopped and error is None:
            soak.findings.append(f"left alive at the end and stopped by the soak: {', '.join(stopped)}")
        elif stopped:
            soak.notes.append(f"stopped at the cleanup: {', '.join(stopped)}")
    result = {"command": soak.command() if soak.steps else None, "args": vars(args), "steps": soak.steps,
              "calibration": soak.calibration_info, "seam_k": SEAM_K, "cycles": soak.cycles,
              "launches": [{"pid": r.pid, "reason": why, "exit_code": r.popen.returncode, "log": str(r.log_path)}
                           for r, why in zip(soak.runners, soak.launch_reasons)],
              "final_stop": soak.final, "findings": soak.findings, "notes": soak.notes, "error": error}
    if error is not None:
        print(f"soak: {error}", file=sys.stderr)
    if code != 130 and (soak.run_dir / "manifest.json").exists():
        checks, figures = run_checks(soak)
        summary = summarize(soak, checks, figures)
        if error is not None:
            summary["failed_checks"].insert(0, f"the soak stopped early: {error}")
            summary["passed"] = False
        result.update(checks=checks, figures=figures, summary=summary)
        print_summary(soak, summary, checks)
        if not summary["passed"]:
            code = code or 1
    elif code == 0:
        code = 1
    soak.out.mkdir(parents=True, exist_ok=True)
    (soak.out / "soak.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"soak: wrote {soak.out / 'soak.json'}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
