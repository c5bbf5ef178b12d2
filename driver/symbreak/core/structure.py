"""What every layer shares: a structure and the energies, forces and virials of a batch of them.

    from symbreak.core import Structure, Evaluation
    s = Structure(positions, numbers, cell)      # Angstrom; cell rows or None (isolated)

Conventions (eV and Angstrom throughout):
- ``Structure.cell`` holds lattice vectors as *rows* (ASE convention); ``None``
  means an isolated system (no periodic images).
- positions may be wrapped or unwrapped: potentials apply the minimum image.
- the virial is W = -dE/d(strain), W_ab = sum_i F_i,a r_i,b for a finite system;
  it is not assumed symmetric (a non-invariant model has an antisymmetric part).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .errors import InputError


def minimum_image(vectors: np.ndarray, cell: np.ndarray | None) -> np.ndarray:
    """``minimum_image(d, cell)``: vectors (..., 3) moved to the image with fractional parts in [-1/2, 1/2].

    That is the shortest image for any vector shorter than half the smallest
    perpendicular width of the cell, whatever its shape. ``cell`` None: unchanged.
    """
    if cell is None:
        return np.asarray(vectors)
    frac = np.asarray(vectors) @ np.linalg.inv(cell)
    return (frac - np.round(frac)) @ cell


@dataclass(frozen=True)
class Structure:
    """Positions (n, 3) in Angstrom, atomic numbers (n,), cell rows (3, 3) or None."""

    positions: np.ndarray
    numbers: np.ndarray
    cell: np.ndarray | None = None

    def __post_init__(self):
        pos = np.asarray(self.positions, dtype=np.float64)
        num = np.asarray(self.numbers, dtype=np.int64)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise InputError(f"positions must have shape (n, 3), got {pos.shape}")
        if num.shape != (pos.shape[0],):
            raise InputError(
                f"numbers must have shape ({pos.shape[0]},) to match positions, got {num.shape}"
            )
        object.__setattr__(self, "positions", pos)
        object.__setattr__(self, "numbers", num)
        if self.cell is not None:
            cell = np.asarray(self.cell, dtype=np.float64)
            if cell.shape != (3, 3):
                raise InputError(f"cell must have shape (3, 3) or be None, got {cell.shape}")
            object.__setattr__(self, "cell", cell)

    @property
    def n_atoms(self) -> int:
        return len(self.numbers)

    @property
    def periodic(self) -> bool:
        return self.cell is not None

    def rotated(self, rotation: np.ndarray) -> "Structure":
        """The structure with every position and cell vector mapped r -> R r."""
        rot = np.asarray(rotation)
        cell = None if self.cell is None else self.cell @ rot.T
        return Structure(self.positions @ rot.T, self.numbers, cell)

    @classmethod
    def from_atoms(cls, atoms) -> "Structure":
        """From ase.Atoms: periodic when any pbc flag is set and the cell is non-zero."""
        cell = np.array(atoms.cell) if atoms.pbc.any() and atoms.cell.rank == 3 else None
        return cls(atoms.positions.copy(), atoms.numbers.copy(), cell)

    def to_atoms(self):
        from ase import Atoms

        if self.cell is None:
            return Atoms(numbers=self.numbers, positions=self.positions)
        return Atoms(numbers=self.numbers, positions=self.positions, cell=self.cell, pbc=True)


@dataclass
class Evaluation:
    """Results for a batch: energies (B,), forces [(n_b, 3)], virials (B, 3, 3). eV, eV/A."""

    energies: np.ndarray
    forces: list[np.ndarray]
    virials: np.ndarray
    extras: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.energies)

    @classmethod
    def concatenate(cls, parts: Sequence["Evaluation"]) -> "Evaluation":
        extras = [x for p in parts for x in (p.extras or [{}] * len(p))]
        return cls(
            np.concatenate([p.energies for p in parts]),
            [f for p in parts for f in p.forces],
            np.concatenate([p.virials for p in parts]),
            extras,
        )


def split_batch(structures: Sequence[Structure], max_structures: int | None, max_atoms: int | None) -> list[list[Structure]]:
    """Consecutive chunks of at most ``max_structures`` structures and ``max_atoms`` atoms (None: no limit).

    A single structure larger than ``max_atoms`` forms a chunk of its own.
    """
    chunks: list[list[Structure]] = []
    current: list[Structure] = []
    atoms = 0
    for s in structures:
        full = (max_structures and len(current) >= max_structures) or (max_atoms and atoms + s.n_atoms > max_atoms)
        if current and full:
            chunks.append(current)
            current, atoms = [], 0
        current.append(s)
        atoms += s.n_atoms
    if current:
        chunks.append(current)
    return chunks


__all__ = ["Evaluation", "Structure", "minimum_image", "split_batch"]
