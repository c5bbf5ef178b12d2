"""`symbreak analyze` on i-PI runs that symbreak did not start: hand-written inputs, no manifest.json.

Four tiny real runs (i-PI against `symbreak serve --potential toy`), made once per module:

* nve:    one H2O in a 30 A box, NVE, one socket forcefield, xyz outputs, bare (atomic-unit) properties
* mts:    one H2O, NVT, two forcefields with mts_weights (plain inner, delta:i outer), ase (extxyz) outputs
* bulk:   8 H2O in a 6.2 A cell, NVT (SVR), i-PI's own harmonic driver at weight 0, outputs every 2 steps
* replay: the bulk trajectory replayed with two forcefields (plain, i), per-component forces and extras
"""

import shutil
import subprocess

import numpy as np
import pytest
from symbreak.analysis.run_analysis import analyze_run
from symbreak.analysis.run_folder import RunError, RunFolder
from symbreak.core.structure import Structure
from symbreak.ipi.launch import run_simulation, symbreak_command
from symbreak.ipi.outputs import read_trajectory_file
from symbreak.ipi.processes import executable, unique_socket_name
from symbreak.potentials import testing


def _socket(name: str, address: str) -> str:
    return (f"<ffsocket name='{name}' mode='unix' pbc='false'><address>{address}</address><latency>1e-4</latency>"
            "<timeout>120</timeout></ffsocket>")


def _serve(address: str, strategy: str, vacuum: bool) -> list[str]:
    return symbreak_command("serve", "--potential", "toy", "--strategy", strategy, "--unix", "--address", address,
                            "--quiet", *(["--vacuum"] if vacuum else []))


def _input(prefix, steps, ffs, forces, motion, properties, trajectories, nbeads=1, ensemble="", velocities=True):
    trajs = "\n    ".join(trajectories)
    vel = "<velocities mode='thermal' units='kelvin'>300</velocities>" if velocities else ""
    return f"""<simulation verbosity='low' safe_stride='1000'>
  <output prefix='{prefix}'>
    {properties}
    {trajs}
    <checkpoint stride='1000'/>
  </output>
  <total_steps>{steps}</total_steps>
  <prng><seed>7</seed></prng>
  {''.join(ffs)}
  <system>
    <initialize nbeads='{nbeads}'><file mode='xyz'>init.xyz</file>{vel}</initialize>
    <forces>{forces}</forces>
    {motion}
    <ensemble>{ensemble}</ensemble>
  </system>
</simulation>
"""


def _molecule() -> Structure:
    m = testing.water_molecule(seed=0)
    return Structure(positions=m.positions - m.positions.mean(axis=0) + 15.0, numbers=m.numbers, cell=np.eye(3) * 30.0)


def _nve(folder):
    a = unique_socket_name()
    xml = _input(
        "nve", 40, [_socket("water", a)], "<force forcefield='water'/>",
        "<motion mode='dynamics'><fixcom>True</fixcom><dynamics mode='nve'>"
        "<timestep units='femtosecond'>0.25</timestep></dynamics></motion>",
        "<properties stride='1' filename='thermo'> [ step, time{picosecond}, conserved, temperature{kelvin}, "
        "potential, kinetic_md ] </properties>",
        ["<trajectory filename='pos' stride='1'> positions{angstrom} </trajectory>",
         "<trajectory filename='mom' stride='1'> momenta </trajectory>",
         "<trajectory filename='frc' stride='1'> forces </trajectory>",
         "<trajectory filename='ext' stride='1'> extras </trajectory>"])
    run_simulation(folder, _molecule(), xml, [_serve(a, "plain", vacuum=True)], timeout=240)


def _mts(folder):
    fast, slow = unique_socket_name(), unique_socket_name()
    xml = _input(
        "mts", 16, [_socket("fast", fast), _socket("slow", slow)],
        "<force forcefield='fast'><mts_weights>[0, 1]</mts_weights></force>"
        "<force forcefield='slow'><mts_weights>[1, 0]</mts_weights></force>",
        "<motion mode='dynamics'><dynamics mode='nvt'><timestep units='femtosecond'>1.0</timestep>"
        "<thermostat mode='langevin'><tau units='femtosecond'>100</tau></thermostat><nmts>[1, 2]</nmts>"
        "</dynamics></motion>",
        "<properties stride='1' filename='out'> [ step, time{picosecond}, conserved{electronvolt}, "
        "temperature{kelvin}, potential{electronvolt}, pot_component_raw(0){electronvolt}, "
        "pot_component_raw(1){electronvolt} ] </properties>",
        ["<trajectory filename='pos' stride='1' format='ase'> positions </trajectory>",
         "<trajectory filename='mom' stride='1' format='ase'> momenta </trajectory>",
         "<trajectory filename='frc' stride='1' format='ase'> forces </trajectory>",
         "<trajectory filename='x0' stride='1'> extras_component_raw(0) </trajectory>",
         "<trajectory filename='x1' stride='1'> extras_component_raw(1) </trajectory>"],
        ensemble="<temperature units='kelvin'>300</temperature>")
    run_simulation(folder, _molecule(), xml, [_serve(fast, "plain", True), _serve(slow, "delta:i", True)], timeout=240)


def _bulk(folder):
    model, check = unique_socket_name(), unique_socket_name()
    xml = _input(
        "bulk", 60, [_socket("model", model), _socket("check", check)],
        "<force forcefield='model' weight='1.0'/><force forcefield='check' weight='0.0'/>",
        "<motion mode='dynamics'><fixcom>True</fixcom><dynamics mode='nvt'>"
        "<timestep units='femtosecond'>0.5</timestep><thermostat mode='svr'><tau units='femtosecond'>10</tau>"
        "</thermostat></dynamics></motion>",
        "<properties stride='2' filename='out'> [ step, time{picosecond}, conserved{electronvolt}, "
        "temperature{kelvin}, potential{electronvolt}, pot_component_raw(0){electronvolt}, "
        "pot_component_raw(1){electronvolt} ] </properties>",
        ["<trajectory filename='pos' stride='2'> positions{angstrom} </trajectory>",
         "<trajectory filename='frc' stride='2'> forces{ev/ang} </trajectory>",
         "<trajectory filename='x0' stride='2'> extras_component_raw(0) </trajectory>"],
        ensemble="<temperature units='kelvin'>300</temperature>")
    # the weight-0 forcefield is i-PI's own driver (a harmonic PES): no symbreak extras, so no strategy
    # (i-PI's driver does not wait for the socket: a shell waits for it first, up to 2 minutes)
    harmonic = ["sh", "-c", f"for i in $(seq 600); do [ -S /tmp/ipi_{check} ] && break; sleep 0.2; done; "
                f"exec '{executable('i-pi-py_driver')}' -u -a {check} -m harmonic -o 0.1"]
    run_simulation(folder, testing.water_box(n_per_side=2, seed=1), xml, [_serve(model, "plain", False), harmonic],
                   timeout=240)


def _replay(folder, bulk):
    folder.mkdir(parents=True)
    shutil.copy(bulk / "bulk.pos_0.xyz", folder / "replay.xyz")
    frames = read_trajectory_file(folder / "replay.xyz")
    first = frames[0]
    plain, inv = unique_socket_name(), unique_socket_name()
    xml = _input(
        "rp", len(frames) - 1, [_socket("plain", plain), _socket("inv", inv)],
        "<force forcefield='plain' weight='1'/><force forcefield='inv' weight='0'/>",
        "<motion mode='replay'><file mode='xyz'>replay.xyz</file></motion>",
        "<properties stride='1' filename='out'> [ step, potential{electronvolt}, pot_component_raw(0){electronvolt}, "
        "pot_component_raw(1){electronvolt} ] </properties>",
        ["<trajectory filename='pos' stride='1'> positions{angstrom} </trajectory>",
         "<trajectory filename='f0' stride='1'> forces_component_raw(0){ev/ang} </trajectory>",
         "<trajectory filename='f1' stride='1'> forces_component_raw(1){ev/ang} </trajectory>",
         "<trajectory filename='x0' stride='1'> extras_component_raw(0) </trajectory>",
         "<trajectory filename='x1' stride='1'> extras_component_raw(1) </trajectory>"],
        velocities=False)
    structure = Structure(positions=first.positions, numbers=first.numbers, cell=first.cell.array)
    run_simulation(folder, structure, xml, [_serve(plain, "plain", False), _serve(inv, "i", False)], timeout=240)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("foreign")
    _nve(root / "nve")
    _mts(root / "mts")
    _bulk(root / "bulk")
    _replay(root / "replay", root / "bulk")
    for name in ("nve", "mts", "bulk", "replay"):
        assert not (root / name / "manifest.json").exists()
    return root


# analyze_run returns a dict or a typed RunAnalysis (both are read here)
def _get(result, key):
    return result[key] if isinstance(result, dict) else getattr(result, key)


def _scalar(result, name):
    if isinstance(result, dict):
        return result["scalars"].get(name, {}).get("value")
    found = result.observables.get(name)
    return None if found is None else found.value


def _curves(result) -> set:
    return set(result["curves"] if isinstance(result, dict) else result.curves)


def _convergence(result) -> list[str]:
    if isinstance(result, dict):
        return [row["strategy"] for row in result["tables"]["convergence"]]
    return [row.strategy for row in result.convergence]


@pytest.mark.slow
def test_nve_molecule_one_socket_xyz(runs):
    run = RunFolder(runs / "nve")
    assert run.manifest is None and run.description.ensemble == "nve"
    assert (run.case, run.kind, run.label, run.strategy, run.potential, run.size) == ("ipi-nve", "gas", "plain", "plain", None, None)
    assert run.finished and run.beads == 1 and run.timestep_fs == 0.25 and run.temperature_k == 300.0
    assert [(c.name, c.role) for c in run.forcefields] == [("water", "model")]
    assert run.cells() is None and run.positions().shape == (41, 3, 3) and run.momenta().shape == (41, 3, 3)
    # "conserved" and "potential" are written without units (atomic units): read in eV
    conserved = run.properties["conserved"]
    assert np.ptp(conserved) < 2e-3 and abs(conserved[0]) < 50.0
    r = analyze_run(runs / "nve")
    assert _get(r, "kind") == "gas" and _get(r, "case") == "ipi-nve" and _get(r, "label") == "plain"
    for name in ("torque_rms", "L_max_change", "conserved_drift", "temperature"):
        assert _scalar(r, name) is not None, name
    assert abs(_scalar(r, "conserved_drift")) < 0.05  # eV per molecule per ps: NVE conserves the energy
    assert {"L_change", "conserved"} <= _curves(r)


@pytest.mark.slow
def test_mts_two_forcefields_ase_outputs(runs):
    run = RunFolder(runs / "mts")
    assert run.description.nmts == (1, 2) and run.case == "ipi-nvt-mts" and run.kind == "gas"
    assert [(c.name, c.role, c.strategy) for c in run.forcefields] == [("fast", "inner", "plain"), ("slow", "outer", "delta:i")]
    assert run.label == "mts:i" and run.strategy == "i" and run.timestep_fs == 1.0
    assert run.description.trajectory("positions").path(0) == "mts.pos_0.extxyz"
    positions, forces, momenta = run.positions(), run.forces(), run.momenta()
    assert positions.shape == forces.shape == momenta.shape == (17, 3, 3)
    assert np.abs(forces).max() > 0 and np.abs(momenta).max() > 0
    assert np.allclose(np.linalg.norm(positions[0, 1] - positions[0, 0]), 0.96, atol=0.1)  # O-H in Angstrom
    r = analyze_run(runs / "mts")
    assert _get(r, "label") == "mts:i" and _scalar(r, "torque_rms") is not None


@pytest.mark.slow
def test_bulk_nvt_with_a_weight_zero_forcefield(runs):
    run = RunFolder(runs / "bulk")
    assert (run.case, run.kind, run.label) == ("ipi-nvt", "liquid", "plain")
    assert [(c.name, c.role, c.weight, c.strategy) for c in run.forcefields] == [
        ("model", "model", 1.0, "plain"), ("check", "reference", 0.0, None)]
    assert run.component("reference") == 1 and run.cells().shape == (31, 3, 3)
    assert run.extras_stride == 2 and run.frame_times()[1] == pytest.approx(1e-3)
    r = analyze_run(runs / "bulk")
    assert _get(r, "kind") == "liquid" and _get(r, "n_molecules") == 8
    assert _scalar(r, "model_error_mae") is not None and {"g_OO", "model_error"} <= _curves(r)
    temperature = run.properties["temperature"]
    assert 150.0 < temperature[len(temperature) // 2:].mean() < 450.0  # SVR at 300 K, tau 10 fs, 30 fs


@pytest.mark.slow
def test_replay_with_two_strategies(runs):
    run = RunFolder(runs / "replay")
    assert (run.case, run.kind) == ("ipi-replay", "replay")
    assert [(c.role, c.strategy) for c in run.forcefields] == [("replay", "plain"), ("replay", "i")]
    assert run.trajectory == "replay.xyz" and run.component_forces(1).shape[1:] == (24, 3)
    r = analyze_run(runs / "replay")
    assert sorted(_convergence(r)) == ["i", "plain"]
    assert _scalar(r, "symmetry_error_plain") is not None


@pytest.mark.slow
def test_cli_analyzes_foreign_folders(runs, tmp_path):
    folders = [str(runs / name) for name in ("nve", "mts", "bulk", "replay")]
    proc = subprocess.run(symbreak_command("analyze", *folders, "--no-figures", "--out", str(tmp_path / "out")),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name, case in (("nve", "ipi-nve"), ("mts", "ipi-nvt-mts"), ("bulk", "ipi-nvt"), ("replay", "ipi-replay")):
        assert (tmp_path / "out" / name / "analysis.json").exists()
        assert case in proc.stdout


@pytest.mark.slow
def test_checkpoint_or_another_input_name_describes_the_run(runs, tmp_path):
    only_restart = tmp_path / "restart"
    shutil.copytree(runs / "nve", only_restart)
    (only_restart / "input.xml").unlink()
    run = RunFolder(only_restart)
    assert run.description.checkpoint and run.description.source.endswith("RESTART")
    assert (run.case, run.kind) == ("ipi-nve", "gas") and run.timestep_fs == pytest.approx(0.25)  # 9 digits
    renamed = tmp_path / "renamed"
    shutil.copytree(runs / "bulk", renamed)
    (renamed / "input.xml").rename(renamed / "bulk-md.xml")
    run = RunFolder(renamed)
    assert run.description.source.endswith("bulk-md.xml") and run.kind == "liquid"


def test_folder_without_an_ipi_input(tmp_path):
    (tmp_path / "simulation.out").write_text("# column 1 --> step\n0\n1\n")
    with pytest.raises(RunError) as info:
        RunFolder(tmp_path)
    assert "no i-PI input" in str(info.value) and str(tmp_path) in str(info.value) and "\n" not in str(info.value)
