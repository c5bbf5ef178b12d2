"""Compare training-side symmetry strategies at an equal wall-clock budget: model error and symmetry error.

    python scripts/compare_training_symmetry.py --train train.xyz --valid valid.xyz --test test.xyz --minutes 10 --out cmp/
    python scripts/compare_training_symmetry.py ... --copies 4 --weight 1.0 --hypers d_model=32 --variants augment,copies

Trains one model per variant on the same data, seed and hyperparameters:

- ``augment``      random O(3) augmentation alone (``symbreak train``'s default, the study's subject);
- ``copies``       ``--rotated-copies K`` (each structure K times per step, own rotations);
- ``consistency``  ``--consistency-weight W`` (rotational consistency term in the loss).

Budget: the same WALL-CLOCK time per model (``--minutes``), not the same
number of model evaluations. Each variant first times one epoch (a
calibration run, not counted in the budget), then trains for
``floor(budget / seconds_per_epoch)`` epochs, so that its cosine learning-rate
schedule completes within the budget (``max_minutes`` is set to the budget as
a hard stop). K copies therefore get about K times fewer epochs; the table
reports epochs and structure evaluations (epochs x training structures x K)
so that the equal-evaluation view can be read off too. The calibration is
only as good as the machine is quiet: on a loaded machine prefer
``--epochs N``, the SAME NUMBER OF STRUCTURE EVALUATIONS instead (N epochs
for ``augment`` and ``consistency``, ceil(N / K) for ``copies``; no
calibration, no time limit; ``--minutes`` is then ignored).

Each best.pt is then evaluated on ``--test``: model error (energy MAE per
atom and force MAE of the plain model against the labels), symmetry error
(plain against the ``--grid`` average, default 3i: energy per atom and force
component MAE) and the RMS rotational gradient sqrt(mean |dE/dtheta|^2 /
n_atoms) of the plain model. Everything goes under ``--out`` (one training
folder per variant, ``compare.json``); the table is printed at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

VARIANTS = ("augment", "copies", "consistency")


def variant_config(name: str, base: dict, copies: int, weight: float):
    """config = variant_config(name, base, copies, weight): the TrainConfig of one variant (base: shared fields)."""
    from symbreak.training.config import TrainConfig

    config = TrainConfig.from_dict(base)
    if name == "copies":
        config.rotated_copies = copies
    elif name == "consistency":
        config.consistency_weight = weight
    elif name != "augment":
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
    return config


def epochs_for_budget(seconds_per_epoch: float, budget_seconds: float) -> int:
    """epochs_for_budget(12.0, 600) -> 50: whole epochs that fit the budget, at least 1."""
    return max(1, int(budget_seconds // max(seconds_per_epoch, 1e-9)))


def epochs_for_evaluations(epochs: int, copies: int) -> int:
    """epochs_for_evaluations(20, 4) -> 5: epochs of a K-copies run with the structure evaluations of ``epochs`` plain ones."""
    return max(1, math.ceil(epochs / max(1, copies)))


def train_variant(name: str, config, train_data, valid_data, out: Path, minutes: float, log, epochs: int | None = None) -> dict:
    """summary = train_variant(name, config, train, valid, out, minutes, log, epochs=None): train one variant in its budget.

    Without ``epochs``: time one epoch, then as many epochs as fit ``minutes``.
    With ``epochs``: that many structure evaluations per training structure.
    """
    from dataclasses import replace

    from symbreak.training.train import train

    seconds_per_epoch = None
    if epochs is None:
        quiet = lambda line: None  # noqa: E731
        calibration = train(replace(config, epochs=1, max_minutes=None), train_data, valid_data, out / f"{name}-calibration", log=quiet)
        seconds_per_epoch = calibration["best"]["seconds"]
        epochs = epochs_for_budget(seconds_per_epoch, 60.0 * minutes)
        log(f"{name}: {seconds_per_epoch:.2f} s per epoch -> {epochs} epochs in {minutes:g} min")
        config = replace(config, epochs=epochs, max_minutes=minutes)
    else:
        epochs = epochs_for_evaluations(epochs, config.rotated_copies)
        log(f"{name}: {epochs} epochs ({epochs * config.rotated_copies} structure evaluations per training structure)")
        config = replace(config, epochs=epochs, max_minutes=None)
    started = time.perf_counter()
    summary = train(config, train_data, valid_data, out / name, log=lambda line: log(f"  {name}: {line}"))
    summary.update(seconds=time.perf_counter() - started, seconds_per_epoch=seconds_per_epoch,
                   epochs_planned=epochs, config=config.to_dict())
    summary["structure_evaluations"] = summary["epochs_done"] * len(train_data) * config.rotated_copies
    return summary


def evaluate_variant(folder: Path, test_data, config, grid: str = "3i") -> dict:
    """errors = evaluate_variant(folder, test_data, config, grid="3i"): model, symmetry (plain vs grid), rotational-gradient errors, eV."""
    from symbreak.potentials.pet.batch import topology
    from symbreak.potentials.pet_checkpoint import load_checkpoint
    from symbreak.potentials.registry import load_potential
    from symbreak.training.evaluate import evaluate_model
    from symbreak.training.train import evaluate_set

    report = evaluate_model(load_potential(str(folder)), test_data, ["plain", grid])
    plain = report["strategies"]["plain"]
    model = load_checkpoint(folder / "best.pt")[0].to(torch_dtype(config.dtype))
    topologies = [topology(d.structure, model.hypers.cutoff) for d in test_data]
    consistency = evaluate_set(model, test_data, topologies, config)["consistency"]
    return {
        "energy_mae_per_atom": plain["energy_mae_per_atom"],
        "force_mae": plain["force_mae"],
        "symmetry_energy_mae_per_atom": plain["symmetry_energy_mae_per_atom"],
        "symmetry_force_mae": plain["symmetry_force_mae"],
        "rotation_gradient_rms": math.sqrt(consistency),
    }


def torch_dtype(name: str):
    """torch_dtype("float32") -> torch.float32."""
    from symbreak.potentials.pet.potential import as_dtype

    return as_dtype(name)


def format_table(rows: dict, minutes: float | None, grid: str = "3i", epochs: int | None = None) -> str:
    """format_table({variant: {...}}, minutes, grid="3i", epochs=None) -> side-by-side table in meV, meV/A."""
    head = (f"{'variant':<24}{'epochs':>7}{'struct.evals':>13}{'train s':>9}{'E MAE':>10}{'F MAE':>10}"
            f"{'sym E':>10}{'sym F':>10}{'dE/dth':>10}")
    unit = f"{'':<24}{'':>7}{'':>13}{'':>9}{'meV/atom':>10}{'meV/A':>10}{'meV/atom':>10}{'meV/A':>10}{'meV/√at':>10}"
    budget = (f"equal wall-clock budget: {minutes:g} min per model (+ one calibration epoch)" if epochs is None
              else f"equal structure evaluations: {epochs} per training structure")
    lines = [f"{budget}; "
             f"sym = plain vs {grid} grid average on the test set", "", head, unit]
    for name, r in rows.items():
        lines.append(
            f"{r['label']:<24}{r['epochs_done']:>7d}{r['structure_evaluations']:>13d}{r['seconds']:>9.0f}"
            f"{1000 * r['energy_mae_per_atom']:>10.3f}{1000 * r['force_mae']:>10.2f}"
            f"{1000 * r['symmetry_energy_mae_per_atom']:>10.3f}{1000 * r['symmetry_force_mae']:>10.2f}"
            f"{1000 * r['rotation_gradient_rms']:>10.3f}"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="training structures (extxyz with energy and forces)")
    parser.add_argument("--valid", required=True, help="validation structures (picks each variant's best.pt)")
    parser.add_argument("--test", required=True, help="test structures for the model and symmetry errors")
    parser.add_argument("--minutes", type=float, default=5.0, help="wall-clock training budget per model (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="equal structure evaluations instead of equal wall-clock: N epochs (ceil(N/K) with K copies)")
    parser.add_argument("--out", default="compare-training-symmetry", help="output folder (default: %(default)s)")
    parser.add_argument("--copies", type=int, default=4, help="K of the 'copies' variant (default: %(default)s)")
    parser.add_argument("--weight", type=float, default=1000.0,
                        help="W of the 'consistency' variant (default: %(default)s; |dE/dtheta|^2 / n_atoms is ~1e-7-1e-6 eV^2, "
                             "so W ~ 1e3 makes it comparable to a trained force loss; not tuned)")
    parser.add_argument("--grid", default="3i", help="rotation grid of the symmetry error (default: %(default)s, 150 rotations)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of %(default)s")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--hypers", nargs="+", default=None, metavar="KEY=VALUE", help="PET hyperparameters, as for symbreak train")
    args = parser.parse_args(argv)

    import torch
    from symbreak.commands.train import parse_hypers
    from symbreak.core.errors import SymbreakError
    from symbreak.training.data import read_labelled

    try:
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = sorted(set(variants) - set(VARIANTS))
        if unknown or not variants:
            raise SystemExit(f"compare_training_symmetry: unknown variants {unknown}; known: {', '.join(VARIANTS)}")
        if args.minutes <= 0 or (args.epochs is not None and args.epochs < 1):
            raise SystemExit("compare_training_symmetry: --minutes must be > 0 and --epochs >= 1")
        torch.set_num_threads(max(1, args.threads))
        train_data, valid_data, test_data = (read_labelled(p) for p in (args.train, args.valid, args.test))
        base = {"batch_size": args.batch_size, "lr": args.lr, "seed": args.seed, "threads": args.threads,
                "dtype": args.dtype, "hypers": parse_hypers(args.hypers)}
        configs = {name: variant_config(name, base, args.copies, args.weight) for name in variants}
        for config in configs.values():
            config.validate()
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
        labels = {"augment": "augmentation only", "copies": f"rotated copies K={args.copies}",
                  "consistency": f"consistency W={args.weight:g}"}
        rows = {}
        for name, config in configs.items():
            summary = train_variant(name, config, train_data, valid_data, out, args.minutes, log, args.epochs)
            errors = evaluate_variant(out / name, test_data, config, args.grid)
            rows[name] = {"label": labels[name], **{k: summary[k] for k in (
                "epochs_done", "epochs_planned", "structure_evaluations", "seconds", "seconds_per_epoch", "config")}, **errors}
            budget = "wall-clock" if args.epochs is None else "structure evaluations"
            (out / "compare.json").write_text(json.dumps({"minutes": args.minutes, "epochs": args.epochs, "budget": budget,
                                                          "variants": rows}, indent=1) + "\n")
    except SymbreakError as err:
        print(f"compare_training_symmetry: error: {err}", file=sys.stderr)
        return 2
    print(format_table(rows, args.minutes if args.epochs is None else None, args.grid, args.epochs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
