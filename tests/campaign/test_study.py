"""`symbreak study` end to end on the toy potential, tiny sizes."""

import json
import subprocess

from symbreak.campaign.launch import symbreak_command


def test_tiny_gas_study(tmp_path):
    out = tmp_path / "study"
    proc = subprocess.run(
        symbreak_command("study", "--potential", "toy", "--strategies", "plain,2i", "--steps", "40", "--out", str(out)),
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"plain", "2i"}
    # averaging removes most of the toy's torque (2i cancels l <= 2 and odd l; the toy's l = 4 remains)
    assert summary["2i"]["torque_rms_eV"] < 0.5 * summary["plain"]["torque_rms_eV"]
    assert (out / "gas_angular_momentum.png").stat().st_size > 1000
