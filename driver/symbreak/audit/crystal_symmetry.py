"""Does a relaxation keep the crystal's space group? Proton-ordered ice relaxed by each method, spglib at 1e-1..1e-5 A.

    rows = crystal_symmetry_probe("default", polymorphs=("XI", "II"), log=print)
    rows[0].polymorph, rows[0].method, rows[0].cell_relaxed, rows[0].scan.symbols, rows[0].lost_at

Each proton-ordered crystal (GenIce's ice XI and ice II, one unit cell) is
relaxed at fixed cell and with the cell relaxed (ASE's BFGS, FrechetCellFilter)
by q-TIP4P/F (``reference``), the model plain, the model with a random rotation
per call (``random:1``) and the model averaged (``2i``), each from the built
crystal (not 2i from the plain minimum, as the energy comparisons do: a
minimum that has already lost the symmetry can lead an invariant potential to
a nearby minimum without it, and the question is what each method does to the
crystal). The built
crystal has its space group exactly (GenIce's lattice, the same molecule on
every site); an invariant potential keeps it, and the tolerance at which a
method's minimum loses it measures how far that method moved the atoms off the
crystal's symmetry. ``random`` forces change on every call: its relaxation
stops at ``random_steps`` without converging, as such a run would in practice.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

from ..core.structure import Structure
from ..symmetry.space_group import SpaceGroupScan, space_group, space_group_scan

#: the methods, in table order: q-TIP4P/F, then the model's strategies
METHODS = ("reference", "plain", "random:1", "2i")


@dataclass(frozen=True)
class CrystalSymmetryRow:
    """One relaxation: the crystal, the method, fixed or relaxed cell, and the space groups of its minimum."""

    polymorph: str
    method: str
    cell_relaxed: bool
    steps: int
    converged: bool
    #: the built crystal's space group (number and symbol), which an invariant potential keeps
    crystal_group: int
    crystal_symbol: str
    scan: SpaceGroupScan
    #: the largest tolerance (A) at which the crystal's group is no longer found; None: kept at every tolerance
    lost_at: float | None
    energy_per_molecule: float
    seconds: float


def crystal_row_from_json(data: dict) -> CrystalSymmetryRow:
    """Usage: crystal_row_from_json(result_json(row)) -> the CrystalSymmetryRow again (audit.json, the study's cache)."""
    scan = data["scan"]
    fields = {k: v for k, v in data.items() if k in CrystalSymmetryRow.__dataclass_fields__}
    return CrystalSymmetryRow(**{**fields, "scan": SpaceGroupScan(tuple(scan["tolerances"]), tuple(scan["numbers"]),
                                                                 tuple(scan["symbols"]), scan["rms_displacement"])})


def _relax(structure: Structure, calculator, cell_relaxed: bool, steps: int, fmax: float) -> tuple[Structure, int, bool, float]:
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    atoms = structure.to_atoms()
    atoms.calc = calculator
    optimizer = BFGS(FrechetCellFilter(atoms) if cell_relaxed else atoms, logfile=None)
    with warnings.catch_warnings():
        # the filter's matrix logarithm of a near-identity deformation: scipy warns of errors of ~1e-13
        warnings.filterwarnings("ignore", message="logm result may be inaccurate", category=RuntimeWarning)
        converged = bool(optimizer.run(fmax=fmax, steps=steps))
    energy = float(atoms.get_potential_energy()) / (len(atoms) // 3)
    return Structure.from_atoms(atoms), int(optimizer.nsteps), converged, energy


def crystal_symmetry_probe(potential: str, polymorphs=("XI", "II"), *, steps: int = 300, averaged_steps: int = 100,
                           random_steps: int = 60, fmax: float = 0.005, reference: str = "qtip4pf",
                           log=lambda line: None) -> list[CrystalSymmetryRow]:
    """Usage: crystal_symmetry_probe("default") -> one CrystalSymmetryRow per crystal, method and cell mode."""
    from ..ase import SymbreakCalculator
    from ..structures.polymorphs import POLYMORPHS, ice_polymorph

    from ..potentials.registry import load_potential

    rows = []
    reference_potential = load_potential(reference)
    model = reference_potential if potential == reference else load_potential(potential)
    calculators = {"reference": SymbreakCalculator(reference_potential)}
    for method in METHODS[1:]:
        calculators[method] = SymbreakCalculator(model, strategy=method)
    try:
        for name in polymorphs:
            if not POLYMORPHS[name].ordered:
                raise ValueError(f"the crystal symmetry probe needs a proton-ordered crystal (II, XI), not {name}")
            crystal = ice_polymorph(name)
            group, symbol = space_group(crystal, 1e-5)
            for cell_relaxed in (False, True):
                for method in METHODS:
                    start = time.perf_counter()
                    limit = {"2i": averaged_steps, "random:1": random_steps}.get(method, steps)
                    found, n, converged, energy = _relax(crystal, calculators[method], cell_relaxed, limit, fmax)
                    scan = space_group_scan(found)
                    rows.append(CrystalSymmetryRow(name, method, cell_relaxed, n, converged, group, symbol, scan,
                                                   scan.lost_at(group), energy, time.perf_counter() - start))
                    log(f"ice {name} {'cell relaxed' if cell_relaxed else 'fixed cell'} {method}: {n} steps, "
                        f"space group at 1e-5 A {scan.symbols[-1]}")
    finally:
        for held in {id(p): p for p in (reference_potential, model)}.values():
            held.close()
    return rows


def _rms_text(rms: float | None) -> str:
    return "-" if rms is None else f"{rms:.2e}"


def crystal_symmetry_table(rows: list[CrystalSymmetryRow]) -> str:
    """Usage: print(crystal_symmetry_table(rows)) -> the space group of every minimum by tolerance, as text."""
    tolerances = rows[0].scan.tolerances if rows else ()
    header = (f"{'crystal':8s}{'cell':8s}{'method':10s}" + "".join(f"{t:>16.0e}" for t in tolerances)
              + f"{'lost at (A)':>13s}{'RMS dev (A)':>13s}{'steps':>7s}")
    lines = [header]
    for r in rows:
        lines.append(f"{r.polymorph:8s}{'relaxed' if r.cell_relaxed else 'fixed':8s}{r.method:10s}"
                     + "".join(f"{s:>16s}" for s in r.scan.symbols)
                     + f"{'kept' if r.lost_at is None else format(r.lost_at, '.0e'):>13s}"
                     + f"{_rms_text(r.scan.rms_from_symmetry):>13s}{r.steps:>6d}{'' if r.converged else '*'}")
    lines.append("(* not converged: the step limit; space groups by spglib at each tolerance in A; "
                 "'lost at': the largest tolerance at which the built crystal's group is not found; "
                 "RMS dev: from the structure symmetrized at 1e-1 A, - where no symmetry is left there)")
    return "\n".join(lines)


__all__ = ["METHODS", "CrystalSymmetryRow", "crystal_row_from_json", "crystal_symmetry_probe", "crystal_symmetry_table"]
