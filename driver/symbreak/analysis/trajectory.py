"""What an observable computed from the frames alone gets, and what it gives back.

    traj = Trajectory(numbers, positions, times, cells=cells, beads=None, n_blocks=5)
    traj.all_beads                      # (P, T, N, 3): the beads of a path-integral run, else (1, T, N, 3)
    ScalarValue(0.97, 0.001, blocks=(...), block_times=(...))   # a mean with its block error (and block values)
    ScalarValue.block_mean(series, n_blocks=5, times=times)     # the same from a (T,) series
    CurveValue(r, p, p_err)                                      # y(x) with optional errors

A :class:`~symbreak.analysis.observables.ObservableSpec` with ``compute``
maps a Trajectory to one of these values; the collector names it and adds
the unit and axes of its declaration. Arrays in Angstrom, times in ps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .blocks import block_average, block_means


@dataclass(frozen=True, eq=False)
class Trajectory:
    """The frames of one MD run: atoms in consecutive O, H, H order; positions of the centroid for PIMD."""

    numbers: np.ndarray  # (N,)
    positions: np.ndarray  # (T, N, 3), unwrapped
    times: np.ndarray  # (T,) ps
    cells: np.ndarray | None = None  # (T, 3, 3) rows as lattice vectors; None in vacuum
    beads: np.ndarray | None = None  # (P, T, N, 3) for a path-integral run
    #: blocks of frames for error bars (None: the run is too short for them)
    n_blocks: int | None = None

    @property
    def all_beads(self) -> np.ndarray:
        """(P, T, N, 3): every bead (one bead, the positions, for a classical run)."""
        return self.positions[None] if self.beads is None else self.beads


@dataclass(frozen=True)
class ScalarValue:
    """A value with its standard error (None: no error bar) and, for a paired comparison, per-block values and times."""

    value: float | None
    error: float | None = None
    blocks: tuple[float, ...] | None = None
    block_times: tuple[float, ...] | None = None

    @classmethod
    def block_mean(cls, series, n_blocks: int | None, times) -> "ScalarValue":
        """The mean of a (T,) series with its block error, block values and their mean times (None: no blocks)."""
        series = np.asarray(series, dtype=float)
        if n_blocks is None:
            return cls(float(series.mean()))
        mean, error = block_average(series, n_blocks)
        return cls(float(mean), float(error), tuple(block_means(series, n_blocks).tolist()),
                   tuple(block_means(times, n_blocks).tolist()))


@dataclass(frozen=True, eq=False)
class CurveValue:
    """y(x) with optional standard errors of y."""

    x: np.ndarray
    y: np.ndarray
    y_error: np.ndarray | None = None


__all__ = ["CurveValue", "ScalarValue", "Trajectory"]
