"""The study's numbers, typed, from the typed results of its runs: the gas table, the replay, the ice cells.

    done = [StudyResult(run, analysis), ...]                  # each StudyRun with its RunAnalysis
    summary = summarize(done, comparisons, single_points)     # StudySummary
    summary.gas[0].L_max_change, summary.ice.relative[0].symmetry_to_spread
    write_json("study/summary.json", summary_document(summary, settings))

Units are those of the analysis (eV, eV per molecule, hbar, deg); the
renderer scales. An ice cell is named by its number from the plan
(``StudyRun.cell``). Relative ice energies: each potential minus its mean over
the cells (:mod:`symbreak.analysis.ice`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..analysis.ice import ranking_agreement, relative_energy_error
from ..analysis.report import SystemRow, summary_rows
from ..analysis.results import Comparison, ConvergenceRow, Observable, RunAnalysis
from .plan import GRID, StudyRun

#: the three potentials of each ice cell, in table order
ICE_POTENTIALS = ("plain", GRID, "reference")


@dataclass(frozen=True)
class StudyResult:
    """One run of the study and its analysis."""

    run: StudyRun
    analysis: RunAnalysis


@dataclass(frozen=True)
class GasRow:
    """One gas-phase run (NVE, or MTS): how much L changed, the torque, the drift, the model error."""

    label: str
    case: str
    L_max_change: float | None  # hbar
    L_direction_change: float | None  # deg
    duration_ps: float | None
    torque_rms: Observable | None  # eV
    conserved_drift: Observable | None  # eV/H2O/ps
    #: V_model - V_ref along the trajectory: mean (offset) and standard deviation (fluctuation), eV
    model_offset: Observable | None
    model_fluctuation: float | None


@dataclass(frozen=True)
class IceRelaxation:
    """One potential on one cell: energy per molecule before and after relaxing (eV), L-BFGS steps, last max |F|."""

    before: float | None = None
    after: float | None = None
    steps: float | None = None
    final_force_max: float | None = None


@dataclass(frozen=True)
class IceCell:
    """One proton-disordered cell: each potential's relaxation, and q-TIP4P/F at the model minima."""

    cell: int
    plain: IceRelaxation
    grid: IceRelaxation
    reference: IceRelaxation
    reference_at_plain_after: float | None = None
    reference_at_grid_after: float | None = None

    def of(self, potential: str) -> IceRelaxation:
        """``cell.of("2i")``: that potential's relaxation (plain, 2i, reference)."""
        return {"plain": self.plain, GRID: self.grid, "reference": self.reference}[potential]

    @property
    def complete(self) -> bool:
        return all(v is not None for r in (self.plain, self.grid, self.reference) for v in (r.before, r.after)) and \
            self.reference_at_plain_after is not None and self.reference_at_grid_after is not None


@dataclass(frozen=True)
class IceRelative:
    """Relative energies of the complete cells, before or after relaxation (eV per molecule)."""

    when: str
    n_cells: int
    #: std of the reference's relative energies: the physics the model must resolve
    spread: float
    #: mean |rel(2i) - rel(plain)|: the symmetry error alone
    symmetry: float
    symmetry_to_spread: float | None
    #: mean |rel(plain) - rel(reference)| and |rel(2i) - rel(reference)|: model (+ symmetry) error
    model_plain: float
    model_grid: float
    #: Kendall tau of the orderings (1 = same order)
    ordering_grid_vs_plain: float
    ordering_plain_vs_reference: float


@dataclass(frozen=True)
class IceSummary:
    cells: tuple[IceCell, ...] = ()
    relative: tuple[IceRelative, ...] = ()


@dataclass(frozen=True)
class StudySummary:
    """Everything the report and summary.json show, as numbers."""

    results: tuple[StudyResult, ...]
    comparisons: tuple[Comparison, ...]
    systems: tuple[SystemRow, ...]
    gas: tuple[GasRow, ...]
    convergence: tuple[ConvergenceRow, ...]
    symmetry_reference: str | None
    ice: IceSummary = field(default_factory=IceSummary)

    @property
    def analyses(self) -> list[RunAnalysis]:
        return [r.analysis for r in self.results]


def gas_rows(results: list[StudyResult]) -> list[GasRow]:
    """``gas_rows(done)``: one row per gas-phase run, in the study's order."""
    rows = []
    for done in results:
        r = done.analysis
        if r.kind != "gas":
            continue
        rows.append(GasRow(r.label, r.case, r.value("L_max_change"), r.value("L_direction_change"), r.duration_ps,
                           r.observable("torque_rms"), r.observable("conserved_drift"), r.observable("model_error_mean"),
                           r.value("model_error_std")))
    return rows


def ice_cells(results: list[StudyResult], single_points: dict[int, float]) -> list[IceCell]:
    """Per cell: before/after energies of plain, 2i and q-TIP4P/F, and the reference at the model minima.

    Before: the three potentials on the same built cell (the 2i energy from
    ``single_points``). After: each relaxed on its own surface (2i from the plain minimum).
    """
    runs: dict[int, dict[str, RunAnalysis]] = {}
    for done in results:
        if done.run.part == "geop" and done.run.cell is not None:
            runs.setdefault(done.run.cell, {})[done.analysis.label] = done.analysis
    cells = []
    for cell, by_label in sorted(runs.items()):
        plain, grid, ref = by_label.get("plain"), by_label.get(GRID), by_label.get("reference")

        def relaxation(r: RunAnalysis | None, before: float | None) -> IceRelaxation:
            if r is None:
                return IceRelaxation(before)
            return IceRelaxation(before, r.value("energy_after"), r.value("optimizer_steps"), r.value("final_force_max"))

        cells.append(IceCell(
            cell,
            plain=relaxation(plain, None if plain is None else plain.value("energy_before")),
            grid=relaxation(grid, single_points.get(cell)),
            reference=relaxation(ref, None if plain is None else plain.value("reference_before")),
            reference_at_plain_after=None if plain is None else plain.value("reference_after"),
            reference_at_grid_after=None if grid is None else grid.value("reference_after"),
        ))
    return cells


def ice_relative(cells: list[IceCell]) -> list[IceRelative]:
    """Relative energies of the complete cells before and after relaxation; none with fewer than two."""
    complete = [c for c in cells if c.complete]
    if len(complete) < 2:
        return []
    out = []
    for when in ("before", "after"):
        e = {p: np.array([getattr(c.of(p), when) for c in complete]) for p in ICE_POTENTIALS}
        spread = float(np.std(e["reference"]))
        symmetry = relative_energy_error(e[GRID], e["plain"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rank correlations of 2 cells may be undefined
            grid_plain = ranking_agreement(e[GRID], e["plain"])["kendall"]
            plain_ref = ranking_agreement(e["plain"], e["reference"])["kendall"]
        out.append(IceRelative(when, len(complete), spread, symmetry, symmetry / spread if spread > 0 else None,
                               relative_energy_error(e["plain"], e["reference"]),
                               relative_energy_error(e[GRID], e["reference"]), grid_plain, plain_ref))
    return out


def summarize(results: list[StudyResult], comparisons: list[Comparison], single_points: dict[int, float]) -> StudySummary:
    """``summarize(done, comparisons, single_points)``: the StudySummary of the analysed runs."""
    analyses = [d.analysis for d in results]
    replay = next((r for r in analyses if r.kind == "replay"), None)
    cells = ice_cells(results, single_points)
    return StudySummary(tuple(results), tuple(comparisons), tuple(summary_rows(analyses)), tuple(gas_rows(results)),
                        () if replay is None else replay.convergence, None if replay is None else replay.symmetry_reference,
                        IceSummary(tuple(cells), tuple(ice_relative(cells))))


def summary_document(summary: StudySummary, settings: dict) -> dict:
    """``summary_document(summary, settings)``: what summary.json holds (settings first, then the numbers)."""
    return {
        **settings,
        "summary": summary.systems,
        "gas": {r.analysis.label: r.analysis.observables for r in summary.results if r.analysis.kind == "gas"},
        "convergence": summary.convergence,
        "symmetry_reference": summary.symmetry_reference,
        "ice": summary.ice,
        "verdicts": [{"group": c.group, "observables": {o.name: {p: v.verdict for p, v in o.verdicts.items()}
                                                        for o in c.observables.values()},
                      "not_judged": c.not_judged} for c in summary.comparisons],
        "runs": [{"name": r.run.name, "part": r.run.part, "case": r.run.case, "label": r.analysis.label,
                  "cell": r.run.cell, "timing": r.analysis.timing} for r in summary.results],
    }


__all__ = ["GasRow", "ICE_POTENTIALS", "IceCell", "IceRelative", "IceRelaxation", "IceSummary", "StudyResult",
           "StudySummary", "gas_rows", "ice_cells", "ice_relative", "summarize", "summary_document"]
