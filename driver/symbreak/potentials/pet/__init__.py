"""A small PET-style point-edge transformer, approximately rotation invariant by training.

    from symbreak.potentials.pet import PETHypers, PETModel, PETPotential
    pot = PETPotential(PETModel(PETHypers(species=(1, 8))), dtype="float64")

One concept per file: ``neighbors`` (neighbour list, edge vectors), ``cutoff``
(smooth switch), ``attention`` (hand-written attention, transformer layer),
``batch`` (several structures as one padded graph), ``model`` (the network),
``potential`` (the batched Potential interface). Checkpoints:
:mod:`symbreak.potentials.pet_checkpoint`.
"""

from .batch import GraphBatch, Topology, collate, topology
from .model import PETHypers, PETModel
from .potential import PETPotential

__all__ = ["GraphBatch", "Topology", "collate", "topology", "PETHypers", "PETModel", "PETPotential"]
