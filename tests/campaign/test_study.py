"""`symbreak study` end to end on the toy potential, tiny sizes: runs, reuse, report, summary; the plan alone."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from symbreak.core.errors import InputError
from symbreak.ipi.launch import symbreak_command
from symbreak.study.plan import QUICK, parse_parts, plan_runs, study_plan


def test_tiny_study_gas_and_replay(tmp_path):
    out = tmp_path / "study"
    command = symbreak_command("study", "--quick", "--potential", "toy", "--parts", "gas,replay", "--scale", "0.03",
                               "--out", str(out))
    proc = subprocess.run(command, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    gas = summary["gas"]
    assert set(gas) == {"plain", "random:1", "2i", "mts:2i"}
    # averaging removes most of the toy's torque (2i cancels l <= 2 and odd l; the toy's l = 4 remains)
    assert gas["2i"]["torque_rms"]["value"] < 0.5 * gas["plain"]["torque_rms"]["value"]
    assert [row["strategy"] for row in summary["convergence"]] == ["plain", "i", "2", "2i", "3i"]
    assert summary["symmetry_reference"] == "3i"
    gas_verdicts = next(v for v in summary["verdicts"] if v["group"] == "gas-nve")
    assert gas_verdicts["observables"]["torque_rms"]["plain|2i"] == "different"
    # one molecule's temperature and numbers without error bars get no verdict
    assert "temperature" in gas_verdicts["not_judged"] and "L_max_change" in gas_verdicts["not_judged"]
    assert (out / "gas_angular_momentum.png").stat().st_size > 1000
    html = (out / "report.html").read_text()
    assert "Symmetry error vs model error" in html and "ms/step" in html and "data:image/png;base64" in html
    # the report opens with computed sentences, before any table
    text = (out / "summary.txt").read_text()
    assert text.startswith("In vacuum the plain model turns L by ") and "2i reduces the drift" in text
    assert "replayed frames the plain model's symmetry error" in text and "not judged: " in text
    assert html.index("In vacuum the plain model") < html.index("<table>")
    # a second call reuses every finished run
    proc = subprocess.run(command, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("reusing the finished run") == 6


def test_study_rejects_unknown_parts(tmp_path):
    proc = subprocess.run(symbreak_command("study", "--parts", "gas,moon", "--out", str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "moon" in proc.stderr


def test_tiny_study_ice_relaxations(tmp_path):
    """The geop part: per cell plain, 2i (from the plain minimum) and q-TIP4P/F relaxations, relative energies."""
    from symbreak.structures.io import read_structures

    out = tmp_path / "study"
    command = symbreak_command("study", "--quick", "--potential", "toy", "--parts", "geop", "--scale", "0.03",
                               "--ice-cells", "3", "--out", str(out))
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    ice = json.loads((out / "summary.json").read_text())["ice"]
    assert [cell["cell"] for cell in ice["cells"]] == [1, 2, 3]
    potentials = ("plain", "grid", "reference")
    for cell in ice["cells"]:
        assert all(cell[p][w] is not None for p in potentials for w in ("before", "after")), cell
        assert cell["reference_at_plain_after"] is not None and cell["reference_at_grid_after"] is not None
    # the 2i relaxation starts where the plain one stopped (same structure up to lattice translations)
    end = read_structures(str(out / "ice-geop-2-plain" / "simulation.positions_0.xyz"))[-1]
    start = read_structures(str(out / "ice-geop-2-2i" / "init.xyz"))[0]
    frac = (end.positions - start.positions) @ np.linalg.inv(end.cell)
    assert np.abs(frac - np.round(frac)).max() < 1e-9
    assert ice["cells"][1]["plain"]["after"] < ice["cells"][1]["plain"]["before"]
    assert [c["when"] for c in ice["relative"]] == ["before", "after"]
    for c in ice["relative"]:
        assert c["n_cells"] == 3 and c["spread"] > 0
        assert c["symmetry"] > 0 and -1 <= c["ordering_grid_vs_plain"] <= 1
    # the built cells are the same for every potential: before relaxation, the reference is evaluated once
    assert (out / "ice-single-points.json").exists()
    assert "Ice relative energies before relaxation (3 cells" in (out / "report.html").read_text()
    text = (out / "summary.txt").read_text()
    assert "ordering 2i vs plain" in text and "Across 3 relaxed proton-disordered ice cells 2i moves" in text
    assert (out / "ice_relative_energies.png").stat().st_size > 1000


def test_study_rejects_one_ice_cell(tmp_path):
    proc = subprocess.run(symbreak_command("study", "--parts", "geop", "--ice-cells", "1", "--out", str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--ice-cells" in proc.stderr


def test_plan_carries_the_ice_cells():
    runs = plan_runs(study_plan(quick=True, ice_cells=3), parse_parts("geop,replay"), 0.03, 7, Path("out"))
    geop = [r for r in runs if r.part == "geop"]
    assert [r.cell for r in geop] == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert [r.name for r in geop[:3]] == ["ice-geop-1-plain", "ice-geop-1-2i", "ice-geop-1-reference"]
    assert geop[1].init_from == "ice-geop-1-plain" and geop[2].is_reference
    # the replay follows the liquid plain run it replays
    assert runs[0].name == "liquid-nvt-plain" and runs[-1].name == "replay-liquid" and runs[-1].frames == 2
    assert study_plan(quick=True) is QUICK
    with pytest.raises(InputError, match="moon"):
        parse_parts("gas,moon")
    with pytest.raises(InputError, match="--ice-cells"):
        study_plan(quick=True, ice_cells=1)


def test_ice_finding_says_whether_the_ordering_is_kept():
    from symbreak.study.render import ice_finding
    from symbreak.study.summary import IceRelative, IceSummary, StudySummary

    def summary(tau):
        relative = IceRelative("after", 6, spread=1.8e-5, symmetry=7.3e-5, symmetry_to_spread=4.0, model_plain=3.4e-4,
                               model_grid=3.5e-4, ordering_grid_vs_plain=tau, ordering_plain_vs_reference=0.6)
        return StudySummary((), (), (), (), (), None, IceSummary((), (relative,)))

    kept = ice_finding(summary(1.0 - 1e-15))  # Kendall tau of identical orders comes out as 0.999...
    assert "keeps the plain ordering (Kendall tau 1.00)" in kept and "4 times the reference's spread" in kept
    assert "against q-TIP4P/F with Kendall tau 0.60" in kept
    assert "changes the plain ordering (Kendall tau 0.73)" in ice_finding(summary(0.7333))
