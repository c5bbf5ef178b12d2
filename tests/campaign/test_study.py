"""`symbreak study` end to end on the toy potential, tiny sizes: runs, reuse, report, summary."""

import json
import subprocess

from symbreak.campaign.launch import symbreak_command


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
    assert any(v["group"] == "gas-nve" and v["observables"]["torque_rms"]["plain|2i"] == "different"
               for v in summary["verdicts"])
    assert (out / "gas_angular_momentum.png").stat().st_size > 1000
    html = (out / "report.html").read_text()
    assert "Symmetry error vs model error" in html and "ms/step" in html and "data:image/png;base64" in html
    # a second call reuses every finished run
    proc = subprocess.run(command, capture_output=True, text=True, timeout=200)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("reusing the finished run") == 6


def test_study_rejects_unknown_parts(tmp_path):
    proc = subprocess.run(symbreak_command("study", "--parts", "gas,moon", "--out", str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "moon" in proc.stderr
