"""Rotation matrices as pure functions: Euler angles, Haar-random draws, back-rotation.

    R = euler_zxz(alpha, beta, gamma)          # R = Rz(alpha) Rx(beta) Rz(gamma)
    Rs = haar_rotations(np.random.default_rng(0), 10, improper=True)

A structure rotated by R has positions r' = R r (rows: x' = x R^T). Quantities
computed on it come back to the original frame as f = R^T f' (rows: F' R) and
W = R^T W' R for the virial.
"""

from __future__ import annotations

import numpy as np


def rotation_z(angle) -> np.ndarray:
    """Rotation(s) about z by ``angle`` (scalar or array), shape (..., 3, 3)."""
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack(
        [np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)],
        -2,
    )


def rotation_x(angle) -> np.ndarray:
    """Rotation(s) about x by ``angle`` (scalar or array), shape (..., 3, 3)."""
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack(
        [np.stack([one, zero, zero], -1), np.stack([zero, c, -s], -1), np.stack([zero, s, c], -1)],
        -2,
    )


def euler_zxz(alpha, beta, gamma) -> np.ndarray:
    """R = Rz(alpha) Rx(beta) Rz(gamma), broadcasting over array arguments."""
    return rotation_z(alpha) @ rotation_x(beta) @ rotation_z(gamma)


def haar_rotations(rng: np.random.Generator, n: int, improper: bool = False) -> np.ndarray:
    """``n`` Haar-random SO(3) matrices (O(3) with ``improper``: det -1 with probability 1/2)."""
    q = rng.standard_normal((n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    rot = np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )
    if improper:
        signs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
        rot *= signs[:, None, None]
    return rot


def rotate_forces_back(forces_rotated: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Forces (n, 3) computed on the rotated structure, expressed in the original frame."""
    return forces_rotated @ rotation


def rotate_virial_back(virial_rotated: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Virial (3, 3) computed on the rotated structure, expressed in the original frame."""
    return rotation.T @ virial_rotated @ rotation
