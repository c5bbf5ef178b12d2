"""Energies of ice polymorph cells with a model (plain and averaged) and q-TIP4P/F, built and relaxed, in-process.

    cells, structures = polymorph_cells({"Ih": (2, 2, 1), "VI": (2, 2, 2)}, seeds=(301, 302))
    result = polymorph_energies(cells, structures, "default", averaged="2i", relax_steps=300)
    result.built["plain"], result.relaxed["2i"]          # (C,) eV per molecule
    comparison = compare_polymorphs(result.cells, result.relaxed, averaged="2i")

Every method relaxes each cell on its own surface at fixed cell (L-BFGS, the
published study's protocol): the reference and the plain model from the built
cell, the averaged model from the plain model's minimum (the published study's
shortcut: the two minima differ by the symmetry error only, so a few steps
finish it, and the energy missed by stopping early is second order in that
small force difference). Proton-ordered phases (II, XI) get one cell whatever
the seeds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from ..analysis.polymorphs import PolymorphCells
from ..core.structure import Structure
from ..structures.polymorphs import POLYMORPHS, ice_polymorph

#: the q-TIP4P/F reference's name in the results
REFERENCE = "reference"


@dataclass(frozen=True)
class PolymorphEnergies:
    """Energies per molecule (eV) of each cell, by method: as built and after each method's own relaxation."""

    cells: PolymorphCells
    structures: tuple[Structure, ...]
    built: Mapping[str, np.ndarray]
    relaxed: Mapping[str, np.ndarray]
    #: method -> (C,) the relaxed geometries
    minima: Mapping[str, tuple[Structure, ...]]
    #: (C,) the averaged model at the plain minima, where its own relaxation starts (its drop from there is
    #: second order in the symmetry error of the forces)
    averaged_at_plain_minimum: np.ndarray
    seconds: Mapping[str, float]


def polymorph_cells(repeats: Mapping[str, tuple[int, int, int]], seeds=(1, 2)
                    ) -> tuple[PolymorphCells, tuple[Structure, ...]]:
    """Usage: polymorph_cells({"Ih": (2, 2, 1), "II": (2, 2, 2)}, seeds=(5, 6)) -> (PolymorphCells, structures).

    One cell per seed for the proton-disordered phases, one for the ordered ones.
    """
    names, used, structures = [], [], []
    for name, reps in repeats.items():
        for seed in (seeds[:1] if POLYMORPHS[name].ordered else seeds):
            names.append(name)
            used.append(int(seed))
            structures.append(ice_polymorph(name, reps, seed=int(seed)))
    return PolymorphCells(tuple(names), tuple(used)), tuple(structures)


def _per_molecule(potential, structures) -> np.ndarray:
    evaluation = potential.compute(list(structures))
    return np.asarray(evaluation.energies, dtype=float) / np.array([s.n_atoms // 3 for s in structures])


def polymorph_energies(
    cells: PolymorphCells,
    structures: tuple[Structure, ...],
    model: str,
    averaged: str = "2i",
    relax_steps: int = 300,
    averaged_steps: int = 30,
    fmax: float = 0.005,
    progress: Callable[[str], None] = lambda line: None,
    reference=None,
) -> PolymorphEnergies:
    """Usage: polymorph_energies(cells, structures, "default", averaged="2i") -> PolymorphEnergies.

    ``model`` is a potential spec; the methods are "reference" (q-TIP4P/F,
    or the potential object given as ``reference``), "plain" and ``averaged``.
    ``relax_steps`` L-BFGS steps at most for the reference and plain,
    ``averaged_steps`` for the averaged model from the plain minimum.
    """
    from ..potentials.registry import load_potential
    from ..potentials.relaxation import relax
    from ..symmetry.strategies import parse_strategy

    if reference is None:
        from ..potentials.qtip4pf import QTIP4PF

        reference = QTIP4PF(kspace_accuracy=1e-6)
    base = load_potential(model)
    methods = {REFERENCE: reference, "plain": parse_strategy("plain", base, diagnostics=False),
               averaged: parse_strategy(averaged, base, diagnostics=False)}
    built, relaxed, minima, seconds, at_plain = {}, {}, {}, {}, None
    try:
        for name, potential in methods.items():
            start = time.perf_counter()
            built[name] = _per_molecule(potential, structures)
            found = []
            if name == averaged:
                at_plain = _per_molecule(potential, minima["plain"])
            for k, s in enumerate(structures):
                if name == averaged:
                    found.append(relax(minima["plain"][k], potential, steps=averaged_steps, fmax=fmax))
                else:
                    found.append(relax(s, potential, steps=relax_steps, fmax=fmax))
                progress(f"{name}: relaxed {cells.polymorphs[k]} seed {cells.seeds[k]} ({k + 1}/{len(structures)}, "
                         f"{time.perf_counter() - start:.0f} s)")
            minima[name] = tuple(found)
            relaxed[name] = _per_molecule(potential, found)
            seconds[name] = time.perf_counter() - start
    finally:
        getattr(base, "close", lambda: None)()
    return PolymorphEnergies(cells, tuple(structures), built, relaxed, minima, at_plain, seconds)


__all__ = ["REFERENCE", "PolymorphEnergies", "polymorph_cells", "polymorph_energies"]
