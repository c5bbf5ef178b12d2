"""Killing a run and re-running it into the same folder resumes from i-PI's checkpoint and loses no frame."""

import re
import signal
import subprocess
import time

import numpy as np
import pytest
from symbreak.ipi.launch import symbreak_command
from symbreak.ipi.outputs import read_properties
from symbreak.ipi.resume import checkpoint_step, prune_checkpoint_backups, truncate_frames, truncate_properties


def test_truncate_properties_and_frames(tmp_path):
    props = tmp_path / "simulation.out"
    props.write_text("# column 1 --> step\n" + "".join(f"{k}.0 {k * 2}\n" for k in range(10)))
    assert truncate_properties(props, 6) == 3
    assert np.loadtxt(props)[:, 0].tolist() == list(range(7))
    xyz = tmp_path / "simulation.positions_0.xyz"
    xyz.write_text("".join(f"1\n# CELL(abcABC): 1 1 1 90 90 90 Step: {k} Bead: 0\nO 0 0 0\n" for k in range(5)))
    assert truncate_frames(xyz, 2) == 2
    assert re.findall(r"Step: (\d+)", xyz.read_text()) == ["0", "1", "2"]
    extras = tmp_path / "simulation.extras_c0"
    extras.write_text("".join(f" #EXTRAS(raw)# Step: {k} Bead: 0\n{{'a': [{k}]}}\n" for k in range(4)))
    assert truncate_frames(extras, 0) == 3
    assert extras.read_text().count("Step") == 1


@pytest.mark.slow
def test_kill_and_resume_loses_and_repeats_no_step(tmp_path):
    out = tmp_path / "run"
    command = symbreak_command("run", "gas-nve", "--potential", "toy", "--steps", "3000", "--no-reference",
                               "--out", str(out), "--quiet")
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if len(read_properties(out / "simulation.out")["step"]) > 250:
                    break
            except Exception:
                pass
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    steps_before = read_properties(out / "simulation.out")["step"]
    assert steps_before[-1] < 3000, "the run finished before it could be interrupted"
    assert checkpoint_step(out / "RESTART") >= 100
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    steps = read_properties(out / "simulation.out")["step"]
    assert steps.tolist() == list(range(3001))
    for name in ("positions", "forces", "momenta"):
        text = (out / f"simulation.{name}_0.xyz").read_text()
        assert [int(s) for s in re.findall(r"Step:\s+(\d+)", text)] == list(range(3001))


def test_prune_checkpoint_backups_keeps_the_newest(tmp_path):
    for n in range(5):
        (tmp_path / f"#RESTART#{n}#").write_text("old")
        (tmp_path / f"#simulation.restart#{n}#").write_text("old")
    (tmp_path / "#simulation.out#0#").write_text("not a checkpoint")
    (tmp_path / "RESTART").write_text("current")
    removed = prune_checkpoint_backups(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == sorted(
        [f"#RESTART#{n}#" for n in range(3)] + [f"#simulation.restart#{n}#" for n in range(3)])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["#RESTART#3#", "#RESTART#4#", "#simulation.restart#3#", "#simulation.restart#4#", "#simulation.out#0#",
         "RESTART"])
    assert prune_checkpoint_backups(tmp_path) == []
