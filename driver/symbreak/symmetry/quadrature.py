"""Rotation quadratures on SO(3) and O(3): Euler/Gauss-Legendre and Lebedev grids.

    q = legendre_quadrature(2, inversion=True)   # the study's "2i": 36 rotations
    q.rotations.shape, q.weights.sum(), q.degree  # (36, 3, 3), 1.0, 2

A quadrature of ``degree`` d averages every Wigner D^l component with
1 <= l <= d to zero exactly, so the average of E(R x) keeps only the invariant
part and the angular components with l > d. Inversion (adding -R with the same
weight) also removes every parity-odd component.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from .rotations import euler_zxz


@dataclass(frozen=True)
class RotationQuadrature:
    """Rotations (N, 3, 3) with weights (N,) summing to one, and what they integrate."""

    rotations: np.ndarray
    weights: np.ndarray
    label: str
    degree: int
    inversion: bool = False

    def __len__(self) -> int:
        return len(self.weights)

    def with_inversion(self) -> "RotationQuadrature":
        """Every rotation R also as -R, with the same weight (removes parity-odd parts)."""
        if self.inversion:
            return self
        rotations = np.concatenate([self.rotations, -self.rotations])
        weights = np.concatenate([self.weights, self.weights]) / 2.0
        return RotationQuadrature(rotations, weights, self.label + "i", self.degree, True)


def gauss_legendre_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in [-1, 1] and weights (summing to 2) of the n-point Gauss-Legendre rule."""
    return np.polynomial.legendre.leggauss(n)


def legendre_quadrature(order: int, inversion: bool = False) -> RotationQuadrature:
    """Euler zxz grid: (2L-1) uniform alpha x L Gauss-Legendre cos(beta) x (2L-1) uniform gamma.

    Order L gives 1, 18, 75, 196, ... rotations (order 1 is the identity alone)
    and integrates every component with l <= 2L - 2 exactly.
    """
    if order < 1:
        raise InputError(f"legendre quadrature order must be >= 1, got {order}")
    if order == 1:
        quad = RotationQuadrature(np.eye(3)[None], np.ones(1), "1", 0)
    else:
        n_uniform = 2 * order - 1
        uniform = 2.0 * np.pi * np.arange(n_uniform) / n_uniform
        cos_beta, w_beta = gauss_legendre_nodes(order)
        alpha, beta, gamma = np.meshgrid(uniform, np.arccos(cos_beta), uniform, indexing="ij")
        weights = np.broadcast_to(w_beta[None, :, None], alpha.shape).ravel()
        rotations = euler_zxz(alpha.ravel(), beta.ravel(), gamma.ravel())
        quad = RotationQuadrature(rotations, weights / weights.sum(), str(order), 2 * order - 2)
    return quad.with_inversion() if inversion else quad


def lebedev_orders() -> list[int]:
    """Degrees of the Lebedev sphere rules available (scipy.integrate.lebedev_rule)."""
    return [3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 35, 41, 47, 53, 59, 65, 71]


def lebedev_quadrature(order: int, inversion: bool = False) -> RotationQuadrature:
    """Lebedev rule of degree N for the rotated z axis x N uniform in-plane angles.

    The same construction as i-PI's ``<ffrotations grid_mode='lebedev'>``:
    N x (number of Lebedev points) rotations, exact for l <= N - 1 (the
    in-plane sum aliases components with |k| = N).
    """
    from scipy.integrate import lebedev_rule

    if order not in lebedev_orders():
        raise InputError(
            f"no Lebedev rule of degree {order}; available: {', '.join(map(str, lebedev_orders()))}"
        )
    points, w_sphere = lebedev_rule(order)
    polar = np.arccos(np.clip(points[2], -1.0, 1.0))
    azimuth = np.arctan2(points[1], points[0])
    # the azimuth of a pole is arbitrary; pi/2 as in i-PI's tables makes both grids coincide
    azimuth[np.hypot(points[0], points[1]) < 1e-12] = np.pi / 2
    in_plane = 2.0 * np.pi * np.arange(order) / order
    outer, axis_index = np.meshgrid(in_plane, np.arange(len(w_sphere)), indexing="ij")
    rotations = euler_zxz(outer.ravel(), polar[axis_index.ravel()], azimuth[axis_index.ravel()])
    weights = w_sphere[axis_index.ravel()]
    quad = RotationQuadrature(rotations, weights / weights.sum(), f"leb{order}", order - 1)
    return quad.with_inversion() if inversion else quad


def identity_quadrature(inversion: bool = False) -> RotationQuadrature:
    """The identity alone (plain model), or identity and inversion (the study's "i")."""
    return legendre_quadrature(1, inversion)
