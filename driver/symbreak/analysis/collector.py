"""The one writer of a run's observables: every name is checked against the registry as it is written.

    out = ObservableCollector("liquid")
    out.scalar("temperature", 301.2, 1.4, blocks=..., block_times=...)   # unit from the declaration
    out.curve("g_OO", r, g, g_err)                                        # axes from the declaration
    out.scalar("temprature", 300.0)          # UnknownObservable at once: no analysis declares that name
    out.scalar("torque_rms", 1e-3)           # UndeclaredForRun: declared for gas runs, this is a liquid
    out.computed(trajectory)                 # every frame observable declared for liquids (bond_OH, ...)

Units, axes and whether per-block values are kept all come from
:mod:`symbreak.analysis.observables`; the collector refuses block values for an
observable not declared ``paired``. Values are stored as the typed
:class:`~symbreak.analysis.results.Observable` and
:class:`~symbreak.analysis.results.Curve` of the result.
"""

from __future__ import annotations

from .observables import ObservableSpec, UnknownObservable, computed_for, observable_spec
from .results import Map, Observable, curve, number, numbers
from .trajectory import CurveValue, ScalarValue, Trajectory


class UndeclaredForRun(UnknownObservable):
    """An observable written for a kind of run its declaration does not list."""


class ObservableCollector:
    """The scalars, curves, maps and notes of one run of kind ``run_kind``, as they are computed."""

    def __init__(self, run_kind: str):
        self.run_kind = run_kind
        self.scalars: dict[str, Observable] = {}
        self.curves: dict = {}
        self.maps: dict[str, Map] = {}
        self.notes: list[str] = []

    def spec(self, kind: str, name: str) -> ObservableSpec:
        """The declaration of ``name``; UnknownObservable or UndeclaredForRun when it may not be written here."""
        spec = observable_spec(kind, name)
        if self.run_kind not in spec.runs:
            raise UndeclaredForRun(f"the {kind} {name!r} is declared for {'/'.join(spec.runs)} runs, not {self.run_kind}")
        return spec

    def scalar(self, name: str, value, error=None, blocks=None, block_times=None) -> None:
        """Write one number with its error (None: no error bar) and, if declared paired, its block values and times."""
        spec = self.spec("scalar", name)
        paired = {}
        if blocks is not None:
            if not spec.paired:
                raise ValueError(f"{name} is not declared paired: it keeps no block values")
            paired = dict(blocks=numbers(blocks), block_times=numbers(block_times))
        self.scalars[name] = Observable(name, number(value), number(error), spec.unit, **paired)

    def scalar_value(self, name: str, value: ScalarValue) -> None:
        """Write a :class:`ScalarValue` (e.g. ``ScalarValue.block_mean(series, n_blocks, times)``)."""
        self.scalar(name, value.value, value.error, value.blocks, value.block_times)

    def curve(self, name: str, x, y, y_error=None, y_label: str | None = None) -> None:
        """Write y(x); ``y_label`` replaces the declared label of y (its unit stays the declared one)."""
        spec = self.spec("curve", name)
        y_axis = spec.y_axis if y_label is None else (f"{y_label} / {spec.unit}" if spec.unit else y_label)
        self.curves[name] = curve(name, x, y, y_error, spec.x_axis, y_axis)

    def map(self, value: Map) -> None:
        self.spec("map", value.name)
        self.maps[value.name] = value

    def note(self, text: str) -> None:
        self.notes.append(text)

    def computed(self, trajectory: Trajectory) -> None:
        """Every observable declared with ``compute`` for this kind of run, from the frames (None: a note)."""
        for spec in computed_for(self.run_kind):
            value = spec.compute(trajectory)
            if value is None:
                self.note(f"{spec.name} skipped: the molecules broke apart")
            elif spec.kind == "scalar" and isinstance(value, ScalarValue):
                self.scalar_value(spec.name, value)
            elif spec.kind == "curve" and isinstance(value, CurveValue):
                self.curve(spec.name, value.x, value.y, value.y_error)
            else:
                raise TypeError(f"{spec.name} is a {spec.kind}, but its compute returned {type(value).__name__}")


__all__ = ["ObservableCollector", "UndeclaredForRun"]
