"""A real i-PI process driving `symbreak serve` over UNIX and TCP sockets, and in-process via <ffdirect>."""

import json
import re
import subprocess

import numpy as np
import pytest
from symbreak.ipi.inputs import DirectSpec, ForceTerm, RotationsSpec, SimulationSpec, SocketSpec
from symbreak.ipi.md_settings import MDSettings
from symbreak.ipi.processes import free_tcp_port, unique_socket_name
from symbreak.potentials import testing

from .ipi_run import read_properties, run_ipi, symbreak_command


def nve(steps):
    return MDSettings(ensemble="nve", thermostat="none", steps=steps)


def extras_records(path):
    """JSON dicts of the 'raw' extras written by i-PI (one list per step)."""
    text = path.read_text()
    return re.findall(r"\{\"strategy\".*?\}(?=['\"]\])", text)


@pytest.mark.slow
def test_unix_socket_nve_one_molecule(tmp_path, water_molecule):
    name = unique_socket_name()
    spec = SimulationSpec("init.xyz", [SocketSpec("model", name, mode="unix")], [ForceTerm("model")], nve(5))
    serve = symbreak_command("serve", "--potential", "toy", "--strategy", "2i", "--unix", "--address", name, "--vacuum")
    run_ipi(tmp_path, water_molecule, spec, [serve])
    props = read_properties(tmp_path / "simulation.out")
    assert props.shape[0] == 6 and np.all(np.isfinite(props))
    conserved = props[:, 2]
    assert np.ptp(conserved) < 0.01  # eV over 5 steps of 0.5 fs
    records = extras_records(tmp_path / "simulation.extras_0")
    assert len(records) == 6
    first = json.loads(records[0])
    assert first["strategy"] == "2i" and first["n_rotations"] == 36
    assert abs(first["energy_plain_minus_averaged"]) > 0  # the toy is not invariant
    assert np.linalg.norm(first["net_torque_plain"]) > 1e-5


@pytest.mark.slow
def test_tcp_socket_nvt_64_molecules(tmp_path):
    box = testing.water_box(n_per_side=4, seed=3)
    port = free_tcp_port()
    spec = SimulationSpec(
        "init.xyz", [SocketSpec("model", "127.0.0.1", mode="inet", port=port)], [ForceTerm("model")], MDSettings(steps=3)
    )
    serve = symbreak_command("serve", "--potential", "toy", "--strategy", "2", "--host", "127.0.0.1", "--port", str(port))
    run_ipi(tmp_path, box, spec, [serve])
    props = read_properties(tmp_path / "simulation.out")
    assert props.shape[0] == 4 and np.all(np.isfinite(props))
    records = extras_records(tmp_path / "simulation.extras_0")
    assert len(records) == 4 and json.loads(records[0])["n_rotations"] == 18


@pytest.mark.slow
def test_beads_batched_and_two_servers(tmp_path, water_molecule):
    """Four beads, i-PI's batched mode (batch_size 2) and two servers sharing the work."""
    name = unique_socket_name()
    spec = SimulationSpec(
        "init.xyz", [SocketSpec("model", name, mode="unix", batch_size=2)], [ForceTerm("model")],
        MDSettings(thermostat="pile_l", beads=4, steps=3),
    )
    serve = symbreak_command("serve", "--potential", "toy", "--strategy", "i", "--unix", "--address", name, "--vacuum")
    run_ipi(tmp_path, water_molecule, spec, [serve, serve])
    props = read_properties(tmp_path / "simulation.out")
    assert props.shape[0] == 4 and np.all(np.isfinite(props))
    for bead in range(4):
        assert len(extras_records(tmp_path / f"simulation.extras_{bead}")) == 4


def toy_direct(name, strategy):
    return DirectSpec(name, {"potential": "toy", "strategy": strategy})


GRIDS = [("legendre", 2, False), ("legendre", 2, True), ("lebedev", 3, False), ("lebedev", 3, True)]


@pytest.mark.slow
def test_grid_averages_agree_with_ipi_ffrotations(tmp_path):
    """symbreak's in-server average equals i-PI's <ffrotations> over the plain model, in one i-PI run."""
    box = testing.water_box(n_per_side=2, seed=5)
    forcefields, forces = [], []
    for k, (mode, order, inv) in enumerate(GRIDS):
        label = f"{mode}:{order}" + (":i" if inv else "")
        forcefields += [
            RotationsSpec(f"rot{k}", toy_direct(f"inner{k}", "plain"), mode, order, inv),
            toy_direct(f"sym{k}", label),
        ]
        forces += [ForceTerm(f"rot{k}", weight=1e-9), ForceTerm(f"sym{k}", weight=1e-9)]
    n = len(forces)
    spec = SimulationSpec(
        "init.xyz", forcefields, forces, nve(1),
        properties=["step"] + [f"pot_component_raw({k}){{electronvolt}}" for k in range(n)],
        trajectories=[],
    )
    run_ipi(tmp_path, box, spec, [])
    pots = read_properties(tmp_path / "simulation.out")[:, 1:]
    assert pots.shape == (2, n)
    for k in range(len(GRIDS)):
        np.testing.assert_allclose(pots[:, 2 * k + 1], pots[:, 2 * k], rtol=0, atol=1e-9)
    # and the grids really differ from each other (the toy is not invariant)
    assert abs(pots[0, 0] - pots[0, 2]) > 1e-5


def run_cli(*args, timeout=60):
    return subprocess.run(symbreak_command(*args), capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_serve_waits_for_a_socket_then_says_so():
    name = unique_socket_name()
    out = run_cli("serve", "--potential", "toy", "--unix", "--address", name, "--timeout", "0.5")
    assert out.returncode == 2
    waiting, error = out.stderr.strip().splitlines()  # what it waits for, once; then why it stopped
    assert waiting.startswith("symbreak serve: waiting up to 0.5 s for i-PI at UNIX socket") and name in waiting
    assert "no i-PI socket" in error


@pytest.mark.slow
def test_serve_tcp_timeout_message():
    out = run_cli("serve", "--potential", "toy", "--port", str(free_tcp_port()), "--timeout", "0.5")
    assert out.returncode == 2
    assert "not listening" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--strategy", "legendre:x"], "invalid strategy"),
        (["--strategy", "foo"], "unknown strategy"),
        (["--potential", "nonexistent_model.pt"], "unknown potential"),
        (["--structure", "missing.xyz"], "structure file not found"),
    ],
)
@pytest.mark.slow
def test_serve_bad_arguments_are_one_line(args, message):
    out = run_cli("serve", "--potential", "toy", *args, "--timeout", "0.2")
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("args, message", [(["--port", "99999"], "--port 99999 is not a TCP port"),
                                           (["--port", "0"], "--port 0 is not a TCP port"),
                                           (["--timeout", "0"], "--timeout must be > 0")])
def test_serve_refuses_an_impossible_socket_before_loading_the_model(args, message, capsys, monkeypatch):
    import symbreak.commands.serve as serve
    from symbreak.cli import main

    monkeypatch.setattr(serve, "load_potential", lambda spec: pytest.fail("loaded the model first"))
    assert main(["serve", "--potential", "toy", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_serve_stops_on_nan_positions(tmp_path, water_molecule):
    """A real `symbreak serve` process against a fake i-PI that sends NaN: one line, exit 2, no hang."""
    import socket

    from .fake_ipi import FakeIPI

    name = unique_socket_name()
    path = f"/tmp/ipi_{name}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    try:
        proc = subprocess.Popen(
            symbreak_command("serve", "--potential", "toy", "--unix", "--address", name, "--vacuum"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        listener.settimeout(30)
        conn, _ = listener.accept()
        peer = FakeIPI(conn)
        peer.init()
        q = water_molecule.positions / 0.529177
        q[0, 0] = np.nan
        peer.send_positions(np.eye(3) * 100, q)
        _, err = proc.communicate(timeout=30)
        conn.close()
    finally:
        listener.close()
        import os

        os.unlink(path)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 2
    assert "non-finite" in err and "Traceback" not in err
