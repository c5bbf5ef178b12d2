"""Reference labels written as extended xyz: energy, forces, stress and virial of each structure.

    atoms = labelled_atoms(structure, energy, forces, virial)      # ase.Atoms with a SinglePointCalculator
    n = label_file("frames.xyz", "labelled.xyz", QTIP4PF())       # every frame, appended one by one
"""

from __future__ import annotations

import time

import numpy as np

from ..core.structure import Structure
from ..structures.io import read_structures


def labelled_atoms(structure, energy: float, forces: np.ndarray, virial: np.ndarray):
    """Usage: labelled_atoms(structure, e, f, w) -> ase.Atoms with a SinglePointCalculator attached."""
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = structure.to_atoms()
    stress = None
    if structure.cell is not None:
        stress = -0.5 * (virial + virial.T) / abs(np.linalg.det(structure.cell))
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces, stress=stress)
    atoms.info["virial"] = np.asarray(virial).ravel()
    return atoms


def label_file(input_path: str, output_path: str, potential, *, vacuum=False, every=1, progress=None) -> int:
    """Usage: label_file("in.xyz", "out.xyz", QTIP4PF()) -> number of frames written."""
    import ase.io

    frames = read_structures(input_path)[::every]
    if vacuum:
        frames = [Structure(s.positions, s.numbers, None) for s in frames]
    start = time.perf_counter()
    with open(output_path, "w") as fh:
        for k, s in enumerate(frames):
            e, f, w = potential.compute_one(s)
            ase.io.write(fh, labelled_atoms(s, e, f, w), format="extxyz")
            fh.flush()
            if progress and (k + 1 == len(frames) or (k + 1) % max(1, len(frames) // 20) == 0):
                rate = (k + 1) / (time.perf_counter() - start)
                progress(f"labelled {k + 1}/{len(frames)} frames ({rate:.1f} frames/s)")
    return len(frames)


__all__ = ["label_file", "labelled_atoms"]
