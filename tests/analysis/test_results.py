"""Typed analysis results: JSON round trip, typos as errors, verdicts only where judged, the opening sentences."""

import json

import pytest
from symbreak.analysis.compare import compare_runs
from symbreak.analysis.findings import findings, sig
from symbreak.analysis.report import not_judged_line, summary_rows
from symbreak.analysis.results import (
    Observable,
    RunAnalysis,
    Timing,
    UnknownObservable,
    curve,
    read_analysis,
    read_comparisons,
    write_json,
)


def gas_run(label: str, L_max: float, torque: float, path: str = "runs") -> RunAnalysis:
    obs = {
        "L_max_change": Observable("L_max_change", L_max, None, "hbar"),
        "L_direction_change": Observable("L_direction_change", 87.0 * L_max, None, "deg"),
        "torque_rms": Observable("torque_rms", torque, 0.01 * torque, "eV"),
        "temperature": Observable("temperature", 300.0 + L_max, 5.0, "K"),
        "model_error_mean": Observable("model_error_mean", 3.0, 0.1, "eV/H2O"),
        "model_error_std": Observable("model_error_std", 0.015, None, "eV/H2O"),
    }
    curves = {"L_change": curve("L_change", [0, 1e-3], [0, L_max], None, "time / ps", "|L(t) - L(0)| / hbar")}
    return RunAnalysis(f"{path}/gas-nve-{label}", "gas-nve", "gas", label, "toy", label, 1, True, "gas-nve", 1, 11,
                       Timing(1.0, 10, 100.0), 0.5, obs, curves)


def test_json_round_trip(tmp_path):
    r = gas_run("plain", 3.4, 0.03)
    write_json(tmp_path / "analysis.json", r)
    assert read_analysis(tmp_path / "analysis.json") == r
    data = json.loads((tmp_path / "analysis.json").read_text())
    assert data["observables"]["torque_rms"] == {"name": "torque_rms", "value": 0.03, "error": 0.0003, "unit": "eV",
                                                 "blocks": None, "block_times": None}
    assert data["curves"]["L_change"]["x_unit"] == "ps" and data["timing"]["ms_per_step"] == 100.0
    c = compare_runs([r, gas_run("2i", 1e-4, 0.001)])
    write_json(tmp_path / "comparison.json", [c])
    assert read_comparisons(tmp_path / "comparison.json") == [c]


def test_names_are_checked():
    r = gas_run("plain", 3.4, 0.03)
    assert r.value("torque_rms", 1e3) == pytest.approx(30.0)
    assert r.value("kinetic_cv_H") is None and r.value("symmetry_error_2i") is None
    with pytest.raises(UnknownObservable, match="L_max_chang"):
        r.value("L_max_chang")
    with pytest.raises(AttributeError):
        r.scalars  # noqa: B018 - the old dict layout is gone


def test_only_observables_with_error_bars_are_judged():
    c = compare_runs([gas_run("plain", 3.4, 0.03), gas_run("2i", 1e-4, 0.001)])
    assert set(c.observables) == {"torque_rms", "model_error_mean"}
    assert c.verdict("torque_rms", "2i", "plain").verdict == "different"
    assert c.verdict("model_error_mean", "plain", "2i").verdict == "same"
    assert c.not_judged["temperature"].startswith("one molecule")
    assert c.not_judged["L_max_change"] == "no error bar"
    assert not_judged_line(c).startswith("L_direction_change, L_max_change, model_error_std (no error bar)")


def test_findings_and_summary_rows():
    results = [gas_run("plain", 3.4, 0.03), gas_run("2i", 3.4e-4, 0.001)]
    lines = findings(results, [compare_runs(results)])
    assert lines[0] == ("In vacuum the plain model turns L by 296 deg in 0.5 ps (|L - L0| up to 3.4 hbar); "
                        "2i reduces the drift 10^4-fold.")
    assert "offset by 3000 meV and fluctuates by 15 meV" in lines[1]
    row = summary_rows(results)[0]
    assert row.system == "gas" and row.model_offset.value == 3.0 and row.model_fluctuation.value == 0.015
    assert [sig(674.9), sig(0.0123), sig(-165.3, 3)] == ["675", "0.012", "-165"]
