"""Run a named case: fill the i-PI input, start i-PI, the model servers and the reference, show progress.

    result = run_case(RunConfig(case="gas-nve", strategy="2i", steps=200, out="runs/gas-2i"))
    result.out / "simulation.out"      # i-PI's own outputs, next to manifest.json
    spec, fields, manifest = prepare(config)   # what the run will be, nothing started

The pieces, one concept a module:
  campaign.config       RunConfig: the options of `symbreak run`
  campaign.cases        the named cases and their MD settings (ipi.md_settings.MDSettings)
  campaign.preflight    checks of the options, the input files and --out, before the folder is made
  campaign.forcefields  the forcefields of a run, their sockets and client command lines
  campaign.preparation  the i-PI input (with a header that describes it) and the manifest
  campaign.manifest     manifest.json, typed (Manifest, Attempt, ...)
  campaign.attempts     one attempt: start, follow (ipi.progress), record
  campaign.watchdog     the stall watchdog (Stalled)
  campaign.options      the options that define a run, and a re-run's differences
  campaign.resuming     re-runs into a run's folder: resume, refuse, or --force-new
  campaign.runlock      the folder's lock and the processes an earlier runner left

Every option and input file is checked before the run folder is made, and a
folder this attempt made is removed again if writing its inputs fails; a bad
input is one InputError (a ValueError) line. A file-system error (a full disk,
a read-only folder) is one line naming the file; re-running the same command
resumes once it is fixed.
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import replace
from pathlib import Path

from ..core.errors import InputError
from ..ipi.processes import check_bindable
from .attempts import RunResult, run_attempt
from .cases import MTS_RATIO
from .config import DEFINING, REPLAY_STRATEGIES, RunConfig
from .manifest import manifest_path, now, options_record, write_manifest
from .options import defining_options, option_differences
from .preflight import check_out, input_structures, make_folder
from .preparation import prepare, write_inputs
from .resuming import continue_run
from .runlock import RunLock

#: errors of the file system that stop a run (reported as one line; the run resumes once they are fixed)
FILE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOTDIR,
               errno.EISDIR}


def run_case(config: RunConfig) -> RunResult:
    """Usage: run_case(RunConfig(case="gas-nve", out="runs/x")) -> RunResult: run ``config`` to completion, or resume it.

    Raises InputError (one line) for a bad option or input, a busy folder, or a
    re-run with other options; ProcessFailed naming the process on any failure
    (Stalled when the run stops making progress).
    """
    out = Path(config.out)
    check_out(out)
    try:
        if out.is_dir() and any(out.iterdir()):
            result = continue_run(config, out)
            if result is not None:
                return result
        return start_fresh(config, out)
    except OSError as err:  # a full disk, a read-only or vanished folder: one line naming the file
        if err.errno not in FILE_ERRORS:
            raise
        where = f": {err.filename}" if err.filename else ""
        raise InputError(f"{err.strerror}{where} (fix it and re-run the same command to resume)") from None


def start_fresh(config: RunConfig, out: Path) -> RunResult:
    """Usage: start_fresh(config, out) -> RunResult of a new run in ``out`` (absent or empty)."""
    spec, fields, manifest = prepare(config)
    structures = input_structures(config)
    if config.transport == "inet":
        check_bindable(config.host)
    created = make_folder(out)
    lock = RunLock(out)
    try:
        lock.acquire()
    except ValueError:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    written = [out / name for name in ("input.xml", spec.init_file, "replay.xyz", manifest_path(out).name)]
    try:
        lock.claim()
        spec = write_inputs(config, spec, fields, out, structures)
        manifest = replace(manifest, steps=spec.steps, started=now(), options=options_record(defining_options(config)))
        write_manifest(out, manifest)
    except BaseException:
        lock.release()
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        else:  # the folder was there, empty: remove what this attempt wrote
            for path in written:
                path.unlink(missing_ok=True)
        raise
    return run_attempt(config, out, spec, fields, manifest, lock, "input.xml", 0, resumed=False)



__all__ = ["DEFINING", "MTS_RATIO", "REPLAY_STRATEGIES", "RunConfig", "RunResult",
           "defining_options", "option_differences", "prepare", "run_case", "start_fresh"]
