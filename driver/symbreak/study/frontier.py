"""The cost-accuracy frontier: what each way of fixing the symmetry costs, and what it fixes.

    entries = frontier_entries("gas")                       # plain, random, 2i+random, plain+notorque, i, 2, 2i, 3i, MTS ...
    runs = frontier_runs("gas", duration_fs=500, seed=7)    # one StudyRun each, all of the same simulated time
    points = [frontier_point(entry, analysis) for ...]      # FrontierPoint: cost and observables of one entry
    frontier = assess(points)                               # Frontier: costs relative to plain, errors vs the reference
    frontier.recommended                                    # the cheapest entry that is good enough (or None)

The isolated molecule (NVE, fixcom) is where broken symmetry shows most
directly: a non-invariant model's net torque turns the angular momentum L,
and an average that is not exactly invariant does so too, less. Each entry
runs for the same simulated time; its cost is its measured wall time per
simulated fs (steady state, start-up excluded) relative to plain's. Its
errors: the change of L (relative to plain's) and the drift of the conserved
energy, as its bound |drift| + 2 sigma (relative to direct 2i's bound, the
averaged run that is affordable everywhere), beside the direct reference (3i
in vacuum, 2i in the liquid, where 3i costs 150 model calls per step). An
entry is **good enough** when its L changes by at most 1 % of plain's and its
drift bound is at most twice direct 2i's: a run too short to bound its drift
is not good enough, however well its wide error bar agrees with the
reference's. The recommended entry is the cheapest good-enough one; the goal
of issue 14 is one at <= 2x the cost of plain. In the liquid (NVT), L is not
conserved; the drift and the orientational anisotropy (equal to the
reference's within 2 combined sigma, with an error bar at most twice the
reference's) judge instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..analysis.results import Observable, RunAnalysis
from .study_run import StudyRun

FrontierSystem = Literal["gas", "liquid"]
SYSTEMS: tuple[FrontierSystem, ...] = ("gas", "liquid")
#: the time step of the direct cases and the inner step of the MTS ones (fs)
INNER_STEP_FS = 0.5
#: good enough: L changes by at most this fraction of plain's change ...
L_CHANGE_LIMIT = 0.01
#: ... and the bound of the conserved energy's drift (|drift| + 2 sigma) is at most this many times direct 2i's
DRIFT_LIMIT = 2.0
#: the cost goal of issue 14, relative to plain
COST_GOAL = 2.0
#: the fewest (outer) steps of a run: enough output rows for a drift with an error bar
MIN_STEPS = 20


@dataclass(frozen=True)
class FrontierEntry:
    """One way of running the model: a strategy at every step, or MTS with an outer grid every ``mts_ratio`` steps."""

    label: str
    strategy: str
    mts_ratio: int | None = None
    #: the entry the others are measured against (direct 3i in vacuum, direct 2i in the liquid)
    reference: bool = False

    @property
    def kind(self) -> Literal["direct", "mts"]:
        return "direct" if self.mts_ratio is None else "mts"

    def case(self, system: FrontierSystem) -> str:
        if system == "gas":
            return "gas-nve" if self.mts_ratio is None else "gas-mts-nve"
        return "liquid-nvt" if self.mts_ratio is None else "liquid-mts"

    @property
    def folder(self) -> str:
        name = self.strategy.replace(":", "_").replace("+", "-")
        return name if self.mts_ratio is None else f"mts-{name}-x{self.mts_ratio}"


MTS_STRIDES = (2, 4, 5, 10, 20)
MTS_GRIDS = ("2", "2i")


def _direct(labels_strategies) -> list[FrontierEntry]:
    return [FrontierEntry(label, strategy) for label, strategy in labels_strategies]


def frontier_entries(system: FrontierSystem) -> list[FrontierEntry]:
    """Every entry of ``system``'s frontier, plain first, the reference marked."""
    common = [("plain", "plain"), ("random", "random:1"), ("2i turned at random", "2i+random:1")]
    if system == "gas":
        entries = _direct(common + [("plain, torque removed", "plain+notorque"), ("i", "i"), ("2", "2"),
                                    ("2i", "2i")])
        entries.append(FrontierEntry("3i", "3i", reference=True))
    else:  # the torque of a periodic system is not defined: the net force alone is removed
        entries = _direct(common + [("plain, net force removed", "plain+nonetforce"), ("i", "i"), ("2", "2")])
        entries.append(FrontierEntry("2i", "2i", reference=True))
    for grid in MTS_GRIDS:
        for stride in MTS_STRIDES:
            entries.append(FrontierEntry(f"MTS {grid} every {stride}", grid, mts_ratio=stride))
    return entries


def frontier_run_name(system: FrontierSystem, entry: FrontierEntry) -> str:
    """The folder of ``entry``'s run: frontier-gas-2i, frontier-liquid-mts-2i-x4, ..."""
    return f"frontier-{system}-{entry.folder}"


def frontier_runs(system: FrontierSystem, duration_fs: float, seed: int, size: int | None = None) -> list[StudyRun]:
    """One run per entry, each ``duration_fs`` long (rounded to whole outer steps), in entry order."""
    runs = []
    for entry in frontier_entries(system):
        outer_fs = INNER_STEP_FS * (entry.mts_ratio or 1)
        steps = max(MIN_STEPS, int(round(duration_fs / outer_fs)))
        runs.append(StudyRun(frontier_run_name(system, entry), "frontier", entry.case(system), entry.strategy,
                             steps=steps, size=size, seed=seed, mts_ratio=entry.mts_ratio, record_reference=False,
                             workers=1))  # costs compare one process each
    return runs


@dataclass(frozen=True)
class FrontierPoint:
    """What one entry's run measured: wall ms per simulated fs and the observables broken symmetry moves."""

    entry: FrontierEntry
    system: FrontierSystem
    ms_per_fs: float | None
    duration_ps: float | None
    L_change: float | None = None  # hbar, largest change of |L| over the run (vacuum)
    drift: Observable | None = None  # eV/H2O/ps, conserved quantity
    anisotropy: Observable | None = None  # the liquid's orientational anisotropy number


def frontier_point(entry: FrontierEntry, system: FrontierSystem, analysis: RunAnalysis, timestep_fs: float) -> FrontierPoint:
    """The point of ``entry`` from its run's analysis; ``timestep_fs`` is the run's (outer) step."""
    ms = analysis.timing.ms_per_step
    return FrontierPoint(entry, system, None if ms is None else ms / timestep_fs, analysis.duration_ps,
                         analysis.value("L_max_change"), analysis.observable("conserved_drift"),
                         analysis.observable("anisotropy"))


@dataclass(frozen=True)
class FrontierRow:
    """One entry, judged: its cost and errors relative to plain, 2i and the reference."""

    point: FrontierPoint
    cost: float | None  # wall time per simulated ps relative to plain's
    L_change_to_plain: float | None  # L change / plain's
    drift_to_2i: float | None  # drift bound (|drift| + 2 sigma) / direct 2i's
    drift_agrees: bool | None  # drift equal to the reference's within 2 combined sigma
    anisotropy_agrees: bool | None
    good_enough: bool | None

    @property
    def label(self) -> str:
        return self.point.entry.label


@dataclass(frozen=True)
class Frontier:
    """All rows of one system, in entry order, and the cheapest good-enough entry."""

    system: FrontierSystem
    rows: tuple[FrontierRow, ...]

    @property
    def recommended(self) -> FrontierRow | None:
        """The cheapest good-enough entry other than the reference (None when none is, or costs are unknown)."""
        good = [r for r in self.rows if r.good_enough and r.cost is not None and not r.point.entry.reference]
        return min(good, key=lambda r: r.cost) if good else None

    @property
    def goal_met(self) -> bool:
        best = self.recommended
        return best is not None and best.cost <= COST_GOAL

    def row(self, label: str) -> FrontierRow | None:
        return next((r for r in self.rows if r.label == label), None)


def _agree(a: Observable | None, b: Observable | None, sigmas: float = 2.0) -> bool | None:
    """Whether two observables agree within ``sigmas`` combined standard errors (None without error bars)."""
    if a is None or b is None or a.value is None or b.value is None or a.error is None or b.error is None:
        return None
    return abs(a.value - b.value) <= sigmas * (a.error ** 2 + b.error ** 2) ** 0.5


def drift_bound(o: Observable | None) -> float | None:
    """|drift| + 2 sigma: how large the drift may be (None without an error bar: a run too short to bound it)."""
    if o is None or o.value is None or o.error is None:
        return None
    return abs(o.value) + 2.0 * o.error


def _decisive_agreement(a: Observable | None, reference: Observable | None) -> bool | None:
    """Equal within 2 combined sigma, with an error bar at most twice the reference's (None without bars)."""
    agree = _agree(a, reference)
    if agree is None:
        return None
    return agree and a.error <= 2.0 * reference.error


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def _judge(point: FrontierPoint, plain: FrontierPoint | None, direct_2i: FrontierPoint | None,
           reference: FrontierPoint | None) -> FrontierRow:
    cost = _ratio(point.ms_per_fs, plain.ms_per_fs if plain else None)
    L_ratio = _ratio(point.L_change, plain.L_change if plain else None)
    drift_2i = _ratio(drift_bound(point.drift), drift_bound(direct_2i.drift) if direct_2i else None)
    drift_agrees = _agree(point.drift, reference.drift if reference else None)
    anisotropy_agrees = _decisive_agreement(point.anisotropy, reference.anisotropy if reference else None)
    drift_ok = drift_2i is not None and drift_2i <= DRIFT_LIMIT
    if point.system == "gas":
        checks = [L_ratio is not None and L_ratio <= L_CHANGE_LIMIT, drift_ok]
    else:
        checks = [drift_ok, bool(anisotropy_agrees)]
    known = point.ms_per_fs is not None and (L_ratio is not None or point.system != "gas")
    return FrontierRow(point, cost, L_ratio, drift_2i, drift_agrees, anisotropy_agrees, all(checks) if known else None)


def assess_runs(system: FrontierSystem, analyses: dict[str, tuple[RunAnalysis, float]]) -> Frontier | None:
    """The frontier of ``system`` from its runs' analyses and (outer) time steps, keyed by run name; None if none ran."""
    points = [frontier_point(e, system, *analyses[name]) for e in frontier_entries(system)
              if (name := frontier_run_name(system, e)) in analyses]
    return assess(points) if points else None


def assess(points: list[FrontierPoint]) -> Frontier:
    """The judged frontier of one system's points (plain, direct 2i and the reference among them)."""
    if not points:
        raise ValueError("no frontier points")
    system = points[0].system
    by_label = {p.entry.label: p for p in points}
    plain = by_label.get("plain")
    direct_2i = by_label.get("2i")
    reference = next((p for p in points if p.entry.reference), None)
    return Frontier(system, tuple(_judge(p, plain, direct_2i, reference) for p in points))


__all__ = ["COST_GOAL", "DRIFT_LIMIT", "INNER_STEP_FS", "L_CHANGE_LIMIT", "MIN_STEPS", "MTS_GRIDS", "MTS_STRIDES",
           "SYSTEMS", "drift_bound", "Frontier", "FrontierEntry", "FrontierPoint", "FrontierRow", "FrontierSystem", "assess", "assess_runs",
           "frontier_entries", "frontier_point", "frontier_run_name", "frontier_runs"]
