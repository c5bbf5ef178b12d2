"""Fixed-cell energy minimisation of a structure with any potential.

    liquid = relax(liquid_box(64), steps=200)              # q-TIP4P/F (LAMMPS) by default
    cell = relax(ice_ih((3, 2, 2)), load_potential("toy"), fmax=0.01)
"""

from __future__ import annotations

from ..core.structure import Structure


def relax(structure: Structure, potential=None, *, steps: int = 200, fmax: float = 0.05) -> Structure:
    """Usage: relax(liquid_box(64), steps=200) -> positions minimised (fixed cell) with L-BFGS.

    ``potential`` defaults to the q-TIP4P/F reference. Stops after ``steps``
    iterations or when the largest force component is below ``fmax`` eV/A.
    """
    from scipy.optimize import minimize

    if potential is None:
        from .qtip4pf import QTIP4PF

        potential = QTIP4PF()
    shape = structure.positions.shape

    def energy_and_gradient(x):
        e, f, _ = potential.compute_one(Structure(x.reshape(shape), structure.numbers, structure.cell))
        return e, -f.ravel()

    result = minimize(
        energy_and_gradient,
        structure.positions.ravel(),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": steps, "gtol": fmax},
    )
    return Structure(result.x.reshape(shape), structure.numbers, structure.cell)


__all__ = ["relax"]
