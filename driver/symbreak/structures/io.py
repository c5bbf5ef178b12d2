"""Reading and writing water structures: i-PI xyz (with its CELL comment) and extxyz.

    from symbreak.structures.io import read_structures, write_ipi_xyz
    frames = read_structures("init.xyz")          # i-PI xyz or any ASE-readable file
    write_ipi_xyz("init.xyz", structure)          # positions{angstrom} cell{angstrom}

i-PI's xyz reader turns ``# CELL(abcABC): a b c alpha beta gamma`` into an
upper-triangular h (a along x, b in the xy plane) *without* moving the atoms,
so :func:`write_ipi_xyz` rotates the structure into that frame first. Molecules
are written whole (each H at the minimum image of its O).

:func:`read_structures` turns every problem with a file into one ValueError
line naming it (FileNotFoundError when it is missing): empty, truncated frame
("init.xyz: frame 3 is truncated (expected 192 atom lines, found 57)"),
non-numeric coordinates, NUL bytes, a format ASE cannot identify. It then
checks water frames for Angstrom with :func:`check_water_units` (median O-H
distance in [0.8, 1.3] A), which catches positions in Bohr or nm under an
Angstrom label; pass ``check_units=False`` to read them anyway.
"""

from __future__ import annotations

import io
import os
import re

import numpy as np

from ..core.errors import InputError, MissingFileError
from ..core.structure import Structure, minimum_image

#: i-PI needs a cell even for a molecule in vacuum: a box this wide (A) is used for them
VACUUM_BOX = 100.0

_CELL_ABC = re.compile(r"CELL[\(\[\{]abcABC[\)\]\}]:\s*([-+0-9.Ee\s]+)")
_CELL_H = re.compile(r"CELL[\(\[\{]H[\)\]\}]:\s*([-+0-9.Ee\s]+)")
_UNITS = re.compile(r"(?:positions|x_centroid|x)\{([A-Za-z_]+)\}")
_CELL_UNITS = re.compile(r"cell\{([A-Za-z_]+)\}")


def abc_to_rows(a, b, c, alpha, beta, gamma) -> np.ndarray:
    """Usage: abc_to_rows(a, b, c, alpha, beta, gamma) -> (3, 3) cell rows, a along x (degrees in)."""
    al, be, ga = np.deg2rad([alpha, beta, gamma])
    cx = c * np.cos(be)
    cy = c * (np.cos(al) - np.cos(be) * np.cos(ga)) / np.sin(ga)
    cz = np.sqrt(max(c * c - cx * cx - cy * cy, 0.0))
    return np.array([[a, 0.0, 0.0], [b * np.cos(ga), b * np.sin(ga), 0.0], [cx, cy, cz]])


def rows_to_abc(cell: np.ndarray) -> tuple[float, ...]:
    """Usage: rows_to_abc(cell_rows) -> (a, b, c, alpha, beta, gamma) in A and degrees."""
    lengths = np.linalg.norm(cell, axis=1)

    def angle(i, j):
        return np.degrees(np.arccos(np.clip(cell[i] @ cell[j] / (lengths[i] * lengths[j]), -1, 1)))

    return (*lengths, angle(1, 2), angle(0, 2), angle(0, 1))


def whole_molecules(positions: np.ndarray, cell: np.ndarray | None) -> np.ndarray:
    """Usage: whole_molecules(pos, cell) -> O wrapped into the cell, each H at the minimum image of its O."""
    if cell is None:
        return np.array(positions)
    inv = np.linalg.inv(cell)
    mol = np.array(positions).reshape(-1, 3, 3)
    frac_o = mol[:, 0] @ inv
    o = (frac_o - np.floor(frac_o)) @ cell
    d = minimum_image(mol[:, 1:] - mol[:, :1], cell)
    return np.concatenate([o[:, None], o[:, None] + d], axis=1).reshape(-1, 3)


def standard_frame(structure: Structure) -> Structure:
    """Usage: standard_frame(s) -> the same structure rotated so that its cell rows are lower triangular."""
    if structure.cell is None:
        return structure
    cell = np.array(structure.cell)
    if np.linalg.det(cell) < 0:  # same lattice, right-handed basis: abcABC cannot say left-handed
        cell[2] = -cell[2]
    q, r = np.linalg.qr(cell.T)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q = q * signs
    pos = structure.positions @ q
    cell = np.tril(r.T * signs)
    return Structure(pos, structure.numbers, cell)


def write_ipi_xyz(path: str, structures, *, vacuum_box: float = VACUUM_BOX, append: bool = False, whole: bool = True) -> None:
    """Usage: write_ipi_xyz("init.xyz", structure_or_list). i-PI-ready xyz in Angstrom.

    Isolated structures (``cell is None``) get a cubic ``vacuum_box`` cell,
    with the molecule(s) centred in it.
    """
    from ase.data import chemical_symbols

    if isinstance(structures, Structure):
        structures = [structures]
    with open(path, "a" if append else "w") as fh:
        for s in structures:
            if s.cell is None:
                cell = np.eye(3) * vacuum_box
                pos = s.positions - s.positions.mean(axis=0) + vacuum_box / 2
            else:
                s = standard_frame(s)
                cell = s.cell
                pos = whole_molecules(s.positions, cell) if whole and len(s.numbers) % 3 == 0 else s.positions
            a, b, c, al, be, ga = rows_to_abc(cell)
            fh.write(f"{len(s.numbers)}\n")
            fh.write(
                f"# CELL(abcABC): {a:.10f} {b:.10f} {c:.10f} {al:.10f} {be:.10f} {ga:.10f} "
                "cell{angstrom} positions{angstrom}\n"
            )
            for z, (x, y, w) in zip(s.numbers, pos):
                fh.write(f"{chemical_symbols[z]:>2s} {x:20.12f} {y:20.12f} {w:20.12f}\n")


#: median O-H distances (A) outside this range are not water written in Angstrom (see check_water_units)
OH_PLAUSIBLE = (0.8, 1.3)
#: at most this many frames, and hydrogens per frame, enter the unit check (it must stay cheap)
_CHECK_FRAMES, _CHECK_HYDROGENS = 10, 256


def _read_text(path: str) -> str:
    with open(path, "rb") as fh:
        data = fh.read()
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(f"{path}: NUL bytes at line {line}: the file is corrupted (cut or overwritten while written)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError(f"{path}: line {line} is not text (UTF-8): not an xyz file") from None


def _xyz_blocks(path: str, text: str) -> list[tuple[int, str, list[list[str]]]]:
    """Split an xyz text into frames: (line number of the count line, comment, split atom lines).

    ValueError naming the file, the frame and what is wrong for a count line
    that is not a positive integer, a frame with fewer atom lines than it
    announces (truncated) or an atom line with fewer than 4 fields.
    """
    lines = text.splitlines()
    frames = []
    i = 0
    while i < len(lines) and not lines[i].strip():  # blank lines before the first frame
        i += 1
    while i < len(lines):
        head = lines[i].strip()
        k = len(frames) + 1
        if not head:
            if not any(line.strip() for line in lines[i:]):
                break  # trailing blank lines
            raise InputError(f"{path}: line {i + 1} is blank where frame {k} should start with its atom count")
        try:
            n = int(head)
        except ValueError:
            what = "the atom count" if k == 1 else f"the atom count of frame {k}"
            raise InputError(f"{path}: line {i + 1} should hold {what}, found {head[:40]!r}") from None
        if n <= 0:
            raise InputError(f"{path}: frame {k} announces {n} atoms (line {i + 1})")
        atoms = [line.split() for line in lines[i + 2:i + 2 + n]]
        short = [j for j, fields in enumerate(atoms) if len(fields) < 4]
        if short:
            j = short[0]
            number, line = i + 3 + j, lines[i + 2 + j].strip()
            if line.isdigit():
                raise InputError(f"{path}: frame {k} is truncated (expected {n} atom lines, found {j}; "
                                 f"line {number} starts the next frame)")
            if number == len(lines):
                raise InputError(f"{path}: frame {k} is truncated (expected {n} atom lines, found {j} "
                                 "and a cut one at the end of the file)")
            raise InputError(f"{path}: line {number} (frame {k}) is not an atom line (element and x y z): {line[:60]!r}")
        if len(atoms) < n:
            raise InputError(f"{path}: frame {k} is truncated (expected {n} atom lines, found {len(atoms)})")
        frames.append((i + 1, lines[i + 1] if i + 1 < len(lines) else "", atoms))
        i += 2 + n
    return frames


def _atom_lines(path: str, first_line: int, atoms: list[list[str]]) -> tuple[list[str], np.ndarray]:
    """Element symbols and (n, 3) coordinates of one frame's split atom lines; ValueError naming a bad line."""
    try:
        pos = np.array([fields[1:4] for fields in atoms], dtype=float)
    except ValueError:
        for j, fields in enumerate(atoms):
            try:
                [float(v) for v in fields[1:4]]
            except ValueError:
                raise InputError(
                    f"{path}: line {first_line + j}: non-numeric coordinates {' '.join(fields[1:4])!r}"
                ) from None
        raise
    return [fields[0] for fields in atoms], pos


def _read_ipi_xyz(path: str, blocks: list | None = None) -> list[Structure]:
    from ase.data import atomic_numbers
    from ase.units import Bohr

    blocks = _xyz_blocks(path, _read_text(path)) if blocks is None else blocks
    frames = []
    for k, (line, comment, atoms) in enumerate(blocks, start=1):
        symbols, pos = _atom_lines(path, line + 2, atoms)
        try:
            numbers = np.array([atomic_numbers[s.capitalize()] for s in symbols])
        except KeyError as err:
            raise InputError(f"{path}: frame {k}: unknown element {err.args[0]!r}") from None
        units = _UNITS.search(comment)
        cell_units = _CELL_UNITS.search(comment)
        pos_scale = Bohr if units is None or units.group(1).startswith("atomic") else 1.0
        cell_scale = Bohr if cell_units is None or cell_units.group(1).startswith("atomic") else 1.0
        m_abc, m_h = _CELL_ABC.search(comment), _CELL_H.search(comment)
        values = (m_abc or m_h).group(1).split() if (m_abc or m_h) else []
        need = 6 if m_abc else 9
        try:
            values = [float(v) for v in values[:need]]
        except ValueError:
            values = []
        if len(values) < need:
            raise InputError(f"{path}: frame {k} (line {line + 1}): no complete CELL(abcABC) or CELL(H) in its comment")
        if m_abc:
            cell = abc_to_rows(*values) * cell_scale
        else:
            cell = np.array(values).reshape(3, 3).T * cell_scale
        frames.append(Structure(pos * pos_scale, numbers, cell))
    return frames


def _select(path: str, frames: list, index):
    """Apply an ASE-style index (":", "-1", "::2", an int or a slice) to a list of frames."""
    if isinstance(index, str):
        from ase.io.formats import string2index

        index = string2index(index)
    if isinstance(index, slice):
        return frames[index]
    if not -len(frames) <= index < len(frames):
        raise InputError(f"{path}: no frame {index} (the file has {len(frames)})")
    return [frames[index]]


def _read_with_ase(path: str, index, xyz_text: str | None) -> list[Structure]:
    import ase.io
    from ase.io.formats import UnknownFileTypeError

    try:
        if xyz_text is None:
            atoms = ase.io.read(path, index=index)
        else:  # the text already read, without blank lines in front (ASE would stop at them)
            atoms = ase.io.read(io.StringIO(xyz_text.lstrip("\r\n \t")), index=index, format="extxyz")
    except UnknownFileTypeError as err:
        raise InputError(
            f"{path}: ASE cannot identify the file format ({err}): give an i-PI xyz, an (ext)xyz or a file "
            "with an extension ASE knows"
        ) from None
    except Exception as err:  # ASE raises many kinds for unreadable content
        if xyz_text is not None:  # name the line when it is a coordinate
            for line, _, atoms_lines in _xyz_blocks(path, xyz_text):
                _atom_lines(path, line + 2, atoms_lines)
        message = str(err).splitlines()[0] if str(err) else ""
        raise InputError(f"{path}: cannot read it ({type(err).__name__}: {message})") from None
    if not isinstance(atoms, list):
        atoms = [atoms]
    return [Structure.from_atoms(a) for a in atoms]


def check_water_units(structures, source: str = "the structure") -> float | None:
    """Usage: check_water_units(frames, "init.xyz") -> median O-H distance in A (None: not water).

    For frames made only of O and H with two H per O (water in any order),
    the distance of each H to its nearest O (minimum image) is ~0.96 A for
    water in Angstrom. A median outside :data:`OH_PLAUSIBLE` raises
    ValueError with the likely cause: ~1.8 A is Bohr read as Angstrom, ~0.1 A
    nanometres. Only a few frames and hydrogens are looked at, and only the
    median counts, so single distorted or dissociated molecules pass.
    """
    if isinstance(structures, Structure):
        structures = [structures]
    if not structures:
        return None
    picks = np.unique(np.linspace(0, len(structures) - 1, min(len(structures), _CHECK_FRAMES)).round().astype(int))
    distances = []
    for k in picks:
        s = structures[k]
        is_o, is_h = s.numbers == 8, s.numbers == 1
        n_o = int(is_o.sum())
        if n_o == 0 or int(is_h.sum()) != 2 * n_o or not np.all(is_o | is_h):
            continue
        o, h = s.positions[is_o], s.positions[is_h][:_CHECK_HYDROGENS]
        cell = s.cell
        if cell is not None and abs(np.linalg.det(cell)) < 1e-12:
            cell = None
        d = minimum_image(h[:, None, :] - o[None, :, :], cell)
        distances.append(np.sqrt(np.einsum("hoi,hoi->ho", d, d)).min(axis=1))
    if not distances:
        return None
    median = float(np.median(np.concatenate(distances)))
    low, high = OH_PLAUSIBLE
    if not low <= median <= high:
        if 1.6 <= median <= 2.1:
            why = "are the positions in Bohr? (i-PI writes positions{atomic_unit} unless told otherwise)"
        elif 0.07 <= median <= 0.14:
            why = "are the positions in nm?"
        else:
            why = "the molecules are not intact water, or the positions are not in Angstrom"
        raise InputError(f"{source}: O-H distances of {median:.2f} A (water: ~0.96 A): {why}")
    return median


def read_structures(path: str, index=":", *, check_units: bool = True) -> list[Structure]:
    """Usage: read_structures("in.xyz") -> list of Structure (i-PI xyz or anything ASE reads).

    i-PI xyz files are recognised by their ``CELL(abcABC)``/``CELL(H)`` comment;
    their units come from ``positions{...}``/``cell{...}`` (atomic units if absent).
    Any problem with the file (missing, empty, truncated frame, non-numeric
    coordinates, a format ASE cannot identify, non-finite positions) raises
    ValueError (FileNotFoundError when missing) with one line naming the file.
    With ``check_units`` water frames must pass :func:`check_water_units`
    (positions in Bohr labelled Angstrom are refused).
    """
    if os.path.isdir(path):
        raise InputError(f"{path} is a folder, not a structure file")
    if not os.path.isfile(path):
        raise MissingFileError(f"no such structure file: {path}")
    with open(path, "rb") as fh:
        start = fh.read(4096)
    if not start.strip() and os.path.getsize(path) <= len(start):
        raise InputError(f"{path}: the file is empty")
    first = start.lstrip().split(b"\n", 1)[0].strip()
    xyz_text = _read_text(path) if first.isdigit() or first.startswith(b"-") and first[1:].isdigit() else None
    if xyz_text is not None:
        blocks = _xyz_blocks(path, xyz_text)
        if not blocks:
            raise InputError(f"{path}: the file is empty")
        comment = blocks[0][1]
        if _CELL_ABC.search(comment) or _CELL_H.search(comment):
            frames = _select(path, _read_ipi_xyz(path, blocks), index)
        else:
            frames = _read_with_ase(path, index, xyz_text)
    else:
        frames = _read_with_ase(path, index, None)
    if not frames:
        raise InputError(f"{path}: no structures in the file")
    for k, s in enumerate(frames, start=1):
        if not np.all(np.isfinite(s.positions)):
            raise InputError(f"{path}: frame {k} has non-finite (NaN or inf) coordinates")
    if check_units:
        check_water_units(frames, path)
    return frames


def read_numbers(path: str) -> np.ndarray:
    """Usage: read_numbers("init.xyz") -> the atomic numbers of the first frame (one-line errors)."""
    import ase.io

    try:
        return ase.io.read(path, index=0).numbers
    except FileNotFoundError:
        raise MissingFileError(f"structure file not found: {path}") from None
    except Exception as err:  # ase raises many kinds for unreadable files
        raise InputError(f"cannot read the structure file {path}: {err}") from None

__all__ = [
    "read_numbers",
    "VACUUM_BOX",
    "abc_to_rows",
    "rows_to_abc",
    "whole_molecules",
    "standard_frame",
    "write_ipi_xyz",
    "read_structures",
    "check_water_units",
    "OH_PLAUSIBLE",
]
