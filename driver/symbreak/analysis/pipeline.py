"""Analyse run folders and compare groups of them: what `symbreak analyze` and the study do with runs.

    result, figures = analyze_one("runs/gas-plain")                  # RunAnalysis; analysis.json (+ PNGs) in the run folder
    comparisons, figures = compare_groups([r1, r2, r3], "runs/compare")   # Comparisons; comparison.json for >= 2 runs
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import InputError
from .compare import compare_runs, group_runs
from .figures import comparison_figures, run_figures
from .results import Comparison, RunAnalysis, write_json
from .run_analysis import analyze_run


def analyze_one(run_dir, out_dir=None, figures: bool = True, reference: bool = True) -> tuple[RunAnalysis, list[Path]]:
    """Analyse one run folder; write analysis.json (and figures) into ``out_dir`` (default: the run folder)."""
    result = analyze_run(run_dir, reference=reference)
    out_dir = Path(out_dir or run_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / "analysis.json", result)
        paths = run_figures(result, out_dir) if figures else []
    except OSError as err:  # a file where the folder should be, no permission, disk full
        raise InputError(f"cannot write the analysis into {out_dir}: {err.strerror or err}") from None
    return result, paths


def compare_groups(results: list[RunAnalysis], out_dir, figures: bool = True) -> tuple[list[Comparison], list[Path]]:
    """Verdicts and overlaid curves for every group of >= 2 comparable runs; comparison.json in ``out_dir``."""
    out_dir = Path(out_dir)
    comparisons, paths = [], []
    for group, members in group_runs(results).items():
        if len(members) < 2:
            continue
        comparisons.append(compare_runs(members, group=group))
        if figures:
            paths += comparison_figures(members, out_dir)
    if comparisons:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_json(out_dir / "comparison.json", comparisons)
        except OSError as err:
            raise InputError(f"cannot write the comparison into {out_dir}: {err.strerror or err}") from None
    return comparisons, paths


__all__ = ["analyze_one", "compare_groups", "write_json"]
