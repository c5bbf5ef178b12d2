"""Parallel averaging on torch.distributed: one call's rotated copies (and beads) shared over ranks and GPUs.

    from symbreak.distributed import start_local_ranks
    potential = start_local_ranks("toy", processes=2)          # this process and one child, gloo on CPU
    averaged = parse_strategy("2i", potential)                 # symbreak.symmetry.strategies
    averaged.compute([structure]); potential.close()

Rank 0 is the i-PI client (`symbreak serve`), the ASE calculator or the
in-process PES; the other ranks evaluate contiguous shares of every batch
(:mod:`.potential`, :mod:`.follower`). Ranks come from `symbreak serve
--workers K` on one machine (:mod:`.spawn`) or from torchrun / srun on many
(:mod:`.ranks`, :func:`join_launch`). Messages are plain tensors
(:mod:`.messages`), every wait is bounded (:mod:`.channel`, :mod:`.options`).
"""

from .launch import join_as_root, join_launch, start_local_ranks
from .options import BACKENDS, RankOptions
from .potential import DistributedPotential
from .ranks import RankLayout, layout_from_env, this_layout
from .shares import share_bounds

__all__ = ["BACKENDS", "DistributedPotential", "RankLayout", "RankOptions", "join_as_root", "join_launch",
           "layout_from_env", "share_bounds", "start_local_ranks", "this_layout"]
