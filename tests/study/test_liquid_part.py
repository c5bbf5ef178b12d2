"""The liquid part: plain and q-TIP4P/F directly, 2i by MTS; the MTS run is compared with the direct ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from symbreak.campaign.cases import comparable_case
from symbreak.study.plan import FULL, LIQUID_MTS_RATIO, QUICK, parse_parts, plan_runs


def test_the_liquid_averaged_run_is_mts_over_the_same_time():
    runs = {r.name: r for r in plan_runs(QUICK, parse_parts("liquid"), 1.0, 7, Path("out"))}
    assert list(runs) == ["liquid-nvt-plain", "liquid-mts-2i", "liquid-nvt-reference"]
    mts = runs["liquid-mts-2i"]
    assert mts.case == "liquid-mts" and mts.mts_ratio == LIQUID_MTS_RATIO and mts.strategy == "2i"
    assert mts.steps * LIQUID_MTS_RATIO == runs["liquid-nvt-plain"].steps  # the same simulated time


def test_ice_and_pimd_average_directly_in_quick_and_by_mts_in_full():
    """Short runs keep the direct 2i, whose shared thermostat noise pairs them with plain; long runs use MTS."""
    quick = {r.name: r for r in plan_runs(QUICK, parse_parts("ice,pimd"), 1.0, 7, Path("out"))}
    assert not QUICK.box_mts and {"ice-nvt-2i", "liquid-pimd-2i"} <= set(quick)
    assert quick["ice-nvt-2i"].steps == quick["ice-nvt-plain"].steps and quick["ice-nvt-2i"].mts_ratio is None
    full = {r.name: r for r in plan_runs(FULL, parse_parts("ice,pimd"), 1.0, 7, Path("out"))}
    assert FULL.box_mts and {"ice-mts-2i", "liquid-pimd-mts-2i", "ice-pimd-mts-2i"} <= set(full)
    for direct, mts in (("ice-nvt-plain", "ice-mts-2i"), ("liquid-pimd-plain", "liquid-pimd-mts-2i")):
        assert full[mts].mts_ratio == LIQUID_MTS_RATIO and full[mts].strategy == "2i"
        assert full[mts].steps * LIQUID_MTS_RATIO == full[direct].steps  # the same simulated time
        assert full[mts].case == full[direct].case.replace("-nvt", "") + "-mts"


def test_mts_cases_compare_with_their_direct_case():
    assert comparable_case("liquid-mts") == "liquid-nvt" and comparable_case("gas-mts-nve") == "gas-nve"
    assert comparable_case("ice-mts") == "ice-nvt"
    assert comparable_case("gas-mts") == "gas-nvt" and comparable_case("ice-nvt") == "ice-nvt"
    assert comparable_case("ipi-nvt-mts") == "ipi-nvt-mts"  # a foreign run's case is its own


@pytest.mark.slow
def test_a_tiny_liquid_part_compares_plain_mts_and_the_reference(tmp_path):
    from symbreak.cli import main

    out = tmp_path / "study"
    assert main(["study", "--quick", "--potential", "toy", "--parts", "liquid", "--scale", "0.04", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary["runs"]] == ["liquid-nvt-plain", "liquid-mts-2i", "liquid-nvt-reference"]
    (verdicts,) = summary["verdicts"]
    assert verdicts["group"] == "liquid-nvt size 32"
    pairs = {pair for o in verdicts["observables"].values() for pair in o}
    assert "plain|mts:2i" in pairs and "mts:2i|reference" in pairs
    assert "g_OO" in verdicts["observables"]  # static observables are judged across the two integrators
