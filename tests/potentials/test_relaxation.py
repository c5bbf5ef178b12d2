"""relax(): L-BFGS at fixed cell; trial steps the potential refuses make the line search step back."""

import numpy as np
import pytest
from symbreak.core.errors import InputError
from symbreak.core.structure import Structure
from symbreak.potentials.relaxation import relax
from symbreak.potentials.toy import ToyWater
from symbreak.structures import molecule


class RefusesLongBonds(ToyWater):
    """The toy, refusing (like q-TIP4P/F) any O-H distance above 1.2 A; counts the refusals."""

    refused = 0

    def compute(self, structures):
        for s in structures:
            if np.linalg.norm(s.positions[1:] - s.positions[0], axis=1).max() > 1.2:
                RefusesLongBonds.refused += 1
                raise InputError("an O-H distance is > 1.2 A")
        return super().compute(structures)


def test_refused_trial_steps_are_stepped_back_from():
    start = molecule(seed=3)
    start = Structure(start.positions + 0.02 * np.random.default_rng(0).standard_normal((3, 3)), start.numbers)
    pot = RefusesLongBonds()
    relaxed = relax(start, pot, steps=300, fmax=1e-4)
    assert RefusesLongBonds.refused > 0  # the first 1 A trial step was refused, and the relaxation went on
    assert np.abs(pot.compute_one(relaxed)[1]).max() < 1e-3


def test_a_refused_start_is_an_error():
    broken = molecule()
    broken = Structure(broken.positions * np.array([[1.0], [2.0], [1.0]]), broken.numbers)
    with pytest.raises(InputError, match="O-H distance"):
        relax(broken, RefusesLongBonds())
