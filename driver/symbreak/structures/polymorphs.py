"""Ice polymorphs from GenIce: Ih, Ic, II, III, V, VI, VII, XI as O,H,H triplets with the q-TIP4P/F molecule.

    from symbreak.structures.polymorphs import ice_polymorph, POLYMORPHS
    ih = ice_polymorph("Ih", repeats=(2, 2, 2), seed=3)      # 128 molecules, proton-disordered, zero dipole
    xi = ice_polymorph("XI")                                 # proton-ordered: the seed changes nothing

GenIce (``genice2``, MIT) places the oxygens of each polymorph's crystal
lattice and orients the hydrogen bonds by the ice rules (a random pattern for
the proton-disordered phases, the crystal's own for ordered II and XI), with
the net dipole removed (``depol="strict"``). Each molecule is then put at the
q-TIP4P/F equilibrium geometry (r_OH 0.9419 A, HOH 107.4 deg) with GenIce's
orientation: its two O-H bonds in the plane of its two donated hydrogen bonds,
the bisector between them. Densities are GenIce's (the crystals' measured
ones) unless ``density`` (g/cm^3) scales the cell isotropically.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from ..core.structure import Structure
from ..core.water import R_OH_EQ, THETA_EQ


@dataclass(frozen=True)
class Polymorph:
    """Usage: POLYMORPHS["VI"] -> Polymorph("VI", "6", ordered=False, molecules_per_cell=10)."""

    name: str
    genice_lattice: str
    ordered: bool  # proton-ordered: every seed gives the same crystal
    molecules_per_cell: int


#: the polymorphs symbreak builds, by their usual names (GenIce's lattice plugin in the second field)
POLYMORPHS: dict[str, Polymorph] = {
    p.name: p
    for p in (
        Polymorph("Ih", "1h", False, 16),
        Polymorph("Ic", "1c", False, 8),
        Polymorph("II", "2", True, 12),
        Polymorph("III", "3", False, 12),
        Polymorph("V", "5", False, 28),
        Polymorph("VI", "6", False, 10),
        Polymorph("VII", "7", False, 16),
        Polymorph("XI", "11", True, 16),
    )
}

#: the most molecules ice_polymorph builds (GenIce's graph search is fast; the reference and the model are not)
MAX_POLYMORPH_MOLECULES = 4096

#: g/cm^3 of one molecule per A^3
_G_PER_CM3_PER_MOLECULE_PER_A3 = 18.01528 / 6.02214076e23 * 1e24


def polymorph(name: str) -> Polymorph:
    """Usage: polymorph("vii") -> POLYMORPHS["VII"]; InputError (one line listing the names) for an unknown one."""
    for key, value in POLYMORPHS.items():
        if key.lower() == str(name).strip().lower():
            return value
    raise InputError(f"unknown ice polymorph {name!r}: choose one of {', '.join(POLYMORPHS)}")


def polymorph_molecules(name: str, repeats=(1, 1, 1)) -> int:
    """Usage: polymorph_molecules("V", (1, 2, 1)) -> 56, the molecules of that many unit cells."""
    return polymorph(name).molecules_per_cell * math.prod(repeats)


def _check_repeats(name: str, repeats) -> tuple[int, int, int]:
    try:
        reps = tuple(int(r) for r in repeats)
    except (TypeError, ValueError):
        raise InputError(f"repeats must be three positive integers, got {repeats!r}") from None
    if len(reps) != 3 or any(r < 1 for r in reps):
        raise InputError(f"repeats must be three positive integers, got {' '.join(map(str, reps))}")
    n = polymorph_molecules(name, reps)
    if n > MAX_POLYMORPH_MOLECULES:
        raise InputError(f"ice {polymorph(name).name} repeats {' '.join(map(str, reps))} make {n} molecules: "
                         f"at most {MAX_POLYMORPH_MOLECULES}")
    return reps


def _genice_raw(lattice: str, repeats: tuple[int, int, int], seed: int) -> dict:
    """GenIce's internal data (replicated cell, fractional O positions, molecular frames) for one seed.

    GenIce draws from numpy's global generator: its state is saved and restored
    so that building ice does not disturb the caller's random numbers.
    """
    try:
        from genice2.genice import GenIce
        from genice2.plugin import Format, Lattice
    except ImportError as err:
        raise InputError(f"ice polymorphs need GenIce ({err}): pip install -c constraints.txt 'symbreak[ice]'") from None
    state = np.random.get_state()
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # GenIce logs deprecation warnings of its own API at WARNING
    try:
        np.random.seed(seed)
        ice = GenIce(Lattice(lattice), reshape=np.diag(repeats))
        return ice.generate_ice(Format("raw", stage=(1, 5)), depol="strict")
    finally:
        logging.disable(previous)
        np.random.set_state(state)


def ice_polymorph(name: str, repeats=(1, 1, 1), *, seed: int = 0, density: float | None = None,
                  density_scale: float | None = None) -> Structure:
    """Usage: ice_polymorph("III", (2, 2, 2), seed=1) -> that polymorph's supercell obeying the ice rules, Angstrom.

    Molecules are whole (each H within r_OH of its own O, possibly outside the
    cell); the cell rows are GenIce's lattice vectors, scaled to ``density``
    (g/cm^3) or to ``density_scale`` times the crystal's own density when given.
    """
    kind = polymorph(name)
    reps = _check_repeats(kind.name, repeats)
    if seed < 0:
        raise InputError(f"seed must be >= 0, got {seed}")
    raw = _genice_raw(kind.genice_lattice, reps, int(seed))
    cell = np.asarray(raw["repcell"], dtype=float) * 10.0  # nm -> A; rows are lattice vectors
    fractional = np.asarray(raw["reppositions"], dtype=float) % 1.0
    n = len(fractional)
    current = n * _G_PER_CM3_PER_MOLECULE_PER_A3 / abs(np.linalg.det(cell))
    if density is not None and density_scale is not None:
        raise InputError("give density or density_scale, not both")
    if density_scale is not None:
        if not (math.isfinite(density_scale) and density_scale > 0):
            raise InputError(f"density_scale must be a finite number > 0, got {density_scale}")
        density = current * density_scale
    if density is not None:
        if not (math.isfinite(density) and density > 0):
            raise InputError(f"density must be a finite number > 0 (g/cm^3), got {density}")
        cell = cell * (current / density) ** (1.0 / 3.0)
    oxygens = fractional @ cell
    half = np.deg2rad(THETA_EQ) / 2
    # GenIce's molecular frame: x normal to the molecule, y along H1 -> H2, z along the bisector
    sites = R_OH_EQ * np.array([[0.0, np.sin(half), np.cos(half)], [0.0, -np.sin(half), np.cos(half)]])
    hydrogens = oxygens[:, None, :] + np.einsum("sj,njk->nsk", sites, np.asarray(raw["rotmatrices"], dtype=float))
    positions = np.concatenate([oxygens[:, None, :], hydrogens], axis=1).reshape(-1, 3)
    return Structure(positions, np.tile([8, 1, 1], n), cell)


def density_of(structure: Structure) -> float:
    """Usage: density_of(ice) -> g/cm^3 of a periodic water structure (O,H,H triplets)."""
    if structure.cell is None:
        raise InputError("density_of needs a periodic structure")
    n = int(np.sum(structure.numbers == 8))
    return n * _G_PER_CM3_PER_MOLECULE_PER_A3 / abs(np.linalg.det(structure.cell))


__all__ = [
    "MAX_POLYMORPH_MOLECULES",
    "POLYMORPHS",
    "Polymorph",
    "density_of",
    "ice_polymorph",
    "polymorph",
    "polymorph_molecules",
]
