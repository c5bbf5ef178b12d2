"""Neighbour lists (numpy, no gradient) and edge vectors (torch, differentiable).

    i, j, shifts = neighbor_list(positions, cell, cutoff=4.0)
    vectors = edge_vectors(positions_t, cells_t, i_t, j_t, shifts_t, edge_structure_t)

The list itself is integer data: pairs (i, j) and integer cell shifts S with
r_ij = r_j - r_i + S @ cell (cell rows are lattice vectors). It is found once
with numpy (ase's linear-scaling binning), for any cell shape (rotated,
triclinic, smaller than twice the cutoff) and for wrapped or unwrapped
positions. The vectors are then computed in torch, so that energies are
differentiable with respect to positions *and* cell. A rotation or inversion
of positions and cell together leaves (i, j, S) unchanged: training reuses
one list for every augmented copy of a structure.
"""

from __future__ import annotations

import numpy as np
import torch

# Below this many atoms an isolated system uses an all-pairs search (faster than binning).
_BRUTE_FORCE_MAX_ATOMS = 256


def neighbor_list(positions: np.ndarray, cell: np.ndarray | None, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """i, j, shifts = neighbor_list(positions (n, 3), cell rows (3, 3) or None, cutoff).

    Returns every ordered pair closer than ``cutoff`` (both i->j and j->i),
    sorted by i, with integer shifts (E, 3); ``cell=None`` means no periodic
    images and all shifts are zero.
    """
    positions = np.asarray(positions, dtype=np.float64)
    n = len(positions)
    if cell is None:
        if n <= _BRUTE_FORCE_MAX_ATOMS:
            d = np.linalg.norm(positions[None, :, :] - positions[:, None, :], axis=-1)
            np.fill_diagonal(d, np.inf)
            i, j = np.nonzero(d < cutoff)
            return i.astype(np.int64), j.astype(np.int64), np.zeros((len(i), 3), dtype=np.int64)
        # an orthorhombic non-periodic box enclosing everything: ase bins it linearly
        from ase.neighborlist import primitive_neighbor_list

        lo = positions.min(axis=0)
        box = np.diag(positions.max(axis=0) - lo + 2.0 * cutoff)
        i, j = primitive_neighbor_list("ij", [False] * 3, box, positions - lo + cutoff, cutoff)
        return i.astype(np.int64), j.astype(np.int64), np.zeros((len(i), 3), dtype=np.int64)

    from ase.neighborlist import primitive_neighbor_list

    cell = np.asarray(cell, dtype=np.float64)
    i, j, shifts = primitive_neighbor_list("ijS", [True] * 3, cell, positions, cutoff)
    return i.astype(np.int64), j.astype(np.int64), shifts.astype(np.int64)


def reverse_edges(i: np.ndarray, j: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """rev = reverse_edges(i, j, shifts): index of edge (j, i, -S) for every edge (i, j, S).

    Needed for PET's message passing (edge i->j feeds edge j->i). Raises if a
    reverse edge is missing, which would mean the list is not symmetric.
    """
    if len(i) == 0:
        return np.zeros(0, dtype=np.int64)
    span = int(np.abs(shifts).max()) if len(shifts) else 0
    base = 2 * span + 1
    n = int(max(i.max(), j.max())) + 1

    def key(a, b, s):
        code = ((s[:, 0] + span) * base + (s[:, 1] + span)) * base + (s[:, 2] + span)
        return (a * n + b) * base**3 + code

    forward = key(i, j, shifts)
    order = np.argsort(forward, kind="stable")
    backward = key(j, i, -shifts)
    pos = np.searchsorted(forward[order], backward)
    pos = np.minimum(pos, len(order) - 1)
    rev = order[pos]
    if not np.array_equal(forward[rev], backward):
        raise RuntimeError("neighbour list is not symmetric: some edge has no reverse edge")
    return rev


def edge_vectors(
    positions: torch.Tensor,
    cells: torch.Tensor,
    i: torch.Tensor,
    j: torch.Tensor,
    shifts: torch.Tensor,
    edge_structure: torch.Tensor,
) -> torch.Tensor:
    """vectors (E, 3) = r_j - r_i + S @ cell[structure of edge], differentiable in positions and cells.

    ``cells`` is (B, 3, 3) with rows as lattice vectors (zeros for isolated
    structures, whose shifts are zero); ``shifts`` has the positions' dtype.
    """
    offsets = torch.einsum("ea,eab->eb", shifts, cells[edge_structure])
    return positions[j] - positions[i] + offsets
