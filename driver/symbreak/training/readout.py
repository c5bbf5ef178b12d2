"""Refit the readout: the last layers of the model's energy heads, solved exactly on energies and forces.

    fit = refit_readout(model, data, energy_weight=100, force_weight=1, force_frames=100, log=print)

The network's energy is linear in the weights and biases of the last layers of its
energy heads (``PETModel.readout_features``), so the training loss restricted to them,

    L(w) = energy_weight mean_s ((E_s(w) - E_s) / n_s)^2 + force_weight mean_c (F_c(w) - F_c)^2,

is quadratic and its minimum is one linear solve: energy rows for every structure
(a forward pass each) and force rows from the Jacobian of the features with respect
to the positions (one backward pass per readout parameter and structure, hence only
``force_frames`` structures, drawn evenly over the data's ``source`` labels).
Stochastic training reaches such a minimum slowly when the energy term is a small
part of the loss: relative energies of phases that never share a trajectory (ice
polymorphs) are learned from the energy labels alone. Everything below the readout
is kept, so the refit cannot undo what the network learned; it only reweights it.

An optional rotation term (``rotation_copies`` images of each force structure under
random O(3) operations, ``rotation_weight``) adds the variance of the energy per atom
over orientations, which is also quadratic in the readout: the readout is then chosen
among those that fit the labels for the least orientation dependence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np
import torch

from ..core.errors import InputError
from ..potentials.pet.batch import structure_batch
from ..potentials.pet.model import PETModel
from ..potentials.pet.neighbors import edge_vectors
from ..symmetry.rotations import haar_rotations
from .data import Labelled

#: the ridge on the step, relative to the mean diagonal of the normal equations
RIDGE = 1e-8
#: singular values below this fraction of the largest are dropped (the minimum-norm step): some columns are
#: collinear (every block's centre-head bias multiplies n_atoms)
RCOND = 1e-10
PROGRESS_SECONDS = 30.0


@dataclass(frozen=True)
class ReadoutFit:
    """What refit_readout did: its rows, and the loss and errors before and after on those rows (eV, Angstrom)."""

    parameters: int
    energy_weight: float
    force_weight: float
    rotation_weight: float
    ridge: float
    energy_frames: int
    force_frames: int
    force_components: int
    #: rotated copies of each force structure in the rotation term (0: no rotation term)
    rotation_copies: int
    loss_before: float
    loss_after: float
    energy_rmse_before: float
    energy_rmse_after: float
    force_rmse_before: float
    force_rmse_after: float
    #: RMS deviation of the energy per atom over the rotated copies (0 without a rotation term)
    rotation_rms_before: float
    rotation_rms_after: float
    #: |w_new - w_old| / |w_old| (inf from a zero readout)
    relative_change: float

    def summary(self) -> str:
        """One line: the rows and the loss, energy and force errors before -> after."""
        return (f"readout refit ({self.parameters} parameters; energies of {self.energy_frames} structures, forces of "
                f"{self.force_frames}): loss {self.loss_before:.4g} -> {self.loss_after:.4g}, E RMSE "
                f"{1000 * self.energy_rmse_before:.3f} -> {1000 * self.energy_rmse_after:.3f} meV/atom, F RMSE "
                f"{1000 * self.force_rmse_before:.2f} -> {1000 * self.force_rmse_after:.2f} meV/A"
                + (f", energy over {self.rotation_copies} orientations {1000 * self.rotation_rms_before:.4f} -> "
                   f"{1000 * self.rotation_rms_after:.4f} meV/atom RMS" if self.rotation_copies else "")
                + f", |dw|/|w| {self.relative_change:.3g}")


def _batch(model: PETModel, items: Sequence[Labelled], dtype: torch.dtype):
    return structure_batch([d.structure for d in items], model.hypers.cutoff, model.hypers.species, dtype)


def structure_features(model: PETModel, batch) -> torch.Tensor:
    """phi (B, P): readout features summed over each structure's atoms (E = sum baseline + scale * phi @ w)."""
    vectors = edge_vectors(batch.positions, batch.cells, batch.edge_i, batch.edge_j, batch.shifts, batch.edge_structure)
    per_atom = model.readout_features(batch, vectors)
    return per_atom.new_zeros(batch.n_structures, per_atom.shape[1]).index_add(0, batch.atom_structure, per_atom)


def _baseline_energies(model: PETModel, batch) -> np.ndarray:
    per_atom = model.baseline[batch.species]
    return per_atom.new_zeros(batch.n_structures).index_add(0, batch.atom_structure, per_atom).double().numpy()


def energy_rows(model: PETModel, data: Sequence[Labelled], chunk: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """X (S, P), target (S,): energies per atom are X @ w + (baseline per atom), and target the reference's."""
    dtype = next(model.parameters()).dtype
    rows, targets = [], []
    with torch.no_grad():
        for k in range(0, len(data), chunk):
            items = data[k:k + chunk]
            batch = _batch(model, items, dtype)
            n_atoms = np.array([d.structure.n_atoms for d in items], dtype=float)
            phi = structure_features(model, batch).double().numpy()
            rows.append(float(model.energy_scale) * phi / n_atoms[:, None])
            targets.append((np.array([d.energy for d in items]) - _baseline_energies(model, batch)) / n_atoms)
    return np.concatenate(rows), np.concatenate(targets)


def force_rows(model: PETModel, item: Labelled) -> np.ndarray:
    """G (3n, P): the structure's forces (flattened) are G @ w, from the features' Jacobian (P backward passes)."""
    batch = _batch(model, [item], next(model.parameters()).dtype)
    positions = batch.positions.clone().requires_grad_(True)
    phi = structure_features(model, replace(batch, positions=positions))[0]
    jacobian = [torch.autograd.grad(phi[k], positions, retain_graph=k + 1 < len(phi), allow_unused=True)[0]
                for k in range(len(phi))]
    jacobian = torch.stack([torch.zeros_like(positions) if g is None else g for g in jacobian]).reshape(len(phi), -1)
    return -float(model.energy_scale) * jacobian.double().numpy().T


def force_frame_indices(data: Sequence[Labelled], count: int, seed: int = 0) -> list[int]:
    """Up to ``count`` structure indices, drawn round-robin over the ``source`` labels (each label's in random order)."""
    rng = np.random.default_rng(seed)
    groups: dict[str | None, list[int]] = {}
    for k, d in enumerate(data):
        groups.setdefault(d.source, []).append(k)
    queues = [list(rng.permutation(members)) for _, members in sorted(groups.items(), key=lambda kv: str(kv[0]))]
    chosen: list[int] = []
    while len(chosen) < min(count, len(data)):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(int(queue.pop()))
    return sorted(chosen)


def _triangular(rows: np.ndarray) -> np.ndarray:
    """R of the QR decomposition of ``rows`` (R^T R = rows^T rows), at most as many rows as columns."""
    return np.linalg.qr(rows, mode="r") if len(rows) else rows


def rotation_rows(model: PETModel, item: Labelled, copies: int, rng: np.random.Generator) -> np.ndarray:
    """V (copies, P): energy-per-atom rows of ``copies`` Haar-random O(3) images of the structure, minus their mean:
    V @ w are the energy's deviations over orientations (zero for an invariant model)."""
    images = [Labelled(item.structure.rotated(r), item.energy, item.forces)
              for r in haar_rotations(rng, copies, improper=True)]
    x, _ = energy_rows(model, images)
    return x - x.mean(0)


@dataclass(frozen=True)
class ReadoutRows:
    """The least-squares rows of the readout refit, each term as the R of the QR decomposition of its rows [A | b]
    (for the step dw from the readout ``w0``: squared residuals |R [dw; -1]|^2), and how many rows each had."""

    w0: np.ndarray
    energy: np.ndarray
    energy_count: int
    force: np.ndarray
    force_count: int
    force_frames: int
    rotation: np.ndarray
    rotation_count: int
    rotation_copies: int

    def mse(self, term: np.ndarray, count: int, step: np.ndarray) -> float:
        """The mean squared residual of a term's rows after the step (0 for a term without rows)."""
        return float(np.sum((term @ np.append(step, -1.0)) ** 2)) / max(count, 1)


def readout_rows(
    model: PETModel,
    data: Sequence[Labelled],
    force_frames: int,
    rotation_copies: int = 0,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> ReadoutRows:
    """rows = readout_rows(model, data, force_frames, rotation_copies=0, seed=0): the energy rows of every structure,
    the force rows of ``force_frames`` of them and (``rotation_copies`` >= 2) their rotation rows."""
    if not data:
        raise InputError("the readout refit needs at least one structure")
    if force_frames < 1:
        raise InputError(f"the readout refit needs the forces of at least one structure, got {force_frames}")
    if rotation_copies == 1 or rotation_copies < 0:
        raise InputError(f"the rotation term needs at least 2 rotated copies per structure (or 0), got {rotation_copies}")
    model = model.eval()
    w0 = model.readout_vector().double().numpy()
    started = last = time.perf_counter()
    x, target = energy_rows(model, data)
    energy = _triangular(np.column_stack([x, target - x @ w0]))
    frames = force_frame_indices(data, force_frames, seed)
    force, rotation = np.zeros((0, len(w0) + 1)), np.zeros((0, len(w0) + 1))
    rng = np.random.default_rng([seed, 1])
    for count, k in enumerate(frames, 1):
        g = force_rows(model, data[k])
        force = _triangular(np.vstack([force, np.column_stack([g, data[k].forces.reshape(-1) - g @ w0])]))
        if rotation_copies:
            v = rotation_rows(model, data[k], rotation_copies, rng)
            rotation = _triangular(np.vstack([rotation, np.column_stack([v, -v @ w0])]))
        if time.perf_counter() - last > PROGRESS_SECONDS and count < len(frames):
            last = time.perf_counter()
            log(f"readout refit: forces of {count}/{len(frames)} structures, {last - started:.0f} s")
    return ReadoutRows(w0, energy, len(x), force, 3 * sum(data[k].structure.n_atoms for k in frames), len(frames),
                       rotation, len(frames) * rotation_copies, rotation_copies)


def solve_readout(rows: ReadoutRows, energy_weight: float, force_weight: float, rotation_weight: float = 0.0,
                  ridge: float = RIDGE) -> tuple[np.ndarray, ReadoutFit]:
    """w, fit = solve_readout(rows, energy_weight, force_weight, rotation_weight=0, ridge=RIDGE): the readout minimising

    energy_weight x the MSE of the energies per atom + force_weight x the MSE of the forces + rotation_weight x the
    variance of the energy per atom over orientations (a finite-rotation form of the training's consistency term)
    + ridge x the mean diagonal of the normal equations x |w - w0|^2.
    """
    if min(energy_weight, force_weight, rotation_weight, ridge) < 0 or energy_weight + force_weight <= 0:
        raise InputError("the readout refit needs non-negative weights, energy and force weight not both 0")
    if rotation_weight > 0 and not rows.rotation_copies:
        raise InputError("a rotation weight needs rotation rows: readout_rows(..., rotation_copies >= 2)")
    p = len(rows.w0)
    both = _triangular(np.vstack([np.sqrt(energy_weight / rows.energy_count) * rows.energy,
                                  np.sqrt(force_weight / rows.force_count) * rows.force,
                                  np.sqrt(rotation_weight / max(rows.rotation_count, 1)) * rows.rotation]))
    # the ridge keeps the step small where the data hardly decide it (large cancelling weights extrapolate badly)
    damping = np.sqrt(ridge * np.sum(both[:, :p] ** 2) / p) * np.eye(p, p + 1)
    both = _triangular(np.vstack([both, damping]))
    dw = np.linalg.lstsq(both[:p, :p], both[:p, p], rcond=RCOND)[0]

    def loss(step: np.ndarray) -> tuple[float, float, float, float]:
        e = rows.mse(rows.energy, rows.energy_count, step)
        f = rows.mse(rows.force, rows.force_count, step)
        rot = rows.mse(rows.rotation, rows.rotation_count, step)
        return energy_weight * e + force_weight * f + rotation_weight * rot, e, f, rot

    before, after = loss(np.zeros(p)), loss(dw)
    return rows.w0 + dw, ReadoutFit(
        parameters=p, energy_weight=float(energy_weight), force_weight=float(force_weight),
        rotation_weight=float(rotation_weight), ridge=float(ridge), energy_frames=rows.energy_count,
        force_frames=rows.force_frames, force_components=rows.force_count,
        rotation_copies=rows.rotation_copies if rotation_weight > 0 else 0,
        loss_before=before[0], loss_after=after[0],
        energy_rmse_before=before[1] ** 0.5, energy_rmse_after=after[1] ** 0.5,
        force_rmse_before=before[2] ** 0.5, force_rmse_after=after[2] ** 0.5,
        rotation_rms_before=before[3] ** 0.5, rotation_rms_after=after[3] ** 0.5,
        relative_change=float(np.linalg.norm(dw) / np.linalg.norm(rows.w0)) if np.any(rows.w0) else float("inf"),
    )


def refit_readout(
    model: PETModel,
    data: Sequence[Labelled],
    energy_weight: float,
    force_weight: float,
    force_frames: int,
    rotation_copies: int = 0,
    rotation_weight: float = 0.0,
    ridge: float = RIDGE,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> ReadoutFit:
    """fit = refit_readout(model, data, energy_weight, force_weight, force_frames, rotation_copies=0, rotation_weight=0):
    set the readout to solve_readout's optimum on readout_rows(model, data, ...), in place."""
    if rotation_weight > 0 and rotation_copies < 2:
        raise InputError(f"a rotation weight needs at least 2 rotated copies per structure, got {rotation_copies}")
    rows = readout_rows(model, data, force_frames, rotation_copies if rotation_weight > 0 else 0, seed, log)
    w, fit = solve_readout(rows, energy_weight, force_weight, rotation_weight, ridge)
    model.set_readout_vector(torch.as_tensor(w, dtype=next(model.parameters()).dtype))
    return fit


__all__ = ["ReadoutFit", "ReadoutRows", "energy_rows", "force_frame_indices", "force_rows", "readout_rows", "refit_readout", "rotation_rows",
           "solve_readout", "structure_features"]
