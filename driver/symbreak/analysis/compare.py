"""Verdicts: do two runs of one case agree on an observable within their combined error bars?

    v = scalar_verdict(a, b)          # a, b: {"value", "error"} from analyze_run
    v = curve_verdict(a, b)           # a, b: {"x", "y", "err"}
    v["verdict"]                      # "same", "different" or "no error bar"
    table = compare_runs([result_plain, result_2i, result_ref])   # one group: every pair, every shared observable

A scalar is "same" when |a - b| <= N_SIGMA * sqrt(err_a^2 + err_b^2). A curve
is "same" when the mean of ((y_a - y_b) / combined error)^2 over its points
(points with no error bar in either run must then agree exactly) stays below
1 + N_SIGMA * sqrt(2 / n): a chi-squared test that treats points as independent
(neighbouring bins are correlated, so read "different" on a curve with care).
Identical runs give "same" by construction.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from ..core.errors import InputError

N_SIGMA = 2.0
#: observables that are diagnostics of the strategy itself, not physics to compare between strategies
NOT_COMPARED = {"symmetry_error_extras", "energy_spread", "force_symmetry_error_rms", "nyquist", "delta_power_above_2000",
                "spectrum_V_plain", "spectrum_delta", "conserved", "model_error", "L_x", "L_y", "L_z", "torque",
                "L_direction", "L_change", "energy", "kinetic_classical"}


def _same_values(a, b) -> bool:
    return bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))


def scalar_verdict(a: dict, b: dict, n_sigma: float = N_SIGMA) -> dict:
    """``scalar_verdict({"value": 1.0, "error": 0.1}, {"value": 1.1, "error": 0.1})``: verdict and z."""
    va, vb = a.get("value"), b.get("value")
    if va is None or vb is None:
        return {"verdict": "no value", "z": None}
    ea, eb = a.get("error"), b.get("error")
    if ea is None or eb is None or (ea == 0 and eb == 0):
        same = _same_values(va, vb)
        return {"verdict": "same" if same else "no error bar", "z": 0.0 if same else None}
    z = abs(va - vb) / float(np.hypot(ea, eb))
    return {"verdict": "same" if z <= n_sigma else "different", "z": float(z)}


def curve_verdict(a: dict, b: dict, n_sigma: float = N_SIGMA) -> dict:
    """``curve_verdict(curve_a, curve_b)``: chi-squared per point of the difference over the shared x range."""
    n = min(len(a["x"]), len(b["x"]))
    xa, xb = np.array(a["x"][:n], dtype=float), np.array(b["x"][:n], dtype=float)
    if n == 0 or not np.allclose(xa, xb, rtol=1e-6, atol=1e-9):
        return {"verdict": "incomparable", "chi2": None, "points": 0}
    ya, yb = np.array(a["y"][:n], dtype=float), np.array(b["y"][:n], dtype=float)
    if a.get("err") is None or b.get("err") is None:
        same = _same_values(ya, yb)
        return {"verdict": "same" if same else "no error bar", "chi2": 0.0 if same else None, "points": n}
    err = np.hypot(np.array(a["err"][:n], dtype=float), np.array(b["err"][:n], dtype=float))
    finite = np.isfinite(ya) & np.isfinite(yb) & np.isfinite(err)
    with_bar = finite & (err > 0)
    without = finite & ~(err > 0)
    if with_bar.sum() == 0:
        same = _same_values(ya[finite], yb[finite])
        return {"verdict": "same" if same else "no error bar", "chi2": 0.0 if same else None, "points": int(finite.sum())}
    chi2 = float(np.mean(((ya[with_bar] - yb[with_bar]) / err[with_bar]) ** 2))
    limit = 1.0 + n_sigma * np.sqrt(2.0 / with_bar.sum())
    same = chi2 <= limit and _same_values(ya[without], yb[without])
    return {"verdict": "same" if same else "different", "chi2": chi2, "points": int(finite.sum())}


def _name(result: dict, labels: list[str]) -> str:
    label = result["label"]
    return label if labels.count(label) == 1 else f"{label} ({result['run']})"


def compare_runs(results: list[dict], n_sigma: float = N_SIGMA) -> dict:
    """``compare_runs([r1, r2, ...])`` (one case): per observable, a verdict for every pair of runs.

    Returns ``case``, ``runs`` (names), ``pairs`` ("a|b") and ``observables``:
    name -> {"kind": "scalar"|"curve", "unit", "pairs": {"a|b": verdict dict}}.
    """
    if len({r["case"] for r in results}) != 1:
        raise InputError(f"compare runs of one case, got {sorted({r['case'] for r in results})}")
    labels = [r["label"] for r in results]
    names = [_name(r, labels) for r in results]
    pairs = list(combinations(range(len(results)), 2))
    observables = {}
    for kind in ("scalars", "curves"):
        shared = set.intersection(*(set(r[kind]) for r in results)) - NOT_COMPARED
        for obs in sorted(shared):
            verdicts = {}
            for i, j in pairs:
                a, b = results[i][kind][obs], results[j][kind][obs]
                v = (scalar_verdict if kind == "scalars" else curve_verdict)(a, b, n_sigma)
                if kind == "scalars":
                    v["values"] = [a.get("value"), b.get("value")]
                verdicts[f"{names[i]}|{names[j]}"] = v
            unit = results[0][kind][obs].get("unit", results[0][kind][obs].get("ylabel", ""))
            observables[obs] = {"kind": kind[:-1], "unit": unit, "pairs": verdicts}
    return {"case": results[0]["case"], "runs": names, "pairs": [f"{names[i]}|{names[j]}" for i, j in pairs],
            "observables": observables}


def group_runs(results: list[dict]) -> dict[str, list[dict]]:
    """``group_runs(results)``: comparable groups (``result["group"]``: case, size, cell) -> results, in order."""
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(r.get("group", r["case"]), []).append(r)
    return groups
