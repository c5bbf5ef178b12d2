"""The study's numbers, typed, from the typed results of its runs: the gas table, the replay, the ice cells.

    done = [StudyResult(run, analysis), ...]                  # each StudyRun with its RunAnalysis
    summary = summarize(done, comparisons, single_points)     # StudySummary
    summary.gas[0].L_max_change, summary.ice.relative[0].symmetry_to_spread
    write_json("study/summary.json", summary_document(summary, settings))

Units are those of the analysis (eV, eV per molecule, hbar, deg); the
renderer scales. An ice cell is named by its number from the plan
(``StudyRun.cell``). Relative ice energies: each potential minus its mean over
the cells (:mod:`symbreak.analysis.ice`).

Path-integral runs (``summary.pimd``, one :class:`PimdGroup` per case and
size): per run K_cv(H), K_cv(O) (centroid virial, eV/atom) and Rg(H), Rg(O)
(ring-polymer radius of gyration, A) with their block errors, and per pair of
runs a :class:`PimdVerdict` per observable from the group's Comparison:
"different" (beyond 2 sigma of the difference), "same" (within, and those 2
sigma are below ``PIMD_RESOLUTION`` of the value), or "undecided" (within,
but the error bar is wider than that, or there is none). The error of the
difference is paired (blockwise differences) where the runs share their start,
seed and frame times, as the study's do; else the two error bars combined.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal, Mapping

import numpy as np

from ..analysis.observables import observable_spec
from ..analysis.ice import ranking_agreement, relative_energy_error
from ..analysis.report import SystemRow, summary_rows
from ..analysis.results import Comparison, ConvergenceRow, Observable, RunAnalysis
from .frontier import Frontier
from ..audit.crystal_symmetry import CrystalSymmetryRow
from .polymorph_part import PolymorphSummary
from .frontier_report import frontier_document
from .plan import GRID, StudyRun

#: the three potentials of each ice cell, in table order
ICE_POTENTIALS = ("plain", GRID, "reference")
#: the quantum observables of a path-integral run (analysis names) and how the report names them
PIMD_OBSERVABLES = {name: observable_spec("scalar", name).shown_label
                    for name in ("kinetic_cv_H", "kinetic_cv_O", "rg_H", "rg_O")}
#: the bead g(r)s of a path-integral run (curves; judged by the chi-squared test)
PIMD_CURVES = ("g_OO", "g_OH", "g_HH")
#: "same" counts only when the error bar of the difference (2 sigma) is narrower than this fraction of the value:
#: 5 % is finer than the 10-15 % by which 8 beads under-converge K_cv(H) at 300 K, so a "same" excludes an
#: effect of the broken symmetry as large as the bead error; wider error bars leave the question undecided
PIMD_RESOLUTION = 0.05


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
class PimdRow:
    """One path-integral run: its quantum observables (eV/atom, A) with error bars, and how long it ran."""

    label: str
    name: str
    beads: int
    n_molecules: int
    steps: int
    frames: int
    duration_ps: float | None
    kinetic_cv_H: Observable | None = None
    kinetic_cv_O: Observable | None = None
    rg_H: Observable | None = None
    rg_O: Observable | None = None
    #: 3/2 kT: the kinetic energy per atom without nuclear quantum effects
    kinetic_classical: float | None = None

    def of(self, name: str) -> Observable | None:
        """``row.of("kinetic_cv_H")``: that observable (a key of PIMD_OBSERVABLES)."""
        return getattr(self, name)


@dataclass(frozen=True)
class PimdVerdict:
    """One quantum observable, two runs ("plain|2i"): same, different or undecided, and the numbers behind it."""

    observable: str
    pair: str
    verdict: Literal["same", "different", "undecided"]
    #: second minus first run's value, its standard error (paired blocks where the runs pair up, else the two error
    #: bars combined), and z = |difference| / error
    difference: float | None = None
    error: float | None = None
    z: float | None = None
    #: 2 x the error of the difference as a fraction of the value (the resolution of the test; None without error bars)
    width: float | None = None
    #: why the verdict is "undecided" (error bars wider than PIMD_RESOLUTION, none at all, not judged)
    reason: str = ""
    #: whether ``error`` came from paired blocks (runs sharing start, seed and frame times)
    paired: bool = False


@dataclass(frozen=True)
class PimdGroup:
    """The path-integral runs of one case and size (plain, 2i, reference), their verdicts and the bead g(r)s'."""

    group: str
    case: str
    rows: tuple[PimdRow, ...]
    verdicts: tuple[PimdVerdict, ...] = ()
    #: bead g(r) name -> pair -> verdict of the chi-squared test ("same", "different", or why not judged)
    curves: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    resolution: float = PIMD_RESOLUTION

    def row(self, label: str) -> PimdRow | None:
        return next((r for r in self.rows if r.label == label), None)

    @property
    def averaged_label(self) -> str:
        """The label of the averaged run: ``2i`` run directly, or ``mts:2i`` (the full study's, by multiple time stepping)."""
        return GRID if self.row(GRID) is not None or self.row(f"mts:{GRID}") is None else f"mts:{GRID}"

    def verdict(self, observable: str, a: str, b: str) -> PimdVerdict | None:
        """``group.verdict("kinetic_cv_H", "plain", "2i")``: the verdict of that pair (either order), None if absent."""
        return next((v for v in self.verdicts if v.observable == observable and v.pair in (f"{a}|{b}", f"{b}|{a}")), None)

    def curve_verdicts(self, a: str, b: str) -> dict[str, str | None]:
        """``group.curve_verdicts("plain", "2i")``: bead g(r) name -> that pair's verdict (either order), None if absent."""
        return {name: pairs.get(f"{a}|{b}", pairs.get(f"{b}|{a}")) for name, pairs in self.curves.items()}


@dataclass(frozen=True)
class PimdSummary:
    groups: tuple[PimdGroup, ...] = ()


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
    pimd: PimdSummary = field(default_factory=PimdSummary)
    #: the cost-accuracy frontier of each system that ran (vacuum, liquid)
    frontiers: tuple[Frontier, ...] = ()
    #: the ice polymorphs with plain, 2i and q-TIP4P/F (the polymorphs part), None when it did not run
    polymorphs: PolymorphSummary | None = None
    #: the crystal part: proton-ordered ice relaxed by each method, space groups by tolerance
    crystal: tuple[CrystalSymmetryRow, ...] = ()

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
            grid_plain = ranking_agreement(e[GRID], e["plain"]).kendall
            plain_ref = ranking_agreement(e["plain"], e["reference"]).kendall
        out.append(IceRelative(when, len(complete), spread, symmetry, symmetry / spread if spread > 0 else None,
                               relative_energy_error(e["plain"], e["reference"]),
                               relative_energy_error(e[GRID], e["reference"]), grid_plain, plain_ref))
    return out


def pimd_row(r: RunAnalysis) -> PimdRow:
    """``pimd_row(analysis)``: the quantum observables of one path-integral run."""
    return PimdRow(r.label, r.name, r.beads, r.n_molecules, r.timing.steps, r.frames, r.duration_ps,
                   *(r.observable(name) for name in PIMD_OBSERVABLES), kinetic_classical=r.value("kinetic_classical"))


def pimd_verdict(comparison: Comparison | None, name: str, a: PimdRow, b: PimdRow,
                 resolution: float = PIMD_RESOLUTION) -> PimdVerdict:
    """The verdict of one quantum observable between runs ``a`` and ``b`` (labels), from the group's Comparison.

    "different" as the comparison says (beyond 2 sigma of the difference, paired
    where the runs pair up); its "same" only when those 2 sigma are below
    ``resolution`` of the value, else
    "undecided"; "undecided" too when the comparison could not judge it.
    """
    pair = f"{a.label}|{b.label}"
    oa, ob = a.of(name), b.of(name)
    diff = None if oa is None or ob is None or oa.value is None or ob.value is None else ob.value - oa.value
    found = None if comparison is None else comparison.verdict(name, a.label, b.label)
    if found is not None and found.error is not None:  # the comparison's error of the difference (paired, if it could)
        error = found.error
    else:
        error = None if oa is None or ob is None or oa.error is None or ob.error is None else float(np.hypot(oa.error, ob.error))
    scale = None if diff is None else 0.5 * (abs(oa.value) + abs(ob.value))
    width = 2 * error / scale if error is not None and scale else None
    z = None if found is None else found.statistic
    paired = found is not None and found.paired
    if found is None or not found.judged:
        why = (comparison.not_judged.get(name) if comparison is not None else None) or \
            (found.verdict if found is not None else "not compared")
        return PimdVerdict(name, pair, "undecided", diff, error, z, width, f"not judged: {why}")
    if found.verdict == "different":
        return PimdVerdict(name, pair, "different", diff, error, z, width, paired=paired)
    if width is None:  # identical values without error bars are the same; anything else cannot be decided
        same = diff == 0
        return PimdVerdict(name, pair, "same" if same else "undecided", diff, error, z, width, "" if same else "no error bars",
                           paired)
    if width > resolution:
        return PimdVerdict(name, pair, "undecided", diff, error, z, width,
                           f"error bars (2 sigma) {100 * width:.3g} % of the value, wider than {100 * resolution:g} %",
                           paired)
    return PimdVerdict(name, pair, "same", diff, error, z, width, paired=paired)


def pimd_groups(results: list[StudyResult], comparisons: list[Comparison],
                resolution: float = PIMD_RESOLUTION) -> list[PimdGroup]:
    """One PimdGroup per group of path-integral runs, in the study's order: rows, and verdicts for every pair."""
    by_group: dict[str, list[RunAnalysis]] = {}
    for done in results:
        if done.analysis.kind == "pimd":
            by_group.setdefault(done.analysis.group, []).append(done.analysis)
    groups = []
    for group, analyses in by_group.items():
        rows = [pimd_row(r) for r in analyses]
        comparison = next((c for c in comparisons if c.group == group), None)
        verdicts, curves = [], {}
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                verdicts += [pimd_verdict(comparison, name, a, b, resolution) for name in PIMD_OBSERVABLES]
                for name in PIMD_CURVES:
                    v = None if comparison is None else comparison.verdict(name, a.label, b.label)
                    why = "not compared" if comparison is None else comparison.not_judged.get(name, "not compared")
                    curves.setdefault(name, {})[f"{a.label}|{b.label}"] = why if v is None else v.verdict
        groups.append(PimdGroup(group, analyses[0].case, tuple(rows), tuple(verdicts), curves, resolution))
    return groups


def summarize(results: list[StudyResult], comparisons: list[Comparison], single_points: dict[int, float],
              frontiers: tuple[Frontier, ...] = (), polymorphs: PolymorphSummary | None = None,
              crystal: tuple[CrystalSymmetryRow, ...] = ()) -> StudySummary:
    """``summarize(done, comparisons, single_points)``: the StudySummary of the analysed runs (the frontier's apart)."""
    analyses = [d.analysis for d in results]
    replay = next((r for r in analyses if r.kind == "replay"), None)
    cells = ice_cells(results, single_points)
    return StudySummary(tuple(results), tuple(comparisons), tuple(summary_rows(analyses)), tuple(gas_rows(results)),
                        () if replay is None else replay.convergence, None if replay is None else replay.symmetry_reference,
                        IceSummary(tuple(cells), tuple(ice_relative(cells))),
                        PimdSummary(tuple(pimd_groups(results, comparisons))), tuple(frontiers), polymorphs,
                        tuple(crystal))


def summary_document(summary: StudySummary, settings: dict) -> dict:
    """``summary_document(summary, settings)``: what summary.json holds (settings first, then the numbers)."""
    return {
        **settings,
        "summary": summary.systems,
        "gas": {r.analysis.label: r.analysis.observables for r in summary.results if r.analysis.kind == "gas"},
        "convergence": summary.convergence,
        "symmetry_reference": summary.symmetry_reference,
        "ice": summary.ice,
        "pimd": summary.pimd,
        "frontier": [frontier_document(f) for f in summary.frontiers],
        "polymorphs": summary.polymorphs,
        "crystal": summary.crystal,
        "verdicts": [{"group": c.group, "observables": {o.name: {p: v.verdict for p, v in o.verdicts.items()}
                                                        for o in c.observables.values()},
                      "not_judged": c.not_judged} for c in summary.comparisons],
        "runs": [{"name": r.run.name, "part": r.run.part, "case": r.run.case, "label": r.analysis.label,
                  "cell": r.run.cell, "timing": r.analysis.timing} for r in summary.results],
    }


__all__ = ["GasRow", "ICE_POTENTIALS", "IceCell", "IceRelative", "IceRelaxation", "IceSummary", "PIMD_CURVES",
           "PIMD_OBSERVABLES", "PIMD_RESOLUTION", "PimdGroup", "PimdRow", "PimdSummary", "PimdVerdict", "StudyResult",
           "StudySummary", "gas_rows", "ice_cells", "ice_relative", "pimd_groups", "pimd_row", "pimd_verdict", "summarize",
           "summary_document"]
