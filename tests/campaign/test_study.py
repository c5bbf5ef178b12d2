"""`symbreak study` end to end on the toy potential, tiny sizes: runs, reuse, report, summary."""

import json
import subprocess

import numpy as np
from symbreak.ipi.launch import symbreak_command


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


def test_tiny_study_ice_relaxations(tmp_path):
    """The geop part: per cell plain, 2i (from the plain minimum) and q-TIP4P/F relaxations, relative energies."""
    from symbreak.structures.io import read_structures

    out = tmp_path / "study"
    command = symbreak_command("study", "--quick", "--potential", "toy", "--parts", "geop", "--scale", "0.03",
                               "--ice-cells", "3", "--out", str(out))
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    ice = json.loads((out / "summary.json").read_text())["ice"]
    assert sorted(ice["cells"]) == ["1", "2", "3"]
    for cell in ice["cells"].values():
        assert all(cell.get(c) is not None for c in ice["columns"]), cell
    # the 2i relaxation starts where the plain one stopped (same structure up to lattice translations)
    end = read_structures(str(out / "ice-geop-2-plain" / "simulation.positions_0.xyz"))[-1]
    start = read_structures(str(out / "ice-geop-2-2i" / "init.xyz"))[0]
    frac = (end.positions - start.positions) @ np.linalg.inv(end.cell)
    assert np.abs(frac - np.round(frac)).max() < 1e-9
    assert ice["cells"]["2"]["plain_after"] < ice["cells"]["2"]["plain_before"]
    for when in ("before", "after"):
        c = ice["relative"][when]
        assert c["n_configurations"] == 3 and c["spread"] > 0
        assert c["between"]["2i|plain"] > 0 and -1 <= c["ordering_2i_vs_plain"]["kendall"] <= 1
    # the built cells are the same for every potential: before relaxation, the reference is evaluated once
    assert (out / "ice-single-points.json").exists()
    assert "Ice relative energies before relaxation (3 cells" in (out / "report.html").read_text()
    assert "ordering 2i vs plain" in (out / "summary.txt").read_text()
    assert (out / "ice_relative_energies.png").stat().st_size > 1000


def test_study_rejects_one_ice_cell(tmp_path):
    proc = subprocess.run(symbreak_command("study", "--parts", "geop", "--ice-cells", "1", "--out", str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--ice-cells" in proc.stderr
