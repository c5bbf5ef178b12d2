"""What a server does with one i-PI request: convert, check, evaluate, convert back.

    service = ForceService(parse_strategy("2i", load_potential("toy")), numbers)
    results = service(cells_ipi, positions_ipi)   # [(pot, forces, virial, extras_json)]

This object is the ``evaluate`` callback of :class:`~symbreak.server.protocol.IPIClient`
and of the in-process i-PI PES (:mod:`symbreak.server.ipi_pes`), so both
conventions share every check and every conversion.
"""

from __future__ import annotations

import json
import time

import numpy as np

from ..core.errors import InputError
from ..core.structure import Structure
from ..potentials.base import Potential
from . import units


def water_numbers(n_atoms: int) -> np.ndarray:
    """O, H, H repeated: the species assumed when no structure file is given."""
    if n_atoms % 3:
        raise InputError(
            f"i-PI sent {n_atoms} atoms, not a multiple of 3: pass --structure FILE "
            "(the i-PI initial structure) so the server knows the species"
        )
    return np.tile([8, 1, 1], n_atoms // 3)


class ForceService:
    """Evaluates batches of i-PI structures with a potential (usually a strategy wrapper)."""

    def __init__(self, potential: Potential, numbers: np.ndarray | None = None, vacuum: bool = False):
        self.potential = potential
        self.numbers = None if numbers is None else np.asarray(numbers)
        self.vacuum = vacuum
        self.calls = 0
        self.structures = 0
        self.seconds = 0.0
        if self.numbers is not None:
            potential.check_species(self.numbers)

    def structure(self, cell, positions) -> Structure:
        pos = units.positions_from_ipi(positions)
        if not np.all(np.isfinite(pos)):
            raise InputError("i-PI sent non-finite (NaN or inf) positions: the simulation has blown up")
        if self.numbers is None:
            self.numbers = water_numbers(len(pos))
            self.potential.check_species(self.numbers)
        if len(pos) != len(self.numbers):
            raise InputError(
                f"i-PI sent {len(pos)} atoms but the structure has {len(self.numbers)}: "
                "check that --structure matches i-PI's initial configuration"
            )
        rows = None
        if not self.vacuum:
            rows = units.cell_from_ipi(cell)
            if not np.all(np.isfinite(rows)) or abs(np.linalg.det(rows)) < 1e-8:
                raise InputError("i-PI sent a singular or non-finite cell: give a box, or serve with --vacuum")
        return Structure(pos, self.numbers, rows)

    def __call__(self, cells: list, positions: list) -> list:
        start = time.perf_counter()
        structures = [self.structure(c, q) for c, q in zip(cells, positions)]
        out = self.potential.compute(structures)
        results = []
        for k in range(len(structures)):
            energy = float(out.energies[k])
            if not np.isfinite(energy) or not np.all(np.isfinite(out.forces[k])):
                raise InputError(f"the potential returned a non-finite energy or forces ({energy})")
            extras = out.extras[k] if k < len(out.extras) else {}
            results.append(
                (
                    units.energy_to_ipi(energy),
                    units.forces_to_ipi(out.forces[k]),
                    units.virial_to_ipi(out.virials[k]),
                    json.dumps(extras) if extras else "",
                )
            )
        self.calls += 1
        self.structures += len(structures)
        self.seconds += time.perf_counter() - start
        return results
