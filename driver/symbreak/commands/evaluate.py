"""`symbreak evaluate`: model error and symmetry error of a model under several strategies.

    symbreak evaluate --model model/ --data test.xyz --strategies plain,i,2,2i,3i
    symbreak evaluate --model default --data test.xyz --strategies plain,2i,3i --json > errors.json
    symbreak evaluate --model default --data test.xyz --source ice-200-classical,ice-150-pimd --frames 0:20

The symmetry error of each strategy is measured against the largest rotation
grid among those requested (3i above). ``--json`` prints
{"n_structures", "reference_force_std", "strategies": {spec: {energy_mae_per_atom,
energy_rmse_per_atom, force_mae, force_rmse, symmetry_energy_mae_per_atom,
symmetry_force_mae}}} in eV and eV/A; ``--details`` adds the rest of the report.
``--orders 2`` also splits the plain model's symmetry error by angular order
(l = 0 parity-odd, 1, 2 and above; "angular_orders" in the JSON), as
``symbreak audit`` does for one structure: here summed over the data set.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..core.errors import InputError
from ..potentials.spec import SHIPPED_MODELS, SPEC_HELP, parse_potential_spec
from ..training.evaluate import (
    angular_orders,
    evaluate_model,
    format_orders,
    format_table,
    parse_frame_selection,
    report_json,
    select_frames,
)
from ..training.data import read_labelled


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
    parser.add_argument("--orders", type=int, default=None, metavar="L",
                        help="also split the plain model's symmetry error by angular order l <= L "
                             "(on the (L+1)i grid: 3i, 150 rotations per structure, for L = 2)")


def run(args: argparse.Namespace) -> int:
    """run(args) -> exit code of `symbreak evaluate`."""
    import torch

    from ..potentials.registry import load_potential

    if args.orders is not None and args.orders < 1:
        raise InputError(f"--orders must be >= 1 (the largest angular order to resolve), got {args.orders}")
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
    options = {"dtype": args.dtype} if spec.kind in ("checkpoint", *SHIPPED_MODELS) else {}
    potential = load_potential(spec, **options)
    if args.chunk_size and potential.chunk_size is None:
        potential.chunk_size = args.chunk_size
    log = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    report = evaluate_model(potential, data, strategies, log=log)
    orders = None if args.orders is None else angular_orders(potential, data, args.orders)
    if args.json:
        doc = report_json(report)
        if orders is not None:
            doc["angular_orders"] = orders
        if args.details:
            doc["details"] = {k: v for k, v in report.items() if k not in doc}
        print(json.dumps(doc, indent=1))
    else:
        print(format_table(report))
        if orders is not None:
            print("\n" + format_orders(orders))
    return 0
