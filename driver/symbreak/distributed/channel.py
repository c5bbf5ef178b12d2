"""Point-to-point tensor messages between ranks, every wait bounded in time and every failure naming the peer.

    channel = Channel(torch.device("cpu"))                  # gloo; Channel(torch.device("cuda", 0)) for nccl
    pending = channel.send(tensor, peer=1)
    channel.wait(pending, seconds=60)                       # LinkError(peer=1, ...) on a dead or silent peer

Sends and receives are non-blocking (``isend``/``irecv``) so that rank 0 can
post every share and every result buffer before it evaluates its own share;
:meth:`Channel.wait` then bounds each one in time. Under gloo a peer that dies
breaks its connection at once (the wait fails within milliseconds), a peer
that hangs lets the wait run out; either way the group is unusable afterwards
(gloo closes its connections), which the caller turns into the end of the run.
With nccl the tensors travel through ``device`` (each rank's own GPU).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import torch
import torch.distributed as dist


class LinkError(Exception):
    """The connection to ``peer`` failed (it died) or stayed silent past a deadline (``timed_out``)."""

    def __init__(self, peer: int, timed_out: bool, detail: str):
        super().__init__(detail)
        self.peer = peer
        self.timed_out = timed_out
        self.detail = detail


@dataclass
class Pending:
    """One posted send or receive: its work handle, the peer, and where a received device tensor is copied back."""

    work: object
    peer: int
    target: torch.Tensor | None = None
    staged: torch.Tensor | None = None


def _timed_out(message: str) -> bool:
    return "timed out" in message.lower() or "timeout" in message.lower()


def _clean(message: str) -> str:
    """gloo's message without its source location and advice: 'Connection reset by peer'."""
    line = (message.strip().splitlines() or [""])[0]
    line = re.sub(r"^\[[^\]]*\]\s*", "", line)  # [/path/to/pair.cc:537]
    return line.split(". This is typically")[0].rstrip(". ")


class Channel:
    """Sends and receives tensors to and from other ranks of the default process group."""

    def __init__(self, device: torch.device | None = None):
        self.device = device if device is not None and device.type != "cpu" else None

    def send(self, tensor: torch.Tensor, peer: int) -> Pending:
        staged = tensor.to(self.device) if self.device is not None else tensor.contiguous()
        try:
            return Pending(dist.isend(staged, dst=peer), peer, staged=staged)
        except RuntimeError as err:
            raise LinkError(peer, _timed_out(str(err)), _clean(str(err))) from None

    def recv(self, tensor: torch.Tensor, peer: int) -> Pending:
        staged = torch.empty_like(tensor, device=self.device) if self.device is not None else tensor
        try:
            return Pending(dist.irecv(staged, src=peer), peer, target=tensor, staged=staged)
        except RuntimeError as err:
            raise LinkError(peer, _timed_out(str(err)), _clean(str(err))) from None

    def wait(self, pending: Pending, seconds: float) -> None:
        """Block until ``pending`` completes, at most ``seconds``; LinkError naming its peer otherwise."""
        try:
            done = pending.work.wait(timeout=datetime.timedelta(seconds=max(seconds, 0.001)))
        except RuntimeError as err:
            timed_out = _timed_out(str(err))
            detail = f"silent for {seconds:.3g} s" if timed_out else _clean(str(err))
            raise LinkError(pending.peer, timed_out, detail) from None
        if done is False:
            raise LinkError(pending.peer, True, f"no answer within {seconds:g} s")
        if pending.target is not None and pending.staged is not pending.target:
            pending.target.copy_(pending.staged.cpu())


__all__ = ["Channel", "LinkError", "Pending"]
