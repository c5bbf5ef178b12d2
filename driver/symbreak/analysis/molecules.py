"""Water molecules in a trajectory: validation, minimum image, dipole axes.

    n_mol = water_molecules(numbers)                    # checks O, H, H triplets
    positions = as_frames(positions)                    # (T, N, 3), a single (N, 3) frame allowed
    cells = as_cells(cells, n_frames)                   # (T, 3, 3) rows = lattice vectors, or None
    u = dipole_axes(positions, numbers, cells)          # (T, M, 3) unit vectors
    d = minimum_image(vectors, cells)                   # shortest images of (T, ..., 3) vectors

Molecules are consecutive O, H, H triplets; u = (r_H1 + r_H2)/2 - r_O,
normalised, with the minimum image inside the molecule so that wrapped and
unwrapped positions give the same u. Cells are rows of lattice vectors (ASE's
convention; i-PI's columns must be transposed), one per frame or one for all,
and None for vacuum.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError

#: an O-H distance above this (A, after the minimum image) means the triplet is not a molecule
MAX_OH_DISTANCE = 1.6


def water_molecules(numbers, n_atoms: int | None = None) -> int:
    """``n_mol = water_molecules(numbers)``: molecule count; ValueError unless numbers are O, H, H triplets."""
    numbers = np.asarray(numbers)
    if numbers.ndim != 1 or not np.issubdtype(numbers.dtype, np.integer):
        raise InputError(f"numbers must be a 1-d integer array of atomic numbers, got {numbers.dtype} {numbers.shape}")
    if n_atoms is not None and len(numbers) != n_atoms:
        raise InputError(f"numbers has {len(numbers)} atoms but positions have {n_atoms}")
    if len(numbers) == 0 or len(numbers) % 3:
        raise InputError(f"{len(numbers)} atoms is not a whole number of water molecules (O, H, H triplets)")
    bad = np.flatnonzero(numbers.reshape(-1, 3) != [8, 1, 1])
    if bad.size:
        i = bad[0]
        raise InputError(
            f"atom {i} has atomic number {numbers[i]}, expected {[8, 1, 1][i % 3]}: "
            "molecules must be consecutive O, H, H triplets"
        )
    return len(numbers) // 3


def as_frames(positions, name: str = "positions", beads: bool = False) -> np.ndarray:
    """``as_frames(positions)``: (T, N, 3) floats; one (N, 3) frame becomes T = 1; ``beads`` allows (P, T, N, 3)."""
    a = np.asarray(positions, dtype=float)
    if a.ndim == 2:
        a = a[None]
    allowed = (3, 4) if beads else (3,)
    if a.ndim not in allowed or a.shape[-1] != 3:
        expected = "(T, N, 3), (N, 3) or (P, T, N, 3) with beads first" if beads else "(T, N, 3) or (N, 3)"
        raise InputError(f"{name} must have shape {expected}, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"{name} contains NaN or infinite values")
    return a


def as_cells(cells, n_frames: int, name: str = "cells") -> np.ndarray | None:
    """``as_cells(cell, T)``: None, or (T, 3, 3) lattice vectors as rows from one (3, 3) or (T, 3, 3)."""
    if cells is None:
        return None
    c = np.asarray(cells, dtype=float)
    if c.shape == (3, 3):
        c = np.broadcast_to(c, (n_frames, 3, 3))
    if c.shape != (n_frames, 3, 3):
        raise InputError(f"{name} must be None (vacuum), (3, 3) or ({n_frames}, 3, 3) with rows as lattice vectors, got {c.shape}")
    volumes = np.abs(np.linalg.det(c))
    if not np.all(np.isfinite(c)) or np.any(volumes < 1e-6):
        raise InputError(f"{name} contains a singular or non-finite cell (volume {volumes.min():.3g} A^3)")
    return c


def perpendicular_widths(cells: np.ndarray) -> np.ndarray:
    """``perpendicular_widths(cells)``: (T, 3) distances between opposite faces of (T, 3, 3) cells."""
    reciprocal = np.linalg.inv(cells)  # columns are the reciprocal vectors b_i with a_j . b_i = delta_ij
    return 1.0 / np.linalg.norm(reciprocal, axis=1)


def minimum_image(vectors: np.ndarray, cells: np.ndarray | None) -> np.ndarray:
    """``minimum_image(d, cells)``: (T, ..., 3) vectors moved to their image with fractional parts in [-1/2, 1/2].

    That image is the shortest one whenever a vector shorter than half the
    smallest perpendicular width exists (any cell shape, triclinic included):
    such a vector has all fractional coordinates within [-1/2, 1/2].
    """
    if cells is None:
        return vectors
    shape = vectors.shape
    d = vectors.reshape(len(cells), -1, 3)
    inverse = np.linalg.inv(cells)
    frac = np.einsum("tkj,tji->tki", d, inverse)
    frac -= np.round(frac)
    return np.einsum("tki,tij->tkj", frac, cells).reshape(shape)


class BrokenMoleculesError(InputError):
    """The atoms are no longer intact O, H, H molecules (a model that dissociates water, or a wrong order)."""


def oh_vectors(positions, numbers, cells=None) -> np.ndarray:
    """``oh_vectors(positions, numbers, cells)``: (T, M, 2, 3) O->H vectors of each molecule (minimum image)."""
    positions = as_frames(positions)
    water_molecules(numbers, positions.shape[1])
    cells = as_cells(cells, len(positions))
    mol = positions.reshape(len(positions), -1, 3, 3)
    return minimum_image(mol[:, :, 1:, :] - mol[:, :, :1, :], cells)


def dipole_axes(positions, numbers, cells=None) -> np.ndarray:
    """``u = dipole_axes(positions, numbers, cells=None)``: (T, M, 3) unit vectors from O to the H midpoint."""
    oh = oh_vectors(positions, numbers, cells)
    r_oh = np.linalg.norm(oh, axis=-1)
    if np.any(r_oh > MAX_OH_DISTANCE):
        t, m, h = np.unravel_index(np.argmax(r_oh), r_oh.shape)
        raise BrokenMoleculesError(
            f"frame {t}, molecule {m}: O-H{h + 1} distance {r_oh[t, m, h]:.2f} A > {MAX_OH_DISTANCE} A "
            "(after the minimum image): atoms are not O, H, H triplets of intact molecules, or the cell is missing"
        )
    r_hh = np.linalg.norm(oh[:, :, 1] - oh[:, :, 0], axis=-1)
    if np.any(r_hh <= r_oh.max(axis=-1)):
        t, m = np.unravel_index(np.argmax(r_oh.max(axis=-1) - r_hh), r_hh.shape)
        raise InputError(
            f"frame {t}, molecule {m}: the O is not the apex of the molecule (H-H {r_hh[t, m]:.2f} A is not "
            "its longest side): positions are not in O, H, H order"
        )
    u = oh.mean(axis=2)
    norm = np.linalg.norm(u, axis=-1, keepdims=True)
    if np.any(norm < 1e-8):
        raise InputError("a molecule has its H midpoint on its O (linear H-O-H): its dipole axis is undefined")
    return u / norm
