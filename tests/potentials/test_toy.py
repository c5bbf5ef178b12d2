"""The toy water potential: exact derivatives, exact invariant part, known symmetry breaking."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from symbreak.potentials import Structure, load_potential
from symbreak.potentials.testing import (
    finite_difference_forces,
    finite_difference_virial,
    water_box,
    water_box_triclinic,
)
from symbreak.potentials.toy import ToyWater, ToyWaterConfig, lab_directions, legendre

STRUCTURES = ["water_molecule", "water_box", "water_box_triclinic"]


def only(kind: str, l: int, amplitude: float = 0.01) -> ToyWater:
    """A toy with a single anisotropic term: kind 'dipole' (a_l) or 'bond' (b_l)."""
    a = {l: amplitude} if kind == "dipole" else {}
    b = {l: amplitude} if kind == "bond" else {}
    return ToyWater(dipole_amplitudes=a, bond_amplitudes=b)


def energy(pot, positions, s):
    return pot.compute_one(Structure(positions, s.numbers, s.cell))[0]


fd_forces = finite_difference_forces


fd_virial = finite_difference_virial


def test_legendre_matches_numpy():
    x = np.linspace(-1, 1, 11)
    for l in range(7):
        coef = np.eye(l + 1)[l]
        p, dp = legendre(l, x)
        np.testing.assert_allclose(p, np.polynomial.legendre.legval(x, coef), atol=1e-14)
        np.testing.assert_allclose(
            dp, np.polynomial.legendre.legval(x, np.polynomial.legendre.legder(coef)), atol=1e-12
        )


def test_lab_directions_are_fixed_distinct_unit_vectors():
    dirs = np.array([v for l in range(1, 7) for v in lab_directions(l)])
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=1), 1.0)
    cos = np.abs(dirs @ dirs.T)[np.triu_indices(len(dirs), 1)]
    assert cos.max() < 0.95  # generic: distinct, and off every coordinate plane
    assert np.abs(dirs).min() > 0.1
    np.testing.assert_array_equal(lab_directions(3)[0], lab_directions(3)[0])


@pytest.mark.parametrize("name", STRUCTURES)
def test_forces_are_minus_gradient(name, request):
    s = request.getfixturevalue(name)
    pot = ToyWater()
    forces = pot.compute([s]).forces[0]
    np.testing.assert_allclose(forces, fd_forces(pot, s), atol=2e-8, rtol=0)
    assert np.abs(forces).max() > 0.1


@pytest.mark.parametrize("name", STRUCTURES)
def test_virial_is_minus_strain_derivative(name, request):
    s = request.getfixturevalue(name)
    pot = ToyWater()
    virial = pot.compute([s]).virials[0]
    np.testing.assert_allclose(virial, fd_virial(pot, s), atol=5e-8, rtol=0)
    # the anisotropic terms give the virial an antisymmetric part, and it is kept
    assert np.abs(virial - virial.T).max() > 1e-3
    inv = pot.invariant_part([s]).virials[0]
    np.testing.assert_allclose(inv, inv.T, atol=1e-12)


def test_finite_virial_is_sum_of_force_position_products(water_molecule):
    pot = ToyWater()
    _, forces, virial = pot.compute_one(water_molecule)
    np.testing.assert_allclose(virial, forces.T @ water_molecule.positions, atol=1e-12)


@pytest.mark.parametrize("name", STRUCTURES)
def test_invariant_part_is_exactly_invariant(name, request):
    s = request.getfixturevalue(name)
    pot = ToyWater()
    ref = pot.invariant_part([s])
    rng = np.random.default_rng(7)
    rotations = Rotation.random(4, random_state=rng).as_matrix()
    rotations[1] *= -1  # an improper rotation: O(3), not only SO(3)
    out = pot.invariant_part([s.rotated(r) for r in rotations])
    np.testing.assert_allclose(out.energies, ref.energies[0], atol=1e-12, rtol=0)
    for r, f, w in zip(rotations, out.forces, out.virials):
        np.testing.assert_allclose(f, ref.forces[0] @ r.T, atol=1e-11)
        np.testing.assert_allclose(w, r @ ref.virials[0] @ r.T, atol=1e-11)

    shift = rng.normal(size=3) * 7.3
    moved = pot.invariant_part([Structure(s.positions + shift, s.numbers, s.cell)])
    np.testing.assert_allclose(moved.energies, ref.energies, atol=1e-12, rtol=0)
    np.testing.assert_allclose(moved.forces[0], ref.forces[0], atol=1e-11)


def test_full_energy_is_not_invariant_and_exerts_torque(water_molecule):
    pot = ToyWater()
    rotations = Rotation.random(5, random_state=3).as_matrix()
    out = pot.compute([water_molecule.rotated(r) for r in rotations])
    assert np.ptp(out.energies) > 1e-3

    _, forces, virial = pot.compute_one(water_molecule)
    torque = np.cross(water_molecule.positions - water_molecule.positions.mean(0), forces).sum(0)
    assert np.linalg.norm(torque) > 1e-3
    np.testing.assert_allclose(forces.sum(0), 0.0, atol=1e-12)  # translation invariance holds
    inv = pot.invariant_part([water_molecule]).forces[0]
    np.testing.assert_allclose(np.cross(water_molecule.positions, inv).sum(0), 0.0, atol=1e-12)


def test_full_is_invariant_plus_anisotropic(water_box_triclinic):
    pot = ToyWater()
    full = pot.compute([water_box_triclinic])
    inv = pot.invariant_part([water_box_triclinic])
    aniso = pot.anisotropic_part([water_box_triclinic])
    np.testing.assert_allclose(full.energies, inv.energies + aniso.energies, atol=1e-13)
    np.testing.assert_allclose(full.forces[0], inv.forces[0] + aniso.forces[0], atol=1e-13)
    np.testing.assert_allclose(full.virials, inv.virials + aniso.virials, atol=1e-13)


@pytest.mark.parametrize("kind", ["dipole", "bond"])
@pytest.mark.parametrize("l", [1, 2, 3, 4, 5])
def test_each_l_term_has_parity_minus_one_to_the_l(kind, l, water_box_triclinic):
    pot = only(kind, l)
    s = water_box_triclinic
    inverted = s.rotated(-np.eye(3))
    e, e_inv = pot.anisotropic_part([s, inverted]).energies
    assert abs(e) > 1e-4
    assert e_inv == pytest.approx((-1) ** l * e, abs=1e-13)


@pytest.mark.parametrize("kind", ["dipole", "bond"])
@pytest.mark.parametrize("l", [1, 2, 3, 4, 5])
def test_haar_average_of_each_l_term_vanishes(kind, l, water_molecule):
    pot = only(kind, l, amplitude=0.01)
    n = 3000
    rotations = Rotation.random(n, random_state=100 + l).as_matrix()
    rotated = [water_molecule.rotated(r) for r in rotations]
    full = pot.compute(rotated).energies
    inv = pot.invariant_part(rotated).energies
    np.testing.assert_allclose(inv, pot.invariant_part([water_molecule]).energies[0], atol=1e-12)
    delta = full - inv
    # for one molecule, u.n_l is uniform on [-1, 1]: var P_l = 1/(2l+1)
    assert delta.std() == pytest.approx(0.01 / np.sqrt(2 * l + 1), rel=0.1)
    assert abs(delta.mean()) < 4 * delta.std() / np.sqrt(n)


def test_minimum_image_wrapped_and_scrambled_agree():
    whole = water_box_triclinic(seed=5, scramble_images=False)
    scrambled = water_box_triclinic(seed=5, scramble_images=True)
    assert not np.allclose(whole.positions, scrambled.positions)
    pot = ToyWater()
    out = pot.compute([whole, scrambled])
    assert out.energies[0] == pytest.approx(out.energies[1], abs=1e-11)
    np.testing.assert_allclose(out.forces[0], out.forces[1], atol=1e-10)
    np.testing.assert_allclose(out.virials[0], out.virials[1], atol=1e-10)


def test_all_images_within_cutoff_count():
    """A 6.2 A cell with a 6 A cutoff needs images beyond the nearest: a supercell must agree."""
    s = water_box(n_per_side=2, seed=4)
    reps = np.stack(np.meshgrid(*[np.arange(2)] * 3, indexing="ij"), -1).reshape(-1, 3)
    pos = np.concatenate([s.positions + r @ s.cell for r in reps])
    big = Structure(pos, np.tile(s.numbers, len(reps)), 2 * s.cell)
    pot = ToyWater()
    out = pot.compute([s, big])
    assert out.energies[1] == pytest.approx(8 * out.energies[0], abs=1e-10)
    np.testing.assert_allclose(out.forces[1][: s.n_atoms], out.forces[0], atol=1e-10)
    np.testing.assert_allclose(out.virials[1], 8 * out.virials[0], atol=1e-9)


def test_batch_equals_single_calls(water_molecule, water_box, water_box_triclinic):
    pot = ToyWater()
    batch = pot.compute([water_molecule, water_box, water_box_triclinic])
    for k, s in enumerate([water_molecule, water_box, water_box_triclinic]):
        e, f, w = pot.compute_one(s)
        assert batch.energies[k] == pytest.approx(e, abs=1e-13)
        np.testing.assert_allclose(batch.forces[k], f, atol=1e-13)
        np.testing.assert_allclose(batch.virials[k], w, atol=1e-13)


def test_lj_only_between_molecules_and_cut_off():
    mol = np.array([[0.0, 0.0, 0.0], [0.76, 0.59, 0.0], [-0.76, 0.59, 0.0]])
    pot = ToyWater(dipole_amplitudes={}, bond_amplitudes={})
    single = pot.compute_one(Structure(mol, [8, 1, 1]))[0]
    far = Structure(np.concatenate([mol, mol + [6.01, 0, 0]]), [8, 1, 1] * 2)
    assert pot.compute_one(far)[0] == pytest.approx(2 * single, abs=1e-14)
    near = Structure(np.concatenate([mol, mol + [3.0, 0, 0]]), [8, 1, 1] * 2)
    c = pot.config
    lj = 4 * c.lj_epsilon * ((c.lj_sigma / 3.0) ** 12 - (c.lj_sigma / 3.0) ** 6)
    shift = 4 * c.lj_epsilon * ((c.lj_sigma / c.lj_cutoff) ** 12 - (c.lj_sigma / c.lj_cutoff) ** 6)
    assert pot.compute_one(near)[0] == pytest.approx(2 * single + lj - shift, abs=1e-14)


def test_equilibrium_molecule_has_zero_invariant_forces():
    c = ToyWaterConfig()
    half = np.deg2rad(c.angle_theta0) / 2
    mol = np.array(
        [[0, 0, 0], [c.bond_r0 * np.sin(half), c.bond_r0 * np.cos(half), 0],
         [-c.bond_r0 * np.sin(half), c.bond_r0 * np.cos(half), 0]]
    )
    out = ToyWater().invariant_part([Structure(mol, [8, 1, 1])])
    assert out.energies[0] == pytest.approx(0.0, abs=1e-20)
    np.testing.assert_allclose(out.forces[0], 0.0, atol=1e-12)


def test_validation_names_the_problem():
    pot = ToyWater()
    with pytest.raises(ValueError, match="multiple of 3"):
        pot.compute([Structure(np.zeros((4, 3)), [8, 1, 1, 8])])
    with pytest.raises(ValueError, match="atom 1 has atomic number 8, expected 1"):
        pot.compute([Structure(np.eye(3), [8, 8, 1])])
    with pytest.raises(ValueError, match=r"atomic numbers \[6\]"):
        pot.compute([Structure(np.eye(3), [6, 1, 1])])
    with pytest.raises(ValueError, match="l >= 1"):
        ToyWater(dipole_amplitudes={0: 1.0})
    with pytest.raises(TypeError, match="unknown options"):
        ToyWater(amplitude=1.0)


def test_registry_builds_configured_toy(water_molecule):
    pot = load_potential("toy", dipole_amplitudes={2: 0.02}, bond_amplitudes={})
    assert isinstance(pot, ToyWater) and pot.name == "toy"
    assert pot.species == frozenset({1, 8})
    assert pot.config.dipole_amplitudes == {2: 0.02}
    cfg = ToyWater(config=ToyWaterConfig(lj_cutoff=5.0), bond_k=40.0).config
    assert (cfg.lj_cutoff, cfg.bond_k) == (5.0, 40.0)
