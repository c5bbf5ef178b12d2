"""Molecules: O, H, H validation, the minimum image in triclinic cells, dipole axes."""

import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from symbreak.analysis.molecules import (
    as_cells,
    as_frames,
    dipole_axes,
    minimum_image,
    perpendicular_widths,
    water_molecules,
)
from symbreak.structures import molecule_geometry


def skewed_cell(seed=0):
    """A sheared, rotated (non upper-triangular) cell, rows as lattice vectors."""
    shear = np.array([[9.0, 0.0, 0.0], [2.5, 8.0, 0.0], [-1.5, 2.0, 10.0]])
    return shear @ Rotation.random(random_state=seed).as_matrix().T


def test_water_molecules_counts_and_refuses_other_orders():
    assert water_molecules(np.tile([8, 1, 1], 4)) == 4
    with pytest.raises(ValueError, match="whole number"):
        water_molecules(np.array([8, 1, 1, 8]))
    with pytest.raises(ValueError, match="atom 0 has atomic number 1, expected 8"):
        water_molecules(np.array([1, 8, 1]))
    with pytest.raises(ValueError, match="positions have 6"):
        water_molecules(np.array([8, 1, 1]), n_atoms=6)


def test_shapes_are_checked_at_the_boundary():
    assert as_frames(np.zeros((6, 3))).shape == (1, 6, 3)
    with pytest.raises(ValueError, match=r"\(T, N, 3\)"):
        as_frames(np.zeros((2, 6, 2)))
    assert as_cells(np.eye(3) * 5, 4).shape == (4, 3, 3)
    assert as_cells(None, 4) is None
    with pytest.raises(ValueError, match="cells must be"):
        as_cells(np.zeros((2, 3, 3)), 4)
    with pytest.raises(ValueError, match="singular"):
        as_cells(np.zeros((3, 3)), 1)


def test_perpendicular_widths_of_a_cubic_and_a_sheared_cell():
    np.testing.assert_allclose(perpendicular_widths(np.eye(3)[None] * 4.0), [[4.0, 4.0, 4.0]])
    cell = np.array([[[4.0, 0, 0], [4.0, 4.0, 0], [0, 0, 4.0]]])  # same lattice, skewed basis
    np.testing.assert_allclose(perpendicular_widths(cell), [[4.0 / np.sqrt(2), 4.0, 4.0]])


def test_minimum_image_finds_the_shortest_image_in_a_triclinic_cell():
    cell = skewed_cell()
    half_width = perpendicular_widths(cell[None]).min() / 2
    rng = np.random.default_rng(0)
    short = rng.standard_normal((200, 3))
    short *= (half_width * rng.random(200) / np.linalg.norm(short, axis=1))[:, None]
    shifted = short + rng.integers(-3, 4, size=(200, 3)) @ cell
    np.testing.assert_allclose(minimum_image(shifted[None], cell[None])[0], short, atol=1e-10)
    # any vector: the result is never longer than the brute-force shortest image
    anything = rng.uniform(-30, 30, size=(200, 3))
    images = anything[:, None, :] + np.array(list(itertools.product(range(-3, 4), repeat=3))) @ cell
    shortest = np.linalg.norm(images, axis=2).min(axis=1)
    reduced = np.linalg.norm(minimum_image(anything[None], cell[None])[0], axis=1)
    assert np.all(reduced[shortest < half_width] <= shortest[shortest < half_width] + 1e-10)


def test_dipole_axis_of_a_known_molecule():
    u = dipole_axes(molecule_geometry() + 3.0, np.array([8, 1, 1]))
    np.testing.assert_allclose(u, [[[0.0, 1.0, 0.0]]], atol=1e-12)


def test_dipole_axes_do_not_depend_on_wrapping_in_a_triclinic_cell():
    rng = np.random.default_rng(1)
    n_mol = 6
    rot = Rotation.random(n_mol, random_state=rng).as_matrix()
    mol = np.einsum("mab,ib->mia", rot, molecule_geometry()) + rng.uniform(0, 8, (n_mol, 1, 3))
    positions = mol.reshape(-1, 3)
    numbers = np.tile([8, 1, 1], n_mol)
    expected = np.einsum("mab,b->ma", rot, [0.0, 1.0, 0.0])
    np.testing.assert_allclose(dipole_axes(positions, numbers)[0], expected, atol=1e-12)
    cell = skewed_cell(seed=2)
    frac = np.linalg.solve(cell.T, positions.T).T
    scrambled = (frac - np.floor(frac) + rng.integers(-1, 2, frac.shape)) @ cell
    np.testing.assert_allclose(dipole_axes(scrambled, numbers, cell)[0], expected, atol=1e-10)
    with pytest.raises(ValueError, match="O-H.* distance"):
        dipole_axes(scrambled, numbers, None)
    # positions in H, O, H order while numbers say O, H, H: the H-H side is then not the longest
    with pytest.raises(ValueError, match="not the apex"):
        dipole_axes(positions[[1, 0, 2] + list(range(3, 3 * n_mol))], numbers)
