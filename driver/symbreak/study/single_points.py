"""The model with a grid on each built ice cell, in-process: the 2i energies before relaxation.

    energies = ice_single_points(Path("study"), "default", {1: Path("study/ice-geop-1-plain/init.xyz"), ...})
    energies[1]                                   # eV per molecule

The 2i relaxation starts from the plain minimum, so its energy at the built
cell comes from here. Cached in out/ice-single-points.json (per potential and
strategy; keys are the cells' numbers).
"""

from __future__ import annotations

import json
from pathlib import Path

from .plan import GRID


def ice_single_points(out: Path, potential: str, cells: dict[int, Path], strategy: str = GRID) -> dict[int, float]:
    """``ice_single_points(out, potential, {cell: init.xyz})``: {cell: E_strategy(x0) per molecule}, cached."""
    import numpy as np

    from ..potentials.registry import load_potential
    from ..structures.io import read_structures
    from ..symmetry.strategies import parse_strategy

    cache_path = out / "ice-single-points.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    key = f"{potential}|{strategy}"
    energies = {int(cell): float(e) for cell, e in cache.get(key, {}).items()}
    todo = {cell: path for cell, path in cells.items() if cell not in energies}
    if todo:
        base = load_potential(potential)
        model = parse_strategy(strategy, base, diagnostics=False)
        try:
            order = sorted(todo)
            structures = [read_structures(str(todo[cell]))[0] for cell in order]
            computed = np.asarray(model.compute(structures).energies, dtype=float)  # the strategy chunks the copies
            energies.update({cell: float(e) / (s.n_atoms // 3) for cell, e, s in zip(order, computed, structures)})
        finally:
            getattr(base, "close", lambda: None)()
        cache[key] = {str(cell): e for cell, e in sorted(energies.items())}
        cache_path.write_text(json.dumps(cache, indent=1) + "\n")
    return {cell: energies[cell] for cell in cells if cell in energies}


__all__ = ["ice_single_points"]
