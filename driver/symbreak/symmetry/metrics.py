"""Symmetry metrics as pure functions: net force, net torque, rotational spread, error decomposition.

    tau = net_torque(positions, forces, numbers)     # about the centre of mass, eV
    d = error_decomposition(energies_on_grid, weights, reference_energy)
    d["mse"] == d["bias_squared"] + d["variance"]

An exactly invariant (and translation-invariant) potential has zero net force
and zero net torque on an isolated system; a non-invariant model does not.
"""

from __future__ import annotations

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


def error_decomposition(values_on_grid: np.ndarray, weights: np.ndarray, reference) -> dict:
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
    return {"mse": mse, "bias_squared": bias2, "variance": var}
