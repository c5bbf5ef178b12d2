"""Training the PET-style model on energies and forces with random O(3) augmentation.

    config = TrainConfig(epochs=20, batch_size=4)
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
  force pass already returns (:func:`rotation_gradient`): no extra forward
  or force pass, only one more term in the double-backward pass that the
  force loss needs anyway. It covers proper rotations only (inversion is
  not infinitesimal). Scale: for PET-style water models |dE/dtheta|^2 /
  n_atoms is ~1e-7..1e-6 eV^2, so W of order 1e3 is needed for the term to
  weigh like a trained force loss (~1e-3 eV^2/A^2).

The consistency of the predictions is logged for every run (also with W = 0),
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
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from ..core.errors import InputError, MissingFileError
from ..core.files import atomic_path
from ..core.structure import Structure
from ..potentials.pet.batch import Topology, collate, topology
from ..potentials.pet.model import PETHypers, PETModel
from ..potentials.pet.potential import as_dtype
from ..potentials.pet_checkpoint import checkpoint_dict, load_checkpoint, model_from_checkpoint, save_model
from ..symmetry.rotations import haar_rotations

ENERGY_KEYS = ("energy", "REF_energy", "ref_energy", "Energy", "total_energy", "potential_energy")
FORCE_KEYS = ("forces", "REF_forces", "ref_forces", "force", "Forces")
#: the columns of log.tsv, in order (consistency: mean |dE/dtheta|^2 / n_atoms, eV^2)
LOG_COLUMNS = (
    "epoch", "lr", "train_energy_mae_per_atom", "train_force_mae", "valid_energy_mae_per_atom", "valid_force_mae",
    "valid_loss", "seconds", "train_consistency", "valid_consistency",
)


def check_device(device: str) -> None:
    """InputError (one line) for a device torch does not know or this machine does not have."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"--device {device!r} is not a torch device (use cpu, cuda or cuda:N)") from None
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {device}: this torch has no usable CUDA device (torch {torch.__version__})")
    if parsed.type not in ("cpu", "cuda"):
        raise InputError(f"--device {device}: only cpu and cuda are supported")


@dataclass
class TrainConfig:
    """TrainConfig(epochs=100, batch_size=8, ...): training settings with documented defaults."""

    #: passes over the training set
    epochs: int = 100
    #: structures per optimizer step
    batch_size: int = 8
    #: initial Adam learning rate
    lr: float = 1e-3
    #: the learning rate decays (cosine over all steps) to lr * lr_final_fraction
    lr_final_fraction: float = 0.02
    #: weight of the squared energy error per atom (eV^2)
    energy_weight: float = 1.0
    #: weight of the squared force component error (eV^2/A^2)
    force_weight: float = 1.0
    #: random O(3) rotation of every structure at every step (the study's augmentation)
    augment: bool = True
    #: include inversions (det -1) with probability 1/2 in the augmentation
    inversion: bool = True
    #: copies of every structure per step, each with its own random rotation (K x the cost per step)
    rotated_copies: int = 1
    #: weight of the rotational consistency term mean(|dE/dtheta|^2 / n_atoms), eV^2 (0: off)
    consistency_weight: float = 0.0
    #: seed of the weight initialisation, shuffling and rotations
    seed: int = 0
    #: torch intra-op threads
    threads: int = 1
    #: where the model trains: "cpu", "cuda", "cuda:1", ... (checkpoints are always written for the CPU)
    device: str = "cpu"
    #: "float32" or "float64" for the weights and the arithmetic
    dtype: str = "float32"
    #: stop after the epoch during which this many minutes of training have passed (None: no limit)
    max_minutes: float | None = None
    #: PET hyperparameters overriding the defaults (species are taken from the data when absent)
    hypers: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """config.to_dict(): plain dict, JSON-compatible."""
        return asdict(self)

    def validate(self) -> None:
        """config.validate(): InputError naming the first invalid setting of the symmetry options."""
        if isinstance(self.rotated_copies, bool) or int(self.rotated_copies) != self.rotated_copies or self.rotated_copies < 1:
            raise InputError(f"--rotated-copies must be an integer >= 1, got {self.rotated_copies}")
        if self.rotated_copies > 1 and not self.augment:
            raise InputError("--rotated-copies > 1 needs the random augmentation (drop --no-augment): unrotated copies are identical")
        if not math.isfinite(self.consistency_weight) or self.consistency_weight < 0:
            raise InputError(f"--consistency-weight must be >= 0, got {self.consistency_weight}")
        check_device(self.device)


    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """TrainConfig.from_dict(d): inverse of to_dict, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Labelled:
    """Labelled(structure, energy, forces): a Structure with reference energy (eV) and forces (n, 3) in eV/A.

    ``source``: the frame's ``source`` label in the extxyz (the dataset run it came from), if any.
    """

    structure: Structure
    energy: float
    forces: np.ndarray
    source: str | None = None


def _frame_energy(atoms, index: int, path) -> float:
    for key in ENERGY_KEYS:
        if key in atoms.info:
            return float(atoms.info[key])
    if atoms.calc is not None:
        try:
            return float(atoms.get_potential_energy())
        except Exception:  # a calculator without stored energy
            pass
    raise InputError(f"{path}: frame {index} has no energy (looked for info keys {', '.join(ENERGY_KEYS)} and a calculator)")


def _frame_forces(atoms, index: int, path) -> np.ndarray:
    for key in FORCE_KEYS:
        if key in atoms.arrays:
            return np.asarray(atoms.arrays[key], dtype=np.float64).copy()
    if atoms.calc is not None:
        try:
            return np.asarray(atoms.get_forces(), dtype=np.float64).copy()
        except Exception:
            pass
    raise InputError(f"{path}: frame {index} has no forces (looked for arrays {', '.join(FORCE_KEYS)} and a calculator)")


def read_labelled(path: str | os.PathLike) -> list[Labelled]:
    """data = read_labelled("train.xyz"): every frame of an extxyz (or any ase-readable) file with energy and forces."""
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"data file {path} does not exist")
    try:
        frames = ase.io.read(path, index=":")
    except Exception as err:
        raise InputError(f"cannot read {path} with ase.io.read: {err}") from None
    if not frames:
        raise InputError(f"{path} contains no structures")
    return [
        Labelled(Structure.from_atoms(atoms), _frame_energy(atoms, k, path), _frame_forces(atoms, k, path),
                 None if atoms.info.get("source") is None else str(atoms.info["source"]))
        for k, atoms in enumerate(frames)
    ]


def species_of(data: Sequence[Labelled]) -> tuple[int, ...]:
    """species_of(data) -> sorted atomic numbers present in the data."""
    return tuple(sorted(set(np.concatenate([d.structure.numbers for d in data]).tolist())))


def fit_baseline(data: Sequence[Labelled], species: Sequence[int]) -> np.ndarray:
    """baseline = fit_baseline(data, species): per-species energies (eV) fitting E ~ sum_Z n_Z e_Z by least squares.

    With collinear compositions (all water) the minimum-norm solution is taken;
    only the energy per formula unit is determined, which is all that matters.
    """
    index = {z: k for k, z in enumerate(species)}
    counts = np.zeros((len(data), len(species)))
    for row, d in enumerate(data):
        for z, c in zip(*np.unique(d.structure.numbers, return_counts=True)):
            counts[row, index[int(z)]] = c
    energies = np.array([d.energy for d in data])
    baseline, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    return baseline


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


def force_scale(data: Sequence[Labelled]) -> float:
    """force_scale(data) -> RMS force component (eV/A), the natural energy unit of the network's output."""
    rms = float(np.sqrt(np.mean(np.concatenate([d.forces.ravel() for d in data]) ** 2)))
    return rms if rms > 1e-8 else 1.0


def make_batch(
    items: Sequence[Labelled],
    topologies: Sequence[Topology],
    species: Sequence[int],
    dtype: torch.dtype,
    rotations: np.ndarray | None = None,
):
    """batch, energies, forces, n_atoms = make_batch(items, topologies, species, dtype, rotations=None).

    With ``rotations`` (B, 3, 3), positions, cells and target forces are
    rotated together (r -> R r); the topology is unchanged by rotations.
    """
    positions, cells, forces = [], [], []
    for k, item in enumerate(items):
        s = item.structure
        rot = np.eye(3) if rotations is None else rotations[k]
        positions.append(s.positions @ rot.T)
        cells.append(None if s.cell is None else s.cell @ rot.T)
        forces.append(item.forces @ rot.T)
    batch = collate(topologies, positions, cells, species, dtype)
    energies = torch.tensor([item.energy for item in items], dtype=dtype)
    n_atoms = torch.tensor([item.structure.n_atoms for item in items], dtype=dtype)
    return batch, energies, torch.tensor(np.concatenate(forces), dtype=dtype), n_atoms


def training_batch(
    items: Sequence[Labelled],
    topologies: Sequence[Topology],
    species: Sequence[int],
    dtype: torch.dtype,
    rng: np.random.Generator,
    config: TrainConfig,
):
    """batch, energies, forces, n_atoms, rotations = training_batch(items, topologies, species, dtype, rng, config).

    One optimizer step's batch: every item ``config.rotated_copies`` times
    (copies of one item adjacent), each copy rotated by its own Haar-random
    rotation (improper with probability 1/2 when ``config.inversion``);
    ``rotations`` (B K, 3, 3) or None without augmentation. With K = 1 the
    random draws are those of plain augmentation.
    """
    copies = max(1, int(config.rotated_copies))
    items = [item for item in items for _ in range(copies)]
    topologies = [topo for topo in topologies for _ in range(copies)]
    rotations = haar_rotations(rng, len(items), improper=config.inversion) if config.augment else None
    return (*make_batch(items, topologies, species, dtype, rotations), rotations)


def rotation_gradient(virials):
    """tau = rotation_gradient(virials (..., 3, 3)) -> (..., 3): dE/dtheta of a rigid rotation of positions and cell.

    For r -> r + theta (e_a x r) applied to every atom and cell vector,
    dE/dtheta_a = sum_e (r_e x dE/dr_e)_a over the model's edge vectors
    (equivalently sum_i (r_i x dE/dr_i)_a + sum_c (h_c x dE/dh_c)_a), and with
    the virial W_ab = -sum_e dE/dr_e,a r_e,b this is tau_a = eps_abc W_bc:
    (W_yz - W_zy, W_zx - W_xz, W_xy - W_yx), twice the axial vector of the
    antisymmetric part of W. Zero for a rotation-invariant energy. Works on
    numpy arrays and (differentiably) on torch tensors.
    """
    w = virials
    parts = [w[..., 1, 2] - w[..., 2, 1], w[..., 2, 0] - w[..., 0, 2], w[..., 0, 1] - w[..., 1, 0]]
    return torch.stack(parts, -1) if isinstance(w, torch.Tensor) else np.stack(parts, -1)


def consistency_per_structure(virials, n_atoms):
    """c = consistency_per_structure(virials (B, 3, 3), n_atoms (B,)) -> (B,): |dE/dtheta|^2 / n_atoms, eV^2."""
    tau = rotation_gradient(virials)
    return (tau**2).sum(-1) / n_atoms


def model_terms(model: PETModel, batch, energies, forces, n_atoms, create_graph: bool) -> dict:
    """terms = model_terms(model, batch, energies, forces, n_atoms, create_graph): losses and per-item errors.

    Keys: energy_mse (per atom), force_mse, consistency (mean |dE/dtheta|^2 /
    n_atoms; differentiable with ``create_graph``), energy_abs (B,) per atom,
    force_abs (N, 3), consistency_each (B,) detached.
    """
    pred_e, pred_f, virials = model.compute(batch, create_graph=create_graph)
    de = (pred_e - energies) / n_atoms
    df = pred_f - forces
    consistency = consistency_per_structure(virials, n_atoms)
    return {
        "energy_mse": (de**2).mean(),
        "force_mse": (df**2).mean(),
        "consistency": consistency.mean(),
        "energy_abs": de.detach().abs(),
        "force_abs": df.detach().abs(),
        "consistency_each": consistency.detach(),
    }


def total_loss(config: TrainConfig, terms: dict):
    """loss = total_loss(config, terms): energy_weight E_mse + force_weight F_mse (+ consistency_weight consistency)."""
    loss = config.energy_weight * terms["energy_mse"] + config.force_weight * terms["force_mse"]
    if config.consistency_weight > 0:
        loss = loss + config.consistency_weight * terms["consistency"]
    return loss


def loss_terms(model: PETModel, batch, energies, forces, n_atoms, create_graph: bool):
    """energy_mse_per_atom, force_mse, energy_abs_per_atom (B,), force_abs (N, 3) of the model on a batch."""
    terms = model_terms(model, batch, energies, forces, n_atoms, create_graph)
    return terms["energy_mse"], terms["force_mse"], terms["energy_abs"], terms["force_abs"]


def on_device(device: str, batch, *tensors):
    """batch, *tensors on ``device`` (no copies when they are already there)."""
    return (batch.to(device), *(t.to(device) for t in tensors))


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A detached tensor as a float64 numpy array on the CPU."""
    return tensor.detach().cpu().numpy().astype(np.float64)


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
        f"{steps_per_epoch} steps/epoch, epochs {start_epoch + 1}..{config.epochs}, "
        + (f"{config.threads} thread(s)" if config.device == "cpu" else f"device {config.device}")
        + (f", {config.rotated_copies} rotated copies per structure ({config.rotated_copies}x cost per step)" if config.rotated_copies > 1 else "")
        + (f", consistency weight {config.consistency_weight:g}" if config.consistency_weight > 0 else "")
    )
    started = time.perf_counter()
    with _open_log(out / "log.tsv", start_epoch == 0, history) as log_file:
        for epoch in range(start_epoch, config.epochs):
            t0 = time.perf_counter()
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
