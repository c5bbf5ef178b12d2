"""The numbers in the report's opening sentences: reduction factors and significant digits."""

from symbreak.analysis.findings import fold, sig


def test_fold_names_large_reductions_by_their_power_of_ten():
    assert fold(12000.0) == "10^4-fold" and fold(150.0) == "10^2-fold" and fold(3.2) == "3.2-fold"


def test_sig_keeps_significant_digits():
    assert sig(674.9) == "675" and sig(0.0123) == "0.012" and sig(87.34) == "87" and sig(7.448) == "7.4"
    assert sig(-3174.2) == "-3174" and sig(2.0e-5) == "2e-05" and sig(0.0) == "0"
