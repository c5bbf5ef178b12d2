"""Names of potentials shared by the CLI, the inputs and the tests.

    load_potential("toy")            # analytic water with known symmetry breaking
    load_potential("default")        # the shipped PET-style model
    load_potential("qtip4pf")        # the exactly invariant LAMMPS reference
    load_potential("path/to/model")  # a checkpoint written by `symbreak train`

Heavy dependencies (torch, LAMMPS) are imported only when their potential is asked for.
"""

from __future__ import annotations

import os

from .base import Potential

POTENTIAL_NAMES = ("toy", "default", "qtip4pf")


class PotentialError(ValueError):
    """A potential name, file or option that cannot be used."""


def load_potential(spec: str, **options) -> Potential:
    """Build the potential called ``spec`` (a name above or a checkpoint path)."""
    if spec == "toy":
        from .toy import ToyWater

        return ToyWater(**options)
    if spec == "default":
        from .pet_checkpoint import load_default_model

        return load_default_model(**options)
    if spec == "qtip4pf":
        from .qtip4pf import QTIP4PF

        return QTIP4PF(**options)
    if os.path.exists(spec):
        from .pet_checkpoint import load_model

        return load_model(spec, **options)
    raise PotentialError(
        f"unknown potential '{spec}': use one of {', '.join(POTENTIAL_NAMES)} "
        "or the path of a checkpoint written by `symbreak train`"
    )
