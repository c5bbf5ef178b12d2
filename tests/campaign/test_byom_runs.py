"""`symbreak run` and `symbreak study` with a user's model: a metatomic model and an ASE calculator, end to end.

Each spec goes through the runner to `symbreak serve` processes that run in the
run folder, so a relative model path must still be found there.
"""

import json
import os
import subprocess

import pytest
from symbreak.ipi.launch import symbreak_command

ORB = "ase:symbreak.potentials.foreign_models:random_orb_calculator"


def _run(command, timeout, cwd=None):
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_run_gas_nve_with_a_relative_metatomic_path(tiny_pet_model, tmp_path):
    """A relative metatomic:PATH reaches the servers as an absolute path; 2i runs, the manifest keeps the spec."""
    folder, name = os.path.split(tiny_pet_model)
    out = tmp_path / "gas-2i"
    _run(symbreak_command("run", "gas-nve", "--potential", f"metatomic:{name}", "--strategy", "2i", "--steps", "12",
                          "--no-reference", "--out", str(out)), 300, cwd=folder)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["potential"] == f"metatomic:{name}" and "finished" in manifest
    serve = next(c["command"] for c in manifest["commands"]["clients"] if c["name"] == "model0")
    assert f"metatomic:{tiny_pet_model}" in serve
    assert "energy_spread" in (out / "simulation.extras_c0").read_text()  # the server's 2i diagnostics


@pytest.mark.slow
def test_run_with_an_ase_calculator(tmp_path):
    """The positive control (a random Orb v3 direct model) through `ase:` runs a short NVE with plain."""
    pytest.importorskip("orb_models", reason="the Orb control needs orb-models (pip install 'symbreak[controls]')")
    out = tmp_path / "gas-orb"
    _run(symbreak_command("run", "gas-nve", "--potential", ORB, "--strategy", "plain", "--steps", "8",
                          "--no-reference", "--out", str(out)), 300)
    assert "finished" in json.loads((out / "manifest.json").read_text())


@pytest.mark.slow
def test_run_refuses_a_missing_metatomic_model(tmp_path):
    """A metatomic model that is not there fails before i-PI or any server starts: one line, exit 2."""
    proc = subprocess.run(symbreak_command("run", "gas-nve", "--potential", "metatomic:nowhere.pt", "--steps", "5",
                                           "--out", str(tmp_path / "r")), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "metatomic model file not found: nowhere.pt" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r").exists()


def test_run_refuses_a_corrupt_metatomic_model_before_any_process(tmp_path, capsys):
    """A file that is there but is no model fails in the preflight: one line, and no run folder, no process."""
    pytest.importorskip("metatomic.torch", reason="metatomic models need metatomic-torch (pip install 'symbreak[metatomic]')")
    from symbreak.cli import main

    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(bytes(range(256)) * 8)
    assert main(["run", "gas-nve", "--potential", f"metatomic:{corrupt}", "--steps", "5", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not a usable metatomic model" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
@pytest.mark.parametrize("which", ["metatomic", "ase"])
def test_tiny_study_gas_part(which, tiny_pet_model, tmp_path):
    """`symbreak study --potential SPEC --quick --parts gas` end to end with a third-party model."""
    if which == "ase":
        pytest.importorskip("orb_models", reason="the Orb control needs orb-models (pip install 'symbreak[controls]')")
    spec = f"metatomic:{tiny_pet_model}" if which == "metatomic" else ORB
    out = tmp_path / "study"
    _run(symbreak_command("study", "--quick", "--potential", spec, "--parts", "gas", "--scale", "0.01",
                          "--out", str(out)), 900)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["potential"] == spec
    assert set(summary["gas"]) == {"plain", "random:1", "2i", "mts:2i"}
    assert (out / "report.html").stat().st_size > 1000
