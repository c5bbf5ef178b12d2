"""Proton-disordered ice: relative energies, their errors, and the physical spread they must resolve.

    energies = {"reference": e_ref, "plain": e_plain, "averaged": e_avg}   # (C,) per molecule, C configurations
    c = compare_ice_energies(energies)
    c["spread"]                                   # std of the reference relative energies
    c["vs_reference"]["plain"]["mae"]             # mean |rel_plain - rel_ref|: model + symmetry error
    c["between"]["averaged|plain"]                # mean |rel_avg - rel_plain|: the symmetry error alone
    r = ice_report(before, after)                 # the same before and after relaxation, and relaxation energies

Relative energies are each potential's energies minus their mean over the
configurations: the proton-pattern energetics (~1 meV/H2O) that an
orientation bias could reorder. Energies come per molecule, in any unit
(the outputs are in the same unit).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import stats

from ..core.errors import InputError


def _as_energies(values, name: str) -> np.ndarray:
    e = np.asarray(values, dtype=float)
    if e.ndim != 1 or len(e) < 2:
        raise InputError(f"energies '{name}' must be a 1-d array over at least 2 configurations, got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise InputError(f"energies '{name}' contain NaN or infinite values")
    return e


def _check_set(energies: dict, reference: str) -> dict[str, np.ndarray]:
    if not isinstance(energies, dict) or reference not in energies:
        names = sorted(energies) if isinstance(energies, dict) else type(energies).__name__
        raise InputError(f"energies must be a dict with a '{reference}' entry, got {names}")
    out = {name: _as_energies(v, name) for name, v in energies.items()}
    n = len(out[reference])
    for name, e in out.items():
        if len(e) != n:
            raise InputError(f"energies '{name}' cover {len(e)} configurations, '{reference}' covers {n}")
    return out


def relative_energies(energies) -> np.ndarray:
    """``rel = relative_energies(e)``: (C,) energies minus their mean over configurations."""
    e = _as_energies(energies, "energies")
    return e - e.mean()


def relative_energy_error(energies, reference) -> float:
    """``relative_energy_error(e_plain, e_ref)``: mean |rel(e) - rel(ref)| over configurations."""
    e, ref = _as_energies(energies, "energies"), _as_energies(reference, "reference")
    if e.shape != ref.shape:
        raise InputError(f"energies and reference cover different configurations: {e.shape} vs {ref.shape}")
    return float(np.mean(np.abs((e - e.mean()) - (ref - ref.mean()))))


def relaxation_energies(before, after) -> np.ndarray:
    """``relaxation_energies(e_before, e_after)``: (C,) after - before (negative for a relaxation)."""
    b, a = _as_energies(before, "before"), _as_energies(after, "after")
    if a.shape != b.shape:
        raise InputError(f"before and after cover different configurations: {b.shape} vs {a.shape}")
    return a - b


def ranking_agreement(energies, reference) -> dict:
    """``ranking_agreement(e_plain, e_ref)``: Spearman rho and Kendall tau of the energy orderings (1 = same order)."""
    e, ref = _as_energies(energies, "energies"), _as_energies(reference, "reference")
    if e.shape != ref.shape:
        raise InputError(f"energies and reference cover different configurations: {e.shape} vs {ref.shape}")
    return {"spearman": float(stats.spearmanr(e, ref).statistic), "kendall": float(stats.kendalltau(e, ref).statistic)}


def compare_ice_energies(energies: dict, reference: str = "reference", relative: bool = True) -> dict:
    """``c = compare_ice_energies({"reference": e, "plain": e1, "averaged": e2})``: errors vs the spread.

    With ``relative`` (default) every potential's energies are first made
    relative to their own mean; ``relative=False`` compares them as given
    (relaxation energies). Returns ``spread`` (std of the reference values),
    ``vs_reference[name]`` with ``mae``, ``max`` (largest absolute deviation),
    ``spearman`` and ``kendall``, and ``between["a|b"]``: the mean absolute
    difference of every pair of non-reference potentials (names sorted).
    """
    e = _check_set(energies, reference)
    values = {name: (v - v.mean() if relative else v) for name, v in e.items()}
    ref = values[reference]
    others = sorted(name for name in values if name != reference)
    out = {"spread": float(ref.std()), "n_configurations": len(ref), "vs_reference": {}, "between": {}}
    for name in others:
        diff = np.abs(values[name] - ref)
        out["vs_reference"][name] = {"mae": float(diff.mean()), "max": float(diff.max()), **ranking_agreement(values[name], ref)}
    for a, b in combinations(others, 2):
        out["between"][f"{a}|{b}"] = float(np.mean(np.abs(values[a] - values[b])))
    return out


def ice_report(before: dict, after: dict | None = None, reference: str = "reference") -> dict:
    """``r = ice_report(before, after)``: comparisons before and after relaxation, and of the relaxation energies.

    ``before`` and ``after`` map potential names to (C,) energies per molecule
    (the same names); each potential relaxes on its own surface. Returns
    ``before``, ``after``, ``relaxation`` (name -> (C,) after - before) and
    ``relaxation_compare`` (absolute relaxation energies, not relative).
    """
    out = {"before": compare_ice_energies(before, reference)}
    if after is None:
        return out
    if set(before) != set(after):
        raise InputError(f"before and after name different potentials: {sorted(before)} vs {sorted(after)}")
    relax = {name: relaxation_energies(before[name], after[name]) for name in before}
    out["after"] = compare_ice_energies(after, reference)
    out["relaxation"] = relax
    out["relaxation_compare"] = compare_ice_energies(relax, reference, relative=False)
    return out
