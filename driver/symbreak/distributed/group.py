"""The ranks of one launch as a torch.distributed process group: joining, the greeting that checks them, leaving.

    group = RankGroup.join(layout, backend="gloo", join_timeout=300)           # every rank
    group.greet_as_root(Identity("toy", "0.1.0", "node1"), 300)                 # rank 0: InputError names a rank
    group.greet_as_rank(Identity("toy", "0.1.0", "node2"), 300)                 # the others: False if rank 0 refused
    group.close(quit=True)                                                      # rank 0 sends QUIT, all leave

A rank joins after loading its potential, so that a slow load never counts
against a call; it greets rank 0 with the potential spec it loaded and its
symbreak version, and rank 0 refuses a launch whose ranks disagree (one line
naming the rank and its host) before any call is served.
"""

from __future__ import annotations

import datetime
import socket
from dataclasses import dataclass, field

import torch

from ..core.errors import DeadlineError, InputError, PeerError, ProcessError
from .channel import Channel, LinkError
from .messages import QUIT, Identity, header, identity_buffer
from .ranks import RankLayout
from .spawn import JOINED, LocalRanks

#: seconds rank 0 waits for each rank to take its QUIT before stopping it
QUIT_SECONDS = 10.0


def this_host() -> str:
    return socket.gethostname()


@dataclass
class RankGroup:
    """This process's membership of the group: its layout, its channel, what it knows of the others."""

    layout: RankLayout
    backend: str
    channel: Channel
    owns_group: bool = True
    children: LocalRanks | None = None
    hosts: dict[int, str] = field(default_factory=dict)

    @classmethod
    def join(cls, layout: RankLayout, backend: str, join_timeout: float, children: LocalRanks | None = None) -> "RankGroup":
        """Join the default process group (or use the one the caller's script initialised already)."""
        import torch.distributed as dist

        device = None
        if backend == "nccl":
            device = torch.device("cuda", torch.cuda.current_device())
        if dist.is_initialized():
            if dist.get_world_size() != layout.world_size or dist.get_rank() != layout.rank:
                raise InputError(f"a process group of {dist.get_world_size()} ranks is initialised already, "
                                 f"the launcher says {layout.world_size}")
            return cls(layout, dist.get_backend(), Channel(device), owns_group=False, children=children)
        timeout = datetime.timedelta(seconds=join_timeout)
        try:
            if children is not None:
                store = children.store
            else:
                store, _, _ = next(dist.rendezvous("env://", rank=layout.rank, world_size=layout.world_size,
                                                   timeout=timeout))
                store.set(JOINED.format(rank=layout.rank), "1")
            dist.init_process_group(backend, store=store, rank=layout.rank, world_size=layout.world_size,
                                    timeout=timeout)
        except (RuntimeError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise PeerError(f"rank {layout.rank} of {layout.world_size} could not join the group at "
                            f"{layout.master_addr}:{layout.master_port} ({first})") from None
        return cls(layout, backend, Channel(device), children=children)

    def name(self, rank: int) -> str:
        """How messages name a rank: 'rank 2 (node2)', or with pid and exit status for a local child."""
        if self.children is not None and 1 <= rank < self.children.world_size:
            return self.children.describe(rank)
        host = self.hosts.get(rank)
        return f"rank {rank} ({host})" if host else f"rank {rank}"

    def link_error(self, err: LinkError, doing: str) -> Exception:
        """The one-line project error for a failed link to a rank (which the caller raises)."""
        if err.timed_out:
            return DeadlineError(f"{self.name(err.peer)} did not {doing} in time ({err.detail}): it hangs or its "
                                 "machine is overloaded; --rank-timeout raises the limit")
        return PeerError(f"{self.name(err.peer)} stopped: its connection broke while it was to {doing} "
                         f"({err.detail}); its own messages say why")

    def greet_as_root(self, own: Identity, timeout: float) -> None:
        """Collect every rank's greeting, check it against ``own``, tell every rank to go on or to stop."""
        pending = []
        for rank in range(1, self.layout.world_size):
            buffer = identity_buffer()
            pending.append((rank, buffer, self.channel.recv(buffer, rank)))
        problem = None
        for rank, buffer, work in pending:
            try:
                self.channel.wait(work, timeout)
            except LinkError as err:
                raise self.link_error(err, "greet rank 0") from None
            other = Identity.unpack(buffer)
            self.hosts[rank] = other.host
            if problem is None:
                problem = mismatch(rank, other, own, self.name(rank))
        verdict = torch.tensor([0 if problem else 1], dtype=torch.int64)
        sends = [self.channel.send(verdict, rank) for rank in range(1, self.layout.world_size)]
        for work in sends:
            try:
                self.channel.wait(work, timeout)
            except LinkError as err:
                raise self.link_error(err, "hear that the launch goes on") from None
        if problem is not None:
            raise problem

    def greet_as_rank(self, own: Identity, timeout: float) -> bool:
        """Send this rank's greeting to rank 0; whether rank 0 accepted the launch (LinkError if rank 0 went away)."""
        self.channel.wait(self.channel.send(own.pack(), 0), timeout)
        verdict = torch.zeros(1, dtype=torch.int64)
        self.channel.wait(self.channel.recv(verdict, 0), timeout)
        return bool(verdict[0] == 1)

    def close(self, quit: bool) -> None:
        """Rank 0: with ``quit``, tell every rank to leave, then leave the group and stop local children."""
        import torch.distributed as dist

        try:
            if quit and self.layout.is_root:
                sends = []
                for rank in range(1, self.layout.world_size):
                    try:
                        sends.append(self.channel.send(header(QUIT), rank))
                    except LinkError:
                        pass
                for work in sends:
                    try:
                        self.channel.wait(work, QUIT_SECONDS)
                    except LinkError:
                        pass
            if self.owns_group and dist.is_initialized():
                dist.destroy_process_group()
        finally:
            if self.children is not None:
                self.children.stop(grace=QUIT_SECONDS if quit else 0.0)


def mismatch(rank: int, other: Identity, own: Identity, name: str) -> Exception | None:
    """The error for a rank whose greeting disagrees with rank 0's, or None."""
    if other.failure:
        return ProcessError(f"{name} could not load its potential: {other.failure}")
    if other.version != own.version:
        return InputError(f"{name} runs symbreak {other.version}, rank 0 {own.version}: install the same version "
                          "on every machine")
    if other.spec != own.spec:
        return InputError(f"{name} loaded the potential '{other.spec}', rank 0 '{own.spec}': start every rank "
                          "with the same --potential")
    return None


__all__ = ["QUIT_SECONDS", "RankGroup", "mismatch", "this_host"]
