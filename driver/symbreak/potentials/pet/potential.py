"""The PET-style model behind symbreak's batched Potential interface.

    from symbreak.potentials import load_potential
    pot = load_potential("default")                  # or PETPotential(PETModel(PETHypers()))
    result = pot.compute([structure_a, structure_b])  # one batched forward + backward pass

Structures are evaluated in chunks of at most ``chunk_size`` structures and
``max_atoms_per_call`` atoms: a batch of many large boxes is memory-bound on
few cores. Measured on 2 cores, 1 thread (ms per 192-atom box, 36 rotated
copies): 71 in chunks of 1-4 boxes, 85 in chunks of 8, 134 all at once;
single molecules: 2.4 one by one, 0.2 all 36 at once. Hence the default
limit of 800 atoms and no limit on the number of structures.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ...core.errors import InputError
from ..base import Evaluation, Potential, Structure, split_batch
from ..spec import PotentialError
from .batch import structure_batch
from .model import PETModel

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def as_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """as_dtype("float64") -> torch.float64; ValueError for anything but float32/float64."""
    if isinstance(dtype, torch.dtype) and dtype in _DTYPES.values():
        return dtype
    if dtype in _DTYPES:
        return _DTYPES[dtype]
    raise InputError(f"dtype must be 'float32' or 'float64', got {dtype!r}")


def as_device(device: str | torch.device, option: str = "device") -> torch.device:
    """as_device("cuda") -> torch.device("cuda"); a one-line PotentialError, naming ``option`` (e.g. "--device"),
    for a name torch does not know, a device type other than cpu and cuda, or a GPU this machine does not have."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise PotentialError(f"{option} {device!r} is not a torch device (use cpu, cuda or cuda:N)") from None
    if parsed.type not in ("cpu", "cuda"):
        raise PotentialError(f"{option} {device}: only cpu and cuda are supported")
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise PotentialError(f"{option} {device}: no usable CUDA device: this torch ({torch.__version__}) sees no "
                             "CUDA GPU; use cpu")
    if parsed.type == "cuda" and parsed.index is not None and parsed.index >= torch.cuda.device_count():
        raise PotentialError(f"{option} {device}: only {torch.cuda.device_count()} CUDA GPU(s) are visible")
    return parsed


class PETPotential(Potential):
    """PETPotential(model, dtype="float32", chunk_size=None): energies, forces, virials from a PETModel.

    ``symbreak serve --potential default`` and ``load_potential(path)`` build
    one of these from a checkpoint.
    """

    name = "pet"

    def __init__(self, model: PETModel, dtype: str | torch.dtype = "float32", chunk_size: int | None = None,
                 name: str | None = None, max_atoms_per_call: int | None = 800, device: str | torch.device = "cpu"):
        self.dtype = as_dtype(dtype)
        self.device = as_device(device)
        self.model = model.to(dtype=self.dtype, device=self.device).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.chunk_size = chunk_size
        self.max_atoms_per_call = max_atoms_per_call
        self.species = frozenset(int(z) for z in model.hypers.species)
        if name is not None:
            self.name = name

    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        """pot.compute([Structure, ...]) -> Evaluation with energies (B,), forces, virials (B, 3, 3)."""
        structures = list(structures)
        if not structures:
            return Evaluation(np.zeros(0), [], np.zeros((0, 3, 3)))
        for s in structures:
            self.check_species(s.numbers)
        parts = [self._compute_chunk(chunk) for chunk in split_batch(structures, self.chunk_size, self.max_atoms_per_call)]
        return parts[0] if len(parts) == 1 else Evaluation.concatenate(parts)

    def _compute_chunk(self, structures: list[Structure]) -> Evaluation:
        batch = structure_batch(structures, self.model.hypers.cutoff, self.model.hypers.species, self.dtype)
        energies, forces, virials = self.model.compute(batch.to(self.device))
        energies, forces, virials = (t.detach().to(device="cpu", dtype=torch.float64) for t in (energies, forces, virials))
        forces = forces.numpy()
        splits = np.cumsum([s.n_atoms for s in structures])[:-1]
        return Evaluation(
            energies.numpy(),
            [f.copy() for f in np.split(forces, splits)],
            virials.numpy(),
            [{} for _ in structures],
        )

    def describe(self) -> str:
        h = self.model.hypers
        n_params = sum(p.numel() for p in self.model.parameters())
        return (
            f"{self.name}: PET-style, {h.n_blocks}x{h.n_layers} layers, width {h.d_model}, "
            f"cutoff {h.cutoff} A, {n_params} parameters, {str(self.dtype).replace('torch.', '')}"
            + ("" if self.device.type == "cpu" else f", {self.device}")
        )
