"""Observables computed from a run's frames alone, each one function of a Trajectory (declared in ``observables``).

    mean_oh_bond_length(traj)             # ScalarValue: <r_OH> over bonds (and beads), block error and values
    oh_bond_length_distribution(traj)     # CurveValue: P(r_OH) on 0.8-1.2 A with block errors

Each function returns None when the run cannot give it (the molecules broke
apart: a note says so elsewhere). Path-integral runs use every bead.
"""

from __future__ import annotations

import numpy as np

from .bonds import bond_length_distribution, oh_bond_lengths
from .molecules import MAX_OH_DISTANCE
from .trajectory import CurveValue, ScalarValue, Trajectory

#: the range and bins of P(r_OH): the bond of q-TIP4P/F and of ML water sits at 0.95-1.0 A
BOND_RANGE, BOND_BINS = (0.8, 1.2), 40


def _bond_lengths(traj: Trajectory) -> np.ndarray | None:
    """(T, P * 2M) O-H lengths of every bead per frame; None if any bond is broken."""
    lengths = np.concatenate([oh_bond_lengths(b, traj.numbers, traj.cells) for b in traj.all_beads], axis=1)
    return None if np.any(lengths > MAX_OH_DISTANCE) else lengths


def mean_oh_bond_length(traj: Trajectory) -> ScalarValue | None:
    """``mean_oh_bond_length(traj)``: the mean O-H length (A) with its block error and block values."""
    lengths = _bond_lengths(traj)
    if lengths is None:
        return None
    return ScalarValue.block_mean(lengths.mean(axis=1), traj.n_blocks, traj.times)


def oh_bond_length_distribution(traj: Trajectory) -> CurveValue | None:
    """``oh_bond_length_distribution(traj)``: P(r_OH) (1/A) over BOND_RANGE with block errors."""
    lengths = _bond_lengths(traj)
    if lengths is None:
        return None
    d = bond_length_distribution(lengths, *BOND_RANGE, n_bins=BOND_BINS, n_blocks=traj.n_blocks)
    return CurveValue(d.r, d.density, d.density_error)


__all__ = ["BOND_BINS", "BOND_RANGE", "mean_oh_bond_length", "oh_bond_length_distribution"]
