"""How ranks join and how long rank 0 waits for them: the options of a distributed potential.

    options = RankOptions(backend="gloo", join_timeout=300, answer_timeout=300)
    options.answer_deadline(own_seconds=2.5)     # 300.0: rank 0 waits this long for the others' shares
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..core.errors import InputError

Backend = Literal["auto", "gloo", "nccl"]
BACKENDS = ("auto", "gloo", "nccl")
#: a rank that waits for rank 0's next call waits this long (i-PI may pause between calls for any time)
IDLE_SECONDS = 365 * 24 * 3600.0


@dataclass(frozen=True)
class RankOptions:
    """``backend``: gloo (CPU), nccl (every rank its own GPU) or auto (nccl when the potential runs on CUDA and
    nccl is there, else gloo). ``join_timeout``: seconds every rank may take to start, load its potential and
    join. ``answer_timeout`` and ``answer_factor``: rank 0 waits for the other ranks' shares at least
    ``answer_timeout`` seconds and at least ``answer_factor`` times as long as its own share took, so that a
    slow model never trips it; a rank silent for longer hangs, and ends the run."""

    backend: Backend = "auto"
    join_timeout: float = 300.0
    answer_timeout: float = 300.0
    answer_factor: float = 10.0

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise InputError(f"backend '{self.backend}' is none of {', '.join(BACKENDS)}")
        for name in ("join_timeout", "answer_timeout", "answer_factor"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)}")

    def answer_deadline(self, own_seconds: float) -> float:
        """Seconds rank 0 waits for the others once its own share (``own_seconds``) is done."""
        return max(self.answer_timeout, self.answer_factor * own_seconds)


def wants_cuda(spec: str) -> bool:
    """Whether the potential spec asks for a CUDA device (device=cuda... of a metatomic model, default or a checkpoint)."""
    from ..potentials.spec import parse_potential_spec

    try:
        parsed = parse_potential_spec(spec)
    except InputError:
        return False
    return str(parsed.option("device", "cpu")).startswith("cuda")


def choose_backend(requested: Backend, spec: str) -> str:
    """gloo or nccl: ``requested``, or for auto nccl when ``spec`` runs on CUDA and nccl and a GPU are there."""
    import torch
    import torch.distributed as dist

    if requested != "auto":
        if requested == "nccl" and not (dist.is_nccl_available() and torch.cuda.is_available()):
            raise InputError("--backend nccl needs a CUDA build of torch and a GPU on every rank: use gloo")
        return requested
    if wants_cuda(spec) and torch.cuda.is_available() and dist.is_nccl_available():
        return "nccl"
    return "gloo"


__all__ = ["BACKENDS", "IDLE_SECONDS", "Backend", "RankOptions", "choose_backend", "wants_cuda"]
