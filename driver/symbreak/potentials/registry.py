"""Build a potential from its spec: the one entry point for every `--potential`.

    load_potential("toy")                           # analytic water with known symmetry breaking
    load_potential("default")                       # the shipped PET-style model
    load_potential("default-ice")                   # the same fine-tuned on the eight ice polymorphs
    load_potential("qtip4pf")                       # the exactly invariant LAMMPS reference
    load_potential("path/to/model")                 # a checkpoint written by `symbreak train`
    load_potential("metatomic:model.pt:dtype=float64")
    load_potential('ase:sevenn.calculator:SevenNetCalculator:{"model": "7net-0"}')

The grammar is in :mod:`symbreak.potentials.spec`. Heavy dependencies (torch,
LAMMPS, metatomic, the package behind an ASE factory) are imported only when their
potential is asked for, so a missing optional package never breaks the others.
"""

from __future__ import annotations

from .base import Potential
from .spec import POTENTIAL_NAMES, SHIPPED_MODELS, PotentialError, PotentialSpec, parse_potential_spec

__all__ = ["POTENTIAL_NAMES", "PotentialError", "load_potential"]


def load_potential(spec: str | PotentialSpec, **options) -> Potential:
    """Build the potential that ``spec`` names; ``options`` go to the constructors of the named ones."""
    parsed = spec if isinstance(spec, PotentialSpec) else parse_potential_spec(spec)
    if options and parsed.kind in ("metatomic", "ase"):
        raise PotentialError(f"'{parsed.text}' takes its options in the spec itself, not as {sorted(options)}")
    if parsed.kind == "toy":
        from .toy import ToyWater

        return ToyWater(**options)
    if parsed.kind in SHIPPED_MODELS:
        from .pet_checkpoint import load_default_model, pet_options

        return load_default_model(**{**pet_options(parsed), **options}, name=parsed.kind)
    if parsed.kind == "qtip4pf":
        from .qtip4pf import QTIP4PF

        return QTIP4PF(**options)
    if parsed.kind == "checkpoint":
        from .pet_checkpoint import load_model, pet_options

        return load_model(parsed.path, **{**pet_options(parsed), **options})
    if parsed.kind == "metatomic":
        from .metatomic_model import MetatomicPotential

        return MetatomicPotential.from_spec(parsed)
    from .ase_calculator import calculator_potential_from_spec

    return calculator_potential_from_spec(parsed)
