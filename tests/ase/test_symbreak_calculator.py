"""symbreak.ase.SymbreakCalculator with ASE's tools: derivatives, MD, optimizers with a cell filter, phonons, NEB.

The toy water (analytic, not rotation invariant, cheap) is the potential: the calculator must give what the
strategy gives, forces and stress that are derivatives of its energy, and work inside ASE's own algorithms.
"""

import warnings

import numpy as np
import pytest
from ase import units
from ase.calculators.calculator import PropertyNotImplementedError
from symbreak.ase import SymbreakCalculator
from symbreak.core.errors import InputError
from symbreak.potentials.registry import load_potential
from symbreak.potentials.testing import water_box, water_molecule
from symbreak.symmetry.strategies import parse_strategy


@pytest.fixture
def box():
    return water_box(n_per_side=2, seed=1).to_atoms()


@pytest.fixture
def cell():
    """One toy molecule in a periodic cubic cell of 3.1 A: a crystal small enough for finite differences."""
    return water_box(n_per_side=1, seed=1).to_atoms()


@pytest.fixture
def molecule():
    return water_molecule(seed=0).to_atoms()


@pytest.mark.parametrize("strategy", ["plain", pytest.param("2i", marks=pytest.mark.slow), "lebedev:3"])
def test_results_are_the_strategys_and_forces_and_stress_are_derivatives(cell, strategy):
    cell.calc = SymbreakCalculator("toy", strategy=strategy)
    expected = parse_strategy(strategy, load_potential("toy")).compute([water_box(n_per_side=1, seed=1)])
    assert cell.get_potential_energy() == pytest.approx(expected.energies[0], abs=1e-10)
    np.testing.assert_allclose(cell.get_forces(), expected.forces[0], atol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # ASE points to its FiniteDifferenceCalculator
        numeric_forces = cell.calc.calculate_numerical_forces(cell, d=1e-5)
        numeric = cell.calc.calculate_numerical_stress(cell, d=1e-5, voigt=True)
    np.testing.assert_allclose(cell.get_forces(), numeric_forces, atol=2e-6)
    np.testing.assert_allclose(cell.get_stress(), numeric, atol=2e-7)
    assert cell.calc.results["free_energy"] == cell.calc.results["energy"]


def test_rotational_spreads_and_diagnostics(box, molecule):
    box.calc = SymbreakCalculator("toy", strategy="2i")
    box.get_potential_energy()
    r = box.calc.results
    assert r["energy_rot_std"] > 1e-4  # the toy depends on orientation
    assert r["forces_rot_std"].shape == (len(box), 3) and r["stress_rot_std"].shape == (3, 3)
    assert r["diagnostics"]["strategy"] == "2i" and r["diagnostics"]["n_rotations"] == 36
    # the diagnostics' energy_spread is the same weighted standard deviation
    assert r["diagnostics"]["energy_spread"] == pytest.approx(r["energy_rot_std"])
    molecule.calc = SymbreakCalculator("toy", strategy="plain")
    molecule.get_forces()
    assert "energy_rot_std" not in molecule.calc.results  # no grid, no spread
    with pytest.raises(PropertyNotImplementedError, match="periodic"):
        molecule.get_stress()


def test_an_ase_calculator_object_can_be_wrapped(box):
    inner = SymbreakCalculator("toy")  # any ASE calculator; here the toy's own
    box.calc = SymbreakCalculator(inner, strategy="2i")
    direct = box.copy()
    direct.calc = SymbreakCalculator("toy", strategy="2i")
    assert box.get_potential_energy() == pytest.approx(direct.get_potential_energy(), abs=1e-9)
    np.testing.assert_allclose(box.get_forces(), direct.get_forces(), atol=1e-9)
    # ASE stresses are symmetric: only the symmetric part of the virial comes through an ASE calculator
    np.testing.assert_allclose(box.get_stress(), direct.get_stress(), atol=1e-9)


def test_random_strategies_are_reproducible_from_their_seed(molecule):
    def energies(seed, n=3):
        atoms = molecule.copy()
        atoms.calc = SymbreakCalculator("toy", strategy=f"random:{seed}")
        out = []
        for k in range(n):
            atoms.positions[0, 0] += 0.001  # a new geometry: a new call, new rotations
            out.append(atoms.get_potential_energy())
        return out

    assert energies(7) == energies(7)
    assert energies(7) != energies(8)


def test_bad_input_is_one_line():
    with pytest.raises(InputError, match="unknown strategy|invalid strategy"):
        SymbreakCalculator("toy", strategy="nonsense")
    with pytest.raises(InputError, match="unknown potential"):
        SymbreakCalculator("no_such_model.pt")
    with pytest.raises(InputError, match="needs a potential spec"):
        SymbreakCalculator(42)


def test_nve_md_conserves_energy_with_the_averaged_forces(molecule):
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet

    molecule.calc = SymbreakCalculator("toy", strategy="2i")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        MaxwellBoltzmannDistribution(molecule, temperature_K=300, rng=np.random.default_rng(3))
    md = VelocityVerlet(molecule, timestep=0.25 * units.fs)
    totals = []
    md.attach(lambda: totals.append(molecule.get_total_energy()), interval=1)
    md.run(200)
    kinetic = molecule.get_kinetic_energy() + 1e-3
    assert np.ptp(totals) < 0.02 * max(kinetic, 0.01)  # a conservative, smooth force field


def test_a_cell_relaxation_converges(cell):
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    cell.calc = SymbreakCalculator("toy", strategy="2i")
    start, volume = cell.get_potential_energy(), cell.get_volume()
    opt = BFGS(FrechetCellFilter(cell), logfile=None)
    assert opt.run(fmax=0.01, steps=200)
    assert cell.get_potential_energy() < start and cell.get_volume() != pytest.approx(volume)
    assert np.abs(cell.get_forces()).max() < 0.01 and np.abs(cell.get_stress()).max() * cell.get_volume() < 0.03


@pytest.mark.slow
def test_phonons_of_a_small_cell(cell, tmp_path):
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS
    from ase.phonons import Phonons

    cell.calc = SymbreakCalculator("toy", strategy="2i")
    BFGS(FrechetCellFilter(cell), logfile=None).run(fmax=1e-3, steps=400)
    phonons = Phonons(cell, SymbreakCalculator("toy", strategy="2i"), supercell=(1, 1, 1), delta=0.005,
                      name=str(tmp_path / "phonon"))
    phonons.run()
    phonons.read(acoustic=False)
    frequencies = np.sort(np.abs(phonons.band_structure([[0, 0, 0]])[0])) * 1000  # meV at Gamma
    # the three translations at zero (the toy is translation invariant), the three O-H modes far above
    assert frequencies[:3].max() < 1.0
    assert frequencies[-3:].min() > 200.0 and np.all(np.isfinite(frequencies))


def test_neb_between_two_geometries_of_a_molecule(molecule):
    from ase.mep import NEB
    from ase.optimize import FIRE

    start = molecule.copy()
    end = molecule.copy()
    mol = end.positions
    end.positions[2] = mol[0] + 1.05 * (mol[2] - mol[0])  # the other end: one bond stretched
    images = [start] + [start.copy() for _ in range(3)] + [end]
    for k, image in enumerate(images):
        image.calc = SymbreakCalculator("toy", strategy=f"2i+random:{100 + k}")  # each image its own stream
    neb = NEB(images, method="improvedtangent")
    neb.interpolate()
    assert FIRE(neb, logfile=None).run(fmax=0.05, steps=300)
    energies = [image.get_potential_energy() for image in images]
    assert np.all(np.isfinite(energies))


@pytest.mark.slow
def test_workers_share_the_copies_over_processes_and_close_them(box):
    serial = box.copy()
    serial.calc = SymbreakCalculator("toy", strategy="2i")
    with SymbreakCalculator("toy", strategy="2i", workers=2) as calc:
        assert calc.potential.ranks == 2
        shared = box.copy()
        shared.calc = calc
        assert shared.get_potential_energy() == pytest.approx(serial.get_potential_energy(), abs=1e-10)
        np.testing.assert_allclose(shared.get_forces(), serial.get_forces(), rtol=0, atol=1e-10)
        np.testing.assert_allclose(shared.get_stress(), serial.get_stress(), rtol=0, atol=1e-12)
        assert calc.potential.shares_sent > 0
    assert all(p.returncode == 0 for p in calc.potential.group.children.processes)


def test_workers_need_a_spec_and_a_positive_count():
    with pytest.raises(InputError, match="workers must be an integer >= 1, got 0"):
        SymbreakCalculator("toy", workers=0)
    with pytest.raises(InputError, match="workers > 1 needs a potential spec"):
        SymbreakCalculator(load_potential("toy"), workers=2)
