"""Reading i-PI's output files of a run folder into arrays (eV, Angstrom, ps, K, bar; ASE units for momenta).

    props = read_properties("runs/gas/simulation.out")   # {"step": array, "conserved": array, ...}
    frames = read_frames("runs/gas", "positions")         # list of ase.Atoms (symbreak's file names)
    frames = read_trajectory_file("runs/x/sim.pos_0.extxyz", "ase")   # any i-PI trajectory: xyz or ase (extxyz)

Properties come in symbreak's units whatever the input asked for: a column
``potential{electronvolt}`` is read as it is, a bare ``potential`` (i-PI then
writes atomic units) is converted, by the property's dimension in i-PI's own
table (energy -> eV, time -> ps, temperature -> K, length -> A, volume -> A^3,
pressure -> bar, force -> eV/A; other dimensions are left as written).
Trajectories in i-PI's ``ase`` format (extended xyz written through ASE, with
the data in a per-atom array named by the quantity and i-PI's comment in
``ipi_comment``) come back like the xyz ones: positions as positions, any
other quantity in ``atoms.arrays[quantity]`` (ASE units), ``info["step"]``.

Runs still being written are read up to their last complete row or frame:
a last line without its newline, a last (ext)xyz frame with fewer lines than it
announces, or NUL bytes that run to the end of the file (space the system
reserved but nobody wrote) are left out, and a line saying so is appended to
``notes`` when a list is given. Anything else that does not fit (a row with
a different number of columns, text that is not a number, NUL bytes in the
middle of a file) raises :class:`OutputError` naming the file and the row or
line.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..core.errors import InputError

_COLUMN = re.compile(r"#\s*column\s+(\d+)(?:\s*-\s*(\d+))?\s*-->\s*(\S+)")


class OutputError(InputError):
    """An i-PI output that is missing, empty, corrupted or not what an analysis needs."""


class MissingOutput(OutputError):
    """An i-PI output file that does not exist."""


def add_note(notes: list | None, message: str) -> None:
    if notes is not None and message not in notes:
        notes.append(message)


def strip_nul_tail(path: Path, data: bytes, notes: list | None) -> bytes:
    """``data`` less a run of NUL bytes that reaches the end; OutputError for NUL bytes before real data."""
    nul = data.find(b"\0")
    if nul < 0:
        return data
    if data[nul:].strip(b"\0"):
        line = data.count(b"\n", 0, nul) + 1
        raise OutputError(
            f"{path}: NUL bytes at line {line}, followed by more data: the file is corrupted "
            "(written by two processes at once, or truncated under a live writer); re-run the case into a new folder"
        )
    add_note(notes, f"{path.name}: ends in {len(data) - nul} NUL bytes (space never written): left out")
    return data[:nul]


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise OutputError(f"{path}: line {line} is not text (UTF-8): the file is corrupted") from None


#: symbreak's units for i-PI's property dimensions (ipi.utils.units names)
TARGET_UNITS = {"energy": "electronvolt", "time": "picosecond", "temperature": "kelvin", "length": "angstrom",
                "volume": "angstrom3", "pressure": "bar", "force": "ev/ang"}
_DIMENSIONS: dict[str, str] = {}


def _columns(header_lines: list[str]) -> list[tuple[str, str | None]]:
    """(name, unit or None) by column from i-PI's ``# column N --> name{unit}`` lines (a range N-M: M-N+1 columns)."""
    columns: dict[int, tuple[str, str | None]] = {}
    for line in header_lines:
        m = _COLUMN.match(line)
        if not m:
            continue
        first, last, name = int(m.group(1)), int(m.group(2) or m.group(1)), re.sub(r"\{.*\}", "", m.group(3))
        unit = re.search(r"\{([^}]*)\}", m.group(3))
        for c in range(first, last + 1):
            columns[c] = (name if first == last else f"{name}[{c - first}]", unit.group(1) if unit else None)
    return [columns[c] for c in sorted(columns)]


def _column_names(header_lines: list[str]) -> list[str]:
    """Names by column from i-PI's ``# column N --> name{unit}`` lines (a range N-M names M-N+1 columns)."""
    return [name for name, _ in _columns(header_lines)]


def property_dimension(name: str) -> str | None:
    """``property_dimension("pot_component_raw(1)")`` -> ``energy``: i-PI's dimension of a property, None if unknown."""
    base = name.split("(")[0].split("[")[0].strip()
    if not _DIMENSIONS:
        try:
            from ipi.engine.properties import Properties

            _DIMENSIONS.update({k: v.get("dimension", "undefined") for k, v in Properties().property_dict.items()})
        except Exception:  # an i-PI without the table: nothing is converted
            _DIMENSIONS["-"] = "undefined"
    return _DIMENSIONS.get(base)


def unit_factor(name: str, unit: str | None) -> float:
    """``unit_factor("potential", None)`` -> 27.211...: turns a column in i-PI ``unit`` (None: atomic) into symbreak's."""
    dimension = property_dimension(name)
    target = TARGET_UNITS.get(dimension or "")
    if target is None or (unit or "").lower() == target:
        return 1.0
    from ipi.utils.units import unit_to_internal, unit_to_user

    try:
        return float(unit_to_user(dimension, target, unit_to_internal(dimension, unit or "atomic_unit", 1.0)))
    except (ValueError, TypeError, KeyError, IndexError):  # a unit i-PI would not have written: left as is
        return 1.0


def read_properties(path, notes: list | None = None) -> dict[str, np.ndarray]:
    """Columns of an i-PI properties file, keyed by name without units (``conserved{electronvolt}`` -> ``conserved``).

    A last row still being written (no newline yet) is left out with a note in
    ``notes``; a complete row with another number of columns, or one that is
    not numbers, raises OutputError naming the file and the row.
    """
    path = Path(path)
    if not path.exists():
        raise MissingOutput(f"no properties file {path}: did the run write <properties filename='out'>?")
    data = strip_nul_tail(path, path.read_bytes(), notes)
    text = _decode(path, data)
    lines = text.split("\n")
    partial = lines.pop()  # "" when the file ends with a newline
    header = [line for line in lines if line.lstrip().startswith("#")]
    columns = _columns(header)
    names = [name for name, _ in columns]
    rows = [(n + 1, line) for n, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if partial.strip() and not partial.lstrip().startswith("#"):
        add_note(notes, f"{path.name}: read {len(rows)} complete rows; the last one was being written")
    if not rows:
        raise OutputError(f"properties file {path} has no data rows yet")
    if not names:
        raise OutputError(f"properties file {path} has data but no '# column N --> name' header")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = np.loadtxt([line for _, line in rows], ndmin=2)
    except ValueError:
        values = None
    if values is None or values.shape[1] != len(names):
        for k, (number, line) in enumerate(rows, start=1):
            fields = line.split()
            if len(fields) != len(names):
                raise OutputError(
                    f"{path}: row {k} (line {number}) has {len(fields)} columns, the header names {len(names)}: "
                    "the file is corrupted"
                )
            try:
                [float(v) for v in fields]
            except ValueError:
                raise OutputError(f"{path}: row {k} (line {number}) is not all numbers: {line.strip()[:60]!r}") from None
        raise OutputError(f"{path}: cannot read its rows as {len(names)} numeric columns")
    return {name: values[:, k] * unit_factor(name, unit) for k, (name, unit) in enumerate(columns)}


def complete_xyz_end(path, data: bytes) -> tuple[int, int]:
    """(bytes, frames) of the complete xyz frames at the start of ``data``.

    A frame is complete when its count line, comment and that many atom lines
    all end in a newline. A count line that is not a number before the end
    of the data raises OutputError naming the line.
    """
    newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    n_lines = len(newlines)  # complete lines only
    line, end, frames = 0, 0, 0
    while line < n_lines:
        start = 0 if line == 0 else int(newlines[line - 1]) + 1
        head = data[start:newlines[line]].strip()
        if not head:
            if data[start:].strip():
                raise OutputError(f"{path}: line {line + 1} is blank where frame {frames + 1} should start")
            break
        try:
            count = int(head)
        except ValueError:
            raise OutputError(
                f"{path}: line {line + 1} should hold the atom count of frame {frames + 1}, found "
                f"{head[:40].decode('utf-8', 'replace')!r}: the file is corrupted"
            ) from None
        if count <= 0:
            raise OutputError(f"{path}: frame {frames + 1} announces {count} atoms (line {line + 1}): the file is corrupted")
        last = line + 1 + count  # index of the frame's last line
        if last >= n_lines:
            break
        line = last + 1
        end = int(newlines[last]) + 1
        frames += 1
    return end, frames


def _complete_part(path: Path, notes: list | None) -> tuple[bytes, int, int]:
    """(data, bytes of complete frames, frames) of an (ext)xyz trajectory; OutputError if no frame is complete."""
    data = strip_nul_tail(path, path.read_bytes(), notes)
    end, count = complete_xyz_end(path, data)
    if count == 0:
        raise OutputError(f"trajectory {path} has no complete frame yet" if data.strip() else f"trajectory {path} is empty")
    if data[end:].strip():
        add_note(notes, f"{path.name}: read {count} complete frames; the last one was being written")
    return data, end, count


def read_xyz_trajectory(path, notes: list | None = None) -> list:
    """Frames of one i-PI xyz trajectory as ase.Atoms (i-PI's reader), up to the last complete frame."""
    from ipi.scripting import read_trajectory

    path = Path(path)
    data, end, count = _complete_part(path, notes)
    frames = None
    if end == len(data):  # complete when read: i-PI's reader on the file itself (it may have grown since)
        try:
            frames = read_trajectory(str(path))[:count]
        except Exception:
            frames = None
    if frames is None:  # the complete part of what was read, through a copy (i-PI's reader wants a file name)
        try:
            with tempfile.TemporaryDirectory(prefix="symbreak-partial-") as tmp:
                copy = Path(tmp) / path.name
                copy.write_bytes(data[:end])
                frames = read_trajectory(str(copy))
        except Exception as err:  # i-PI's reader raises IndexError, ValueError, KeyError, ... on bad content
            message = str(err).splitlines()[0] if str(err) else ""
            raise OutputError(
                f"{path}: i-PI's reader failed ({type(err).__name__}: {message}): the file is corrupted"
            ) from None
    if not frames:
        raise OutputError(f"trajectory {path} is empty")
    return frames


_IPI_COMMENT_QUANTITY = re.compile(r"(\w+)\{(\w+)\}")
_IPI_COMMENT_STEP = re.compile(r"Step:\s*(\d+)")


def _ase_frame(path: Path, number: int, atoms):
    """One frame of i-PI's ``ase`` output made like i-PI's xyz reader's: the quantity in arrays[quantity], the step."""
    comment = str(atoms.info.get("ipi_comment", ""))
    quantity = next((q for q, _ in _IPI_COMMENT_QUANTITY.findall(comment) if q != "cell"), "positions")
    step = _IPI_COMMENT_STEP.search(comment)
    if step:
        atoms.info["step"] = int(step.group(1))
    if quantity != "positions" and quantity not in atoms.arrays:
        results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
        if quantity not in results:  # ASE moves "forces" into a calculator; anything else should be an array
            raise OutputError(f"{path}: frame {number} carries no '{quantity}' (its ipi_comment names it)")
        atoms.arrays[quantity] = results[quantity].copy()
    atoms.calc = None
    return atoms


def read_ase_trajectory(path, notes: list | None = None) -> list:
    """``read_ase_trajectory("sim.pos_0.extxyz")``: frames of an i-PI ``ase`` trajectory, up to the last complete one."""
    import io

    from ase.io import read

    path = Path(path)
    data, end, count = _complete_part(path, notes)
    try:
        frames = read(io.StringIO(_decode(path, data[:end])), index=":", format="extxyz")
    except Exception as err:  # ASE raises ValueError, KeyError, IndexError, ... on bad content
        message = str(err).splitlines()[0] if str(err) else ""
        raise OutputError(f"{path}: ASE's extxyz reader failed ({type(err).__name__}: {message}): "
                          "the file is corrupted") from None
    if not frames:
        raise OutputError(f"trajectory {path} is empty")
    return [_ase_frame(path, k + 1, atoms) for k, atoms in enumerate(frames)]


def read_trajectory_file(path, format: str = "xyz", notes: list | None = None) -> list:
    """``read_trajectory_file(path, "ase")``: frames of an i-PI trajectory in format xyz or ase (extxyz)."""
    path = Path(path)
    if not path.exists():
        raise MissingOutput(f"no trajectory {path}")
    if format == "xyz":
        return read_xyz_trajectory(path, notes)
    if format in ("ase", "extxyz"):
        return read_ase_trajectory(path, notes)
    raise OutputError(f"{path}: i-PI's '{format}' trajectories are not read here: write xyz or ase (extxyz)")


def read_frames(run_dir, quantity: str, bead: int = 0, prefix: str = "simulation", notes: list | None = None):
    """Frames of an i-PI trajectory (positions, momenta, forces, ...) as ase.Atoms, in ASE units.

    The file is symbreak's ``PREFIX.QUANTITY_BEAD.xyz``; for any i-PI input, take the
    path from its RunDescription (``symbreak.ipi.input_reader``) and call read_trajectory_file.
    """
    path = Path(run_dir) / f"{prefix}.{quantity}_{bead}.xyz"
    if not path.exists():
        raise MissingOutput(f"no trajectory {path}: the run must write <trajectory> {quantity} </trajectory>")
    return read_xyz_trajectory(path, notes)


def stacked(frames, array: str) -> np.ndarray:
    """(n_frames, n_atoms, 3) of ``positions`` or of an array stored on the frames (momenta, forces)."""
    if array == "positions":
        return np.stack([f.positions for f in frames])
    if array not in frames[0].arrays:
        raise OutputError(f"the frames carry no '{array}' (they have {sorted(frames[0].arrays)})")
    return np.stack([f.arrays[array] for f in frames])
