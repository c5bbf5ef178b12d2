"""The one batched potential interface every model, reference and wrapper shares.

    from symbreak.potentials import Structure, load_potential
    pot = load_potential("toy")
    result = pot.compute([Structure(positions, numbers, cell)])
    result.energies[0], result.forces[0], result.virials[0]

Structure and Evaluation live in ``symbreak.core`` (re-exported here, with their
conventions: eV and Angstrom, cell rows, the virial W = -dE/d(strain)).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import numpy as np

from ..core.errors import InputError
from ..core.structure import Evaluation, Structure, minimum_image, split_batch


class Potential(ABC):
    """Maps a batch of structures to energies, forces and virials.

    Subclasses implement :meth:`compute`. When a wrapper has many structures
    (rotated copies, beads) it hands them over in chunks of at most
    ``chunk_size`` structures and ``max_atoms_per_call`` atoms: large batches
    are memory-bound on few cores, so batching more is not always faster
    (``None``: no limit).
    """

    name: str = "potential"
    chunk_size: int | None = None
    max_atoms_per_call: int | None = None
    #: atomic numbers this potential can handle, or None for any
    species: frozenset[int] | None = None

    @abstractmethod
    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        """Energies, forces and virials of every structure in the batch."""

    def __call__(self, structures: Sequence[Structure]) -> Evaluation:
        return self.compute(structures)

    def compute_one(self, structure: Structure) -> tuple[float, np.ndarray, np.ndarray]:
        out = self.compute([structure])
        return float(out.energies[0]), out.forces[0], out.virials[0]

    def check_species(self, numbers: np.ndarray) -> None:
        """Raise ValueError naming the atomic numbers this potential cannot handle."""
        if self.species is None:
            return
        unknown = sorted(set(np.unique(numbers).tolist()) - set(self.species))
        if unknown:
            raise InputError(
                f"potential '{self.name}' cannot handle atomic numbers {unknown}; "
                f"it knows {sorted(self.species)}"
            )

    def describe(self) -> str:
        return self.name

    def close(self) -> None:
        """Release what the potential holds beyond memory (other ranks, connections); a no-op here."""


__all__ = ["Evaluation", "Potential", "Structure", "minimum_image", "split_batch"]
