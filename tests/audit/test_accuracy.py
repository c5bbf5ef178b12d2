"""model_error against a reference whose answer is known: the toy against its own invariant part.

The toy minus its invariant part is the anisotropic term alone, so the energy offset
and fluctuation are the mean and standard deviation of that term over the frames,
and the force MAE is the mean |F| of the term.
"""

import numpy as np
import pytest
from symbreak.audit.accuracy import model_error
from symbreak.audit.systems import build_systems

from .conftest import toy


class InvariantPart:
    """The toy's exact O(3) average as a Potential: the reference of these tests."""

    def __init__(self, potential):
        self.potential = potential

    def compute(self, structures):
        return self.potential.invariant_part(structures)


def test_model_error_of_the_toy_against_its_invariant_part_is_its_anisotropic_term():
    """Offset, fluctuation (ddof 1) and force MAE equal those of the anisotropic term on the displaced frames."""
    system = build_systems(("molecule",), quick=True, frames=4, seed=3)[0]
    assert len(system.frames) == 4
    pot = toy("l2")
    m = model_error(pot, InvariantPart(pot), "toy-invariant", system, plain_symmetry_force=2.0)
    part = pot.anisotropic_part(list(system.frames))
    energies = 1e3 * np.asarray(part.energies)
    force_mae = 1e3 * np.mean(np.abs(np.concatenate([f.ravel() for f in part.forces])))
    assert m.system == "molecule" and m.reference == "toy-invariant" and m.frames == 4
    assert m.energy_offset_meV_per_molecule == pytest.approx(energies.mean(), rel=1e-9)
    assert m.energy_fluctuation_meV_per_molecule == pytest.approx(energies.std(ddof=1), rel=1e-9)
    assert m.force_mae_meV_per_A == pytest.approx(force_mae, rel=1e-9)
    assert m.symmetry_over_model == pytest.approx(2.0 / force_mae, rel=1e-9)
    assert 0 < m.force_rmse_relative < np.inf


def test_model_error_of_a_model_against_itself_is_zero_and_needs_frames():
    """Against itself: no offset, no error, no ratio (MAE 0); with no frames: ValueError naming --frames."""
    pot = toy("l2")
    system = build_systems(("molecule",), quick=True, frames=2)[0]
    m = model_error(pot, pot, "toy", system, plain_symmetry_force=1.0)
    assert m.energy_offset_meV_per_molecule == 0.0 and m.force_mae_meV_per_A == 0.0
    assert m.symmetry_over_model is None
    empty = build_systems(("molecule",), quick=True, frames=0)[0]
    with pytest.raises(ValueError, match="--frames"):
        model_error(pot, pot, "toy", empty)
