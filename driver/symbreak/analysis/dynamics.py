"""Dynamics along a trajectory: MSD of O, dipole-axis autocorrelation, power spectra.

    dt = uniform_spacing(times)                                   # ps; ValueError on gaps or repeats
    msd = mean_squared_displacement(positions, numbers, cells, times=times, n_blocks=5)   # LagCurve, A^2
    D = diffusion_coefficient(msd.time, msd.values, t_min=2.0, t_max=10.0)   # A^2/ps
    c = orientation_autocorrelation(dipole_axes(positions, numbers, cells), times=times)
    c.time, c.values, c.errors                                    # ps, c_uu(t), None without n_blocks
    s = power_spectrum(times, delta_energy, n_segments=8)
    s.frequency, s.spectrum, s.resolution                         # cm^-1, units^2 per cm^-1, cm^-1

All averages over time origins use FFTs (O(T log T)). Times are in ps.
The MSD needs unwrapped positions (i-PI with pbc='false' writes them): a
jump of more than half a cell between consecutive frames is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from .blocks import block_apply
from .molecules import as_cells, as_frames, water_molecules

#: 1/ps (THz) to cm^-1: 1e12 / c(cm/s)
THZ_TO_CM1 = 1e12 / 2.99792458e10


@dataclass(frozen=True)
class LagCurve:
    """A function of the lag between frames, averaged over time origins (MSD in A^2, c_uu dimensionless)."""

    lag: np.ndarray  # (L,) lags in frames, 0..max_lag
    time: np.ndarray | None  # (L,) lags in ps; None without frame times
    values: np.ndarray  # (L,) the curve
    errors: np.ndarray | None  # (L,) block standard errors; None without n_blocks


@dataclass(frozen=True)
class PowerSpectrum:
    """One-sided power spectral density (Welch) whose integral over frequency is the variance."""

    frequency: np.ndarray  # (F,) cm^-1
    spectrum: np.ndarray  # (F,) or (F, k): series units^2 per cm^-1
    resolution: float  # cm^-1, the frequency resolution of one segment


def uniform_spacing(times, name: str = "times", rtol: float = 1e-2) -> float:
    """``dt = uniform_spacing(times)``: the frame spacing; ValueError unless times increase uniformly."""
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or len(t) < 2:
        raise InputError(f"{name} must be a 1-d array of at least 2 frame times, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise InputError(f"{name} contains NaN or infinite values")
    steps = np.diff(t)
    dt = float(np.median(steps))
    if dt <= 0:
        raise InputError(f"{name} must increase, median spacing is {dt}")
    bad = np.flatnonzero(np.abs(steps - dt) > rtol * dt)
    if bad.size:
        k = bad[0]
        raise InputError(
            f"{name} are not uniformly spaced: step {k} is {steps[k]:.6g}, the usual step is {dt:.6g} "
            f"({bad.size} irregular steps; a restart may have repeated or skipped frames)"
        )
    return dt


def _frame_times(times, n_frames: int):
    if times is None:
        return None, 1.0
    t = np.asarray(times, dtype=float)
    if t.shape != (n_frames,):
        raise InputError(f"times must have one entry per frame ({n_frames}), got shape {t.shape}")
    return t, uniform_spacing(t)


def _autocorrelation(x: np.ndarray) -> np.ndarray:
    """sum_t x(t) . x(t+m) / (T - m) over the frame axis 0, summed over all other axes."""
    n = len(x)
    f = np.fft.rfft(x.reshape(n, -1), n=2 * n, axis=0)
    acf = np.fft.irfft(np.sum(f * f.conj(), axis=1), n=2 * n)[:n]
    return acf / (n - np.arange(n))


def _msd_fft(x: np.ndarray) -> np.ndarray:
    """MSD(m) of (T, K, 3) positions averaged over origins and the K particles."""
    n = len(x)
    d = np.sum(x**2, axis=(1, 2))
    c = np.concatenate([[0.0], np.cumsum(d)])
    m = np.arange(n)
    s1 = (c[n] - c[m] + c[n - m]) / (n - m)
    return (s1 - 2.0 * _autocorrelation(x)) / x.shape[1]


def check_unwrapped(positions: np.ndarray, cells: np.ndarray | None) -> None:
    """``check_unwrapped(positions, cells)``: ValueError if an atom jumps more than half a cell between frames."""
    if cells is None or len(positions) < 2:
        return
    steps = np.diff(positions, axis=0)
    frac = np.einsum("tkj,tji->tki", steps, np.linalg.inv(cells[1:]))
    worst = np.abs(frac).max()
    if worst > 0.5:
        t, k, _ = np.unravel_index(np.argmax(np.abs(frac)), frac.shape)
        raise InputError(
            f"atom {k} moves {worst:.2f} cell lengths between frames {t} and {t + 1}: the positions look wrapped "
            "into the cell; the MSD needs unwrapped positions (i-PI pbc='false', or unwrap them first)"
        )


def mean_squared_displacement(
    positions, numbers, cells=None, times=None, max_lag: int | None = None, remove_drift: bool = True, n_blocks: int | None = None
) -> LagCurve:
    """``msd = mean_squared_displacement(positions, numbers, cells, times=times)``: MSD of O atoms (A^2).

    ``positions`` (T, N, 3) unwrapped, all atoms (the centre of mass of the
    whole system, from standard masses, is removed frame by frame when
    ``remove_drift``); ``cells`` only serve the check for wrapped positions.
    Returns a :class:`LagCurve`: ``msd.lag`` (frames), ``msd.time`` (ps, if
    ``times`` given), ``msd.values`` (A^2) and, with ``n_blocks``,
    ``msd.errors``: the MSD is then computed within each block of frames (lags
    up to ``max_lag``, default half a block).
    """
    positions = as_frames(positions)
    water_molecules(numbers, positions.shape[1])
    n_frames = len(positions)
    if n_frames < 2:
        raise InputError("the MSD needs at least 2 frames")
    cells = as_cells(cells, n_frames)
    times, dt = _frame_times(times, n_frames)
    check_unwrapped(positions, cells)
    oxygens = positions[:, 0::3]
    if remove_drift:
        from ase.data import atomic_masses

        masses = atomic_masses[np.asarray(numbers)]
        com = np.einsum("i,tij->tj", masses, positions) / masses.sum()
        oxygens = oxygens - (com - com[0])[:, None, :]
    return _lag_function(_msd_fft, oxygens, times, dt, max_lag, n_blocks)


def _lag_function(function, data, times, dt, max_lag, n_blocks) -> LagCurve:
    """``function(data)`` (a curve over lags) up to ``max_lag``, whole or per block of frames with errors."""
    n_frames = len(data)
    span = n_frames if n_blocks is None else n_frames // max(int(n_blocks), 1)
    if max_lag is None:
        max_lag = max(span // 2, 1)
    if not 1 <= max_lag < span:
        raise InputError(f"max_lag must be in [1, {span - 1}] frames (the length of one block or trajectory), got {max_lag}")

    def curve(x):
        return function(x)[: max_lag + 1]

    lag = np.arange(max_lag + 1)
    if n_blocks is None:
        values, errors = curve(data), None
    else:
        values, errors, _ = block_apply(curve, data, n_blocks=n_blocks)
    return LagCurve(lag=lag, time=None if times is None else lag * dt, values=values, errors=errors)


def diffusion_coefficient(time, msd, t_min: float | None = None, t_max: float | None = None) -> float:
    """``D = diffusion_coefficient(msd.time, msd.values, t_min=2.0, t_max=10.0)``: slope / 6 of a linear fit (A^2/ps)."""
    time = np.asarray(time, dtype=float)
    msd = np.asarray(msd, dtype=float)
    if time.shape != msd.shape or time.ndim != 1:
        raise InputError(f"time and msd must be 1-d arrays of the same length, got {time.shape} and {msd.shape}")
    lo = time.min() if t_min is None else t_min
    hi = time.max() if t_max is None else t_max
    window = (time >= lo) & (time <= hi)
    if window.sum() < 2:
        raise InputError(f"fewer than 2 points between t_min={lo} and t_max={hi}")
    return float(np.polyfit(time[window], msd[window], 1)[0] / 6.0)


def orientation_autocorrelation(u, times=None, max_lag: int | None = None, n_blocks: int | None = None) -> LagCurve:
    """``c = orientation_autocorrelation(u, times=times)``: c_uu(t) = <u(t0 + t) . u(t0)> over origins and molecules.

    ``u`` is (T, M, 3) unit vectors (:func:`symbreak.analysis.molecules.dipole_axes`).
    Returns a :class:`LagCurve`: ``c.lag``, ``c.time`` (ps, with ``times``),
    ``c.values`` (c_uu, dimensionless) and, with ``n_blocks``, ``c.errors``.
    """
    u = np.asarray(u, dtype=float)
    if u.ndim != 3 or u.shape[-1] != 3:
        raise InputError(f"u must be (T, M, 3) unit vectors, got shape {u.shape}")
    norm = np.linalg.norm(u, axis=-1)
    if not np.all(np.isfinite(u)) or np.max(np.abs(norm - 1.0)) > 1e-6:
        raise InputError("u must be finite unit vectors: pass dipole_axes(...), not positions")
    n_frames = len(u)
    times, dt = _frame_times(times, n_frames)
    return _lag_function(lambda x: _autocorrelation(x) / x.shape[1], u, times, dt, max_lag, n_blocks)


def power_spectrum(times, series, n_segments: int = 8, window: str = "hann") -> PowerSpectrum:
    """``s = power_spectrum(times_ps, series, n_segments=8)``: one-sided spectrum vs frequency in cm^-1.

    ``series`` (T,) or (T, k) sampled at uniform ``times`` (ps), e.g. V_plain
    or Delta = V_avg - V_plain. Welch's method: ``n_segments`` windowed
    segments overlapping by half, mean removed, periodograms averaged.
    Returns a :class:`PowerSpectrum`: ``s.frequency`` (cm^-1), ``s.spectrum`` in
    series units^2 per cm^-1, normalised so that its integral over frequency is
    the variance, and ``s.resolution`` (cm^-1).
    """
    from scipy.signal import welch

    t = np.asarray(times, dtype=float)
    x = np.asarray(series, dtype=float)
    if x.ndim not in (1, 2) or len(x) != len(t):
        raise InputError(f"series must be (T,) or (T, k) with T = len(times) = {len(t)}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("series contains NaN or infinite values")
    dt = uniform_spacing(t)
    if n_segments < 1:
        raise InputError(f"n_segments must be >= 1, got {n_segments}")
    # n_segments half-overlapping segments cover (n_segments + 1) / 2 segment lengths
    nperseg = int(2 * len(x) // (n_segments + 1))
    if nperseg < 8:
        raise InputError(f"{len(x)} frames are too few for {n_segments} segments of at least 8 frames")
    freq, spectrum = welch(x, fs=1.0 / dt, window=window, nperseg=nperseg, noverlap=nperseg // 2, detrend="constant", axis=0)
    return PowerSpectrum(frequency=freq * THZ_TO_CM1, spectrum=spectrum / THZ_TO_CM1, resolution=THZ_TO_CM1 / (nperseg * dt))
