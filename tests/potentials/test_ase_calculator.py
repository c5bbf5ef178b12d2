"""The ASE adapter: same numbers as ASE itself, and the project's virial convention."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from scipy.spatial.transform import Rotation
from symbreak.potentials import Structure
from symbreak.potentials.ase_calculator import ASECalculatorPotential
from symbreak.potentials.testing import finite_difference_virial


def argon_cluster(seed=0):
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(2)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = 3.8 * grid + 0.1 * rng.standard_normal(grid.shape) + [5.0, -2.0, 1.0]
    return Structure(pos, np.full(len(pos), 18), None)


def argon_triclinic(seed=1):
    """8 Ar in a sheared, rotated cell (rows not upper triangular), atoms unwrapped."""
    rng = np.random.default_rng(seed)
    cell = np.array([[7.4, 0.0, 0.0], [1.3, 7.2, 0.0], [-0.8, 0.9, 7.6]])
    frac = np.stack(np.meshgrid(*[np.arange(2)] * 3, indexing="ij"), -1).reshape(-1, 3) / 2
    frac = frac + 0.02 * rng.standard_normal(frac.shape) + rng.integers(-1, 2, frac.shape)
    rot = Rotation.random(random_state=rng).as_matrix()
    return Structure(frac @ cell @ rot.T, np.full(8, 18), cell @ rot.T)


def copper_triclinic(seed=2):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1))
    atoms.rattle(0.05, seed=seed)
    atoms.set_cell(atoms.cell @ np.array([[1.0, 0.03, 0.0], [0.0, 1.0, -0.02], [0.04, 0.0, 1.0]]),
                   scale_atoms=True)
    rot = Rotation.random(random_state=seed).as_matrix()
    return Structure(atoms.positions @ rot.T, atoms.numbers, np.array(atoms.cell) @ rot.T)


def lj():
    return LennardJones(sigma=3.4, epsilon=0.0104, rc=7.0, smooth=True)


fd_virial = finite_difference_virial


CASES = [
    ("lj-vacuum", lj, argon_cluster),
    ("lj-periodic", lj, argon_triclinic),
    ("emt-periodic", EMT, copper_triclinic),
    ("emt-vacuum", EMT, lambda: Structure(copper_triclinic().positions, copper_triclinic().numbers)),
]


@pytest.mark.parametrize("label, make_calc, make_structure", CASES, ids=[c[0] for c in CASES])
def test_matches_ase_directly(label, make_calc, make_structure):
    s = make_structure()
    pot = ASECalculatorPotential(make_calc())
    e, f, w = pot.compute_one(s)

    atoms = s.to_atoms()
    atoms.calc = make_calc()
    assert e == pytest.approx(atoms.get_potential_energy(), abs=1e-12)
    np.testing.assert_allclose(f, atoms.get_forces(), atol=1e-12)
    if s.periodic:
        np.testing.assert_allclose(w, -atoms.get_stress(voigt=False) * atoms.get_volume(), atol=1e-12)
    else:
        np.testing.assert_allclose(w, f.T @ (s.positions - s.positions.mean(0)), atol=1e-12)


@pytest.mark.parametrize("label, make_calc, make_structure", CASES, ids=[c[0] for c in CASES])
def test_virial_is_minus_strain_derivative(label, make_calc, make_structure):
    s = make_structure()
    pot = ASECalculatorPotential(make_calc())
    w = pot.compute_one(s)[2]
    np.testing.assert_allclose(w, fd_virial(pot, s), atol=2e-7 * max(1.0, np.abs(w).max()))


def test_batch_mixes_periodic_and_isolated():
    pot = ASECalculatorPotential(lj(), name="lj", chunk_size=4)
    structures = [argon_cluster(0), argon_triclinic(1), argon_cluster(3)]
    out = pot.compute(structures)
    assert out.energies.shape == (3,) and out.virials.shape == (3, 3, 3)
    assert len(out.forces) == 3 and len(out.extras) == 3
    for k, s in enumerate(structures):
        e, f, w = ASECalculatorPotential(lj()).compute_one(s)
        assert out.energies[k] == pytest.approx(e, abs=1e-13)
        np.testing.assert_allclose(out.forces[k], f, atol=1e-13)
        np.testing.assert_allclose(out.virials[k], w, atol=1e-13)
    assert (pot.name, pot.chunk_size) == ("lj", 4)
    assert ASECalculatorPotential(lj()).name == "ase:LennardJones"


def test_empty_batch():
    out = ASECalculatorPotential(lj()).compute([])
    assert out.energies.shape == (0,) and out.virials.shape == (0, 3, 3)


class EnergyOnly(Calculator):
    implemented_properties = ["energy"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": 0.0}


class NoStress(Calculator):
    implemented_properties = ["energy", "forces"]

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": 0.0, "forces": np.zeros((len(atoms), 3))}


def test_errors_name_the_missing_property():
    with pytest.raises(ValueError, match="does not implement forces"):
        ASECalculatorPotential(EnergyOnly())
    pot = ASECalculatorPotential(NoStress())
    assert pot.compute_one(argon_cluster())[0] == 0.0
    with pytest.raises(ValueError, match="does not implement stress"):
        pot.compute([argon_triclinic()])


def test_species_filter():
    pot = ASECalculatorPotential(EMT(), species={29})
    with pytest.raises(ValueError, match=r"atomic numbers \[18\]"):
        pot.compute([argon_cluster()])
