"""`symbreak study`: the main job. Runs the study's cases for several strategies with one model, analyses, reports.

    symbreak study --quick --out study                  # ~12 minutes on 2 cores with the shipped model
    symbreak study --potential toy --quick --out study-toy
    symbreak study --parts gas,replay --scale 0.1       # a subset, shorter

Parts (``--parts``, default all):
  gas      one H2O in vacuum, NVE: plain, random:1, 2i (same initial conditions); NVT with MTS (plain inner, 2i outer)
  liquid   liquid water NVT: plain, 2i, and q-TIP4P/F itself (--potential qtip4pf)
  ice      proton-disordered ice Ih NVT: plain, 2i
  geop     fixed-cell L-BFGS relaxations of several proton-disordered ice cells: the plain model from the built
           cell, 2i from the plain minimum, q-TIP4P/F on its own; relative energies before/after, their
           symmetry error against the reference's spread, and whether 2i keeps the plain ordering
  replay   the liquid plain frames evaluated with plain, i, 2, 2i, 3i and the reference: the convergence table
Writes, into --out: one folder per run (each with analysis.json and figures),
report.html (self-contained), summary.json, summary.txt,
gas_angular_momentum.png and the comparison figures. A finished run folder is
reused, an interrupted one resumed; the progress goes to stderr.

Cost, measured with the shipped model (2 cores, 1 torch thread per process):
the quick study took 11.6 minutes (695 s). Per step: gas NVE 6 ms plain,
13 ms 2i; gas MTS 56 ms per 5 fs outer step; liquid (32 H2O) 37 ms plain,
1.23 s 2i; ice (96 H2O) 100 ms plain, 2.6 s 2i; each ice cell's relaxations
about 25 s (plain: 62-80 L-BFGS steps to i-PI's tolerances at ~90 ms; 2i: 5
steps at 2.7 s; q-TIP4P/F: 32-43 steps at 16-47 ms); the replay of 8 frames
with plain, i, 2, 2i and 3i about 1 minute. The full study (25 ps gas
trajectories, 10 ps of 64-molecule liquid, 5 ps of ice, 10 ice cells) takes
days on 2 cores: use ``--parts`` and more machines (``symbreak run --servers``,
remote servers).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..core.errors import InputError
from ..potentials.spec import SPEC_HELP, parse_potential_spec

PARTS = ("gas", "liquid", "ice", "geop", "replay")


@dataclass(frozen=True)
class Plan:
    """Sizes of one study: steps per run kind (scaled by --scale), molecules, cells."""

    gas_steps: int
    mts_steps: int
    liquid_size: int
    liquid_steps: int
    ice_size: int
    ice_steps: int
    #: L-BFGS steps of the plain and q-TIP4P/F relaxations (i-PI stops earlier once converged)
    geop_steps: int
    #: L-BFGS steps of the 2i relaxation, which starts from the plain minimum
    geop_2i_steps: int
    geop_seeds: tuple[int, ...]
    replay_frames: int


QUICK = Plan(gas_steps=1000, mts_steps=100, liquid_size=32, liquid_steps=160, ice_size=96, ice_steps=40,
             geop_steps=100, geop_2i_steps=5, geop_seeds=(1, 2, 3, 4, 5, 6), replay_frames=8)
FULL = Plan(gas_steps=50000, mts_steps=5000, liquid_size=64, liquid_steps=20000, ice_size=96, ice_steps=10000,
            geop_steps=1000, geop_2i_steps=100, geop_seeds=tuple(range(1, 11)), replay_frames=100)


@dataclass
class StudyRun:
    """One run of the study: its folder name and the RunConfig arguments."""

    name: str
    part: str
    case: str
    strategy: str = "plain"
    potential: str | None = None  # None: the study's potential
    steps: int = 100
    size: int | None = None
    seed: int | None = None
    trajectory: str | None = None
    #: start from the last frame of this earlier run of the study (its folder name)
    init_from: str | None = None
    extra: dict = field(default_factory=dict)


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes: about 12 minutes on 2 cores with the shipped model")
    parser.add_argument("--potential", default="default", help=f"{SPEC_HELP} (default: default)")
    parser.add_argument("--out", default="study", help="output folder (default: study)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step count (e.g. 0.1 for a smoke test)")
    parser.add_argument("--seed", type=int, default=7, help="seed of i-PI and of the initial structures")
    parser.add_argument("--ice-cells", type=int, default=None,
                        help=f"proton-disordered cells relaxed in the geop part (default: {len(QUICK.geop_seeds)} quick, "
                             f"{len(FULL.geop_seeds)} full; at least 2)")


def _steps(n: int, scale: float, least: int) -> int:
    return max(least, int(round(n * scale)))


def plan_runs(plan: Plan, parts: list[str], scale: float, seed: int, out: Path) -> list[StudyRun]:
    """The runs of a study, in the order they run (the replay follows the liquid plain run it replays)."""
    runs: list[StudyRun] = []
    if "gas" in parts:
        for strategy in ("plain", "random:1", "2i"):
            runs.append(StudyRun(f"gas-nve-{strategy.replace(':', '_')}", "gas", "gas-nve", strategy,
                                 steps=_steps(plan.gas_steps, scale, 30), seed=seed))
        runs.append(StudyRun("gas-mts-2i", "gas", "gas-mts", "2i", steps=_steps(plan.mts_steps, scale, 30), seed=seed))
    liquid = dict(size=plan.liquid_size, seed=seed)
    if "liquid" in parts or "replay" in parts:
        runs.append(StudyRun("liquid-nvt-plain", "liquid", "liquid-nvt", "plain", steps=_steps(plan.liquid_steps, scale, 30), **liquid))
    if "liquid" in parts:
        runs.append(StudyRun("liquid-nvt-2i", "liquid", "liquid-nvt", "2i", steps=_steps(plan.liquid_steps, scale, 30), **liquid))
        runs.append(StudyRun("liquid-nvt-reference", "liquid", "liquid-nvt", "plain", potential="qtip4pf",
                             steps=_steps(plan.liquid_steps, scale, 30), **liquid))
    if "ice" in parts:
        for strategy in ("plain", "2i"):
            runs.append(StudyRun(f"ice-nvt-{strategy}", "ice", "ice-nvt", strategy, steps=_steps(plan.ice_steps, scale, 30),
                                 size=plan.ice_size, seed=seed))
    if "geop" in parts:
        # each cell: the plain model relaxes from the built cell, 2i continues from the plain minimum (the two
        # minima differ by the symmetry error only), q-TIP4P/F relaxes from the built cell on its own surface
        steps, steps_2i = _steps(plan.geop_steps, scale, 3), _steps(plan.geop_2i_steps, scale, 2)
        for cell in plan.geop_seeds:
            cell_run = dict(part="geop", case="ice-geop", size=plan.ice_size, seed=cell)
            runs.append(StudyRun(f"ice-geop-{cell}-plain", strategy="plain", steps=steps, **cell_run))
            runs.append(StudyRun(f"ice-geop-{cell}-2i", strategy="2i", steps=steps_2i, init_from=f"ice-geop-{cell}-plain", **cell_run))
            runs.append(StudyRun(f"ice-geop-{cell}-reference", potential="qtip4pf", steps=steps, **cell_run))
    if "replay" in parts:
        frames = out / "liquid-nvt-plain" / "simulation.positions_0.xyz"
        n = _steps(plan.replay_frames, scale, 2)
        runs.append(StudyRun("replay-liquid", "replay", "replay", "plain", steps=n, trajectory=str(frames), seed=seed,
                             extra={"frames": n}))
    return runs


def _log(text: str) -> None:
    print(f"symbreak study: {text}", file=sys.stderr, flush=True)


def _replay_file(run: StudyRun, folder: Path) -> str:
    """The first N frames of the liquid trajectory (the replay re-evaluates them all)."""
    from ..structures.io import read_structures, write_ipi_xyz

    frames = read_structures(run.trajectory)[: run.extra["frames"] + 1]
    path = folder.parent / f"{folder.name}-frames.xyz"
    write_ipi_xyz(str(path), frames)
    return str(path)


def execute(run: StudyRun, potential: str, out: Path) -> Path:
    """Run ``run`` into ``out/run.name`` unless a finished run with the same potential and strategy is there."""
    from ..campaign.runner import RunConfig, checkpoint_file, run_case

    folder = out / run.name
    potential = run.potential or potential
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        config = old.get("config", {})
        if (config.get("potential"), config.get("strategy")) != (potential, run.strategy):
            raise InputError(f"{folder} holds a run of potential {config.get('potential')}, strategy "
                             f"{config.get('strategy')}, not {potential}, {run.strategy}: use another --out")
        if "finished" in old:
            if old.get("steps") != run.steps and run.case != "replay":
                _log(f"{run.name}: reusing the finished run ({old.get('steps')} steps, this study asks {run.steps})")
            else:
                _log(f"{run.name}: reusing the finished run")
            return folder
        if checkpoint_file(folder) is None:
            shutil.rmtree(folder)  # interrupted before its first checkpoint: start again
    elif folder.exists():
        shutil.rmtree(folder)
    trajectory = _replay_file(run, folder) if run.case == "replay" else None
    init = str(out / run.init_from / "simulation.positions_0.xyz") if run.init_from else None
    config = RunConfig(case=run.case, out=str(folder), strategy=run.strategy, potential=potential, steps=run.steps,
                       size=run.size, seed=run.seed if run.seed is not None else 31415, trajectory=trajectory,
                       init_structure=init)
    run_case(config)
    return folder


def _value(scalars: dict, key: str, scale: float = 1.0):
    """The value of a scalar of an analysis (times ``scale``), None when it is missing."""
    value = scalars.get(key, {}).get("value")
    return None if value is None else value * scale


def _gas_table(results: list[dict]) -> list[list]:
    rows = []
    for r in results:
        if r["kind"] != "gas":
            continue
        s = r["scalars"]
        rows.append([r["label"], _value(s, "L_max_change"), _value(s, "L_direction_change"), _value(s, "torque_rms", 1e3),
                     _value(s, "conserved_drift", 1e3), _value(s, "model_error_mae", 1e3)])
    return rows


ICE_COLUMNS = ("plain_before", "2i_before", "reference_before", "plain_after", "2i_after", "reference_after",
               "reference_at_plain_after", "reference_at_2i_after")


def _cell_of(run_path: str) -> str:
    return run_path.rstrip("/").split("-geop-")[-1].rsplit("-", 1)[0]


def ice_single_points(out: Path, potential: str, results: list[dict], strategy: str = "2i") -> dict[str, float]:
    """{cell: E_strategy(x0) per molecule}: the model with ``strategy`` on each built cell, in-process.

    The 2i relaxation starts from the plain minimum, so its energy at the built
    cell comes from here. Cached in out/ice-single-points.json (per potential).
    """
    import numpy as np

    from ..potentials.registry import load_potential
    from ..structures.io import read_structures
    from ..symmetry.strategies import parse_strategy

    cache_path = out / "ice-single-points.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    key = f"{potential}|{strategy}"
    energies = dict(cache.get(key, {}))
    todo = {_cell_of(r["run"]): Path(r["run"]) / "init.xyz" for r in results
            if r["kind"] == "geop" and r["label"] == "plain" and _cell_of(r["run"]) not in energies}
    if todo:
        base = load_potential(potential)
        model = parse_strategy(strategy, base, diagnostics=False)
        try:
            cells = sorted(todo)
            structures = [read_structures(str(todo[cell]))[0] for cell in cells]
            computed = np.asarray(model.compute(structures).energies, dtype=float)  # the strategy chunks the copies
            energies.update({cell: float(e) / (s.n_atoms // 3) for cell, e, s in zip(cells, computed, structures)})
        finally:
            getattr(base, "close", lambda: None)()
        cache[key] = energies
        cache_path.write_text(json.dumps(cache, indent=1) + "\n")
    return energies


def _ice_tables(results: list[dict], single_points: dict[str, float]) -> tuple[dict, list[list]]:
    """Energies per cell before/after relaxation (plain, 2i, reference) and the relative-energy comparisons.

    Before: the three potentials on the same built cell. After: each relaxed on
    its own surface (2i from the plain minimum), and q-TIP4P/F at the model minima.
    """
    import warnings

    from ..analysis.ice import compare_ice_energies, ranking_agreement

    cells: dict[str, dict] = {}
    for r in results:
        if r["kind"] != "geop":
            continue
        s = r["scalars"]
        entry = cells.setdefault(_cell_of(r["run"]), {})
        label = r["label"]
        entry[f"{label}_after"] = _value(s, "energy_after")
        entry[f"{label}_steps"] = _value(s, "optimizer_steps")
        entry[f"{label}_final_force_max"] = _value(s, "final_force_max")
        if label == "plain":
            entry["plain_before"], entry["reference_before"] = _value(s, "energy_before"), _value(s, "reference_before")
        if label != "reference":
            entry[f"reference_at_{label}_after"] = _value(s, "reference_after")
    for cell, e in single_points.items():
        if cell in cells:
            cells[cell]["2i_before"] = e
    rows = [[cell] + [None if e.get(c) is None else e[c] * 1e3 for c in ICE_COLUMNS] for cell, e in sorted(cells.items())]
    comparison = {}
    complete = [e for _, e in sorted(cells.items()) if all(e.get(c) is not None for c in ICE_COLUMNS)]
    if len(complete) >= 2:
        for when in ("before", "after"):
            energies = {k: [e[f"{k}_{when}"] for e in complete] for k in ("plain", "2i", "reference")}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # rank correlations of 2 cells may be undefined
                c = compare_ice_energies(energies)
                c["ordering_2i_vs_plain"] = ranking_agreement(energies["2i"], energies["plain"])
            c["symmetry_to_spread"] = c["between"]["2i|plain"] / c["spread"] if c["spread"] > 0 else None
            comparison[when] = c
    convergence = {k: {"steps": [e.get(f"{k}_steps") for _, e in sorted(cells.items())],
                       "final_force_max": [e.get(f"{k}_final_force_max") for _, e in sorted(cells.items())]}
                   for k in ("plain", "2i", "reference")}
    return {"columns": list(ICE_COLUMNS), "cells": cells, "relative": comparison, "relaxation": convergence}, rows


def _text_summary(results, gas_rows, convergence, ice, comparisons) -> str:
    lines = ["gas NVE (one H2O):", f"{'strategy':>10} {'|dL|max/hbar':>13} {'dir.change/deg':>15} {'torque RMS/meV':>15} "
             f"{'drift meV/ps':>13} {'model err meV':>14}"]
    for row in gas_rows:
        lines.append(f"{row[0]:>10} " + " ".join(f"{'-' if v is None else format(v, '.4g'):>{w}}" for v, w in zip(row[1:], (13, 15, 15, 13, 14))))
    if convergence:
        lines += ["", "replay of liquid frames (E meV/H2O, F meV/A):",
                  f"{'strategy':>10} {'evals':>6} {'model E':>9} {'sym E':>9} {'model F':>9} {'sym F':>9}"]
        for r in convergence:
            cell = lambda v: "-" if v is None else f"{1e3 * v:.4g}"
            lines.append(f"{r['strategy']:>10} {r['evaluations']:>6} " + " ".join(
                f"{cell(r.get(k)):>9}" for k in ("model_energy_mae", "symmetry_energy_mae", "model_force_mae", "symmetry_force_mae")))
    for when, c in ice.get("relative", {}).items():
        between = c["between"].get("2i|plain")
        lines.append(f"\nice relative energies {when} relaxation ({c['n_configurations']} cells): spread (reference) "
                     f"{1e3 * c['spread']:.4g} meV/H2O, |2i - plain| {1e3 * between:.4g} meV/H2O, "
                     f"|plain - reference| {1e3 * c['vs_reference']['plain']['mae']:.4g} meV/H2O; ordering 2i vs plain: "
                     f"Kendall tau {c['ordering_2i_vs_plain']['kendall']:.3g}, plain vs reference {c['vs_reference']['plain']['kendall']:.3g}")
    for comparison in comparisons:
        verdicts = [f"{obs}: {'/'.join(v['verdict'] for v in d['pairs'].values())}" for obs, d in comparison["observables"].items()
                    if any(v["verdict"] in ("same", "different") for v in d["pairs"].values())]
        lines += ["", f"{comparison['group']} ({', '.join(comparison['pairs'])}):"] + [f"  {v}" for v in verdicts]
    lines += ["", "cost:"] + [f"  {r['case']:12s} {r['label']:10s} {int(r['cost']['steps'] or 0):6d} steps "
                              f"{(r['cost']['ms_per_step'] or float('nan')):9.1f} ms/step" for r in results]
    return "\n".join(lines)


def run(args) -> int:
    from ..analysis.figures import ice_figure
    from ..analysis.pipeline import analyze_one, compare_groups, write_json
    from ..analysis.report import summary_rows, write_report

    start = time.monotonic()
    parse_potential_spec(args.potential)  # a bad spec fails before any run starts
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise InputError(f"unknown --parts {unknown}: choose from {','.join(PARTS)}")
    if args.scale <= 0:
        raise InputError(f"--scale must be positive, got {args.scale}")
    plan = QUICK if args.quick else FULL
    if args.ice_cells is not None:
        if args.ice_cells < 2:
            raise InputError(f"--ice-cells must be at least 2 (relative energies need two cells), got {args.ice_cells}")
        plan = replace(plan, geop_seeds=tuple(range(1, args.ice_cells + 1)))
    runs = plan_runs(plan, parts, args.scale, args.seed, out)
    results, figures = [], []
    for k, r in enumerate(runs):
        _log(f"[{k + 1}/{len(runs)}] {r.case} {r.strategy}{' (q-TIP4P/F)' if r.potential else ''}, {r.steps} steps "
             f"-> {out / r.name}  ({time.monotonic() - start:.0f} s so far)")
        folder = execute(r, args.potential, out)
        result, paths = analyze_one(folder)
        results.append(result)
        figures += paths
    _log(f"comparing and reporting ({time.monotonic() - start:.0f} s so far)")
    # relaxations are compared cell by cell in the ice tables, not by the per-run verdicts
    comparisons, compare_paths = compare_groups([r for r in results if r["kind"] != "geop"], out)
    if (out / "compare_gas-nve.png").exists():  # the name run-main.sh promises
        shutil.copy(out / "compare_gas-nve.png", out / "gas_angular_momentum.png")
    gas_rows = _gas_table(results)
    convergence = next((r["tables"]["convergence"] for r in results if r["kind"] == "replay"), [])
    single_points = {}
    if any(r["kind"] == "geop" for r in results):
        _log(f"ice: 2i energies of the built cells ({time.monotonic() - start:.0f} s so far)")
        single_points = ice_single_points(out, args.potential, results)
    ice, ice_rows = _ice_tables(results, single_points)
    ice_png = ice_figure(ice, out / "ice_relative_energies.png")
    if ice_png is not None:
        figures.append(ice_png)
    extra = []
    if gas_rows:
        extra.append(("Gas phase (one H2O, NVE unless mts)", ["strategy", "|L - L0| max / hbar", "direction change / deg",
                                                              "torque RMS / meV", "conserved drift / meV/ps", "model error / meV"], gas_rows))
    if convergence:
        keys = ("model_energy_mae", "symmetry_energy_mae", "model_force_mae", "symmetry_force_mae", "energy_spread",
                "force_plain_minus_averaged_rms")
        extra.append(("Replay of liquid frames: convergence with the grid (energies meV/H2O, forces meV/A per component)",
                      ["strategy", "evaluations", "model error E", "symmetry error E", "model error F", "symmetry error F",
                       "energy spread", "force plain-avg RMS"],
                      [[c["strategy"], c["evaluations"], *(None if c.get(k) is None else 1e3 * c[k] for k in keys)]
                       for c in convergence]))
    if ice_rows:
        extra.append(("Ice relaxations: energies per molecule (meV/H2O)", ["cell", *ice["columns"]], ice_rows))
        extra.append(("Ice relaxations: L-BFGS steps and largest final force component (eV/A)",
                      ["cell", *(f"{k} {q}" for k in ("plain", "2i", "reference") for q in ("steps", "max |F|"))],
                      [[cell, *(e.get(f"{k}_{q}") for k in ("plain", "2i", "reference") for q in ("steps", "final_force_max"))]
                       for cell, e in sorted(ice["cells"].items())]))
        for when, c in ice["relative"].items():
            extra.append((f"Ice relative energies {when} relaxation ({c['n_configurations']} cells; meV/H2O, or as named)",
                          ["quantity", "value"],
                          [["spread of the reference (std)", 1e3 * c["spread"]],
                           ["|2i - plain| (symmetry error)", 1e3 * c["between"]["2i|plain"]],
                           ["symmetry error / spread", c["symmetry_to_spread"]],
                           ["|plain - reference| (model error)", 1e3 * c["vs_reference"]["plain"]["mae"]],
                           ["|2i - reference|", 1e3 * c["vs_reference"]["2i"]["mae"]],
                           ["ordering 2i vs plain (Kendall tau, 1 = same)", c["ordering_2i_vs_plain"]["kendall"]],
                           ["ordering plain vs reference (Kendall tau)", c["vs_reference"]["plain"]["kendall"]]]))
    seconds = time.monotonic() - start
    intro = (f"Potential <b>{args.potential}</b>, {'quick' if args.quick else 'full'} study, parts {', '.join(parts)}, "
             f"scale {args.scale:g}; {len(results)} runs; {seconds:.0f} s wall (reused runs cost nothing).")
    write_report(out / "report.html", results, comparisons, figures + compare_paths, title="symbreak study", intro=intro,
                 extra_tables=extra)
    summary = {
        "potential": args.potential, "quick": bool(args.quick), "parts": parts, "scale": args.scale, "wall_seconds": round(seconds, 1),
        "summary": summary_rows(results),
        "gas": {r["label"]: {k: v for k, v in r["scalars"].items()} for r in results if r["kind"] == "gas"},
        "convergence": convergence,
        "ice": ice,
        "verdicts": [{"group": c["group"], "observables": {o: {p: v["verdict"] for p, v in d["pairs"].items()}
                                                           for o, d in c["observables"].items()}} for c in comparisons],
        "runs": [{"name": Path(r["run"]).name, "case": r["case"], "label": r["label"], "cost": r["cost"]} for r in results],
    }
    write_json(out / "summary.json", summary)
    text = _text_summary(results, gas_rows, convergence, ice, comparisons)
    (out / "summary.txt").write_text(text + "\n")
    print(text)
    _log(f"wrote {out / 'report.html'}, {out / 'summary.json'}, {out / 'summary.txt'} in {seconds:.0f} s")
    return 0
