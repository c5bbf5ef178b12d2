"""Angular orders of a symmetry error: exact powers of known functions on O(3), aliasing, the toy, forces."""

import warnings
from dataclasses import replace

import numpy as np
import pytest
from symbreak.potentials import load_potential
from symbreak.symmetry.angular_orders import AngularPower, angular_power, character, rotation_angle
from symbreak.symmetry.quadrature import lebedev_quadrature, legendre_quadrature
from symbreak.symmetry.rotations import euler_zxz, haar_rotations, rotate_forces_back, rotation_z

# --------------------------------------------------------------------------------------
# helpers


def p2(c):
    return (3 * c**2 - 1) / 2


def p3(c):
    return (5 * c**3 - 3 * c) / 2


def det(g):
    return np.linalg.det(g)


def on_grid(pot, structure, quadrature):
    """Energies (N,) and back-rotated forces (N, n, 3) of ``pot`` on the rotated structures."""
    out = pot.compute([structure.rotated(g) for g in quadrature.rotations])
    forces = np.stack([rotate_forces_back(f, g) for f, g in zip(out.forces, quadrature.rotations)])
    return out.energies, forces


def toy(**dipole_amplitudes):
    """``toy(a1=0.02, a2=0.01)``: the toy with only those dipole-axis terms (a_l P_l(u . n_l))."""
    amplitudes = {int(k[1:]): a for k, a in dipole_amplitudes.items()}
    return load_potential("toy", dipole_amplitudes=amplitudes, bond_amplitudes={})


def assert_sum_rule(ap: AngularPower, f, quadrature, atol=1e-12):
    mean_square = quadrature.weights @ (np.asarray(f).reshape(len(quadrature), -1) ** 2).sum(axis=1)
    assert ap.invariant + ap.power.sum() + ap.unresolved == pytest.approx(mean_square, abs=atol)
    assert ap.mean_square == pytest.approx(mean_square, abs=atol)


# --------------------------------------------------------------------------------------
# helpers: angles and characters


def test_rotation_angle_is_robust_at_zero_and_pi_and_sees_through_improper_rotations():
    angles = np.array([0.0, 1e-3, 0.7, np.pi / 2, 2.9, np.pi])
    axes = haar_rotations(np.random.default_rng(0), len(angles))
    # rotation by theta about the axis axes[k] @ z
    rotations = axes @ rotation_z(angles) @ axes.transpose(0, 2, 1)
    np.testing.assert_allclose(rotation_angle(rotations), angles, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(rotation_angle(-rotations), angles, rtol=1e-6, atol=1e-12)
    # roundoff pushing the trace past 3 or -1 must not give NaN
    assert rotation_angle(np.eye(3) * (1 + 1e-15)) == 0.0
    assert rotation_angle(np.diag([-1.0 - 1e-15, -1.0, 1.0])) == pytest.approx(np.pi)


@pytest.mark.parametrize("l", [0, 1, 2, 3, 6])
def test_characters_match_the_closed_form_and_the_parity_rule(l):
    rotations = haar_rotations(np.random.default_rng(l), 50)
    theta = rotation_angle(rotations)
    closed = np.sin((2 * l + 1) * theta / 2) / np.sin(theta / 2)
    np.testing.assert_allclose(character(l, rotations), closed, atol=1e-9)
    assert character(l, np.eye(3)) == pytest.approx(2 * l + 1)
    assert character(l, np.diag([-1.0, -1.0, 1.0])) == pytest.approx((-1) ** l)
    np.testing.assert_allclose(character(l, -rotations, parity=1), closed, atol=1e-9)
    np.testing.assert_allclose(character(l, -rotations, parity=-1), -closed, atol=1e-9)
    if l == 1:
        np.testing.assert_allclose(character(1, rotations), np.trace(rotations, axis1=1, axis2=2), atol=1e-12)
    with pytest.raises(ValueError, match="parity"):
        character(l, -rotations)


# --------------------------------------------------------------------------------------
# 1. synthetic functions with exact powers


GRIDS = {
    "legendre:3": legendre_quadrature(3),
    "legendre:3:i": legendre_quadrature(3, inversion=True),
    "legendre:4:i": legendre_quadrature(4, inversion=True),
    "lebedev:5:i": lebedev_quadrature(5, inversion=True),
}


@pytest.mark.parametrize("label", GRIDS)
def test_entries_of_the_rotation_are_pure_l1_with_the_right_parity(label):
    q = GRIDS[label]
    g = q.rotations
    assert q.degree // 2 >= 2
    for f, odd in [(g[:, 0, 2], q.inversion), (det(g) * g[:, 0, 2], False)]:
        ap = angular_power(f, q)
        assert ap.orders == tuple(range(ap.resolved_l_max + 1))
        assert ap.variance == pytest.approx(1 / 3, abs=1e-12)
        expected = np.zeros(len(ap.orders))
        expected[1] = 1 / 3
        np.testing.assert_allclose(ap.power, expected, atol=1e-12)
        np.testing.assert_allclose(ap.power_odd, expected if odd else 0.0, atol=1e-12)
        assert ap.unresolved == pytest.approx(0.0, abs=1e-12)
        assert ap.shares[1] == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("label", GRIDS)
def test_legendre_p2_of_an_entry_is_pure_l2_and_mixtures_add_in_quadrature(label):
    q = GRIDS[label]
    g = q.rotations
    f2 = p2(g[:, 2, 2])
    # P_2(cos beta) = D^2_00: mean 0 and mean square 1/5 (exact on a grid of degree >= 4)
    assert q.weights @ f2 == pytest.approx(0.0, abs=1e-12)
    assert q.weights @ f2**2 == pytest.approx(1 / 5, abs=1e-12)
    ap = angular_power(f2, q)
    expected = np.zeros(len(ap.orders))
    expected[2] = 1 / 5
    np.testing.assert_allclose(ap.power, expected, atol=1e-12)
    np.testing.assert_allclose(ap.power_odd, 0.0, atol=1e-12)

    a, b, c = 0.7, -1.3, 2.0
    mix = c + a * g[:, 0, 2] + b * f2
    ap = angular_power(mix, q)
    assert ap.invariant == pytest.approx(c**2, abs=1e-12)
    assert ap.power[1] == pytest.approx(a**2 / 3, abs=1e-12)
    assert ap.power[2] == pytest.approx(b**2 / 5, abs=1e-12)
    assert ap.power_odd[1] == pytest.approx(a**2 / 3 if q.inversion else 0.0, abs=1e-12)
    assert ap.power.sum() == pytest.approx(ap.variance, abs=1e-12)
    assert_sum_rule(ap, mix, q)


# --------------------------------------------------------------------------------------
# 2. aliasing: an l = 3 function on a grid that resolves l <= 2


def test_l3_is_unresolved_on_legendre3_and_resolved_on_legendre4():
    rng = np.random.default_rng(3)
    u, n = rng.standard_normal((2, 3))
    u, n = u / np.linalg.norm(u), n / np.linalg.norm(n)

    def f(q):
        return p3(np.einsum("a,kab,b->k", u, q.rotations, n))

    coarse = legendre_quadrature(3, inversion=True)
    ap = angular_power(f(coarse), coarse)
    assert ap.resolved_l_max == 2
    # l = 1 stays exact (3 + 1 <= degree 4); l = 2 gets an alias, and it keeps the parity (odd)
    assert ap.power[1] == pytest.approx(0.0, abs=1e-12)
    assert ap.power_odd[2] == pytest.approx(ap.power[2], abs=1e-12)
    assert ap.unresolved_share > 0.4
    assert ap.power[2] < 0.6 * ap.variance
    assert_sum_rule(ap, f(coarse), coarse)
    with pytest.raises(ValueError, match="l_max must be in 0..2"):
        angular_power(f(coarse), coarse, l_max=3)

    fine = legendre_quadrature(4, inversion=True)
    ap = angular_power(f(fine), fine)
    assert ap.resolved_l_max == 3
    assert ap.power[3] == pytest.approx(1 / 7, abs=1e-12)
    assert ap.power_odd[3] == pytest.approx(1 / 7, abs=1e-12)
    assert ap.power[:3] == pytest.approx(0.0, abs=1e-12)
    assert ap.unresolved == pytest.approx(0.0, abs=1e-12)
    # asking for fewer orders puts the rest in ``unresolved``
    low = angular_power(f(fine), fine, l_max=2)
    assert low.unresolved == pytest.approx(1 / 7, abs=1e-12)


# --------------------------------------------------------------------------------------
# 3. the toy: each anisotropic term a_l P_l(u . n_l) is order l with parity (-1)^l


@pytest.mark.parametrize("l", [1, 2, 3])
def test_toy_term_of_order_l_sits_in_order_l(l, water_molecule):
    q = legendre_quadrature(4, inversion=True)
    a = 0.01
    energies, _ = on_grid(toy(**{f"a{l}": a}), water_molecule, q)
    ap = angular_power(energies, q)
    # the variance of P_l(x) with x uniform in [-1, 1] is 1/(2l+1)
    assert ap.variance == pytest.approx(a**2 / (2 * l + 1), rel=1e-10)
    assert ap.shares[l] > 0.999999
    assert ap.power_odd[l] == pytest.approx(ap.power[l] if l % 2 else 0.0, rel=1e-10, abs=1e-16)
    assert ap.unresolved_share < 1e-6


def test_toy_l1_plus_l2_splits_as_a2_over_3_and_b2_over_5(water_molecule):
    q = legendre_quadrature(3, inversion=True)
    a, b = 0.02, 0.01
    energies, _ = on_grid(toy(a1=a, a2=b), water_molecule, q)
    ap = angular_power(energies, q)
    assert ap.power[1] == pytest.approx(a**2 / 3, rel=1e-10)
    assert ap.power[2] == pytest.approx(b**2 / 5, rel=1e-10)
    assert ap.power[1] / ap.power[2] == pytest.approx(5 * a**2 / (3 * b**2), rel=1e-10)
    assert ap.power_odd[1] == pytest.approx(a**2 / 3, rel=1e-10)
    assert ap.power_odd[2] == pytest.approx(0.0, abs=1e-16)
    assert_sum_rule(ap, energies, q)


def test_toy_l3_on_a_grid_too_coarse_is_reported_unresolved(water_molecule):
    q = legendre_quadrature(3, inversion=True)
    energies, _ = on_grid(toy(a3=0.01), water_molecule, q)
    ap = angular_power(energies, q)
    assert ap.unresolved_share > 0.5
    assert ap.power[1] == pytest.approx(0.0, abs=1e-16)
    # the alias into l = 2 keeps the odd parity, which no toy term of order 2 has
    assert ap.power_odd[2] == pytest.approx(ap.power[2], rel=1e-10)


# --------------------------------------------------------------------------------------
# 4. forces: back-rotated forces of an order-l term are order l too


def test_invariant_toy_has_no_angular_power_and_no_nan(water_molecule):
    q = legendre_quadrature(3, inversion=True)
    pot = load_potential("toy", dipole_amplitudes={}, bond_amplitudes={})
    energies, forces = on_grid(pot, water_molecule, q)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for values in (energies, forces):
            ap = angular_power(values, q)
            assert ap.is_invariant
            assert ap.variance < 1e-24 * ap.mean_square
            assert np.all(ap.shares == 0.0)
            assert ap.unresolved_share == 0.0
    # exactly zero values are invariant too
    ap = angular_power(np.zeros(len(q)), q)
    assert ap.is_invariant and np.all(ap.shares == 0.0) and ap.unresolved_share == 0.0


@pytest.mark.parametrize("l", [1, 2])
def test_toy_forces_of_an_order_l_term_are_order_l(l, water_molecule):
    q = legendre_quadrature(4, inversion=True)
    pot = toy(**{f"a{l}": 0.01})
    _, forces = on_grid(pot, water_molecule, q)
    ap = angular_power(forces, q)
    assert ap.shares[l] > 0.999999
    assert ap.power_odd[l] == pytest.approx(ap.power[l] if l % 2 else 0.0, rel=1e-10, abs=1e-16)
    # the (0, +) part is the averaged force: the invariant model's
    invariant_forces = pot.invariant_part([water_molecule]).forces[0]
    assert ap.invariant == pytest.approx(np.sum(invariant_forces**2), rel=1e-10)
    assert_sum_rule(ap, forces, q)


# --------------------------------------------------------------------------------------
# 5. sum rule and exactness for band-limited functions


def random_polynomial(rng, rotations, degree, pseudo=False):
    """A random polynomial of the given degree (<= 3) in the entries of the rotations."""
    flat = rotations.reshape(len(rotations), 9)
    f = rng.standard_normal() + flat @ rng.standard_normal(9)
    if degree >= 2:
        f = f + np.einsum("ka,kb,ab->k", flat, flat, rng.standard_normal((9, 9)))
    if degree >= 3:
        f = f + np.einsum("ka,kb,kc,abc->k", flat, flat, flat, rng.standard_normal((9, 9, 9)) / 5)
    if pseudo:
        f = f + rng.standard_normal() * det(rotations)
    return f


@pytest.mark.parametrize("inversion", [False, True])
def test_sum_rule_and_grid_independence_for_band_limited_functions(inversion):
    coarse = legendre_quadrature(3, inversion=inversion)
    fine = legendre_quadrature(5, inversion=inversion)
    # the same coefficients on both grids: a fixed function of degree 2 (orders <= 2)
    f_coarse = random_polynomial(np.random.default_rng(7), coarse.rotations, 2, inversion)
    f_fine = random_polynomial(np.random.default_rng(7), fine.rotations, 2, inversion)
    ap_coarse = angular_power(f_coarse, coarse)
    ap_fine = angular_power(f_fine, fine, l_max=2)
    assert_sum_rule(ap_coarse, f_coarse, coarse, atol=1e-10)
    assert ap_coarse.unresolved == pytest.approx(0.0, abs=1e-10)
    assert ap_fine.unresolved == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(ap_coarse.power, ap_fine.power, atol=1e-10)
    np.testing.assert_allclose(ap_coarse.power_odd, ap_fine.power_odd, atol=1e-10)
    assert ap_coarse.variance == pytest.approx(ap_fine.variance, abs=1e-10)
    assert ap_coarse.power[1:].min() > 1e-3  # the test is not vacuous
    if inversion:
        # the det term is the (0, -) pseudoscalar part: rotational variance of order 0
        assert ap_coarse.power[0] > 1e-3 and ap_coarse.power_odd[0] == ap_coarse.power[0]


def test_forces_shaped_values_use_the_dot_product_over_atoms_and_components():
    q = legendre_quadrature(4, inversion=True)
    rng = np.random.default_rng(11)
    components = [random_polynomial(rng, q.rotations, 3, pseudo=True) for _ in range(6)]
    values = np.stack(components, axis=1).reshape(-1, 2, 3)
    ap = angular_power(values, q)
    parts = [angular_power(values[:, i, j], q) for i in range(2) for j in range(3)]
    np.testing.assert_allclose(ap.power, sum(p.power for p in parts), atol=1e-10)
    np.testing.assert_allclose(ap.power_odd, sum(p.power_odd for p in parts), atol=1e-10)
    assert ap.variance == pytest.approx(sum(p.variance for p in parts), abs=1e-10)
    assert ap.unresolved == pytest.approx(0.0, abs=1e-9)
    assert_sum_rule(ap, values, q, atol=1e-9)


def test_power_does_not_depend_on_the_grid_orientation():
    # only relative rotations enter: a grid rotated from the left or the right gives the same powers
    q = legendre_quadrature(3, inversion=True)
    rotate = euler_zxz(0.3, 1.1, -0.4)
    rng = np.random.default_rng(5)
    coefficients = rng.standard_normal((3, 3))

    def f(g):
        return np.einsum("kab,ab->k", g, coefficients) + p2(g[:, 1, 2])

    for moved in (rotate @ q.rotations, q.rotations @ rotate):
        a = angular_power(f(q.rotations), q)
        b = angular_power(f(moved), replace(q, rotations=moved))
        np.testing.assert_allclose(a.power, b.power, atol=1e-12)
        np.testing.assert_allclose(a.power_odd, b.power_odd, atol=1e-12)


def test_bad_input_is_refused_with_a_reason():
    q = legendre_quadrature(2)
    with pytest.raises(ValueError, match="one entry per rotation"):
        angular_power(np.zeros(len(q) + 1), q)
    with pytest.raises(ValueError, match="l_max"):
        angular_power(np.zeros(len(q)), q, l_max=2)
    assert angular_power(np.zeros(len(q)), q).orders == (0, 1)
