"""Verdicts: do two runs of one case agree on an observable within their combined error bars?

    v = scalar_verdict(a, b)          # a, b: Observables of two RunAnalysis -> Verdict (v.paired, v.error)
    v = curve_verdict(a, b)           # a, b: Curves -> Verdict
    v.verdict                         # "same", "different", "no error bar", "no value" or "incomparable"
    c = compare_runs([result_plain, result_2i, result_ref])   # one group -> Comparison
    c.verdict("torque_rms", "plain", "2i"), c.not_judged      # {observable: why it gets no verdict}

A scalar is "same" when |a - b| <= N_SIGMA * sqrt(err_a^2 + err_b^2), or,
when both runs kept their block values over the same stretches of time (at
least MIN_PAIRED_BLOCKS blocks whose mean times agree within a quarter of a
block), when |a - b| <= N_SIGMA * the standard error of the blockwise
difference (widened for its few degrees of freedom, see :func:`paired_error`):
runs that start from one structure with one seed share their early trajectory
and their noise, so their difference is far better determined than two
independent error bars say (and where they share nothing, the paired error is
the combined one, with fewer degrees of freedom). A curve
is "same" when the mean of ((y_a - y_b) / combined error)^2 over its points
(points with no error bar in either run must then agree exactly) stays below
1 + N_SIGMA * sqrt(2 / n): a chi-squared test that treats points as independent
(neighbouring bins are correlated, so read "different" on a curve with care).
Identical runs give "same" by construction.

:func:`compare_runs` judges only what can be judged: observables with error
bars in every run of the group that mean the same thing in each (the
temperature of one molecule in vacuum is not a thermodynamic temperature);
the others are listed in ``not_judged`` with the reason. Diagnostics of the
strategy itself are left out. Both come from each observable's declaration
(``compared``, ``not_comparable`` in :mod:`symbreak.analysis.observables`).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import stats

from ..campaign.cases import comparable_case
from ..core.errors import InputError
from .observables import find_spec
from .results import Comparison, Curve, Observable, ObservableComparison, RunAnalysis, Verdict

N_SIGMA = 2.0
#: the fewest blocks for a paired error bar (3 degrees of freedom), and how far apart (in blocks) paired blocks may lie
MIN_PAIRED_BLOCKS = 4
PAIRED_TIME_TOLERANCE = 0.25


def _same_values(a, b) -> bool:
    return bool(np.allclose(a, b, rtol=1e-12, atol=0.0, equal_nan=True))


def _arr(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def paired_error(a: Observable, b: Observable) -> float | None:
    """The standard error of a - b from their blockwise differences; None unless their blocks pair up in time.

    Pairs need the same number of blocks (at least MIN_PAIRED_BLOCKS), all
    finite, with mean times that agree within PAIRED_TIME_TOLERANCE of the
    spacing of the blocks (a run stored every 5 fs pairs with one stored every
    1 fs over the same time). The standard error of the mean difference is
    widened by the Student-t factor of n - 1 degrees of freedom, so that "within
    N_SIGMA" keeps its meaning with few blocks. None too when the differences
    have no spread (identical runs): the caller then falls back to the combined
    error.
    """
    if a.blocks is None or b.blocks is None or a.block_times is None or b.block_times is None:
        return None
    n = len(a.blocks)
    if n < MIN_PAIRED_BLOCKS or len(b.blocks) != n or len(a.block_times) != n or len(b.block_times) != n:
        return None
    da, db, ta, tb = _arr(a.blocks), _arr(b.blocks), _arr(a.block_times), _arr(b.block_times)
    if not all(np.all(np.isfinite(v)) for v in (da, db, ta, tb)):
        return None
    spacing = float(np.median(np.diff(ta)))
    if spacing <= 0 or np.max(np.abs(ta - tb)) > PAIRED_TIME_TOLERANCE * spacing:
        return None
    error = float(np.std(da - db, ddof=1) / np.sqrt(n))
    if not error > 0:
        return None
    # few blocks estimate the spread poorly: widen the error so that N_SIGMA of them cover what N_SIGMA normal
    # sigmas do, for a Student-t with n - 1 degrees of freedom (x1.43 for 5 blocks, x1.16 for 10)
    return error * float(stats.t.ppf(stats.norm.cdf(N_SIGMA), n - 1)) / N_SIGMA


def scalar_verdict(a: Observable, b: Observable, n_sigma: float = N_SIGMA) -> Verdict:
    """``scalar_verdict(Observable("E", 1.0, 0.1), Observable("E", 1.1, 0.1))``: Verdict with z (paired if they pair)."""
    values = (a.value, b.value)
    if a.value is None or b.value is None:
        return Verdict("no value", values=values)
    if a.error is None or b.error is None or (a.error == 0 and b.error == 0):
        same = _same_values(a.value, b.value)
        return Verdict("same" if same else "no error bar", 0.0 if same else None, values=values)
    paired = paired_error(a, b)
    error = float(np.hypot(a.error, b.error)) if paired is None else paired
    z = abs(a.value - b.value) / error
    return Verdict("same" if z <= n_sigma else "different", float(z), values=values, error=error,
                   paired=paired is not None)


def curve_verdict(a: Curve, b: Curve, n_sigma: float = N_SIGMA) -> Verdict:
    """``curve_verdict(curve_a, curve_b)``: chi-squared per point of the difference over the shared x range."""
    n = min(len(a.x), len(b.x))
    xa, xb = _arr(a.x[:n]), _arr(b.x[:n])
    if n == 0 or not np.allclose(xa, xb, rtol=1e-6, atol=1e-9):
        return Verdict("incomparable", None, "chi2/n", 0)
    ya, yb = _arr(a.y[:n]), _arr(b.y[:n])
    if a.y_error is None or b.y_error is None:
        same = _same_values(ya, yb)
        return Verdict("same" if same else "no error bar", 0.0 if same else None, "chi2/n", n)
    err = np.hypot(_arr(a.y_error[:n]), _arr(b.y_error[:n]))
    finite = np.isfinite(ya) & np.isfinite(yb) & np.isfinite(err)
    with_bar = finite & (err > 0)
    without = finite & ~(err > 0)
    if with_bar.sum() == 0:
        same = _same_values(ya[finite], yb[finite])
        return Verdict("same" if same else "no error bar", 0.0 if same else None, "chi2/n", int(finite.sum()))
    chi2 = float(np.mean(((ya[with_bar] - yb[with_bar]) / err[with_bar]) ** 2))
    limit = 1.0 + n_sigma * np.sqrt(2.0 / with_bar.sum())
    same = chi2 <= limit and _same_values(ya[without], yb[without])
    return Verdict("same" if same else "different", chi2, "chi2/n", int(finite.sum()))


def run_names(results: list[RunAnalysis]) -> list[str]:
    """``run_names(results)``: each run's label, or label (folder) where two runs share a label."""
    labels = [r.label for r in results]
    return [r.label if labels.count(r.label) == 1 else f"{r.label} ({r.name})" for r in results]


def _has_error(item: Observable | Curve) -> bool:
    if isinstance(item, Observable):
        return item.error is not None
    return item.y_error is not None


def compare_runs(results: list[RunAnalysis], n_sigma: float = N_SIGMA, group: str | None = None) -> Comparison:
    """``compare_runs([r1, r2, ...])`` (one case, or a direct case and its MTS one): a Verdict per observable and pair."""
    if len({comparable_case(r.case) for r in results}) != 1:
        raise InputError(f"compare runs of one case, got {sorted({r.case for r in results})}")
    names = run_names(results)
    pairs = list(combinations(range(len(results)), 2))
    pair_names = tuple(f"{names[i]}|{names[j]}" for i, j in pairs)
    observables, not_judged = {}, {}
    for kind in ("scalar", "curve"):
        items = [r.observables if kind == "scalar" else r.curves for r in results]
        shared = set.intersection(*(set(i) for i in items))
        for name in sorted(shared):
            spec = find_spec(kind, name)
            if spec is not None and not spec.compared:
                continue  # a diagnostic of the strategy or the integrator: never judged, never listed
            reason = "not a declared observable" if spec is None else spec.not_comparable.get(results[0].kind)
            if reason:  # an older analysis.json's name, or no common meaning in this kind of run
                not_judged[name] = reason
                continue
            if not all(_has_error(i[name]) for i in items):
                not_judged[name] = "no error bar"
                continue
            judge = scalar_verdict if kind == "scalar" else curve_verdict
            verdicts = {p: judge(items[i][name], items[j][name], n_sigma) for p, (i, j) in zip(pair_names, pairs)}
            if not any(v.judged for v in verdicts.values()):
                not_judged[name] = sorted({v.verdict for v in verdicts.values()})[0]
                continue
            first = items[0][name]
            unit = first.unit if kind == "scalar" else first.y_unit
            observables[name] = ObservableComparison(name, kind, unit, verdicts)
    return Comparison(group or results[0].group, results[0].case, tuple(names), pair_names, observables, not_judged)


def group_runs(results: list[RunAnalysis]) -> dict[str, list[RunAnalysis]]:
    """``group_runs(results)``: comparable groups (``result.group``: case, size, cell) -> results, in order."""
    groups: dict[str, list[RunAnalysis]] = {}
    for r in results:
        groups.setdefault(r.group, []).append(r)
    return groups
