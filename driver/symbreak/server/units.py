"""Conversions at the i-PI boundary: atomic units outside, eV and Angstrom inside.

    cell_rows, positions = structure_from_ipi(h_bohr, q_bohr)
    pot, forces, virial = results_to_ipi(energy_ev, forces_ev_a, virial_ev)

i-PI sends the cell matrix h with lattice vectors as columns; symbreak keeps
them as rows (ASE). The virial goes back transposed, as i-PI's own ASE driver does.
"""

from __future__ import annotations

import numpy as np
from ase.units import Bohr, Hartree

ANGSTROM_PER_BOHR = Bohr
EV_PER_HARTREE = Hartree


def cell_from_ipi(h: np.ndarray) -> np.ndarray:
    """i-PI cell (columns, Bohr) -> lattice vectors as rows in Angstrom."""
    return np.asarray(h, dtype=np.float64).reshape(3, 3).T * ANGSTROM_PER_BOHR


def positions_from_ipi(q: np.ndarray) -> np.ndarray:
    """Flat or (n, 3) positions in Bohr -> (n, 3) Angstrom."""
    return np.asarray(q, dtype=np.float64).reshape(-1, 3) * ANGSTROM_PER_BOHR


def energy_to_ipi(energy_ev: float) -> float:
    return float(energy_ev) / EV_PER_HARTREE


def forces_to_ipi(forces_ev_a: np.ndarray) -> np.ndarray:
    """(n, 3) eV/A -> flat Hartree/Bohr, float64."""
    return np.ascontiguousarray(np.asarray(forces_ev_a, np.float64).reshape(-1) * (ANGSTROM_PER_BOHR / EV_PER_HARTREE))


def virial_to_ipi(virial_ev: np.ndarray) -> np.ndarray:
    """(3, 3) eV, W_ab = sum F_a r_b -> i-PI's (transposed) virial in Hartree."""
    return np.ascontiguousarray(np.asarray(virial_ev, np.float64).T / EV_PER_HARTREE)
