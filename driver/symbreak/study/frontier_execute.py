"""Running a frontier: every entry's run (reused when finished, resumed when interrupted), analysed and judged.

    frontier = measure_frontier("gas", Path("frontier"), "default", duration_fs=500, seed=7, log=print)
    frontier.recommended.label

Each run goes through :func:`symbreak.study.execute.execute`, like the study's
own, so a frontier inside `symbreak study` and one from `symbreak frontier`
share folders, reuse and resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..campaign.manifest import read_manifest
from .execute import execute
from .frontier import Frontier, FrontierSystem, assess_runs, frontier_entries, frontier_runs


def measure_frontier(system: FrontierSystem, out: Path, potential: str, duration_fs: float, seed: int,
                     size: int | None = None, log: Callable[[str], None] = lambda text: None) -> Frontier:
    """Run (or reuse) every entry of ``system`` into ``out``, analyse each, and judge them together."""
    from ..analysis.pipeline import analyze_one

    runs = frontier_runs(system, duration_fs, seed, size)
    analyses = {}
    for k, (entry, run) in enumerate(zip(frontier_entries(system), runs)):
        log(f"frontier {system} [{k + 1}/{len(runs)}] {entry.label}: {run.case}, {run.steps} steps -> {out / run.name}")
        folder = execute(run, potential, out, log)
        analysis, _ = analyze_one(folder, figures=False)
        analyses[run.name] = (analysis, read_manifest(folder).timestep_fs)
    return assess_runs(system, analyses)


__all__ = ["measure_frontier"]
