"""Dynamics: random-walk MSD, rigid-rotor orientation correlation, spectrum of a sine."""

import numpy as np
import pytest
from symbreak.analysis.dynamics import (
    THZ_TO_CM1,
    diffusion_coefficient,
    mean_squared_displacement,
    orientation_autocorrelation,
    power_spectrum,
    uniform_spacing,
)
from symbreak.analysis.molecules import dipole_axes
from symbreak.structures import molecule_geometry


def random_walk(n_mol=200, n_frames=1000, step=0.1, seed=0):
    """Rigid water molecules doing independent Gaussian random walks; (T, N, 3) unwrapped positions."""
    rng = np.random.default_rng(seed)
    centres = np.cumsum(step * rng.standard_normal((n_frames, n_mol, 3)), axis=0)
    centres += rng.uniform(0, 12.0, (1, n_mol, 3))
    positions = centres[:, :, None, :] + molecule_geometry()[None, None]
    return positions.reshape(n_frames, -1, 3), np.tile([8, 1, 1], n_mol)


def test_uniform_spacing():
    assert uniform_spacing(np.arange(10) * 0.5) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="not uniformly spaced: step 3"):
        uniform_spacing(np.array([0, 1, 2, 3, 3, 4, 5.0]))  # a restart repeated a frame
    with pytest.raises(ValueError, match="must increase"):
        uniform_spacing(np.arange(5.0)[::-1])


def test_fft_msd_equals_the_direct_average_over_origins():
    positions, numbers = random_walk(n_mol=3, n_frames=30, seed=1)
    curve = mean_squared_displacement(positions, numbers, max_lag=10, remove_drift=False)
    assert curve.time is None and curve.errors is None  # neither times nor blocks given
    msd = curve.values
    o = positions[:, 0::3]
    direct = [np.mean(np.sum((o[m:] - o[: len(o) - m]) ** 2, axis=-1)) for m in range(11)]
    np.testing.assert_allclose(msd, direct, rtol=1e-10, atol=1e-12)


def test_random_walk_msd_is_6_d_t():
    step, dt = 0.1, 0.01  # A per component per frame, ps
    diffusion = step**2 / (2 * dt)
    positions, numbers = random_walk(step=step)
    times = np.arange(len(positions)) * dt
    n_mol = len(numbers) // 3
    for remove_drift, factor in [(False, 1.0), (True, 1 - 1 / n_mol)]:
        msd = mean_squared_displacement(positions, numbers, times=times, max_lag=50, remove_drift=remove_drift, n_blocks=5)
        expected = 6 * diffusion * msd.time * factor
        assert np.all(np.abs(msd.values - expected)[1:] < 5 * msd.errors[1:])
        assert diffusion_coefficient(msd.time, msd.values) == pytest.approx(diffusion * factor, rel=0.03)


def test_wrapped_positions_are_refused():
    positions, numbers = random_walk(n_mol=20, n_frames=200, step=0.3, seed=2)
    cell = np.eye(3) * 12.0
    wrapped = positions - np.floor(positions / 12.0) * 12.0
    with pytest.raises(ValueError, match="look wrapped"):
        mean_squared_displacement(wrapped, numbers, cells=cell)
    mean_squared_displacement(positions, numbers, cells=cell)  # unwrapped: accepted
    with pytest.raises(ValueError, match="not uniformly spaced"):
        mean_squared_displacement(positions, numbers, times=np.arange(200.0) ** 1.5)


def test_rigid_rotor_orientation_correlation_is_cos_omega_t():
    """Molecules spinning at omega about an axis perpendicular to their dipole axis."""
    omega, dt = 2.0, 0.05  # rad/ps, ps
    times = np.arange(400) * dt
    rng = np.random.default_rng(3)
    frames = []
    from scipy.spatial.transform import Rotation

    body = Rotation.random(5, random_state=rng)  # each molecule's own frame; it spins about its x axis
    for t in times:
        spin = Rotation.from_rotvec([omega * t, 0.0, 0.0])
        frames.append(np.concatenate([(b * spin).apply(molecule_geometry()) + 10 * k for k, b in enumerate(body)]))
    u = dipole_axes(np.array(frames), np.tile([8, 1, 1], 5))
    c = orientation_autocorrelation(u, times=times, max_lag=150)
    np.testing.assert_allclose(c.values, np.cos(omega * c.time), atol=1e-10)
    c = orientation_autocorrelation(u, times=times, max_lag=50, n_blocks=4)
    np.testing.assert_allclose(c.values, np.cos(omega * c.time), atol=1e-10)
    with pytest.raises(ValueError, match="unit vectors"):
        orientation_autocorrelation(np.array(frames))


def test_power_spectrum_of_a_sine_peaks_at_its_frequency():
    dt = 0.001  # ps: 1 fs
    times = np.arange(2**14) * dt
    wavenumber = 1234.0  # cm^-1
    series = 3.0 + 0.5 * np.sin(2 * np.pi * wavenumber / THZ_TO_CM1 * times)
    s = power_spectrum(times, series, n_segments=8)
    peak = s.frequency[np.argmax(s.spectrum)]
    assert abs(peak - wavenumber) <= s.resolution
    # the integral of the one-sided density is the variance (0.5^2 / 2)
    assert np.trapezoid(s.spectrum, s.frequency) == pytest.approx(0.125, rel=0.02)
    two = power_spectrum(times, np.stack([series, 2 * series], axis=1))
    np.testing.assert_allclose(two.spectrum[:, 1], 4 * two.spectrum[:, 0])
    with pytest.raises(ValueError, match="series must be"):
        power_spectrum(times, series[:-1])
