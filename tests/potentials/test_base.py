"""The batched interface's shared pieces: Structure checks and chunking of batches."""

import numpy as np
import pytest
from symbreak.potentials.base import Structure, split_batch
from symbreak.potentials.testing import water_box, water_molecule


def test_structure_validates_shapes():
    with pytest.raises(ValueError, match="positions must have shape"):
        Structure(np.zeros((3, 2)), [8, 1, 1])
    with pytest.raises(ValueError, match="numbers must have shape"):
        Structure(np.zeros((3, 3)), [8, 1])
    with pytest.raises(ValueError, match="cell must have shape"):
        Structure(np.zeros((3, 3)), [8, 1, 1], np.eye(2))


def test_split_batch_respects_both_limits():
    mol, box = water_molecule(), water_box(n_per_side=2)  # 3 and 24 atoms
    batch = [mol] * 5 + [box] * 3
    assert [len(c) for c in split_batch(batch, None, None)] == [8]
    assert [len(c) for c in split_batch(batch, 3, None)] == [3, 3, 2]
    chunks = split_batch(batch, None, 50)
    assert [sum(s.n_atoms for s in c) for c in chunks] == [39, 48]
    assert sum(len(c) for c in chunks) == 8
    # a structure larger than the atom limit still goes through, alone
    assert [len(c) for c in split_batch([box, box], None, 10)] == [1, 1]


def test_minimum_image_in_a_skewed_cell():
    from symbreak.potentials.base import minimum_image

    cell = np.array([[5.0, 0.0, 0.0], [2.0, 5.0, 0.0], [1.0, 1.5, 6.0]])
    short = np.array([[0.3, -0.7, 0.4], [1.1, 0.2, -0.9]])
    shifted = short + np.array([[1, -2, 1], [0, 1, 3]]) @ cell
    np.testing.assert_allclose(minimum_image(shifted, cell), short, atol=1e-12)
    assert minimum_image(shifted, None) is not None and np.allclose(minimum_image(shifted, None), shifted)
