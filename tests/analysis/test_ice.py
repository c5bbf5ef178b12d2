"""Ice relative energies: errors vs the reference, between strategies, and the physical spread."""

import numpy as np
import pytest
from symbreak.analysis.ice import (
    compare_ice_energies,
    ice_report,
    ranking_agreement,
    relative_energies,
    relative_energy_error,
    relaxation_energies,
)


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


def test_compare_ice_energies_puts_errors_next_to_the_spread():
    c = compare_ice_energies(synthetic_set())
    assert c["spread"] == pytest.approx(np.std([0.0, 1.0, -1.0, 2.0, -2.0, 0.5]))
    assert c["vs_reference"]["averaged"]["mae"] == pytest.approx(0.1)
    assert c["vs_reference"]["averaged"]["max"] == pytest.approx(0.1)
    assert c["between"] == {"averaged|plain": pytest.approx(0.01)}
    # the errors are far below the spacing of the reference energies: the order is kept
    assert c["vs_reference"]["plain"]["spearman"] == pytest.approx(1.0)
    assert c["vs_reference"]["plain"]["kendall"] == pytest.approx(1.0)
    assert c["n_configurations"] == 6


def test_ranking_agreement_of_a_reversed_order():
    r = ranking_agreement([3.0, 2.0, 1.0, 0.0], [0.0, 1.0, 2.0, 3.0])
    assert r["spearman"] == pytest.approx(-1.0) and r["kendall"] == pytest.approx(-1.0)


def test_ice_report_before_and_after_relaxation():
    before = synthetic_set()
    after = {k: v - np.array([5.0, 5.1, 5.0, 5.2, 5.0, 5.1]) for k, v in before.items()}
    after["plain"] = after["plain"] - 0.02  # the plain model relaxes a little further, uniformly
    r = ice_report(before, after)
    np.testing.assert_allclose(r["relaxation"]["reference"], -np.array([5.0, 5.1, 5.0, 5.2, 5.0, 5.1]))
    assert r["after"]["vs_reference"]["averaged"]["mae"] == pytest.approx(0.1)
    assert r["relaxation_compare"]["vs_reference"]["plain"]["mae"] == pytest.approx(0.02)  # absolute, not relative
    assert r["relaxation_compare"]["between"]["averaged|plain"] == pytest.approx(0.02)


def test_bad_inputs_are_refused():
    e = synthetic_set()
    with pytest.raises(ValueError, match="'reference' entry"):
        compare_ice_energies({"plain": e["plain"]})
    with pytest.raises(ValueError, match="cover 5 configurations"):
        compare_ice_energies({**e, "plain": e["plain"][:5]})
    with pytest.raises(ValueError, match="at least 2"):
        relative_energies([1.0])
    with pytest.raises(ValueError, match="different configurations"):
        relaxation_energies([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="different potentials"):
        ice_report(e, {"reference": e["reference"]})
