"""Re-running into the folder of a run: resume it, refuse, or move it aside (--force-new).

    result = continue_run(config, out)     # RunResult, or None once the old run was moved aside (start afresh)

Re-running the same command into the folder of an interrupted run (i-PI, a
server, the reference or the runner killed by any signal, a stall, a full disk
once there is space again) resumes it:
  * the lock: ``OUT/symbreak.lock`` is flock'ed by the runner for its lifetime
    (the kernel drops it when the runner dies) and names its PID, host, start
    time and children. A second runner refuses with one line while the first is
    alive. If the first was killed but its i-PI or servers, which run in their
    own sessions, still run, the new runner *stops them* (i-PI first, so it
    writes its checkpoint) and then resumes: outputs are never truncated under a
    live i-PI. A lock left with children by a runner on another host is not
    second-guessed: the re-run refuses and names them.
  * the options: the options that define the run (campaign.options) must be the
    manifest's, or the re-run refuses and lists the differences; a finished run
    is refused too. ``force_new`` (--force-new) moves the old folder aside to
    OUT.old-TIMESTAMP (nothing is deleted) and starts afresh.
  * the checkpoint: the complete checkpoint with the highest step (RESTART or
    simulation.restart; one cut short by a kill is skipped); every output is
    truncated to it (atomically, dropping partial last lines and frames), so each
    step is in every output exactly once and the dynamics continues from i-PI's
    own state. A run stopped before its first checkpoint starts again from step 0.
  * the sockets: each attempt gets new socket names (or free ports), written into
    its copy of the checkpoint (resume.xml). Socket files a killed i-PI left
    behind are removed once no process has them bound, and only the run's own.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import replace
from pathlib import Path

from ..core.errors import InputError
from ..ipi.processes import check_bindable, remove_stale_socket, stop_process_group
from ..ipi.resume import (
    checkpoint_step,
    latest_checkpoint,
    prune_checkpoint_backups,
    truncate_outputs,
    with_socket_addresses,
)
from .attempts import RunResult, run_attempt, say
from .config import RunConfig
from .forcefields import unix_sockets
from .manifest import Attempt, Manifest, manifest_path, now, options_record, read_manifest, write_manifest
from .options import defining_options, option_differences
from .preparation import prepare
from .runlock import RunLock, find_orphans


def _read_old(out: Path) -> Manifest:
    try:
        manifest = read_manifest(out)
    except InputError as err:
        raise InputError(f"{err}: not resumable; choose another --out") from None
    if manifest is None:
        raise InputError(f"output folder {out} exists, is not empty and holds no symbreak run: choose another --out")
    return manifest.with_attempts_closed()  # an attempt without an end: its runner was killed before it could say


def _check_rerun(config: RunConfig, out: Path, old: Manifest) -> None:
    """InputError unless ``config`` may continue the run ``old`` (or force_new moves it aside)."""
    if config.force_new:
        return
    differences = option_differences(old, config)
    if differences:
        raise InputError(
            f"{out} holds a run with other options ({'; '.join(differences)}): re-run with its options to "
            f"resume it, or add --force-new to move it aside (to {out.name}.old-TIMESTAMP) and start afresh")
    if old.finished:
        raise InputError(f"{out} holds a finished run ({old.case}, {old.config.strategy}): choose "
                         "another --out, or add --force-new to move it aside and start afresh")


def _stop_leftovers(out: Path, previous: dict, lock: RunLock) -> None:
    """Stop what an earlier (killed) runner of ``out`` left running; refuse for another host's runner."""
    here = socket.gethostname()
    if previous.get("host") not in (None, here) and previous.get("children"):
        children = ", ".join(f"{n} (PID {c.get('pid')})" for n, c in previous["children"].items())
        raise InputError(f"{out} was last run on host {previous['host']} by runner PID {previous.get('pid')} with "
                         f"{children}: they cannot be checked from {here}; make sure they are gone, then delete "
                         f"{lock.path} and re-run")
    orphans = find_orphans(previous, out)
    if orphans:
        say(f"stopping what an earlier runner of {out} left running: "
            + ", ".join(f"{name} (PID {identity['pid']})" for name, identity in orphans))
        for _, identity in sorted(orphans, key=lambda o: o[0] != "ipi"):  # i-PI first: it writes its checkpoint
            stop_process_group(identity)


def _move_aside(out: Path, lock: RunLock) -> Path:
    aside = out.with_name(f"{out.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
    k = 1
    while aside.exists():
        aside, k = out.with_name(f"{out.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{k}"), k + 1
    out.rename(aside)
    lock.moved_to(aside)
    return aside


def continue_run(config: RunConfig, out: Path) -> RunResult | None:
    """Usage: continue_run(config, out) -> RunResult of the resumed run; None when force_new moved it aside.

    InputError (one line) when another runner holds the folder, the folder
    holds no run, or the re-run may not continue it.
    """
    if not manifest_path(out).exists():
        raise InputError(f"output folder {out} exists, is not empty and holds no symbreak run: choose another --out")
    lock = RunLock(out)
    previous = lock.acquire()  # RunBusy while another runner is alive
    try:
        old = _read_old(out)
        _check_rerun(config, out, old)
        _stop_leftovers(out, previous, lock)
        lock.claim()
        for path in unix_sockets(old.commands.clients):
            remove_stale_socket(path)
        if config.force_new:
            aside = _move_aside(out, lock)
            lock.release()
            say(f"moved the earlier run aside to {aside}")
            return None
        return _resume(config, out, old, lock)
    except BaseException:
        lock.release()
        raise


def _resume(config: RunConfig, out: Path, manifest: Manifest, lock: RunLock) -> RunResult:
    spec, fields, _ = prepare(config)  # new socket addresses for this attempt
    if config.transport == "inet":
        check_bindable(config.host)
    addresses = {f.name: (f.address, f.port) for f in fields}
    prune_checkpoint_backups(out)  # one backup per checkpoint and resume would pile up otherwise
    checkpoint = latest_checkpoint(out)
    if checkpoint is None:
        # stopped before its first checkpoint: start again from step 0 (the outputs so far are this run's own)
        for path in out.glob(f"{spec.prefix}.*"):
            if path.is_file():
                path.unlink()
        text, step = (out / "input.xml").read_text(), 0
        say(f"{out} stopped before its first checkpoint: starting it again from step 0")
    else:
        step = checkpoint_step(checkpoint)
        truncate_outputs(out, step, prefix=spec.prefix)
        text = checkpoint.read_text()
        if step >= manifest.steps:
            stamp = now()
            manifest = replace(manifest, finished=stamp).with_attempt(Attempt(
                started=stamp, ended=stamp, host=socket.gethostname(), runner_pid=os.getpid(), from_step=step,
                outcome="finished (i-PI had written its last step)"))
            write_manifest(out, manifest)
            lock.release()
            say(f"{out}: i-PI had finished all {manifest.steps} steps; marked the run finished")
            return RunResult(out, manifest.steps, 0.0, True)
        say(f"resuming {out} from {checkpoint.name} (step {step})")
    (out / "resume.xml").write_text(with_socket_addresses(text, addresses))
    manifest = replace(manifest, resumes=manifest.resumes + (now(),),
                       options=manifest.options if manifest.options is not None
                       else options_record(defining_options(config)))
    return run_attempt(config, out, spec, fields, manifest, lock, "resume.xml", step, resumed=True)


__all__ = ["continue_run"]
