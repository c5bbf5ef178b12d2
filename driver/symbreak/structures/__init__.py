"""Water structures for i-PI and the reference: molecule, liquid box, proton-disordered ice Ih.

    symbreak build liquid --molecules 64 --density 0.997 -o liquid.xyz
    from symbreak.structures import molecule, liquid_box, ice_ih, write_ipi_xyz
"""

from .builders import box_length, ice_ih, ice_rule_violations, liquid_box, molecule, molecule_geometry
from .io import check_water_units, read_structures, standard_frame, whole_molecules, write_ipi_xyz

__all__ = [
    "box_length",
    "check_water_units",
    "ice_ih",
    "ice_rule_violations",
    "liquid_box",
    "molecule",
    "molecule_geometry",
    "read_structures",
    "standard_frame",
    "whole_molecules",
    "write_ipi_xyz",
]
