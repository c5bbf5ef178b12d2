"""Parallel averaging: one call's rotated copies (and beads) spread over several processes and machines.

    workers = spawn_local_workers("default", count=1, threads=1)        # this machine: `symbreak worker` children
    workers += [connect_worker("node2:40000", expected_spec="default")]  # another machine's `symbreak worker`
    potential = ParallelPotential(load_potential("default"), workers)
    averaged = parse_strategy("2i", potential)      # the strategy, its diagnostics and its random stream stay here

A :class:`ParallelPotential` is a potential like any other: a strategy hands it
the whole batch of one call (every rotated copy of every bead), it cuts the
batch into contiguous shares of about equal atom counts, sends one share to
each worker, evaluates the first share itself meanwhile, and puts the results
back in order. Each process evaluates its share exactly as the serial server
would (the model's own chunking), so the average equals the serial one to the
model's float precision. Workers speak :mod:`~symbreak.server.worker_protocol`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Sequence

import numpy as np

from ..core.errors import DeadlineError, InputError, ProcessError
from ..core.structure import Evaluation, Structure
from ..potentials.base import Potential
from ..symmetry.strategies import evaluate_chunked
from .protocol import connect_tcp, connect_unix
from .worker_protocol import WorkerError, recv_hello, recv_results, send_quit, send_structures

#: seconds a worker may take to load its model and answer (a large model on a busy machine is slow to load)
WORKER_START_TIMEOUT = 300.0


def share_bounds(atoms: Sequence[int], shares: int) -> list[tuple[int, int]]:
    """Usage: share_bounds([3] * 37, 2) -> [(0, 19), (19, 37)]: contiguous index ranges of about equal atoms.

    At most ``shares`` ranges, none empty; fewer when there are fewer structures.
    """
    n = len(atoms)
    shares = max(1, min(shares, n))
    cumulative = np.cumsum(atoms)
    total = cumulative[-1] if n else 0
    cuts = [0]
    for k in range(1, shares):
        cut = int(np.searchsorted(cumulative, total * k / shares, side="left")) + 1
        cuts.append(min(max(cut, cuts[-1] + 1), n - (shares - k)))
    cuts.append(n)
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


class WorkerConnection:
    """One connected worker (and, for a local one, its process)."""

    def __init__(self, sock: socket.socket, name: str, spec: str, process: subprocess.Popen | None = None):
        self.sock = sock
        self.name = name
        self.spec = spec
        self.process = process
        self.pending: Sequence[Structure] | None = None

    def submit(self, structures: Sequence[Structure]) -> None:
        try:
            send_structures(self.sock, structures)
        except OSError as err:
            raise WorkerError(f"worker {self.name} cannot be reached ({err}): did it stop?") from None
        self.pending = structures

    def collect(self) -> Evaluation:
        structures, self.pending = self.pending, None
        try:
            return recv_results(self.sock, structures)
        except WorkerError as err:
            raise WorkerError(f"worker {self.name}: {err}") from None

    def close(self, grace: float = 10.0) -> None:
        try:
            send_quit(self.sock)
        except OSError:
            pass
        self.sock.close()
        if self.process is not None:
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def greet(sock: socket.socket, name: str, expected_spec: str | None, timeout: float) -> str:
    """The potential spec a just-connected worker greets with; InputError if it is not ``expected_spec``."""
    sock.settimeout(timeout)
    try:
        spec = recv_hello(sock)
    except (socket.timeout, TimeoutError):
        raise DeadlineError(f"worker {name} sent no greeting within {timeout:g} s: is it a `symbreak worker`?") from None
    except WorkerError as err:
        raise WorkerError(f"worker {name}: {err}") from None
    sock.settimeout(None)
    if expected_spec is not None and spec != expected_spec:
        raise InputError(f"worker {name} serves the potential '{spec}', this server '{expected_spec}': "
                         "start it with the same --potential")
    return spec


def connect_worker(address: str, expected_spec: str | None, timeout: float = 60.0) -> WorkerConnection:
    """Usage: connect_worker("node2:40000", "default") or connect_worker("unix:/tmp/w0", ...) -> WorkerConnection.

    Waits up to ``timeout`` s for the worker to listen and greet; InputError if it
    serves another potential than ``expected_spec`` (None: any).
    """
    hint = "start `symbreak worker` there first, or check --remote-workers"
    if address.startswith("unix:"):
        sock = connect_unix(address[5:], timeout=timeout, peer="symbreak worker", hint=hint)
    else:
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise InputError(f"worker address '{address}' is not HOST:PORT or unix:PATH")
        sock = connect_tcp(host, int(port), timeout=timeout, peer="symbreak worker", hint=hint)
    spec = greet(sock, address, expected_spec, timeout)
    return WorkerConnection(sock, address, spec)


def worker_command(spec: str, path: str, threads: int | None, chunk_size: int | None = None) -> list[str]:
    """The command line of a local worker that listens on the UNIX socket ``path`` and serves one connection."""
    command = [sys.executable, "-m", "symbreak.cli", "worker", "--potential", spec, "--unix", path, "--once", "--quiet"]
    if threads:
        command += ["--threads", str(threads)]
    if chunk_size:
        command += ["--chunk-size", str(chunk_size)]
    return command


def spawn_local_workers(spec: str, count: int, threads: int | None = 1, chunk_size: int | None = None,
                        timeout: float = WORKER_START_TIMEOUT) -> list[WorkerConnection]:
    """Start ``count`` `symbreak worker` children on this machine and connect to each (stopped again on failure).

    They share this process's group, so whoever stops the server stops them;
    each exits when its connection closes.
    """
    started: list[tuple[str, subprocess.Popen]] = []
    connections: list[WorkerConnection] = []
    try:
        for k in range(count):
            path = os.path.join(tempfile.gettempdir(), f"symbreak-worker-{uuid.uuid4().hex[:12]}")
            started.append((path, subprocess.Popen(worker_command(spec, path, threads, chunk_size), stdin=subprocess.DEVNULL)))
        for k, (path, process) in enumerate(started):
            deadline = time.monotonic() + timeout
            while not os.path.exists(path):
                if process.poll() is not None:
                    raise ProcessError(f"local worker {k + 1} exited with code {process.returncode} before "
                                       "listening (its messages are above)")
                if time.monotonic() > deadline:
                    raise DeadlineError(f"local worker {k + 1} did not listen within {timeout:g} s")
                time.sleep(0.05)
            connection = connect_worker(f"unix:{path}", spec, timeout=timeout)
            connection.name, connection.process = f"local {k + 1}", process
            connections.append(connection)
    except BaseException:
        for connection in connections:
            connection.close(grace=2.0)
        for _, process in started:
            if process.poll() is None:
                process.kill()
                process.wait()
        raise
    return connections


class ParallelPotential(Potential):
    """``local`` and the workers share every batch: contiguous shares of about equal atom counts, in order."""

    chunk_size = None  # the whole batch of a call arrives at once; every process chunks its own share
    max_atoms_per_call = None

    def __init__(self, local: Potential, workers: list[WorkerConnection]):
        self.local = local
        self.workers = workers
        self.name = local.name
        self.species = local.species
        self.shares_sent = 0

    @property
    def processes(self) -> int:
        return 1 + len(self.workers)

    def describe(self) -> str:
        return f"{self.local.describe()} on {self.processes} processes"

    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        bounds = share_bounds([s.n_atoms for s in structures], self.processes)
        remote = list(zip(self.workers, bounds[1:]))
        submitted = []
        try:
            for worker, (a, b) in remote:
                worker.submit(structures[a:b])
                submitted.append(worker)
            a, b = bounds[0]
            parts = [evaluate_chunked(self.local, structures[a:b], self.local.chunk_size)]
        finally:
            # collect every submitted share, even when the local one failed: the connections stay in step
            results = []
            for worker in submitted:
                try:
                    results.append(worker.collect())
                except WorkerError as err:
                    results.append(err)
        for result in results:
            if isinstance(result, WorkerError):
                raise result
        self.shares_sent += len(submitted)
        return Evaluation.concatenate(parts + results)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()
        self.workers = []


__all__ = ["WORKER_START_TIMEOUT", "ParallelPotential", "WorkerConnection", "connect_worker", "greet", "share_bounds",
           "spawn_local_workers", "worker_command"]
