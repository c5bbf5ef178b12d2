"""The water systems an audit builds itself: an isolated molecule, a small liquid box, a proton-disordered ice cell.

    systems = build_systems(("molecule", "liquid", "ice"), quick=False, frames=8, seed=0)
    systems[1].structure, systems[1].frames

The liquid box is random water relaxed a little with q-TIP4P/F (no overlaps, no
equilibrium: a model is probed where MD would take it). The ice cell obeys the
ice rules. ``frames`` are copies with every atom displaced by a Gaussian of
0.04 A, thermal-like, for the model error against the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from ..core.structure import Structure
from ..potentials.relaxation import relax
from ..structures.builders import ice_ih, liquid_box, molecule
from .results import GRID_SYSTEMS, SYSTEM_NAMES, SystemName

#: (liquid molecules, ice repeats of the 8-molecule orthorhombic cell) per size
SIZES = {"quick": (24, (2, 1, 1)), "full": (64, (3, 2, 2))}
#: thermal-like displacement of the model-error frames, A
DISPLACEMENT = 0.04


@dataclass(frozen=True)
class AuditSystem:
    """One system: the structure probed on the grids, and the frames of the model error."""

    name: SystemName
    structure: Structure
    frames: tuple[Structure, ...]

    @property
    def n_molecules(self) -> int:
        return self.structure.n_atoms // 3


def parse_systems(text: str) -> tuple[SystemName, ...]:
    """``parse_systems("molecule,ice")``; ValueError names the known systems."""
    names = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [n for n in names if n not in SYSTEM_NAMES]
    if unknown or not names:
        raise InputError(f"unknown audit system(s) {', '.join(unknown) or '(none given)'}: use a subset of {','.join(SYSTEM_NAMES)}")
    return names  # type: ignore[return-value]


def _structure(name: SystemName, quick: bool, seed: int) -> Structure:
    n_liquid, ice_repeats = SIZES["quick" if quick else "full"]
    if name == "molecule":
        # slightly off equilibrium and not aligned with the lab axes
        base = molecule(seed=seed)
        rng = np.random.default_rng(seed + 1)
        return Structure(base.positions + rng.normal(0.0, 0.02, base.positions.shape), base.numbers, None)
    if name == "liquid":
        return relax(liquid_box(n_liquid, seed=seed), steps=60)
    return ice_ih(ice_repeats, seed=seed)


def _displaced(structure: Structure, count: int, seed: int) -> tuple[Structure, ...]:
    rng = np.random.default_rng(seed)
    return tuple(
        Structure(structure.positions + rng.normal(0.0, DISPLACEMENT, structure.positions.shape), structure.numbers,
                  structure.cell)
        for _ in range(count)
    )


def build_systems(names, *, quick: bool, frames: int, seed: int = 0) -> list[AuditSystem]:
    """The audit systems named (molecule, liquid, ice), each with ``frames`` displaced copies."""
    systems = []
    for k, name in enumerate(names):
        if name not in GRID_SYSTEMS:
            continue  # the crystal is relaxed by audit.crystal_symmetry, not rotated over the grids
        structure = _structure(name, quick, seed)
        systems.append(AuditSystem(name, structure, _displaced(structure, frames, seed + 100 + k)))
    return systems
