"""Small water structures for tests anywhere in symbreak (also the pytest fixtures).

    from symbreak.potentials.testing import water_molecule, water_box, water_box_triclinic
    pot.compute([water_molecule(), water_box(), water_box_triclinic()])

All builders are deterministic for a given seed, return :class:`Structure` with
atoms as consecutive O, H, H triplets (the builders' q-TIP4P/F molecule,
``structures.molecule_geometry``), and distort the geometry slightly away from
equilibrium so that every force component is non-zero.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from ..core.structure import Structure
from ..structures.builders import molecule_geometry
from .base import Potential


def _random_molecules(centres: np.ndarray, rng: np.random.Generator, distortion: float) -> np.ndarray:
    """O, H, H positions (3m, 3) of molecules with O at ``centres`` and Haar-random orientations."""
    m = len(centres)
    rotations = Rotation.random(m, random_state=rng).as_matrix()
    mol = np.einsum("mab,ib->mia", rotations, molecule_geometry()) + centres[:, None, :]
    mol += distortion * rng.standard_normal(mol.shape)
    return mol.reshape(-1, 3)


def water_molecule(*, seed: int = 0, distortion: float = 0.03) -> Structure:
    """``water_molecule(seed=0)``: one H2O in vacuum, random orientation, distorted by ~``distortion`` A."""
    rng = np.random.default_rng(seed)
    pos = _random_molecules(rng.standard_normal((1, 3)), rng, distortion)
    return Structure(pos, np.array([8, 1, 1]), None)


def water_box(
    *, n_per_side: int = 2, spacing: float = 3.1, seed: int = 0, distortion: float = 0.03
) -> Structure:
    """``water_box(n_per_side=2)``: n^3 molecules on a cubic grid in a periodic cubic cell.

    O atoms sit on a grid of ``spacing`` A (3.1 A gives ~1 g/cm^3), jittered by
    ~0.1 A; orientations are Haar-random. The cell is ``n_per_side * spacing`` wide.
    """
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(n_per_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    centres = (grid + 0.25) * spacing + 0.1 * rng.standard_normal(grid.shape)
    pos = _random_molecules(centres, rng, distortion)
    cell = np.eye(3) * n_per_side * spacing
    return Structure(pos, np.tile([8, 1, 1], len(grid)), cell)


def water_box_triclinic(
    *,
    n_per_side: int = 2,
    spacing: float = 3.1,
    seed: int = 0,
    distortion: float = 0.03,
    scramble_images: bool = True,
) -> Structure:
    """``water_box_triclinic()``: a sheared, rigidly rotated :func:`water_box` with split molecules.

    The cell rows are not upper triangular (a generic rotation is applied to the
    whole system). O atoms sit close to the cell faces, so that many molecules
    cross the boundary; atoms are wrapped one by one (splitting those molecules)
    and, with ``scramble_images``, every atom is then moved by a random lattice
    vector in {-1, 0, 1}^3: potentials must apply the minimum image themselves.
    """
    rng = np.random.default_rng(seed)
    n = n_per_side
    shear = np.array([[1.0, 0.0, 0.0], [0.22, 1.0, 0.0], [-0.15, 0.18, 1.0]])
    cell = shear * n * spacing
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3)
    frac = (grid + 0.03 + 0.02 * rng.standard_normal(grid.shape)) / n
    pos = _random_molecules(frac @ cell, rng, distortion)
    rot = Rotation.random(random_state=rng).as_matrix()
    pos, cell = pos @ rot.T, cell @ rot.T
    frac = np.linalg.solve(cell.T, pos.T).T
    frac -= np.floor(frac)
    if scramble_images:
        frac += rng.integers(-1, 2, size=frac.shape)
    return Structure(frac @ cell, np.tile([8, 1, 1], len(grid)), cell)


# -- finite differences: the yardstick of every force and virial test -----------------------------


def _energy(potential, positions: np.ndarray, structure: Structure, cell=None) -> float:
    cell = structure.cell if cell is None else cell
    return float(potential.compute([Structure(positions, structure.numbers, cell)]).energies[0])


def finite_difference_forces(potential, structure: Structure, h: float = 1e-5, atoms=None) -> np.ndarray:
    """``finite_difference_forces(pot, s)``: -dE/dx by central differences, (n, 3) (rows of ``atoms`` only if given)."""
    atoms = range(structure.n_atoms) if atoms is None else atoms
    out = np.zeros((len(atoms), 3))
    for row, i in enumerate(atoms):
        for a in range(3):
            step = np.zeros_like(structure.positions)
            step[i, a] = h
            e_plus = _energy(potential, structure.positions + step, structure)
            e_minus = _energy(potential, structure.positions - step, structure)
            out[row, a] = -(e_plus - e_minus) / (2 * h)
    return out


def finite_difference_virial(potential, structure: Structure, h: float = 1e-5) -> np.ndarray:
    """``finite_difference_virial(pot, s)``: W = -dE/d(strain) under r -> (1 + eps) r of positions and cell rows."""
    out = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            energies = []
            for sign in (1, -1):
                deform = np.eye(3)
                deform[a, b] += sign * h
                cell = None if structure.cell is None else structure.cell @ deform.T
                energies.append(_energy(potential, structure.positions @ deform.T, structure, cell))
            out[a, b] = -(energies[0] - energies[1]) / (2 * h)
    return out


class CountingPotential(Potential):
    """Usage: counting = CountingPotential(ToyWater()); ...; counting.calls, counting.structures.

    Forwards to ``base`` and counts the calls and the structures it was handed (tests of batching and cost).
    """

    def __init__(self, base: Potential):
        self.base = base
        self.species = base.species
        self.calls = 0
        self.structures = 0

    def compute(self, structures):
        self.calls += 1
        self.structures += len(structures)
        return self.base.compute(structures)

