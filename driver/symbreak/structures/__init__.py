"""Water structures for i-PI and the reference: molecule, liquid box, ice Ih, the ice polymorphs (GenIce).

    symbreak build liquid --molecules 64 --density 0.997 -o liquid.xyz
    from symbreak.structures import molecule, liquid_box, ice_ih, ice_polymorph, write_ipi_xyz
"""

from .builders import box_length, ice_ih, ice_rule_violations, liquid_box, molecule, molecule_geometry
from .io import check_water_units, read_structures, standard_frame, whole_molecules, write_ipi_xyz
from .polymorphs import POLYMORPHS, ice_polymorph

__all__ = [
    "POLYMORPHS",
    "ice_polymorph",
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
