"""Neighbour lists (numpy, no gradient) and edge vectors (torch, differentiable).

    i, j, shifts = neighbor_list(positions, cell, cutoff=4.0)
    vectors = edge_vectors(positions_t, cells_t, i_t, j_t, shifts_t, edge_structure_t)

The list itself is integer data: pairs (i, j) and integer cell shifts S with
r_ij = r_j - r_i + S @ cell (cell rows are lattice vectors). It is found once
with numpy and scipy's k-d tree (linear scaling), for any cell shape (rotated,
triclinic, smaller than twice the cutoff) and for wrapped or unwrapped
positions. The vectors are then computed in torch, so that energies are
differentiable with respect to positions *and* cell. A rotation or inversion
of positions and cell together leaves (i, j, S) unchanged: training reuses
one list for every augmented copy of a structure.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.spatial import cKDTree

from ...core.errors import InputError

# Below this many atoms an isolated system uses an all-pairs search (faster than a tree).
_BRUTE_FORCE_MAX_ATOMS = 64


def neighbor_list(positions: np.ndarray, cell: np.ndarray | None, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """i, j, shifts = neighbor_list(positions (n, 3), cell rows (3, 3) or None, cutoff).

    Returns every ordered pair closer than ``cutoff`` (both i->j and j->i),
    sorted by i, with integer shifts (E, 3); ``cell=None`` means no periodic
    images and all shifts are zero. Periodic cells: positions are wrapped,
    the images within ``cutoff`` of the cell are added as ghosts, and a k-d
    tree finds the pairs (linear scaling, any cell shape, cells smaller than
    the cutoff included).
    """
    positions = np.asarray(positions, dtype=np.float64)
    n = len(positions)
    if cell is None:
        if n <= _BRUTE_FORCE_MAX_ATOMS:
            d = np.linalg.norm(positions[None, :, :] - positions[:, None, :], axis=-1)
            np.fill_diagonal(d, np.inf)
            i, j = np.nonzero(d < cutoff)
        else:
            pairs = cKDTree(positions).query_pairs(cutoff, output_type="ndarray")
            i = np.concatenate([pairs[:, 0], pairs[:, 1]])
            j = np.concatenate([pairs[:, 1], pairs[:, 0]])
        return _sorted(i.astype(np.int64), j.astype(np.int64), np.zeros((len(i), 3), dtype=np.int64))
    return _periodic_neighbor_list(positions, np.asarray(cell, dtype=np.float64), cutoff)


def _sorted(i, j, shifts):
    order = np.lexsort((j, i))
    return i[order], j[order], shifts[order]


def _periodic_neighbor_list(positions, cell, cutoff):
    if abs(np.linalg.det(cell)) < 1e-9:
        raise InputError("the cell is singular (zero volume): give three independent lattice vectors or cell=None")
    frac = np.linalg.solve(cell.T, positions.T).T
    home = np.floor(frac)
    frac = frac - home
    # perpendicular widths of the cell: distance between opposite faces
    volume = abs(np.linalg.det(cell))
    widths = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    skin = cutoff / widths
    reach = np.ceil(skin).astype(int)
    images = np.stack(np.meshgrid(*[np.arange(-r, r + 1) for r in reach], indexing="ij"), -1).reshape(-1, 3)
    ghost_index, ghost_shift = [], []
    for image in images:
        f = frac + image
        keep = np.nonzero(np.all((f > -skin) & (f < 1.0 + skin), axis=1))[0]
        ghost_index.append(keep)
        ghost_shift.append(np.broadcast_to(image, (len(keep), 3)))
    ghost_index = np.concatenate(ghost_index)
    ghost_shift = np.concatenate(ghost_shift)
    wrapped = frac @ cell
    ghosts = (frac[ghost_index] + ghost_shift) @ cell
    pairs = cKDTree(wrapped).sparse_distance_matrix(cKDTree(ghosts), cutoff, output_type="ndarray")
    i, k = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    j, image = ghost_index[k], ghost_shift[k]
    not_self = (i != j) | np.any(image != 0, axis=1)
    i, j, image = i[not_self], j[not_self], image[not_self]
    # back to the positions as given: r = wrapped + home @ cell
    shifts = (image - home[j] + home[i]).astype(np.int64)
    return _sorted(i, j, shifts)


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
