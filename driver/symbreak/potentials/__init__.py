"""Anything that maps structures to energies, forces and virials (eV, Angstrom)."""

from .base import Evaluation, Potential, Structure
from .registry import POTENTIAL_NAMES, PotentialError, load_potential

__all__ = ["Evaluation", "Potential", "Structure", "POTENTIAL_NAMES", "PotentialError", "load_potential"]
