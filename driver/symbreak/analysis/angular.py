"""Angular momentum and torque of an isolated system: pure functions on trajectories.

    L = angular_momentum(positions, momenta, masses)   # (T, 3) about the centre of mass
    tau = torque(positions, forces, masses)            # (T, 3)
    summary = gas_summary(times_ps, L, tau)

For an exactly invariant potential (and fixcom), L is conserved in NVE and
the net torque vanishes; a non-invariant model makes L drift and precess.
Units: ASE (momenta in amu A / ASE-time); results are reported in hbar and eV.
"""

from __future__ import annotations

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


def gas_summary(times_ps: np.ndarray, L: np.ndarray, tau: np.ndarray) -> dict:
    """Numbers that show broken rotational symmetry in vacuum (L in hbar, torque in eV)."""
    L = np.asarray(L) / hbar_ase()
    norm = np.linalg.norm(L, axis=1)
    angle = direction_change_deg(L)
    tau_norm = np.linalg.norm(tau, axis=1)
    return {
        "duration_ps": float(times_ps[-1] - times_ps[0]),
        "L0_hbar": float(norm[0]),
        "L_max_change_hbar": float(np.max(np.linalg.norm(L - L[0], axis=1))),
        "L_direction_change_deg": float(angle.max()),
        "torque_rms_eV": float(np.sqrt(np.mean(tau_norm**2))),
    }
