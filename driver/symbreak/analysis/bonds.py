"""O-H bond lengths of water: every bond of every frame, and their distribution with block errors.

    r = oh_bond_lengths(positions, numbers, cells)          # (T, 2M) A, minimum image
    d = bond_length_distribution(r, r_min=0.8, r_max=1.2, n_bins=40, n_blocks=5)
    d.r, d.density, d.density_error                         # bin centres, P(r) in 1/A (integrates to 1)

The bond length is a local, rotation-invariant property: a model whose broken
symmetry bends or stretches molecules shifts it, and path integrals broaden
it (zero-point motion), so it is compared between runs of one case like any
other observable. Molecules are consecutive O, H, H triplets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from .blocks import block_apply
from .molecules import oh_vectors


def oh_bond_lengths(positions, numbers, cells=None) -> np.ndarray:
    """``oh_bond_lengths(positions, numbers, cells)``: (T, 2M) O-H distances per frame (A; minimum image)."""
    oh = oh_vectors(positions, numbers, cells)
    return np.linalg.norm(oh, axis=-1).reshape(len(oh), -1)


@dataclass(frozen=True, eq=False)
class BondLengthDistribution:
    """P(r) on bin centres (1/A), with block errors when asked for (None otherwise)."""

    r: np.ndarray
    density: np.ndarray
    density_error: np.ndarray | None = None


def bond_length_distribution(lengths, r_min: float = 0.8, r_max: float = 1.2, n_bins: int = 40,
                             n_blocks: int | None = None) -> BondLengthDistribution:
    """``bond_length_distribution(r, 0.8, 1.2, 40, n_blocks=5)``: histogram density of (T, K) lengths per block.

    Lengths outside [r_min, r_max) still count in the normalisation, so the
    density integrates to the fraction inside the range.
    """
    lengths = np.asarray(lengths, dtype=float)
    if lengths.ndim != 2 or lengths.size == 0:
        raise InputError(f"lengths must be (T, K) bond lengths per frame, got shape {lengths.shape}")
    if not r_max > r_min or n_bins < 1:
        raise InputError(f"need r_min < r_max and n_bins >= 1, got {r_min}, {r_max}, {n_bins}")
    edges = np.linspace(r_min, r_max, n_bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])

    def density(block):
        counts, _ = np.histogram(block, bins=edges)
        return counts / (block.size * np.diff(edges))

    if n_blocks is None:
        return BondLengthDistribution(centres, density(lengths))
    mean, error, _ = block_apply(density, lengths, n_blocks=n_blocks)
    return BondLengthDistribution(centres, mean, error)


__all__ = ["BondLengthDistribution", "bond_length_distribution", "oh_bond_lengths"]
