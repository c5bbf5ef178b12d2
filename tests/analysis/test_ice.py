"""Ice relative energies: errors vs the reference, between strategies, and the physical spread."""

import numpy as np
import pytest
from symbreak.analysis.ice import ranking_agreement, relative_energies, relative_energy_error


def synthetic_set():
    """Energies per molecule (meV) of 6 configurations: a model offset and tilted, each strategy off by a known pattern."""
    ref = np.array([0.0, 1.0, -1.0, 2.0, -2.0, 0.5]) - 15000.0
    model = ref + 70.0 + np.array([0.1, -0.1, 0.1, -0.1, 0.1, -0.1])  # model error on relative energies: 0.1
    plain = model + 3.0 + np.array([0.01, 0.01, -0.01, -0.01, 0.01, -0.01])  # symmetry error: 0.01
    return {"reference": ref, "averaged": model, "plain": plain}


def test_relative_energies_and_their_errors():
    e = synthetic_set()
    np.testing.assert_allclose(relative_energies(e["reference"]), [-1 / 12, 11 / 12, -13 / 12, 23 / 12, -25 / 12, 5 / 12])
    assert relative_energy_error(e["averaged"], e["reference"]) == pytest.approx(0.1)
    assert relative_energy_error(e["plain"], e["averaged"]) == pytest.approx(0.01)


def test_ranking_agreement_of_a_reversed_order():
    r = ranking_agreement([3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0])
    assert r.spearman == pytest.approx(-1.0) and r.kendall == pytest.approx(-1.0)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="at least 2"):
        relative_energies([1.0])
    with pytest.raises(ValueError, match="different configurations"):
        relative_energy_error([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="NaN"):
        ranking_agreement([1.0, np.nan], [1.0, 2.0])
