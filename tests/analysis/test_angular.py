"""Angular momentum and torque: known answers."""

import numpy as np
import pytest
from symbreak.analysis.angular import angular_momentum, angular_summary, hbar_ase, torque


def rigid_rotor(n_frames=50, omega=0.01):
    """Three masses rotating rigidly about z: positions and momenta over time."""
    base = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]])
    masses = np.array([16.0, 1.0, 1.0])
    com = masses @ base / masses.sum()
    base = base - com + np.array([5.0, -3.0, 2.0])
    positions, momenta = [], []
    for k in range(n_frames):
        angle = omega * k
        c, s = np.cos(angle), np.sin(angle)
        rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
        centre = np.array([5.0, -3.0, 2.0])
        r = (base - centre) @ rot.T + centre
        v = np.cross([0, 0, omega], r - centre)
        positions.append(r)
        momenta.append(masses[:, None] * v)
    return np.array(positions), np.array(momenta), masses


def test_rigid_rotor_has_constant_angular_momentum_along_the_axis():
    pos, mom, masses = rigid_rotor()
    L = angular_momentum(pos, mom, masses)
    assert np.allclose(L, L[0], atol=1e-12)
    assert abs(L[0, 2]) > 0 and np.allclose(L[0, :2], 0, atol=1e-12)


def test_translation_of_the_whole_system_does_not_change_L():
    pos, mom, masses = rigid_rotor()
    drift = np.array([0.3, -0.1, 0.2])
    L0 = angular_momentum(pos, mom, masses)
    L1 = angular_momentum(pos + 10.0, mom + masses[None, :, None] * drift, masses)
    assert np.allclose(L0, L1, atol=1e-12)


def test_central_forces_give_no_torque():
    rng = np.random.default_rng(0)
    pos = rng.standard_normal((1, 3, 3))
    masses = np.array([16.0, 1.0, 1.0])
    forces = np.zeros_like(pos)
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        f = pos[0, j] - pos[0, i]
        forces[0, i] += f
        forces[0, j] -= f
    assert np.allclose(torque(pos, forces, masses), 0, atol=1e-12)


def test_angular_summary_of_a_rigid_rotor():
    pos, mom, masses = rigid_rotor()
    L = angular_momentum(pos, mom, masses)
    s = angular_summary(pos, mom, np.zeros_like(pos), masses)
    assert s.L_max_change < 1e-9 and s.L_direction_change < 1e-5 and s.torque_rms == 0.0
    assert s.L0 == pytest.approx(np.linalg.norm(L[0]) / hbar_ase(), rel=1e-12)
    assert s.L.shape == (len(pos), 3) and s.change.shape == (len(pos),)
