"""A small PET-style point-edge transformer: approximately (not exactly) rotation invariant.

    model = PETModel(PETHypers(species=(1, 8)))
    energies, forces, virials = model.compute(batch)          # batch from pet.batch.collate

Each atom is a sequence of tokens: itself (slot 0) and one token per
neighbour within the cutoff, embedded from the *raw Cartesian* edge vector,
its length and both species. Transformer layers mix the tokens of one atom;
between message-passing blocks the output token of edge i->j becomes part of
the input of edge j->i (PET's message passing). Per-atom energies are summed
over blocks from the central token and the cutoff-weighted edge tokens, scaled,
and added to a per-species baseline. Nothing constrains the model to be
invariant: it learns invariance from rotated training data, which is what the
project measures. Forces and virials come from one autograd pass through the
edge vectors: W_ab = -sum_e dE/dr_e,a r_e,b.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from ...core.errors import InputError
from .attention import TransformerLayer, log_weights
from .batch import GraphBatch
from .cutoff import DEFAULT_CUTOFF, DEFAULT_WIDTH, cutoff_function
from .neighbors import edge_vectors


@dataclass(frozen=True)
class PETHypers:
    """PETHypers(species=(1, 8), ...): architecture hyperparameters with the defaults used for the shipped model."""

    #: atomic numbers the model knows, in the order of its embeddings
    species: tuple[int, ...] = (1, 8)
    #: neighbour cutoff in Angstrom (the study's PET: 4.0)
    cutoff: float = DEFAULT_CUTOFF
    #: width of the cosine switch below the cutoff, Angstrom (the study's: 0.2)
    cutoff_width: float = DEFAULT_WIDTH
    #: token width (the study's: 128; halved for 2-core MD)
    d_model: int = 64
    #: attention heads
    n_heads: int = 4
    #: message-passing blocks (the study's: 4)
    n_blocks: int = 2
    #: transformer layers per block (the study's: 2)
    n_layers: int = 1
    #: hidden width of the transformer feed-forward MLPs
    d_feedforward: int = 128
    #: Gaussian radial features of the edge length, next to the raw vector
    n_radial: int = 8

    def to_dict(self) -> dict:
        """hypers.to_dict(): plain JSON-compatible dict (species as a list)."""
        d = asdict(self)
        d["species"] = list(self.species)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> "PETHypers":
        """PETHypers.from_dict(d): inverse of to_dict; ValueError naming unknown or invalid keys."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"unknown PET hyperparameters {unknown}; known: {sorted(known)}")
        data = dict(data)
        if "species" in data:
            data["species"] = tuple(int(z) for z in data["species"])
        hypers = cls(**data)
        hypers.validate()
        return hypers

    def validate(self) -> None:
        """hypers.validate(): ValueError naming the first inconsistent hyperparameter."""
        if not self.species or len(set(self.species)) != len(self.species):
            raise InputError(f"species must be distinct atomic numbers, got {self.species}")
        if not 0 < self.cutoff_width <= self.cutoff:
            raise InputError(f"cutoff_width must be in (0, cutoff], got {self.cutoff_width}")
        if self.d_model % self.n_heads:
            raise InputError(f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")
        if min(self.n_blocks, self.n_layers, self.d_model, self.d_feedforward, self.n_radial) < 1:
            raise InputError("n_blocks, n_layers, d_model, d_feedforward and n_radial must be >= 1")


def _mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.SiLU(), nn.Linear(d_hidden, d_out))


class _Block(nn.Module):
    """One message-passing block: token embedding, transformer layers, energy heads."""

    def __init__(self, h: PETHypers, first: bool):
        super().__init__()
        d = h.d_model
        self.edge_embedding = _mlp(4 + h.n_radial, d, d)
        self.neighbor_species = nn.Embedding(len(h.species), d)
        self.center_species = nn.Embedding(len(h.species), d)
        # token input = sum of embeddings (cheaper than an MLP on their concatenation)
        self.message = None if first else nn.Linear(d, d)
        self.layers = nn.ModuleList(TransformerLayer(d, h.n_heads, h.d_feedforward) for _ in range(h.n_layers))
        self.center_head = _mlp(d, d, 1)
        self.edge_head = _mlp(d, d, 1)


class PETModel(nn.Module):
    """model = PETModel(hypers): energies, forces, virials of a GraphBatch via ``model.compute(batch)``."""

    def __init__(self, hypers: PETHypers):
        super().__init__()
        hypers.validate()
        self.hypers = hypers
        n_species = len(hypers.species)
        self.blocks = nn.ModuleList(_Block(hypers, first=b == 0) for b in range(hypers.n_blocks))
        self.center_embedding = nn.Embedding(n_species, hypers.d_model)
        centers = torch.linspace(0.5, hypers.cutoff, hypers.n_radial)
        self.register_buffer("radial_centers", centers)
        # fitted from data before training (pet.train): E = baseline[Z] + scale * network
        self.register_buffer("baseline", torch.zeros(n_species))
        self.register_buffer("energy_scale", torch.ones(()))
        # species embeddings at the scale of the geometric features: with torch's default
        # N(0, 1) they swamp the edge vectors and force training stalls (measured on toy water)
        for module in self.modules():
            if isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=0.1)

    def edge_features(self, vectors: torch.Tensor) -> torch.Tensor:
        """features (E, 4 + n_radial): raw vector / cutoff, length / cutoff, Gaussian radial functions."""
        rc = self.hypers.cutoff
        length = vectors.norm(dim=-1, keepdim=True)
        sigma = rc / self.hypers.n_radial
        radial = torch.exp(-(((length - self.radial_centers) / sigma) ** 2))
        return torch.cat([vectors / rc, length / rc, radial], dim=-1)

    def _block_outputs(self, batch: GraphBatch, vectors: torch.Tensor):
        """(block, center (N, d), messages (E, d), fc (E,)) for every message-passing block, in order."""
        h = self.hypers
        n, t = batch.n_total_atoms, batch.n_slots
        fc = cutoff_function(vectors.norm(dim=-1), h.cutoff, h.cutoff_width)
        flat_edges = batch.edge_i * t + batch.edge_slot
        flat_centers = torch.arange(n, device=batch.edge_i.device) * t
        flat = torch.cat([flat_centers, flat_edges])
        weights = vectors.new_zeros(n * t).index_copy(0, flat, torch.cat([vectors.new_ones(n), fc])).view(n, t)
        log_w = log_weights(weights)
        features = self.edge_features(vectors)
        z_i, z_j = batch.species[batch.edge_i], batch.species[batch.edge_j]

        center = self.center_embedding(batch.species)
        messages = None
        for block in self.blocks:
            edges = block.edge_embedding(features) + block.neighbor_species(z_j) + block.center_species(z_i)
            if messages is not None:
                edges = edges + block.message(messages[batch.reverse])
            tokens = vectors.new_zeros(n * t, h.d_model).index_copy(0, flat, torch.cat([center, edges]))
            tokens = tokens.view(n, t, h.d_model)
            for layer in block.layers:
                tokens = layer(tokens, log_w)
            tokens = tokens.view(n * t, h.d_model)
            center, messages = tokens[flat_centers], tokens[flat_edges]
            yield block, center, messages, fc

    def atomic_energies(self, batch: GraphBatch, vectors: torch.Tensor) -> torch.Tensor:
        """energies (N,) of every atom in the batch, given its edge vectors (E, 3)."""
        energy = vectors.new_zeros(batch.n_total_atoms)
        for block, center, messages, fc in self._block_outputs(batch, vectors):
            edge_energy = (fc * block.edge_head(messages).squeeze(-1))
            energy = energy + block.center_head(center).squeeze(-1)
            energy = energy.index_add(0, batch.edge_i, edge_energy)
        return self.baseline[batch.species] + self.energy_scale * energy

    def readout_heads(self) -> list[nn.Linear]:
        """The last layers of the energy heads (centre and edge head of every block), in readout_features' order."""
        return [head[-1] for block in self.blocks for head in (block.center_head, block.edge_head)]

    def readout_features(self, batch: GraphBatch, vectors: torch.Tensor) -> torch.Tensor:
        """features (N, P) with atomic_energies = baseline[Z] + energy_scale * features @ readout_vector().

        The network energy is linear in the last layers of its energy heads: P =
        2 n_blocks (d_model + 1) columns, the hidden activations entering those layers
        (edge heads: summed over the atom's edges, weighted by the cutoff function)
        and a 1 (edges: the summed cutoff weights) for each bias.
        """
        n = batch.n_total_atoms
        columns = []
        for block, center, messages, fc in self._block_outputs(batch, vectors):
            hidden_center = block.center_head[:-1](center)
            hidden_edges = torch.cat([block.edge_head[:-1](messages), messages.new_ones(len(fc), 1)], 1) * fc[:, None]
            columns.append(torch.cat([hidden_center, center.new_ones(n, 1)], 1))
            columns.append(vectors.new_zeros(n, hidden_edges.shape[1]).index_add(0, batch.edge_i, hidden_edges))
        return torch.cat(columns, 1)

    def readout_vector(self) -> torch.Tensor:
        """w (P,): the weights and bias of every readout head, concatenated (see readout_features)."""
        return torch.cat([torch.cat([layer.weight[0], layer.bias]) for layer in self.readout_heads()]).detach()

    def set_readout_vector(self, w: torch.Tensor) -> None:
        """model.set_readout_vector(w): the inverse of readout_vector, in place."""
        with torch.no_grad():
            offset = 0
            for layer in self.readout_heads():
                size = layer.weight.shape[1]
                layer.weight[0].copy_(w[offset:offset + size])
                layer.bias.copy_(w[offset + size:offset + size + 1])
                offset += size + 1

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        """energies (B,) = model(batch); differentiable in batch.positions and batch.cells."""
        vectors = edge_vectors(batch.positions, batch.cells, batch.edge_i, batch.edge_j, batch.shifts, batch.edge_structure)
        atomic = self.atomic_energies(batch, vectors)
        return atomic.new_zeros(batch.n_structures).index_add(0, batch.atom_structure, atomic)

    def compute(self, batch: GraphBatch, create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """energies (B,), forces (N, 3), virials (B, 3, 3) = model.compute(batch, create_graph=False).

        ``create_graph=True`` keeps the graph of the forces, for a force loss.
        """
        vectors = edge_vectors(batch.positions, batch.cells, batch.edge_i, batch.edge_j, batch.shifts, batch.edge_structure)
        if not vectors.requires_grad:
            vectors.requires_grad_(True)
        atomic = self.atomic_energies(batch, vectors)
        energies = atomic.new_zeros(batch.n_structures).index_add(0, batch.atom_structure, atomic)
        (grad,) = torch.autograd.grad(energies.sum(), vectors, create_graph=create_graph, allow_unused=True)
        if grad is None:
            grad = torch.zeros_like(vectors)
        # E depends on positions only through r_e = r_j - r_i + S cell
        forces = grad.new_zeros(batch.n_total_atoms, 3).index_add(0, batch.edge_i, grad).index_add(0, batch.edge_j, -grad)
        outer = grad[:, :, None] * vectors[:, None, :]
        virials = -outer.new_zeros(batch.n_structures, 3, 3).index_add(0, batch.edge_structure, outer)
        return energies, forces, virials
