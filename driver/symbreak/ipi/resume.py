"""Making an interrupted run's outputs consistent with its checkpoint before i-PI resumes it.

    checkpoint = latest_checkpoint(out)             # the valid checkpoint with the highest step
    step = checkpoint_step(checkpoint)
    truncate_outputs(out, step)                     # drop what was written after the checkpoint
    text = with_socket_addresses(checkpoint.read_text(), {"model": ("gas-nve-model-...", None)})

i-PI appends to its outputs when it restarts, but it may have written a few
steps past its last checkpoint before it was killed; those steps are written
again after the restart. Truncating first leaves every step exactly once. A
process killed in the middle of a write leaves a partial last line or frame:
it is dropped too. Each file is rewritten atomically (a new file renamed over
the old), so a runner killed while truncating leaves the old file or the new
one, never a mix.

A checkpoint names the sockets of the attempt that wrote it; the next attempt
gets new ones (``with_socket_addresses``), so that socket files left by a
killed i-PI never block a resume.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ..core.errors import InputError
from ..core.files import write_text_atomic

_STEP_TAG = re.compile(r"<step>\s*(\d+)\s*</step>")
_FRAME_STEP = re.compile(r"Step:\s*(\d+)")

#: the checkpoints i-PI writes with symbreak's inputs: RESTART on exit (soft or at the end),
#: simulation.restart every restart_stride steps
CHECKPOINT_NAMES = ("RESTART", "simulation.restart")


def checkpoint_step(path) -> int:
    """The step an i-PI checkpoint (RESTART) resumes from."""
    m = _STEP_TAG.search(Path(path).read_text(errors="replace"))
    if not m:
        raise InputError(f"{path} is not an i-PI checkpoint: it has no <step>")
    return int(m.group(1))


def valid_checkpoint_step(path) -> int | None:
    """The step of a complete, parseable i-PI checkpoint; None if ``path`` is missing, partial or not one."""
    try:
        root = ET.fromstring(Path(path).read_text())
    except (OSError, ET.ParseError, UnicodeDecodeError):
        return None
    step = root.find("step")
    if root.tag != "simulation" or step is None or root.find("system") is None:
        return None
    try:
        return int(step.text.strip())
    except (AttributeError, ValueError):
        return None


def latest_checkpoint(out) -> Path | None:
    """The complete checkpoint of ``out`` with the highest step (a checkpoint cut by a kill is skipped)."""
    best: tuple[int, Path] | None = None
    for name in CHECKPOINT_NAMES:
        step = valid_checkpoint_step(Path(out) / name)
        if step is not None and (best is None or step > best[0]):
            best = (step, Path(out) / name)
    return None if best is None else best[1]


#: i-PI's backup of an output it found already there when it started: #NAME#N#
_BACKUP = re.compile(r"^#(?P<name>.+)#(?P<n>\d+)#$")


def prune_checkpoint_backups(out, keep: int = 2) -> list[Path]:
    """Usage: prune_checkpoint_backups("runs/liq") -> the removed paths: i-PI's #RESTART#N# backups but the newest ``keep``.

    Each i-PI start renames the checkpoints it finds to #NAME#N#, so every resume adds one
    backup per checkpoint; resuming never reads them (``latest_checkpoint`` looks at the
    checkpoints themselves), and the newest ``keep`` of each name stay for a look by hand.
    """
    backups: dict[str, list[tuple[int, Path]]] = {}
    for path in Path(out).iterdir():
        m = _BACKUP.match(path.name)
        if m and m.group("name") in CHECKPOINT_NAMES and path.is_file():
            backups.setdefault(m.group("name"), []).append((int(m.group("n")), path))
    removed = []
    for entries in backups.values():
        for _, path in sorted(entries)[: max(0, len(entries) - keep)]:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def with_socket_addresses(text: str, addresses: dict[str, tuple[str, int | None]]) -> str:
    """The checkpoint ``text`` with each <ffsocket name=N> given addresses[N] = (address, port or None).

    ValueError if the checkpoint has a socket forcefield that ``addresses`` does not name.
    """
    root = ET.fromstring(text)
    for ff in root.iter("ffsocket"):
        name = ff.get("name")
        if name not in addresses:
            raise InputError(f"the checkpoint has a socket forcefield '{name}' that this run does not have")
        address, port = addresses[name]
        node = ff.find("address")
        if node is None:
            node = ET.SubElement(ff, "address")
        node.text = address
        if port is not None:
            node = ff.find("port")
            if node is None:
                node = ET.SubElement(ff, "port")
            node.text = str(port)
    return ET.tostring(root, encoding="unicode") + "\n"


def _complete_lines(path: Path) -> list[str]:
    """The lines of ``path``, without a last line cut short (no newline) by a killed writer."""
    lines = path.read_text(errors="replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()
    return lines


def _replace(path: Path, lines: list[str]) -> None:
    try:
        write_text_atomic(path, "".join(lines), sync=True)
    except OSError as err:  # e.g. a full disk: the old file stays as it was
        raise OSError(err.errno, err.strerror, str(path)) from None


def truncate_properties(path: Path, step: int) -> int:
    """Keep comment lines and rows whose first column (the step) is at most ``step``; return rows dropped.

    A row that is cut short (fewer columns than the first complete row) or unreadable at the end is dropped.
    """
    lines = _complete_lines(path)
    kept, dropped, width = [], 0, None
    for line in lines:
        if line.startswith("#") or not line.strip():
            kept.append(line)
            continue
        fields = line.split()
        try:
            value = float(fields[0])
        except ValueError:
            value = None
        if width is None and value is not None:
            width = len(fields)
        if value is not None and value <= step and len(fields) == width:
            kept.append(line)
        else:
            dropped += 1
    _replace(path, kept)
    return dropped


def truncate_frames(path: Path, step: int) -> int:
    """Keep frames (xyz or extras blocks, each announced by a header with 'Step: N') with N <= step.

    The last frame is dropped if a kill cut it short (an xyz frame with fewer atom lines than it announces).
    """
    text = _complete_lines(path)
    starts = [k for k, line in enumerate(text) if _FRAME_STEP.search(line)]
    if not starts:
        _replace(path, text)
        return 0
    is_xyz = starts[0] == 1 and text[0].strip().isdigit()
    # an xyz frame starts one line before its comment (the atom count)
    starts = [k - 1 for k in starts] if is_xyz else starts
    blocks = [(s, e) for s, e in zip(starts, starts[1:] + [len(text)])]
    kept = text[: blocks[0][0]]
    dropped = 0
    for s, e in blocks:
        header = text[s + 1] if is_xyz else text[s]
        complete = e - s == int(text[s].strip()) + 2 if is_xyz and text[s].strip().isdigit() else e - s > 1
        if int(_FRAME_STEP.search(header).group(1)) <= step and complete:
            kept.extend(text[s:e])
        else:
            dropped += 1
    _replace(path, kept)
    return dropped


def truncate_outputs(out, step: int, prefix: str = "simulation") -> dict[str, int]:
    """Truncate every i-PI output of ``prefix`` in ``out`` to the steps up to the checkpoint ``step``."""
    dropped = {}
    for path in sorted(Path(out).glob(f"{prefix}.*")):
        if path.suffix == ".restart" or not path.is_file():
            continue
        if path.name == f"{prefix}.out":
            dropped[path.name] = truncate_properties(path, step)
        else:
            dropped[path.name] = truncate_frames(path, step)
    return dropped
