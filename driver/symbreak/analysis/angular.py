"""Angular momentum and torque of an isolated system: pure functions on trajectories.

    L = angular_momentum(positions, momenta, masses)   # (T, 3) about the centre of mass
    tau = torque(positions, forces, masses)            # (T, 3)
    s = angular_summary(positions, momenta, forces, masses)   # L (hbar), torque, L_max_change, torque_rms, ...

For an exactly invariant potential (and fixcom), L is conserved in NVE and
the net torque vanishes; a non-invariant model makes L drift and precess.
Units: ASE (momenta in amu A / ASE-time); results are reported in hbar and eV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def hbar_ase() -> float:
    """Planck's constant over 2 pi in ASE units (eV * ASE time)."""
    from ase import units

    return units._hbar * units.J * units.s


def centre_of_mass(positions: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """(T, 3) centres of mass of (T, n, 3) positions."""
    return np.einsum("i,tij->tj", masses, positions) / masses.sum()


def angular_momentum(positions: np.ndarray, momenta: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """(T, 3): sum_i (r_i - R_com) x (p_i - m_i P/M), the internal angular momentum per frame."""
    arms = positions - centre_of_mass(positions, masses)[:, None, :]
    total = momenta.sum(axis=1, keepdims=True)
    internal = momenta - masses[None, :, None] * total / masses.sum()
    return np.cross(arms, internal).sum(axis=1)


def torque(positions: np.ndarray, forces: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """(T, 3): sum_i (r_i - R_com) x F_i per frame."""
    arms = positions - centre_of_mass(positions, masses)[:, None, :]
    return np.cross(arms, forces).sum(axis=1)


def direction_change_deg(L: np.ndarray) -> np.ndarray:
    """(T,) angle in degrees between L(t) and L(0): how far the angular momentum has precessed."""
    unit = L / np.maximum(np.linalg.norm(L, axis=1, keepdims=True), 1e-300)
    return np.degrees(np.arccos(np.clip(unit @ unit[0], -1.0, 1.0)))


@dataclass(frozen=True)
class AngularSummary:
    """What broken rotational symmetry shows in vacuum, per frame and as numbers: L in hbar, torques in eV."""

    #: (T, 3) internal angular momentum and (T, 3) net torque per frame
    L: np.ndarray
    torque: np.ndarray
    #: (T,) |L(t) - L(0)| and the angle of L(t) to L(0) in degrees
    change: np.ndarray
    direction: np.ndarray

    @property
    def L0(self) -> float:
        return float(np.linalg.norm(self.L[0]))

    @property
    def L_max_change(self) -> float:
        return float(self.change.max())

    @property
    def L_direction_change(self) -> float:
        return float(self.direction.max())

    @property
    def torque_rms(self) -> float:
        """RMS over frames of |torque| (eV)."""
        return float(np.sqrt(np.mean(np.sum(self.torque**2, axis=1))))


def angular_summary(positions: np.ndarray, momenta: np.ndarray, forces: np.ndarray, masses: np.ndarray) -> AngularSummary:
    """Usage: angular_summary(positions, momenta, forces, masses) -> AngularSummary of a gas-phase trajectory (ASE units)."""
    L = angular_momentum(positions, momenta, masses) / hbar_ase()
    return AngularSummary(L, torque(positions, forces, masses), np.linalg.norm(L - L[0], axis=1), direction_change_deg(L))
