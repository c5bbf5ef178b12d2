"""Start and always stop the processes of a simulation (i-PI, servers, LAMMPS).

    with ProcessGroup(workdir) as group:
        ipi = group.start("i-pi", ["i-pi", "input.xml"])
        group.start("server", ["symbreak", "serve", ...])
        group.wait_for(ipi, timeout=600)
    # every process is gone here, whatever happened

Each process runs in its own session, so stopping it stops its children too;
its output goes to ``NAME.log`` in the working directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def unique_socket_name(prefix: str = "symbreak") -> str:
    """A UNIX socket name (i-PI address) unlikely to collide with another run."""
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass
class Managed:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


class ProcessFailed(RuntimeError):
    """A managed process exited with an error or did not finish in time."""


class ProcessGroup:
    """Processes that are stopped together when the block ends."""

    def __init__(self, workdir: str | os.PathLike, env: dict | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ if env is None else env)
        self.processes: list[Managed] = []

    def start(self, name: str, command: list[str], env: dict | None = None) -> Managed:
        log_path = self.workdir / f"{name}.log"
        log = open(log_path, "ab")
        popen = subprocess.Popen(
            command,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**self.env, **(env or {})},
            start_new_session=True,
        )
        log.close()
        managed = Managed(name, popen, log_path)
        self.processes.append(managed)
        return managed

    def first_failure(self) -> Managed | None:
        """A process that has exited with a non-zero code, if any."""
        for p in self.processes:
            code = p.popen.poll()
            if code not in (None, 0):
                return p
        return None

    def wait_for(self, main: Managed, timeout: float | None = None, poll: float = 0.2, on_poll=None) -> int:
        """Wait for ``main`` to finish; raise ProcessFailed if any process fails first or time runs out.

        ``on_poll()``, if given, is called at every poll (e.g. to print progress).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while main.popen.poll() is None:
            if on_poll is not None:
                on_poll()
            failed = self.first_failure()
            if failed is not None:
                raise ProcessFailed(
                    f"{failed.name} exited with code {failed.popen.returncode}; last lines of {failed.log_path}:\n{failed.tail()}"
                )
            if deadline is not None and time.monotonic() > deadline:
                raise ProcessFailed(f"{main.name} did not finish within {timeout:g} s; see {main.log_path}")
            time.sleep(poll)
        code = main.popen.returncode
        if code != 0:
            raise ProcessFailed(f"{main.name} exited with code {code}; last lines of {main.log_path}:\n{main.tail()}")
        return code

    def wait_clients(self, main: Managed, timeout: float = 60.0) -> None:
        """After ``main`` ended: every other process must exit by itself with code 0 (ProcessFailed otherwise)."""
        for client in self.processes:
            if client is main:
                continue
            try:
                code = client.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                raise ProcessFailed(f"{client.name} did not exit after {main.name} finished; see {client.log_path}") from None
            if code != 0:
                raise ProcessFailed(f"{client.name} exited with code {code}:\n{client.tail()}")

    def stop_all(self, grace: float = 5.0) -> None:
        """SIGTERM every process group still running, then SIGKILL after ``grace`` seconds."""
        alive = [p for p in self.processes if p.popen.poll() is None]
        for p in alive:
            _signal_group(p.popen, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in alive:
            try:
                p.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(p.popen, signal.SIGKILL)
                p.popen.wait()
        for p in self.processes:  # children left behind by a finished leader
            _signal_group(p.popen, signal.SIGKILL)

    def __enter__(self) -> "ProcessGroup":
        # SIGTERM (a scheduler, `kill`) must stop the children too: turn it into an exception
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
        if getattr(self, "_previous", None) is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _signal_group(popen: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def executable(name: str) -> str:
    """Path of a console script installed beside this Python (i-pi, symbreak, ...)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name
