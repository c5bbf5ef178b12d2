"""SymbreakCalculator: an ASE calculator that evaluates a potential through a symmetrization strategy.

    from ase.optimize import BFGS
    from ase.filters import FrechetCellFilter
    from symbreak.ase import SymbreakCalculator

    atoms.calc = SymbreakCalculator("default", strategy="2i")
    BFGS(FrechetCellFilter(atoms)).run(fmax=0.01)            # a cell relaxation on the averaged surface
    atoms.calc.results["energy_rot_std"]                     # how much the plain model depends on orientation

The first argument is a potential spec (``default``, ``toy``, ``qtip4pf``, a
checkpoint, ``metatomic:model.pt``, ``ase:MODULE:FACTORY``), an ASE calculator
object, or a symbreak Potential. Every call evaluates all rotated copies of the
structure in the strategy's batched, chunked calls (as ``symbreak serve``
does). Results: ``energy`` and ``free_energy`` (eV), ``forces`` (eV/A),
``stress`` (periodic systems, eV/A^3, from the full averaged virial: -W/V in
Voigt order) and ``virial`` (3x3, eV); for grid strategies also the rotational
standard deviations, element by element, under the names metatomic's
SymmetrizedCalculator uses: ``energy_rot_std``, ``forces_rot_std`` (n, 3) and
``stress_rot_std`` (3, 3, periodic systems); and ``diagnostics``, the per-call
dict ``symbreak serve`` sends to i-PI's extras (plain energy, net torque, ...).

Random strategies (``random:SEED``, ``GRID+random:SEED``) draw new rotations on
every call: a calculator is reproducible from its seed for the same sequence
of calls. For NEB give each image its own calculator with its own seed (e.g.
``SymbreakCalculator(spec, strategy=f"2i+random:{100 + k}")`` for image k), so
that no image's rotations depend on the order in which ASE evaluates them.

``workers=K`` (a spec only) shares every call's rotated copies over K
processes on this machine, as ``symbreak serve --workers K`` does (this one and
K - 1 children on torch.distributed, one thread each; :mod:`symbreak.distributed`):
worth it where one call holds many copies of a large structure (a 2i call of 64
H2O: 1.7-2x on two cores), not for a single molecule. Call ``close()`` (or use
the calculator as a context manager) to stop the children.
"""

from __future__ import annotations

import numpy as np
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes
from ase.stress import full_3x3_to_voigt_6_stress

from ..core.errors import InputError
from ..core.structure import Structure
from ..potentials.base import Potential
from ..symmetry.strategies import parse_strategy


def as_potential(potential) -> Potential:
    """Usage: as_potential("toy" | ase_calculator | potential) -> a symbreak Potential (the spec loaded, the calculator wrapped)."""
    if isinstance(potential, Potential):
        return potential
    if isinstance(potential, str):
        from ..potentials.registry import load_potential

        return load_potential(potential)
    if isinstance(potential, Calculator) or hasattr(potential, "get_potential_energy") or hasattr(potential, "calculate"):
        from ..potentials.ase_calculator import ASECalculatorPotential

        return ASECalculatorPotential(potential)
    raise InputError(f"SymbreakCalculator needs a potential spec, an ASE calculator or a symbreak Potential, "
                     f"got {type(potential).__name__}")


class SymbreakCalculator(Calculator):
    """Usage: SymbreakCalculator("default", strategy="2i") -> an ASE calculator of the potential under that strategy."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, potential="default", strategy: str = "plain", *, chunk_size: int | None = None,
                 workers: int = 1, **kwargs):
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise InputError(f"workers must be an integer >= 1, got {workers!r}")
        if workers > 1 and not isinstance(potential, str):
            raise InputError("workers > 1 needs a potential spec (each process loads its own copy), "
                             f"not a {type(potential).__name__} object")
        super().__init__(**kwargs)
        if workers > 1:
            from ..distributed import start_local_ranks

            self.potential = start_local_ranks(potential, workers, chunk_size=chunk_size)  # children share our cwd
        else:
            self.potential = as_potential(potential)
        self.strategy = parse_strategy(strategy, self.potential, chunk_size=chunk_size, diagnostics=True)
        self.strategy_label = self.strategy.spec.label

    def __repr__(self) -> str:
        return f"SymbreakCalculator({self.potential.describe()}, strategy={self.strategy_label!r})"

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        structure = Structure.from_atoms(self.atoms)
        if "stress" in properties and not structure.periodic:
            raise PropertyNotImplementedError(
                "stress needs a periodic system (atoms.pbc set and a cell); these atoms have none (an i-PI xyz read "
                "by ase.io.read loses its cell: read it with symbreak.structures.read_structures(path)[0].to_atoms())")
        out = self.strategy.compute([structure])
        energy, forces, virial = float(out.energies[0]), np.asarray(out.forces[0], dtype=float), np.asarray(out.virials[0])
        results = {"energy": energy, "free_energy": energy, "forces": forces, "virial": virial}
        volume = abs(float(np.linalg.det(structure.cell))) if structure.periodic else None
        if volume:
            results["stress"] = full_3x3_to_voigt_6_stress(-virial / volume)
        spreads = getattr(self.strategy, "last_spreads", None)
        if spreads:
            spread = spreads[0]
            results["energy_rot_std"] = spread.energy
            results["forces_rot_std"] = spread.forces
            if volume:
                results["stress_rot_std"] = spread.virial / volume
        if out.extras:
            results["diagnostics"] = dict(out.extras[0])
        self.results = results

    def close(self) -> None:
        """Release what the potential holds (a LAMMPS instance, the other ranks of a distributed potential)."""
        self.potential.close()

    def __enter__(self) -> "SymbreakCalculator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["SymbreakCalculator", "as_potential"]
