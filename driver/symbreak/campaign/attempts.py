"""One attempt of a run: start i-PI and its clients, follow it, stop everything, record it in the manifest.

    result = run_attempt(config, out, spec, fields, manifest, lock, "input.xml", from_step=0, resumed=False)

Each attempt gets new socket names (or free ports); the manifest's
``commands`` are the last attempt's, ``attempts`` lists every attempt (start,
end, outcome, first and last step, sockets). Every process is stopped when the
attempt ends, fails or is interrupted; a failing process is named with the last
lines of its log. Socket files a killed i-PI left behind are removed.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..ipi.inputs import SimulationSpec
from ..ipi.processes import ProcessFailed, ProcessGroup, executable, remove_stale_socket
from ..ipi.progress import Progress
from .config import RunConfig
from .forcefields import Forcefield, client_commands, spare_clients, unix_sockets
from .manifest import Attempt, Commands, Manifest, manifest_path, now, write_manifest
from .runlock import RunLock
from .watchdog import Stalled, Watchdog


@dataclass(frozen=True)
class RunResult:
    """Usage: run_case(config) -> RunResult(out, steps, seconds, resumed): where the run is, how long it took."""

    out: Path
    steps: int
    seconds: float
    resumed: bool = False


def say(text: str) -> None:
    """Usage: say("resuming ...") -> one line "symbreak run: ..." on stderr."""
    print(f"symbreak run: {text}", file=sys.stderr, flush=True)


def _progress_line(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def _outcome(err: BaseException) -> str:
    if isinstance(err, ProcessFailed):
        first = str(err).split("; last lines")[0].splitlines()[0]
        return ("stalled: " if isinstance(err, Stalled) else "failed: ") + first
    if isinstance(err, KeyboardInterrupt):
        return f"interrupted ({err or 'SIGINT'})"
    return "failed: the runner stopped on an error"


def run_attempt(config: RunConfig, out: Path, spec: SimulationSpec, fields: list[Forcefield], manifest: Manifest,
                lock: RunLock, ipi_input: str, from_step: int, resumed: bool) -> RunResult:
    """Usage: run_attempt(config, out, spec, fields, manifest, lock, "resume.xml", 300, True) -> RunResult.

    Starts i-PI on ``ipi_input`` and this attempt's clients, waits (the stall
    watchdog polling), records the attempt in the manifest and releases the
    lock; ProcessFailed (Stalled) or KeyboardInterrupt pass through, recorded.
    """
    clients = client_commands(fields, config.servers)
    spares = spare_clients(fields, config.servers)
    attempt = Attempt(started=now(), host=socket.gethostname(), runner_pid=os.getpid(), from_step=from_step,
                      sockets=tuple((f.name, f.socket) for f in fields))
    manifest = replace(manifest, commands=Commands((executable("i-pi"), ipi_input), clients)).with_attempt(attempt)
    write_manifest(out, manifest)
    total = manifest.steps
    progress = Progress(out / f"{spec.prefix}.out", total, spec.timestep_fs, None if config.quiet else _progress_line)
    start = time.monotonic()
    outcome = "failed: the runner stopped on an error"
    try:
        with ProcessGroup(out) as group:
            ipi = group.start("ipi", list(manifest.commands.ipi))
            lock.record_child("ipi", ipi.popen.pid)
            for client in clients:
                started = group.start(client.name, list(client.command), spare=client.name in spares)
                lock.record_child(client.name, started.popen.pid)
            watchdog = Watchdog(progress, group, config.stall_timeout)
            group.wait_for(ipi, on_poll=watchdog.check)
            progress.report(final=True)
            for note in group.wait_clients(ipi):
                _progress_line(f"note: {note}")
        outcome = "finished"
    except (ProcessFailed, KeyboardInterrupt) as err:
        outcome = _outcome(err)
        raise
    finally:
        seconds = time.monotonic() - start
        for path in unix_sockets(clients):
            remove_stale_socket(path)  # left by an i-PI that was killed
        progress.read()
        manifest = manifest.with_last_attempt(replace(attempt, ended=now(), outcome=outcome, last_step=progress.step))
        manifest = replace(manifest, wall_seconds=round(seconds + manifest.wall_seconds, 2))
        if outcome == "finished":
            # ms_per_step: the steady state, start-up excluded
            speed = manifest.ms_per_step if progress.ms_per_step is None else round(progress.ms_per_step, 3)
            manifest = replace(manifest, finished=now(), ms_per_step=speed)
        try:
            write_manifest(out, manifest)
        except OSError as err:  # e.g. a full disk: say so, and let the run's own error through
            say(f"could not record this attempt in {manifest_path(out)}: {err.strerror}")
            if outcome == "finished":
                raise
        finally:
            lock.release()
    return RunResult(out, total, seconds, resumed)


__all__ = ["RunResult", "run_attempt", "say"]
