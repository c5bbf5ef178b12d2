"""Symmetry metrics: net force and torque, weighted statistics, the error decomposition."""

import numpy as np
import pytest
from symbreak.potentials.toy import ToyWater
from symbreak.symmetry.metrics import (
    centre_of_mass,
    error_decomposition,
    net_force,
    net_torque,
    rms_spread,
    weighted_mean,
    weighted_std,
)


def test_net_torque_of_a_known_couple():
    positions = np.array([[1.0, 0, 0], [-1.0, 0, 0]])
    forces = np.array([[0, 1.0, 0], [0, -1.0, 0]])
    numbers = np.array([1, 1])
    np.testing.assert_allclose(net_torque(positions, forces, numbers), [0, 0, 2.0], atol=1e-15)
    np.testing.assert_allclose(net_force(forces), 0.0, atol=1e-15)


def test_torque_is_about_the_centre_of_mass():
    """Unequal masses: a force through the centre of mass exerts no torque, one through the origin does."""
    positions = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    numbers = np.array([8, 1])
    com = centre_of_mass(positions, numbers)
    assert 0 < com[0] < 0.1
    forces = np.array([[0, 0, 0], [1.0, 0, 0]])  # along the axis: no torque about any point on it
    np.testing.assert_allclose(net_torque(positions, forces, numbers), 0.0, atol=1e-15)
    forces = np.array([[0, 1.0, 0], [0, 0, 0]])  # on the O, off the centre of mass
    # arm r_O - R_com = (-x_com, 0, 0), so tau = (-x_com, 0, 0) x (0, 1, 0)
    np.testing.assert_allclose(net_torque(positions, forces, numbers), [0, 0, -com[0]], atol=1e-15)


def test_net_torque_vanishes_for_the_invariant_toy_only(water_molecule):
    s = water_molecule
    invariant = ToyWater().invariant_part([s]).forces[0]
    full = ToyWater().compute([s]).forces[0]
    assert np.abs(invariant).max() > 1e-2  # distorted molecule: real forces
    np.testing.assert_allclose(net_torque(s.positions, invariant, s.numbers), 0.0, atol=1e-10)
    assert np.linalg.norm(net_torque(s.positions, full, s.numbers)) > 1e-4
    # both are translation invariant: no net force
    np.testing.assert_allclose(net_force(invariant), 0.0, atol=1e-10)
    np.testing.assert_allclose(net_force(full), 0.0, atol=1e-10)


def test_net_torque_is_independent_of_a_shift_when_the_net_force_is_zero(water_molecule):
    s = water_molecule
    forces = ToyWater().compute([s]).forces[0]
    shifted = net_torque(s.positions + [3.0, -2.0, 5.0], forces, s.numbers)
    np.testing.assert_allclose(shifted, net_torque(s.positions, forces, s.numbers), atol=1e-12)


def test_weighted_mean_and_std_against_numpy():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((50, 4, 3))
    np.testing.assert_allclose(weighted_mean(values, np.ones(50)), values.mean(axis=0), atol=1e-14)
    np.testing.assert_allclose(weighted_std(values, np.full(50, 3.0)), values.std(axis=0), atol=1e-14)
    weights = rng.uniform(0.1, 1.0, 50)
    np.testing.assert_allclose(
        weighted_mean(values, weights), np.average(values, axis=0, weights=weights), atol=1e-14
    )
    # weights need not be normalised
    np.testing.assert_allclose(weighted_mean(values, 7 * weights), weighted_mean(values, weights), atol=1e-14)


def test_weighted_std_of_a_constant_is_zero():
    weights = np.random.default_rng(1).uniform(0.1, 1.0, 36)
    assert weighted_std(np.full(36, -123.456), weights) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(weighted_std(np.full((36, 5, 3), 0.1), weights), 0.0, atol=1e-12)
    assert rms_spread(np.full((36, 5, 3), 2.5), weights) == pytest.approx(0.0, abs=1e-12)


def test_rms_spread_is_the_rms_of_componentwise_stds():
    rng = np.random.default_rng(2)
    values = rng.standard_normal((20, 6, 3)) * np.arange(1, 4)
    weights = rng.uniform(0.1, 1.0, 20)
    std = weighted_std(values, weights)
    assert rms_spread(values, weights) == pytest.approx(np.sqrt(np.mean(std**2)), rel=1e-14)
    assert rms_spread(values, weights) > 0.5


@pytest.mark.parametrize("shape", [(30,), (30, 4, 3)])
def test_error_decomposition_identity(shape):
    rng = np.random.default_rng(3)
    values = rng.standard_normal(shape) + 0.4
    weights = rng.uniform(0.05, 2.0, shape[0])
    reference = rng.standard_normal(shape[1:]) if len(shape) > 1 else 0.1
    d = error_decomposition(values, weights, reference)
    assert d.mse == pytest.approx(d.bias_squared + d.variance, rel=1e-12)
    # each term against its definition
    w = weights / weights.sum()
    mean = np.tensordot(w, values, axes=(0, 0))
    assert d.bias_squared == pytest.approx(np.mean((mean - reference) ** 2), rel=1e-12)
    assert d.mse == pytest.approx(np.mean(np.tensordot(w, (values - reference) ** 2, axes=(0, 0))), rel=1e-12)
    assert d.bias_squared > 0 and d.variance > 0


def test_error_decomposition_limits():
    weights = np.ones(10)
    constant = error_decomposition(np.full(10, 2.0), weights, 1.5)
    assert constant.variance == pytest.approx(0.0, abs=1e-15)
    assert constant.mse == pytest.approx(0.25) and constant.bias_squared == pytest.approx(0.25)
    centred = error_decomposition(np.array([1.0, -1.0] * 5), weights, 0.0)
    assert centred.bias_squared == pytest.approx(0.0, abs=1e-15)
    assert centred.mse == pytest.approx(1.0) and centred.variance == pytest.approx(1.0)
