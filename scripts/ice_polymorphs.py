"""Does a model rank the ice polymorphs like q-TIP4P/F, and does averaging change that? The goals of issue 21.

    python scripts/ice_polymorphs.py --model default                      # held-out cells, plain vs 2i vs q-TIP4P/F
    python scripts/ice_polymorphs.py --model run4/best.pt --heldout-liquid heldout/test.xyz --json polymorphs.json
    python scripts/ice_polymorphs.py --model default --small --relax-steps 100   # unit cells: a quick look

Builds the eight polymorphs (Ih, Ic, II, III, V, VI, VII, XI) with GenIce in cells that no training or test
run of the project has (the held-out repeats of symbreak.training.dataset, proton patterns from --seeds, two
per disordered phase), and for each method (q-TIP4P/F by LAMMPS, the model plain, the model averaged) takes
the energy per molecule of the built cell and of its own fixed-cell minimum (L-BFGS; the averaged model
continues from the plain minimum). Energies are relative to each method's mean over the Ih cells. Prints,
in meV/H2O: the phases' relative energies, Kendall tau of each model's phase ranking against q-TIP4P/F, the
RMS error of the relative energies over cells, the symmetry error (RMS and largest change of a relative
energy by averaging), the proton-ordering differences within each phase and how many signs each method gets
wrong where q-TIP4P/F's difference is at least 0.5 meV/H2O; with --heldout-liquid, the force RMSE of the
216-molecule held-out liquid as a fraction of the reference force std. Then each goal, met or not:
  tau >= 0.9, relative-energy error <= 1 meV/H2O rms, symmetry error <= 0.01 meV/H2O rms,
  no proton-ordering sign wrong, liquid force RMSE / std <= 9.3 % (the third model's), and the cost of an MD
  step of 64 H2O (plain and 2i) at most 1.5x the shipped model's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def _progress(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def liquid_force_ratio(model: str, path: str) -> tuple[float, int]:
    """Force RMSE over the reference force std on the held-out liquid frames of ``path`` (source heldout-liquid*)."""
    from symbreak.potentials.registry import load_potential
    from symbreak.training.data import read_labelled

    frames = [d for d in read_labelled(path) if (d.source or "").startswith("heldout-liquid")]
    if not frames:
        raise SystemExit(f"{path} has no frames whose source starts with heldout-liquid")
    potential = load_potential(model)
    predicted = potential.compute([d.structure for d in frames]).forces
    reference = np.concatenate([d.forces for d in frames])
    predicted = np.concatenate(list(predicted)) if isinstance(predicted, (list, tuple)) else np.asarray(predicted)
    rmse = float(np.sqrt(np.mean((predicted.reshape(-1, 3) - reference) ** 2)))
    return rmse / float(np.std(reference)), len(frames)


def step_cost(model: str, old: str = "default", repeats: int = 5) -> dict[str, dict[str, float]]:
    """ms per MD-step call (the server's strategy.compute) of 64 H2O, plain and 2i, for ``old`` and ``model``:
    the calls interleaved, best of ``repeats`` each (a shared machine's noise hits both models alike)."""
    from symbreak.potentials import testing
    from symbreak.potentials.registry import load_potential
    from symbreak.symmetry.strategies import parse_strategy

    box = testing.water_box(n_per_side=4, seed=1)
    calls = {(name, strategy): parse_strategy(strategy, load_potential(spec), diagnostics=True)
             for name, spec in (("old", old), ("new", model)) for strategy in ("plain", "2i")}
    best = {key: float("inf") for key in calls}
    for key, call in calls.items():
        call.compute([box])  # warm-up
    for _ in range(repeats):
        for key, call in calls.items():
            t0 = time.perf_counter()
            call.compute([box])
            best[key] = min(best[key], 1000 * (time.perf_counter() - t0))
    return {name: {strategy: best[(name, strategy)] for strategy in ("plain", "2i")} for name in ("old", "new")}


def main(argv=None) -> int:
    from symbreak.analysis.polymorphs import compare_polymorphs, comparison_table
    from symbreak.study.polymorph_energies import REFERENCE, polymorph_cells, polymorph_energies
    from symbreak.training.dataset import POLYMORPH_HELDOUT_REPEATS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", help="potential spec (default: the shipped model)")
    p.add_argument("--averaged", default="2i", help="the strategy compared with plain (default 2i)")
    p.add_argument("--seeds", type=int, nargs="+", default=[301, 302],
                   help="proton patterns of the disordered phases (default 301 302: no training or test run uses them)")
    p.add_argument("--small", action="store_true", help="one unit cell per phase (12-28 molecules) instead of the held-out cells")
    p.add_argument("--relax-steps", type=int, default=300, help="L-BFGS steps of the reference and plain relaxations")
    p.add_argument("--averaged-steps", type=int, default=10, help="L-BFGS steps of the averaged model from the plain minimum")
    p.add_argument("--heldout-liquid", default=None, metavar="FILE",
                   help="test.xyz of `symbreak dataset --set heldout`: adds the held-out liquid force error")
    p.add_argument("--json", default=None, metavar="FILE", help="write the figures as JSON too")
    p.add_argument("--cost-against", default="default", metavar="SPEC",
                   help="the old model whose cost per MD step (64 H2O, plain and 2i) the model's must stay within "
                        "1.5x of (default: the shipped model; 'none' skips)")
    a = p.parse_args(argv)
    if len(a.seeds) < 2:
        p.error("--seeds needs at least two proton patterns")

    repeats = {name: (1, 1, 1) for name in POLYMORPH_HELDOUT_REPEATS} if a.small else dict(POLYMORPH_HELDOUT_REPEATS)
    cells, structures = polymorph_cells(repeats, seeds=tuple(a.seeds))
    sizes = ", ".join(f"{name} {s.n_atoms // 3}" for name, s in zip(cells.polymorphs, structures))
    print(f"{len(structures)} cells (molecules: {sizes}); model {a.model}, averaged {a.averaged}", flush=True)
    start = time.perf_counter()
    result = polymorph_energies(cells, structures, a.model, averaged=a.averaged, relax_steps=a.relax_steps,
                                averaged_steps=a.averaged_steps, progress=_progress)
    methods = [REFERENCE, "plain", a.averaged]
    figures = {"model": a.model, "averaged": a.averaged, "cells": [list(x) for x in zip(cells.polymorphs, cells.seeds)],
               "seconds": {m: round(s, 1) for m, s in result.seconds.items()}}
    goals = []
    for stage, energies in (("built", result.built), ("relaxed", result.relaxed)):
        c = compare_polymorphs(cells, energies, reference=REFERENCE, averaged=a.averaged)
        print(f"\n{stage} cells (each method {'at its own minimum' if stage == 'relaxed' else 'on the built geometry'}):")
        print(comparison_table(c, methods))
        for m in ("plain", a.averaged):
            print(f"  {m:6s} Kendall tau {c.kendall[m]:+.3f}   relative-energy error {1000 * c.rms_error[m]:.2f} meV/H2O rms   "
                  f"ordering signs wrong {c.sign_errors[m]} of {c.sign_judged}")
        print(f"  symmetry error (plain vs {a.averaged}): {1000 * c.symmetry_rms:.4f} meV/H2O rms, largest "
              f"{1000 * c.symmetry_max:.4f}")
        print("  proton orderings (E(b) - E(a), meV/H2O): " + "; ".join(
            f"{o.polymorph} {o.seed_b}-{o.seed_a}: " + " / ".join(f"{1000 * o.difference[m]:+.2f}" for m in methods)
            for o in c.orderings) + f"  ({' / '.join(methods)})")
        figures[stage] = {
            "phase_energy_meV": {m: {ph: 1000 * v for ph, v in c.phase_energy[m].items()} for m in methods},
            "kendall": dict(c.kendall), "rms_error_meV": {m: 1000 * v for m, v in c.rms_error.items()},
            "symmetry_rms_meV": 1000 * c.symmetry_rms, "symmetry_max_meV": 1000 * c.symmetry_max,
            "sign_errors": dict(c.sign_errors), "sign_judged": c.sign_judged,
            "orderings_meV": [{"polymorph": o.polymorph, "seeds": [o.seed_a, o.seed_b],
                               **{m: 1000 * o.difference[m] for m in methods}} for o in c.orderings],
        }
        if stage == "relaxed":
            goals += [
                ("plain ranks the polymorphs like q-TIP4P/F: Kendall tau >= 0.9", c.kendall["plain"] >= 0.9,
                 f"{c.kendall['plain']:+.3f}"),
                ("plain relative-energy error <= 1 meV/H2O rms", c.rms_error["plain"] <= 1e-3,
                 f"{1000 * c.rms_error['plain']:.2f}"),
                (f"symmetry error plain vs {a.averaged} <= 0.01 meV/H2O rms", c.symmetry_rms <= 1e-5,
                 f"{1000 * c.symmetry_rms:.4f}"),
                ("every proton-ordering sign >= 0.5 meV/H2O right (plain)", c.sign_errors["plain"] == 0,
                 f"{c.sign_errors['plain']} wrong of {c.sign_judged}"),
            ]
    second_order = np.abs(result.relaxed[a.averaged] - result.averaged_at_plain_minimum)
    print(f"\n{a.averaged} relaxation from the plain minimum lowered the energy by at most "
          f"{1000 * second_order.max():.5f} meV/H2O (mean {1000 * second_order.mean():.5f})")
    if a.heldout_liquid:
        ratio, n = liquid_force_ratio(a.model, a.heldout_liquid)
        print(f"held-out liquid ({n} frames): force RMSE / reference force std = {100 * ratio:.2f} %")
        figures["heldout_liquid_force_rmse_over_std"] = ratio
        goals.append(("held-out liquid force RMSE / std <= 9.3 %", ratio <= 0.093, f"{100 * ratio:.2f} %"))
    if a.cost_against != "none":
        cost = step_cost(a.model, a.cost_against)
        ratio = max(cost["new"][k] / cost["old"][k] for k in ("plain", "2i"))
        print("ms per MD-step call of 64 H2O (best of 5, interleaved): " + ", ".join(
            f"{k} {cost['old'][k]:.0f} -> {cost['new'][k]:.0f}" for k in ("plain", "2i")) + f" (old {a.cost_against})")
        figures["ms_per_step_64"] = cost
        goals.append((f"cost per MD step <= 1.5x {a.cost_against}'s (plain and 2i, 64 H2O)", ratio <= 1.5, f"{ratio:.2f}x"))
    print(f"\ngoals ({time.perf_counter() - start:.0f} s):")
    for text, met, value in goals:
        print(f"  [{'met' if met else 'NOT met'}] {text}: {value}")
    figures["goals"] = [{"goal": t, "met": bool(m), "value": v} for t, m, v in goals]
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(figures, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
