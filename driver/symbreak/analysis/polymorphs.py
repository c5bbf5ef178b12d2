"""Ice polymorphs: energies relative to Ih, the ranking of the phases, proton orderings within a phase.

    cells = PolymorphCells(polymorphs=("Ih", "Ih", "VI"), seeds=(1, 2, 1))
    c = compare_polymorphs(cells, {"reference": e_ref, "plain": e_plain, "2i": e_2i}, averaged="2i")
    c.phase_energy["plain"]["VI"]      # eV/H2O above Ih (mean over the cells of each phase)
    c.kendall["plain"], c.rms_error["plain"], c.symmetry_rms, c.sign_errors["plain"]

Energies come per molecule in eV, one value per cell and method. Every
method's energies are taken relative to its own mean over the Ih cells, so
that a constant offset (the model's baseline) cancels. The ranking compares
the phases' mean relative energies (Kendall tau against the reference); the
error is the RMS over all cells of (method - reference) relative energies.
Proton orderings are the differences between cells of the same phase and
size (the first cell of a phase against each other one); a method gets a
sign wrong when the reference's difference is at least ``sign_threshold``
and the method's has the other sign.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import stats

from ..core.errors import InputError

#: eV/H2O: the proton-ordering differences whose sign a model must get right (issue goal: 0.5 meV/H2O)
SIGN_THRESHOLD = 0.5e-3


@dataclass(frozen=True)
class PolymorphCells:
    """Which cells the energies belong to: the phase and the proton-pattern seed of each (same order)."""

    polymorphs: tuple[str, ...]
    seeds: tuple[int, ...]

    def __post_init__(self):
        if len(self.polymorphs) != len(self.seeds):
            raise InputError(f"{len(self.polymorphs)} polymorph names but {len(self.seeds)} seeds")

    @property
    def phases(self) -> tuple[str, ...]:
        """The phases in order of first appearance."""
        return tuple(dict.fromkeys(self.polymorphs))

    def indices(self, phase: str) -> np.ndarray:
        return np.flatnonzero(np.asarray(self.polymorphs) == phase)


@dataclass(frozen=True)
class OrderingDifference:
    """E(cell b) - E(cell a) per molecule (eV) of two proton orderings of one phase, by method."""

    polymorph: str
    seed_a: int
    seed_b: int
    difference: Mapping[str, float]


@dataclass(frozen=True)
class PolymorphComparison:
    """What :func:`compare_polymorphs` finds; energies in eV per molecule, relative to Ih."""

    cells: PolymorphCells
    reference: str
    averaged: str | None
    phases: tuple[str, ...]
    #: method -> phase -> mean relative energy of the phase's cells
    phase_energy: Mapping[str, Mapping[str, float]]
    #: method -> relative energy of every cell
    cell_energy: Mapping[str, tuple[float, ...]]
    #: method -> Kendall tau of the phase ranking against the reference's (1: the same order)
    kendall: Mapping[str, float]
    #: method -> RMS over cells of (method - reference) relative energies
    rms_error: Mapping[str, float]
    #: RMS and largest absolute change of the relative energies by averaging (plain against ``averaged``)
    symmetry_rms: float | None
    symmetry_max: float | None
    orderings: tuple[OrderingDifference, ...]
    #: method -> orderings whose reference difference is >= the threshold and whose sign the method gets wrong
    sign_errors: Mapping[str, int]
    #: orderings whose reference difference reaches the threshold (what ``sign_errors`` counts against)
    sign_judged: int
    sign_threshold: float


def _energies(values, name: str, n: int) -> np.ndarray:
    e = np.asarray(values, dtype=float)
    if e.shape != (n,):
        raise InputError(f"energies '{name}' must have one value per cell ({n}), got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise InputError(f"energies '{name}' contain NaN or infinite values")
    return e


def relative_to_phase(energies: np.ndarray, cells: PolymorphCells, phase: str = "Ih") -> np.ndarray:
    """Usage: relative_to_phase(e, cells) -> (C,) energies minus their mean over the cells of ``phase``."""
    own = cells.indices(phase)
    if len(own) == 0:
        raise InputError(f"no {phase} cell to take energies relative to (phases: {', '.join(cells.phases)})")
    return np.asarray(energies, dtype=float) - float(np.mean(np.asarray(energies, dtype=float)[own]))


def phase_means(relative: np.ndarray, cells: PolymorphCells) -> dict[str, float]:
    """Usage: phase_means(rel, cells) -> {phase: mean relative energy of its cells}."""
    return {phase: float(np.mean(relative[cells.indices(phase)])) for phase in cells.phases}


def kendall_tau(values, reference) -> float:
    """Usage: kendall_tau(model_means, reference_means) -> tau in [-1, 1] (1: the same order)."""
    return float(stats.kendalltau(np.asarray(values), np.asarray(reference)).statistic)


def ordering_differences(relative: Mapping[str, np.ndarray], cells: PolymorphCells) -> tuple[OrderingDifference, ...]:
    """Usage: ordering_differences({method: rel}, cells) -> the first cell of each phase against each other one."""
    out = []
    for phase in cells.phases:
        idx = cells.indices(phase)
        for b in idx[1:]:
            a = idx[0]
            if cells.seeds[a] == cells.seeds[b]:
                continue
            out.append(OrderingDifference(phase, cells.seeds[a], cells.seeds[b],
                                          {m: float(e[b] - e[a]) for m, e in relative.items()}))
    return tuple(out)


def compare_polymorphs(
    cells: PolymorphCells,
    energies: Mapping[str, np.ndarray],
    reference: str = "reference",
    averaged: str | None = None,
    plain: str = "plain",
    sign_threshold: float = SIGN_THRESHOLD,
    relative_phase: str = "Ih",
) -> PolymorphComparison:
    """Usage: compare_polymorphs(cells, {"reference": e, "plain": e1, "2i": e2}, averaged="2i") -> PolymorphComparison."""
    n = len(cells.polymorphs)
    if reference not in energies:
        raise InputError(f"energies need a '{reference}' entry, got {sorted(energies)}")
    if averaged is not None and (averaged not in energies or plain not in energies):
        raise InputError(f"the symmetry change needs '{plain}' and '{averaged}' entries, got {sorted(energies)}")
    relative = {m: relative_to_phase(_energies(e, m, n), cells, relative_phase) for m, e in energies.items()}
    means = {m: phase_means(r, cells) for m, r in relative.items()}
    phases = cells.phases
    ref_means = [means[reference][p] for p in phases]
    others = [m for m in relative if m != reference]
    kendall = {m: kendall_tau([means[m][p] for p in phases], ref_means) for m in others}
    rms = {m: float(np.sqrt(np.mean((relative[m] - relative[reference]) ** 2))) for m in others}
    sym_rms = sym_max = None
    if averaged is not None:
        change = relative[averaged] - relative[plain]
        sym_rms, sym_max = float(np.sqrt(np.mean(change**2))), float(np.max(np.abs(change)))
    orderings = ordering_differences(relative, cells)
    judged = [o for o in orderings if abs(o.difference[reference]) >= sign_threshold]
    sign_errors = {m: sum(1 for o in judged if np.sign(o.difference[m]) != np.sign(o.difference[reference])) for m in others}
    return PolymorphComparison(
        cells=cells, reference=reference, averaged=averaged, phases=phases, phase_energy=means,
        cell_energy={m: tuple(float(x) for x in r) for m, r in relative.items()},
        kendall=kendall, rms_error=rms, symmetry_rms=sym_rms, symmetry_max=sym_max, orderings=orderings,
        sign_errors=sign_errors, sign_judged=len(judged), sign_threshold=sign_threshold,
    )


def comparison_table(c: PolymorphComparison, methods: list[str] | None = None) -> str:
    """Usage: print(comparison_table(c)) -> phases as rows, methods as columns, meV/H2O relative to Ih."""
    methods = methods or [c.reference] + [m for m in c.phase_energy if m != c.reference]
    width = max(12, *(len(m) + 2 for m in methods))
    lines = ["phase" + "".join(f"{m:>{width}s}" for m in methods) + "   (meV/H2O above Ih, mean over cells)"]
    for phase in c.phases:
        lines.append(f"{phase:5s}" + "".join(f"{1000 * c.phase_energy[m][phase]:>{width}.2f}" for m in methods))
    return "\n".join(lines)


__all__ = [
    "SIGN_THRESHOLD",
    "OrderingDifference",
    "PolymorphCells",
    "PolymorphComparison",
    "compare_polymorphs",
    "comparison_table",
    "kendall_tau",
    "ordering_differences",
    "phase_means",
    "relative_to_phase",
]
