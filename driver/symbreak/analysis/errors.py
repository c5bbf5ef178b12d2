"""Model error and symmetry error along a trajectory, side by side; convergence with the grid.

    runs = {"plain": (E0, F0), "2": (E2, F2), "2i": (E2i, F2i), "3i": (E3i, F3i)}   # (T,) eV, (T, N, 3) eV/A
    table = error_table(runs, n_molecules=64, reference=(E_ref, F_ref))   # ErrorTable, rows cheapest first
    table.symmetry_reference, table.row("plain").symmetry.energy_mae
    print(format_error_table(table))     # label, evaluations, model error vs reference, symmetry error vs 3i
    d = rotational_decomposition(E_per_rotation, weights, E_ref)   # (T, R) and (R,) and (T,)
    d.mse == d.bias_squared + d.variance                          # RotationalDecomposition, squared units

The model error compares a strategy with the exactly invariant reference
(q-TIP4P/F replayed with weight 0, or the labels of a data set); the symmetry
error compares it with the largest rotation grid among the strategies (the
study's 3i). :func:`model_and_symmetry_errors` is the one function that does
both (the replay analysis, ``symbreak evaluate`` and :func:`error_table` call
it). Labels are strategy strings (plain/0, i, 2, 2i, 3, 3i, legendre:4,
lebedev:N, random...), parsed by
:func:`symbreak.symmetry.strategies.parse_strategy_spec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..core.errors import InputError
from ..symmetry.metrics import RotationalDecomposition, error_decomposition
from ..symmetry.strategies import parse_strategy_spec


@dataclass(frozen=True)
class Errors:
    """Mean absolute and root-mean-square errors: energy per unit (molecule, atom, structure), force per component."""

    energy_mae: float
    energy_rmse: float
    force_mae: float  # NaN without forces
    force_rmse: float


@dataclass(frozen=True)
class StrategyErrors:
    """One strategy: ``model`` (vs the reference; None without one), ``symmetry`` (vs the largest grid; None for it)."""

    label: str
    model: Errors | None
    symmetry: Errors | None
    evaluations: int | None = None


@dataclass(frozen=True)
class ErrorTable:
    """The strategies' errors and the grid the symmetry errors are measured against (None: no grid among them)."""

    symmetry_reference: str | None
    rows: tuple[StrategyErrors, ...]

    def row(self, label: str) -> StrategyErrors:
        """``table.row("2i")``: that strategy's errors; InputError if it is not in the table."""
        for r in self.rows:
            if r.label == label:
                return r
        raise InputError(f"strategy '{label}' is not in the error table ({', '.join(r.label for r in self.rows)})")


def _energies(values, label: str, n_frames: int | None) -> np.ndarray:
    e = np.asarray(values, dtype=float)
    if e.ndim != 1 or (n_frames is not None and len(e) != n_frames):
        want = f"({n_frames},)" if n_frames is not None else "(T,)"
        raise InputError(f"'{label}' energies must have shape {want}, got {e.shape}")
    if not np.all(np.isfinite(e)):
        raise InputError(f"'{label}' energies or forces contain NaN or infinite values")
    return e


def _forces(values, label: str, n_frames: int) -> list[np.ndarray] | None:
    """Per-frame (N_t, 3) arrays: a (T, N, 3) array or a list of frames with their own atom counts."""
    if values is None:
        return None
    if isinstance(values, np.ndarray) or not isinstance(values, (list, tuple)):
        f = np.asarray(values, dtype=float)
        if f.ndim != 3 or f.shape[0] != n_frames or f.shape[2] != 3:
            raise InputError(f"'{label}' forces must have shape ({n_frames}, N, 3), got {f.shape}")
        frames = list(f)
    else:
        frames = [np.asarray(x, dtype=float) for x in values]
        if len(frames) != n_frames or any(x.ndim != 2 or x.shape[1] != 3 for x in frames):
            raise InputError(f"'{label}' forces must be {n_frames} frames of shape (N, 3)")
    if not all(np.all(np.isfinite(x)) for x in frames):
        raise InputError(f"'{label}' energies or forces contain NaN or infinite values")
    return frames


def _pair(pair, label: str, n_frames: int | None = None):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise InputError(f"'{label}' must be a pair (energies (T,), forces (T, N, 3) or None)")
    e = _energies(pair[0], label, n_frames)
    return e, _forces(pair[1], label, len(e))


def _per(per, n_frames: int) -> np.ndarray:
    p = np.asarray(per, dtype=float)
    if p.ndim == 0:
        if isinstance(per, bool) or int(per) != per or per < 1:
            raise InputError(f"n_molecules must be a positive integer, got {per!r}")
        return np.full(n_frames, float(per))
    if p.shape != (n_frames,) or np.any(p <= 0):
        raise InputError(f"the units per frame must be ({n_frames},) positive numbers, got shape {p.shape}")
    return p


def _errors(e, f, e_ref, f_ref, per: np.ndarray) -> Errors:
    de = (e - e_ref) / per
    if f is None or f_ref is None:
        force_mae = force_rmse = float("nan")
    else:
        if [x.shape for x in f] != [x.shape for x in f_ref]:
            raise InputError(f"forces and reference forces differ in shape ({f[0].shape} vs {f_ref[0].shape} in frame 0)")
        df = np.concatenate([(a - b).ravel() for a, b in zip(f, f_ref)])
        force_mae, force_rmse = float(np.mean(np.abs(df))), float(np.sqrt(np.mean(df**2)))
    return Errors(float(np.mean(np.abs(de))), float(np.sqrt(np.mean(de**2))), force_mae, force_rmse)


def energy_force_errors(energies, forces, ref_energies, ref_forces, n_molecules) -> Errors:
    """``energy_force_errors(E, F, E_ref, F_ref, n_molecules)``: MAE/RMSE of energy per molecule and force components.

    Energies are (T,) totals (eV), forces (T, N, 3) eV/A (or T frames of their
    own size) or None; ``n_molecules`` is one count or (T,) counts (atoms per
    structure give errors per atom). Force errors are NaN without forces.
    """
    e, f = _pair((energies, forces), "strategy")
    e_ref, f_ref = _pair((ref_energies, ref_forces), "reference", len(e))
    return _errors(e, f, e_ref, f_ref, _per(n_molecules, len(e)))


def grid_size(spec: str) -> int | None:
    """``grid_size("2i")`` -> 36; None for strategies that are not a fixed rotation grid (plain, random)."""
    parsed = parse_strategy_spec(spec)
    if parsed.kind == "delta":
        raise InputError(f"strategy '{spec}' is a correction (averaged - plain), not a model: evaluate its grid instead")
    return parsed.evaluations if parsed.is_grid else None


def largest_grid(labels: Sequence[str], sizes: Callable[[str], int | None] = grid_size) -> str | None:
    """``largest_grid(["plain", "2i", "3i"])`` -> "3i": the grid with most rotations (first on ties); None if none."""
    best, best_size = None, 0
    for label in labels:
        size = sizes(label)
        if size is not None and size > best_size:
            best, best_size = label, size
    return best


def model_and_symmetry_errors(strategies: dict, per, reference=None, symmetry_reference: str | None = None,
                              sizes: Callable[[str], int | None] = grid_size) -> ErrorTable:
    """``model_and_symmetry_errors({"plain": (E, F), "3i": (E, F)}, 64, reference=(E_ref, F_ref))``: ErrorTable.

    For each strategy (in the given order): the errors against ``reference``
    (model error; None without one) and against ``symmetry_reference``
    (symmetry error; default :func:`largest_grid` of the labels with
    ``sizes``; None for that strategy itself). ``per`` divides the energies:
    molecules (one count) or atoms per structure ((T,) counts).
    """
    if not isinstance(strategies, dict) or not strategies:
        raise InputError("strategies must be a non-empty dict label -> (energies, forces)")
    data, n_frames = {}, None
    for label, pair in strategies.items():
        data[label] = _pair(pair, label, n_frames)
        n_frames = len(data[label][0])
    per = _per(per, n_frames)
    if reference is not None:
        reference = _pair(reference, "reference", n_frames)
    if symmetry_reference is None:
        symmetry_reference = largest_grid(list(strategies), sizes)
    elif symmetry_reference not in strategies:
        raise InputError(f"symmetry_reference '{symmetry_reference}' is not among the strategies {sorted(strategies)}")
    rows = []
    for label, (e, f) in data.items():
        model = None if reference is None else _errors(e, f, *reference, per)
        symmetry = None
        if symmetry_reference is not None and label != symmetry_reference:
            symmetry = _errors(e, f, *data[symmetry_reference], per)
        rows.append(StrategyErrors(label, model, symmetry))
    return ErrorTable(symmetry_reference, tuple(rows))


def evaluations(label: str) -> int:
    """``evaluations("2i")``: model evaluations per force call of a strategy (plain 1, 2i 36, 3i 150)."""
    return parse_strategy_spec(label).evaluations


def error_table(strategies: dict, n_molecules: int, reference=None, symmetry_reference: str | None = None) -> ErrorTable:
    """``table = error_table({"plain": (E, F), "3i": (E, F)}, 64, reference=(E_ref, F_ref))``: rows cheapest first.

    :func:`model_and_symmetry_errors` with energies per molecule, each row
    with its ``evaluations`` (model evaluations per call), from cheapest to dearest.
    """
    if not isinstance(strategies, dict) or not strategies:
        raise InputError("strategies must be a non-empty dict label -> (energies, forces)")
    cost = {label: evaluations(label) for label in strategies}
    table = model_and_symmetry_errors(strategies, n_molecules, reference, symmetry_reference,
                                      sizes=lambda label: cost[label] if parse_strategy_spec(label).is_grid else None)
    rows = sorted((StrategyErrors(r.label, r.model, r.symmetry, cost[r.label]) for r in table.rows),
                  key=lambda r: (r.evaluations, r.label))
    return ErrorTable(table.symmetry_reference, tuple(rows))


def format_error_table(table: ErrorTable, scale: float = 1000.0, unit: str = "meV") -> str:
    """``print(format_error_table(table))``: a text table of MAEs (energy per molecule, force per component)."""
    head = f"{'strategy':>10} {'evals':>6} | {'model E':>9} {'model F':>9} | {'sym E':>9} {'sym F':>9}   ({unit}/H2O, {unit}/A)"
    lines = [head, "-" * len(head)]

    def cell(errors: Errors | None, key: str) -> str:
        return f"{'-':>9}" if errors is None else f"{getattr(errors, key) * scale:9.4g}"

    for r in table.rows:
        lines.append(
            f"{r.label:>10} {r.evaluations or '-':>6} | {cell(r.model, 'energy_mae')} {cell(r.model, 'force_mae')} | "
            f"{cell(r.symmetry, 'energy_mae')} {cell(r.symmetry, 'force_mae')}"
        )
    return "\n".join(lines)


def rotational_decomposition(values_per_rotation, weights, reference) -> RotationalDecomposition:
    """``d = rotational_decomposition(E_R, w, E_ref)``: frame-averaged MSE_plain = MSE_avg + rotational variance.

    ``values_per_rotation`` is (T, R, ...) (energies, or forces rotated back),
    ``weights`` (R,) the grid's weights, ``reference`` (T, ...). Per frame,
    the weighted mean over rotations of the squared error of a single
    rotation (``d.mse``: the plain model in a random orientation) splits into
    the squared error of the averaged model (``d.bias_squared``) plus the
    rotational ``d.variance``; all three are averaged over frames and
    components, in a :class:`RotationalDecomposition`.
    """
    v = np.asarray(values_per_rotation, dtype=float)
    w = np.asarray(weights, dtype=float)
    ref = np.asarray(reference, dtype=float)
    if v.ndim < 2:
        raise InputError(f"values_per_rotation must be (T, R, ...), got shape {v.shape}")
    if w.shape != (v.shape[1],) or np.any(w < 0) or w.sum() <= 0:
        raise InputError(f"weights must be ({v.shape[1]},) non-negative with a positive sum, got shape {w.shape}")
    if ref.shape != (v.shape[0],) + v.shape[2:]:
        raise InputError(f"reference must have shape {(v.shape[0],) + v.shape[2:]}, got {ref.shape}")
    parts = [error_decomposition(v[t], w, ref[t]) for t in range(len(v))]
    return RotationalDecomposition(mse=float(np.mean([p.mse for p in parts])),
                                   bias_squared=float(np.mean([p.bias_squared for p in parts])),
                                   variance=float(np.mean([p.variance for p in parts])))
