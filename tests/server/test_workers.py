"""Parallel averaging: shares over workers give the serial average exactly; failures are one line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest
from symbreak.core.errors import DeadlineError, InputError
from symbreak.core.structure import Evaluation, Structure
from symbreak.ipi.inputs import ForceTerm, SimulationSpec, SocketSpec
from symbreak.ipi.md_settings import MDSettings
from symbreak.ipi.processes import free_tcp_port, unique_socket_name
from symbreak.potentials import testing
from symbreak.potentials.registry import load_potential
from symbreak.server import worker_protocol as wire
from symbreak.server.worker_service import serve_coordinator
from symbreak.server.workers import (
    ParallelPotential,
    WorkerConnection,
    connect_worker,
    greet,
    share_bounds,
    spawn_local_workers,
)
from symbreak.symmetry.strategies import parse_strategy

from .ipi_run import read_properties, run_ipi, symbreak_command


@pytest.mark.parametrize("atoms, shares", [([3] * 37, 2), ([3] * 37, 3), ([3] * 5, 8), ([192] * 36 + [3], 2),
                                           ([1, 100, 1, 1, 100], 2), ([7], 4)])
def test_shares_are_contiguous_non_empty_and_balanced(atoms, shares):
    bounds = share_bounds(atoms, shares)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(atoms)
    assert all(b > a for a, b in bounds) and all(b0 == a1 for (_, b0), (a1, _) in zip(bounds, bounds[1:]))
    assert len(bounds) == min(shares, len(atoms))
    if len(set(atoms)) == 1:
        sizes = [b - a for a, b in bounds]
        assert max(sizes) - min(sizes) <= 1


def mixed_batch() -> list[Structure]:
    box = testing.water_box(n_per_side=2, seed=4)
    return [testing.water_molecule(seed=1), box, testing.water_molecule(seed=2), box.rotated(np.eye(3)[[1, 2, 0]])]


def test_the_wire_carries_structures_and_results_exactly():
    a, b = socket.socketpair()
    batch = mixed_batch()
    with a, b:
        wire.send_structures(a, batch)
        received = wire.recv_request(b)
        for s, r in zip(batch, received):
            np.testing.assert_array_equal(s.positions, r.positions)
            np.testing.assert_array_equal(s.numbers, r.numbers)
            assert (s.cell is None) == (r.cell is None)
            if s.cell is not None:
                np.testing.assert_array_equal(s.cell, r.cell)
        out = load_potential("toy").compute(batch)
        wire.send_results(b, out)
        back = wire.recv_results(a, batch)
        np.testing.assert_array_equal(out.energies, back.energies)
        np.testing.assert_array_equal(out.virials, back.virials)
        for f, g in zip(out.forces, back.forces):
            np.testing.assert_array_equal(f, g)
        wire.send_failure(b, "the model failed")
        with pytest.raises(wire.WorkerError, match="the model failed"):
            wire.recv_results(a, batch)
        wire.send_quit(a)
        assert wire.recv_request(b) is None


def test_the_wire_refuses_what_is_not_a_worker_message():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"HTTP/1.1 200")
        with pytest.raises(wire.WorkerError, match="not a symbreak worker"):
            wire.recv_hello(b)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(wire.EVAL + np.uint32(3).tobytes() + np.array([0, 3, 3], np.uint32).tobytes())
        with pytest.raises(wire.WorkerError, match="at least one per structure"):
            wire.recv_request(b)
    a, b = socket.socketpair()
    a.sendall(wire.EVAL)
    a.close()
    with b, pytest.raises(wire.WorkerError, match="closed in the middle"):
        wire.recv_request(b)


class ThreadWorker:
    """A worker in a thread of this process, over a socket pair: the protocol without processes."""

    def __init__(self, potential, spec="toy"):
        self.coordinator_end, worker_end = socket.socketpair()
        self.thread = threading.Thread(target=serve_coordinator, args=(worker_end, potential, spec), daemon=True)
        self.thread.start()
        self.connection = WorkerConnection(self.coordinator_end, "thread", wire.recv_hello(self.coordinator_end))


@pytest.mark.parametrize("strategy", ["plain", "2i", "lebedev:3", "2i+random:5", "2+notorque"])
@pytest.mark.parametrize("workers", [1, 2, 5])
def test_parallel_average_equals_the_serial_one(strategy, workers):
    toy = load_potential("toy")
    structures = [testing.water_molecule(seed=s) for s in (3, 4)] if "notorque" in strategy else mixed_batch()
    serial = parse_strategy(strategy, toy).compute(structures)
    pool = [ThreadWorker(load_potential("toy")) for _ in range(workers)]
    parallel = ParallelPotential(load_potential("toy"), [w.connection for w in pool])
    shared = parse_strategy(strategy, parallel).compute(structures)
    np.testing.assert_allclose(shared.energies, serial.energies, rtol=0, atol=1e-12)
    np.testing.assert_allclose(shared.virials, serial.virials, rtol=0, atol=1e-12)
    for f, g in zip(shared.forces, serial.forces):
        np.testing.assert_allclose(f, g, rtol=0, atol=1e-12)
    assert [sorted(x) for x in shared.extras] == [sorted(x) for x in serial.extras]  # diagnostics intact
    for x, y in zip(shared.extras, serial.extras):
        for key in ("energy_spread", "force_spread"):
            if key in x:
                assert x[key] == pytest.approx(y[key], abs=1e-12)
    assert parallel.shares_sent >= 1  # every batch here has two structures or more
    parallel.close()


class FailingOn(testing.CountingPotential):
    """The toy, except that it raises on structures with more than ``limit`` atoms."""

    def __init__(self, limit):
        super().__init__(load_potential("toy"))
        self.limit = limit

    def compute(self, structures):
        if any(s.n_atoms > self.limit for s in structures):
            raise InputError(f"cannot handle more than {self.limit} atoms")
        return super().compute(structures)


def test_a_worker_failure_is_one_line_and_the_connections_stay_in_step():
    worker = ThreadWorker(FailingOn(limit=3))
    parallel = ParallelPotential(load_potential("toy"), [worker.connection])
    molecule, box = testing.water_molecule(seed=1), testing.water_box(n_per_side=2, seed=1)
    with pytest.raises(wire.WorkerError, match="worker thread: cannot handle more than 3 atoms"):
        parallel.compute([molecule, box])
    out = parallel.compute([molecule, molecule])  # the next call works
    assert len(out) == 2
    parallel.close()


def test_a_worker_that_serves_another_potential_is_refused():
    a, b = socket.socketpair()
    threading.Thread(target=serve_coordinator, args=(b, load_potential("toy"), "toy"), daemon=True).start()
    with a:
        with pytest.raises(InputError, match="serves the potential 'toy', this server 'default'"):
            greet(a, "node2:1", "default", timeout=10)


@pytest.mark.slow
def test_local_workers_are_processes_that_leave_nothing_behind():
    workers = spawn_local_workers("toy", 2, threads=1)
    paths = [w.name for w in workers]
    assert paths == ["local 1", "local 2"]
    processes = [w.process for w in workers]
    parallel = ParallelPotential(load_potential("toy"), workers)
    batch = mixed_batch()
    serial = parse_strategy("2i", load_potential("toy")).compute(batch)
    shared = parse_strategy("2i", parallel).compute(batch)
    np.testing.assert_allclose(shared.energies, serial.energies, rtol=0, atol=1e-12)
    parallel.close()
    assert all(p.returncode == 0 for p in processes)
    assert not [f for f in os.listdir("/tmp") if f.startswith("symbreak-worker-") and
                any(str(p.pid) in f for p in processes)]


@pytest.mark.slow
def test_a_killed_local_worker_stops_the_call_with_one_line():
    workers = spawn_local_workers("toy", 1, threads=1)
    parallel = ParallelPotential(load_potential("toy"), workers)
    workers[0].process.send_signal(signal.SIGKILL)
    workers[0].process.wait()
    with pytest.raises(wire.WorkerError, match="worker local 1"):
        parse_strategy("2i", parallel).compute(mixed_batch())
    parallel.close()


@pytest.mark.slow
def test_a_remote_worker_over_tcp():
    port = free_tcp_port()
    command = [sys.executable, "-m", "symbreak.cli", "worker", "--potential", "toy", "--port", str(port), "--quiet"]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    try:
        worker = connect_worker(f"127.0.0.1:{port}", "toy", timeout=60)
        parallel = ParallelPotential(load_potential("toy"), [worker])
        batch = mixed_batch()
        shared = parse_strategy("3i", parallel).compute(batch)
        serial = parse_strategy("3i", load_potential("toy")).compute(batch)
        np.testing.assert_allclose(shared.energies, serial.energies, rtol=0, atol=1e-12)
        parallel.close()
        worker = connect_worker(f"127.0.0.1:{port}", "toy", timeout=60)  # it serves the next coordinator
        assert isinstance(ParallelPotential(load_potential("toy"), [worker]).compute(batch), Evaluation)
        worker.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_serve_with_workers_gives_i_pi_the_serial_trajectory(tmp_path):
    box = testing.water_box(n_per_side=2, seed=3)
    outputs = []
    for workers in ("1", "2"):
        name = unique_socket_name()
        spec = SimulationSpec("init.xyz", [SocketSpec("model", name)], [ForceTerm("model")],
                              MDSettings(ensemble="nve", thermostat="none", steps=4))
        serve = symbreak_command("serve", "--potential", "toy", "--strategy", "2i", "--unix", "--address", name,
                                 "--workers", workers)
        run_ipi(tmp_path / workers, box, spec, [serve])
        outputs.append(read_properties(tmp_path / workers / "simulation.out"))
        assert "Traceback" not in (tmp_path / workers / "server0.log").read_text()
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-12, atol=0)


@pytest.mark.slow
def test_serve_refuses_bad_worker_options(tmp_path):
    run = subprocess.run([sys.executable, "-m", "symbreak.cli", "serve", "--potential", "toy", "--workers", "0"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "--workers must be >= 1, got 0" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "symbreak.cli", "serve", "--potential", "toy",
                          "--remote-workers", "nohost", "--timeout", "1"], capture_output=True, text=True)
    assert run.returncode == 2 and "is not HOST:PORT or unix:PATH" in run.stderr
    run = subprocess.run([sys.executable, "-m", "symbreak.cli", "worker", "--potential", "toy"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "give --unix PATH or --port N" in run.stderr


def test_an_unreachable_worker_is_named_as_a_worker_not_as_i_pi():
    for address in ("unix:/tmp/symbreak-no-such-worker", f"127.0.0.1:{free_tcp_port()}"):
        with pytest.raises(DeadlineError, match="symbreak worker") as caught:
            connect_worker(address, "toy", timeout=0.3)
        assert "i-PI" not in str(caught.value)
