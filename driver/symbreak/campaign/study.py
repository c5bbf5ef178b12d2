"""`symbreak study`: the main job. Runs the study's cases for several strategies with one model, analyses, reports.

    symbreak study --quick --out study                  # ~10 minutes on 2 cores with the shipped model
    symbreak study --potential toy --quick --out study-toy
    symbreak study --parts gas,replay --scale 0.1       # a subset, shorter

Parts (``--parts``, default all):
  gas      one H2O in vacuum, NVE: plain, random:1, 2i (same initial conditions); NVT with MTS (plain inner, 2i outer)
  liquid   liquid water NVT: plain, 2i, and q-TIP4P/F itself (--potential qtip4pf)
  ice      proton-disordered ice Ih NVT: plain, 2i
  geop     fixed-cell relaxations of a couple of ice cells (plain, 2i), q-TIP4P/F energies of first and final frames
  replay   the liquid plain frames evaluated with plain, i, 2, 2i, 3i and the reference: the convergence table
Writes, into --out: one folder per run (each with analysis.json and figures),
report.html (self-contained), summary.json, summary.txt,
gas_angular_momentum.png and the comparison figures. A finished run folder is
reused, an interrupted one resumed; the progress goes to stderr.

Cost, measured with the shipped model (2 cores, 1 torch thread per process):
the quick study took 11.4 minutes (683 s). Per step: gas NVE 6 ms plain,
11 ms 2i; gas MTS 54 ms per 5 fs outer step; liquid (32 H2O) 38 ms plain,
1.28 s 2i; ice (96 H2O) 85 ms plain, 2.8 s 2i; the replay of 8 frames with
plain, i, 2, 2i and 3i about 1 minute. The full study (25 ps gas trajectories,
10 ps of 64-molecule liquid, 5 ps of ice) takes days on 2 cores: use
``--parts`` and more machines (``symbreak run --servers``, remote servers).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PARTS = ("gas", "liquid", "ice", "geop", "replay")


@dataclass(frozen=True)
class Plan:
    """Sizes of one study: steps per run kind (scaled by --scale), molecules, cells."""

    gas_steps: int
    mts_steps: int
    liquid_size: int
    liquid_steps: int
    liquid_2i_steps: int
    ice_size: int
    ice_steps: int
    ice_2i_steps: int
    geop_steps: int
    geop_seeds: tuple[int, ...]
    replay_frames: int


QUICK = Plan(gas_steps=1000, mts_steps=100, liquid_size=32, liquid_steps=200, liquid_2i_steps=200, ice_size=96,
             ice_steps=40, ice_2i_steps=40, geop_steps=20, geop_seeds=(1, 2), replay_frames=8)
FULL = Plan(gas_steps=50000, mts_steps=5000, liquid_size=64, liquid_steps=20000, liquid_2i_steps=20000, ice_size=96,
            ice_steps=10000, ice_2i_steps=10000, geop_steps=200, geop_seeds=(1, 2, 3, 4), replay_frames=100)


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
    extra: dict = field(default_factory=dict)


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes: about 10 minutes on 2 cores with the shipped model")
    parser.add_argument("--potential", default="default", help="toy, default or a checkpoint (default: default)")
    parser.add_argument("--out", default="study", help="output folder (default: study)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every step count (e.g. 0.1 for a smoke test)")
    parser.add_argument("--seed", type=int, default=7, help="seed of i-PI and of the initial structures")


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
        runs.append(StudyRun("liquid-nvt-2i", "liquid", "liquid-nvt", "2i", steps=_steps(plan.liquid_2i_steps, scale, 30), **liquid))
        runs.append(StudyRun("liquid-nvt-reference", "liquid", "liquid-nvt", "plain", potential="qtip4pf",
                             steps=_steps(plan.liquid_steps, scale, 30), **liquid))
    if "ice" in parts:
        for strategy, steps in (("plain", plan.ice_steps), ("2i", plan.ice_2i_steps)):
            runs.append(StudyRun(f"ice-nvt-{strategy}", "ice", "ice-nvt", strategy, steps=_steps(steps, scale, 30),
                                 size=plan.ice_size, seed=seed))
    if "geop" in parts:
        for cell in plan.geop_seeds:
            for strategy in ("plain", "2i"):
                runs.append(StudyRun(f"ice-geop-{cell}-{strategy}", "geop", "ice-geop", strategy,
                                     steps=_steps(plan.geop_steps, scale, 3), size=plan.ice_size, seed=cell))
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
    from .runner import RunConfig, run_case

    folder = out / run.name
    potential = run.potential or potential
    manifest_path = folder / "manifest.json"
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        config = old.get("config", {})
        if (config.get("potential"), config.get("strategy")) != (potential, run.strategy):
            raise ValueError(f"{folder} holds a run of potential {config.get('potential')}, strategy "
                             f"{config.get('strategy')}, not {potential}, {run.strategy}: use another --out")
        if "finished" in old:
            if old.get("steps") != run.steps and run.case != "replay":
                _log(f"{run.name}: reusing the finished run ({old.get('steps')} steps, this study asks {run.steps})")
            else:
                _log(f"{run.name}: reusing the finished run")
            return folder
        if not any((folder / n).exists() for n in ("RESTART", "simulation.restart")):
            shutil.rmtree(folder)  # interrupted before its first checkpoint: start again
    elif folder.exists():
        shutil.rmtree(folder)
    trajectory = _replay_file(run, folder) if run.case == "replay" else None
    config = RunConfig(case=run.case, out=str(folder), strategy=run.strategy, potential=potential, steps=run.steps,
                       size=run.size, seed=run.seed if run.seed is not None else 31415, trajectory=trajectory)
    run_case(config)
    return folder


def _gas_table(results: list[dict]) -> list[list]:
    rows = []
    for r in results:
        if r["kind"] != "gas":
            continue
        s = r["scalars"]
        value = lambda k, scale=1.0: None if s.get(k, {}).get("value") is None else s[k]["value"] * scale
        rows.append([r["label"], value("L_max_change"), value("L_direction_change"), value("torque_rms", 1e3),
                     value("conserved_drift", 1e3), value("model_error_mae", 1e3)])
    return rows


def _ice_tables(results: list[dict]) -> tuple[dict, list[list]]:
    """Energies per cell before/after relaxation (plain, 2i, reference) and the relative-energy comparison."""
    import warnings

    from ..analysis.ice import compare_ice_energies

    cells: dict[str, dict] = {}
    for r in results:
        if r["kind"] != "geop":
            continue
        cell = r["run"].rstrip("/").split("-geop-")[-1].rsplit("-", 1)[0]
        s = r["scalars"]
        value = lambda k: s.get(k, {}).get("value")
        entry = cells.setdefault(cell, {})
        entry[f"{r['label']}_before"], entry[f"{r['label']}_after"] = value("energy_before"), value("energy_after")
        entry["reference_before"] = value("reference_before")
        entry[f"reference_at_{r['label']}_after"] = value("reference_after")
    columns = ["plain_before", "2i_before", "reference_before", "plain_after", "2i_after", "reference_at_plain_after",
               "reference_at_2i_after"]
    rows = [[cell] + [None if e.get(c) is None else e[c] * 1e3 for c in columns] for cell, e in sorted(cells.items())]
    comparison = {}
    complete = [e for e in cells.values() if all(e.get(c) is not None for c in columns)]
    if len(complete) >= 2:
        for when, names in (("before", {"plain": "plain_before", "2i": "2i_before", "reference": "reference_before"}),
                            ("after", {"plain": "plain_after", "2i": "2i_after", "reference": "reference_at_2i_after"})):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # rank correlations of 2 cells may be undefined
                comparison[when] = compare_ice_energies({k: [e[v] for e in complete] for k, v in names.items()})
    return {"columns": columns, "cells": cells, "relative": comparison}, rows


def _text_summary(results, gas_rows, convergence, ice, comparisons) -> str:
    lines = ["gas NVE (one H2O):", f"{'strategy':>10} {'|dL|max/hbar':>13} {'dir.change/deg':>15} {'torque RMS/meV':>15} "
             f"{'drift meV/ps':>13} {'model err meV':>14}"]
    for row in gas_rows:
        lines.append(f"{row[0]:>10} " + " ".join(f"{'-' if v is None else format(v, '.4g'):>{w}}" for v, w in zip(row[1:], (13, 15, 15, 13, 14))))
    if convergence:
        lines += ["", "replay of liquid frames (meV/H2O):", f"{'strategy':>10} {'evals':>6} {'model E':>9} {'sym E':>9}"]
        for r in convergence:
            cell = lambda v: "-" if v is None else f"{1e3 * v:.4g}"
            lines.append(f"{r['strategy']:>10} {r['evaluations']:>6} {cell(r['model_energy_mae']):>9} {cell(r['symmetry_energy_mae']):>9}")
    for when, c in ice.get("relative", {}).items():
        between = c["between"].get("2i|plain")
        lines.append(f"\nice relative energies {when} relaxation: spread (reference) {1e3 * c['spread']:.4g} meV/H2O, "
                     f"|2i - plain| {1e3 * between:.4g} meV/H2O, |plain - reference| {1e3 * c['vs_reference']['plain']['mae']:.4g} meV/H2O")
    for comparison in comparisons:
        verdicts = [f"{obs}: {'/'.join(v['verdict'] for v in d['pairs'].values())}" for obs, d in comparison["observables"].items()
                    if any(v["verdict"] in ("same", "different") for v in d["pairs"].values())]
        lines += ["", f"{comparison['group']} ({', '.join(comparison['pairs'])}):"] + [f"  {v}" for v in verdicts]
    lines += ["", "cost:"] + [f"  {r['case']:12s} {r['label']:10s} {int(r['cost']['steps'] or 0):6d} steps "
                              f"{(r['cost']['ms_per_step'] or float('nan')):9.1f} ms/step" for r in results]
    return "\n".join(lines)


def run(args) -> int:
    from ..analysis.cli import analyze_one, compare_groups, write_json
    from ..analysis.report import summary_rows, write_report

    start = time.monotonic()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise ValueError(f"unknown --parts {unknown}: choose from {','.join(PARTS)}")
    if args.scale <= 0:
        raise ValueError(f"--scale must be positive, got {args.scale}")
    plan = QUICK if args.quick else FULL
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
    comparisons, compare_paths = compare_groups(results, out)
    if (out / "compare_gas-nve.png").exists():  # the name run-main.sh promises
        shutil.copy(out / "compare_gas-nve.png", out / "gas_angular_momentum.png")
    gas_rows = _gas_table(results)
    convergence = next((r["tables"]["convergence"] for r in results if r["kind"] == "replay"), [])
    ice, ice_rows = _ice_tables(results)
    extra = []
    if gas_rows:
        extra.append(("Gas phase (one H2O, NVE unless mts)", ["strategy", "|L - L0| max / hbar", "direction change / deg",
                                                              "torque RMS / meV", "conserved drift / meV/ps", "model error / meV"], gas_rows))
    if convergence:
        extra.append(("Replay of liquid frames: convergence with the grid (meV/H2O)",
                      ["strategy", "evaluations", "model error E", "symmetry error E", "energy spread", "force plain-avg RMS / eV/A"],
                      [[c["strategy"], c["evaluations"], *(None if c.get(k) is None else c[k] * (1e3 if k != "force_plain_minus_averaged_rms" else 1)
                                                          for k in ("model_energy_mae", "symmetry_energy_mae", "energy_spread",
                                                                    "force_plain_minus_averaged_rms"))] for c in convergence]))
    if ice_rows:
        extra.append(("Ice relaxations: energies per molecule (meV/H2O)", ["cell", *ice["columns"]], ice_rows))
        for when, c in ice["relative"].items():
            extra.append((f"Ice relative energies {when} relaxation (meV/H2O)", ["quantity", "value"],
                          [["spread of the reference", 1e3 * c["spread"]], ["|2i - plain| (symmetry error)", 1e3 * c["between"]["2i|plain"]],
                           ["|plain - reference| (model error)", 1e3 * c["vs_reference"]["plain"]["mae"]],
                           ["|2i - reference|", 1e3 * c["vs_reference"]["2i"]["mae"]]]))
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
