"""Is a structure in an i-PI cell an isolated cluster (a gas-phase run) or a periodic system?

    looks_isolated(cell_rows, positions)      # True for one H2O in a 30 A box, False for liquid water

i-PI has no "vacuum" flag: every system has a cell, and symbreak's gas cases
put the molecule in a 100 A box (their servers get ``--vacuum``). The rule,
per cell direction i (cell rows in Angstrom):

* the *width* w_i is the cell's thickness along the reciprocal direction i;
* the *extent* e_i is how far the atoms spread along it (the spread of their
  fractional coordinates times w_i: a cluster split across the boundary by
  wrapping spreads over the whole cell, so it counts as touching its images);
* the system is isolated when, for every i, w_i >= ISOLATION_RATIO x max(e_i, 1 A)
  and the empty gap w_i - e_i between the atoms and their periodic images is at
  least ISOLATION_GAP_A.

One molecule in a box of 30 A passes; a liquid or a crystal (atoms across the
cell) does not; a cluster in a box only a little larger than itself does not
either (its images interact).
"""

from __future__ import annotations

import numpy as np

#: the cell must be this many times wider than the atoms' spread in every direction
ISOLATION_RATIO = 3.0
#: ... and leave at least this many Angstrom of empty space to the periodic images
ISOLATION_GAP_A = 8.0


def widths_and_extents(cell_rows, positions) -> tuple[np.ndarray, np.ndarray]:
    """``w, e = widths_and_extents(cell, positions)``: per cell direction, the cell's width and the atoms' extent (A)."""
    cell = np.asarray(cell_rows, dtype=float).reshape(3, 3)
    inverse = np.linalg.inv(cell)  # columns: reciprocal vectors / 2 pi
    widths = 1.0 / np.linalg.norm(inverse, axis=0)
    frac = np.asarray(positions, dtype=float).reshape(-1, 3) @ inverse
    extents = np.ptp(frac, axis=0) * widths
    return widths, extents


def looks_isolated(cell_rows, positions) -> bool:
    """``looks_isolated(cell_rows, positions)``: True when the atoms sit far from their images (module docstring)."""
    if cell_rows is None:
        return True
    try:
        widths, extents = widths_and_extents(cell_rows, positions)
    except np.linalg.LinAlgError:  # a singular cell: i-PI's placeholder for "no cell"
        return True
    return bool(np.all(widths >= ISOLATION_RATIO * np.maximum(extents, 1.0))
                and np.all(widths - extents >= ISOLATION_GAP_A))


__all__ = ["ISOLATION_GAP_A", "ISOLATION_RATIO", "looks_isolated", "widths_and_extents"]
