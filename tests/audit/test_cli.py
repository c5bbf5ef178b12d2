"""`symbreak audit` end to end on the toy, its input errors, and the reuse of its NVE runs."""

import pytest
from symbreak.audit import nve as audit_nve
from symbreak.audit.results import read_json
from symbreak.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def audit(*args):
    return main(["audit", *args])


@pytest.mark.slow
def test_audit_of_the_default_toy_end_to_end(tmp_path, capsys):
    """Molecule, q-TIP4P/F reference, 40-step NVE: exit 0, audit.json/html/png, a plain and a 2i NVE run,
    and the default toy's net torque changes L several times more with plain than with 2i.

    Not 10x: the default toy also has l = 4 terms (a_4, b_4, parity-even), which 2i (degree 2) keeps,
    so 2i leaves a torque too (measured: |L - L0| 0.26 vs 0.082 hbar over 20 fs, 3.2x; torque rms 5x).
    """
    out = tmp_path / "a"
    assert audit("--potential", "toy", "--quick", "--out", str(out), "--nve-steps", "40", "--frames", "2",
                 "--systems", "molecule") == 0
    for name in ("audit.json", "audit.html", "audit.png"):
        assert (out / name).stat().st_size > 0
    report = read_json(out / "audit.json")
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed == list(report.verdict)
    assert report.potential == "toy" and report.reference == "qtip4pf"
    assert [p.system for p in report.systems] == ["molecule"] and not report.systems[0].invariant
    assert report.systems[0].energy_orders.grid == "3i"  # --quick: l_max 2
    assert report.model_error("molecule").frames == 2
    by = {r.strategy: r for r in report.nve}
    assert set(by) == {"plain", "2i"}
    for r in by.values():
        assert r.steps == 40 and r.duration_fs == pytest.approx(20.0)
        assert r.L0_hbar == pytest.approx(by["plain"].L0_hbar)  # same start, same thermal velocities
    assert by["plain"].L_max_change_hbar > 0.05
    assert by["plain"].L_max_change_hbar > 2 * by["2i"].L_max_change_hbar
    assert by["plain"].torque_rms_eV > 2 * by["2i"].torque_rms_eV
    assert report.nve_drift_ratio == pytest.approx(by["plain"].L_max_change_hbar / by["2i"].L_max_change_hbar)


def test_quick_keeps_an_explicit_lmax(tmp_path):
    """--quick lowers the default l_max to 2 (grid 3i) but an explicit --lmax 3 is kept (grid 4i)."""
    common = ["--potential", "toy", "--systems", "molecule", "--reference", "none", "--nve-steps", "0"]
    assert audit(*common, "--quick", "--out", str(tmp_path / "q")) == 0
    assert read_json(tmp_path / "q" / "audit.json").systems[0].energy_orders.grid == "3i"
    assert audit(*common, "--quick", "--lmax", "3", "--out", str(tmp_path / "q3")) == 0
    report = read_json(tmp_path / "q3" / "audit.json")
    assert report.systems[0].energy_orders.grid == "4i" and report.systems[0].energy_orders.resolved_l_max == 3
    assert report.nve == () and report.model_errors == () and report.reference is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--systems", "molecule,gas"], "unknown audit system(s) gas: use a subset of molecule,liquid,ice"),
        (["--lmax", "0"], "--lmax must be >= 1, got 0"),
        (["--frames", "-1"], "--frames and --nve-steps must be >= 0"),
        (["--potential", "bogus:x"], "unknown potential kind 'bogus:'"),
        (["--out", "FILE"], "exists and is not a folder"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, message):
    """Bad input before any work: exit 2, exactly one line on stderr naming the problem, no traceback."""
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    args = [str(afile) if a == "FILE" else a for a in args]
    out = ["--out", str(tmp_path / "out")] if "--out" not in args else []
    assert audit("--potential", "toy", "--quick", "--nve-steps", "0", *out, *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("symbreak audit: error: ") and message in err[0]


def test_missing_model_file_exits_2_with_one_error_line(tmp_path, capsys):
    """metatomic:/nonexistent.pt: exit 2; after the 'loading' progress line, one error line naming the file."""
    assert audit("--potential", "metatomic:/nonexistent.pt", "--systems", "molecule", "--quick", "--nve-steps", "0",
                 "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("symbreak audit: error: ")]
    assert len(errors) == 1 and "/nonexistent.pt" in errors[0]
    assert err[-1] == errors[0]
    assert all(line.startswith("symbreak audit: [") for line in err[:-1])  # progress lines only
    assert not any("Traceback" in line for line in err)


def _fake_nve(monkeypatch):
    """molecule_nve with run_case and _result stubbed: records which strategies were (re)run."""
    ran = []

    def run_case(config):
        ran.append(config.strategy)

    monkeypatch.setattr(audit_nve, "run_case", run_case)
    monkeypatch.setattr(audit_nve, "_result", lambda strategy, steps, folder: (strategy, steps))
    return ran


def _finished(folder, potential, steps=40, seed=31415, strategy="plain"):
    """A finished gas-nve run's folder as the runner leaves it (its manifest holds the defining options)."""
    from dataclasses import replace

    from symbreak.campaign.manifest import options_record, write_manifest
    from symbreak.campaign.options import defining_options
    from symbreak.campaign.runner import RunConfig, prepare

    folder.mkdir(parents=True)
    (folder / "marker").write_text("old run")
    config = RunConfig(case="gas-nve", out=str(folder), strategy=strategy, potential=potential, steps=steps,
                       seed=seed, reference=False)
    _, _, manifest = prepare(config)
    write_manifest(folder, replace(manifest, finished="yesterday", options=options_record(defining_options(config))))


def test_finished_nve_run_of_the_same_audit_is_reused(tmp_path, monkeypatch):
    """A finished run with the same potential, strategy, steps and seed is read back, not run again."""
    ran = _fake_nve(monkeypatch)
    _finished(tmp_path / "plain", "toy")
    assert audit_nve.molecule_nve("toy", tmp_path, steps=40, strategies=("plain",)) == [("plain", 40)]
    assert ran == [] and (tmp_path / "plain" / "marker").exists()


@pytest.mark.parametrize("potential, steps", [("qtip4pf", 40), ("toy", 20)])
def test_nve_run_of_another_audit_is_refused(tmp_path, monkeypatch, potential, steps):
    """Regression: a finished run left by an audit of another potential (or other --nve-steps) in the same
    --out was reused as if it were this model's NVE; now it is refused, and left as it was."""
    ran = _fake_nve(monkeypatch)
    _finished(tmp_path / "plain", "toy", steps=40)
    with pytest.raises(ValueError, match="choose another --out"):
        audit_nve.molecule_nve(potential, tmp_path, steps=steps, strategies=("plain",))
    assert ran == [] and (tmp_path / "plain" / "marker").exists()


def test_nve_steps_fit_the_budget():
    """A slow model gets fewer NVE steps (never below the minimum); a fast one keeps --nve-steps."""
    from types import SimpleNamespace

    from symbreak.commands.audit import EVALUATIONS_PER_NVE_STEP, MIN_NVE_STEPS, nve_steps_within

    fast = SimpleNamespace(seconds=0.2, evaluations=200)  # 1 ms per evaluation
    slow = SimpleNamespace(seconds=50.0, evaluations=200)  # 0.25 s per evaluation
    assert nve_steps_within(400, 300.0, fast) == 400
    assert nve_steps_within(400, 300.0, slow) == max(MIN_NVE_STEPS, int(300.0 / (EVALUATIONS_PER_NVE_STEP * 0.25)))
    assert nve_steps_within(400, 1.0, slow) == MIN_NVE_STEPS
