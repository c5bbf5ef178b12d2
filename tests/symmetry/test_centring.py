"""Isolated structures are rotated about their centroid: the same results wherever the molecule sits, copies near 0."""

import numpy as np
import pytest
from symbreak.core.structure import Structure
from symbreak.potentials.registry import load_potential
from symbreak.potentials.testing import water_molecule
from symbreak.symmetry.strategies import parse_strategy


class Spy:
    """Wraps a potential and records how far from the origin the atoms it is given lie."""

    def __init__(self, base):
        self.base, self.largest = base, 0.0
        self.chunk_size = getattr(base, "chunk_size", None)

    def compute(self, structures):
        self.largest = max(self.largest, max(float(np.abs(s.positions).max()) for s in structures))
        return self.base.compute(structures)

    def __getattr__(self, name):
        return getattr(self.base, name)


@pytest.mark.parametrize("strategy", ["2i", "lebedev:3", "random:5", "2+random:5"])
def test_a_far_molecule_gives_the_results_of_the_same_molecule_at_the_origin(strategy):
    molecule = water_molecule(seed=3)
    shift = np.array([50.0, 49.0, 51.0])  # where i-PI keeps a molecule in its 100 A box
    far = Structure(molecule.positions + shift, molecule.numbers, None)
    near = parse_strategy(strategy, load_potential("toy")).compute([molecule])
    spy = Spy(load_potential("toy"))
    there = parse_strategy(strategy, spy, diagnostics=False).compute([far])  # no unrotated plain copy
    assert spy.largest < 5.0  # the rotated copies stayed next to the origin
    assert there.energies[0] == pytest.approx(near.energies[0], abs=1e-10)
    np.testing.assert_allclose(there.forces[0], near.forces[0], atol=1e-10)
    # the isolated-system virial sum_i F_i r_i^T of the far molecule: the near one's plus (sum_i F_i) shift^T
    expected = near.virials[0] + np.outer(near.forces[0].sum(axis=0), shift)
    np.testing.assert_allclose(there.virials[0], expected, atol=1e-9)
    np.testing.assert_allclose(there.virials[0], there.forces[0].T @ far.positions, atol=1e-8)
