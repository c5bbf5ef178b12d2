"""Which angular orders carry a model's symmetry error: ``angular_power(values_on_grid, quadrature)``.

    q = legendre_quadrature(3, inversion=True)                 # resolves l <= 2
    energies = [pot.compute_one(x.rotated(g))[0] for g in q.rotations]
    ap = angular_power(energies, q)                            # or back-rotated forces (N, n, 3)
    ap.power[2], ap.power_odd[1], ap.shares, ap.unresolved_share

For a structure x and a potential E, f(g) = E(g x) is a function on O(3)
(SO(3) for grids without inversion). It splits into irreducible parts: Wigner
D^l for every l and, on O(3), a parity p = +/-1, the irrep (l, p) having the
character chi_{l,p}(s R) = p^[s = -1] chi_l(R) for s = det = +/-1 and R proper,
chi_l(theta) = sin((2l+1) theta/2) / sin(theta/2), theta the angle of R. The
power of f in (l, p), with the normalised Haar measure, is

    P_{l,p} = (2l+1) Int Int f(g) f(g') chi_{l,p}(g^-1 g') dg dg'

and the powers add up to Int f^2: (0, +) is (mean f)^2, everything else is the
rotational variance (``power[0]`` is the pseudoscalar (0, -) part: all that a
rotation-invariant model with E(-x) != E(x) has). For forces f(g) is the
back-rotated force g^T F(g x) (atoms x 3, as in :func:`~symbreak.symmetry.rotations.rotate_forces_back`) and
f(g) f(g') the dot product over atoms and components; its (0, +) part is the
averaged force. On a quadrature {g_j, w_j} the integrals become sums,

    P_{l,p} ~= (2l+1) sum_jk w_j w_k f_j . f_k chi_{l,p}(g_j^T g_k),

which only depends on relative rotations, so the convention r -> R r or
r -> R^T r of the grid does not matter.

What a grid resolves. A quadrature of ``degree`` d integrates every Wigner-D
product up to total degree d exactly (the Euler/Gauss-Legendre grid of order L
has d = 2L - 2, the Lebedev grid of degree N has d = N - 1). The projection on
order l is exact when f has no content above d - l, so with f band-limited to
``resolved_l_max = d // 2`` (L - 1 for a Legendre grid of order L) every order
l <= d // 2 comes out without aliasing, and so does the variance. Orders above
d // 2 cannot be told apart on the grid: they are reported together as
``unresolved`` = variance - sum of the resolved powers (clipped at 0), never
split into orders. If f has content up to an order B > d // 2, that content
also aliases into the resolved orders l > d - B and into the variance itself
(it may even vanish on the grid: P_3(cos beta) is zero on every node of the
Legendre grid of order 3): a large ``unresolved`` share says the grid is too
coarse for this model, and the resolved powers are then only indicative. Inversion grids (``:i``) also split each order by parity,
exactly (aliasing keeps parity: the l = 3, p = -1 term of the toy leaks into
(2, -) on a Legendre grid of order 3); without inversion ``power_odd`` is zero
and parity is not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..core.errors import InputError
from .quadrature import RotationQuadrature

#: a rotational variance below (this x the rms of f)^2 is the roundoff of an invariant model
INVARIANT_RELATIVE_SPREAD = 1e-12


@dataclass(frozen=True)
class AngularPower:
    """Rotational variance of f(g) split by angular order l = 0..l_max (see the module docstring).

    ``power[l]`` is the variance in order l summed over parity, ``power_odd[l]``
    its parity-odd part; for l = 0 only the parity-odd (pseudoscalar) part
    counts, since (0, +) is the mean (``invariant``). ``power.sum() + unresolved
    == variance``.
    """

    orders: tuple[int, ...]
    power: np.ndarray
    power_odd: np.ndarray
    #: weighted mean of |f - mean f|^2 (summed over atoms and components for forces)
    variance: float
    #: |mean f|^2: the (0, +) power, the invariant part
    invariant: float
    #: the largest order the grid resolves: quadrature.degree // 2
    resolved_l_max: int
    #: variance not in orders 0..l_max (the orders above l_max), clipped at 0
    unresolved: float

    @property
    def mean_square(self) -> float:
        """Weighted mean of |f|^2 = invariant + variance (the sum of all powers)."""
        return self.invariant + self.variance

    @property
    def is_invariant(self) -> bool:
        """True when the variance is roundoff: below (INVARIANT_RELATIVE_SPREAD x rms f)^2."""
        return self.variance <= INVARIANT_RELATIVE_SPREAD**2 * self.mean_square

    @property
    def shares(self) -> np.ndarray:
        """power / variance per order; all zero for an invariant model (no NaN)."""
        if self.is_invariant:
            return np.zeros_like(self.power)
        return self.power / self.variance

    @property
    def unresolved_share(self) -> float:
        """unresolved / variance; zero for an invariant model."""
        return 0.0 if self.is_invariant else self.unresolved / self.variance


def _signs(rotations: np.ndarray) -> np.ndarray:
    """det = +/-1 of orthogonal matrices (..., 3, 3): s in g = s R with R proper."""
    return np.where(np.linalg.det(rotations) < 0, -1.0, 1.0)


def _cos_angle(proper_trace: np.ndarray) -> np.ndarray:
    """cos(theta) = (tr R - 1) / 2, clipped: roundoff may push |tr R| past 3 near theta = 0 or pi."""
    return np.clip((proper_trace - 1.0) / 2.0, -1.0, 1.0)


def _characters(cos_angle: np.ndarray, l_max: int) -> Iterator[np.ndarray]:
    """chi_0, ..., chi_l_max at rotation angles given by their cosines.

    chi_l = 1 + 2 sum_{m=1..l} cos(m theta) with cos(m theta) = T_m(cos theta)
    (Chebyshev recurrence): a polynomial in the trace, with none of the 0/0 of
    the sin-ratio form at theta = 0 and no arccos.
    """
    t_prev, t = np.ones_like(cos_angle), cos_angle
    chi = np.ones_like(cos_angle)
    yield chi
    for _ in range(l_max):
        chi = chi + 2.0 * t
        yield chi
        t_prev, t = t, 2.0 * cos_angle * t - t_prev


def rotation_angle(rotations: np.ndarray) -> np.ndarray:
    """``rotation_angle(g)``: angle in [0, pi] of the proper part det(g) g of each (..., 3, 3) matrix."""
    g = np.asarray(rotations, dtype=float)
    trace = np.trace(g, axis1=-2, axis2=-1) * _signs(g)
    return np.arccos(_cos_angle(trace))


def character(l: int, rotations: np.ndarray, parity: int | None = None) -> np.ndarray:
    """``character(2, g, parity=-1)``: chi_{l,p}(g) = p^[det g = -1] chi_l(det(g) g).

    ``parity`` None is the SO(3) character chi_l and needs proper rotations.
    """
    if l < 0:
        raise InputError(f"angular order must be >= 0, got {l}")
    g = np.asarray(rotations, dtype=float)
    s = _signs(g)
    if parity is None and np.any(s < 0):
        raise InputError("improper rotations need a parity (+1 or -1) for an O(3) character")
    if parity not in (None, 1, -1):
        raise InputError(f"parity must be +1, -1 or None, got {parity}")
    *_, chi = _characters(_cos_angle(np.trace(g, axis1=-2, axis2=-1) * s), l)
    return chi if parity is None or parity == 1 else chi * s


def angular_power(values, quadrature: RotationQuadrature, l_max: int | None = None) -> AngularPower:
    """``angular_power(f_on_grid, quadrature, l_max=None)``: f's rotational variance per order l.

    ``values`` is (N,) energies or (N, n_atoms, 3) back-rotated forces (any
    (N, ...) shape: the dot product runs over the trailing axes), one per
    quadrature rotation in order. ``l_max`` defaults to, and may not exceed,
    the grid's ``resolved_l_max`` = ``quadrature.degree // 2``.
    """
    rotations = np.asarray(quadrature.rotations, dtype=float)
    n = len(rotations)
    f = np.asarray(values, dtype=float)
    if f.ndim == 0 or f.shape[0] != n:
        raise InputError(f"values must have one entry per rotation ({n}), got shape {f.shape}")
    resolved = int(quadrature.degree) // 2
    l_max = resolved if l_max is None else int(l_max)
    if not 0 <= l_max <= resolved:
        raise InputError(
            f"l_max must be in 0..{resolved} on grid '{quadrature.label}' (degree {quadrature.degree} "
            f"resolves l <= degree // 2), got {l_max}"
        )
    w = np.asarray(quadrature.weights, dtype=float)
    w = w / w.sum()

    f = f.reshape(n, -1)
    mean = w @ f
    # centred first: the (0, +) part would otherwise dominate the Gram matrix and
    # cost the small symmetry-breaking powers their digits
    centred = f - mean
    gram = centred @ centred.T
    variance = float(max(w @ np.diag(gram), 0.0))
    weighted_gram = w[:, None] * gram * w[None, :]

    # relative rotations h_jk = g_j^T g_k: tr h_jk = <g_j, g_k> (Frobenius), det h_jk = s_j s_k
    flat = rotations.reshape(n, 9)
    s = _signs(rotations)
    sign = s[:, None] * s[None, :]
    cos_angle = _cos_angle(sign * (flat @ flat.T))
    improper = bool(np.any(s < 0))

    power_even = np.zeros(l_max + 1)
    power_odd = np.zeros(l_max + 1)
    for l, chi in enumerate(_characters(cos_angle, l_max)):
        projected = weighted_gram * chi
        # P_{l,+} uses chi_l; P_{l,-} uses s chi_l; both are sums of squares, so >= 0 up to roundoff
        if l > 0:
            power_even[l] = max((2 * l + 1) * projected.sum(), 0.0)
        if improper:
            power_odd[l] = max((2 * l + 1) * (projected * sign).sum(), 0.0)
    # on an SO(3) grid there is no parity to split by: the sum over p is the SO(3) power
    power = power_even + power_odd
    return AngularPower(
        orders=tuple(range(l_max + 1)),
        power=power,
        power_odd=power_odd,
        variance=variance,
        invariant=float(mean @ mean),
        resolved_l_max=resolved,
        unresolved=max(variance - float(power.sum()), 0.0),
    )
