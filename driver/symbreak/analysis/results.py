"""Typed analysis results: what :func:`~symbreak.analysis.run_analysis.analyze_run` returns and analysis.json holds.

    r = analyze_run("runs/gas-plain")              # RunAnalysis
    r.observables["torque_rms"].value              # Observable: value, error, unit, name
    r.value("torque_rms", scale=1e3)               # the value (x scale), None when the run has no such observable
    r.curves["L_change"].x, r.curves["L_change"].y_axis
    write_result("runs/gas-plain/analysis.json", r); read_analysis("runs/gas-plain/analysis.json") == r

Frozen dataclasses, read by attribute: a misspelt attribute is an AttributeError
and a misspelt observable name given to :meth:`RunAnalysis.value` an
:class:`UnknownObservable`, never a silent None. Numbers that are NaN or
infinite are stored as None. Which names exist, with their units, is
declared once in :mod:`symbreak.analysis.observables`. The JSON layout is ``asdict`` of these types
(one writer, :func:`result_json`, one reader per top-level type).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, Mapping

import numpy as np

from ..core.errors import InputError
from .observables import RUN_KINDS, RunKind, UnknownObservable, check_name

#: the outcome of comparing one observable between two runs
VerdictKind = Literal["same", "different", "no error bar", "no value", "incomparable"]


def number(v) -> float | None:
    """``number(np.float64(1.5))`` -> 1.5: a plain float, None for None, NaN or infinity."""
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def numbers(a) -> tuple[float | None, ...]:
    """``numbers(array)``: the flattened values as a tuple of :func:`number`."""
    return tuple(number(v) for v in np.asarray(a, dtype=float).ravel())


def _split_axis(text: str) -> tuple[str, str]:
    label, _, unit = text.partition(" / ")
    return label, unit


def _axis(label: str, unit: str) -> str:
    return f"{label} / {unit}" if unit else label


@dataclass(frozen=True)
class Observable:
    """One number of a run with its standard error (None: no error bar) and unit.

    A block-averaged mean also keeps its per-block values (``blocks``) and the
    mean time of each block's frames (``block_times``, ps): two runs that share
    their start and their thermostat's noise are then compared block by block
    (:func:`~symbreak.analysis.compare.scalar_verdict`), a far sharper test of
    their difference than two independent error bars.
    """

    name: str
    value: float | None
    error: float | None = None
    unit: str = ""
    blocks: tuple[float | None, ...] | None = None
    block_times: tuple[float | None, ...] | None = None

    @property
    def has_error(self) -> bool:
        """True when the value comes with a (non-zero) error bar."""
        return self.value is not None and self.error is not None and self.error > 0


@dataclass(frozen=True)
class Curve:
    """y(x) with optional standard errors of y; labels and units of both axes."""

    name: str
    x: tuple[float | None, ...]
    y: tuple[float | None, ...]
    y_error: tuple[float | None, ...] | None = None
    x_label: str = ""
    x_unit: str = ""
    y_label: str = ""
    y_unit: str = ""

    @property
    def x_axis(self) -> str:
        """``curve.x_axis``: "time / ps"."""
        return _axis(self.x_label, self.x_unit)

    @property
    def y_axis(self) -> str:
        """``curve.y_axis``: "|L(t) - L(0)| / hbar"."""
        return _axis(self.y_label, self.y_unit)

    @property
    def has_error(self) -> bool:
        return self.y_error is not None


def curve(name: str, x, y, y_error=None, x_axis: str = "", y_axis: str = "") -> Curve:
    """``curve("g_OO", r, g, g_err, "r / A", "g_OO(r)")``: a Curve from arrays and "label / unit" axis texts."""
    xl, xu = _split_axis(x_axis)
    yl, yu = _split_axis(y_axis)
    return Curve(name, numbers(x), numbers(y), None if y_error is None else numbers(y_error), xl, xu, yl, yu)


@dataclass(frozen=True)
class Map:
    """z(y, x) on a grid (the orientational free energy F(cos theta, phi))."""

    name: str
    x: tuple[float | None, ...]
    y: tuple[float | None, ...]
    z: tuple[tuple[float | None, ...], ...]
    x_label: str = ""
    y_label: str = ""


@dataclass(frozen=True)
class ConvergenceRow:
    """One strategy of a replay: model error (vs the reference) and symmetry error (vs the largest grid).

    Energies in eV per molecule, forces eV/A per component; None where not measured.
    """

    strategy: str
    evaluations: int
    model_energy_mae: float | None = None
    model_force_mae: float | None = None
    symmetry_energy_mae: float | None = None
    symmetry_force_mae: float | None = None
    energy_spread: float | None = None
    force_plain_minus_averaged_rms: float | None = None


@dataclass(frozen=True)
class Timing:
    """Cost of a run from its manifest: wall seconds, steps, ms per step (None when unknown)."""

    wall_seconds: float | None = None
    steps: int = 0
    ms_per_step: float | None = None


@dataclass(frozen=True)
class RunAnalysis:
    """The observables of one run folder (see :mod:`symbreak.analysis.run_analysis`)."""

    run: str
    case: str
    kind: RunKind
    label: str
    potential: str | None
    strategy: str | None
    beads: int
    finished: bool
    group: str
    n_molecules: int
    frames: int
    timing: Timing
    duration_ps: float | None = None
    observables: Mapping[str, Observable] = field(default_factory=dict)
    curves: Mapping[str, Curve] = field(default_factory=dict)
    maps: Mapping[str, Map] = field(default_factory=dict)
    #: replay only: one row per strategy, cheapest first
    convergence: tuple[ConvergenceRow, ...] = ()
    #: the grid whose extras gave symmetry_error_extras; the largest grid of a replay
    symmetry_grid: str | None = None
    symmetry_reference: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The run folder's name."""
        return Path(self.run).name

    def observable(self, name: str) -> Observable | None:
        """``r.observable("torque_rms")``: the Observable, None if this run lacks it; UnknownObservable for a typo."""
        return self.observables.get(check_name(name, "scalar"))

    def value(self, name: str, scale: float = 1.0) -> float | None:
        """``r.value("torque_rms", 1e3)``: the value times ``scale``, None when absent; UnknownObservable for a typo."""
        o = self.observable(name)
        return None if o is None or o.value is None else o.value * scale


@dataclass(frozen=True)
class Verdict:
    """One observable, two runs: ``verdict`` and its statistic (z for scalars, chi^2 per point for curves)."""

    verdict: VerdictKind
    statistic: float | None = None
    statistic_name: Literal["z", "chi2/n"] = "z"
    points: int | None = None
    values: tuple[float | None, float | None] | None = None
    #: scalars: the standard error of the difference that z divides by, and whether it came from paired blocks
    error: float | None = None
    paired: bool = False

    @property
    def judged(self) -> bool:
        return self.verdict in ("same", "different")

    @property
    def width(self) -> float | None:
        """2 x the error of the difference as a fraction of the values' mean magnitude: what the test resolves."""
        if self.error is None or self.values is None or None in self.values:
            return None
        scale = 0.5 * (abs(self.values[0]) + abs(self.values[1]))
        return 2.0 * self.error / scale if scale > 0 else None

    def text(self) -> str:
        """``v.text()``: "different (z 12)", "same (paired z 0.41; 2 sigma 1.2 %)"."""
        if self.statistic is None:
            return self.verdict
        name = f"paired {self.statistic_name}" if self.paired else self.statistic_name
        width = self.width
        return self.verdict + f" ({name} {self.statistic:.2g}" + ("" if width is None else f"; 2 sigma {100 * width:.2g} %") + ")"


@dataclass(frozen=True)
class ObservableComparison:
    """Verdicts of one observable over every pair of runs of a group ("a|b" -> Verdict)."""

    name: str
    kind: Literal["scalar", "curve"]
    unit: str
    verdicts: Mapping[str, Verdict]

    @property
    def differs(self) -> bool:
        return any(v.verdict == "different" for v in self.verdicts.values())


@dataclass(frozen=True)
class Comparison:
    """Every judged observable of one group of comparable runs, and those not judged with the reason."""

    group: str
    case: str
    runs: tuple[str, ...]
    pairs: tuple[str, ...]
    observables: Mapping[str, ObservableComparison]
    #: observable -> why it gets no verdict (no error bar, not comparable between these runs)
    not_judged: Mapping[str, str] = field(default_factory=dict)

    def verdict(self, name: str, a: str, b: str) -> Verdict | None:
        """``c.verdict("torque_rms", "plain", "2i")``: the verdict of a pair (either order), None if not judged."""
        o = self.observables.get(name)
        if o is None:
            return None
        return o.verdicts.get(f"{a}|{b}") or o.verdicts.get(f"{b}|{a}")

    @property
    def different(self) -> list[ObservableComparison]:
        return [o for o in self.observables.values() if o.differs]


# --- JSON ---------------------------------------------------------------------------------------

def _clean(data):
    if isinstance(data, Mapping):
        return {str(k): _clean(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_clean(v) for v in data]
    if hasattr(data, "tolist"):
        return _clean(data.tolist())
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def result_json(data) -> object:
    """``result_json(r)``: the JSON-ready form of a result dataclass (or of lists/dicts of them); NaN -> null."""
    if hasattr(data, "__dataclass_fields__"):
        data = {f.name: getattr(data, f.name) for f in fields(data)}
        return {k: result_json(v) for k, v in data.items()}
    if isinstance(data, Mapping):
        return {str(k): result_json(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [result_json(v) for v in data]
    return _clean(data)


def write_json(path, data) -> Path:
    """``write_json(path, data)``: indented JSON of dataclasses, dicts and lists, NaN written as null."""
    path = Path(path)
    path.write_text(json.dumps(result_json(data), indent=1, allow_nan=False))
    return path


def _tuple(v):
    return None if v is None else tuple(v)


def _build(cls, data: dict, **nested):
    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in known}
    values.update(nested)
    return cls(**values)


def run_analysis_from_json(data: dict) -> RunAnalysis:
    """``run_analysis_from_json(json.load(f))``: the RunAnalysis that :func:`result_json` wrote."""
    try:
        observables = {k: _build(Observable, v, blocks=_tuple(v.get("blocks")), block_times=_tuple(v.get("block_times")))
                       for k, v in data.get("observables", {}).items()}
        curves = {k: _build(Curve, v, x=tuple(v["x"]), y=tuple(v["y"]), y_error=_tuple(v.get("y_error")))
                  for k, v in data.get("curves", {}).items()}
        maps = {k: _build(Map, v, x=tuple(v["x"]), y=tuple(v["y"]), z=tuple(tuple(row) for row in v["z"]))
                for k, v in data.get("maps", {}).items()}
        return _build(RunAnalysis, data, timing=_build(Timing, data.get("timing", {})), observables=observables,
                      curves=curves, maps=maps, notes=tuple(data.get("notes", ())),
                      convergence=tuple(_build(ConvergenceRow, row) for row in data.get("convergence", ())))
    except (KeyError, TypeError) as err:
        raise InputError(f"not an analysis written by symbreak ({type(err).__name__}: {err})") from None


def comparison_from_json(data: dict) -> Comparison:
    """``comparison_from_json(json.load(f)[0])``: one Comparison of comparison.json."""
    try:
        observables = {
            k: _build(ObservableComparison, v, verdicts={
                p: _build(Verdict, d, values=_tuple(d.get("values"))) for p, d in v["verdicts"].items()})
            for k, v in data.get("observables", {}).items()
        }
        return _build(Comparison, data, runs=tuple(data["runs"]), pairs=tuple(data["pairs"]), observables=observables,
                      not_judged=dict(data.get("not_judged", {})))
    except (KeyError, TypeError) as err:
        raise InputError(f"not a comparison written by symbreak ({type(err).__name__}: {err})") from None


def read_analysis(path) -> RunAnalysis:
    """``read_analysis("runs/gas-plain/analysis.json")``: the RunAnalysis written there."""
    return run_analysis_from_json(json.loads(Path(path).read_text()))


def read_comparisons(path) -> list[Comparison]:
    """``read_comparisons("study/comparison.json")``: the comparisons written there."""
    return [comparison_from_json(d) for d in json.loads(Path(path).read_text())]


__all__ = [
    "RUN_KINDS", "Comparison", "ConvergenceRow", "Curve", "RunKind", "Map", "Observable", "ObservableComparison",
    "RunAnalysis", "Timing", "UnknownObservable", "Verdict", "VerdictKind", "check_name", "comparison_from_json",
    "curve", "number", "numbers", "read_analysis", "read_comparisons", "result_json", "run_analysis_from_json",
    "write_json",
]
