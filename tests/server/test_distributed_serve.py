"""`symbreak serve` on torch.distributed: --workers K and a torchrun launch give i-PI the serial trajectory, leave
no process behind, and every misuse of the retired transport or of a launch is one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from symbreak.ipi.inputs import DirectSpec, ForceTerm, SimulationSpec, SocketSpec
from symbreak.ipi.md_settings import MDSettings
from symbreak.ipi.processes import unique_socket_name
from symbreak.potentials import testing

from .ipi_run import read_properties, run_ipi, symbreak_command

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]


def children_of(pid: int) -> list[int]:
    """Processes started by `serve --workers` from the server ``pid`` (they carry SYMBREAK_PARENT_PID=pid)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = open(f"/proc/{entry}/environ", "rb").read().split(b"\0")
            except OSError:
                continue
            if f"SYMBREAK_PARENT_PID={pid}".encode() in environ:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_workers_and_torchrun_give_i_pi_the_serial_trajectory(tmp_path):
    box = testing.water_box(n_per_side=2, seed=3)
    outputs = {}
    for label in ("serial", "workers2", "torchrun2"):
        name = unique_socket_name()
        spec = SimulationSpec("init.xyz", [SocketSpec("model", name)], [ForceTerm("model")],
                              MDSettings(ensemble="nve", thermostat="none", steps=4))
        serve = ["serve", "--potential", "toy", "--strategy", "2i", "--unix", "--address", name]
        if label == "workers2":
            command = symbreak_command(*serve, "--workers", "2")
        elif label == "torchrun2":
            command = [*TORCHRUN, "-m", "symbreak", *serve]
        else:
            command = symbreak_command(*serve)
        run_ipi(tmp_path / label, box, spec, [command])
        outputs[label] = read_properties(tmp_path / label / "simulation.out")
        log = (tmp_path / label / "server0.log").read_text()
        assert "Traceback" not in log, log
    np.testing.assert_allclose(outputs["workers2"], outputs["serial"], rtol=1e-12, atol=0)
    np.testing.assert_allclose(outputs["torchrun2"], outputs["serial"], rtol=1e-12, atol=0)


@pytest.mark.slow
def test_the_in_process_pes_as_rank_0(tmp_path):
    box = testing.water_box(n_per_side=2, seed=3)
    outputs = {}
    for workers in (1, 2):
        spec = SimulationSpec("init.xyz", [DirectSpec("model", {"potential": "toy", "strategy": "2i", "workers": workers})],
                              [ForceTerm("model")], MDSettings(ensemble="nve", thermostat="none", steps=3))
        run_ipi(tmp_path / str(workers), box, spec, [])
        outputs[workers] = read_properties(tmp_path / str(workers) / "simulation.out")
    np.testing.assert_allclose(outputs[2], outputs[1], rtol=1e-12, atol=0)


@pytest.mark.slow
def test_a_killed_server_takes_its_ranks_with_it():
    command = symbreak_command("serve", "--potential", "toy", "--strategy", "2i", "--workers", "3", "--unix",
                               "--address", unique_socket_name(), "--timeout", "120")
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in server.stderr:  # the ranks have joined once the server waits for i-PI
            if "waiting up to" in line:
                break
        ranks = children_of(server.pid)
        assert len(ranks) == 2 and all(alive(pid) for pid in ranks)
        server.send_signal(signal.SIGKILL)
        server.wait()
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in ranks) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in ranks), "a rank outlived its server"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def one_line_error(args, env=None):
    run = subprocess.run([sys.executable, "-m", "symbreak", *args], capture_output=True, text=True, timeout=120,
                         env={**os.environ, **(env or {})})
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    return run.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_the_retired_transport_and_a_misused_launch_are_one_line():
    assert "`symbreak worker` is gone" in one_line_error(["worker", "--potential", "toy", "--port", "40000"])
    assert "--remote-workers is gone" in one_line_error(["serve", "--potential", "toy", "--remote-workers", "node2:1"])
    assert "--workers must be >= 1, got 0" in one_line_error(["serve", "--potential", "toy", "--workers", "0"])
    launch = {"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29999"}
    assert "the launcher starts the ranks; drop --workers" in one_line_error(
        ["serve", "--potential", "toy", "--workers", "2"], launch)
    assert "--rank-timeout must be > 0" in one_line_error(["serve", "--potential", "toy", "--rank-timeout", "0"])


@pytest.mark.slow
def test_a_two_node_torchrun_launch_over_tcp(tmp_path):
    """The README's multi-node command, both 'nodes' on this machine: two torchrun agents meet at one endpoint."""
    from symbreak.ipi.processes import free_tcp_port

    box = testing.water_box(n_per_side=2, seed=3)
    outputs = {}
    for label in ("serial", "two-nodes"):
        port = free_tcp_port()
        spec = SimulationSpec("init.xyz", [SocketSpec("model", "127.0.0.1", mode="inet", port=port)],
                              [ForceTerm("model")], MDSettings(ensemble="nve", thermostat="none", steps=3))
        serve = ["serve", "--potential", "toy", "--strategy", "2i", "--address", "127.0.0.1", "--port", str(port)]
        if label == "serial":
            commands = [symbreak_command(*serve)]
        else:
            endpoint = f"127.0.0.1:{free_tcp_port()}"
            agent = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc-per-node", "1",
                     "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint, "--rdzv-id", "test", "-m", "symbreak", *serve]
            commands = [agent, agent]
        run_ipi(tmp_path / label, box, spec, commands)
        outputs[label] = read_properties(tmp_path / label / "simulation.out")
    np.testing.assert_allclose(outputs["two-nodes"], outputs["serial"], rtol=1e-12, atol=0)
