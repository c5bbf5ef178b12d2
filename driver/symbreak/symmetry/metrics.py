"""Symmetry metrics as pure functions: net force, net torque, rotational spread, error decomposition.

    tau = net_torque(positions, forces, numbers)     # about the centre of mass, eV
    fixed = remove_net_force_and_torque(positions, forces)   # least-squares: zero net force and torque
    d = error_decomposition(energies_on_grid, weights, reference_energy)
    d.mse == d.bias_squared + d.variance                 # RotationalDecomposition

An exactly invariant (and translation-invariant) potential has zero net force
and zero net torque on an isolated system; a non-invariant model does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def masses_of(numbers: np.ndarray) -> np.ndarray:
    """Standard atomic masses (amu) for atomic numbers."""
    from ase.data import atomic_masses

    return atomic_masses[np.asarray(numbers)]


def net_force(forces: np.ndarray) -> np.ndarray:
    """Sum of the forces (3,)."""
    return np.asarray(forces).sum(axis=0)


def centre_of_mass(positions: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    masses = masses_of(numbers)
    return masses @ positions / masses.sum()


def net_torque(positions: np.ndarray, forces: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """Sum of (r_i - R_com) x F_i (3,), with positions as given (unwrapped for molecules)."""
    arms = positions - centre_of_mass(positions, numbers)
    return np.cross(arms, forces).sum(axis=0)


def remove_net_force(forces: np.ndarray) -> np.ndarray:
    """Usage: remove_net_force(forces) -> forces (n, 3) minus their mean: zero net force, the smallest change."""
    forces = np.asarray(forces, dtype=float)
    return forces - forces.mean(axis=0)


def remove_net_force_and_torque(positions: np.ndarray, forces: np.ndarray) -> np.ndarray:
    """Usage: remove_net_force_and_torque(positions, forces) -> forces (n, 3) with zero net force and torque.

    F_i -> F_i - f - w x (r_i - c) with c the centroid (the unweighted mean
    position), f the mean force and w solving I_c w = tau_c, where
    I_c = sum_i (|d_i|^2 1 - d_i d_i^T) and tau_c = sum_i d_i x F_i for
    d_i = r_i - c. This is the orthogonal projection of the 3n-vector F onto
    the complement of the rigid motions {a + b x d_i}, so it is the smallest
    change in the least-squares sense sum_i |dF_i|^2 that makes both the net
    force and the net torque vanish. The centroid is where the translations and
    rotations are orthogonal (sum_i b x d_i = 0), which splits the 6x6 problem
    into the mean force and a 3x3 system; once the net force is zero the torque
    is the same about every point, so it vanishes about the centre of mass too.
    Positions must be unwrapped (an isolated molecule or cluster). I_c is
    inverted on its range (a pseudo-inverse): for a linear or one-atom system
    the torque along the degenerate axes is zero already.
    """
    positions = np.asarray(positions, dtype=float)
    forces = np.asarray(forces, dtype=float)
    arms = positions - positions.mean(axis=0)
    tau = np.cross(arms, forces).sum(axis=0)
    inertia = np.sum(arms * arms) * np.eye(3) - arms.T @ arms
    values, vectors = np.linalg.eigh(inertia)
    keep = values > 1e-12 * max(values.max(), 1e-300)
    omega = vectors[:, keep] @ ((vectors[:, keep].T @ tau) / values[keep])
    return forces - forces.mean(axis=0) - np.cross(omega, arms)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean over the first axis (weights need not be normalised)."""
    w = np.asarray(weights, dtype=float)
    return np.tensordot(w, np.asarray(values), axes=(0, 0)) / w.sum()


def weighted_std(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted standard deviation over the first axis, elementwise."""
    values = np.asarray(values, dtype=float)
    mean = weighted_mean(values, weights)
    return np.sqrt(np.maximum(weighted_mean((values - mean) ** 2, weights), 0.0))


def rms_spread(values: np.ndarray, weights: np.ndarray) -> float:
    """Root-mean-square over components of the weighted spread over the first axis."""
    std = weighted_std(values, weights)
    return float(np.sqrt(np.mean(std**2)))


@dataclass(frozen=True)
class RotationalDecomposition:
    """mse = bias_squared + variance, in the squared units of the values (eV^2, (eV/A)^2)."""

    mse: float  # squared error of a single rotation, weighted mean over the grid: the plain model, randomly oriented
    bias_squared: float  # squared error of the grid-averaged model
    variance: float  # weighted variance over the rotations


def error_decomposition(values_on_grid: np.ndarray, weights: np.ndarray, reference) -> RotationalDecomposition:
    """<(X_R - X_ref)^2>_R split into (X_avg - X_ref)^2 + Var_R(X_R), averaged over components.

    ``values_on_grid`` is (N, ...) over the rotations (back-rotated for forces);
    the identity holds exactly for any weights, which is what makes it a useful
    report: the plain model's orientation-averaged error is the averaged
    model's error plus the rotational variance.
    """
    values = np.asarray(values_on_grid, dtype=float)
    mean = weighted_mean(values, weights)
    mse = float(np.mean(weighted_mean((values - reference) ** 2, weights)))
    bias2 = float(np.mean((mean - reference) ** 2))
    var = float(np.mean(weighted_mean((values - mean) ** 2, weights)))
    return RotationalDecomposition(mse, bias2, var)
