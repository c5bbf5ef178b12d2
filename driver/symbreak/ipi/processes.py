"""Start and always stop the processes of a simulation (i-PI, servers, LAMMPS).

    with ProcessGroup(workdir) as group:
        ipi = group.start("i-pi", ["i-pi", "input.xml"])
        group.start("server", ["symbreak", "serve", ...])
        group.wait_for(ipi, timeout=600)
    # every process is gone here, whatever happened

Each process runs in its own session, so stopping it stops its children too;
its output goes to ``NAME.log`` in the working directory. Stopping sends
SIGCONT with SIGTERM (a SIGSTOPped process can then die), SIGKILL after a grace.

Also here: what Linux says about a process (``process_state``, ``process_identity``:
/proc/PID/stat and cmdline, to recognise a process again by PID, start time and
command), stopping a process group that is not our child (``stop_process_group``),
and UNIX socket files that no process has bound any more (``stale_unix_socket``).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import InputError, ProcessError


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (on ``host``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def check_bindable(host: str) -> None:
    """ValueError (one line) unless a TCP server could listen on ``host`` (an address of this machine)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        raise InputError(f"cannot listen on {host}: unknown host name ({err.strerror})") from None
    family, _, _, _, address = infos[0]
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((address[0], 0))
    except OSError as err:
        why = "not an address of this machine" if err.errno == errno.EADDRNOTAVAIL else err.strerror
        raise InputError(f"cannot listen on {host}: {why}") from None


#: i-PI's default prefix of UNIX socket paths
SOCKETS_PREFIX = "/tmp/ipi_"


def _bound_unix_paths() -> set[str] | None:
    """Paths of the UNIX sockets some process has bound (Linux /proc/net/unix), None if unknown."""
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return None
    return {parts[7] for parts in (line.split(None, 7) for line in lines) if len(parts) == 8}


def stale_unix_socket(path: str | os.PathLike) -> bool:
    """True if ``path`` is a UNIX socket file that no live process has bound (left by a killed i-PI)."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    bound = _bound_unix_paths()
    return bound is not None and os.fspath(path) not in bound


def remove_stale_socket(path: str | os.PathLike) -> bool:
    """Remove ``path`` if it is a stale UNIX socket file (see stale_unix_socket); True if removed."""
    if not stale_unix_socket(path):
        return False
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/PID/stat from field 3 (the state) on; None if there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_state(pid: int) -> str | None:
    """The state letter of ``pid`` (R running, S sleeping, D disk, T stopped, Z zombie, ...); None if gone."""
    fields = _stat_fields(pid)
    return fields[0] if fields else None


STATE_WORDS = {"R": "running", "S": "waiting", "D": "in disk wait", "T": "stopped", "t": "stopped by a tracer",
               "Z": "exited (zombie)", "X": "dead", "I": "idle"}


def describe_state(pid: int) -> str:
    """'running (state R)', 'stopped (state T)', 'gone' for a process."""
    letter = process_state(pid)
    if letter is None:
        return "gone"
    return f"{STATE_WORDS.get(letter, 'state')} (state {letter})"


def process_identity(pid: int) -> dict | None:
    """What recognises ``pid`` later: its command line, start time (clock ticks after boot) and process group."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return {"pid": pid, "cmdline": [a.decode(errors="replace") for a in cmdline if a], "start_time": int(fields[19]),
            "pgid": int(fields[2])}


def is_alive_as(identity: dict) -> bool:
    """True if the process recorded as ``identity`` still runs (same PID, start time and command; not a zombie)."""
    now = process_identity(identity["pid"])
    return (now is not None and now["start_time"] == identity.get("start_time")
            and (now["cmdline"] == identity.get("cmdline") or not identity.get("cmdline"))
            and process_state(identity["pid"]) not in ("Z", "X"))


def stop_process_group(identity: dict, grace: float = 10.0) -> None:
    """Stop a process recorded by process_identity (not our child) and its group: SIGCONT+SIGTERM, then SIGKILL.

    Does nothing unless the PID still is that process (is_alive_as).
    """
    if not is_alive_as(identity):
        return
    pid = identity["pid"]
    group = identity.get("pgid") == pid  # a session leader started by ProcessGroup: stop its whole group

    def send(sig):
        try:
            os.killpg(pid, sig) if group else os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    send(signal.SIGCONT)
    send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and is_alive_as(identity):
        time.sleep(0.05)
    if is_alive_as(identity):
        send(signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and is_alive_as(identity):
            time.sleep(0.05)


def unique_socket_name(prefix: str = "symbreak") -> str:
    """A UNIX socket name (i-PI address) unlikely to collide with another run."""
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass
class Managed:
    """One started process; ``spare``: a client sharing its socket with others, so i-PI can finish without it."""

    name: str
    popen: subprocess.Popen
    log_path: Path
    spare: bool = False

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])


class ProcessFailed(ProcessError):
    """A managed process exited with an error or did not finish in time."""


class ProcessGroup:
    """Processes that are stopped together when the block ends."""

    def __init__(self, workdir: str | os.PathLike, env: dict | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ if env is None else env)
        self.processes: list[Managed] = []

    def start(self, name: str, command: list[str], env: dict | None = None, spare: bool = False) -> Managed:
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
        managed = Managed(name, popen, log_path, spare)
        self.processes.append(managed)
        return managed

    def first_failure(self) -> Managed | None:
        """A process that has exited with a non-zero code, if any."""
        for p in self.processes:
            code = p.popen.poll()
            if code not in (None, 0):
                return p
        return None

    def wait_for(self, main: Managed, timeout: float | None = None, poll: float = 0.2, on_poll=None,
                 spare_grace: float = 5.0) -> int:
        """Wait for ``main`` to finish; raise ProcessFailed if any process fails first or time runs out.

        ``on_poll()``, if given, is called at every poll (e.g. to print progress).
        A spare that fails counts only if ``main`` is still running ``spare_grace``
        s later: a spare that came too late fails the moment i-PI closes its
        sockets, while i-PI itself is still finishing.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        spare_failed_at = None
        while main.popen.poll() is None:
            if on_poll is not None:
                on_poll()
            failed = self.first_failure()
            if failed is not None and failed.spare:
                spare_failed_at = spare_failed_at or time.monotonic()
                if time.monotonic() - spare_failed_at < spare_grace:
                    failed = None
            if failed is not None:
                raise ProcessFailed(
                    f"{failed.name} {exit_text(failed.popen.returncode)}; last lines of {failed.log_path}:\n{failed.tail()}"
                )
            if deadline is not None and time.monotonic() > deadline:
                raise ProcessFailed(f"{main.name} did not finish within {timeout:g} s; see {main.log_path}")
            time.sleep(poll)
        code = main.popen.returncode
        if code != 0:
            raise ProcessFailed(f"{main.name} {exit_text(code)}; last lines of {main.log_path}:\n{main.tail()}")
        return code

    def wait_clients(self, main: Managed, timeout: float = 60.0, spare_grace: float = 5.0) -> list[str]:
        """After ``main`` ended: every other process must exit by itself with code 0 (ProcessFailed otherwise).

        A spare client (one of several on a socket) may have come too late: i-PI
        finished before accepting it, so it ends with a reset connection or waits
        for a socket that is gone. Such a spare gets ``spare_grace`` s (then
        :meth:`stop_all` stops it on leaving the group), and what happened to it
        is returned as a note, not raised: the simulation is complete without it.
        """
        notes = []
        for client in self.processes:
            if client is main:
                continue
            try:
                code = client.popen.wait(timeout=spare_grace if client.spare else timeout)
            except subprocess.TimeoutExpired:
                if not client.spare:
                    raise ProcessFailed(f"{client.name} did not exit after {main.name} finished; see {client.log_path}") from None
                notes.append(f"{client.name} (a spare client) was still waiting when {main.name} finished: stopped")
                continue
            if code != 0:
                if not client.spare:
                    raise ProcessFailed(f"{client.name} {exit_text(code)}:\n{client.tail()}")
                notes.append(f"{client.name} (a spare client) {exit_text(code)} after {main.name} finished; see {client.log_path}")
        return notes

    def states(self) -> str:
        """'ipi waiting (state S), model0 stopped (state T)': what each process is doing now."""
        parts = []
        for p in self.processes:
            code = p.popen.poll()
            parts.append(f"{p.name} " + (describe_state(p.popen.pid) if code is None else exit_text(code)))
        return ", ".join(parts)

    def stop_all(self, grace: float = 10.0) -> None:
        """Stop the first process started (the engine, i-PI), then the rest: SIGCONT + SIGTERM, SIGKILL after ``grace``.

        SIGCONT first, so that a SIGSTOPped process can act on SIGTERM. The engine goes
        first and alone, while its clients still answer: i-PI then finishes the outputs
        of its current step and writes its checkpoint. Stopping everything at once lost
        a properties row when a weight-0 client (the reference) died while i-PI was
        writing a step that was also a checkpoint step (found by scripts/soak.py).
        """
        alive = [p for p in self.processes if p.popen.poll() is None]
        for p in alive:
            _signal_group(p.popen, signal.SIGCONT)
        deadline = time.monotonic() + grace
        for batch in (alive[:1], alive[1:]):
            for p in batch:
                _signal_group(p.popen, signal.SIGTERM)
            for p in batch:
                try:
                    p.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    _signal_group(p.popen, signal.SIGKILL)
                    p.popen.wait()
            deadline = time.monotonic() + grace
        for p in self.processes:  # children left behind by a finished leader
            _signal_group(p.popen, signal.SIGKILL)

    def __enter__(self) -> "ProcessGroup":
        # SIGTERM (a scheduler, `kill`) and SIGHUP (a closed terminal) must stop the children too
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._previous[sig] = signal.signal(sig, _raise_interrupt)
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()
        for sig, previous in self._previous.items():
            if previous is not None:
                signal.signal(sig, previous)


def exit_text(code: int) -> str:
    """'exited with code 2', or 'was killed by SIGKILL (code -9)' for a process ended by a signal."""
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name} (code {code})"
        except ValueError:
            pass
    return f"exited with code {code}"


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
