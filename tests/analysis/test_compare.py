"""Paired verdicts: runs that share their start and noise are compared block by block, and only when the blocks pair."""

from dataclasses import replace

import numpy as np
import pytest
from symbreak.analysis.blocks import block_average, block_means
from symbreak.analysis.compare import MIN_PAIRED_BLOCKS, paired_error, scalar_verdict
from symbreak.analysis.results import Observable, read_analysis, write_json


def observable(series, times, n_blocks=10) -> Observable:
    mean, err = block_average(series, n_blocks)
    return Observable("temperature", float(mean), float(err), "K", tuple(block_means(series, n_blocks)),
                      tuple(block_means(times, n_blocks)))


def correlated_noise(n, rng, tau=20.0):
    """An AR(1) series of unit variance and correlation time ~tau frames (a thermostatted observable)."""
    phi = np.exp(-1.0 / tau)
    x = np.zeros(n)
    for k in range(1, n):
        x[k] = phi * x[k - 1] + np.sqrt(1 - phi**2) * rng.normal()
    return x


def test_a_shift_hidden_in_shared_noise_is_resolved_only_by_pairing():
    rng = np.random.default_rng(3)
    times = np.arange(2000) * 0.005
    shared = correlated_noise(2000, rng)
    a = observable(shared, times)
    b = observable(shared + 0.05 + 0.01 * rng.normal(size=2000), times)
    unpaired = scalar_verdict(replace(a, blocks=None), replace(b, blocks=None))
    assert unpaired.verdict == "same" and not unpaired.paired  # 0.05 against combined bars of ~0.2
    paired = scalar_verdict(a, b)
    assert paired.verdict == "different" and paired.paired and paired.text().startswith("different (paired z ")
    assert paired.error < 0.01 * unpaired.error
    assert paired.statistic == pytest.approx(abs(b.value - a.value) / paired.error, rel=1e-12)
    # the same shift in the other direction, and no shift: same
    assert scalar_verdict(a, observable(shared + 0.01 * rng.normal(size=2000), times)).verdict == "same"


def test_independent_runs_get_about_the_combined_error():
    rng = np.random.default_rng(4)
    times = np.arange(20000) * 0.005
    a = observable(correlated_noise(20000, rng), times, n_blocks=40)
    b = observable(correlated_noise(20000, rng), times, n_blocks=40)
    assert paired_error(a, b) / float(np.hypot(a.error, b.error)) == pytest.approx(1.0, abs=0.35)


def test_blocks_pair_only_over_the_same_time():
    rng = np.random.default_rng(5)
    shared = correlated_noise(1000, rng)
    a = observable(shared, np.arange(1000) * 0.005)
    # a run stored 5x less often over the same time pairs with it
    coarse = observable(shared[4::5] + 0.05, np.arange(4, 1000, 5) * 0.005)
    assert paired_error(a, coarse) is not None and scalar_verdict(a, coarse).paired
    # half a block later, another number of blocks, too few blocks, no times, identical runs: combined error bars
    late = replace(a, block_times=tuple(t + 0.5 * 0.5 for t in a.block_times))
    assert paired_error(a, late) is None and not scalar_verdict(a, late).paired
    assert paired_error(a, observable(shared, np.arange(1000) * 0.005, n_blocks=8)) is None
    few = MIN_PAIRED_BLOCKS - 1
    assert paired_error(observable(shared, np.arange(1000.0), few), observable(shared + 1, np.arange(1000.0), few)) is None
    assert paired_error(a, replace(a, block_times=None)) is None
    same = scalar_verdict(a, a)
    assert same.verdict == "same" and same.statistic == 0 and not same.paired


def test_blocks_survive_analysis_json(tmp_path):
    from symbreak.analysis.results import RunAnalysis, Timing

    o = observable(np.arange(100.0), np.arange(100) * 0.01)
    r = RunAnalysis("runs/x", "liquid-nvt", "liquid", "plain", "toy", "plain", 1, True, "liquid-nvt size 8", 8, 10,
                    Timing(1.0, 10, 100.0), 0.5, {"temperature": o}, {})
    write_json(tmp_path / "analysis.json", r)
    back = read_analysis(tmp_path / "analysis.json")
    assert back == r and back.observables["temperature"].blocks == o.blocks and len(o.blocks) == 10


def test_few_blocks_widen_the_paired_error_by_the_student_t_factor():
    from scipy import stats

    times = (1.0, 2.0, 3.0, 4.0, 5.0)
    a = Observable("K", 0.0, 1.0, "", (0.0,) * 5, times)
    b = Observable("K", 0.2, 1.0, "", (1.2, -0.8, 1.2, -0.8, 0.2), times)
    raw = float(np.std(b.blocks, ddof=1) / np.sqrt(5))
    assert paired_error(a, b) == pytest.approx(raw * stats.t.ppf(stats.norm.cdf(2.0), 4) / 2.0, rel=1e-12)
    assert 1.4 < paired_error(a, b) / raw < 1.45  # 4 degrees of freedom: 2.87 instead of 2 sigma
