"""The study's polymorph part: the eight ice polymorphs with plain, 2i and q-TIP4P/F, built and relaxed, cached.

    summary = polymorph_part(Path("study"), "default", QUICK, scale=1.0, log=print)
    summary.relaxed.kendall["plain"], summary.relaxed.symmetry_rms, summary.relaxed.sign_errors["plain"]

Ice polymorphs differ by tens of meV/H2O under q-TIP4P/F, the question a local
model can answer (proton orderings of relaxed Ih cells differ by ~0.02
meV/H2O, below any model's resolution: the geop part keeps that question).
The cells, seeds and L-BFGS steps come from the plan; the energies go to
``out/polymorphs.json`` with the settings that made them, and a second study
with the same settings reuses them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..analysis.polymorphs import PolymorphCells, PolymorphComparison, compare_polymorphs
from .part_cache import cached
from .plan import GRID, Plan, scaled_steps
from .polymorph_energies import REFERENCE, polymorph_cells, polymorph_energies

CACHE_NAME = "polymorphs.json"
#: bump when what the cache holds changes meaning
CACHE_VERSION = 2


@dataclass(frozen=True)
class PolymorphSummary:
    """The polymorph part's numbers: comparisons of the built and the relaxed cells (eV per molecule)."""

    built: PolymorphComparison
    relaxed: PolymorphComparison
    molecules: tuple[int, ...]
    #: the largest drop of the 2i energy in its relaxation from the plain minimum (second order in the symmetry error)
    grid_relaxation_drop: float
    seconds: float


def _settings(potential: str, plan: Plan, scale: float) -> dict:
    return {"version": CACHE_VERSION, "potential": potential, "grid": GRID,
            "repeats": {name: list(reps) for name, reps in plan.polymorph_repeats},
            "seeds": list(plan.polymorph_seeds),
            "relax_steps": scaled_steps(plan.polymorph_relax_steps, scale, 3),
            "averaged_steps": scaled_steps(plan.polymorph_averaged_steps, scale, 2)}


def _compute(settings: dict, log: Callable[[str], None]) -> dict:
    cells, structures = polymorph_cells({k: tuple(v) for k, v in settings["repeats"].items()}, tuple(settings["seeds"]))
    start = time.perf_counter()
    result = polymorph_energies(cells, structures, settings["potential"], averaged=GRID,
                                relax_steps=settings["relax_steps"], averaged_steps=settings["averaged_steps"],
                                progress=log)
    return {
        "polymorphs": list(cells.polymorphs), "seeds": list(cells.seeds),
        "molecules": [s.n_atoms // 3 for s in structures],
        "built": {m: [float(x) for x in e] for m, e in result.built.items()},
        "relaxed": {m: [float(x) for x in e] for m, e in result.relaxed.items()},
        "grid_at_plain_minimum": [float(x) for x in result.averaged_at_plain_minimum],
        "seconds": time.perf_counter() - start,
    }


def polymorph_part(out: Path, potential: str, plan: Plan, scale: float = 1.0,
                   log: Callable[[str], None] = lambda line: None) -> PolymorphSummary:
    """Usage: polymorph_part(out, "default", QUICK) -> PolymorphSummary (computed, or read from out/polymorphs.json)."""
    settings = _settings(potential, plan, scale)
    data = cached(Path(out) / CACHE_NAME, settings, lambda: _compute(settings, log), log)
    cells = PolymorphCells(tuple(data["polymorphs"]), tuple(int(s) for s in data["seeds"]))
    energies = {stage: {m: np.asarray(e) for m, e in data[stage].items()} for stage in ("built", "relaxed")}
    drop = np.asarray(data["grid_at_plain_minimum"]) - energies["relaxed"][GRID]
    return PolymorphSummary(
        built=compare_polymorphs(cells, energies["built"], reference=REFERENCE, averaged=GRID),
        relaxed=compare_polymorphs(cells, energies["relaxed"], reference=REFERENCE, averaged=GRID),
        molecules=tuple(int(n) for n in data["molecules"]),
        grid_relaxation_drop=float(np.max(drop)),
        seconds=float(data["seconds"]),
    )


__all__ = ["CACHE_NAME", "PolymorphSummary", "polymorph_part"]
