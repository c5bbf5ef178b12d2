"""The training loss: energy per atom and force errors, and the rotational consistency term (Orb's "equigrad").

    terms = model_terms(model, batch, energies, forces, n_atoms, create_graph=True)
    loss = total_loss(config, terms)         # energy_weight E_mse + force_weight F_mse (+ consistency_weight C)
    tau = rotation_gradient(virials)         # dE/dtheta of a rigid rotation, from the antisymmetric virial
"""

from __future__ import annotations

import numpy as np
import torch

from ..potentials.pet.model import PETModel
from .config import TrainConfig


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


__all__ = ["consistency_per_structure", "model_terms", "rotation_gradient", "total_loss"]
