"""Running a frontier: every entry's run (reused when finished, resumed when interrupted), analysed and judged.

    frontier = measure_frontier("gas", Path("frontier"), "default", duration_fs=500, seed=7, log=print)
    frontier.recommended.label
    frontiers = frontiers_of(Path("study"), {name: analysis, ...})   # the study's frontier runs, every system

Each run goes through :func:`symbreak.study.execute.execute`, like the study's
own, so a frontier inside `symbreak study` and one from `symbreak frontier`
share folders, reuse and resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..analysis.results import RunAnalysis
from ..campaign.manifest import read_manifest
from .execute import execute
from .frontier import SYSTEMS, Frontier, FrontierSystem, assess_runs, frontier_entries, frontier_runs


def _with_timesteps(out: Path, analyses: dict[str, RunAnalysis]) -> dict[str, tuple[RunAnalysis, float]]:
    """Each run's analysis with its (outer) time step, read from the manifest in ``out/NAME``."""
    return {name: (analysis, read_manifest(out / name).timestep_fs) for name, analysis in analyses.items()}


def measure_frontier(system: FrontierSystem, out: Path, potential: str, duration_fs: float, seed: int,
                     size: int | None = None, log: Callable[[str], None] = lambda text: None) -> Frontier:
    """Run (or reuse) every entry of ``system`` into ``out``, analyse each, and judge them together."""
    from ..analysis.pipeline import analyze_one

    runs = frontier_runs(system, duration_fs, seed, size)
    analyses = {}
    for k, (entry, run) in enumerate(zip(frontier_entries(system), runs)):
        log(f"frontier {system} [{k + 1}/{len(runs)}] {entry.label}: {run.case}, {run.steps} steps -> {out / run.name}")
        folder = execute(run, potential, out, log)
        analyses[run.name], _ = analyze_one(folder, figures=False)
    return assess_runs(system, _with_timesteps(out, analyses))


def frontiers_of(out: Path, analyses: dict[str, RunAnalysis]) -> tuple[Frontier, ...]:
    """The frontier of every system with runs among ``analyses`` (run name -> analysis; folders in ``out``)."""
    timed = _with_timesteps(out, analyses)
    return tuple(f for f in (assess_runs(system, timed) for system in SYSTEMS) if f is not None)


__all__ = ["frontiers_of", "measure_frontier"]
