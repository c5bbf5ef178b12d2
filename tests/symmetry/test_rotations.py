"""Rotation matrices: Euler angles, Haar-random draws, back-rotation of forces and virials."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from symbreak.potentials.toy import ToyWater
from symbreak.symmetry.rotations import (
    euler_zxz,
    haar_rotations,
    rotate_forces_back,
    rotate_virial_back,
    rotation_x,
    rotation_z,
)


def assert_orthogonal(rotations, atol=1e-12):
    eye = np.broadcast_to(np.eye(3), rotations.shape)
    np.testing.assert_allclose(rotations @ np.swapaxes(rotations, -1, -2), eye, atol=atol)
    np.testing.assert_allclose(np.swapaxes(rotations, -1, -2) @ rotations, eye, atol=atol)


def test_elementary_rotations_turn_the_right_axes():
    q = np.pi / 2
    np.testing.assert_allclose(rotation_z(q) @ [1.0, 0, 0], [0, 1, 0], atol=1e-15)
    np.testing.assert_allclose(rotation_z(q) @ [0, 0, 1.0], [0, 0, 1], atol=1e-15)
    np.testing.assert_allclose(rotation_x(q) @ [0, 1.0, 0], [0, 0, 1], atol=1e-15)
    np.testing.assert_allclose(rotation_x(q) @ [1.0, 0, 0], [1, 0, 0], atol=1e-15)


def test_euler_zxz_is_orthogonal_with_det_one_and_broadcasts():
    rng = np.random.default_rng(0)
    alpha, gamma = rng.uniform(0, 2 * np.pi, (2, 5, 4))
    beta = rng.uniform(0, np.pi, (5, 4))
    rot = euler_zxz(alpha, beta, gamma)
    assert rot.shape == (5, 4, 3, 3)
    assert_orthogonal(rot)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-12)


def test_euler_zxz_is_rz_rx_rz():
    rng = np.random.default_rng(1)
    for alpha, beta, gamma in rng.uniform(0, np.pi, (5, 3)):
        expected = rotation_z(alpha) @ rotation_x(beta) @ rotation_z(gamma)
        np.testing.assert_allclose(euler_zxz(alpha, beta, gamma), expected, atol=1e-14)
        # scipy's intrinsic 'ZXZ' is the same product
        scipy_rot = Rotation.from_euler("ZXZ", [alpha, beta, gamma]).as_matrix()
        np.testing.assert_allclose(euler_zxz(alpha, beta, gamma), scipy_rot, atol=1e-14)


def test_haar_rotations_are_proper_rotations():
    rot = haar_rotations(np.random.default_rng(2), 500)
    assert rot.shape == (500, 3, 3)
    assert_orthogonal(rot)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-12)


def test_haar_rotations_improper_about_half():
    rot = haar_rotations(np.random.default_rng(3), 4000, improper=True)
    assert_orthogonal(rot)
    det = np.linalg.det(rot)
    np.testing.assert_allclose(np.abs(det), 1.0, atol=1e-12)
    fraction = np.mean(det < 0)
    # binomial std for 4000 draws is 0.008
    assert 0.46 < fraction < 0.54, fraction


def test_haar_rotations_are_reproducible_from_the_seed():
    a = haar_rotations(np.random.default_rng(7), 10, improper=True)
    b = haar_rotations(np.random.default_rng(7), 10, improper=True)
    c = haar_rotations(np.random.default_rng(8), 10, improper=True)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_haar_rotations_are_uniform():
    n = 20000
    rot = haar_rotations(np.random.default_rng(4), n)
    # <R> = 0 over SO(3): each entry has variance 1/3, so the std of the mean is 0.004
    np.testing.assert_allclose(rot.mean(axis=0), 0.0, atol=0.025)
    # <P_2(a . R b)> = 0 for fixed unit a, b (uniform Euler angles would give 1/4 for a = b = z)
    for a, b in [([0, 0, 1.0], [0, 0, 1.0]), ([1.0, 0, 0], [0, 0.6, 0.8])]:
        x = np.einsum("a,nab,b->n", a, rot, b)
        p2 = 1.5 * x**2 - 0.5
        assert abs(p2.mean()) < 0.02, (a, b, p2.mean())
        # a rotated unit vector is uniform on the sphere: <x> = 0 and <x^2> = 1/3
        assert abs(x.mean()) < 0.02
        assert abs((x**2).mean() - 1 / 3) < 0.01


def test_back_rotation_round_trips():
    rng = np.random.default_rng(5)
    forces = rng.standard_normal((7, 3))
    virial = rng.standard_normal((3, 3))
    for rot in haar_rotations(rng, 5, improper=True):
        forces_rotated = forces @ rot.T  # f' = R f, row by row
        np.testing.assert_allclose(rotate_forces_back(forces_rotated, rot), forces, atol=1e-13)
        np.testing.assert_allclose(rotate_virial_back(rot @ virial @ rot.T, rot), virial, atol=1e-13)


def test_back_rotation_of_an_invariant_potential_recovers_the_original(water_box_triclinic):
    """F(R x) = R F(x) and W(R x) = R W(x) R^T for an O(3)-invariant model, so back-rotation is exact."""
    pot = ToyWater(dipole_amplitudes={}, bond_amplitudes={})
    s = water_box_triclinic
    e0, f0, w0 = pot.compute_one(s)
    for rot in haar_rotations(np.random.default_rng(6), 3, improper=True):
        e, f, w = pot.compute_one(s.rotated(rot))
        assert e == pytest.approx(e0, abs=1e-10)
        assert not np.allclose(f, f0)  # the rotated forces really differ
        np.testing.assert_allclose(rotate_forces_back(f, rot), f0, atol=1e-10)
        np.testing.assert_allclose(rotate_virial_back(w, rot), w0, atol=1e-10)
