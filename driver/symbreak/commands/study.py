"""`symbreak study`: the main job. Runs the study's cases for several strategies with one model, analyses, reports.

    symbreak study --quick --out study                  # ~20 minutes on 2 cores with the shipped model
    symbreak study --potential toy --quick --out study-toy
    symbreak study --parts gas,replay --scale 0.1       # a subset, shorter

Parts (``--parts``, default all; see :mod:`symbreak.study.plan`):
  gas      one H2O in vacuum, NVE: plain, random:1, 2i (same initial conditions); NVT with MTS (plain inner, 2i outer)
  liquid   liquid water NVT: plain and q-TIP4P/F itself directly, 2i by MTS (plain every 0.5 fs, the 2i correction
           every 4 inner steps: as good as direct 2i in the liquid frontier, at half the cost of every 2 and a
           fifth of direct 2i's); the MTS run is compared
           with the direct ones (an MTS case groups with the direct case it samples)
  ice      proton-disordered ice Ih NVT: plain, 2i (directly in --quick: 20 fs runs that share their start and
           noise are compared block by block; by MTS in the full study, 5 ps, where independent error bars decide)
  geop     fixed-cell L-BFGS relaxations of several proton-disordered ice cells: the plain model from the built
           cell, 2i from the plain minimum, q-TIP4P/F on its own; relative energies before/after, their
           symmetry error against the reference's spread, and whether 2i keeps the plain ordering
  polymorphs  the eight ice polymorphs (Ih, Ic, II, III, V, VI, VII, XI; GenIce, two proton patterns of the
           disordered ones), each relaxed at fixed cell by q-TIP4P/F, the plain model, and 2i from the plain
           minimum (in-process, L-BFGS): energies relative to Ih, Kendall tau of each model's ranking against
           q-TIP4P/F, the largest change by averaging, proton-ordering differences and their signs. Quick: one
           unit cell each (8-28 molecules); full: 48-224 molecules, three patterns
  crystal  proton-ordered ice XI and II relaxed (fixed cell and cell relaxed, ASE BFGS) by q-TIP4P/F, plain,
           random:1 and 2i from the symmetric crystal: the space group spglib finds at 1e-1..1e-5 A, the largest
           tolerance at which each method loses the crystal's group, the atoms' distance from symmetry
           (symbreak audit runs the same probe as its 'crystal' system)
  replay   the liquid plain frames evaluated with plain, i, 2, 2i, 3i and the reference: the convergence table
  pimd     path-integral liquid water (PILE-L, 0.25 fs, 300 K): plain and 2i (directly in --quick, by MTS on every
           bead in the full study, as for ice), and q-TIP4P/F, with the
           same beads; full study also path-integral ice Ih (200 K). Centroid-virial kinetic energies K_cv(H),
           K_cv(O) and ring-polymer radii of gyration with error bars, bead g(r)s; whether 2i changes any of
           them (same / different / undecided when the error bars are wider than 5 % of the value)
           Beads: the full study runs 8 (the usual minimum for water at 300 K with PILE; K_cv(H) is
           then ~10-15 % below its converged value, which needs ~32), the quick one 4, to keep the 2i run
           (36 model calls per bead) affordable. plain, 2i and q-TIP4P/F share the beads, so the bead
           error is common to the comparison; for converged absolute K_cv use symbreak run --beads 32.
  frontier every way of fixing the symmetry (plain, random, 2i turned at random, torque removal, i, 2, 2i, 3i, MTS
           with the 2 or 2i correction every 2, 4, 5, 10, 20 steps) for the same simulated time: cost per ps relative
           to plain against the L change and energy drift, and the cheapest entry that is good enough
           (`symbreak frontier` runs it alone; vacuum only in --quick, 250 fs per entry)
Writes, into --out: one folder per run (each with analysis.json and figures),
report.html (self-contained: the findings first, then each part's figure
beside its table), summary.json, summary.txt, gas_angular_momentum.png and
the comparison figures. A finished run folder is reused, an interrupted one
resumed; the progress goes to stderr.

Cost, measured with the shipped model (2 cores, an otherwise idle machine,
`--workers auto`: two torch.distributed ranks share each 2i call in a box, one
process for the molecule): `symbreak study --quick` took 19.6 minutes (1176 s).
By part (seconds): gas 65 (NVE 8 ms per step plain); liquid 284 (32 H2O, 400
fs each: plain 52 ms per 0.5 fs step, the 2i correction by MTS every 4 steps
1.16 s per 2 fs outer step, q-TIP4P/F 8 ms); ice NVT 82 (96 H2O, 40 steps, plain
and 2i directly); the 4 ice cells' relaxations 121; the replay of 8 frames
with plain, i, 2, 2i and 3i 83; pimd 168 (32 H2O, 4 beads, 40 steps = 10 fs:
3.5 s per 2i step); the vacuum frontier 154 (18 entries of 250 fs); analysis,
reports and the ice cells' single points 17; polymorphs 140; crystal 62. The
same study took ~1700 s before: every run then paid ~7 s of start-up (each
`symbreak serve` and `symbreak reference` imported every subcommand, scipy
and matplotlib included), and it relaxed 6 ice cells and ran the crystal
part's 2i relaxations for 40 steps. Single parts vary by 10-30 % between runs
on this shared machine.

The quick runs decide most verdicts because plain, 2i and q-TIP4P/F start from
one structure with one seed and are compared block by block (paired errors):
the quick PIMD resolves K_cv and Rg to better than 0.1 % between plain and 2i,
the liquid's temperature to ~4 % and its potential energy to ~1 %. 10 fs of
PIMD is still only the ring polymers' early relaxation, not converged quantum
observables; a verdict whose error bar is wider than 5 % of the value is
reported as undecided, with the reason.

The full study, estimated from the same per-step costs (64 H2O costs about
twice 32): gas (25 ps, 50000 steps each) ~1 h; liquid 10 ps: plain ~30 min,
2i by MTS every 4 (5000 outer steps) ~3.5 h, where direct 2i at every step
would take ~11 h; ice 5 ps (10000 steps) ~1.5 h for 2i by MTS (direct: ~5 h);
10 ice cells ~10 min; replay of 100 frames ~20 min; PIMD 1 ps of 64-molecule
8-bead liquid ~5 h and 0.5 ps of 8-bead ice ~3 h, both 2i by MTS on every
bead (direct, at ~16 s per 2i step: ~18 h and ~9 h); the frontier (2000 fs in vacuum, 500 fs of 64-molecule
liquid) ~5 h: about a day on 2 cores in all. Use ``--parts`` and more machines (``symbreak run --servers``,
``symbreak serve`` under torchrun or srun), or shorter runs with ``--scale``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from ..potentials.spec import SPEC_HELP, parse_potential_spec
from ..study.plan import FULL, GRID, PARTS, QUICK, parse_parts, plan_runs, study_plan


def add_arguments(parser) -> None:
    """add_arguments(parser): the options of `symbreak study`."""
    parser.epilog = __doc__[__doc__.index("Parts ("):]
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: about 23 minutes on 2 cores with the shipped model "
                             "(4 of them the pimd part, 4 the frontier) before the polymorphs and crystal parts, "
                             "which add about 3 and 2-4 more")
    parser.add_argument("--potential", default="default", help=f"{SPEC_HELP} (default: default)")
    parser.add_argument("--out", default="study", help="output folder (default: study)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step count (e.g. 0.1 for a smoke test)")
    parser.add_argument("--seed", type=int, default=7, help="seed of i-PI and of the initial structures")
    parser.add_argument("--ice-cells", type=int, default=None,
                        help=f"proton-disordered cells relaxed in the geop part (default: {len(QUICK.geop_seeds)} quick, "
                             f"{len(FULL.geop_seeds)} full; at least 2)")


def _log(text: str) -> None:
    print(f"symbreak study: {text}", file=sys.stderr, flush=True)


def run(args) -> int:
    """run(args) -> exit code of `symbreak study`: plan, run (or reuse), analyse, compare, summarise, report."""
    from ..analysis.pipeline import analyze_one, compare_groups
    from ..analysis.results import write_json
    from ..study.execute import execute
    from ..study.frontier_execute import frontiers_of
    from ..study.frontier_report import frontier_figure, frontier_figure_name
    from ..study.crystal_part import crystal_part
    from ..study.polymorph_part import polymorph_part
    from ..study.render import (
        CRYSTAL_FIGURE,
        POLYMORPH_FIGURE,
        crystal_figure_of,
        ice_relative_figure,
        polymorph_figure_of,
        summary_text,
        write_study_report,
    )
    from ..study.single_points import ice_single_points
    from ..study.summary import StudyResult, summarize, summary_document

    start = time.monotonic()
    parse_potential_spec(args.potential)  # a bad spec fails before any run starts
    parts = parse_parts(args.parts)
    plan = study_plan(args.quick, args.ice_cells)
    out = Path(args.out)
    runs = plan_runs(plan, parts, args.scale, args.seed, out)
    out.mkdir(parents=True, exist_ok=True)
    done, figures = [], []
    for k, r in enumerate(runs):
        _log(f"[{k + 1}/{len(runs)}] {r.case} {r.strategy}{' (q-TIP4P/F)' if r.is_reference else ''}, {r.steps} steps"
             f"{f' x {r.beads} beads' if r.beads else ''} "
             f"-> {out / r.name}  ({time.monotonic() - start:.0f} s so far)")
        folder = execute(r, args.potential, out, _log)
        analysis, paths = analyze_one(folder)
        done.append(StudyResult(r, analysis))
        figures += paths
    _log(f"comparing and reporting ({time.monotonic() - start:.0f} s so far)")
    frontiers = frontiers_of(out, {d.run.name: d.analysis for d in done if d.run.part == "frontier"})
    figures += [p for p in (frontier_figure(f, out / frontier_figure_name(f)) for f in frontiers) if p is not None]
    done = [d for d in done if d.run.part != "frontier"]  # judged by the frontier, not by the per-case verdicts
    # relaxations are compared cell by cell in the ice tables, not by the per-run verdicts
    comparisons, compare_paths = compare_groups([d.analysis for d in done if d.analysis.kind != "geop"], out)
    if (out / "compare_gas-nve.png").exists():  # the name run-main.sh promises
        shutil.copy(out / "compare_gas-nve.png", out / "gas_angular_momentum.png")
        compare_paths.append(out / "gas_angular_momentum.png")
    single_points = {}
    plain_cells = {d.run.cell: out / d.run.name / "init.xyz" for d in done
                   if d.run.part == "geop" and d.run.cell is not None and d.analysis.label == "plain"}
    if plain_cells:
        _log(f"ice: 2i energies of the built cells ({time.monotonic() - start:.0f} s so far)")
        single_points = ice_single_points(out, args.potential, plain_cells)
    polymorphs = None
    if "polymorphs" in parts:
        _log(f"polymorphs: the eight ice polymorphs with plain, {GRID} and q-TIP4P/F "
             f"({time.monotonic() - start:.0f} s so far)")
        polymorphs = polymorph_part(out, args.potential, plan, args.scale, lambda line: _log(f"polymorphs: {line}"))
    crystal = ()
    if "crystal" in parts:
        _log(f"crystal: ordered ice XI and II relaxed by q-TIP4P/F, plain, random:1 and {GRID} "
             f"({time.monotonic() - start:.0f} s so far)")
        crystal = crystal_part(out, args.potential, plan, args.scale, lambda line: _log(f"crystal: {line}"))
    summary = summarize(done, comparisons, single_points, frontiers, polymorphs, crystal)
    for png in (ice_relative_figure(summary, out / "ice_relative_energies.png"),
                polymorph_figure_of(summary, out / POLYMORPH_FIGURE), crystal_figure_of(summary, out / CRYSTAL_FIGURE)):
        if png is not None:
            figures.append(png)
    seconds = time.monotonic() - start
    intro = (f"Potential <b>{args.potential}</b>, {'quick' if args.quick else 'full'} study, parts {', '.join(parts)}, "
             f"scale {args.scale:g}; {len(done)} runs; {seconds:.0f} s wall (reused runs cost nothing).")
    write_study_report(out / "report.html", summary, figures + compare_paths, intro)
    settings = {"potential": args.potential, "quick": bool(args.quick), "parts": list(parts), "scale": args.scale,
                "wall_seconds": round(seconds, 1)}
    write_json(out / "summary.json", summary_document(summary, settings))
    text = summary_text(summary)
    (out / "summary.txt").write_text(text + "\n")
    print(text)
    _log(f"wrote {out / 'report.html'}, {out / 'summary.json'}, {out / 'summary.txt'} in {seconds:.0f} s")
    return 0
