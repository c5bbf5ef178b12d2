"""Labelled training data and the batches a training step sees: frames with energy and forces, rotated together.

    data = read_labelled("train.xyz")                      # [Labelled(structure, energy, forces, source), ...]
    baseline = fit_baseline(data, species_of(data))        # per-species energies (eV)
    batch, energies, forces, n_atoms, rotations = training_batch(items, topologies, species, dtype, rng, config)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..core.errors import InputError, MissingFileError
from ..core.structure import Structure
from ..potentials.pet.batch import Topology, collate
from ..symmetry.rotations import haar_rotations
from .config import TrainConfig

ENERGY_KEYS = ("energy", "REF_energy", "ref_energy", "Energy", "total_energy", "potential_energy")
FORCE_KEYS = ("forces", "REF_forces", "ref_forces", "force", "Forces")


@dataclass
class Labelled:
    """Labelled(structure, energy, forces): a Structure with reference energy (eV) and forces (n, 3) in eV/A.

    ``source``: the frame's ``source`` label in the extxyz (the dataset run it came from), if any.
    """

    structure: Structure
    energy: float
    forces: np.ndarray
    source: str | None = None


def _frame_energy(atoms, index: int, path) -> float:
    for key in ENERGY_KEYS:
        if key in atoms.info:
            return float(atoms.info[key])
    if atoms.calc is not None:
        try:
            return float(atoms.get_potential_energy())
        except Exception:  # a calculator without stored energy
            pass
    raise InputError(f"{path}: frame {index} has no energy (looked for info keys {', '.join(ENERGY_KEYS)} and a calculator)")


def _frame_forces(atoms, index: int, path) -> np.ndarray:
    for key in FORCE_KEYS:
        if key in atoms.arrays:
            return np.asarray(atoms.arrays[key], dtype=np.float64).copy()
    if atoms.calc is not None:
        try:
            return np.asarray(atoms.get_forces(), dtype=np.float64).copy()
        except Exception:
            pass
    raise InputError(f"{path}: frame {index} has no forces (looked for arrays {', '.join(FORCE_KEYS)} and a calculator)")


def read_labelled(path: str | os.PathLike) -> list[Labelled]:
    """data = read_labelled("train.xyz"): every frame of an extxyz (or any ase-readable) file with energy and forces."""
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"data file {path} does not exist")
    try:
        frames = ase.io.read(path, index=":")
    except Exception as err:
        raise InputError(f"cannot read {path} with ase.io.read: {err}") from None
    if not frames:
        raise InputError(f"{path} contains no structures")
    return [
        Labelled(Structure.from_atoms(atoms), _frame_energy(atoms, k, path), _frame_forces(atoms, k, path),
                 None if atoms.info.get("source") is None else str(atoms.info["source"]))
        for k, atoms in enumerate(frames)
    ]


def species_of(data: Sequence[Labelled]) -> tuple[int, ...]:
    """species_of(data) -> sorted atomic numbers present in the data."""
    return tuple(sorted(set(np.concatenate([d.structure.numbers for d in data]).tolist())))


def fit_baseline(data: Sequence[Labelled], species: Sequence[int]) -> np.ndarray:
    """baseline = fit_baseline(data, species): per-species energies (eV) fitting E ~ sum_Z n_Z e_Z by least squares.

    With collinear compositions (all water) the minimum-norm solution is taken;
    only the energy per formula unit is determined, which is all that matters.
    """
    index = {z: k for k, z in enumerate(species)}
    counts = np.zeros((len(data), len(species)))
    for row, d in enumerate(data):
        for z, c in zip(*np.unique(d.structure.numbers, return_counts=True)):
            counts[row, index[int(z)]] = c
    energies = np.array([d.energy for d in data])
    baseline, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return baseline


def force_scale(data: Sequence[Labelled]) -> float:
    """force_scale(data) -> RMS force component (eV/A), the natural energy unit of the network's output."""
    rms = float(np.sqrt(np.mean(np.concatenate([d.forces.ravel() for d in data]) ** 2)))
    return rms if rms > 1e-8 else 1.0


def make_batch(
    items: Sequence[Labelled],
    topologies: Sequence[Topology],
    species: Sequence[int],
    dtype: torch.dtype,
    rotations: np.ndarray | None = None,
):
    """batch, energies, forces, n_atoms = make_batch(items, topologies, species, dtype, rotations=None).

    With ``rotations`` (B, 3, 3), positions, cells and target forces are
    rotated together (r -> R r); the topology is unchanged by rotations.
    """
    positions, cells, forces = [], [], []
    for k, item in enumerate(items):
        s = item.structure
        rot = np.eye(3) if rotations is None else rotations[k]
        positions.append(s.positions @ rot.T)
        cells.append(None if s.cell is None else s.cell @ rot.T)
        forces.append(item.forces @ rot.T)
    batch = collate(topologies, positions, cells, species, dtype)
    energies = torch.tensor([item.energy for item in items], dtype=dtype)
    n_atoms = torch.tensor([item.structure.n_atoms for item in items], dtype=dtype)
    return batch, energies, torch.tensor(np.concatenate(forces), dtype=dtype), n_atoms


def training_batch(
    items: Sequence[Labelled],
    topologies: Sequence[Topology],
    species: Sequence[int],
    dtype: torch.dtype,
    rng: np.random.Generator,
    config: TrainConfig,
):
    """batch, energies, forces, n_atoms, rotations = training_batch(items, topologies, species, dtype, rng, config).

    One optimizer step's batch: every item ``config.rotated_copies`` times
    (copies of one item adjacent), each copy rotated by its own Haar-random
    rotation (improper with probability 1/2 when ``config.inversion``);
    ``rotations`` (B K, 3, 3) or None without augmentation. With K = 1 the
    random draws are those of plain augmentation.
    """
    copies = max(1, int(config.rotated_copies))
    items = [item for item in items for _ in range(copies)]
    topologies = [topo for topo in topologies for _ in range(copies)]
    rotations = haar_rotations(rng, len(items), improper=config.inversion) if config.augment else None
    return (*make_batch(items, topologies, species, dtype, rotations), rotations)


def on_device(device: str, batch, *tensors):
    """batch, *tensors on ``device`` (no copies when they are already there)."""
    return (batch.to(device), *(t.to(device) for t in tensors))


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A detached tensor as a float64 numpy array on the CPU."""
    return tensor.detach().cpu().numpy().astype(np.float64)


__all__ = ["ENERGY_KEYS", "FORCE_KEYS", "Labelled", "as_numpy", "fit_baseline", "force_scale", "make_batch", "on_device",
           "read_labelled", "species_of", "training_batch"]
