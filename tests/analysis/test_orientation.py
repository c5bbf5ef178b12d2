"""Orientational free energy and anisotropy: isotropic and known anisotropic distributions."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from symbreak.analysis.orientation import (
    anisotropy,
    harmonic_indices,
    orientational_free_energy,
    real_spherical_harmonics,
)


def isotropic_axes(n_frames, n_mol, seed):
    """Dipole axes of Haar-random molecular orientations, (T, M, 3)."""
    rot = Rotation.random(n_frames * n_mol, random_state=seed).as_matrix()
    return (rot @ np.array([0.0, 1.0, 0.0])).reshape(n_frames, n_mol, 3)


def p2_axes(n_frames, n_mol, a, seed):
    """Unit vectors with density (1 + a P_2(cos theta)) / 4 pi, by rejection."""
    rng = np.random.default_rng(seed)
    n = n_frames * n_mol
    c = np.empty(0)
    while len(c) < n:
        trial = rng.uniform(-1, 1, 2 * n)
        keep = rng.uniform(0, 1 + a, 2 * n) < 1 + a * 0.5 * (3 * trial**2 - 1)
        c = np.concatenate([c, trial[keep]])
    c = c[:n]
    phi = rng.uniform(-np.pi, np.pi, n)
    s = np.sqrt(1 - c**2)
    return np.stack([s * np.cos(phi), s * np.sin(phi), c], axis=-1).reshape(n_frames, n_mol, 3)


def test_real_spherical_harmonics_are_orthonormal():
    c, w = np.polynomial.legendre.leggauss(10)
    phi = 2 * np.pi * np.arange(20) / 20
    cc, pp = np.meshgrid(c, phi, indexing="ij")
    s = np.sqrt(1 - cc**2)
    u = np.stack([s * np.cos(pp), s * np.sin(pp), cc], axis=-1)
    Y = real_spherical_harmonics(u, l_max=4, l_min=0)
    weights = (w[:, None] * np.full(20, 2 * np.pi / 20))[..., None, None]
    gram = np.sum(weights * Y[..., :, None] * Y[..., None, :], axis=(0, 1))
    np.testing.assert_allclose(gram, np.eye(25), atol=1e-12)
    l, m = harmonic_indices(2)
    assert list(zip(l, m)) == [(1, -1), (1, 0), (1, 1), (2, -2), (2, -1), (2, 0), (2, 1), (2, 2)]


def test_isotropic_orientations_give_flat_free_energy_and_no_anisotropy():
    u = isotropic_axes(200, 500, seed=0)
    fe = orientational_free_energy(u, n_blocks=20, n_cos=20, n_phi=40)
    z = (fe.P - 1.0) / fe.P_err
    assert np.all(np.abs(z) < 6.0)  # 800 grid points, Student-t with 19 degrees of freedom
    assert 0.6 < np.mean(z**2) < 1.6
    np.testing.assert_allclose(fe.F_err, fe.P_err / fe.P)
    np.testing.assert_allclose(fe.P_cos, 1.0, atol=5 * fe.P_cos_err.max())
    an = anisotropy(u, n_blocks=20)
    assert an.z < 3.0
    # A is positive even for an isotropic sample: it sits at its noise floor
    assert an.dof == 24 and 0.5 * an.A_noise < an.A < 2 * an.A_noise


def smoothed_p2(cos_grid, a, sigma):
    """The expected kernel estimate of P(cos theta) = 1 + a P_2: the density convolved with reflecting walls."""
    c = np.linspace(-1, 1, 8001)
    f = 1 + a * 0.5 * (3 * c**2 - 1)
    g = lambda x: np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    kernel = g(cos_grid[:, None] - c) + g(cos_grid[:, None] - (2 - c)) + g(cos_grid[:, None] - (-2 - c))
    return np.trapezoid(kernel * f, c, axis=1)


def test_a_p2_distribution_is_recovered():
    a = 0.6
    u = p2_axes(200, 500, a, seed=1)
    fe = orientational_free_energy(u, n_blocks=20, n_cos=20, n_phi=40)
    expected = -np.log(smoothed_p2(fe.cos_theta, a, 0.1))
    assert np.all(np.abs(fe.F_cos - expected) < 5 * fe.F_cos_err)
    # away from the walls the smoothing is a small bias: -ln P follows the analytic curve
    c = fe.cos_theta
    inner = np.abs(c) < 0.8
    analytic = -np.log(1 + a * 0.5 * (3 * c**2 - 1))
    assert np.all(np.abs(fe.F_cos[inner] - analytic[inner]) < 0.03)
    # and it does not depend on phi
    assert np.mean(((fe.P - fe.P_cos[:, None]) / fe.P_err) ** 2) < 2.0

    an = anisotropy(u, n_blocks=20)
    k20 = np.flatnonzero((an.l == 2) & (an.m == 0))[0]
    assert abs(an.amplitudes[k20] - a / np.sqrt(20 * np.pi)) < 4 * an.errors[k20]
    others = np.delete(np.arange(len(an.l)), k20)
    assert np.mean((an.amplitudes[others] / an.errors[others]) ** 2) < 2.5
    assert abs(an.A - a / np.sqrt(5)) < 4 * an.A_err
    assert an.A > 10 * an.A_noise
    assert an.z > 100
    assert an.A_l[1] == pytest.approx(an.A, rel=0.05)


def test_inputs_that_are_not_unit_vectors_are_refused():
    with pytest.raises(ValueError, match="unit vectors"):
        orientational_free_energy(np.ones((10, 3, 3)))
    with pytest.raises(ValueError, match=r"\(T, M, 3\)"):
        anisotropy(np.ones((10, 3, 2)))
    with pytest.raises(ValueError, match="n_blocks >= 6"):
        anisotropy(isotropic_axes(10, 2, seed=0), n_blocks=3)
    with pytest.raises(ValueError, match="width must be"):
        orientational_free_energy(isotropic_axes(20, 2, seed=0), width=(0.1, 0.1, 0.1))
    with pytest.raises(ValueError, match="cannot be split"):
        orientational_free_energy(isotropic_axes(5, 2, seed=0), n_blocks=10)
