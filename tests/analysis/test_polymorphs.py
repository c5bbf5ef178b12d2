"""Polymorph comparison: energies relative to Ih, Kendall tau of the phases, RMS errors, ordering signs (known answers)."""

import numpy as np
import pytest
from symbreak.analysis.polymorphs import (
    PolymorphCells,
    compare_polymorphs,
    comparison_table,
    kendall_tau,
    relative_to_phase,
)
from symbreak.core.errors import InputError

CELLS = PolymorphCells(("Ih", "Ih", "VI", "VI", "II"), (1, 2, 1, 2, 1))
#: eV/H2O: Ih cells at -0.6 and -0.6 + 2 meV, VI 49.5 meV above Ih (two orderings 1 meV apart), II 17 meV above
REFERENCE = np.array([-0.600, -0.598, -0.549, -0.550, -0.582])


def test_a_constant_offset_changes_nothing_and_a_perfect_model_scores_perfectly():
    shifted = REFERENCE + 3.7  # a baseline offset per molecule
    c = compare_polymorphs(CELLS, {"reference": REFERENCE, "plain": shifted, "2i": shifted}, averaged="2i")
    assert c.kendall["plain"] == pytest.approx(1.0)
    assert c.rms_error["plain"] == pytest.approx(0.0, abs=1e-12)
    assert c.symmetry_rms == pytest.approx(0.0, abs=1e-12) and c.symmetry_max == pytest.approx(0.0, abs=1e-12)
    assert c.phase_energy["reference"]["Ih"] == pytest.approx(0.0, abs=1e-12)
    assert c.phase_energy["reference"]["VI"] == pytest.approx(0.0495)
    assert c.phase_energy["reference"]["II"] == pytest.approx(0.017)
    # orderings: Ih 2-1 (+2 meV) and VI 2-1 (-1 meV); II is ordered and has one cell
    assert [(o.polymorph, o.seed_a, o.seed_b) for o in c.orderings] == [("Ih", 1, 2), ("VI", 1, 2)]
    assert c.orderings[0].difference["reference"] == pytest.approx(0.002)
    assert c.sign_judged == 2 and c.sign_errors == {"plain": 0, "2i": 0}


def test_known_errors_ranking_and_signs():
    plain = REFERENCE.copy()
    plain[4] += 0.040  # II pushed above VI: one discordant pair of three phases
    plain[3] += 0.0025  # VI's second ordering now below its first: a sign flipped (reference -1 meV)
    averaged = plain.copy()
    averaged[0] += 1e-5  # averaging moves one Ih cell by 0.01 meV
    c = compare_polymorphs(CELLS, {"reference": REFERENCE, "plain": plain, "avg": averaged}, averaged="avg")
    assert c.kendall["plain"] == pytest.approx(kendall_tau([0, 0.049, 0.057], [0, 0.0495, 0.017]))
    assert c.kendall["plain"] == pytest.approx(1 / 3)  # 2 concordant, 1 discordant of 3 pairs
    expected = relative_to_phase(plain, CELLS) - relative_to_phase(REFERENCE, CELLS)
    assert c.rms_error["plain"] == pytest.approx(np.sqrt(np.mean(expected**2)))
    # moving one of the two Ih cells by d moves the Ih mean by d/2: every relative energy changes by d/2
    assert c.symmetry_rms == pytest.approx(0.5e-5) and c.symmetry_max == pytest.approx(0.5e-5)
    assert c.sign_errors["plain"] == 1
    # a threshold above both reference differences judges none
    c2 = compare_polymorphs(CELLS, {"reference": REFERENCE, "plain": plain}, sign_threshold=0.01)
    assert c2.sign_judged == 0 and c2.sign_errors["plain"] == 0 and c2.symmetry_rms is None
    table = comparison_table(c)
    assert table.splitlines()[0].split()[:4] == ["phase", "reference", "plain", "avg"]
    assert "49.50" in table  # VI in meV/H2O


def test_bad_input_is_one_line():
    with pytest.raises(InputError, match="one value per cell"):
        compare_polymorphs(CELLS, {"reference": REFERENCE[:3]})
    with pytest.raises(InputError, match="'reference'"):
        compare_polymorphs(CELLS, {"plain": REFERENCE})
    with pytest.raises(InputError, match="no Ih cell"):
        compare_polymorphs(PolymorphCells(("VI", "II"), (1, 1)), {"reference": REFERENCE[:2]})
    with pytest.raises(InputError, match="NaN"):
        compare_polymorphs(CELLS, {"reference": np.full(5, np.nan)})
    with pytest.raises(InputError, match="seeds"):
        PolymorphCells(("Ih",), (1, 2))
