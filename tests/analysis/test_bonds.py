"""O-H bond lengths: known geometry, the minimum image, a normalised distribution with block errors."""

import numpy as np
import pytest
from symbreak.analysis.bonds import bond_length_distribution, oh_bond_lengths
from symbreak.core.errors import InputError

WATER = np.array([[0.0, 0.0, 0.0], [0.9572, 0.0, 0.0], [-0.24, 0.9266, 0.0]])


def test_known_geometry_and_minimum_image():
    lengths = oh_bond_lengths(WATER, [8, 1, 1])
    assert lengths.shape == (1, 2)
    np.testing.assert_allclose(lengths[0], [0.9572, np.hypot(0.24, 0.9266)], rtol=1e-12)
    # the molecule wrapped across the cell: O at the far face, its H images at the near one
    cell = 10.0 * np.eye(3)
    wrapped = (WATER + [9.8, 0.0, 0.0]) % 10.0
    np.testing.assert_allclose(oh_bond_lengths(wrapped, [8, 1, 1], cell), lengths, rtol=1e-12)


def test_distribution_is_a_normalised_density_with_block_errors():
    rng = np.random.default_rng(1)
    lengths = 0.97 + 0.02 * rng.standard_normal((40, 64))
    d = bond_length_distribution(lengths, 0.8, 1.2, n_bins=40, n_blocks=4)
    assert np.trapezoid(d.density, d.r) == pytest.approx(1.0, abs=0.02)
    assert d.r[np.argmax(d.density)] == pytest.approx(0.97, abs=0.015)
    assert d.density_error is not None and np.all(d.density_error >= 0) and d.density_error.max() > 0
    assert bond_length_distribution(lengths, 0.8, 1.2).density_error is None


def test_bad_input_is_one_line():
    with pytest.raises(InputError, match="O, H, H"):
        oh_bond_lengths(WATER, [1, 8, 1])
    with pytest.raises(InputError, match="r_min < r_max"):
        bond_length_distribution(np.ones((2, 2)), 1.2, 0.8)
    with pytest.raises(InputError, match=r"\(T, K\)"):
        bond_length_distribution(np.ones(5))
