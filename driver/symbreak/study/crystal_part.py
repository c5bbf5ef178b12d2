"""The study's crystal part: does a relaxation keep the space group of ordered ice? Cached in out/crystal.json.

    rows = crystal_part(Path("study"), "default", QUICK, scale=1.0, log=print)    # CrystalSymmetryRow per relaxation

Proton-ordered ice XI and II relaxed at fixed and relaxed cell by q-TIP4P/F,
plain, random:1 and 2i (:mod:`symbreak.audit.crystal_symmetry`, the audit's
probe); a second study with the same settings reads the rows back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..analysis.results import result_json
from ..audit.crystal_symmetry import CrystalSymmetryRow, crystal_row_from_json, crystal_symmetry_probe
from .part_cache import cached
from .plan import Plan, scaled_steps

CACHE_NAME = "crystal.json"
CACHE_VERSION = 2


def crystal_part(out: Path, potential: str, plan: Plan, scale: float = 1.0,
                 log: Callable[[str], None] = lambda line: None) -> tuple[CrystalSymmetryRow, ...]:
    """Usage: crystal_part(out, "default", QUICK) -> the crystal symmetry rows (computed, or read from out/crystal.json)."""
    settings = {"version": CACHE_VERSION, "potential": potential,
                "averaged_steps": scaled_steps(plan.crystal_averaged_steps, scale, 2)}
    rows = cached(Path(out) / CACHE_NAME, settings,
                  lambda: result_json(crystal_symmetry_probe(potential, averaged_steps=settings["averaged_steps"],
                                                             log=log)), log)
    return tuple(crystal_row_from_json(row) for row in rows)


__all__ = ["CACHE_NAME", "crystal_part"]
