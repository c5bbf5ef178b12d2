"""Any ASE calculator behind the batched :class:`Potential` interface.

    from ase.calculators.emt import EMT
    from symbreak.potentials.ase_calculator import ASECalculatorPotential
    pot = ASECalculatorPotential(EMT(), name="emt")
    pot.compute([Structure(positions, numbers, cell)])

The calculator is called once per structure (ASE has no batching). The virial
follows the project convention W = -dE/d(strain):
- periodic structures: W = -stress * volume, the full 3x3 ASE stress;
- isolated structures: W_ab = sum_i F_i,a (r_i,b - c_b), c the centroid (the
  finite-system virial; centring makes it independent of the origin even when
  the calculator's forces do not sum to zero).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..core.structure import Evaluation, Structure
from .base import Potential
from .spec import PotentialError


class ASECalculatorPotential(Potential):
    """``ASECalculatorPotential(calculator, name="emt", chunk_size=None)``: wrap an ASE calculator.

    ``calculator`` must implement ``forces`` (checked here) and, for periodic
    structures, ``stress`` (checked on first use). ``species`` optionally limits
    the atomic numbers accepted (None: any).
    """

    def __init__(
        self,
        calculator,
        name: str | None = None,
        chunk_size: int | None = None,
        species: frozenset[int] | None = None,
    ):
        implemented = getattr(calculator, "implemented_properties", None)
        if implemented is not None and "forces" not in implemented:
            raise PotentialError(
                f"ASE calculator {type(calculator).__name__} does not implement forces "
                f"(it implements {list(implemented)}); symbreak needs energies and forces"
            )
        self.calculator = calculator
        self.name = name if name is not None else f"ase:{type(calculator).__name__}"
        self.chunk_size = chunk_size
        self.species = None if species is None else frozenset(species)

    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        """``pot.compute([structure, ...])``: one calculator call per structure."""
        energies, forces, virials = [], [], []
        for s in structures:
            self.check_species(s.numbers)
            e, f, w = self._one(s)
            energies.append(e)
            forces.append(f)
            virials.append(w)
        return Evaluation(
            np.array(energies, dtype=np.float64).reshape(-1),
            forces,
            np.array(virials, dtype=np.float64).reshape(-1, 3, 3),
            [{} for _ in structures],
        )

    def _one(self, s: Structure) -> tuple[float, np.ndarray, np.ndarray]:
        from ase.calculators.calculator import PropertyNotImplementedError

        atoms = s.to_atoms()
        atoms.calc = self.calculator
        energy = float(atoms.get_potential_energy())
        forces = np.array(atoms.get_forces(), dtype=np.float64)
        if s.cell is not None:
            try:
                stress = np.array(atoms.get_stress(voigt=False), dtype=np.float64)
            except PropertyNotImplementedError as err:
                raise PotentialError(
                    f"ASE calculator {type(self.calculator).__name__} does not implement stress, "
                    "needed for the virial of a periodic structure; use an isolated structure "
                    "(cell None) or a calculator with stress"
                ) from err
            virial = -stress * abs(np.linalg.det(s.cell))
        else:
            centred = s.positions - s.positions.mean(axis=0)
            virial = forces.T @ centred
        return energy, forces, virial


def _import_factory_module(module: str, spec_text: str):
    import importlib
    import importlib.util
    import os

    if module.endswith(".py"):
        if not os.path.isfile(module):
            raise PotentialError(f"'{spec_text}': the factory file {module} does not exist")
        name = "symbreak_user_factory_" + os.path.splitext(os.path.basename(module))[0]
        loader_spec = importlib.util.spec_from_file_location(name, module)
        loaded = importlib.util.module_from_spec(loader_spec)
        try:
            loader_spec.loader.exec_module(loaded)
        except Exception as err:
            raise PotentialError(f"'{spec_text}': running {module} failed: {type(err).__name__}: {err}") from None
        return loaded
    try:
        return importlib.import_module(module)
    except ImportError as err:
        missing = getattr(err, "name", None) or module
        raise PotentialError(
            f"'{spec_text}': cannot import {module} ({type(err).__name__}: {err}); install the package "
            f"that provides '{missing.split('.')[0]}' into this environment (pip install -c constraints.txt ...)"
        ) from None
    except Exception as err:
        raise PotentialError(f"'{spec_text}': importing {module} failed: {type(err).__name__}: {err}") from None


def calculator_potential_from_spec(spec) -> "ASECalculatorPotential":
    """``calculator_potential_from_spec(parse_potential_spec("ase:MODULE:FACTORY:{...}"))``.

    Imports MODULE (or runs the .py file), calls FACTORY(**kwargs) and wraps the
    calculator it returns. Every failure is a one-line :class:`PotentialError`.
    """
    module = _import_factory_module(spec.module, spec.text)
    factory = getattr(module, spec.factory, None)
    if factory is None or not callable(factory):
        raise PotentialError(f"'{spec.text}': {spec.module} has no callable '{spec.factory}'")
    try:
        calculator = factory(**spec.factory_kwargs())
    except Exception as err:
        raise PotentialError(
            f"'{spec.text}': {spec.factory}(**{spec.arguments}) failed: {type(err).__name__}: {err}"
        ) from None
    if not callable(getattr(calculator, "get_potential_energy", None)) and not callable(getattr(calculator, "calculate", None)):
        raise PotentialError(
            f"'{spec.text}': {spec.factory} returned a {type(calculator).__name__}, not an ASE calculator"
        )
    try:
        return ASECalculatorPotential(calculator, name=spec.label)
    except ValueError as err:
        raise PotentialError(f"'{spec.text}': {err}") from None
