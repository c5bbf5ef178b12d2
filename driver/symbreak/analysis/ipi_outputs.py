"""Reading i-PI's output files of a run folder into arrays (eV, Angstrom, fs; ASE units for momenta).

    props = read_properties("runs/gas/simulation.out")   # {"step": array, "conserved": array, ...}
    frames = read_frames("runs/gas", "positions")         # list of ase.Atoms
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

_COLUMN = re.compile(r"#\s*column\s+(\d+)(?:-\s*(\d+))?\s*-->\s*(\S+)")


class OutputError(ValueError):
    """An i-PI output that is missing, empty or not what an analysis needs."""


def read_properties(path) -> dict[str, np.ndarray]:
    """Columns of an i-PI properties file, keyed by name without units (``conserved{electronvolt}`` -> ``conserved``)."""
    path = Path(path)
    if not path.exists():
        raise OutputError(f"no properties file {path}: did the run write <properties filename='out'>?")
    names = []
    with open(path) as fh:
        for line in fh:
            m = _COLUMN.match(line)
            if m:
                names.append(re.sub(r"\{.*\}", "", m.group(3)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # an empty file is reported below
        data = np.loadtxt(path, ndmin=2)
    if data.size == 0:
        raise OutputError(f"properties file {path} has no data rows yet")
    if data.shape[1] != len(names):
        raise OutputError(f"properties file {path} has {data.shape[1]} columns but {len(names)} names")
    return {name: data[:, k] for k, name in enumerate(names)}


def read_frames(run_dir, quantity: str, bead: int = 0, prefix: str = "simulation"):
    """Frames of an i-PI trajectory (positions, momenta, forces, ...) as ase.Atoms, in ASE units."""
    from ipi.scripting import read_trajectory

    path = Path(run_dir) / f"{prefix}.{quantity}_{bead}.xyz"
    if not path.exists():
        raise OutputError(f"no trajectory {path}: the run must write <trajectory> {quantity} </trajectory>")
    frames = read_trajectory(str(path))
    if not frames:
        raise OutputError(f"trajectory {path} is empty")
    return frames


def stacked(frames, array: str) -> np.ndarray:
    """(n_frames, n_atoms, 3) of ``positions`` or of an array stored on the frames (momenta, forces)."""
    if array == "positions":
        return np.stack([f.positions for f in frames])
    if array not in frames[0].arrays:
        raise OutputError(f"the frames carry no '{array}' (they have {sorted(frames[0].arrays)})")
    return np.stack([f.arrays[array] for f in frames])
