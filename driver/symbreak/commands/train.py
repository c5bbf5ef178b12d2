"""`symbreak train`: train the PET-style model on extxyz files with energies and forces.

    symbreak train --train train.xyz --valid valid.xyz --out model/ --epochs 50 --threads 1
    symbreak train --train train.xyz --valid valid.xyz --out model/ --resume      # after an interruption
    symbreak train ... --hypers d_model=32 n_blocks=3                              # or a JSON object
    symbreak train ... --rotated-copies 4          # each structure 4x per step, own rotations (4x cost per step)
    symbreak train ... --consistency-weight 1000   # + 1000 mean(|dE/dtheta|^2 / n_atoms), rigid-rotation gradient

The default is the study's: random O(3) augmentation alone. --rotated-copies
and --consistency-weight are optional training-side symmetry strategies (see
symbreak.training.train); --resume keeps them unless given again. The
consistency term is small (|dE/dtheta|^2 / n_atoms ~ 1e-7..1e-6 eV^2 for
PET-style water), so a useful weight is of order 1e3.

Writes model/best.pt (load it with ``--potential model/``), model/last.pt,
model/log.tsv and model/config.json; progress is printed once per epoch.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.errors import InputError, MissingFileError
from ..training.config import TrainConfig
from ..training.data import read_labelled
from ..training.train import predict_energies, refit_baseline, train

# command-line flag -> TrainConfig field; None defaults mean "not given" so that --resume keeps saved values
_OVERRIDES = {
    "epochs": int,
    "batch_size": int,
    "lr": float,
    "lr_final_fraction": float,
    "energy_weight": float,
    "force_weight": float,
    "seed": int,
    "threads": int,
    "device": str,
    "dtype": str,
    "max_minutes": float,
    "rotated_copies": int,
    "consistency_weight": float,
}

_HELP = {
    "device": "where to train: cpu, cuda or cuda:N (a GPU trains the same model; checkpoints load on CPU)",
    "rotated_copies": "copies of every structure per step, each with its own random rotation; K x the cost per step",
    "consistency_weight": "weight of the rotational consistency loss mean(|dE/dtheta|^2 / n_atoms) in eV^2, "
                          "dE/dtheta the gradient under a rigid rotation of positions and cell; 0 = off",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """add_arguments(parser): the options of `symbreak train`."""
    defaults = TrainConfig()
    parser.add_argument("--train", required=True, help="training structures (extxyz with energy and forces)")
    parser.add_argument("--valid", required=True, help="validation structures (extxyz with energy and forces)")
    parser.add_argument("--out", required=True, help="output directory for best.pt, last.pt, log.tsv")
    for name, kind in _OVERRIDES.items():
        flag = "--" + name.replace("_", "-")
        extra = {"choices": ["float32", "float64"]} if name == "dtype" else {}
        text = f"{_HELP[name]}; " if name in _HELP else ""
        parser.add_argument(flag, type=kind, default=None, help=f"{text}default {getattr(defaults, name)}", **extra)
    parser.add_argument("--no-augment", action="store_true", help="no random O(3) augmentation (for comparison only)")
    parser.add_argument("--no-inversion", action="store_true", help="augment with proper rotations only")
    parser.add_argument("--hypers", nargs="+", default=None, metavar="KEY=VALUE", help="PET hyperparameters (KEY=VALUE ... or one JSON object)")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/last.pt (model, optimizer, epoch)")
    parser.add_argument("--init", default=None, metavar="MODEL",
                        help="start from this checkpoint's weights (file or folder, or 'default' for the shipped model) "
                             "with a fresh optimizer and learning-rate schedule")
    parser.add_argument("--refit-baseline", action="store_true",
                        help="after training, refit best.pt's per-species energy baseline on the training residuals")


def parse_hypers(items: list[str] | None) -> dict:
    """parse_hypers(["d_model=32", "n_blocks=3"]) or parse_hypers(['{"d_model": 32}']) -> dict."""
    if not items:
        return {}
    if len(items) == 1 and items[0].lstrip().startswith("{"):
        try:
            data = json.loads(items[0])
        except json.JSONDecodeError as err:
            raise InputError(f"--hypers is not a valid JSON object: {err}") from None
        return dict(data)
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--hypers expects KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def build_config(args: argparse.Namespace) -> TrainConfig:
    """config = build_config(args): defaults, then the saved config when resuming, then the flags given."""
    config = TrainConfig()
    if args.resume:
        import torch

        last = Path(args.out) / "last.pt"
        if not last.is_file():
            raise MissingFileError(f"cannot resume: {last} does not exist (train without --resume first)")
        try:
            saved = torch.load(last, map_location="cpu", weights_only=True)["config"]
        except Exception as err:
            raise InputError(f"cannot resume from {last} (corrupted?): {type(err).__name__}") from None
        config = TrainConfig.from_dict(saved)
    for name in _OVERRIDES:
        value = getattr(args, name)
        if value is not None:
            setattr(config, name, value)
    if args.no_augment:
        config.augment = False
    if args.no_inversion:
        config.inversion = False
    if args.init and args.resume:
        raise InputError("--init and --resume exclude each other: --resume continues OUT/last.pt, --init starts a new run")
    if args.hypers:
        if args.init:
            raise InputError("--hypers cannot change a model given by --init; drop --hypers")
        if args.resume:
            raise InputError("--hypers cannot change a model being resumed; drop --hypers or train into a new --out")
        config.hypers = parse_hypers(args.hypers)
    if config.epochs < 1 or config.batch_size < 1:
        raise InputError("--epochs and --batch-size must be >= 1")
    config.validate()
    return config


def refit_best(path: Path, train_data, valid_data) -> None:
    """Refit the per-species baseline of the checkpoint at ``path`` on the training residuals, in place."""
    from ..potentials.pet_checkpoint import load_checkpoint, save_model

    model, metadata = load_checkpoint(path)
    shift = refit_baseline(model, train_data)
    metadata["baseline_refit_eV"] = [float(x) for x in shift]
    save_model(path, model, metadata)
    errors = [abs(e - d.energy) / d.structure.n_atoms
              for d, e in zip(valid_data, predict_energies(model, [d.structure for d in valid_data]))]
    print(f"refitted the baseline (shift {', '.join(f'{x * 1000:.2f}' for x in shift)} meV per species): "
          f"valid E MAE {1000 * sum(errors) / len(errors):.3f} meV/atom -> {path}", flush=True)


def run(args: argparse.Namespace) -> int:
    """run(args) -> exit code of `symbreak train`."""
    config = build_config(args)
    train_data = read_labelled(args.train)
    valid_data = read_labelled(args.valid)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config.to_dict(), indent=1) + "\n")
    init = None
    if args.init:
        from ..potentials.pet_checkpoint import DEFAULT_MODEL

        init = DEFAULT_MODEL if args.init == "default" else args.init
    summary = train(config, train_data, valid_data, out, resume=args.resume,
                    log=lambda line: print(line, flush=True), init_from=init)
    if args.refit_baseline:
        refit_best(out / "best.pt", train_data, valid_data)
    best = summary["best"]
    if best is not None:
        print(
            f"best epoch {best['epoch']}: valid E MAE {1000 * best['valid_energy_mae_per_atom']:.3f} meV/atom, "
            f"F MAE {1000 * best['valid_force_mae']:.2f} meV/A -> {summary['best_path']}"
        )
    return 0
