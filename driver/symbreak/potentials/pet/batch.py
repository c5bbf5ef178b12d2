"""Several structures as one graph: atoms concatenated, each atom's neighbours padded into token slots.

    topo = [topology(s, cutoff=4.0) for s in structures]
    batch = collate(topo, [s.positions for s in structures], [s.cell for s in structures],
                    species=(1, 8), dtype=torch.float32)
    batch = structure_batch(structures, cutoff=4.0, species=(1, 8))   # the same, in one call

A :class:`Topology` is the integer part (pairs, shifts, reverse edges, token
slots) and depends on the structure only up to rotations and inversions, so
training computes it once per structure and collates rotated copies.
Token slot 0 of every atom is the atom itself; neighbours fill slots
1..k_i, padded to the largest k in the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Sequence

import numpy as np
import torch

from ...core.errors import InputError
from .neighbors import neighbor_list, reverse_edges


@dataclass(frozen=True)
class Topology:
    """topo = topology(structure, cutoff): numbers, edges (i, j, S), reverse edge index and token slot of each edge."""

    numbers: np.ndarray
    i: np.ndarray
    j: np.ndarray
    shifts: np.ndarray
    reverse: np.ndarray
    slot: np.ndarray

    @property
    def n_atoms(self) -> int:
        return len(self.numbers)

    @property
    def max_neighbors(self) -> int:
        return int(self.slot.max()) if len(self.slot) else 0


def topology(structure, cutoff: float) -> Topology:
    """topo = topology(structure, cutoff): neighbour list, reverse edges and token slots of one Structure."""
    i, j, shifts = neighbor_list(structure.positions, structure.cell, cutoff)
    order = np.argsort(i, kind="stable")
    i, j, shifts = i[order], j[order], shifts[order]
    first = np.searchsorted(i, np.arange(structure.n_atoms))
    slot = np.arange(len(i)) - first[i] + 1
    return Topology(np.asarray(structure.numbers), i, j, shifts, reverse_edges(i, j, shifts), slot)


@dataclass
class GraphBatch:
    """batch = collate(...): positions (N, 3), cells (B, 3, 3), species index (N,), edges and token layout as tensors."""

    positions: torch.Tensor
    cells: torch.Tensor
    species: torch.Tensor
    atom_structure: torch.Tensor
    edge_i: torch.Tensor
    edge_j: torch.Tensor
    shifts: torch.Tensor
    edge_structure: torch.Tensor
    reverse: torch.Tensor
    edge_slot: torch.Tensor
    n_slots: int
    n_structures: int
    n_atoms: list[int]

    @property
    def n_total_atoms(self) -> int:
        return self.positions.shape[0]

    def to(self, device: str | torch.device) -> "GraphBatch":
        """batch.to("cuda") -> the same batch with every tensor on that device (itself when already there)."""
        if self.positions.device == torch.device(device):
            return self
        moved = {f.name: getattr(self, f.name).to(device) for f in fields(self) if isinstance(getattr(self, f.name), torch.Tensor)}
        return replace(self, **moved)


def species_lookup(species: Sequence[int]) -> np.ndarray:
    """table = species_lookup((1, 8)): table[Z] is the index of Z in ``species``, -1 if absent."""
    table = np.full(max(max(species), 0) + 1, -1, dtype=np.int64)
    table[np.asarray(species, dtype=np.int64)] = np.arange(len(species))
    return table


def collate(
    topologies: Sequence[Topology],
    positions: Sequence[np.ndarray],
    cells: Sequence[np.ndarray | None],
    species: Sequence[int],
    dtype: torch.dtype = torch.float32,
) -> GraphBatch:
    """batch = collate(topologies, positions, cells, species, dtype): one GraphBatch for all structures."""
    table = species_lookup(species)
    n_atoms = [t.n_atoms for t in topologies]
    atom_offsets = np.concatenate([[0], np.cumsum(n_atoms)])
    edge_counts = [len(t.i) for t in topologies]
    edge_offsets = np.concatenate([[0], np.cumsum(edge_counts)])
    numbers = np.concatenate([t.numbers for t in topologies])
    if numbers.max() >= len(table) or (table[numbers] < 0).any():
        unknown = sorted(set(numbers.tolist()) - set(species))
        raise InputError(f"atomic numbers {unknown} are not among the model's species {list(species)}")
    cell_array = np.stack([np.zeros((3, 3)) if c is None else np.asarray(c) for c in cells])

    def cat(values, offsets=None):
        parts = [v if offsets is None else v + offsets[k] for k, v in enumerate(values)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    as_long = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))  # noqa: E731
    return GraphBatch(
        positions=torch.tensor(np.concatenate(positions), dtype=dtype),
        cells=torch.tensor(cell_array, dtype=dtype),
        species=as_long(table[numbers]),
        atom_structure=as_long(np.repeat(np.arange(len(topologies)), n_atoms)),
        edge_i=as_long(cat([t.i for t in topologies], atom_offsets)),
        edge_j=as_long(cat([t.j for t in topologies], atom_offsets)),
        shifts=torch.tensor(np.concatenate([t.shifts for t in topologies]).reshape(-1, 3), dtype=dtype),
        edge_structure=as_long(np.repeat(np.arange(len(topologies)), edge_counts)),
        reverse=as_long(cat([t.reverse for t in topologies], edge_offsets)),
        edge_slot=as_long(cat([t.slot for t in topologies])),
        n_slots=1 + max([t.max_neighbors for t in topologies] + [0]),
        n_structures=len(topologies),
        n_atoms=n_atoms,
    )


def structure_batch(structures: Sequence, cutoff: float, species: Sequence[int],
                    dtype: torch.dtype = torch.float32) -> GraphBatch:
    """batch = structure_batch(structures, cutoff, species, dtype): their topologies, collated as they are."""
    topologies = [topology(s, cutoff) for s in structures]
    return collate(topologies, [s.positions for s in structures], [s.cell for s in structures], species, dtype)
