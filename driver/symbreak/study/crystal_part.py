"""The study's crystal part: does a relaxation keep the space group of ordered ice? Cached in out/crystal.json.

    rows = crystal_part(Path("study"), "default", QUICK, scale=1.0, log=print)    # CrystalSymmetryRow per relaxation

Proton-ordered ice XI and II relaxed at fixed and relaxed cell by q-TIP4P/F,
plain, random:1 and 2i (:mod:`symbreak.audit.crystal_symmetry`, the audit's
probe); a second study with the same settings reads the rows back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..analysis.results import result_json
from ..audit.crystal_symmetry import CrystalSymmetryRow, crystal_symmetry_probe
from ..core.files import atomic_path
from ..symmetry.space_group import SpaceGroupScan
from .plan import Plan, scaled_steps

CACHE_NAME = "crystal.json"
CACHE_VERSION = 1


def _row(data: dict) -> CrystalSymmetryRow:
    scan = data["scan"]
    return CrystalSymmetryRow(**{**data, "scan": SpaceGroupScan(tuple(scan["tolerances"]), tuple(scan["numbers"]),
                                                               tuple(scan["symbols"]), scan["rms_displacement"])})


def crystal_part(out: Path, potential: str, plan: Plan, scale: float = 1.0,
                 log: Callable[[str], None] = lambda line: None) -> tuple[CrystalSymmetryRow, ...]:
    """Usage: crystal_part(out, "default", QUICK) -> the crystal symmetry rows (computed, or read from out/crystal.json)."""
    settings = {"version": CACHE_VERSION, "potential": potential,
                "averaged_steps": scaled_steps(plan.crystal_averaged_steps, scale, 2)}
    path = Path(out) / CACHE_NAME
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            if data.get("settings") == settings:
                return tuple(_row(row) for row in data["rows"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    rows = crystal_symmetry_probe(potential, averaged_steps=settings["averaged_steps"], log=log)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps({"settings": settings, "rows": result_json(rows)}, indent=1) + "\n")
    return tuple(rows)


__all__ = ["CACHE_NAME", "crystal_part"]
