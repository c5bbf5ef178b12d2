"""The space group of a crystal at several tolerances (spglib), and how far it is from its symmetrized self.

    scan = space_group_scan(structure)                # SpaceGroupScan over TOLERANCES (1e-1 .. 1e-5 A)
    scan.symbols                                       # ("R-3 (148)", "R-3 (148)", "P1 (1)", ...)
    scan.lost_at(148)                                  # the largest tolerance at which group 148 is no longer found
    scan.rms_displacement                              # A: from the structure symmetrized to its loosest group

A relaxation with an exactly invariant potential keeps the space group of the
crystal it starts from (its forces and stress have the crystal's symmetry);
a potential that is not invariant may lower it, by displacements as small as
its symmetry error. The tolerance at which the group is lost measures how far
(spglib's ``symprec``, a distance in A).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from ..core.structure import Structure, minimum_image

#: spglib tolerances (A), loosest first
TOLERANCES = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)


@dataclass(frozen=True)
class SpaceGroupScan:
    """The space group found at each tolerance, and the RMS displacement from the symmetrized structure."""

    tolerances: tuple[float, ...]
    numbers: tuple[int, ...]
    symbols: tuple[str, ...]
    #: A: RMS distance of the atoms from the structure symmetrized at the loosest tolerance (its group there)
    rms_displacement: float

    @property
    def rms_from_symmetry(self) -> float | None:
        """``rms_displacement``, or None where even the loosest tolerance finds no symmetry (P1: nothing to measure)."""
        return None if self.numbers[0] == 1 else self.rms_displacement

    def lost_at(self, number: int) -> float | None:
        """The largest tolerance at which space group ``number`` is not found (None: found at every tolerance)."""
        return next((t for t, n in zip(self.tolerances, self.numbers) if n != number), None)


def _spglib():
    try:
        import spglib
    except ImportError as err:
        raise InputError(f"space groups need spglib ({err}): pip install -c constraints.txt 'symbreak[ice]'") from None
    return spglib


@contextmanager
def _quiet_spglib():
    """spglib 2.x warns (DeprecationWarning) on calls while its module-wide old error handling is on; the None it
    returns is what we handle, and its global switch is the user's to set."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Set OLD_ERROR_HANDLING", category=DeprecationWarning)
        yield


def space_group(structure: Structure, tolerance: float) -> tuple[int, str]:
    """Usage: space_group(crystal, 1e-3) -> (148, "R-3 (148)"): the space group spglib finds at that tolerance (A)."""
    if structure.cell is None:
        raise InputError("a space group needs a periodic structure (a cell)")
    spglib = _spglib()
    cell = (structure.cell, structure.positions @ np.linalg.inv(structure.cell), structure.numbers)
    with _quiet_spglib():
        dataset = spglib.get_symmetry_dataset(cell, symprec=tolerance)
    if dataset is None:
        return 1, "P1 (1)"
    return int(dataset.number), f"{dataset.international} ({int(dataset.number)})"


def symmetrized(structure: Structure, tolerance: float) -> Structure:
    """Usage: symmetrized(crystal, 1e-2) -> the crystal with its atoms moved onto the symmetry it has at that tolerance.

    The cell is kept: each atom goes to the average of its images under the
    group's operations (fractional coordinates, the crystal's own cell).
    """
    spglib = _spglib()
    frac = structure.positions @ np.linalg.inv(structure.cell)
    with _quiet_spglib():
        symmetry = spglib.get_symmetry((structure.cell, frac, structure.numbers), symprec=tolerance)
    if symmetry is None:
        return structure
    total = np.zeros_like(frac)
    for rotation, translation in zip(symmetry["rotations"], symmetry["translations"]):
        image = frac @ rotation.T + translation  # where the operation sends every atom
        # the atom j that each image lands on (same species, nearest under periodicity)
        d = image[:, None, :] - frac[None, :, :]
        d -= np.round(d)
        dist = np.linalg.norm(d @ structure.cell, axis=-1)
        dist[structure.numbers[:, None] != structure.numbers[None, :]] = np.inf
        target = np.argmin(dist, axis=1)
        # pull atom j's position back: the image of i minus its small offset from j, unwrapped next to j
        np.add.at(total, target, frac[target] + d[np.arange(len(frac)), target])
    averaged = total / len(symmetry["rotations"])
    return Structure(averaged @ structure.cell, structure.numbers, structure.cell)


def space_group_scan(structure: Structure, tolerances=TOLERANCES) -> SpaceGroupScan:
    """Usage: space_group_scan(crystal) -> SpaceGroupScan at each tolerance, loosest first."""
    found = [space_group(structure, t) for t in tolerances]
    ideal = symmetrized(structure, tolerances[0])
    shift = minimum_image(ideal.positions - structure.positions, structure.cell)
    rms = float(np.sqrt(np.mean(np.sum(shift**2, axis=1))))
    return SpaceGroupScan(tuple(tolerances), tuple(n for n, _ in found), tuple(s for _, s in found), rms)


__all__ = ["TOLERANCES", "SpaceGroupScan", "space_group", "space_group_scan", "symmetrized"]
