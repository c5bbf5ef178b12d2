"""`symbreak label`: q-TIP4P/F (or any potential's) energies, forces and stress for every frame of a file.

    symbreak label frames.xyz labelled.xyz                 # periodic frames (cell from the file)
    symbreak label gas_traj.xyz gas_labelled.xyz --vacuum  # isolated molecules, cell ignored
    symbreak label frames.xyz mine.xyz --potential metatomic:model.pt   # a user's model instead of the reference

Reads i-PI xyz (``# CELL(abcABC)`` comments, units from ``positions{...}``) or
anything ASE reads; writes extended xyz with energy (eV), forces (eV/A),
stress (eV/A^3, ASE sign: -virial/volume; periodic frames only) and the
virial (eV) in ``info``. Frames are appended one by one, so an interrupted
run leaves a valid file with the frames done so far.
"""

from __future__ import annotations

import argparse
import sys

from ..core.errors import InputError
from ..potentials.labelling import label_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="structures to label (i-PI xyz or any ASE-readable file)")
    parser.add_argument("output", help="extended xyz to write (overwritten)")
    parser.add_argument("--vacuum", action="store_true", help="treat every frame as isolated (drop the cell)")
    parser.add_argument("--kspace-accuracy", type=float, default=1e-6, help="pppm/tip4p relative accuracy (default 1e-6)")
    parser.add_argument("--cutoff", type=float, default=9.0, help="LJ + real-space Coulomb cutoff in A (default 9)")
    parser.add_argument("--every", type=int, default=1, help="label every N-th frame (default 1)")
    parser.add_argument("--potential", default="qtip4pf",
                        help="the labeller (default: qtip4pf; --kspace-accuracy and --cutoff apply to it only); any spec: "
                             "toy, default, a checkpoint, metatomic:MODEL.pt, ase:MODULE:FACTORY[:JSON]")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args) -> int:
    from ..potentials.registry import load_potential

    if args.every < 1:
        raise InputError(f"--every must be >= 1, got {args.every}")
    if args.potential == "qtip4pf":
        pot = load_potential("qtip4pf", kspace_accuracy=args.kspace_accuracy, cutoff=args.cutoff)
    else:
        pot = load_potential(args.potential)
    progress = None if args.quiet else (lambda msg: print(f"symbreak label: {msg}", file=sys.stderr, flush=True))
    n = label_file(args.input, args.output, pot, vacuum=args.vacuum, every=args.every, progress=progress)
    if n == 0:
        raise InputError(f"no frames in {args.input}")
    return 0
