"""Fixed-cell energy minimisation of a structure with any potential.

    liquid = relax(liquid_box(64), steps=200)              # q-TIP4P/F (LAMMPS) by default
    cell = relax(ice_ih((3, 2, 2)), load_potential("toy"), fmax=0.01)
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..core.structure import Structure

#: eV: what a trial geometry the potential refuses counts as (the line search then takes a shorter step)
REFUSED_ENERGY = 1.0e6


def relax(structure: Structure, potential=None, *, steps: int = 200, fmax: float = 0.05) -> Structure:
    """Usage: relax(liquid_box(64), steps=200) -> positions minimised (fixed cell) with L-BFGS.

    ``potential`` defaults to the q-TIP4P/F reference. Stops after ``steps``
    iterations or when the largest force component is below ``fmax`` eV/A.
    L-BFGS-B's first trial step is 1 A long whatever the forces: a trial
    geometry the potential refuses (q-TIP4P/F refuses an O-H bond > 1.6 A) is
    answered with a very high energy, so the line search steps back instead of
    failing; only the starting geometry itself is checked as usual.
    """
    from scipy.optimize import minimize

    if potential is None:
        from .qtip4pf import QTIP4PF

        potential = QTIP4PF()
    shape = structure.positions.shape
    start = structure.positions.ravel()

    def energy_and_gradient(x):
        try:
            e, f, _ = potential.compute_one(Structure(x.reshape(shape), structure.numbers, structure.cell))
        except InputError:
            if np.array_equal(x, start):
                raise
            return REFUSED_ENERGY, np.zeros_like(x)
        return e, -f.ravel()

    result = minimize(
        energy_and_gradient,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": steps, "gtol": fmax},
    )
    return Structure(result.x.reshape(shape), structure.numbers, structure.cell)


__all__ = ["relax"]
