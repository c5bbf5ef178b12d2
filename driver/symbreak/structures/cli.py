"""`symbreak build`: i-PI-ready water structures (xyz with the cell, O,H,H order, Angstrom).

    symbreak build molecule -o h2o.xyz                    # q-TIP4P/F minimum in a 100 A box
    symbreak build liquid --molecules 64 --density 0.997 --relax 200 -o liquid.xyz
    symbreak build ice --repeats 3 2 2 --seed 1 -o ice.xyz  # 96 molecules, ice rules
"""

from __future__ import annotations

import argparse

from .builders import ice_ih, ice_rule_violations, liquid_box, molecule, relax
from .io import VACUUM_BOX, write_ipi_xyz


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=["molecule", "liquid", "ice"], help="what to build")
    parser.add_argument("-o", "--output", required=True, help="output xyz file (i-PI format, Angstrom)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (placement, orientations, protons)")
    parser.add_argument("--molecules", type=int, default=64, help="liquid: number of molecules (default 64)")
    parser.add_argument("--density", type=float, default=0.997, help="liquid: density in g/cm^3 (default 0.997)")
    parser.add_argument("--min-oo", type=float, default=2.5, help="liquid: smallest O-O distance in A (default 2.5)")
    parser.add_argument("--repeats", type=int, nargs=3, default=[3, 2, 2], metavar=("NX", "NY", "NZ"),
                        help="ice: orthorhombic 8-molecule cells per axis (default 3 2 2 = 96 molecules)")
    parser.add_argument("--relax", type=int, default=0, metavar="STEPS",
                        help="minimise with the q-TIP4P/F reference for up to STEPS L-BFGS steps (default 0)")
    parser.add_argument("--box", type=float, default=VACUUM_BOX, help="molecule: cubic box for i-PI in A (default 100)")


def run(args) -> int:
    if args.kind == "molecule":
        structure = molecule()
    elif args.kind == "liquid":
        structure = liquid_box(args.molecules, density=args.density, seed=args.seed, min_oo=args.min_oo)
    else:
        structure = ice_ih(tuple(args.repeats), seed=args.seed)
        assert ice_rule_violations(structure) == 0
    if args.relax > 0:
        structure = relax(structure, steps=args.relax)
    write_ipi_xyz(args.output, structure, vacuum_box=args.box)
    n = len(structure.numbers) // 3
    cell = "vacuum" if structure.cell is None else "cell " + " x ".join(f"{x:.3f}" for x in structure.cell.diagonal())
    print(f"symbreak build: wrote {n} molecules ({cell}) to {args.output}")
    return 0
