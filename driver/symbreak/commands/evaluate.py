"""`symbreak evaluate`: model error and symmetry error of a model under several strategies.

    symbreak evaluate --model model/ --data test.xyz --strategies plain,i,2,2i,3i
    symbreak evaluate --model default --data test.xyz --strategies plain,2i,3i --json > errors.json
    symbreak evaluate --model default --data test.xyz --source ice-200-classical,ice-150-pimd --frames 0:20

The symmetry error of each strategy is measured against the largest rotation
grid among those requested (3i above). ``--json`` prints
{"n_structures", "reference_force_std", "strategies": {spec: {energy_mae_per_atom,
energy_rmse_per_atom, force_mae, force_rmse, symmetry_energy_mae_per_atom,
symmetry_force_mae}}} in eV and eV/A; ``--details`` adds the rest of the report.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..potentials.spec import SPEC_HELP, parse_potential_spec
from ..training.evaluate import evaluate_model, format_table, parse_frame_selection, report_json, select_frames
from ..training.train import read_labelled


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """add_arguments(parser): the options of `symbreak evaluate`."""
    parser.add_argument("--model", required=True, help=f"the potential: {SPEC_HELP}, or a training directory")
    parser.add_argument("--data", required=True, help="labelled structures (extxyz with energy and forces)")
    parser.add_argument("--strategies", default="plain,i,2,2i,3i", help="comma-separated strategy strings (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.add_argument("--details", action="store_true", help="with --json: add per-structure energy errors, timings, rotational spread")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    parser.add_argument("--chunk-size", type=int, default=8, help="structures (rotated copies) per model call (default: %(default)s)")
    parser.add_argument("--max-structures", type=int, default=None, help="evaluate only the first N structures")
    parser.add_argument("--source", default=None, metavar="NAME[,NAME]",
                        help="only frames with this source label (the dataset run they came from)")
    parser.add_argument("--frames", default=None, metavar="SELECTION",
                        help="only these frames of the file: START:STOP[:STEP] or indices 3,7,9 (before --source)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32", help="model arithmetic (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """run(args) -> exit code of `symbreak evaluate`."""
    import torch

    from ..potentials.registry import load_potential

    torch.set_num_threads(max(1, args.threads))
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    data = read_labelled(args.data)
    if args.source or args.frames:
        sources = [s.strip() for s in args.source.split(",") if s.strip()] if args.source else None
        data = select_frames(data, sources, parse_frame_selection(args.frames) if args.frames else None)
    if args.max_structures is not None:
        data = data[: max(1, args.max_structures)]
    spec = parse_potential_spec(args.model)
    # --dtype is for symbreak's own checkpoints; metatomic specs take dtype=... in the spec
    options = {"dtype": args.dtype} if spec.kind in ("default", "checkpoint") else {}
    potential = load_potential(spec, **options)
    if args.chunk_size and potential.chunk_size is None:
        potential.chunk_size = args.chunk_size
    log = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    report = evaluate_model(potential, data, strategies, log=log)
    if args.json:
        doc = report_json(report)
        if args.details:
            doc["details"] = {k: v for k, v in report.items() if k not in doc}
        print(json.dumps(doc, indent=1))
    else:
        print(format_table(report))
    return 0
