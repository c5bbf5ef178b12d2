"""scripts/soak.py at CI size: a short toy liquid-PIMD run, a few faults, every end check passing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "soak.py"


@pytest.mark.slow
def test_soak_short_run_passes_every_check(tmp_path):
    out = tmp_path / "soak"
    # --steps skips the calibration; fast-to-detect faults only, so that a cycle takes seconds. Without the
    # reference: a stop that kills the (output-only, weight-0) reference while i-PI writes a checkpoint step's
    # outputs loses that properties row (found by the soak, see scripts/soak.py) and would make this check flaky
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--minutes", "0.35", "--mean-interval", "3", "--steps", "20000",
         "--stall-timeout", "5", "--faults", "kill9_ipi,kill9_runner,sigstop_server", "--seed", "7", "--no-reference",
         "--out", str(out)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert (out / "soak.json").exists(), done.stdout + done.stderr
    result = json.loads((out / "soak.json").read_text())
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    summary = result["summary"]
    assert summary["passed"] and summary["frames_lost"] == 0 and summary["cycles"] >= 1
    assert all(c["ok"] for c in result["checks"])
    assert len(result["launches"]) == summary["cycles"] + 1
    assert "soak summary" in done.stdout and "PASSED" in done.stdout
    # nothing the soak started is left: no process works in the run folder
    run = str((out / "run").resolve())
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                assert os.readlink(entry / "cwd") != run, f"PID {entry.name} still runs in {run}"
            except OSError:
                pass


@pytest.mark.slow
def test_soak_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "x").write_text("mine")
    done = subprocess.run([sys.executable, str(SCRIPT), "--minutes", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "not an empty folder" in done.stderr
    assert (tmp_path / "x").read_text() == "mine"
