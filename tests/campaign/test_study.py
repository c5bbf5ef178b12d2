"""`symbreak study` end to end on the toy potential, tiny sizes: runs, reuse, report, summary; the plan alone."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from symbreak.core.errors import InputError
from symbreak.ipi.launch import symbreak_command
from symbreak.study.plan import QUICK, parse_parts, plan_runs, study_plan


@pytest.mark.slow
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


@pytest.mark.slow
def test_study_rejects_unknown_parts(tmp_path):
    proc = subprocess.run(symbreak_command("study", "--parts", "gas,moon", "--out", str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "moon" in proc.stderr


@pytest.mark.slow
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


@pytest.mark.slow
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


# --- the path-integral part ---------------------------------------------------------------------

def test_plan_has_the_pimd_runs():
    from symbreak.study.plan import FULL, PARTS

    assert "pimd" in PARTS  # in the default --parts
    runs = plan_runs(QUICK, parse_parts("pimd"), 1.0, 7, Path("out"))
    assert [(r.name, r.case, r.strategy, r.potential) for r in runs] == [
        ("liquid-pimd-plain", "liquid-pimd", "plain", None), ("liquid-pimd-2i", "liquid-pimd", "2i", None),
        ("liquid-pimd-reference", "liquid-pimd", "plain", "qtip4pf")]
    assert {(r.part, r.beads, r.size, r.steps, r.seed) for r in runs} == {("pimd", QUICK.pimd_beads, QUICK.pimd_size,
                                                                           QUICK.pimd_steps, 7)}
    assert runs[2].is_reference and QUICK.ice_pimd_steps == 0  # no ice PIMD in the quick study
    full = plan_runs(FULL, parse_parts("pimd,liquid"), 1.0, 7, Path("out"))
    pimd = [r for r in full if r.part == "pimd"]
    assert [r.name for r in pimd] == ["liquid-pimd-plain", "liquid-pimd-mts-2i", "liquid-pimd-reference",
                                      "ice-pimd-plain", "ice-pimd-mts-2i", "ice-pimd-reference"]
    assert all(r.beads == 8 for r in pimd) and {r.size for r in pimd if r.case == "ice-pimd"} == {FULL.ice_size}
    assert all(r.beads is None for r in full if r.part != "pimd")
    # --scale shortens, but keeps enough steps for error bars (frames every 10 steps)
    assert {r.steps for r in plan_runs(QUICK, ["pimd"], 0.01, 7, Path("out"))} == {30}


def pimd_analysis(label: str, k_h: float, err: float, case: str = "liquid-pimd", duration_ps: float = 0.01,
                  rg_err: float | None = None):
    """A path-integral RunAnalysis with K_cv(H) = k_h (eV), relative error bars ``err`` (``rg_err`` on Rg)."""
    from symbreak.analysis.results import Observable, RunAnalysis, Timing, curve

    values = {"kinetic_cv_H": (k_h, "eV/atom"), "kinetic_cv_O": (0.047, "eV/atom"), "rg_H": (0.121, "A"),
              "rg_O": (0.0377, "A"), "temperature": (300.0, "K")}
    obs = {name: Observable(name, v, (err if rg_err is None or not name.startswith("rg") else rg_err) * v, unit)
           for name, (v, unit) in values.items()}
    obs["kinetic_classical"] = Observable("kinetic_classical", 0.0387780, None, "eV/atom")
    r = np.linspace(0.5, 6.0, 12)
    curves = {f"g_{p}": curve(f"g_{p}", r, np.exp(-(r - 2.8) ** 2), np.full(12, 0.05), "r / A", f"g_{p}(r), all beads")
              for p in ("OO", "OH", "HH")}
    return RunAnalysis(f"study/{case}-{label}", case, "pimd", label, "qtip4pf" if label == "reference" else "toy",
                       "plain" if label == "reference" else label, 4, True, f"{case} size 32", 32, 5,
                       Timing(10.0, 40, 250.0), duration_ps, obs, curves)


def pimd_summary(k_plain, k_grid, k_ref, err, case="liquid-pimd", rg_err=None, averaged="2i"):
    from symbreak.analysis.compare import compare_runs
    from symbreak.study.plan import StudyRun
    from symbreak.study.summary import StudyResult, summarize

    analyses = [pimd_analysis(label, k, err, case, rg_err=rg_err)
                for label, k in (("plain", k_plain), (averaged, k_grid), ("reference", k_ref))]
    done = [StudyResult(StudyRun(a.name, "pimd", case, a.strategy, beads=4), a) for a in analyses]
    return summarize(done, [compare_runs(analyses)], {})


def test_pimd_summary_and_report_show_the_quantum_observables(tmp_path):
    from symbreak.analysis.results import result_json
    from symbreak.study.render import pimd_finding, study_findings, summary_text, write_study_report
    from symbreak.study.summary import summary_document

    # error bars of 0.5 % resolve 5 %: plain and 2i agree, both differ from the reference in K_cv(H)
    summary = pimd_summary(0.0840, 0.0841, 0.0900, 0.005)
    (group,) = summary.pimd.groups
    assert group.group == "liquid-pimd size 32" and [r.label for r in group.rows] == ["plain", "2i", "reference"]
    assert group.row("2i").kinetic_cv_H.value == 0.0841 and group.row("plain").rg_O.error == pytest.approx(0.005 * 0.0377)
    assert group.verdict("kinetic_cv_H", "2i", "plain").verdict == "same"
    assert group.verdict("kinetic_cv_H", "plain", "reference").verdict == "different"
    assert group.verdict("rg_H", "plain", "reference").verdict == "same"
    assert group.curves["g_OH"]["plain|2i"] == "same"
    line = pimd_finding(group)
    assert line.startswith("In the path-integral liquid (liquid-pimd, 32 H2O, 4 beads, runs of 10 fs (40 steps, 5 frames)) "
                           "2i changes no quantum observable relative to plain: K_cv(H), K_cv(O), Rg(H) and Rg(O) agree")
    assert "of at most 1.4 % of their values, and the bead g(r)s agree within theirs; " in line
    assert "against q-TIP4P/F with the same beads (K_cv(H) 90 ± 0.45 meV), " in line
    assert "plain differs in K_cv(H) (-6 ± 0.62 meV) and agrees in K_cv(O), Rg(H) and Rg(O)" in line
    assert line in study_findings(summary)
    # the analysis' generic sentence (which cannot say "undecided") is replaced, not repeated
    assert not any("no observable differs" in s for s in study_findings(summary))
    text = summary_text(summary)
    assert "path-integral liquid-pimd size 32" in text and "84 ± 0.42" in text and "plain|2i: K_cv(H) same (z " in text
    html = write_study_report(tmp_path / "report.html", summary, [], "intro").read_text()
    assert "<h2>Path-integral liquid water</h2>" in html and "K_cv(H) / meV" in html and "Rg(O) / A" in html
    assert "0.0377 ± 0.00019" in html and "3/2 kT = 38.78 meV" in html
    document = result_json(summary_document(summary, {"quick": True}))
    rows = document["pimd"]["groups"][0]["rows"]
    assert rows[0]["kinetic_cv_H"] == {"name": "kinetic_cv_H", "value": 0.084, "error": 0.00042, "unit": "eV/atom",
                                       "blocks": None, "block_times": None}
    assert {v["verdict"] for v in document["pimd"]["groups"][0]["verdicts"] if v["pair"] == "plain|2i"} == {"same"}


def test_pimd_finding_says_undecided_when_the_error_bars_are_too_wide():
    from symbreak.study.render import pimd_finding

    # 4 % error bars: plain and 2i agree within them, but 2 sigma combined is 11 % of each value, wider than 5 %
    (group,) = pimd_summary(0.0840, 0.0845, 0.0850, 0.04).pimd.groups
    assert {v.verdict for v in group.verdicts} == {"undecided"}
    assert "wider than 5 %" in group.verdict("rg_O", "plain", "2i").reason
    line = pimd_finding(group)
    assert "whether 2i changes a quantum observable relative to plain is undecided" in line
    assert "K_cv(H) 11 %, K_cv(O) 11 %, Rg(H) 11 % and Rg(O) 11 % of the value (2 sigma), wider than the 5 % needed" in line
    assert "because the runs are only 10 fs long; against" in line and "agree" not in line
    assert "plain is undecided in K_cv(H), K_cv(O), Rg(H) and Rg(O)" in line
    # narrow K_cv, wide Rg (the quick study's 10 fs): still undecided, naming what does agree
    (group,) = pimd_summary(0.0840, 0.0840, 0.0848, 0.005, rg_err=0.1).pimd.groups
    line = pimd_finding(group)
    assert ("undecided: no difference beyond error bars, but the error bars are Rg(H) 28 % and Rg(O) 28 % of the value "
            "(2 sigma), wider than the 5 % needed to decide, because the runs are only 10 fs long; K_cv(H) and K_cv(O) "
            "agree within error bars that resolve 5 %; against") in line
    assert "plain agrees in K_cv(H) and K_cv(O) and is undecided in Rg(H) and Rg(O)" in line
    # a difference beyond the error bars is a change whatever their width; ice gets its own place
    (group,) = pimd_summary(0.0840, 0.1100, 0.0850, 0.04, case="ice-pimd").pimd.groups
    line = pimd_finding(group)
    assert line.startswith("In path-integral ice (ice-pimd, 32 H2O")
    assert "2i changes K_cv(H) by +26 ± 5.5 meV (z 4.7) relative to plain" in line
    assert "K_cv(O), Rg(H) and Rg(O) undecided" in line and "2i differs in K_cv(H) (+25 ± 5.6 meV)" in line
    # the study's averaged run is integrated by MTS: a difference then measures the integrator as well, and says so
    (group,) = pimd_summary(0.0840, 0.1100, 0.0850, 0.04, averaged="mts:2i").pimd.groups
    assert group.averaged_label == "mts:2i"
    line = pimd_finding(group)
    assert "mts:2i changes K_cv(H) by +26 ± 5.5 meV (z 4.7) relative to plain" in line
    assert "also differs in the integrator, multiple time stepping with the same inner step" in line


def test_pimd_verdicts_use_paired_blocks_when_the_runs_share_their_noise():
    """Plain and 2i from one start and seed: their block values move together, so the paired error decides."""
    from dataclasses import replace

    from symbreak.analysis.compare import compare_runs
    from symbreak.study.plan import StudyRun
    from symbreak.study.render import pimd_finding, summary_text
    from symbreak.study.summary import StudyResult, summarize

    noise = np.array([0.03, -0.02, 0.05, -0.04, 0.01, -0.03])  # shared by both runs: 4 % bars each
    own = np.array([1.01, 0.99, 1.0, 1.02, 0.98, 1.0])  # a shift that varies by 1 % between blocks
    times = tuple(0.001 * np.arange(1, 7))

    def with_blocks(a, shift):
        obs = {}
        for name, o in a.observables.items():
            blocks = tuple(o.value * (1 + noise + shift * own)) if name in ("kinetic_cv_H", "kinetic_cv_O",
                                                                              "rg_H", "rg_O") else None
            obs[name] = o if blocks is None else replace(o, value=float(np.mean(blocks)), blocks=blocks,
                                                         block_times=times)
        return replace(a, observables=obs)

    analyses = [with_blocks(pimd_analysis("plain", 0.0840, 0.04), 0.0), with_blocks(pimd_analysis("2i", 0.0840, 0.04), 0.001),
                pimd_analysis("reference", 0.0850, 0.04)]
    done = [StudyResult(StudyRun(a.name, "pimd", a.case, a.strategy, beads=4), a) for a in analyses]
    (group,) = summarize(done, [compare_runs(analyses)], {}).pimd.groups
    v = group.verdict("kinetic_cv_H", "plain", "2i")
    # a 0.1 % shift whose blockwise differences hardly spread: different, paired
    assert v.verdict == "different" and v.paired and v.width < 1e-4
    assert "(paired z " in pimd_finding(group)
    # the same shift with noise that is not shared: the blockwise differences spread, the paired bar resolves 5 %
    analyses[1] = replace(analyses[1], observables={
        n: (replace(o, blocks=tuple(np.array(o.blocks) * (1 + 0.002 * np.array([1, -1, 1, -1, 1, -1]))))
            if o.blocks else o) for n, o in analyses[1].observables.items()})
    done[1] = replace(done[1], analysis=analyses[1])
    (group,) = summarize(done, [compare_runs(analyses)], {}).pimd.groups
    v = group.verdict("kinetic_cv_H", "plain", "2i")
    assert v.verdict == "same" and v.paired and v.width < 0.05
    assert "K_cv(H) same (paired z " in summary_text(summarize(done, [compare_runs(analyses)], {}))
    # the unpaired bars (4 % each) could not have decided
    assert group.verdict("kinetic_cv_H", "plain", "reference").verdict == "undecided"


@pytest.mark.slow
def test_tiny_study_pimd(tmp_path, monkeypatch, capsys):
    """The pimd part on the toy potential: plain, 2i and q-TIP4P/F PIMD, K_cv and Rg with error bars in summary.json.

    The quick plan made smaller (16 molecules, 2 beads; --scale gives the fewest steps, 30) to run in about a minute.
    """
    from dataclasses import replace

    import symbreak.study.plan as plan
    from symbreak.cli import main

    monkeypatch.setattr(plan, "QUICK", replace(QUICK, pimd_size=16, pimd_beads=2))
    out = tmp_path / "study"
    assert main(["study", "--quick", "--potential", "toy", "--parts", "pimd", "--scale", "0.01", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary["runs"]] == ["liquid-pimd-plain", "liquid-pimd-2i", "liquid-pimd-reference"]
    (group,) = summary["pimd"]["groups"]
    assert group["group"] == "liquid-pimd size 16" and [r["label"] for r in group["rows"]] == ["plain", "2i", "reference"]
    for row in group["rows"]:
        assert row["beads"] == 2 and row["n_molecules"] == 16 and row["steps"] == 30 and row["frames"] == 8
        # two beads already delocalise the protons: K_cv(H) above 3/2 kT
        assert row["kinetic_cv_H"]["value"] > row["kinetic_classical"] and row["kinetic_cv_H"]["error"] > 0
        assert all(row[name]["error"] is not None for name in ("kinetic_cv_O", "rg_H", "rg_O"))
    assert {v["pair"] for v in group["verdicts"]} == {"plain|2i", "plain|reference", "2i|reference"}
    assert {v["verdict"] for v in group["verdicts"]} <= {"same", "different", "undecided"}
    text = (out / "summary.txt").read_text()
    assert text.startswith("In the path-integral liquid (liquid-pimd, 16 H2O, 2 beads, runs of 7 fs (30 steps, 8 frames)) ")
    assert "path-integral liquid-pimd size 16" in text
    html = (out / "report.html").read_text()
    assert "<h2>Path-integral liquid water</h2>" in html and "compare_liquid-pimd_size_16.png" in html
    assert "K_cv(H) / meV" in html



@pytest.mark.slow
def test_tiny_study_pimd_by_mts(tmp_path, monkeypatch):
    """The full study's path-integral 2i: MTS on every bead (liquid-pimd-mts), its frames at the direct runs' times."""
    from dataclasses import replace

    import symbreak.study.plan as plan
    from symbreak.cli import main

    monkeypatch.setattr(plan, "QUICK", replace(QUICK, pimd_size=16, pimd_beads=2, pimd_reference=False, box_mts=True))
    out = tmp_path / "study"
    assert main(["study", "--quick", "--potential", "toy", "--parts", "pimd", "--scale", "0.01", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [r["name"] for r in summary["runs"]] == ["liquid-pimd-plain", "liquid-pimd-mts-2i"]
    (group,) = summary["pimd"]["groups"]
    rows = {r["label"]: r for r in group["rows"]}
    assert rows["mts:2i"]["steps"] == 7 and rows["plain"]["steps"] == 30  # 7 outer steps of 1 fs: the same time
    assert rows["mts:2i"]["frames"] == rows["plain"]["frames"] == 8
    assert {v["pair"] for v in group["verdicts"]} == {"plain|mts:2i"}
    assert "mts:2i" in (out / "summary.txt").read_text()