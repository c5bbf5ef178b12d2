"""Anything that maps structures to energies, forces and virials (eV, Angstrom)."""

from ..core.structure import Evaluation, Structure
from .base import Potential
from .registry import load_potential
from .spec import POTENTIAL_NAMES, SPEC_HELP, PotentialError, PotentialSpec, parse_potential_spec

__all__ = [
    "Evaluation", "Potential", "Structure", "POTENTIAL_NAMES", "SPEC_HELP", "PotentialError", "PotentialSpec",
    "load_potential", "parse_potential_spec",
]
