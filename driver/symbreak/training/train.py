"""The training loop of the PET-style model: energies and forces with random O(3) augmentation.

    config = TrainConfig(epochs=20, batch_size=4)            # symbreak.training.config
    summary = train(config, read_labelled("train.xyz"), read_labelled("valid.xyz"), "model/")
    summary = train(config, train_set, valid_set, "model/", resume=True)   # after an interruption

Every step rotates each structure by its own Haar-random rotation (times an
inversion with probability 1/2): positions, cell and target forces together.
The model is not invariant by construction and learns invariance only from
this augmentation, as in the study (the default). The loss is
``energy_weight * mean((dE / n_atoms)^2) + force_weight * mean(dF^2)
+ consistency_weight * consistency``.

Two optional training-side symmetry strategies, off by default:

- ``rotated_copies = K`` (default 1): every structure of a batch appears K
  times in the step, each copy with its own Haar-random rotation (improper
  with probability 1/2 when ``inversion``), so the loss averages over K
  orientations. A step, and an epoch (still one pass over the structures),
  costs K times as much; the number of steps is unchanged.
- ``consistency_weight = W`` (default 0): adds W times the rotational
  consistency term, the mean over the batch's structures of
  ``|dE/dtheta|^2 / n_atoms`` (eV^2), where ``dE/dtheta`` (3,) is the
  derivative of the energy under an infinitesimal rigid rotation of the
  whole structure, positions and cell together (Orb's "equigrad" idea).
  It is zero for an invariant model. It is read off the virial that the
  force pass already returns (:func:`symbreak.training.loss.rotation_gradient`): no extra forward
  or force pass, only one more term in the double-backward pass that the
  force loss needs anyway. It covers proper rotations only (inversion is
  not infinitesimal). Scale: for PET-style water models |dE/dtheta|^2 /
  n_atoms is ~1e-7..1e-6 eV^2, so W of order 1e3 is needed for the term to
  weigh like a trained force loss (~1e-3 eV^2/A^2).

The data and its batches are in :mod:`symbreak.training.data`, the loss in
:mod:`symbreak.training.loss`. The consistency of the predictions is logged for every run (also with W = 0),
on the rotated training batches and on the unrotated validation set; the
validation loss that picks ``best.pt`` stays the energy + force loss, so runs
with and without the term are selected by the same criterion.

Outputs in the ``out`` directory, written atomically at the end of every epoch:
``best.pt`` (model checkpoint with the lowest validation loss, what
``load_potential(out)`` reads), ``last.pt`` (model + optimizer + epoch, for
``resume``) and ``log.tsv`` (one line per epoch, columns :data:`LOG_COLUMNS`).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..core.errors import InputError, MissingFileError
from ..core.files import atomic_path
from ..core.structure import Structure
from ..potentials.pet.batch import topology
from ..potentials.pet.model import PETHypers, PETModel
from ..potentials.pet.potential import as_dtype
from ..potentials.pet_checkpoint import checkpoint_dict, load_checkpoint, model_from_checkpoint, save_model
from .config import TrainConfig
from .data import Labelled, as_numpy, fit_baseline, force_scale, make_batch, on_device, species_of, training_batch
from .loss import model_terms, total_loss

#: seconds between the progress lines inside an epoch
PROGRESS_SECONDS = 120.0
#: the columns of log.tsv, in order (consistency: mean |dE/dtheta|^2 / n_atoms, eV^2)
LOG_COLUMNS = (
    "epoch", "lr", "train_energy_mae_per_atom", "train_force_mae", "valid_energy_mae_per_atom", "valid_force_mae",
    "valid_loss", "seconds", "train_consistency", "valid_consistency",
)


def predict_energies(model: PETModel, structures: Sequence[Structure], chunk: int = 8) -> np.ndarray:
    """energies = predict_energies(model, structures): the model's total energies (eV), ``chunk`` structures per call."""
    from ..potentials.pet.potential import PETPotential

    return np.asarray(PETPotential(model, chunk_size=chunk).compute(list(structures)).energies, dtype=float)


def refit_baseline(model: PETModel, data: Sequence[Labelled], chunk: int = 8) -> np.ndarray:
    """shift = refit_baseline(model, data): add to the per-species baseline the least-squares fit of the residuals.

    The force term dominates the loss, so a trained model can keep an almost
    constant energy offset per atom; refitting the baseline on the training
    residuals removes it without touching forces. Returns the shift (eV per species).
    """
    predicted = predict_energies(model, [d.structure for d in data], chunk)
    residuals = [Labelled(d.structure, d.energy - e, d.forces) for d, e in zip(data, predicted)]
    shift = fit_baseline(residuals, model.hypers.species)
    with torch.no_grad():
        model.baseline += torch.tensor(shift, dtype=model.baseline.dtype)
    return shift


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """learning_rate(config, step, total_steps): cosine decay from lr to lr * lr_final_fraction."""
    progress = min(step / max(total_steps, 1), 1.0)
    final = config.lr * config.lr_final_fraction
    return final + 0.5 * (config.lr - final) * (1.0 + math.cos(math.pi * progress))


def evaluate_set(model: PETModel, data: Sequence[Labelled], topologies, config: TrainConfig) -> dict:
    """metrics = evaluate_set(model, data, topologies, config): loss and MAE/RMSE (eV/atom, eV/A), unrotated.

    ``loss`` is the energy + force loss only; ``consistency`` (mean
    |dE/dtheta|^2 / n_atoms, eV^2) is reported next to it.
    """
    dtype = as_dtype(config.dtype)
    species = model.hypers.species
    e_abs, f_abs, cons = [], [], []
    for k in range(0, len(data), config.batch_size):
        batch, energies, forces, n_atoms = make_batch(data[k : k + config.batch_size], topologies[k : k + config.batch_size], species, dtype)
        terms = model_terms(model, *on_device(config.device, batch, energies, forces, n_atoms), create_graph=False)
        e_abs.append(as_numpy(terms["energy_abs"]))
        f_abs.append(as_numpy(terms["force_abs"]).ravel())
        cons.append(as_numpy(terms["consistency_each"]))
    e_abs, f_abs = np.concatenate(e_abs), np.concatenate(f_abs)
    e_mse, f_mse = float(np.mean(e_abs**2)), float(np.mean(f_abs**2))
    return {
        "loss": config.energy_weight * e_mse + config.force_weight * f_mse,
        "energy_mae_per_atom": float(e_abs.mean()),
        "energy_rmse_per_atom": math.sqrt(e_mse),
        "force_mae": float(f_abs.mean()),
        "force_rmse": math.sqrt(f_mse),
        "consistency": float(np.concatenate(cons).mean()),
    }


def build_model(config: TrainConfig, train_data: Sequence[Labelled]) -> PETModel:
    """model = build_model(config, train_data): fresh PETModel, species from the data, baseline and scale fitted.

    The energy heads' output layers start at zero: the untrained model is the baseline.
    """
    hypers = dict(config.hypers)
    hypers.setdefault("species", list(species_of(train_data)))
    hypers = PETHypers.from_dict(hypers)
    missing = sorted(set(species_of(train_data)) - set(hypers.species))
    if missing:
        raise InputError(f"training data contains atomic numbers {missing} not in the model's species {list(hypers.species)}")
    torch.manual_seed(config.seed)
    model = PETModel(hypers)
    model.baseline.copy_(torch.tensor(fit_baseline(train_data, hypers.species)))
    model.energy_scale.fill_(force_scale(train_data))
    # start from the baseline: zero output layers, so that the first steps do not have to
    # undo a random energy of order (neighbours x atoms) x scale
    with torch.no_grad():
        for block in model.blocks:
            for head in (block.center_head, block.edge_head):
                head[-1].weight.zero_()
                head[-1].bias.zero_()
    return model.to(as_dtype(config.dtype))


def _save_state(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _format_epoch(row: dict) -> str:
    return (
        f"epoch {row['epoch']:4d}  lr {row['lr']:.2e}  "
        f"train E {1000 * row['train_energy_mae_per_atom']:7.3f} meV/atom  F {1000 * row['train_force_mae']:7.2f} meV/A  |  "
        f"valid E {1000 * row['valid_energy_mae_per_atom']:7.3f} meV/atom  F {1000 * row['valid_force_mae']:7.2f} meV/A  "
        f"loss {row['valid_loss']:.3e}{' *' if row['best'] else '  '}  "
        f"dE/dtheta {1000 * math.sqrt(row['train_consistency']):.2f}/{1000 * math.sqrt(row['valid_consistency']):.2f} meV  "
        f"{row['seconds']:6.1f} s"
    )


def _log_value(row: dict, key: str) -> str:
    value = row.get(key)
    return "nan" if value is None else str(value)


def _log_line(row: dict) -> str:
    return "\t".join(_log_value(row, k) for k in LOG_COLUMNS) + "\n"


def _open_log(path: Path, fresh: bool, history: Sequence[dict]):
    """The log.tsv file object to append to: a new header for a fresh run; a resumed log without
    the current columns (written by an older version) is rewritten from the checkpoint's history."""
    header = "\t".join(LOG_COLUMNS) + "\n"
    if fresh:
        handle = open(path, "a")
        handle.write(header)
        return handle
    if path.is_file():
        with open(path) as existing:
            first = existing.readline()
        if first == header:
            return open(path, "a")
    with atomic_path(path) as tmp:
        Path(tmp).write_text(header + "".join(_log_line(row) for row in history))
    return open(path, "a")


def train(
    config: TrainConfig,
    train_data: Sequence[Labelled],
    valid_data: Sequence[Labelled],
    out: str | os.PathLike,
    resume: bool = False,
    log: Callable[[str], None] = print,
    init_from: str | os.PathLike | None = None,
) -> dict:
    """summary = train(config, train_data, valid_data, out, resume=False, log=print, init_from=None): train, keep best.pt/last.pt.

    With ``resume`` the model, optimizer, epoch and best validation loss come
    from ``out/last.pt``; ``config`` still decides epochs and max_minutes.
    With ``init_from`` (a checkpoint or a model folder) training starts from
    that model's weights and hyperparameters with a fresh optimizer and
    learning-rate schedule (fine-tuning, or a warm restart of a finished run).
    Returns the best epoch's validation metrics and where the files are.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(max(1, int(config.threads)))
    dtype = as_dtype(config.dtype)
    if not train_data or not valid_data:
        raise InputError("training and validation sets must both contain at least one structure")
    config.validate()

    if resume and init_from is not None:
        raise InputError("resume and init_from exclude each other: resume continues OUT/last.pt, init_from starts a new run")
    history: list[dict] = []
    start_epoch, best_loss = 0, math.inf
    if resume:
        last = out / "last.pt"
        if not last.is_file():
            raise MissingFileError(f"cannot resume: {last} does not exist (train without --resume first)")
        try:
            state = torch.load(last, map_location="cpu", weights_only=True)
        except Exception as err:
            raise InputError(f"cannot resume from {last} (corrupted?): {str(err).splitlines()[0] if str(err) else type(err).__name__}") from None
        model = model_from_checkpoint(state["model"], str(last)).to(dtype)
        start_epoch, best_loss, history = int(state["epoch"]), float(state["best_valid_loss"]), list(state["history"])
    elif init_from is not None:
        if config.hypers:
            raise InputError("hyperparameters cannot be changed when starting from an existing model (init_from)")
        model = load_checkpoint(init_from)[0].to(dtype)
    else:
        model = build_model(config, train_data)
    species = model.hypers.species
    for d in list(train_data) + list(valid_data):
        unknown = sorted(set(d.structure.numbers.tolist()) - set(species))
        if unknown:
            raise InputError(f"data contains atomic numbers {unknown} not in the model's species {list(species)}")

    model = model.to(config.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    if resume:
        optimizer.load_state_dict(state["optimizer"])

    cutoff = model.hypers.cutoff
    train_topo = [topology(d.structure, cutoff) for d in train_data]
    valid_topo = [topology(d.structure, cutoff) for d in valid_data]
    steps_per_epoch = math.ceil(len(train_data) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    n_params = sum(p.numel() for p in model.parameters())
    log(
        f"training {n_params} parameters on {len(train_data)} structures ({len(valid_data)} validation), "
        f"{steps_per_epoch} steps/epoch, "
        + (f"epochs {start_epoch + 1}..{config.epochs}, " if start_epoch < config.epochs
           else f"no epoch left (done: {start_epoch} of --epochs {config.epochs}), ")
        + (f"{config.threads} thread(s)" if config.device == "cpu" else f"device {config.device}")
        + (f", {config.rotated_copies} rotated copies per structure ({config.rotated_copies}x cost per step)" if config.rotated_copies > 1 else "")
        + (f", consistency weight {config.consistency_weight:g}" if config.consistency_weight > 0 else "")
    )
    started = time.perf_counter()
    with _open_log(out / "log.tsv", start_epoch == 0, history) as log_file:
        for epoch in range(start_epoch, config.epochs):
            t0 = last_progress = time.perf_counter()
            rng = np.random.default_rng([config.seed, epoch])
            order = rng.permutation(len(train_data))
            model.train()
            e_abs, f_abs, cons = [], [], []
            for step, k in enumerate(range(0, len(order), config.batch_size)):
                lr = learning_rate(config, epoch * steps_per_epoch + step, total_steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                idx = order[k : k + config.batch_size]
                batch, energies, forces, n_atoms, _ = training_batch(
                    [train_data[i] for i in idx], [train_topo[i] for i in idx], species, dtype, rng, config
                )
                terms = model_terms(model, *on_device(config.device, batch, energies, forces, n_atoms), create_graph=True)
                loss = total_loss(config, terms)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                e_abs.append(as_numpy(terms["energy_abs"]))
                f_abs.append(as_numpy(terms["force_abs"]).ravel())
                cons.append(as_numpy(terms["consistency_each"]))
                if time.perf_counter() - last_progress > PROGRESS_SECONDS and step + 1 < steps_per_epoch:
                    last_progress = time.perf_counter()
                    per_step = (last_progress - t0) / (step + 1)
                    log(f"epoch {epoch + 1}: step {step + 1}/{steps_per_epoch}, {per_step:.2f} s per step, "
                        f"epoch done in {per_step * (steps_per_epoch - step - 1) / 60:.1f} min")
            model.eval()
            valid = evaluate_set(model, valid_data, valid_topo, config)
            improved = valid["loss"] < best_loss
            row = {
                "epoch": epoch + 1,
                "lr": lr,
                "train_energy_mae_per_atom": float(np.concatenate(e_abs).mean()),
                "train_force_mae": float(np.concatenate(f_abs).mean()),
                "train_consistency": float(np.concatenate(cons).mean()),
                **{f"valid_{k}": v for k, v in valid.items()},
                "best": improved,
                "seconds": time.perf_counter() - t0,
            }
            history.append(row)
            metadata = {"epoch": epoch + 1, "config": config.to_dict(), "valid": valid}
            if improved:
                best_loss = valid["loss"]
                save_model(out / "best.pt", model, metadata)
            _save_state(
                out / "last.pt",
                {
                    "model": checkpoint_dict(model, metadata),
                    "optimizer": optimizer.state_dict(),
                    "epoch": epoch + 1,
                    "best_valid_loss": best_loss,
                    "history": history,
                    "config": config.to_dict(),
                },
            )
            log_file.write(_log_line(row))
            log_file.flush()
            log(_format_epoch(row))
            if config.max_minutes is not None and time.perf_counter() - started > 60.0 * config.max_minutes:
                log(f"stopping after epoch {epoch + 1}: --max-minutes {config.max_minutes} reached")
                break
    best = min(history, key=lambda r: r["valid_loss"]) if history else None
    return {"best": best, "epochs_done": len(history), "out": str(out), "best_path": str(out / "best.pt")}
