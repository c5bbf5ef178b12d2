"""The model error next to the symmetry error: the plain model against a reference on displaced frames.

    error = model_error(potential, reference, system, plain_symmetry_force=probe.error("plain").force_mae_meV_per_A)

A foreign model is not trained on q-TIP4P/F and its energy zero is its own, so
the energy error is shown as an offset (mean over frames, per molecule) and a
fluctuation (its standard deviation): the offset is a convention, the
fluctuation is what MD feels. Force errors need no such split.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..potentials.base import Potential
from .results import ModelError
from .systems import AuditSystem


def model_error(potential: Potential, reference: Potential, reference_name: str, system: AuditSystem,
                plain_symmetry_force: float | None = None) -> ModelError:
    """Plain model vs reference on ``system.frames``: energy offset and fluctuation, force MAE and relative RMSE."""
    frames = list(system.frames)
    if not frames:
        raise InputError("the model error needs at least one frame (--frames >= 1)")
    model = potential.compute(frames)
    ref = reference.compute(frames)
    n_mol = max(system.n_molecules, 1)
    per_molecule = 1e3 * (np.asarray(model.energies) - np.asarray(ref.energies)) / n_mol
    diff = np.concatenate([(m - r).ravel() for m, r in zip(model.forces, ref.forces)])
    ref_forces = np.concatenate([r.ravel() for r in ref.forces])
    mae = 1e3 * float(np.mean(np.abs(diff)))
    ref_std = float(np.std(ref_forces))
    return ModelError(
        system=system.name,
        reference=reference_name,
        frames=len(frames),
        energy_offset_meV_per_molecule=float(np.mean(per_molecule)),
        energy_fluctuation_meV_per_molecule=float(np.std(per_molecule, ddof=1)) if len(frames) > 1 else 0.0,
        force_mae_meV_per_A=mae,
        force_rmse_relative=float(np.sqrt(np.mean(diff**2)) / ref_std) if ref_std > 0 else float("nan"),
        symmetry_over_model=(plain_symmetry_force / mae) if plain_symmetry_force is not None and mae > 0 else None,
    )
