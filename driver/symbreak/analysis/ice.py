"""Proton-disordered ice: relative energies, their errors, and the physical spread they must resolve.

    rel = relative_energies(e_plain)                 # (C,) per molecule minus the mean over the configurations
    relative_energy_error(e_plain, e_ref)            # mean |rel_plain - rel_ref|: model + symmetry error
    ranking_agreement(e_plain, e_ref).kendall        # 1: the same order

Relative energies are each potential's energies minus their mean over the
configurations: the proton-pattern energetics (~1 meV/H2O) that an
orientation bias could reorder. Energies come per molecule, in any unit
(the outputs are in the same unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..core.errors import InputError


@dataclass(frozen=True)
class RankingAgreement:
    """Rank correlations of two energy orderings: 1 the same order, -1 reversed, NaN if undefined."""

    spearman: float  # Spearman rho
    kendall: float  # Kendall tau


def _as_energies(values, name: str) -> np.ndarray:
    e = np.asarray(values, dtype=float)
    if e.ndim != 1 or len(e) < 2:
        raise InputError(f"energies '{name}' must be a 1-d array over at least 2 configurations, got shape {e.shape}")
    if not np.all(np.isfinite(e)):
        raise InputError(f"energies '{name}' contain NaN or infinite values")
    return e


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


def ranking_agreement(energies, reference) -> RankingAgreement:
    """``r = ranking_agreement(e_plain, e_ref)``: ``r.spearman`` and ``r.kendall`` of the energy orderings (1 = same order)."""
    e, ref = _as_energies(energies, "energies"), _as_energies(reference, "reference")
    if e.shape != ref.shape:
        raise InputError(f"energies and reference cover different configurations: {e.shape} vs {ref.shape}")
    return RankingAgreement(spearman=float(stats.spearmanr(e, ref).statistic), kendall=float(stats.kendalltau(e, ref).statistic))
