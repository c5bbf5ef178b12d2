"""Reading and writing water structures: i-PI xyz (with its CELL comment) and extxyz.

    from symbreak.structures.io import read_structures, write_ipi_xyz
    frames = read_structures("init.xyz")          # i-PI xyz or any ASE-readable file
    write_ipi_xyz("init.xyz", structure)          # positions{angstrom} cell{angstrom}

i-PI's xyz reader turns ``# CELL(abcABC): a b c alpha beta gamma`` into an
upper-triangular h (a along x, b in the xy plane) *without* moving the atoms,
so :func:`write_ipi_xyz` rotates the structure into that frame first. Molecules
are written whole (each H at the minimum image of its O).
"""

from __future__ import annotations

import os
import re

import numpy as np

from ..potentials.base import Structure, minimum_image

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


def _read_ipi_xyz(path: str) -> list[Structure]:
    from ase.data import atomic_numbers
    from ase.units import Bohr

    frames = []
    with open(path) as fh:
        while True:
            head = fh.readline()
            if not head.strip():
                break
            n = int(head)
            comment = fh.readline()
            lines = [fh.readline().split() for _ in range(n)]
            numbers = np.array([atomic_numbers[line[0].capitalize()] for line in lines])
            pos = np.array([[float(v) for v in line[1:4]] for line in lines])
            units = _UNITS.search(comment)
            cell_units = _CELL_UNITS.search(comment)
            pos_scale = Bohr if units is None or units.group(1).startswith("atomic") else 1.0
            cell_scale = Bohr if cell_units is None or cell_units.group(1).startswith("atomic") else 1.0
            m = _CELL_ABC.search(comment)
            if m:
                cell = abc_to_rows(*[float(v) for v in m.group(1).split()[:6]]) * cell_scale
            else:
                cell = np.array([float(v) for v in _CELL_H.search(comment).group(1).split()[:9]]).reshape(3, 3).T
                cell = cell * cell_scale
            frames.append(Structure(pos * pos_scale, numbers, cell))
    return frames


def read_structures(path: str, index=":") -> list[Structure]:
    """Usage: read_structures("in.xyz") -> list of Structure (i-PI xyz or anything ASE reads).

    i-PI xyz files are recognised by their ``CELL(abcABC)``/``CELL(H)`` comment;
    their units come from ``positions{...}``/``cell{...}`` (atomic units if absent).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no such structure file: {path}")
    with open(path) as fh:
        fh.readline()
        comment = fh.readline()
    if _CELL_ABC.search(comment) or _CELL_H.search(comment):
        return _read_ipi_xyz(path)
    import ase.io

    return [Structure.from_atoms(a) for a in ase.io.read(path, index=index)]


__all__ = [
    "VACUUM_BOX",
    "abc_to_rows",
    "rows_to_abc",
    "whole_molecules",
    "standard_frame",
    "write_ipi_xyz",
    "read_structures",
]
