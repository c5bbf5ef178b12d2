"""Model error and symmetry error along a trajectory, side by side; convergence with the grid.

    runs = {"plain": (E0, F0), "2": (E2, F2), "2i": (E2i, F2i), "3i": (E3i, F3i)}   # (T,) eV, (T, N, 3) eV/A
    rows = error_table(runs, n_molecules=64, reference=(E_ref, F_ref))
    print(format_error_table(rows))      # label, evaluations, model error vs reference, symmetry error vs 3i
    d = rotational_decomposition(E_per_rotation, weights, E_ref)   # (T, R) and (R,) and (T,)
    d["mse"] == d["bias_squared"] + d["variance"]

The model error compares a strategy with the exactly invariant reference
(q-TIP4P/F, replayed with weight 0); the symmetry error compares it with the
largest rotation grid among the strategies (the study's 3i). Labels are
strategy strings (plain/0, i, 2, 2i, 3, 3i, legendre:4, lebedev:N, random...),
parsed by :func:`symbreak.symmetry.strategies.parse_strategy_spec`, and rows
are ordered by the number of evaluations of the model they cost.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..symmetry.metrics import error_decomposition
from ..symmetry.strategies import parse_strategy_spec


def _energies_forces(pair, label: str, n_frames: int | None = None):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise InputError(f"'{label}' must be a pair (energies (T,), forces (T, N, 3) or None)")
    e = np.asarray(pair[0], dtype=float)
    if e.ndim != 1 or (n_frames is not None and len(e) != n_frames):
        want = f"({n_frames},)" if n_frames is not None else "(T,)"
        raise InputError(f"'{label}' energies must have shape {want}, got {e.shape}")
    f = None if pair[1] is None else np.asarray(pair[1], dtype=float)
    if f is not None and (f.ndim != 3 or f.shape[0] != len(e) or f.shape[2] != 3):
        raise InputError(f"'{label}' forces must have shape ({len(e)}, N, 3), got {f.shape}")
    if not np.all(np.isfinite(e)) or (f is not None and not np.all(np.isfinite(f))):
        raise InputError(f"'{label}' energies or forces contain NaN or infinite values")
    return e, f


def energy_force_errors(energies, forces, ref_energies, ref_forces, n_molecules: int) -> dict:
    """``energy_force_errors(E, F, E_ref, F_ref, n_molecules)``: MAE/RMSE of energy per molecule and force components.

    Energies are (T,) totals (eV), forces (T, N, 3) eV/A or None; returns
    ``energy_mae``, ``energy_rmse`` (eV per molecule) and ``force_mae``,
    ``force_rmse`` (eV/A per component; NaN without forces).
    """
    if isinstance(n_molecules, bool) or int(n_molecules) != n_molecules or n_molecules < 1:
        raise InputError(f"n_molecules must be a positive integer, got {n_molecules!r}")
    e, f = _energies_forces((energies, forces), "strategy")
    e_ref, f_ref = _energies_forces((ref_energies, ref_forces), "reference", len(e))
    de = (e - e_ref) / n_molecules
    out = {"energy_mae": float(np.mean(np.abs(de))), "energy_rmse": float(np.sqrt(np.mean(de**2)))}
    if f is None or f_ref is None:
        out["force_mae"] = out["force_rmse"] = float("nan")
    else:
        if f.shape != f_ref.shape:
            raise InputError(f"forces {f.shape} and reference forces {f_ref.shape} differ in shape")
        df = f - f_ref
        out["force_mae"] = float(np.mean(np.abs(df)))
        out["force_rmse"] = float(np.sqrt(np.mean(df**2)))
    return out


def evaluations(label: str) -> int:
    """``evaluations("2i")``: model evaluations per force call of a strategy (plain 1, 2i 36, 3i 150)."""
    return parse_strategy_spec(label).evaluations


def error_table(strategies: dict, n_molecules: int, reference=None, symmetry_reference: str | None = None) -> list[dict]:
    """``rows = error_table({"plain": (E, F), "3i": (E, F)}, 64, reference=(E_ref, F_ref))``: one row per strategy.

    Each row has ``label``, ``evaluations``, ``model`` (errors vs ``reference``,
    None without one) and ``symmetry`` (errors vs ``symmetry_reference``,
    default the strategy with the most evaluations; None for that one itself),
    each as :func:`energy_force_errors` returns. Rows go from cheapest to dearest.
    """
    if not isinstance(strategies, dict) or not strategies:
        raise InputError("strategies must be a non-empty dict label -> (energies, forces)")
    cost = {label: evaluations(label) for label in strategies}
    data = {}
    n_frames = None
    for label, pair in strategies.items():
        data[label] = _energies_forces(pair, label, n_frames)
        n_frames = len(data[label][0])
    if reference is not None:
        reference = _energies_forces(reference, "reference", n_frames)
    if symmetry_reference is None:
        grids = [label for label in strategies if parse_strategy_spec(label).kind in ("legendre", "lebedev")]
        symmetry_reference = max(grids, key=lambda label: cost[label]) if grids else None
    elif symmetry_reference not in strategies:
        raise InputError(f"symmetry_reference '{symmetry_reference}' is not among the strategies {sorted(strategies)}")
    rows = []
    for label in sorted(strategies, key=lambda label: (cost[label], label)):
        e, f = data[label]
        row = {"label": label, "evaluations": cost[label], "model": None, "symmetry": None}
        if reference is not None:
            row["model"] = energy_force_errors(e, f, *reference, n_molecules)
        if symmetry_reference is not None and label != symmetry_reference:
            row["symmetry"] = energy_force_errors(e, f, *data[symmetry_reference], n_molecules)
        rows.append(row)
    return rows


def format_error_table(rows: list[dict], scale: float = 1000.0, unit: str = "meV") -> str:
    """``print(format_error_table(rows))``: a text table of MAEs (energy per molecule, force per component)."""
    head = f"{'strategy':>10} {'evals':>6} | {'model E':>9} {'model F':>9} | {'sym E':>9} {'sym F':>9}   ({unit}/H2O, {unit}/A)"
    lines = [head, "-" * len(head)]

    def cell(errors, key):
        return f"{'-':>9}" if errors is None else f"{errors[key] * scale:9.4g}"

    for r in rows:
        lines.append(
            f"{r['label']:>10} {r['evaluations']:>6} | {cell(r['model'], 'energy_mae')} {cell(r['model'], 'force_mae')} | "
            f"{cell(r['symmetry'], 'energy_mae')} {cell(r['symmetry'], 'force_mae')}"
        )
    return "\n".join(lines)


def rotational_decomposition(values_per_rotation, weights, reference) -> dict:
    """``d = rotational_decomposition(E_R, w, E_ref)``: frame-averaged MSE_plain = MSE_avg + rotational variance.

    ``values_per_rotation`` is (T, R, ...) (energies, or forces rotated back),
    ``weights`` (R,) the grid's weights, ``reference`` (T, ...). Per frame,
    the weighted mean over rotations of the squared error of a single
    rotation (``mse``: the plain model in a random orientation) splits into
    the squared error of the averaged model (``bias_squared``) plus the
    rotational ``variance``; all three are averaged over frames and components.
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
    return {key: float(np.mean([p[key] for p in parts])) for key in ("mse", "bias_squared", "variance")}
