"""The registry of observables: every number and curve an analysis writes, declared once.

    spec = observable_spec("scalar", "kinetic_cv_H")   # ObservableSpec of the template "kinetic_cv_{element}"
    spec.unit, spec.runs, spec.compared, spec.paired  # "eV/atom", {"pimd"}, True, True
    spec.shown_label, spec.shown(1.2e-1)              # "K_cv(H)", (120.0, "meV")
    check_name("torque_rms")                          # the name, or UnknownObservable (a typo) at once

As i-PI declares each output property once (its dimension, help and function
in one entry), each observable here is one :class:`ObservableSpec`: its name
(or a name template with one ``{placeholder}``: ``rg_{element}``), kind
(scalar, curve or map), unit, the kinds of run that have it, whether runs
are judged on it (``compared``; False for diagnostics of the strategy or of
the integrator), whether it keeps per-block values for paired comparisons
(``paired``), why it has no common meaning in some kind of run
(``not_comparable``), how it is shown (label, scale, unit) and, for an
observable computed from the frames alone, the function (``compute``, see
:mod:`symbreak.analysis.frame_observables`). The writer
(:class:`~symbreak.analysis.collector.ObservableCollector`) refuses names and
run kinds not declared here; :mod:`~symbreak.analysis.compare` judges only
``compared`` ones; reports take labels and units from here.

Adding an observable: write its function (a building block on arrays and a
``compute`` on a :class:`~symbreak.analysis.trajectory.Trajectory`) and add
one entry to :data:`OBSERVABLES`; ``analyze_run`` computes it for every run
whose kind is listed, ``symbreak analyze`` compares and reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Literal, Mapping, get_args

from ..core.errors import InputError
from . import frame_observables as frames
from .trajectory import CurveValue, ScalarValue, Trajectory

#: what a run is, as the analysis sees it (RunFolder.kind)
RunKind = Literal["gas", "liquid", "ice", "pimd", "geop", "replay"]
RUN_KINDS: tuple[str, ...] = get_args(RunKind)
#: scalars (a value and its error), curves (y(x)), maps (z(y, x))
ObservableKind = Literal["scalar", "curve", "map"]
OBSERVABLE_KINDS: tuple[str, ...] = get_args(ObservableKind)

#: the molecular-dynamics kinds, and those of a periodic box
MD: tuple[RunKind, ...] = ("gas", "liquid", "ice", "pimd")
CONDENSED: tuple[RunKind, ...] = ("liquid", "ice", "pimd")


class UnknownObservable(InputError, KeyError):
    """A name that no analysis produces (a typo): raised instead of returning None."""


@dataclass(frozen=True)
class ObservableSpec:
    """One declared observable (see the module docstring); units are the analysis' (eV, A, ps, per molecule)."""

    name: str
    kind: ObservableKind
    #: scalars: the value's unit; curves: y's unit
    unit: str
    runs: tuple[RunKind, ...]
    help: str
    #: judged between runs (False: a diagnostic of the strategy or the integrator, never compared)
    compared: bool = True
    #: keeps per-block values and their times, so that two runs that share their start are compared block by block
    paired: bool = False
    #: per run kind: why the observable has no common meaning between runs of that kind
    not_comparable: Mapping[str, str] = field(default_factory=dict)
    #: curves: the x axis ("r / A") and y's label ("g_OO(r)"); templates are filled like the name
    x_axis: str = ""
    y_label: str = ""
    #: how tables and sentences show it: a label (default: the name), a scale from ``unit`` and the unit shown
    label: str = ""
    scale: float = 1.0
    shown_unit: str | None = None
    #: an observable computed from the frames alone: the function, called for every run of a listed kind
    compute: Callable[[Trajectory], ScalarValue | CurveValue | None] | None = None
    #: a template: the values its placeholder may take (empty: any, e.g. an element or a strategy)
    fills: tuple[str, ...] = ()
    #: a template's filled placeholder (set by :func:`observable_spec`; "" for a plain name)
    filled: str = ""

    def __post_init__(self):
        unknown = set(self.runs) - set(RUN_KINDS)
        if unknown or self.kind not in OBSERVABLE_KINDS:
            raise ValueError(f"observable {self.name}: unknown run kinds {sorted(unknown)} or kind {self.kind!r}")

    @property
    def is_template(self) -> bool:
        return "{" in self.name

    def _fill(self, text: str) -> str:
        return re.sub(r"\{\w+\}", self.filled, text) if self.filled else text

    @property
    def shown_label(self) -> str:
        """``spec.shown_label``: "K_cv(H)" (the label with the template filled; the name when there is none)."""
        return self._fill(self.label) if self.label else self._fill(self.name)

    @property
    def shown_units(self) -> str:
        return self.unit if self.shown_unit is None else self.shown_unit

    def shown(self, value: float | None) -> tuple[float | None, str]:
        """``spec.shown(0.12)`` -> (120.0, "meV"): the value scaled as tables show it, and the unit shown."""
        return (None if value is None else value * self.scale), self.shown_units

    @property
    def y_axis(self) -> str:
        """Curves: "g_OO(r)" or "label / unit" for y, templates filled."""
        label = self._fill(self.y_label or self.name)
        return f"{label} / {self.unit}" if self.unit else label


S, C = "scalar", "curve"
PER_MOLECULE = "eV/H2O"

#: every observable; the first entries of a kind whose name also matches a template win (exact names first)
OBSERVABLES: tuple[ObservableSpec, ...] = (
    # --- thermodynamics of every MD run
    ObservableSpec("conserved_drift", S, "eV/H2O/ps", MD, "slope of i-PI's conserved quantity (blocks)",
                   label="conserved-quantity drift", scale=1e3, shown_unit="meV/H2O/ps"),
    ObservableSpec("conserved_fluctuation", S, PER_MOLECULE, MD, "std of the conserved quantity about its line",
                   scale=1e3, shown_unit="meV/H2O"),
    ObservableSpec("temperature", S, "K", MD, "kinetic temperature", paired=True,
                   not_comparable={"gas": "one molecule: not a thermodynamic temperature"}),
    ObservableSpec("potential", S, PER_MOLECULE, MD, "potential energy per molecule", paired=True),
    ObservableSpec("volume", S, "A^3/H2O", MD, "volume per molecule (NPT)", paired=True),
    ObservableSpec("pressure_md", S, "bar", MD, "i-PI's pressure_md", paired=True),
    ObservableSpec("conserved", C, PER_MOLECULE, MD, "conserved quantity minus its initial value", compared=False,
                   x_axis="time / ps", y_label="conserved - initial"),
    # --- the model against q-TIP4P/F along the trajectory (a weight-0 reference forcefield)
    ObservableSpec("model_error_mae", S, PER_MOLECULE, MD, "mean |V_model - V_ref|", paired=True, scale=1e3,
                   shown_unit="meV/H2O"),
    ObservableSpec("model_error_mean", S, PER_MOLECULE, MD, "mean V_model - V_ref (offset)", paired=True,
                   label="model offset", scale=1e3, shown_unit="meV/H2O"),
    ObservableSpec("model_error_std", S, PER_MOLECULE, MD, "std of V_model - V_ref (fluctuation)",
                   label="model fluctuation", scale=1e3, shown_unit="meV/H2O"),
    ObservableSpec("model_error", C, PER_MOLECULE, MD, "V_model - V_ref along the run", compared=False,
                   x_axis="time / ps", y_label="V_model - V_ref"),
    # --- the strategy's own diagnostics, from its i-PI extras
    ObservableSpec("symmetry_error_extras", S, PER_MOLECULE, MD, "mean |E_plain - E_averaged| from the extras",
                   compared=False, label="symmetry error", scale=1e3, shown_unit="meV/H2O"),
    ObservableSpec("energy_spread", S, PER_MOLECULE, MD, "weighted std of E over the grid", compared=False,
                   scale=1e3, shown_unit="meV/H2O"),
    ObservableSpec("force_symmetry_error_rms", S, "eV/A", MD, "rms of F_plain - F_averaged", compared=False,
                   scale=1e3, shown_unit="meV/A"),
    ObservableSpec("nyquist", S, "cm^-1", MD, "highest frequency of the spectra", compared=False),
    ObservableSpec("delta_power_above_2000", S, "fraction", MD,
                   "share of the variance of E_averaged - E_plain above 2000 cm^-1 (small: MTS works)", compared=False),
    ObservableSpec("spectrum_V_plain", C, "(eV/H2O)^2 cm", MD, "power spectrum of V_plain", compared=False,
                   x_axis="frequency / cm^-1", y_label="power"),
    ObservableSpec("spectrum_delta", C, "(eV/H2O)^2 cm", MD, "power spectrum of E_averaged - E_plain",
                   compared=False, x_axis="frequency / cm^-1", y_label="power"),
    # --- orientation in the lab frame (any direction preferred is broken symmetry)
    ObservableSpec("anisotropy", S, "", MD, "harmonic anisotropy A of the dipole axes (l <= 4)"),
    ObservableSpec("anisotropy_noise", S, "", MD, "A expected from noise alone"),
    ObservableSpec("anisotropy_z", S, "sigma", MD, "(A - noise) in standard errors"),
    ObservableSpec("F_cos", C, "kT", MD, "orientational free energy over cos theta", x_axis="cos theta",
                   y_label="F(cos theta)"),
    ObservableSpec("F", "map", "kT", CONDENSED, "orientational free energy F(cos theta, phi)", compared=False),
    # --- one molecule in vacuum
    ObservableSpec("torque_rms", S, "eV", ("gas",), "rms torque of the plain forces", label="torque", scale=1e3,
                   shown_unit="meV"),
    ObservableSpec("net_force_rms", S, "eV/A", ("gas",), "rms net force", scale=1e3, shown_unit="meV/A"),
    ObservableSpec("L0", S, "hbar", ("gas",), "initial angular momentum"),
    ObservableSpec("L_max_change", S, "hbar", ("gas",), "largest |L(t) - L(0)|", label="|L - L0| max"),
    ObservableSpec("L_final_change", S, "hbar", ("gas",), "|L - L(0)| at the end"),
    ObservableSpec("L_direction_change", S, "deg", ("gas",), "largest angle of L to L(0)"),
    ObservableSpec("L_precession_rate", S, "deg/ps", ("gas",), "rate at which L's direction turns"),
    ObservableSpec("L_change", C, "hbar", ("gas",), "|L(t) - L(0)|", compared=False, x_axis="time / ps",
                   y_label="|L(t) - L(0)|"),
    ObservableSpec("L_{axis}", C, "hbar", ("gas",), "a component of L", compared=False, x_axis="time / ps",
                   fills=("x", "y", "z")),
    ObservableSpec("L_direction", C, "deg", ("gas",), "angle of L to L(0)", compared=False, x_axis="time / ps",
                   y_label="angle of L to L(0)"),
    ObservableSpec("torque", C, "eV", ("gas",), "|torque|", compared=False, x_axis="time / ps", y_label="|torque|"),
    # --- structure and dynamics of a box (PIMD: centroids, and all beads for g(r))
    ObservableSpec("g_{pair}", C, "", CONDENSED, "radial distribution function", x_axis="r / A",
                   y_label="g_{pair}(r)", fills=("OO", "OH", "HH")),
    ObservableSpec("c_L", C, "", CONDENSED, "longitudinal dipole correlation", x_axis="r / A", y_label="c_L(r)"),
    ObservableSpec("c_T", C, "", CONDENSED, "transverse dipole correlation", x_axis="r / A", y_label="c_T(r)"),
    ObservableSpec("msd", C, "A^2", CONDENSED, "mean squared displacement of O", x_axis="time / ps",
                   y_label="MSD of O"),
    ObservableSpec("c_uu", C, "", CONDENSED, "dipole-axis autocorrelation", x_axis="time / ps", y_label="c_uu(t)"),
    # --- path integrals
    ObservableSpec("kinetic_cv_{element}", S, "eV/atom", ("pimd",), "centroid-virial kinetic energy per atom",
                   paired=True, label="K_cv({element})", scale=1e3, shown_unit="meV"),
    ObservableSpec("kinetic_cv_ipi", S, "eV/atom", ("pimd",), "i-PI's kinetic_cv per atom"),
    ObservableSpec("kinetic_classical", S, "eV/atom", ("pimd",), "3/2 kT", compared=False),
    ObservableSpec("rg_{element}", S, "A", ("pimd",), "ring-polymer radius of gyration", paired=True,
                   label="Rg({element})"),
    # --- geometry optimisation
    ObservableSpec("energy_before", S, PER_MOLECULE, ("geop",), "model energy of the first frame"),
    ObservableSpec("energy_after", S, PER_MOLECULE, ("geop",), "model energy of the last frame"),
    ObservableSpec("relaxation_energy", S, PER_MOLECULE, ("geop",), "energy_after - energy_before"),
    ObservableSpec("optimizer_steps", S, "steps", ("geop",), "optimizer steps"),
    ObservableSpec("rms_displacement", S, "A", ("geop",), "rms displacement first to last frame"),
    ObservableSpec("final_force_max", S, "eV/A", ("geop",), "largest force component of the last frame"),
    ObservableSpec("final_force_rms", S, "eV/A", ("geop",), "rms force of the last frame"),
    ObservableSpec("reference_before", S, PER_MOLECULE, ("geop",), "q-TIP4P/F energy of the first frame"),
    ObservableSpec("reference_after", S, PER_MOLECULE, ("geop",), "q-TIP4P/F energy of the last frame"),
    ObservableSpec("model_error_before", S, PER_MOLECULE, ("geop",), "model - q-TIP4P/F, first frame"),
    ObservableSpec("model_error_after", S, PER_MOLECULE, ("geop",), "model - q-TIP4P/F, last frame"),
    ObservableSpec("energy", C, PER_MOLECULE, ("geop",), "E - E(0) over optimizer steps", compared=False,
                   x_axis="optimizer step", y_label="E - E(0)"),
    # --- replays: one strategy against the largest grid and against the reference, frame by frame
    ObservableSpec("symmetry_error_{strategy}", S, PER_MOLECULE, ("replay",), "mean |E_strategy - E_largest grid|",
                   label="symmetry error {strategy}", scale=1e3, shown_unit="meV/H2O"),
    ObservableSpec("model_error_{strategy}", S, PER_MOLECULE, ("replay",), "mean |E_strategy - E_ref|",
                   label="model error {strategy}", scale=1e3, shown_unit="meV/H2O"),
    ObservableSpec("symmetry_error_{strategy}", C, PER_MOLECULE, ("replay",), "|E_strategy - E_largest grid|",
                   x_axis="frame"),
    ObservableSpec("model_error_{strategy}", C, PER_MOLECULE, ("replay",), "E_strategy - E_ref", x_axis="frame"),
    # --- computed from the frames alone (frame_observables): one entry each
    ObservableSpec("bond_OH", S, "A", MD, "mean O-H bond length (PIMD: over all beads)", paired=True,
                   label="r(O-H)", compute=frames.mean_oh_bond_length),
    ObservableSpec("bond_OH_distribution", C, "1/A", MD, "distribution of O-H bond lengths (PIMD: all beads)",
                   x_axis="r / A", y_label="P(r_OH)", compute=frames.oh_bond_length_distribution),
)


def _pattern(name: str) -> re.Pattern:
    prefix, _, rest = name.partition("{")
    suffix = rest.partition("}")[2]
    return re.compile(re.escape(prefix) + r"(.+)" + re.escape(suffix) + "$")


_EXACT = {(s.kind, s.name): s for s in OBSERVABLES if not s.is_template}
_TEMPLATES = [(s, _pattern(s.name)) for s in OBSERVABLES if s.is_template]


def find_spec(kind: str, name: str) -> ObservableSpec | None:
    """``find_spec("curve", "g_OO")``: the declaration of that observable (a template filled), None if undeclared."""
    spec = _EXACT.get((kind, name))
    if spec is not None:
        return spec
    for template, pattern in _TEMPLATES:
        found = pattern.match(name) if template.kind == kind else None
        if found and (not template.fills or found.group(1) in template.fills):
            return replace(template, name=name, filled=found.group(1))
    return None


def observable_spec(kind: str, name: str) -> ObservableSpec:
    """``observable_spec("scalar", "rg_H")``: the declaration; UnknownObservable when none matches (a typo)."""
    spec = find_spec(kind, name)
    if spec is None:
        raise UnknownObservable(f"no analysis produces a {kind} named {name!r} (see symbreak.analysis.observables)")
    return spec


def check_name(name: str, kind: str = "scalar") -> str:
    """``check_name("torque_rms")``: the name if it is declared, else UnknownObservable."""
    observable_spec(kind, name)
    return name


def computed_for(run_kind: str) -> tuple[ObservableSpec, ...]:
    """The observables computed from the frames alone that a run of this kind has, in declaration order."""
    return tuple(s for s in OBSERVABLES if s.compute is not None and run_kind in s.runs)


__all__ = ["CONDENSED", "MD", "OBSERVABLES", "OBSERVABLE_KINDS", "ObservableKind", "ObservableSpec", "RUN_KINDS", "RunKind",
           "UnknownObservable", "check_name", "computed_for", "find_spec", "observable_spec"]
