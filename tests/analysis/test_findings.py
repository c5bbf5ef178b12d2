"""The numbers in the report's opening sentences: reduction factors and significant digits."""

from symbreak.analysis.findings import fold, sig


def test_fold_names_large_reductions_by_their_power_of_ten():
    assert fold(12000.0) == "10^4-fold" and fold(150.0) == "10^2-fold" and fold(3.2) == "3.2-fold"


def test_sig_keeps_significant_digits():
    assert sig(674.9) == "675" and sig(0.0123) == "0.012" and sig(87.34) == "87" and sig(7.448) == "7.4"
    assert sig(-3174.2) == "-3174" and sig(2.0e-5) == "2e-05" and sig(0.0) == "0"


def _comparison(pairs, verdicts):
    from symbreak.analysis.results import Comparison, ObservableComparison, Verdict

    observables = {name: ObservableComparison(name, "scalar", "", {p: Verdict(v) for p, v in by_pair.items()})
                   for name, by_pair in verdicts.items()}
    return Comparison("liquid-nvt size 32", "liquid-nvt", ("plain", "mts:2i", "reference"), pairs, observables)


def test_a_difference_between_direct_and_mts_runs_says_it_measures_the_integrator_too():
    from symbreak.analysis.findings import comparison_finding

    pairs = ("plain|mts:2i", "plain|reference", "mts:2i|reference")
    c = _comparison(pairs, {"conserved_drift": {"plain|mts:2i": "different", "plain|reference": "same"},
                            "temperature": {"plain|mts:2i": "same", "plain|reference": "same"}})
    text = comparison_finding(c, "liquid")
    assert "conserved_drift differs beyond error bars between plain and mts:2i" in text
    assert "differ in the integrator as well as in the symmetry treatment" in text
    assert "conserved_drift measures the integrator alone" in text
    # two direct runs: nothing to add; nothing differing: nothing to add
    direct = _comparison(("plain|2i",), {"conserved_drift": {"plain|2i": "different"}})
    assert "integrator" not in comparison_finding(direct, "liquid")
    same = _comparison(pairs, {"temperature": {"plain|mts:2i": "same"}})
    assert "integrator" not in comparison_finding(same, "liquid")
