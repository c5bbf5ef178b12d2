"""symbreak: serve approximately rotation-invariant ML potentials to i-PI and
measure what their broken rotational symmetry does to molecular dynamics.

Units inside the package are eV and Angstrom; atomic units appear only at the
i-PI boundary (:mod:`symbreak.server`).
"""

__version__ = "0.1.0"
