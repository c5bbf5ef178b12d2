"""Energy conservation: drift and fluctuation of i-PI's conserved quantity.

    props = read_properties("runs/liquid/simulation.out")
    d = conserved_drift(props["time"], props["conserved"], n_molecules=512, n_blocks=10)
    d.drift, d.drift_err                # eV per molecule per ps
    d.fluctuation                       # eV per molecule, std about the linear fit

The drift is the slope of a straight line through the block means of the
conserved quantity (its error from their scatter about the line, so that
correlated fluctuations shorter than a block do not shrink it); the
fluctuation is the standard deviation of every frame about that line.
For thermostatted runs the conserved quantity must include the thermostat's
bookkeeping (i-PI's ``conserved`` does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..core.errors import InputError
from .blocks import block_means
from .dynamics import uniform_spacing


@dataclass(frozen=True)
class ConservedDrift:
    """The conserved quantity per molecule: a line through its block means, and the scatter of frames about it."""

    drift: float  # eV per molecule per ps, the slope
    drift_err: float  # eV per molecule per ps, from the block means' scatter about the line
    intercept: float  # eV per molecule, the line at t = 0
    fluctuation: float  # eV per molecule, standard deviation of every frame about the line
    duration: float  # ps, last time minus first
    n_blocks: int


def conserved_drift(times, conserved, n_molecules: int, n_blocks: int = 10) -> ConservedDrift:
    """``d = conserved_drift(times_ps, conserved_eV, n_molecules, n_blocks=10)``: slope with error, fluctuation.

    Returns a :class:`ConservedDrift`: ``d.drift`` and ``d.drift_err`` (eV per
    molecule per ps), ``d.intercept`` (eV per molecule), ``d.fluctuation`` (eV
    per molecule) and ``d.duration`` (ps).
    Needs uniformly spaced ``times`` (ps) and at least 3 blocks.
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(conserved, dtype=float)
    if e.ndim != 1 or e.shape != t.shape:
        raise InputError(f"times and conserved must be 1-d arrays of equal length, got {t.shape} and {e.shape}")
    if not np.all(np.isfinite(e)):
        raise InputError("conserved contains NaN or infinite values")
    uniform_spacing(t)
    if isinstance(n_molecules, bool) or int(n_molecules) != n_molecules or n_molecules < 1:
        raise InputError(f"n_molecules must be a positive integer, got {n_molecules!r}")
    if n_blocks < 3:
        raise InputError(f"n_blocks must be >= 3 (a line through block means needs a residual), got {n_blocks}")
    e = e / n_molecules
    fit = stats.linregress(block_means(t, n_blocks), block_means(e, n_blocks))
    residual = e - (fit.intercept + fit.slope * t)
    return ConservedDrift(
        drift=float(fit.slope),
        drift_err=float(fit.stderr),
        intercept=float(fit.intercept),
        fluctuation=float(residual.std()),
        duration=float(t[-1] - t[0]),
        n_blocks=int(n_blocks),
    )
