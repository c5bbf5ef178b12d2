"""`symbreak analyze` on tiny real runs of each case kind: typed results, analysis.json, verdicts, bad folders."""

import json
import shutil
import subprocess
from dataclasses import replace

import pytest
from symbreak.analysis.compare import compare_runs, curve_verdict, scalar_verdict
from symbreak.analysis.findings import findings, fold
from symbreak.analysis.results import (
    Curve,
    Observable,
    UnknownObservable,
    read_analysis,
    read_comparisons,
)
from symbreak.analysis.run_analysis import analyze_run
from symbreak.analysis.run_folder import RunError, read_extras
from symbreak.campaign.runner import RunConfig, run_case
from symbreak.commands.analyze import analyze_one, compare_groups
from symbreak.ipi.launch import symbreak_command


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny toy runs: gas 2i (stride 1, extras with plain and averaged), liquid, PIMD, replay of the liquid, geop."""
    root = tmp_path_factory.mktemp("runs")
    configs = {
        "gas": RunConfig(case="gas-nve", out=str(root / "gas"), strategy="2i", potential="toy", steps=40, quiet=True),
        "liquid": RunConfig(case="liquid-nvt", out=str(root / "liquid"), potential="toy", steps=120, size=8, quiet=True),
        "pimd": RunConfig(case="liquid-pimd", out=str(root / "pimd"), potential="toy", steps=40, size=8, beads=2,
                          quiet=True),
        "geop": RunConfig(case="ice-geop", out=str(root / "geop"), potential="toy", steps=5, quiet=True),
        "liquid2i": RunConfig(case="liquid-nvt", out=str(root / "liquid2i"), strategy="2i", potential="toy", steps=80, size=8,
                              quiet=True, reference=False),
    }
    for config in configs.values():
        run_case(config)
    run_case(RunConfig(case="replay", out=str(root / "replay"), potential="toy", quiet=True, replay_strategies=("plain", "i", "2"),
                       trajectory=str(root / "liquid" / "simulation.positions_0.xyz")))
    return root


@pytest.mark.slow
def test_gas(runs):
    r = analyze_run(runs / "gas")
    assert r.kind == "gas" and r.label == "2i"
    for key in ("torque_rms", "L_max_change", "L_direction_change", "conserved_drift", "model_error_mae",
                "model_error_mean", "model_error_std", "symmetry_error_extras", "anisotropy"):
        assert key in r.observables, key
        assert r.observables[key].name == key
    assert r.observables["torque_rms"].error is not None and r.observables["torque_rms"].unit == "eV"
    assert r.value("torque_rms", 1e3) == pytest.approx(1e3 * r.observables["torque_rms"].value)
    with pytest.raises(UnknownObservable):
        r.value("torque_rsm")  # a typo is an error, not a silent None
    assert r.value("kinetic_cv_H") is None  # a known observable that a gas run does not have
    for key in ("L_change", "torque", "spectrum_V_plain", "spectrum_delta", "model_error"):
        assert key in r.curves, key
    # times come from the properties file, uniformly spaced at the 0.5 fs step
    t = r.curves["L_change"].x
    assert t[11] == pytest.approx(11 * 0.5e-3)
    assert r.curves["L_change"].x_axis == "time / ps" and r.curves["L_change"].x_unit == "ps"


@pytest.mark.slow
def test_liquid_and_figures(runs, tmp_path):
    r, paths = analyze_one(runs / "liquid", tmp_path)
    assert r.kind == "liquid" and r.n_molecules == 8
    for key in ("g_OO", "g_OH", "g_HH", "c_L", "c_T", "msd", "c_uu", "F_cos"):
        assert key in r.curves, key
    assert r.curves["g_OO"].y_error is not None
    assert {"anisotropy", "conserved_drift", "model_error_mae"} <= set(r.observables)
    assert "spectrum_delta" not in r.curves  # plain extras carry no averaged energy
    assert "F" in r.maps and len(r.maps["F"].z) == len(r.maps["F"].y)
    # the O-H bond length: declared once (observables.py), computed from the frames for every MD run
    bond = r.observables["bond_OH"]
    assert bond.unit == "A" and 0.85 < bond.value < 1.1 and bond.error is not None and bond.blocks is not None
    assert r.curves["bond_OH_distribution"].x_axis == "r / A" and r.curves["bond_OH_distribution"].y_error is not None
    saved = json.loads((tmp_path / "analysis.json").read_text())
    assert saved["case"] == "liquid-nvt" and saved["observables"]["anisotropy"]["unit"] == ""
    assert read_analysis(tmp_path / "analysis.json") == r  # one writer, one reader: the same result back
    assert {p.name for p in paths} == {"liquid.png", "orientation.png"}


@pytest.mark.slow
def test_pimd(runs):
    r = analyze_run(runs / "pimd")
    assert r.kind == "pimd" and r.beads == 2
    for key in ("kinetic_cv_H", "kinetic_cv_O", "kinetic_cv_ipi", "rg_H", "rg_O"):
        assert key in r.observables, key
    assert "all beads" in r.curves["g_OO"].y_label
    # block values and their times travel with the means, for paired comparisons of runs that share their noise
    k = r.observables["kinetic_cv_H"]
    assert k.blocks is not None and len(k.blocks) == len(k.block_times) >= 2
    assert k.value == pytest.approx(sum(k.blocks) / len(k.blocks), rel=1e-12)
    assert list(k.block_times) == sorted(k.block_times) and r.observables["rg_O"].blocks is not None
    # the bond length of a path-integral run is averaged over every bead
    assert "bond_OH" in r.observables and "bond_OH_distribution" in r.curves


@pytest.mark.slow
def test_bulk_spectra_from_every_step(runs):
    """Bulk trajectories are written every 10 steps, the extras every step: the spectra reach the O-H stretch."""
    r = analyze_run(runs / "liquid2i")
    assert len(r.curves["spectrum_delta"].x) > 1
    # Nyquist of the 0.5 fs step: 1 / (2 * 0.5 fs) = 33356 cm^-1
    assert 0.95 * 33356 < r.value("nyquist") <= 33356 * 1.0001
    assert r.frames == 9  # properties and positions: every 10 steps


@pytest.mark.slow
def test_replay_skips_the_initial_structure(runs):
    r = analyze_run(runs / "replay")
    table = r.convergence
    assert [row.strategy for row in table] == ["plain", "i", "2"]
    assert [row.evaluations for row in table] == [1, 2, 18]
    assert r.symmetry_reference == "2"
    assert table[0].model_energy_mae is not None and table[-1].symmetry_energy_mae is None
    # per-strategy forces (forces_component_raw) give force errors next to the energy errors
    assert table[0].model_force_mae > 0 and table[0].symmetry_force_mae > 0 and table[-1].symmetry_force_mae is None
    # the liquid run wrote 13 frames; the replay has 1 + 13 rows, of which the first repeats frame 0
    assert len(r.curves["symmetry_error_plain"].y) == r.frames - 1
    assert "replayed frames the plain model's symmetry error" in " ".join(findings([r], []))


@pytest.mark.slow
def test_geop_energies(runs):
    r = analyze_run(runs / "geop")
    assert r.value("energy_after") < r.value("energy_before")
    assert r.value("relaxation_energy") < 0
    assert "reference_after" in r.observables and "model_error_after" in r.observables


@pytest.mark.slow
def test_identical_runs_are_the_same_and_a_copy_compares(runs, tmp_path):
    copy = tmp_path / "liquid-copy"
    shutil.copytree(runs / "liquid", copy)
    results = [analyze_run(runs / "liquid"), analyze_run(copy)]
    c = compare_runs(results)
    assert c.observables
    for o in c.observables.values():
        assert o.kind in ("scalar", "curve")
        for v in o.verdicts.values():
            assert v.verdict == "same", (o, v)
    # only observables with error bars get a verdict; the rest are listed with the reason
    assert "anisotropy_noise" in c.not_judged and c.not_judged["anisotropy_noise"] == "no error bar"
    assert "g_OO" in c.observables and "temperature" in c.observables
    # an observable added by one function and one declaration is compared like the others
    assert "bond_OH" in c.observables and "bond_OH_distribution" in c.observables
    # diagnostics of the strategy or integrator are declared compared=False: never judged, never listed
    assert "conserved" not in c.observables and "conserved" not in c.not_judged
    comparisons, paths = compare_groups(results, tmp_path)
    assert len(comparisons) == 1 and (tmp_path / "comparison.json").exists() and paths
    assert read_comparisons(tmp_path / "comparison.json") == comparisons
    assert findings(results, comparisons)[0].startswith("In the liquid (liquid-nvt size 8) no observable differs")


def test_verdicts():
    assert scalar_verdict(Observable("E", 1.0, 0.1), Observable("E", 1.1, 0.1)).verdict == "same"
    v = scalar_verdict(Observable("E", 1.0, 0.1), Observable("E", 2.0, 0.1))
    assert v.verdict == "different" and v.statistic == pytest.approx(10 / 2**0.5) and v.text() == "different (z 7.1; 2 sigma 19 %)"
    assert scalar_verdict(Observable("E", 1.0), Observable("E", 2.0)).verdict == "no error bar"
    a = Curve("c", (0, 1, 2, 3), (1, 2, 3, 4), (0.1,) * 4)
    assert curve_verdict(a, replace(a, y=(1.05, 2.0, 2.95, 4.0))).verdict == "same"
    assert curve_verdict(a, replace(a, y=(2, 3, 4, 5))).verdict == "different"
    assert curve_verdict(a, replace(a, x=(0, 2, 4, 6))).verdict == "incomparable"
    assert [fold(3.24), fold(1.2e4)] == ["3.2-fold", "10^4-fold"]


@pytest.mark.slow
def test_bad_folders(tmp_path, runs):
    with pytest.raises(RunError, match="no i-PI input"):
        analyze_run(tmp_path)
    with pytest.raises(RunError, match="not a folder"):
        analyze_run(tmp_path / "missing")
    broken = tmp_path / "broken"
    shutil.copytree(runs / "gas", broken)
    (broken / "simulation.out").unlink()
    with pytest.raises(RunError, match="missing outputs"):
        analyze_run(broken)
    short = tmp_path / "short"
    shutil.copytree(runs / "gas", short)
    lines = (short / "simulation.out").read_text().splitlines()
    (short / "simulation.out").write_text("\n".join(l for l in lines if l.startswith("#")) + "\n" + lines[-1] + "\n")
    with pytest.raises(RunError, match="need at least 2"):
        analyze_run(short)
    with pytest.raises(RunError, match="no extras file"):
        read_extras(tmp_path / "nothing")


@pytest.mark.slow
def test_cli_one_line_error_and_comparison(tmp_path, runs):
    proc = subprocess.run(symbreak_command("analyze", str(tmp_path)), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("symbreak analyze: error:")
    copy = tmp_path / "gas-copy"
    shutil.copytree(runs / "gas", copy)
    out = tmp_path / "cmp"
    proc = subprocess.run(symbreak_command("analyze", str(runs / "gas"), str(copy), "--out", str(out)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "torque_rms" in proc.stdout and "different" not in proc.stdout
    assert (out / "report.html").read_text().count("data:image/png;base64") >= 3
    assert (out / "gas" / "analysis.json").exists()
