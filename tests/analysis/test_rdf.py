"""Radial distribution functions and dipole correlations: ideal gas, lattices, any cell."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from symbreak.analysis.molecules import minimum_image, perpendicular_widths
from symbreak.analysis.rdf import dipole_correlations, pair_indices, radial_distribution

#: H offsets of a molecule whose dipole axis is +z (O-H 0.96 A, angle 104.5 degrees)
H_ALONG_Z = np.array([[0.759, 0.0, 0.588], [-0.759, 0.0, 0.588]])


def triclinic_cell(seed=0):
    shear = np.array([[10.0, 0.0, 0.0], [2.0, 9.0, 0.0], [-1.0, 1.5, 11.0]])
    return shear @ Rotation.random(random_state=seed).as_matrix().T


def cubic_lattice(n=4, a=3.0):
    """Molecules with O on a simple cubic lattice of constant a, all dipoles along z; (N, 3), numbers, cell."""
    grid = np.stack(np.meshgrid(*[np.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3) * a
    mol = np.concatenate([grid[:, None], grid[:, None] + H_ALONG_Z], axis=1)
    return mol.reshape(-1, 3), np.tile([8, 1, 1], len(grid)), np.eye(3) * n * a


def test_pair_indices_exclude_intramolecular_pairs():
    i, j = pair_indices(3, "OH")
    assert len(i) == 3 * 6 - 6 and np.all(i // 3 != j // 3)
    i, j = pair_indices(3, "HH")
    assert len(i) == 6 * 5 // 2 - 3
    assert len(pair_indices(3, "OO")[0]) == 3
    with pytest.raises(ValueError, match="pair must be"):
        pair_indices(3, "OC")


@pytest.mark.parametrize("pair", ["OO", "OH", "HH"])
def test_ideal_gas_in_a_triclinic_cell_gives_one(pair):
    rng = np.random.default_rng(1)
    cell = triclinic_cell()
    n_mol, n_frames = 60, 40
    positions = rng.random((n_frames, 3 * n_mol, 3)) @ cell + rng.integers(-2, 3, (n_frames, 3 * n_mol, 1)) * cell[0]
    g = radial_distribution(positions, np.tile([8, 1, 1], n_mol), cell, pair=pair, n_bins=15, n_blocks=10)
    outer = g.r > g.r[-1] / 3  # enough pairs per bin for a reliable error bar
    assert np.all(np.abs(g.g[outer] - 1) < 5 * g.g_err[outer])
    shells = np.diff(g.edges ** 3)
    assert np.sum(g.g * shells) / np.sum(shells) == pytest.approx(1.0, abs=0.03)


def test_simple_cubic_lattice_peaks_at_the_lattice_constant():
    positions, numbers, cell = cubic_lattice(n=4, a=3.0)
    g = radial_distribution(positions, numbers, cell, pair="OO", r_max=4.0, n_bins=70)  # no bin edge at 3.0
    assert g.g_err is None  # no blocks asked for
    first = np.flatnonzero(g.g > 0)[0]
    assert g.edges[first] <= 3.0 < g.edges[first + 1]
    # six neighbours within 1.1 a: the coordination number from g
    n_mol = len(numbers) // 3
    density = (n_mol - 1) / np.linalg.det(cell)
    inside = g.edges[1:] <= 3.3
    assert np.sum(g.g[inside] * 4 / 3 * np.pi * np.diff(g.edges ** 3)[inside]) * density == pytest.approx(6.0)


def test_a_skewed_rotated_basis_of_the_same_lattice_gives_the_same_g():
    positions, numbers, cell = cubic_lattice(n=5, a=3.0)
    skewed = np.array([cell[0], cell[1] + cell[0], cell[2] - cell[1]])
    rot = Rotation.random(random_state=3).as_matrix()
    rng = np.random.default_rng(0)
    moved = positions @ rot.T + rng.integers(-1, 2, (len(positions), 3)) @ (skewed @ rot.T)
    for pair in ("OO", "OH", "HH"):
        ref = radial_distribution(positions, numbers, cell, pair=pair, r_max=4.0, n_bins=35)
        other = radial_distribution(moved, numbers, skewed @ rot.T, pair=pair, r_max=4.0, n_bins=35)
        np.testing.assert_allclose(other.g, ref.g, atol=1e-9)


def test_bead_resolved_input_averages_over_beads():
    rng = np.random.default_rng(2)
    positions, numbers, cell = cubic_lattice(n=3, a=3.0)
    beads = positions + 0.1 * rng.standard_normal((4, 2) + positions.shape)  # (P, T, N, 3)
    g_beads = radial_distribution(beads, numbers, cell, pair="OH", r_max=4.0, n_bins=20)
    each = [radial_distribution(b, numbers, cell, pair="OH", r_max=4.0, n_bins=20).g for b in beads]
    np.testing.assert_allclose(g_beads.g, np.mean(each, axis=0), atol=1e-12)


def test_aligned_dipoles_on_a_cubic_lattice():
    positions, numbers, cell = cubic_lattice(n=4, a=3.0)
    c = dipole_correlations(positions, numbers, cell, r_max=4.5, n_bins=35)
    k = np.flatnonzero(c.counts)
    assert len(k) == 2  # neighbours at a and a sqrt(2)
    # at a: 2 of 6 neighbours along z, so c_L = 1/3, c_T = 2/3; at a sqrt(2): 4 of 12 have r_z^2 = 1/2
    np.testing.assert_allclose(c.c_L[k], [1 / 3, 1 / 3], atol=1e-12)
    np.testing.assert_allclose(c.c_T[k], [2 / 3, 2 / 3], atol=1e-12)
    assert np.all(np.isnan(np.delete(c.c_L, k)))
    assert c.c_L_err is None and c.c_T_err is None  # no blocks asked for


def test_uncorrelated_dipoles_give_zero_correlations():
    rng = np.random.default_rng(4)
    n_mol, n_frames = 64, 20
    cell = triclinic_cell(seed=1)
    rot = Rotation.random(n_frames * n_mol, random_state=rng).as_matrix().reshape(n_frames, n_mol, 3, 3)
    oxygens = rng.random((n_frames, n_mol, 3)) @ cell
    hydrogens = oxygens[:, :, None] + np.einsum("tmab,hb->tmha", rot, H_ALONG_Z)
    positions = np.concatenate([oxygens[:, :, None], hydrogens], axis=2).reshape(n_frames, -1, 3)
    c = dipole_correlations(positions, np.tile([8, 1, 1], n_mol), cell, n_bins=5, n_blocks=10)
    assert np.all(np.abs(c.c_L[1:]) < 5 * c.c_L_err[1:])
    assert np.all(np.abs(c.c_T[1:]) < 5 * c.c_T_err[1:])


def test_bad_inputs_are_refused():
    positions, numbers, cell = cubic_lattice(n=2, a=3.0)
    with pytest.raises(ValueError, match="r_max"):
        radial_distribution(positions, numbers, cell, r_max=4.0)
    with pytest.raises(ValueError, match="cells=None"):
        radial_distribution(positions, numbers, None)
    with pytest.raises(ValueError, match="whole number"):
        radial_distribution(positions[:-1], numbers[:-1], cell)
    with pytest.raises(ValueError, match="cells must be"):
        radial_distribution(np.stack([positions] * 3), numbers, np.stack([cell] * 2))


@pytest.mark.parametrize("pair", ["OO", "OH", "HH"])
def test_dense_pair_counting_equals_the_explicit_pair_list(pair, water_box_triclinic):
    """The fast path (dense blocks minus self and intramolecular pairs) against a plain loop over pair_indices."""
    s = water_box_triclinic
    cell = s.cell
    r_max = 0.999 * perpendicular_widths(cell[None]).min() / 2
    g = radial_distribution(s.positions, s.numbers, cell, pair=pair, r_max=r_max, n_bins=25)
    i, j = pair_indices(len(s.numbers) // 3, pair)
    r = np.linalg.norm(minimum_image((s.positions[j] - s.positions[i])[None], cell[None])[0], axis=1)
    counts = np.histogram(r, bins=g.edges)[0]
    expected = counts * abs(np.linalg.det(cell)) / (len(i) * 4 / 3 * np.pi * np.diff(g.edges ** 3))
    np.testing.assert_allclose(g.g, expected, rtol=1e-12)
    assert np.all(g.g >= 0)
