"""`symbreak train`: train the PET-style model on extxyz files with energies and forces.

    symbreak train --train train.xyz --valid valid.xyz --out model/ --epochs 50 --threads 1
    symbreak train --train train.xyz --valid valid.xyz --out model/ --resume      # after an interruption
    symbreak train ... --hypers d_model=32 n_blocks=3                              # or a JSON object
    symbreak train ... --rotated-copies 4          # each structure 4x per step, own rotations (4x cost per step)
    symbreak train ... --consistency-weight 1000   # + 1000 mean(|dE/dtheta|^2 / n_atoms), rigid-rotation gradient
    symbreak train ... --resume --refit-readout 100   # a finished run: its readout solved on energies and 100 forces

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
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..core.errors import InputError, MissingFileError
from ..training.config import TrainConfig
from ..training.data import read_labelled
from ..training.readout import RIDGE, refit_readout
from ..training.train import refit_baseline, train

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
                        help="start from this checkpoint's weights (file or folder, or 'default' / 'default-ice' for a "
                             "shipped model) with a fresh optimizer and learning-rate schedule")
    parser.add_argument("--refit-baseline", action="store_true",
                        help="after training, refit best.pt's per-species energy baseline on the training residuals")
    parser.add_argument("--refit-readout", type=int, default=0, metavar="FRAMES",
                        help="after training (and --refit-baseline), solve the last layers of best.pt's energy heads "
                             "by least squares: the training loss on every training energy and the forces of FRAMES "
                             "training structures (one backward pass per readout parameter each: ~10 s of one core "
                             "for 192 atoms); 0 = off (default)")
    parser.add_argument("--readout-rotations", type=int, default=8, metavar="K",
                        help="with --readout-rotation-weight: random O(3) images of each of the FRAMES structures "
                             "(default 8)")
    parser.add_argument("--readout-rotation-weight", type=float, default=0.0, metavar="W",
                        help="with --refit-readout: add W x the variance of the energy per atom (eV^2) over the "
                             "K images, so that the refit also makes the energy less orientation dependent; "
                             "0 = off (default)")
    parser.add_argument("--readout-ridge", type=float, default=RIDGE, metavar="R",
                        help="with --refit-readout: R x the mean diagonal of the normal equations x |w - w_old|^2 "
                             f"keeps the readout near the trained one where the data hardly decide it (default {RIDGE:g})")


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


def valid_errors(model, valid_data) -> str:
    """'valid E MAE x meV/atom, F MAE y meV/A' of ``model`` on ``valid_data``."""
    from ..potentials.pet.potential import PETPotential

    result = PETPotential(model, chunk_size=8).compute([d.structure for d in valid_data])
    e_mae = np.mean([abs(e - d.energy) / d.structure.n_atoms for d, e in zip(valid_data, result.energies)])
    f_mae = np.mean(np.abs(np.concatenate(result.forces) - np.concatenate([d.forces for d in valid_data])))
    return f"valid E MAE {1000 * e_mae:.3f} meV/atom, F MAE {1000 * f_mae:.2f} meV/A"


def refit_best(path: Path, train_data, valid_data) -> None:
    """Refit the per-species baseline of the checkpoint at ``path`` on the training residuals, in place."""
    from ..potentials.pet_checkpoint import load_checkpoint, save_model

    model, metadata = load_checkpoint(path)
    shift = refit_baseline(model, train_data)
    metadata["baseline_refit_eV"] = [float(x) for x in shift]
    save_model(path, model, metadata)
    print(f"refitted the baseline (shift {', '.join(f'{x * 1000:.2f}' for x in shift)} meV per species): "
          f"{valid_errors(model, valid_data)} -> {path}", flush=True)


def refit_readout_best(path: Path, train_data, valid_data, config: TrainConfig, args: argparse.Namespace) -> None:
    """Solve the readout of the checkpoint at ``path`` on the training data with the run's loss weights, in place."""
    from ..potentials.pet_checkpoint import load_checkpoint, save_model

    model, metadata = load_checkpoint(path)
    print(f"readout refit of {path}: {valid_errors(model, valid_data)} before", flush=True)
    fit = refit_readout(model, train_data, config.energy_weight, config.force_weight, args.refit_readout,
                        rotation_copies=args.readout_rotations, rotation_weight=args.readout_rotation_weight,
                        ridge=args.readout_ridge,
                        seed=config.seed, log=lambda line: print(line, flush=True))
    metadata["readout_refit"] = asdict(fit)
    save_model(path, model, metadata)
    print(f"{fit.summary()}: {valid_errors(model, valid_data)} -> {path}", flush=True)


def run(args: argparse.Namespace) -> int:
    """run(args) -> exit code of `symbreak train`."""
    config = build_config(args)
    if args.refit_readout < 0:
        raise InputError(f"--refit-readout must be >= 0 (structures whose forces enter the refit), got {args.refit_readout}")
    if args.readout_ridge < 0:
        raise InputError(f"--readout-ridge must be >= 0, got {args.readout_ridge}")
    if args.readout_rotation_weight < 0 or (args.readout_rotation_weight > 0 and args.readout_rotations < 2):
        raise InputError("--readout-rotation-weight must be >= 0, and > 0 only with --readout-rotations >= 2")
    train_data = read_labelled(args.train)
    valid_data = read_labelled(args.valid)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(config.to_dict(), indent=1) + "\n")
    init = None
    if args.init:
        from ..potentials.pet_checkpoint import shipped_model_path
        from ..potentials.spec import SHIPPED_MODELS

        init = shipped_model_path(args.init) if args.init in SHIPPED_MODELS else args.init
    summary = train(config, train_data, valid_data, out, resume=args.resume,
                    log=lambda line: print(line, flush=True), init_from=init)
    if args.refit_baseline:
        refit_best(out / "best.pt", train_data, valid_data)
    if args.refit_readout:
        refit_readout_best(out / "best.pt", train_data, valid_data, config, args)
    best = summary["best"]
    if best is not None:
        print(
            f"best epoch {best['epoch']}: valid E MAE {1000 * best['valid_energy_mae_per_atom']:.3f} meV/atom, "
            f"F MAE {1000 * best['valid_force_mae']:.2f} meV/A -> {summary['best_path']}"
        )
    return 0
