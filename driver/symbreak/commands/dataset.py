"""`symbreak dataset`: labelled q-TIP4P/F reference data from i-PI + LAMMPS runs.

    symbreak dataset -o data/                          # small default: ~120 bulk frames, 100 gas
    symbreak dataset -o data/ --frames-per-run 200 --stride 40 --runs liquid-300-classical ice-150-pimd
    symbreak dataset --list                            # the runs available
    symbreak dataset -o data2/ --set extended --frames-per-run 100   # the second default model's data
    symbreak dataset -o heldout/ --set heldout --split 0 0 1          # unseen box sizes and proton patterns
    symbreak dataset -o data4/ --set polymorphs --frames-per-run 100  # extended + the eight ice polymorphs
    symbreak dataset -o data4/ --minima                # only data4/minima.xyz: the polymorphs' 0 K structures
    symbreak dataset -o data7/ --minima --minima-seeds 400 401 402 403 404 405   # six proton patterns of them
    symbreak dataset -o data8/ --minima --minima-model run7/best.pt   # data8/model-minima.xyz: the same cells'
                                                       # minima on the model's surface, labelled by q-TIP4P/F

Writes data/train.xyz, valid.xyz, test.xyz (bulk liquid and ice) and
gas_test.xyz (isolated molecules, never in training), extxyz with energy,
forces and stress. Runs are kept under data/runs/ and reused when present.
"""

from __future__ import annotations

import argparse
import os

from ..core.errors import InputError
from ..training.dataset import MINIMA_SEEDS, RUN_SETS, DatasetConfig, generate_dataset, polymorph_minima


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default=None, help="output directory (required unless --list)")
    parser.add_argument("--list", action="store_true", help="list the available runs and exit")
    parser.add_argument("--set", choices=sorted(RUN_SETS), default="standard",
                        help="which runs: standard (default), extended (more ice patterns and sizes), heldout (test only), "
                             "polymorphs (extended plus the eight ice polymorphs), polymorphs-heldout (test only)")
    parser.add_argument("--runs", nargs="+", default=None, metavar="NAME", help="only these runs (default: all)")
    parser.add_argument("--frames-per-run", type=int, default=20, help="bulk frames kept per run (default 20)")
    parser.add_argument("--gas-frames", type=int, default=50, help="gas-phase frames per gas run (default 50)")
    parser.add_argument("--stride", type=int, default=20, help="MD steps (0.5 fs) between kept frames (default 20)")
    parser.add_argument("--equilibration", type=int, default=1000, help="MD steps discarded per run (default 1000 = 0.5 ps)")
    parser.add_argument("--split", type=float, nargs=3, default=[0.8, 0.1, 0.1], metavar=("TRAIN", "VALID", "TEST"))
    parser.add_argument("--seed", type=int, default=0, help="sampling and split seed (default 0)")
    parser.add_argument("--minima", action="store_true",
                        help="instead of MD runs, write OUTPUT/minima.xyz: the eight polymorphs' training cells as "
                             "built and at their q-TIP4P/F minimum (fixed cell), two proton patterns, three "
                             "densities (~1 minute)")
    parser.add_argument("--minima-seeds", type=int, nargs="+", default=None, metavar="SEED",
                        help="with --minima: the proton patterns (GenIce seeds; default "
                             f"{' '.join(map(str, MINIMA_SEEDS))}; the ordered phases use the first)")
    parser.add_argument("--minima-model", default=None, metavar="SPEC",
                        help="with --minima: write OUTPUT/model-minima.xyz instead, the same cells relaxed on this "
                             "model's surface (100 L-BFGS steps, as scripts/ice_polymorphs.py) and labelled by "
                             "q-TIP4P/F: training data where the model's minima are not the reference's (six seeds: "
                             "114 cells, ~25 minutes of a shared core)")
    parser.add_argument("--kspace-accuracy", type=float, default=1e-6, help="PPPM accuracy of the labels (default 1e-6)")


def run(args) -> int:
    runs = RUN_SETS[args.set]()
    if args.list:
        for r in runs:
            print(f"{r.name:24s} {r.kind:7s} T={r.temperature:5.0f} K  beads={r.nbeads}  molecules={r.molecules}"
                  + ("" if r.zero_dipole or r.kind != "ice" else "  (polar)")
                  + ("" if r.polymorph is None else f"  ice {r.polymorph} x{r.density_scale:g} density"))
        return 0
    if args.output is None:
        raise InputError("give an output directory with -o/--output")
    seeds = args.minima_seeds
    for given, name in ((seeds is not None, "--minima-seeds"), (args.minima_model is not None, "--minima-model")):
        if given and not args.minima:
            raise InputError(f"{name} goes with --minima; add --minima")
    if seeds is not None and (min(seeds) < 0 or len(set(seeds)) != len(seeds)):
        raise InputError(f"--minima-seeds must be distinct non-negative integers, got {' '.join(map(str, seeds))}")
    if args.minima:
        from ..potentials.registry import load_potential

        model = None if args.minima_model is None else load_potential(args.minima_model)
        os.makedirs(args.output, exist_ok=True)
        path = os.path.join(args.output, "minima.xyz" if model is None else "model-minima.xyz")
        count = polymorph_minima(path, seeds=tuple(seeds or MINIMA_SEEDS), kspace_accuracy=args.kspace_accuracy,
                                 model=model)
        print(f"symbreak dataset: {count} frames in {path}")
        return 0
    if args.runs:
        known = {r.name: r for r in runs}
        unknown = [n for n in args.runs if n not in known]
        if unknown:
            raise InputError(f"unknown run(s) {', '.join(unknown)}; see `symbreak dataset --list`")
        runs = [known[n] for n in args.runs]
    for name in ("frames_per_run", "gas_frames", "stride"):
        if getattr(args, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} must be >= 1")
    config = DatasetConfig(
        frames_per_run=args.frames_per_run,
        gas_frames=args.gas_frames,
        stride=args.stride,
        gas_stride=args.stride,
        equilibration_steps=args.equilibration,
        split=tuple(args.split),
        seed=args.seed,
        kspace_accuracy=args.kspace_accuracy,
        runs=runs,
    )
    summary = generate_dataset(args.output, config)
    print("symbreak dataset: " + ", ".join(f"{k} {v}" for k, v in summary.items()) + f" frames in {args.output}")
    return 0
