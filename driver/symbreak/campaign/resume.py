"""Making an interrupted run's outputs consistent with its checkpoint before i-PI resumes it.

    step = checkpoint_step(out / "RESTART")
    truncate_outputs(out, step)        # drop what was written after the checkpoint

i-PI appends to its outputs when it restarts, but it may have written a few
steps past its last checkpoint before it was killed; those steps are written
again after the restart. Truncating first leaves every step exactly once.
"""

from __future__ import annotations

import re
from pathlib import Path

_STEP_TAG = re.compile(r"<step>\s*(\d+)\s*</step>")
_FRAME_STEP = re.compile(r"Step:\s*(\d+)")


def checkpoint_step(path) -> int:
    """The step an i-PI checkpoint (RESTART) resumes from."""
    m = _STEP_TAG.search(Path(path).read_text())
    if not m:
        raise ValueError(f"{path} is not an i-PI checkpoint: it has no <step>")
    return int(m.group(1))


def truncate_properties(path: Path, step: int) -> int:
    """Keep comment lines and rows whose first column (the step) is at most ``step``; return rows dropped."""
    lines = path.read_text().splitlines(keepends=True)
    kept, dropped = [], 0
    for line in lines:
        if line.startswith("#") or not line.strip():
            kept.append(line)
        elif float(line.split()[0]) <= step:
            kept.append(line)
        else:
            dropped += 1
    path.write_text("".join(kept))
    return dropped


def truncate_frames(path: Path, step: int) -> int:
    """Keep frames (xyz or extras blocks, each announced by a header with 'Step: N') with N <= step."""
    text = path.read_text().splitlines(keepends=True)
    starts = [k for k, line in enumerate(text) if _FRAME_STEP.search(line)]
    if not starts:
        return 0
    is_xyz = starts[0] == 1 and text[0].strip().isdigit()
    # an xyz frame starts one line before its comment (the atom count)
    starts = [k - 1 for k in starts] if is_xyz else starts
    blocks = [(s, e) for s, e in zip(starts, starts[1:] + [len(text)])]
    kept = text[: blocks[0][0]]
    dropped = 0
    for s, e in blocks:
        header = text[s + 1] if is_xyz else text[s]
        if int(_FRAME_STEP.search(header).group(1)) <= step:
            kept.extend(text[s:e])
        else:
            dropped += 1
    path.write_text("".join(kept))
    return dropped


def truncate_outputs(out, step: int, prefix: str = "simulation") -> dict[str, int]:
    """Truncate every i-PI output of ``prefix`` in ``out`` to the steps up to the checkpoint ``step``."""
    dropped = {}
    for path in sorted(Path(out).glob(f"{prefix}.*")):
        if path.suffix == ".restart":
            continue
        if path.name == f"{prefix}.out":
            dropped[path.name] = truncate_properties(path, step)
        else:
            dropped[path.name] = truncate_frames(path, step)
    return dropped
