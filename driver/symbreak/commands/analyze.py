"""`symbreak analyze`: observables of run folders, figures, and verdicts when several runs of a case are given.

    symbreak analyze runs/gas-plain                       # runs/gas-plain/analysis.json + gas.png
    symbreak analyze runs/liq-plain runs/liq-2i runs/liq-ref --out runs/compare
    #   each run: analysis.json + PNGs in its folder; the group: comparison.json, compare_*.png, report.html in --out

Any i-PI run folder works: what the run is comes from its i-PI input (input.xml, another
*.xml, or RESTART); a symbreak run's manifest.json adds the case, model and strategy.
Comparison outputs go to --out, or to the runs' common parent folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..analysis.findings import findings
from ..analysis.pipeline import analyze_one, compare_groups
from ..analysis.report import not_judged_line, run_sections, write_report
from ..core.errors import InputError


def add_arguments(parser) -> None:
    parser.add_argument("runs", nargs="+", help="i-PI run folders: written by `symbreak run` or by i-PI from any input")
    parser.add_argument("--out", default=None, help="folder for the outputs (default: each run's own folder; "
                        "comparisons: the runs' common parent)")
    parser.add_argument("--no-figures", action="store_true", help="numbers only (analysis.json)")
    parser.add_argument("--no-reference", action="store_true",
                        help="do not evaluate q-TIP4P/F (LAMMPS) on relaxed cells of ice-geop runs")


def run(args) -> int:
    runs = [Path(r) for r in args.runs]
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise InputError(f"--out {args.out} is a file, not a folder")
    several = len(runs) > 1
    results, figures = [], []
    for k, run_dir in enumerate(runs):
        out = None if args.out is None else (Path(args.out) / run_dir.name if several else Path(args.out))
        print(f"symbreak analyze: [{k + 1}/{len(runs)}] {run_dir}", file=sys.stderr, flush=True)
        result, paths = analyze_one(run_dir, out, figures=not args.no_figures, reference=not args.no_reference)
        results.append(result)
        figures += paths
        print(f"{run_dir}: {result.case} ({result.kind}), {result.label}, {result.frames} frames -> "
              f"{(out or run_dir) / 'analysis.json'}")
        for note in result.notes:
            print(f"  note: {note}")
    if not several:
        return 0
    out_dir = Path(args.out) if args.out else Path(os.path.commonpath([r.resolve() for r in runs]))
    comparisons, paths = compare_groups(results, out_dir, figures=not args.no_figures)
    sentences = findings(results, comparisons)
    for line in sentences:
        print(line)
    for comparison in comparisons:
        print(f"{comparison.group}: {', '.join(comparison.runs)}")
        for o in comparison.observables.values():
            verdicts = "; ".join(f"{pair}: {v.verdict}" for pair, v in o.verdicts.items())
            print(f"  {o.name:24s} {verdicts}")
        line = not_judged_line(comparison)
        if line:
            print(f"  not judged: {line}")
    report = write_report(out_dir / "report.html", "symbreak analyze", sentences,
                          run_sections(results, comparisons, paths), results, figures=figures + paths)
    print(f"symbreak analyze: wrote {report}")
    return 0
