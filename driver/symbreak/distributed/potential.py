"""Rank 0's potential: every call's batch shared over the ranks of a torch.distributed group, results in order.

    potential = start_local_ranks("default", processes=2)       # or join_launch(...) under torchrun / srun
    averaged = parse_strategy("2i", potential)                  # the strategy, diagnostics, random stream: rank 0
    averaged.compute([structure]); potential.close()            # QUIT to every rank; children stopped

A :class:`DistributedPotential` is a potential like any other: a strategy
hands it the whole batch of one call (every rotated copy of every bead); it
cuts the batch into contiguous shares of about equal atom counts
(:func:`~symbreak.distributed.shares.share_bounds`), sends each other rank its
share, evaluates the first share itself meanwhile, and concatenates the
results in order. Every rank evaluates its share exactly as the serial server
would (the model's own chunking), so the average equals the serial one to the
model's float precision.

Failures are one line naming the rank: a model error on a rank comes back as
its message (the group stays usable, the next call works); a rank that dies
or stays silent past :meth:`RankOptions.answer_deadline` ends the group (every
later call raises the same error).
"""

from __future__ import annotations

import time
from typing import Sequence

from ..core.errors import PeerError
from ..core.structure import Evaluation, Structure
from ..potentials.base import Potential
from ..symmetry.strategies import evaluate_chunked
from .channel import LinkError
from .group import RankGroup
from .messages import RankFailure, pack_request, result_buffer, unpack_result
from .options import RankOptions
from .shares import share_bounds


class DistributedPotential(Potential):
    """``local`` on rank 0 and the same potential on every other rank of ``group`` share each batch."""

    chunk_size = None  # the whole batch of a call arrives at once; every rank chunks its own share
    max_atoms_per_call = None

    def __init__(self, local: Potential, group: RankGroup, options: RankOptions = RankOptions()):
        self.local = local
        self.group = group
        self.options = options
        self.name = local.name
        self.species = local.species
        self.shares_sent = 0
        self.broken: Exception | None = None
        self.in_flight = False
        self.closed = False

    @property
    def ranks(self) -> int:
        return self.group.layout.world_size

    def describe(self) -> str:
        return f"{self.local.describe()} on {self.ranks} ranks ({self.group.backend})"

    def compute(self, structures: Sequence[Structure]) -> Evaluation:
        if self.broken is not None:
            raise self.broken
        if self.closed:
            raise PeerError("the distributed potential is closed: its ranks are gone")
        bounds = share_bounds([s.n_atoms for s in structures], self.ranks)
        channel = self.group.channel
        self.in_flight = True  # until every message of this call is exchanged: closing mid-call sends no QUIT
        sends, receives, own, own_error = [], [], None, None
        try:
            for rank, (a, b) in enumerate(bounds[1:], start=1):
                share = structures[a:b]
                sends += [channel.send(tensor, rank) for tensor in pack_request(share)]
                buffer = result_buffer(share)
                receives.append((rank, share, buffer, channel.recv(buffer, rank)))
        except LinkError as err:
            self.broken = self.group.link_error(err, "take its share")
            raise self.broken from None
        started = time.monotonic()
        try:
            own = evaluate_chunked(self.local, structures[bounds[0][0]:bounds[0][1]], self.local.chunk_size)
        except Exception as err:  # the other shares are collected first, so that every rank stays in step
            own_error = err
        deadline = time.monotonic() + self.options.answer_deadline(time.monotonic() - started)
        parts, failure = [], None
        for pending in sends:
            self._wait(pending, deadline, "take its share")
        for rank, share, buffer, pending in receives:
            self._wait(pending, deadline, "send its share's results")
            try:
                parts.append(unpack_result(buffer, share))
            except RankFailure as err:
                failure = failure or PeerError(f"{self.group.name(rank)}: {err}")
        self.in_flight = False
        if own_error is not None:
            raise own_error
        if failure is not None:
            raise failure
        self.shares_sent += len(receives)
        return Evaluation.concatenate([own, *parts])

    def _wait(self, pending, deadline: float, doing: str) -> None:
        try:
            self.group.channel.wait(pending, deadline - time.monotonic())
        except LinkError as err:
            self.broken = self.group.link_error(err, doing)
            raise self.broken from None

    def close(self) -> None:
        """Tell every rank to quit and leave the group (after a broken link: stop the local ranks at once)."""
        if self.closed:
            return
        self.closed = True
        self.group.close(quit=self.broken is None and not self.in_flight)
        self.local.close()


__all__ = ["DistributedPotential"]
