"""An exported metatomic model behind the batched :class:`Potential` interface.

    symbreak serve --potential metatomic:model.pt --strategy 2i --unix --address h2o
    pot = load_potential("metatomic:model.pt:dtype=float64,chunk_size=8")

All structures of one call (rotated copies, beads, replay frames) go to the model
in chunked multi-system calls (``chunk_size`` structures, at most ``max_atoms``
atoms each), with the neighbour lists the model requests computed by vesin.
Isolated structures go further when the model is local (a finite
``interaction_range``) and gives per-atom energies: they are packed into one
system, copies placed on a grid farther apart than the interaction range, so
that 36 rotated copies of a molecule cost one neighbour list and one model
system instead of 36 (``pack=false`` turns this off; energies are the per-atom
sums of each copy, exactly what separate systems give, up to the float32
rounding of positions tens of A from the origin).
Forces and the full 3x3 virial come from one backward pass through positions and
a strain: with positions x -> x (1 + S) (rows), W_ab = sum_i F_i,a r_i,b =
-dE/dS_ba, the project's convention, antisymmetric part included.

The model file is a TorchScript archive loaded by ``metatomic.torch`` (no
pickle). It needs the optional extra: ``pip install -c constraints.txt 'symbreak[metatomic]'``.
"""

from __future__ import annotations

import math
import os
from functools import partial
from typing import Sequence

import numpy as np

from ..core.structure import Evaluation, Structure, split_batch
from .base import Potential
from .spec import PotentialError

INSTALL_HINT = "install the extra: pip install -c constraints.txt 'symbreak[metatomic]'"
_DTYPES = ("float32", "float64")


def packing_shifts(structures: Sequence[Structure], cutoff: float) -> np.ndarray:
    """(n, 3): structure k, moved by minus row k, sits centred on its own point of a cubic grid whose spacing
    exceeds the structures' extent plus ``cutoff``: isolated structures packed into one system do not interact."""
    n = len(structures)
    spacing = max(float(np.ptp(s.positions, axis=0).max()) for s in structures) + cutoff + 1.0
    side = int(np.ceil(n ** (1.0 / 3.0) - 1e-9))
    grid = np.array([(i, j, k) for i in range(side) for j in range(side) for k in range(side)][:n], dtype=float)
    return np.array([s.positions.mean(axis=0) for s in structures]) - spacing * (grid - grid.mean(axis=0))


class MetatomicPotential(Potential):
    """``MetatomicPotential("model.pt", dtype=None, device="cpu")``: energies, forces, virials of a metatomic model.

    ``dtype`` None uses the dtype the model declares; ``variant`` picks an energy
    output variant (``energy/VARIANT``). Raises :class:`PotentialError` (one line)
    for a missing package, a file that is not a metatomic model, a model without
    an energy output, or inputs the model needs that symbreak cannot give.
    """

    def __init__(
        self,
        path: str,
        dtype: str | None = None,
        device: str = "cpu",
        extensions: str | None = None,
        chunk_size: int = 16,
        max_atoms: int = 4096,
        variant: str | None = None,
        check_consistency: bool = False,
        pack: bool = True,
        name: str | None = None,
    ):
        try:
            import torch
            import vesin.metatomic  # noqa: F401  (the neighbour lists)
            from metatomic.torch import ModelEvaluationOptions, ModelOutput, load_atomistic_model
        except ImportError as err:
            raise PotentialError(f"metatomic models need metatomic-torch and vesin ({err}); {INSTALL_HINT}") from None
        if not os.path.isfile(path):
            raise PotentialError(f"metatomic model file not found: {path}")
        if extensions is not None and not os.path.isdir(extensions):
            raise PotentialError(f"metatomic extensions folder not found: {extensions}")
        try:
            model = load_atomistic_model(path, extensions_directory=extensions)
        except Exception as err:  # metatomic raises several kinds for a file it cannot use
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise PotentialError(
                f"{path} is not a usable metatomic model ({first}); export one with `mtt export` "
                "or metatomic's AtomisticModel.save, and pass extensions=DIR if it needs compiled extensions"
            ) from None
        capabilities = model.capabilities()
        energy_key = "energy" if variant is None else f"energy/{variant}"
        if energy_key not in capabilities.outputs:
            energies = sorted(k for k in capabilities.outputs if k == "energy" or k.startswith("energy/"))
            have = ", ".join(sorted(capabilities.outputs)) or "none"
            hint = f"; energy outputs: {', '.join(energies)}" if energies else ""
            raise PotentialError(
                f"metatomic model {path} has no '{energy_key}' output (its outputs: {have}){hint}; "
                "symbreak needs an energy to derive forces and virials"
            )
        unsupported = sorted(model.requested_inputs(use_new_names=True))
        if unsupported:
            raise PotentialError(
                f"metatomic model {path} requests inputs symbreak cannot provide: {', '.join(unsupported)}"
            )
        if dtype is not None and dtype not in _DTYPES:
            raise PotentialError(f"metatomic option dtype must be float32 or float64, got '{dtype}'")
        if check_consistency and dtype is not None and dtype != capabilities.dtype:
            # metatomic checks the systems against the dtype the model declares: the two cannot be combined
            raise PotentialError(
                f"metatomic model {path} declares {capabilities.dtype}: check_consistency=true checks inputs "
                f"against that dtype, so it cannot be combined with dtype={dtype}; drop one of the two options"
            )
        self.dtype_name = dtype or capabilities.dtype
        self.dtype = {"float32": torch.float32, "float64": torch.float64}[self.dtype_name]
        try:
            self.device = torch.device(device)
        except RuntimeError as err:
            raise PotentialError(f"metatomic option device: {err}") from None
        self.model = model.to(device=self.device, dtype=self.dtype) if self.dtype_name != capabilities.dtype else model.to(device=self.device)
        self.energy_key = energy_key
        self.check_consistency = check_consistency
        self.options = ModelEvaluationOptions(
            length_unit="angstrom",
            outputs={energy_key: ModelOutput(unit="eV", sample_kind="system")},
        )
        from vesin.metatomic import neighbor_lists_for_model

        # skin 0: every call brings new (rotated) geometries, a Verlet list would never be reused
        self._neighbor_lists = neighbor_lists_for_model("angstrom", self.model, check_consistency=check_consistency, skin=0.0)
        self.cutoff = float(capabilities.interaction_range)
        self.species = frozenset(int(t) for t in capabilities.atomic_types)
        # this class chunks by itself (systems_per_call for separate systems, max_atoms for packed ones):
        # wrappers hand over whole batches
        self.chunk_size = None
        self.systems_per_call = chunk_size
        self.max_atoms_per_call = max_atoms
        self.pack = (pack and math.isfinite(self.cutoff) and self.cutoff > 0
                     and capabilities.outputs[energy_key].sample_kind == "atom")
        self.atom_options = ModelEvaluationOptions(
            length_unit="angstrom", outputs={energy_key: ModelOutput(unit="eV", sample_kind="atom")},
        )
        self.path = path
        self.name = name or f"metatomic:{os.path.basename(path)}"

    @classmethod
    def from_spec(cls, spec) -> "MetatomicPotential":
        """``MetatomicPotential.from_spec(parse_potential_spec("metatomic:model.pt:dtype=float64"))``."""
        return cls(
            spec.path,
            dtype=spec.option("dtype"),
            device=spec.option("device", "cpu"),
            extensions=spec.option("extensions"),
            chunk_size=spec.int_option("chunk_size", 16),
            max_atoms=spec.int_option("max_atoms", 4096),
            variant=spec.option("variant"),
            check_consistency=spec.flag_option("check_consistency", False),
            pack=spec.flag_option("pack", True),
            name=spec.label,
        )

    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        """``pot.compute([structure, ...])``: chunked multi-system model calls, one backward pass per chunk."""
        for s in structures:
            self.check_species(s.numbers)
        if self.pack and structures and all(s.cell is None for s in structures):
            parts = [self._packed(chunk) for chunk in split_batch(structures, None, self.max_atoms_per_call)]
        else:
            parts = [self._chunk(chunk) for chunk in split_batch(structures, self.systems_per_call, self.max_atoms_per_call)]
        if not parts:
            return Evaluation(np.zeros(0), [], np.zeros((0, 3, 3)), [])
        return Evaluation.concatenate(parts)

    def _chunk(self, structures: Sequence[Structure]) -> Evaluation:
        import torch
        from metatomic.torch import System

        leaves, strains, systems = [], [], []
        for s in structures:
            positions = torch.tensor(s.positions, dtype=self.dtype, device=self.device, requires_grad=True)
            strain = torch.eye(3, dtype=self.dtype, device=self.device, requires_grad=True)
            if s.cell is None:
                cell = torch.zeros((3, 3), dtype=self.dtype, device=self.device)
                pbc = torch.zeros(3, dtype=torch.bool, device=self.device)
            else:
                cell = torch.tensor(s.cell, dtype=self.dtype, device=self.device)
                pbc = torch.ones(3, dtype=torch.bool, device=self.device)
            systems.append(System(
                types=torch.tensor(s.numbers, dtype=torch.int32, device=self.device),
                positions=positions @ strain,
                cell=cell @ strain,
                pbc=pbc,
            ))
            leaves.append(positions)
            strains.append(strain)
        for calculator in self._neighbor_lists:
            calculator.add_neighbor_list(systems)
        output = self.model(systems, self.options, check_consistency=self.check_consistency)[self.energy_key].block()
        values = output.values.reshape(-1)
        order = output.samples.column("system").to(torch.long)
        energies = torch.zeros(len(structures), dtype=values.dtype, device=values.device).index_add(0, order, values)
        return self._backward(structures, energies, leaves, strains)

    def _packed(self, structures: Sequence[Structure]) -> Evaluation:
        """Isolated structures as one system, each copy centred on its own grid point, farther apart than the range.

        The copies' positions and strains are two stacked autograd leaves (n, k, 3) and (n, 3, 3) when every copy
        has k atoms (the rotated copies of one structure): a few batched tensor operations instead of a few per copy.
        """
        import torch
        from metatomic.torch import System

        n = len(structures)
        centres = packing_shifts(structures, self.cutoff)
        as_tensor = partial(torch.tensor, dtype=self.dtype, device=self.device)
        if len({s.n_atoms for s in structures}) == 1:
            positions = as_tensor(np.stack([s.positions for s in structures]), requires_grad=True)
            strain = torch.eye(3, dtype=self.dtype, device=self.device).repeat(n, 1, 1).requires_grad_(True)
            placed = (torch.bmm(positions, strain) - as_tensor(centres)[:, None, :]).reshape(-1, 3)
            leaves, strains, stacked = [positions], [strain], True
        else:
            stacked = False
            leaves = [as_tensor(s.positions, requires_grad=True) for s in structures]
            strains = [torch.eye(3, dtype=self.dtype, device=self.device, requires_grad=True) for _ in structures]
            placed = torch.cat([p @ e - as_tensor(c) for p, e, c in zip(leaves, strains, centres)])
        system = System(
            types=torch.tensor(np.concatenate([s.numbers for s in structures]), dtype=torch.int32, device=self.device),
            positions=placed,
            cell=torch.zeros((3, 3), dtype=self.dtype, device=self.device),
            pbc=torch.zeros(3, dtype=torch.bool, device=self.device),
        )
        for calculator in self._neighbor_lists:
            calculator.add_neighbor_list([system])
        output = self.model([system], self.atom_options, check_consistency=self.check_consistency)[self.energy_key].block()
        owner = torch.as_tensor(np.repeat(np.arange(n), [s.n_atoms for s in structures]), device=self.device)
        atoms = output.samples.column("atom").to(torch.long)
        values = output.values.reshape(-1)
        energies = torch.zeros(n, dtype=values.dtype, device=values.device).index_add(0, owner[atoms], values)
        return self._backward(structures, energies, leaves, strains, stacked)

    def _backward(self, structures, energies, leaves, strains, stacked: bool = False) -> Evaluation:
        """Forces -dE/dr and virials W = -(dE/dS)^T of every structure from one backward pass.

        ``leaves`` and ``strains`` hold one tensor per structure, or with ``stacked`` one tensor (n, k, 3) / (n, 3, 3)
        each.
        """
        import torch

        grads = torch.autograd.grad(energies.sum(), leaves + strains, allow_unused=True)
        n = len(structures)
        arrays = [None if g is None else g.detach().cpu().double().numpy() for g in grads]
        if stacked:  # one (n, ...) array each: its rows are the structures'
            arrays = [[None] * n if a is None else list(a) for a in arrays]
        pos, strain = (arrays[0], arrays[1]) if stacked else (arrays[:n], arrays[n:])
        forces, virials = [], np.zeros((n, 3, 3))
        for b, s in enumerate(structures):
            forces.append(np.zeros((s.n_atoms, 3)) if pos[b] is None else -pos[b])
            if strain[b] is not None:
                virials[b] = -strain[b].T
        return Evaluation(energies.detach().cpu().double().numpy(), forces, virials, [{} for _ in structures])

    def describe(self) -> str:
        return f"{self.name} ({self.dtype_name}, cutoff {self.cutoff:g} A)"
