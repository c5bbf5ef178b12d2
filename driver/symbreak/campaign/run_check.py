"""Is a run folder whole? The integrity checks of any i-PI run (symbreak's or i-PI's own), one result each.

    report = check_run("runs/liquid-2i")
    report.ok, report.frames_lost, report.duplicates
    for c in report.checks: print(c.status, c.name, c.detail)       # status "ok", "FAIL" or "skip"

What is checked (each a :class:`Check`; ``symbreak check RUN`` prints them):
  * properties: the step column is start, s, 2s, ... (s its stride) with each step once, and every row
    complete and numeric (the properties reader of :mod:`symbreak.ipi.outputs`);
  * trajectories: every xyz trajectory of every bead the input asks for has whole frames, one atom count,
    contiguous steps, and the steps of the properties file where the strides agree;
  * extras: one complete block per step in every extras file;
  * no NUL byte in any file of the folder (what a crash of the writer or the file system leaves);
  * the conserved quantity is continuous where the run was resumed (symbreak's manifest names the steps):
    its change there is at most SEAM_K times the largest change between other rows;
  * symbreak's manifest (when there is one): every attempt ended with an outcome, each resumed from a step
    no later than where the one before stopped, and the run is marked finished only with all its steps;
  * processes and sockets: with no runner holding the folder's lock, none of the run's processes is still
    alive and no UNIX socket file of its attempts is left in /tmp.
A run in progress (a runner holds the lock) is checked as far as it has written: a row or frame being
written is not a fault, the processes and sockets are not judged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from ..core.errors import InputError
from ..ipi.frame_steps import extras_block_steps, files_with_nul, step_gaps, xyz_frame_steps
from ..ipi.input_reader import read_description
from ..ipi.outputs import read_properties
from ..ipi.processes import SOCKETS_PREFIX
from .manifest import read_manifest
from .runlock import LOCK_NAME, find_orphans, read_lock, runner_holds

#: a resume seam's change of the conserved quantity may be at most SEAM_K x the largest change elsewhere
SEAM_K = 3.0

Status = Literal["ok", "FAIL", "skip"]


@dataclass(frozen=True)
class Check:
    """One integrity check: its name, ok / FAIL / skip (not applicable to this run), and what was found."""

    name: str
    status: Status
    detail: str = ""


@dataclass(frozen=True)
class RunCheckReport:
    """Every check of one folder, and the frames lost or repeated over all its outputs."""

    folder: str
    running: bool
    checks: tuple[Check, ...]
    frames_lost: int
    duplicates: int
    last_step: int | None

    @property
    def ok(self) -> bool:
        return all(c.status != "FAIL" for c in self.checks)


def _check(name: str, ok: bool, detail: str = "") -> Check:
    return Check(name, "ok" if ok else "FAIL", detail)


def _properties(folder: Path, description, running: bool) -> tuple[Check, dict | None, list[int], int, int]:
    output = description.properties_output
    if output is None:
        return Check("properties", "skip", "the input writes no <properties>"), None, [], 0, 0
    path = folder / output.path
    notes: list[str] = []
    try:
        columns = read_properties(path, notes)
    except InputError as err:
        return _check(f"properties {output.path}", False, str(err)), None, [], 0, 0
    if "step" not in columns:
        return Check(f"properties {output.path}", "skip", "no step column"), columns, [], 0, 0
    steps = [int(round(s)) for s in columns["step"]]
    start = steps[0] if description.checkpoint else description.step
    gaps = step_gaps(steps, output.stride, start)
    torn = [n for n in notes if "being written" in n]
    problems = [gaps.describe()] if not gaps.whole else []
    if torn and not running:
        problems.append("the last row is incomplete")
    detail = "; ".join(problems) or f"{len(steps)} rows, steps {start}..{steps[-1]} every {output.stride}"
    return (_check(f"properties {output.path}: steps every {output.stride}, each once, rows complete", not problems, detail),
            columns, steps, len(gaps.missing) + len(gaps.off_stride), len(gaps.duplicates))


def _trajectories(folder: Path, description, steps: list[int], running: bool) -> tuple[list[Check], int, int]:
    xyz_problems, extras_problems, lost, repeated, n_xyz, n_extras, other = [], [], 0, 0, 0, 0, []
    properties_stride = description.properties_output.stride if description.properties_output else None
    for output in description.trajectories:
        beads = range(description.nbeads) if output.per_bead else [0]
        for bead in beads:
            if not output.has_bead(bead):
                continue
            path = folder / output.path(bead)
            extras = output.quantity.startswith("extras")
            if not extras and output.format != "xyz":
                other.append(path.name)
                continue
            if not path.exists():
                (extras_problems if extras else xyz_problems).append(f"{path.name}: missing")
                continue
            scan = extras_block_steps(path) if extras else xyz_frame_steps(path)
            start = scan.steps[0] if (scan.steps and description.checkpoint) else description.step
            gaps = step_gaps(scan.steps, output.stride, start)
            lost += len(gaps.missing) + len(gaps.off_stride)
            repeated += len(gaps.duplicates)
            problems = [gaps.describe()] if not gaps.whole else []
            if scan.problem and not (running and "incomplete" in scan.problem):
                problems.insert(0, scan.problem)
            if not extras:
                n_xyz += 1
                if len(scan.atom_counts) > 1:
                    problems.append(f"atom counts {sorted(scan.atom_counts)}")
                if output.stride == properties_stride and steps and list(scan.steps) != steps and not running:
                    problems.append(f"steps differ from the properties file ({len(scan.steps)} frames, last "
                                    f"{scan.steps[-1] if scan.steps else None}; {len(steps)} rows)")
            else:
                n_extras += 1
            if problems:
                (extras_problems if extras else xyz_problems).append(f"{path.name}: " + "; ".join(problems[:3]))
    checks = []
    if n_xyz or xyz_problems:
        checks.append(_check(f"trajectories: whole frames, contiguous steps ({n_xyz} xyz files)", not xyz_problems,
                             "; ".join(xyz_problems[:4])))
    else:
        checks.append(Check("trajectories", "skip", "no xyz trajectory in the input"
                            + (f" (not checked: {', '.join(other[:3])})" if other else "")))
    if n_extras or extras_problems:
        checks.append(_check(f"extras: one complete block per step ({n_extras} files)", not extras_problems,
                             "; ".join(extras_problems[:4])))
    else:
        checks.append(Check("extras", "skip", "the input writes no extras"))
    return checks, lost, repeated


def _seams(columns: dict | None, steps: list[int], manifest) -> Check:
    seams = sorted({a.from_step for a in (manifest.attempts if manifest else ()) if a.from_step > 0})
    name = "conserved quantity continuous where the run resumed"
    if not seams:
        return Check(name, "skip", "never resumed" if manifest else "no symbreak manifest (resume steps unknown)")
    if columns is None or "conserved" not in columns or len(steps) < 3:
        return Check(name, "skip", "no conserved column or too few rows")
    conserved = np.asarray(columns["conserved"])
    change = np.abs(np.diff(conserved))
    at = sorted({int(np.searchsorted(np.asarray(steps), s, side="right")) - 1 for s in seams})
    at = [k for k in at if 0 <= k < len(change)]
    others = np.delete(change, at)
    largest = float(others.max()) if others.size else 0.0
    bad = [steps[k] for k in at if change[k] > SEAM_K * largest + 1e-12]
    worst = max((float(change[k]) / largest if largest else float("inf") for k in at), default=0.0)
    return _check(f"{name} ({len(at)} seams, jump <= {SEAM_K:g} x the largest elsewhere)", not bad,
                  (f"jumps at steps {bad[:5]}; " if bad else "") + f"worst seam {worst:.2f} x the largest change "
                  f"elsewhere ({largest:.3g} eV)")


def _manifest(manifest, last_step: int | None, stride: int, running: bool) -> Check:
    if manifest is None:
        return Check("manifest", "skip", "not a symbreak run (no manifest.json)")
    problems = []
    attempts = list(manifest.attempts)
    for k, attempt in enumerate(attempts):
        current = running and k == len(attempts) - 1
        if not current and (attempt.ended is None or not attempt.outcome):
            problems.append(f"attempt {k + 1} (runner {attempt.runner_pid}) has no end or outcome: its runner was killed")
        if k and attempts[k - 1].last_step is not None and attempt.from_step > attempts[k - 1].last_step:
            problems.append(f"attempt {k + 1} resumed from step {attempt.from_step}, after attempt {k} stopped at "
                            f"{attempts[k - 1].last_step}")
    if manifest.finished is not None and last_step is not None and last_step + stride < manifest.steps:
        problems.append(f"marked finished at step {last_step} of {manifest.steps}")
    unclosed = [p for p in problems if "no end or outcome" in p]
    detail = "; ".join(problems[:4]) or f"{len(attempts)} attempts"
    if unclosed and len(unclosed) == len(problems):
        detail += " (re-run the same command: the next runner closes them and resumes)"
    return _check(f"manifest: attempts closed and in order ({len(attempts)} attempts)", not problems, detail)


def _leftovers(folder: Path, manifest, running: bool) -> list[Check]:
    if running:
        return [Check("processes and sockets", "skip", "a runner holds the folder's lock: the run is in progress")]
    record = read_lock(folder)
    alive = [name for name, _ in find_orphans(record, folder)] if record or manifest else []
    lock_left = (folder / LOCK_NAME).exists()
    checks = [_check("no process of the run alive", not alive,
                     ", ".join(alive) + (" (re-run the command: it stops them and resumes)" if alive else "")
                     + ("; the lock file of a runner that is gone is left" if lock_left and not alive else ""))]
    sockets = []
    for attempt in (manifest.attempts if manifest else ()):
        for _, address in attempt.sockets:
            if ":" not in str(address) and os.path.exists(SOCKETS_PREFIX + str(address)):
                sockets.append(SOCKETS_PREFIX + str(address))
    if manifest is None:
        checks.append(Check("no UNIX socket file left", "skip", "socket names unknown without a symbreak manifest"))
    else:
        checks.append(_check("no UNIX socket file of any attempt left", not sockets, ", ".join(sockets[:5])))
    return checks


def check_run(folder) -> RunCheckReport:
    """Usage: check_run("runs/x") -> RunCheckReport; InputError (one line) when ``folder`` is no i-PI run folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder: pass a run folder (symbreak's or i-PI's own)")
    description = read_description(folder)  # InputError naming the problem if there is no usable input
    manifest = read_manifest(folder)
    running = runner_holds(folder)
    checks: list[Check] = []
    properties, columns, steps, lost, repeated = _properties(folder, description, running)
    checks.append(properties)
    more, t_lost, t_repeated = _trajectories(folder, description, steps, running)
    checks += more
    with_nul = files_with_nul(folder)
    checks.append(_check("no NUL bytes in any file of the folder", not with_nul, ", ".join(with_nul[:5])))
    checks.append(_seams(columns, steps, manifest))
    last_step = steps[-1] if steps else None
    stride = description.properties_output.stride if description.properties_output else 1
    checks.append(_manifest(manifest, last_step, stride, running))
    checks += _leftovers(folder, manifest, running)
    lost += t_lost
    repeated += t_repeated
    return RunCheckReport(str(folder), running, tuple(checks), lost, repeated, last_step)


__all__ = ["SEAM_K", "Check", "RunCheckReport", "Status", "check_run"]
