"""Running a study's runs: each into its own folder, reusing a finished one and resuming an interrupted one.

    folder = execute(run, "default", Path("study"), log)     # Path of the run folder
    outcome = reuse_outcome(read_manifest(folder), run, "default", folder)   # "run", "reuse", "resume"; InputError

A folder holding a run of another potential or strategy is refused (one line:
use another --out). Manifests are read only through
:func:`symbreak.campaign.manifest.read_manifest`.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Callable, Literal

from ..campaign.manifest import Manifest, read_manifest
from ..core.errors import InputError
from .plan import StudyRun

Outcome = Literal["run", "reuse", "resume"]


def reuse_outcome(manifest: Manifest | None, run: StudyRun, potential: str, folder: Path | str = "") -> Outcome:
    """``reuse_outcome(manifest, run, potential, folder)``: what to do with a folder's earlier run ("run" if none)."""
    if manifest is None:
        return "run"
    config = manifest.config
    if (config.potential, config.strategy) != (potential, run.strategy):
        raise InputError(f"{folder or run.name} holds a run of potential {config.potential}, strategy "
                         f"{config.strategy}, not {potential}, {run.strategy}: use another --out")
    return "reuse" if manifest.finished else "resume"


def _replay_file(run: StudyRun, folder: Path) -> str:
    """The first N frames of the liquid trajectory (the replay re-evaluates them all)."""
    from ..structures.io import read_structures, write_ipi_xyz

    frames = read_structures(run.trajectory)[: (run.frames or 0) + 1]
    path = folder.parent / f"{folder.name}-frames.xyz"
    write_ipi_xyz(str(path), frames)
    return str(path)


def execute(run: StudyRun, potential: str, out: Path, log: Callable[[str], None] = lambda text: None) -> Path:
    """Run ``run`` into ``out/run.name`` unless a finished run with the same potential and strategy is there."""
    from ..campaign.cases import get_case
    from ..campaign.parallelism import auto_workers
    from ..campaign.runner import RunConfig, run_case
    from ..ipi.resume import latest_checkpoint

    folder = out / run.name
    potential = run.potential or potential
    manifest = read_manifest(folder) if folder.is_dir() else None
    outcome = reuse_outcome(manifest, run, potential, folder)
    if outcome == "reuse":
        asked = [f"{mine} {what}, this study asks {theirs}" for what, mine, theirs in (
            ("steps", manifest.steps, run.steps), ("beads", manifest.beads, run.beads))
            if theirs is not None and mine != theirs and run.case != "replay"]
        log(f"{run.name}: reusing the finished run" + (f" ({'; '.join(asked)})" if asked else ""))
        return folder
    if outcome == "resume" and latest_checkpoint(folder) is None:
        shutil.rmtree(folder)  # interrupted before its first checkpoint: start again
    elif outcome == "run" and folder.exists():
        shutil.rmtree(folder)
    trajectory = _replay_file(run, folder) if run.case == "replay" else None
    init = str(out / run.init_from / "simulation.positions_0.xyz") if run.init_from else None
    config = RunConfig(case=run.case, out=str(folder), strategy=run.strategy, potential=potential, steps=run.steps,
                       beads=run.beads, size=run.size, seed=run.seed if run.seed is not None else 31415, trajectory=trajectory,
                       init_structure=init, mts_ratio=run.mts_ratio, stride=run.stride, reference=run.record_reference)
    workers = run.workers or auto_workers(config, get_case(run.case))  # parallel averaging where it pays
    config = replace(config, workers=workers)
    run_case(config)
    return folder


__all__ = ["Outcome", "execute", "reuse_outcome"]
