"""The cost-accuracy frontier: its entries, its judgement (known answers), its report, and a real toy run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from symbreak.analysis.results import Observable
from symbreak.study import frontier as fr
from symbreak.study.frontier_report import frontier_document, frontier_figure, frontier_finding, frontier_text


def test_entries_cover_the_issue_list_once_each():
    gas = fr.frontier_entries("gas")
    labels = [e.label for e in gas]
    assert len(set(labels)) == len(labels) and labels[0] == "plain"
    strategies = {e.strategy for e in gas if e.mts_ratio is None}
    assert {"plain", "random:1", "2i+random:1", "plain+notorque", "i", "2", "2i", "3i"} <= strategies
    assert {(e.strategy, e.mts_ratio) for e in gas if e.mts_ratio} == {(g, s) for g in ("2", "2i") for s in (2, 4, 5, 10, 20)}
    assert [e.label for e in gas if e.reference] == ["3i"]
    liquid = fr.frontier_entries("liquid")
    assert "plain+notorque" not in {e.strategy for e in liquid} and "plain+nonetforce" in {e.strategy for e in liquid}
    assert [e.label for e in liquid if e.reference] == ["2i"]


def test_runs_simulate_the_same_time_without_the_reference_client():
    runs = fr.frontier_runs("gas", duration_fs=100, seed=3)
    for entry, run in zip(fr.frontier_entries("gas"), runs):
        outer = 0.5 * (entry.mts_ratio or 1)
        assert run.steps == max(fr.MIN_STEPS, round(100 / outer))
        assert run.case == ("gas-mts-nve" if entry.mts_ratio else "gas-nve") and run.mts_ratio == entry.mts_ratio
        assert run.record_reference is False and run.seed == 3
    assert len({r.name for r in runs}) == len(runs)
    assert {r.case for r in fr.frontier_runs("liquid", 50, 1, size=32)} == {"liquid-nvt", "liquid-mts"}


def point(label, strategy, ms, L=None, drift=None, err=0.1, mts=None, reference=False, system="gas", anisotropy=None):
    entry = fr.FrontierEntry(label, strategy, mts, reference)
    d = None if drift is None else Observable("conserved_drift", drift, err, "eV/H2O/ps")
    a = None if anisotropy is None else Observable("anisotropy", anisotropy, 0.2, "")
    return fr.FrontierPoint(entry, system, ms, 0.5, L, d, a)


GAS = [point("plain", "plain", 10, L=1.0, drift=0.5, anisotropy=0.3),
       point("plain, torque removed", "plain+notorque", 10.2, L=0.002, drift=3.0),  # torque-free, not conservative
       point("2i", "2i", 150, L=0.004, drift=0.2),
       point("3i (ref)", "3i", 600, L=0.001, drift=0.25, reference=True, anisotropy=0.3),
       point("MTS 2i every 4", "2i", 18, L=0.008, drift=0.35, mts=4, anisotropy=0.3),  # good: L 0.8 %, bound 0.55 / 0.4
       point("MTS 2i every 20", "2i", 12, L=0.05, drift=0.3, mts=20)]  # L 5 % of plain's: not good enough


def test_the_cheapest_good_enough_entry_is_recommended():
    frontier = fr.assess(GAS)
    rows = {r.label: r for r in frontier.rows}
    assert rows["plain"].cost == 1 and rows["2i"].cost == 15
    assert rows["plain, torque removed"].L_change_to_plain == pytest.approx(0.002)
    assert rows["plain, torque removed"].good_enough is False  # drift bound 3.2 against 2i's 0.4
    assert rows["MTS 2i every 4"].good_enough and rows["MTS 2i every 4"].drift_to_2i == pytest.approx(0.55 / 0.4)
    assert rows["MTS 2i every 20"].good_enough is False
    assert frontier.recommended.label == "MTS 2i every 4" and frontier.goal_met  # 1.8x plain
    assert "MTS 2i every 4 at 1.8x the cost of plain" in frontier_finding(frontier)
    assert "meets the goal" in frontier_finding(frontier)
    assert "anisotropy" not in frontier_finding(frontier)  # not judged in vacuum, so not named there


def test_a_wide_error_bar_that_agrees_is_not_good_enough_and_a_missing_goal_is_said():
    points = [point("plain", "plain", 10, L=1.0, drift=0.5), point("2i", "2i", 150, L=0.004, drift=0.01, err=0.005),
              point("3i", "3i", 600, L=0.001, drift=0.02, err=0.01, reference=True),
              point("MTS (short)", "2", 12, L=0.009, drift=0.3, err=1.0, mts=20),  # agrees with 3i, bounds nothing
              point("2", "2", 90, L=0.009, drift=0.012, err=0.005)]  # bound 0.022 against 2i's 0.02
    frontier = fr.assess(points)
    assert frontier.row("MTS (short)").drift_agrees and frontier.row("MTS (short)").good_enough is False
    assert frontier.recommended.label == "2" and not frontier.goal_met  # 9x plain
    assert "misses the goal" in frontier_finding(frontier)


def test_nothing_good_enough_and_unknown_costs_are_said_not_hidden():
    frontier = fr.assess([point("plain", "plain", 10, L=1.0, drift=0.5), point("3i", "3i", 600, L=0.5, drift=0.5,
                                                                                reference=True)])
    assert frontier.recommended is None and "no entry other than the reference is good enough" in frontier_finding(frontier)
    blind = fr.assess([point("plain", "plain", None, L=1.0), point("3i", "3i", None, L=0.0, reference=True)])
    assert blind.recommended is None and "could not be judged" in frontier_finding(blind)


def test_the_liquid_is_judged_by_drift_and_anisotropy():
    points = [point("plain", "plain", 40, drift=0.5, anisotropy=3.0, system="liquid"),
              point("2i", "2i", 1400, drift=0.1, anisotropy=1.0, reference=True, system="liquid"),
              point("MTS 2i every 4", "2i", 70, drift=0.15, anisotropy=1.2, mts=4, system="liquid")]
    points.append(point("wide", "random:1", 40, drift=0.1, anisotropy=1.0, system="liquid"))
    points[-1] = fr.FrontierPoint(points[-1].entry, "liquid", 40, 0.5, None, points[-1].drift,
                                  Observable("anisotropy", 1.0, 0.9, ""))  # agrees, but 4.5x the reference's bar
    frontier = fr.assess(points)
    assert frontier.row("wide").anisotropy_agrees is False
    assert frontier.row("plain").good_enough is False  # anisotropy 3.0 vs 1.0 +- 0.28
    assert frontier.row("MTS 2i every 4").good_enough and frontier.recommended.label == "MTS 2i every 4"


def test_a_liquid_where_plain_already_agrees_says_so():
    points = [point("plain", "plain", 40, drift=0.15, anisotropy=1.05, system="liquid"),
              point("plain, net force removed", "plain+nonetforce", 45, drift=0.15, anisotropy=1.05, system="liquid"),
              point("2i", "2i", 1400, drift=0.1, anisotropy=1.0, reference=True, system="liquid")]
    frontier = fr.assess(points)
    assert frontier.recommended.label == "plain"
    line = frontier_finding(frontier)
    assert line.startswith("In the liquid, plain itself is as good as direct averaging at this run length "
                           "(energy drift bound 1.2x direct 2i's, anisotropy equal to the reference's)")
    assert line.endswith("so they need no fix; the cheapest fix that is good enough is plain, net force removed at "
                         "1.1x the cost of plain.")


def test_report_pieces(tmp_path):
    frontier = fr.assess(GAS)
    text = frontier_text(frontier)
    assert "Cost-accuracy frontier, one H2O in vacuum" in text and "MTS 2i every 4" in text
    document = json.loads(json.dumps(frontier_document(frontier)))
    assert document["recommended"] == "MTS 2i every 4" and document["goal_met"] is True
    assert len(document["rows"]) == len(GAS) and document["rows"][0]["cost"] == 1
    assert frontier_figure(frontier, tmp_path / "f.png").stat().st_size > 1000


@pytest.mark.slow
def test_the_command_measures_a_toy_frontier(tmp_path, monkeypatch):
    """A real run of three entries (the full list takes minutes): plain, MTS and the 3i reference."""
    from symbreak.commands import frontier as command

    entries = fr.frontier_entries("gas")
    keep = [e for e in entries if e.label in ("plain", "3i", "MTS 2i every 2")]
    monkeypatch.setattr(fr, "frontier_entries", lambda system: keep)
    monkeypatch.setattr("symbreak.study.frontier_execute.frontier_entries", lambda system: keep)
    parser = __import__("argparse").ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(["--potential", "toy", "--duration-fs", "10", "--out", str(tmp_path / "f")])
    assert command.run(args) == 0
    document = json.loads((tmp_path / "f" / "frontier.json").read_text())
    rows = {r["label"]: r for r in document["systems"][0]["rows"]}
    assert set(rows) == {"plain", "3i", "MTS 2i every 2"} and rows["plain"]["cost"] == 1
    assert rows["plain"]["L_change"] > 10 * rows["3i"]["L_change"]  # the toy turns L, the 3i average hardly
    assert (tmp_path / "f" / "report.html").exists() and (tmp_path / "f" / "frontier_gas.png").exists()
    assert command.run(args) == 0  # a second call reuses every run


@pytest.mark.slow
def test_bad_options_are_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "symbreak.cli", "frontier", "--systems", "moon", "--out",
                          str(tmp_path / "x")], capture_output=True, text=True)
    assert run.returncode == 2 and "unknown --systems ['moon']" in run.stderr and "Traceback" not in run.stderr


def test_the_study_plans_the_frontier_runs():
    from pathlib import Path

    from symbreak.study.plan import FULL, QUICK, parse_parts, plan_runs

    quick = plan_runs(QUICK, parse_parts("frontier"), 1.0, 7, Path("out"))
    assert [r.name for r in quick] == [fr.frontier_run_name("gas", e) for e in fr.frontier_entries("gas")]
    assert {r.part for r in quick} == {"frontier"} and quick[0].steps == QUICK.frontier_fs / fr.INNER_STEP_FS
    full = plan_runs(FULL, parse_parts("frontier"), 1.0, 7, Path("out"))
    liquid = [r for r in full if r.name.startswith("frontier-liquid-")]
    assert len(liquid) == len(fr.frontier_entries("liquid")) and {r.size for r in liquid} == {FULL.frontier_liquid_size}


@pytest.mark.slow
def test_the_study_reports_the_frontier(tmp_path, monkeypatch):
    """`symbreak study --parts frontier` on the toy, three entries: the table, the figure, the finding, summary.json."""
    from symbreak.cli import main

    keep = [e for e in fr.frontier_entries("gas") if e.label in ("plain", "2i", "3i")]
    monkeypatch.setattr(fr, "frontier_entries", lambda system: keep if system == "gas" else [])
    out = tmp_path / "study"
    assert main(["study", "--quick", "--potential", "toy", "--parts", "frontier", "--scale", "0.04", "--out",
                 str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    (frontier,) = summary["frontier"]
    assert frontier["system"] == "gas" and [r["label"] for r in frontier["rows"]] == ["plain", "2i", "3i"]
    assert summary["summary"] == [] and summary["verdicts"] == []  # the frontier's runs are not compared as cases
    html = (out / "report.html").read_text()
    assert "Cost-accuracy frontier: one H2O in vacuum (NVE)" in html and "frontier_gas.png" in html
    assert "In vacuum, " in (out / "summary.txt").read_text()
