"""Save and load PET-style model checkpoints (plain dicts of tensors and JSON-like values).

    save_model("model/best.pt", model, metadata={"epoch": 12})
    pot = load_model("model/")              # a file, or a directory holding best.pt
    pot = load_default_model(dtype="float64")
    pot = load_default_model(name="default-ice")     # the other shipped model (symbreak/models/default-ice.pt)

A checkpoint is one ``torch.save`` file holding
``{"format": "symbreak-pet", "version": 1, "hypers": {...}, "state_dict": {...},
"metadata": {...}}``; only tensors, numbers, strings, lists and dicts, so it is
read with ``torch.load(..., weights_only=True)`` (no code is unpickled).
Training state (optimizer, epoch) lives in separate files (see
:mod:`symbreak.training.train`), never in the model checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..core.errors import InputError, MissingFileError
from ..core.files import atomic_path
from .pet.model import PETHypers, PETModel
from .pet.potential import PETPotential

FORMAT = "symbreak-pet"
VERSION = 1
SHIPPED_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = SHIPPED_DIR / "default.pt"


def shipped_model_path(name: str) -> Path:
    """shipped_model_path("default-ice") -> symbreak/models/default-ice.pt (whether it exists or not)."""
    return DEFAULT_MODEL if name == "default" else SHIPPED_DIR / f"{name}.pt"


def checkpoint_dict(model: PETModel, metadata: dict | None = None) -> dict:
    """ckpt = checkpoint_dict(model, metadata): the dict that :func:`save_model` writes."""
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return {
        "format": FORMAT,
        "version": VERSION,
        "hypers": model.hypers.to_dict(),
        "state_dict": state,
        "metadata": dict(metadata or {}),
    }


def save_model(path: str | os.PathLike, model: PETModel, metadata: dict | None = None) -> None:
    """save_model(path, model, metadata=None): write atomically (a temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(checkpoint_dict(model, metadata), tmp)


def resolve_path(path: str | os.PathLike) -> Path:
    """resolve_path("model/") -> model/best.pt; a file path is returned as is. FileNotFoundError if missing."""
    path = Path(path)
    if path.is_dir():
        best = path / "best.pt"
        if not best.is_file():
            raise MissingFileError(f"no best.pt in model directory {path}: train there with `symbreak train --out {path}`")
        return best
    if not path.is_file():
        raise MissingFileError(f"model checkpoint {path} does not exist")
    return path


def read_checkpoint(path: str | os.PathLike) -> dict:
    """ckpt = read_checkpoint(path): the raw dict, checked; ValueError naming what is wrong with the file."""
    path = resolve_path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for truncated or foreign files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"cannot read model checkpoint {path} (corrupted, or not written by symbreak train): {reason}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise InputError(f"{path} is not a symbreak PET checkpoint (no format '{FORMAT}')")
    version = ckpt.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise InputError(f"{path} has checkpoint version {version}; this symbreak reads versions <= {VERSION}: upgrade symbreak")
    for key in ("hypers", "state_dict"):
        if not isinstance(ckpt.get(key), dict):
            raise InputError(f"{path} is missing '{key}': corrupted checkpoint")
    return ckpt


def model_from_checkpoint(ckpt: dict, source: str = "checkpoint") -> PETModel:
    """model = model_from_checkpoint(ckpt): a PETModel with the checkpoint's hyperparameters and weights."""
    try:
        hypers = PETHypers.from_dict(ckpt["hypers"])
    except (TypeError, ValueError) as err:
        raise InputError(f"{source} has incompatible hyperparameters: {err}") from None
    model = PETModel(hypers)
    missing, unexpected = model.state_dict().keys() - ckpt["state_dict"].keys(), ckpt["state_dict"].keys() - model.state_dict().keys()
    if missing or unexpected:
        raise InputError(
            f"{source} does not match its hyperparameters: missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]}"
        )
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise InputError(f"{source} does not match its hyperparameters: {first[-1].strip() if first else err}") from None
    return model


def load_checkpoint(path: str | os.PathLike) -> tuple[PETModel, dict]:
    """model, metadata = load_checkpoint(path): a float32 PETModel in eval mode and the training metadata."""
    path = resolve_path(path)
    ckpt = read_checkpoint(path)
    return model_from_checkpoint(ckpt, str(path)).eval(), dict(ckpt.get("metadata") or {})


def pet_options(spec) -> dict:
    """The keyword arguments of load_model / load_default_model that ``default:...`` or ``PATH:...`` gives."""
    options = {"dtype": spec.option("dtype"), "device": spec.option("device"), "chunk_size": spec.int_option("chunk_size", None)}
    return {k: v for k, v in options.items() if v is not None}


def load_model(path: str | os.PathLike, dtype: str = "float32", chunk_size: int | None = None,
               device: str = "cpu") -> PETPotential:
    """pot = load_model("model/" or "model/best.pt", dtype="float32", chunk_size=None, device="cpu"): a PETPotential."""
    model, _ = load_checkpoint(path)
    return PETPotential(model, dtype=dtype, chunk_size=chunk_size, name=f"pet:{Path(path).name}", device=device)


def load_default_model(dtype: str = "float32", chunk_size: int | None = None, device: str = "cpu",
                       name: str = "default") -> PETPotential:
    """pot = load_default_model(dtype="float32", name="default"): a model shipped in symbreak/models/NAME.pt."""
    path = shipped_model_path(name)
    if not path.is_file():
        raise MissingFileError(
            f"the model '{name}' is not shipped ({path} is missing): "
            f"train one with `symbreak train` and pass its directory instead of '{name}'"
        )
    pot = load_model(path, dtype=dtype, chunk_size=chunk_size, device=device)
    pot.name = name
    return pot
