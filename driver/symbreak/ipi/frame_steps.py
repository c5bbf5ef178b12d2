"""The steps an i-PI output file holds, frame by frame, and where it stops being whole: for integrity checks.

    scan = xyz_frame_steps("run/simulation.pos_0.xyz")     # FrameScan(steps=(0, 10, ...), atom_counts={24}, problem=None)
    scan = extras_block_steps("run/simulation.extras_0")   # one '#... Step: N' header and one {...} line per block
    gaps = step_gaps(scan.steps, stride=10)                 # StepGaps(missing=(...), duplicates=(...), ...)

Unlike the readers of :mod:`symbreak.ipi.outputs`, which read what is usable
and leave a torn tail out with a note, these scanners look at the bytes only
(no atoms are parsed) and say where a file is not whole: a frame without its
step, an incomplete frame, a block of more than one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_STEP = re.compile(rb"Step:\s*(\d+)")


@dataclass(frozen=True)
class FrameScan:
    """The steps of the whole frames of a file, in file order, and the first problem met (None if whole)."""

    steps: tuple[int, ...]
    atom_counts: frozenset[int] = frozenset()
    problem: str | None = None


@dataclass(frozen=True)
class StepGaps:
    """How a sequence of steps departs from start, start + stride, ...: what is missing, repeated, off-stride."""

    missing: tuple[int, ...]
    duplicates: tuple[int, ...]
    off_stride: tuple[int, ...]
    ordered: bool

    @property
    def whole(self) -> bool:
        return not (self.missing or self.duplicates or self.off_stride) and self.ordered

    def describe(self) -> str:
        """One phrase: '2 missing (first [30, 40]); 1 duplicate (first [50])', or '' when whole."""
        parts = []
        for name, values in (("missing", self.missing), ("duplicated", self.duplicates), ("off-stride", self.off_stride)):
            if values:
                parts.append(f"{len(values)} {name} (first {list(values[:5])})")
        if not self.ordered and not self.duplicates:
            parts.append("not in order")
        return "; ".join(parts)


def xyz_frame_steps(path) -> FrameScan:
    """Usage: xyz_frame_steps("sim.pos_0.xyz") -> FrameScan of an i-PI xyz trajectory; stops at the first bad frame."""
    steps, counts = [], set()
    lineno = 0
    with open(Path(path), "rb") as fh:
        while True:
            line = fh.readline()
            if not line:
                break
            lineno += 1
            try:
                n = int(line.strip())
            except ValueError:
                return FrameScan(tuple(steps), frozenset(counts), f"line {lineno}: expected an atom count, found {line[:40]!r}")
            header = fh.readline()
            lineno += 1
            found = _STEP.search(header)
            if not header.endswith(b"\n") or found is None:
                return FrameScan(tuple(steps), frozenset(counts), f"line {lineno}: a frame header without 'Step:'")
            for _ in range(n):
                atom = fh.readline()
                lineno += 1
                if not atom.endswith(b"\n") or len(atom.split()) != 4:
                    return FrameScan(tuple(steps), frozenset(counts),
                                     f"line {lineno}: the frame of step {int(found.group(1))} is incomplete")
            steps.append(int(found.group(1)))
            counts.add(n)
    return FrameScan(tuple(steps), frozenset(counts))


def extras_block_steps(path) -> FrameScan:
    """Usage: extras_block_steps("sim.extras_0") -> FrameScan of an extras file: a '#... Step: N' line, one {...} line."""
    steps, body = [], None
    with open(Path(path), "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            found = _STEP.search(line) if line.lstrip().startswith(b"#") else None
            if found is not None:
                if body is not None and body != 1:
                    return FrameScan(tuple(steps[:-1]), problem=f"line {lineno}: the block of step {steps[-1]} has {body} lines")
                steps.append(int(found.group(1)))
                body = 0
                continue
            if body is None:
                return FrameScan((), problem=f"line {lineno}: text before the first block")
            body += 1
            if not (line.startswith(b"{") and line.rstrip().endswith(b"}") and line.endswith(b"\n")):
                return FrameScan(tuple(steps[:-1]), problem=f"line {lineno}: the block of step {steps[-1]} is incomplete")
    if body is not None and body != 1:
        return FrameScan(tuple(steps[:-1]), problem=f"the last block (step {steps[-1]}) has {body} lines")
    return FrameScan(tuple(steps))


def step_gaps(steps, stride: int, start: int = 0) -> StepGaps:
    """Usage: step_gaps((0, 10, 10, 30), 10) -> StepGaps(missing=(20,), duplicates=(10,), off_stride=(), ordered=False)."""
    steps = list(steps)
    if not steps:
        return StepGaps((), (), (), True)
    counts: dict[int, int] = {}
    for s in steps:
        counts[s] = counts.get(s, 0) + 1
    missing = tuple(s for s in range(start, max(steps) + 1, stride) if s not in counts)
    duplicates = tuple(s for s, c in counts.items() if c > 1)
    off = tuple(sorted(s for s in counts if (s - start) % stride))
    return StepGaps(missing, duplicates, off, all(b > a for a, b in zip(steps, steps[1:])))


def files_with_nul(folder) -> list[str]:
    """Usage: files_with_nul("run") -> names (relative to the folder) of the files holding a NUL byte."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    if b"\0" in chunk:
                        found.append(str(path.relative_to(folder)))
                        break
    return found


__all__ = ["FrameScan", "StepGaps", "extras_block_steps", "files_with_nul", "step_gaps", "xyz_frame_steps"]
