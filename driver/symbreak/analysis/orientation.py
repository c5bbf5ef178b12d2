"""Orientational distribution of molecular axes in the lab frame: free energy and anisotropy.

    u = dipole_axes(positions, numbers, cells)                   # (T, M, 3), see molecules.py
    fe = orientational_free_energy(u, n_blocks=10, width=0.1)   # F(cos theta, phi)/kT = -ln P
    fe.F, fe.F_err, fe.cos_theta, fe.phi                         # (n_cos, n_phi) and its grid
    an = anisotropy(u, l_max=4, n_blocks=10)                     # <Y_lm(u)>, A, its error, a z-score
    an.A, an.A_err, an.z

P is the probability density of u per unit solid angle times 4 pi, so an
isotropic distribution has P = 1 and F = 0 everywhere. The density is a
Gaussian kernel estimate in (cos theta, phi), the coordinates in which the
isotropic density is flat, with reflecting walls at cos theta = +-1 and
periodic phi. A rotation-invariant model cannot prefer any lab direction:
any structure in F, and any low-l harmonic amplitude beyond its error bar,
is broken symmetry (or too short a run).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
from scipy.special import lpmv

from ..core.errors import InputError
from .blocks import block_apply, block_average

#: fine histogram behind the kernel estimate (bins in cos theta, phi); bins of 0.005 and 0.009 rad
_FINE = (400, 720)


def _check_unit_vectors(u) -> np.ndarray:
    u = np.asarray(u, dtype=float)
    if u.ndim == 2:
        u = u[None]
    if u.ndim != 3 or u.shape[-1] != 3:
        raise InputError(f"u must be (T, M, 3) unit vectors (or (M, 3) for one frame), got shape {u.shape}")
    if not np.all(np.isfinite(u)):
        raise InputError("u contains NaN or infinite values")
    norm = np.linalg.norm(u, axis=-1)
    if np.max(np.abs(norm - 1.0)) > 1e-6:
        raise InputError(
            f"u must be unit vectors (norms range {norm.min():.3g}..{norm.max():.3g}): pass dipole_axes(...), not positions"
        )
    return u


def _angles(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(u[..., 2], -1.0, 1.0), np.arctan2(u[..., 1], u[..., 0])


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * (x / sigma) ** 2) / (np.sqrt(2.0 * np.pi) * sigma)


def _kernel_matrices(cos_grid, phi_grid, sigma_c, sigma_phi):
    """Smoothing matrices from the fine bins to the output grid, walls and periodicity included."""
    n_c, n_p = _FINE
    fine_c = -1.0 + (np.arange(n_c) + 0.5) * 2.0 / n_c
    fine_p = -np.pi + (np.arange(n_p) + 0.5) * 2.0 * np.pi / n_p
    dc = cos_grid[:, None] - fine_c[None, :]
    # reflections of each sample in the walls at +1 and -1 keep an isotropic density flat up to the walls
    k_c = _gaussian(dc, sigma_c) + _gaussian(cos_grid[:, None] - (2.0 - fine_c[None, :]), sigma_c)
    k_c += _gaussian(cos_grid[:, None] - (-2.0 - fine_c[None, :]), sigma_c)
    n_wrap = int(np.ceil(6.0 * sigma_phi / (2.0 * np.pi))) + 1
    dp = phi_grid[:, None] - fine_p[None, :]
    k_p = sum(_gaussian(dp + 2.0 * np.pi * k, sigma_phi) for k in range(-n_wrap, n_wrap + 1))
    return k_c, k_p


@dataclass(frozen=True)
class OrientationalFreeEnergy:
    """P(cos theta, phi) of the axes (isotropic = 1) and F/kT = -ln P on a grid, with block errors; F in kT."""

    cos_theta: np.ndarray  # (n_cos,) grid centres in (-1, 1)
    phi: np.ndarray  # (n_phi,) grid centres in [-pi, pi), rad
    P: np.ndarray  # (n_cos, n_phi) density per unit solid angle times 4 pi
    P_err: np.ndarray  # (n_cos, n_phi) block standard error of P
    F: np.ndarray  # (n_cos, n_phi) -ln P, kT
    F_err: np.ndarray  # (n_cos, n_phi) P_err / P, kT
    P_cos: np.ndarray  # (n_cos,) marginal over phi
    P_cos_err: np.ndarray  # (n_cos,)
    F_cos: np.ndarray  # (n_cos,) -ln P_cos, kT
    F_cos_err: np.ndarray  # (n_cos,) P_cos_err / P_cos, kT
    n_samples: int  # frames x molecules
    n_blocks: int
    width: tuple[float, float]  # kernel widths in cos theta and in phi (rad)


def orientational_free_energy(
    u, n_blocks: int = 10, width=0.1, n_cos: int = 40, n_phi: int = 80
) -> OrientationalFreeEnergy:
    """``fe = orientational_free_energy(u, n_blocks=10, width=0.1)``: F(cos theta, phi)/kT = -ln P with block errors.

    ``u`` is (T, M, 3) unit vectors; ``width`` the kernel width in cos theta
    and in phi (radians), one number or a pair. Returns an
    :class:`OrientationalFreeEnergy`: the grid (``fe.cos_theta`` (n_cos,),
    ``fe.phi`` (n_phi,) in [-pi, pi)), ``fe.P`` and ``fe.P_err`` (n_cos, n_phi),
    ``fe.F = -ln P`` and ``fe.F_err = P_err / P``, and the marginal over phi
    ``fe.P_cos``, ``fe.P_cos_err``, ``fe.F_cos``, ``fe.F_cos_err``.
    Blocks are consecutive frames; P is the mean of the blocks' estimates.
    """
    u = _check_unit_vectors(u)
    widths = np.broadcast_to(np.asarray(width, dtype=float), (2,)) if np.size(width) in (1, 2) else None
    if widths is None or not (0 < widths[0] < 1 and 0 < widths[1] < np.pi):
        raise InputError(f"width must be one number or a pair, in (0, 1) for cos theta and (0, pi) for phi, got {width}")
    sigma_c, sigma_phi = float(widths[0]), float(widths[1])
    if n_cos < 2 or n_phi < 2:
        raise InputError(f"n_cos and n_phi must be >= 2, got {n_cos}, {n_phi}")
    cos_grid = -1.0 + (np.arange(n_cos) + 0.5) * 2.0 / n_cos
    phi_grid = -np.pi + (np.arange(n_phi) + 0.5) * 2.0 * np.pi / n_phi
    k_c, k_p = _kernel_matrices(cos_grid, phi_grid, sigma_c, sigma_phi)
    edges = (np.linspace(-1.0, 1.0, _FINE[0] + 1), np.linspace(-np.pi, np.pi, _FINE[1] + 1))

    def density(block: np.ndarray) -> np.ndarray:
        c, p = _angles(block.reshape(-1, 3))
        hist, _, _ = np.histogram2d(c, p, bins=edges)
        return 4.0 * np.pi * (k_c @ hist @ k_p.T) / len(c)

    P, P_err, per_block = block_apply(density, u, n_blocks=n_blocks)
    P_cos, P_cos_err = per_block.mean(axis=2).mean(axis=0), per_block.mean(axis=2).std(axis=0, ddof=1) / np.sqrt(n_blocks)
    with np.errstate(divide="ignore", invalid="ignore"):
        return OrientationalFreeEnergy(
            cos_theta=cos_grid,
            phi=phi_grid,
            P=P,
            P_err=P_err,
            F=-np.log(P),
            F_err=P_err / P,
            P_cos=P_cos,
            P_cos_err=P_cos_err,
            F_cos=-np.log(P_cos),
            F_cos_err=P_cos_err / P_cos,
            n_samples=int(u.shape[0] * u.shape[1]),
            n_blocks=int(n_blocks),
            width=(sigma_c, sigma_phi),
        )


def harmonic_indices(l_max: int, l_min: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``l, m = harmonic_indices(4)``: the (l, m) pairs, l = l_min..l_max and m = -l..l, in output order."""
    pairs = [(l, m) for l in range(l_min, l_max + 1) for m in range(-l, l + 1)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def real_spherical_harmonics(u, l_max: int = 4, l_min: int = 1) -> np.ndarray:
    """``Y = real_spherical_harmonics(u, 4)``: (..., n_lm) orthonormal real Y_lm of unit vectors (..., 3).

    Y_l0 = N_l0 P_l(cos theta); Y_lm = sqrt(2) N_lm P_l^m cos(m phi) for m > 0
    and sqrt(2) N_l|m| P_l^|m| sin(|m| phi) for m < 0; orthonormal on the
    sphere (the integral of Y_lm Y_l'm' over solid angle is delta).
    """
    u = np.asarray(u, dtype=float)
    if u.shape[-1] != 3:
        raise InputError(f"u must be (..., 3) unit vectors, got shape {u.shape}")
    if l_min < 0 or l_max < l_min:
        raise InputError(f"need 0 <= l_min <= l_max, got l_min={l_min}, l_max={l_max}")
    c, phi = _angles(u)
    out = []
    for l in range(l_min, l_max + 1):
        for m in range(-l, l + 1):
            a = abs(m)
            norm = np.sqrt((2 * l + 1) / (4.0 * np.pi) * factorial(l - a) / factorial(l + a))
            legendre = norm * lpmv(a, l, c)
            if m == 0:
                out.append(legendre)
            elif m > 0:
                out.append(np.sqrt(2.0) * legendre * np.cos(a * phi))
            else:
                out.append(np.sqrt(2.0) * legendre * np.sin(a * phi))
    return np.stack(out, axis=-1)


@dataclass(frozen=True)
class Anisotropy:
    """Low-l harmonic amplitudes <Y_lm(u)> of an orientational distribution, their total A and its significance.

    All amplitudes are dimensionless; A = 0 for an isotropic distribution.
    """

    l: np.ndarray  # (n_lm,) degree of each amplitude, 1..l_max
    m: np.ndarray  # (n_lm,) order of each amplitude, -l..l
    amplitudes: np.ndarray  # (n_lm,) <Y_lm(u)> over molecules and frames
    errors: np.ndarray  # (n_lm,) block standard errors of the amplitudes
    A: float  # sqrt(4 pi sum <Y_lm>^2)
    A_err: float  # block errors propagated linearly to A
    A_l: np.ndarray  # (l_max,) A of each l = 1..l_max alone
    A_noise: float  # sqrt(4 pi sum err^2): about the A of an isotropic sample of the same size
    chi2: float  # sum (<Y_lm> / err)^2
    dof: int  # number of amplitudes in chi2
    z: float  # chi2's deviation from the isotropic expectation, in its standard deviations
    n_blocks: int


def anisotropy(u, l_max: int = 4, n_blocks: int = 10) -> Anisotropy:
    """``an = anisotropy(u, l_max=4, n_blocks=10)``: low-l harmonic amplitudes of the distribution of u.

    Returns an :class:`Anisotropy`: ``an.amplitudes`` (n_lm,) are <Y_lm(u)>
    over molecules and frames for l = 1..l_max (``an.l``, ``an.m`` name them),
    ``an.errors`` their block standard errors. The total anisotropy
    A = sqrt(4 pi sum <Y_lm>^2) is 0 for an isotropic distribution (and
    a/sqrt(5) for a density 1 + a P_2(cos theta)); ``an.A_err`` propagates the
    block errors linearly. ``an.A_l`` is the same per l. Noise makes the
    estimate of A positive: ``an.A_noise`` = sqrt(4 pi sum err^2) is about what
    an isotropic sample of the same size gives. ``an.chi2`` = sum
    (<Y_lm>/err)^2 and ``an.z`` its deviation from the isotropic expectation in
    units of its standard deviation (each term is the square of a Student-t
    with n_blocks - 1 degrees of freedom): z > 3 means anisotropic.
    """
    u = _check_unit_vectors(u)
    if n_blocks < 6:
        raise InputError(f"anisotropy needs n_blocks >= 6 for its z-score (t-statistics with >4 dof), got {n_blocks}")
    chunk = max(1, 100_000 // u.shape[1])  # frames per evaluation: bounded memory, few calls for gas runs
    per_frame = np.concatenate(
        [real_spherical_harmonics(u[k : k + chunk], l_max).mean(axis=1) for k in range(0, len(u), chunk)]
    )
    mean, err = block_average(per_frame, n_blocks)
    l, m = harmonic_indices(l_max)
    a2 = 4.0 * np.pi * np.sum(mean**2)
    A = float(np.sqrt(a2))
    A_err = float(4.0 * np.pi * np.sqrt(np.sum((mean * err) ** 2)) / A) if A > 0 else float(np.sqrt(4.0 * np.pi * np.sum(err**2)))
    A_l = np.array([np.sqrt(4.0 * np.pi * np.sum(mean[l == k] ** 2)) for k in range(1, l_max + 1)])
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.sum(np.where(err > 0, (mean / err) ** 2, np.inf)))
    nu = n_blocks - 1
    term_mean = nu / (nu - 2.0)
    term_var = 2.0 * nu**2 * (nu - 1.0) / ((nu - 2.0) ** 2 * (nu - 4.0))
    n_terms = len(mean)
    z = (chi2 - n_terms * term_mean) / np.sqrt(n_terms * term_var)
    return Anisotropy(
        l=l,
        m=m,
        amplitudes=mean,
        errors=err,
        A=A,
        A_err=A_err,
        A_l=A_l,
        A_noise=float(np.sqrt(4.0 * np.pi * np.sum(err**2))),
        chi2=chi2,
        dof=n_terms,
        z=float(z),
        n_blocks=int(n_blocks),
    )
