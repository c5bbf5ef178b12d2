"""Path-integral observables from bead positions and forces: centroid-virial kinetic energy, ring-polymer size.

    k = centroid_virial_kinetic_energy(bead_positions, bead_forces, numbers, temperature=300.0, n_blocks=10)
    k.kinetic["H"], k.error["H"], k.classical      # eV per atom
    g = radius_of_gyration(bead_positions, numbers, n_blocks=10)
    g.rg["H"], g.error["H"]                         # A

Beads come first: positions and forces are (P, T, N, 3) (or (P, N, 3) for one
frame), in Angstrom and eV/Angstrom, the forces being the physical forces on
each bead (-dV/dr at that bead's position, as i-PI writes them per bead).
The centroid-virial estimator per atom is
K_cv = 3/2 kT + 1/(2P) sum_k (r_k - r_c) . (-F_k),
exactly 3/2 kT for one bead, the quantum kinetic energy as P grows. With a
cell, bead displacements use the minimum image (ring polymers may be wrapped
bead by bead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..core.errors import InputError
from .blocks import block_average, block_means
from .molecules import as_cells, minimum_image


@dataclass(frozen=True)
class KineticEnergy:
    """Centroid-virial kinetic energy per atom, by species symbol ("H", "O"), in eV per atom."""

    kinetic: Mapping[str, float]  # symbol -> mean over its atoms and the frames, eV
    error: Mapping[str, float] | None  # symbol -> block standard error over frames, eV; None without n_blocks
    blocks: Mapping[str, np.ndarray] | None  # symbol -> (n_blocks,) block means, eV; None without n_blocks
    classical: float  # 3/2 kT, eV
    n_beads: int


@dataclass(frozen=True)
class RingPolymerSize:
    """Ring-polymer radius of gyration sqrt(<1/P sum_k |r_k - r_c|^2>), by species symbol, in Angstrom."""

    rg: Mapping[str, float]  # symbol -> root of the mean squared radius over its atoms and the frames, A
    error: Mapping[str, float] | None  # symbol -> block error propagated to the root, A; None without n_blocks
    blocks: Mapping[str, np.ndarray] | None  # symbol -> (n_blocks,) root of each block's mean square, A
    n_beads: int


def _as_beads(array, name: str) -> np.ndarray:
    a = np.asarray(array, dtype=float)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4 or a.shape[-1] != 3:
        raise InputError(f"{name} must be (P, T, N, 3) with beads first (or (P, N, 3) for one frame), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or infinite values")
    return a


def _species(numbers, n_atoms: int) -> dict[str, np.ndarray]:
    from ase.data import chemical_symbols

    numbers = np.asarray(numbers)
    if numbers.shape != (n_atoms,) or not np.issubdtype(numbers.dtype, np.integer):
        raise InputError(f"numbers must be {n_atoms} integer atomic numbers (one per atom), got {numbers.dtype} {numbers.shape}")
    return {chemical_symbols[z]: np.flatnonzero(numbers == z) for z in np.unique(numbers)}


def bead_deviations(positions, cells=None) -> np.ndarray:
    """``d = bead_deviations(bead_positions, cells)``: (P, T, N, 3) r_k - r_centroid, minimum image within each ring."""
    x = _as_beads(positions, "positions")
    cells = as_cells(cells, x.shape[1])
    relative = x - x[:1]
    if cells is not None:
        relative = np.stack([minimum_image(r, cells) for r in relative])
    return relative - relative.mean(axis=0, keepdims=True)


def _per_species(values: np.ndarray, species: dict, n_blocks) -> tuple[dict, dict, dict]:
    """(T, N) per-atom values -> mean per species, block errors over frames, and the (n_blocks,) block means."""
    mean, err, blocks = {}, {}, {}
    for symbol, idx in species.items():
        series = values[:, idx].mean(axis=1)
        if n_blocks is None:
            mean[symbol] = float(series.mean())
        else:
            m, e = block_average(series, n_blocks)
            mean[symbol], err[symbol], blocks[symbol] = float(m), float(e), block_means(series, n_blocks)
    return mean, err, blocks


def centroid_virial_kinetic_energy(
    positions, forces, numbers, temperature: float, cells=None, n_blocks: int | None = None
) -> KineticEnergy:
    """``k = centroid_virial_kinetic_energy(positions, forces, numbers, temperature=300.0)``: eV per atom by species.

    Returns a :class:`KineticEnergy`: ``k.kinetic`` (symbol -> mean over atoms
    and frames), with ``n_blocks`` also ``k.error`` (block standard errors over
    frames) and ``k.blocks`` (symbol -> the block means), and ``k.classical`` =
    3/2 kT.
    """
    from ase.units import kB

    x = _as_beads(positions, "positions")
    f = _as_beads(forces, "forces")
    if f.shape != x.shape:
        raise InputError(f"forces {f.shape} and positions {x.shape} must have the same (P, T, N, 3) shape")
    if not np.isfinite(temperature) or temperature <= 0:
        raise InputError(f"temperature must be positive, in K; got {temperature}")
    species = _species(numbers, x.shape[2])
    deviations = bead_deviations(x, cells)
    virial = 0.5 * np.einsum("ptnj,ptnj->tn", deviations, -f) / x.shape[0]
    classical = 1.5 * kB * temperature
    mean, err, blocks = _per_species(classical + virial, species, n_blocks)
    blocked = n_blocks is not None
    return KineticEnergy(kinetic=mean, error=err if blocked else None, blocks=blocks if blocked else None,
                         classical=classical, n_beads=x.shape[0])


def radius_of_gyration(positions, numbers, cells=None, n_blocks: int | None = None) -> RingPolymerSize:
    """``g = radius_of_gyration(bead_positions, numbers)``: ring-polymer size sqrt(<1/P sum_k |r_k - r_c|^2>) (A).

    Returns a :class:`RingPolymerSize`: ``g.rg`` (symbol -> root of the mean
    squared radius over atoms and frames) and, with ``n_blocks``, ``g.error``
    (block error propagated to the root) and ``g.blocks`` (the root of each
    block's mean square).
    """
    x = _as_beads(positions, "positions")
    species = _species(numbers, x.shape[2])
    squared = np.mean(np.sum(bead_deviations(x, cells) ** 2, axis=-1), axis=0)
    mean, err, blocks = _per_species(squared, species, n_blocks)
    rg = {s: float(np.sqrt(v)) for s, v in mean.items()}
    if n_blocks is None:
        return RingPolymerSize(rg=rg, error=None, blocks=None, n_beads=x.shape[0])
    error = {s: float(err[s] / (2.0 * np.sqrt(mean[s]))) if mean[s] > 0 else 0.0 for s in mean}
    return RingPolymerSize(rg=rg, error=error, blocks={s: np.sqrt(np.maximum(b, 0.0)) for s, b in blocks.items()},
                           n_beads=x.shape[0])
