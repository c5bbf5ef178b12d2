"""Which rank this process is: read from the launcher's environment (torchrun, srun, or `--workers`' own children).

    layout = layout_from_env(os.environ)       # None: no launcher, a process of its own
    if layout is not None and layout.rank != 0:
        ...                                     # evaluate shares for rank 0 instead of talking to i-PI

torchrun (and `python -m torch.distributed.run`) sets RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR and MASTER_PORT; srun sets SLURM_PROCID, SLURM_NTASKS
and SLURM_LOCALID, and the job script exports MASTER_ADDR and MASTER_PORT (the
first node and a free port). Without MASTER_ADDR and MASTER_PORT no launch is
assumed: a `symbreak run` inside a Slurm allocation starts ordinary servers.
`symbreak serve --workers K` starts its K-1 children with the torchrun
variables plus SYMBREAK_PARENT_PID, so that a child ends when the server does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, Mapping

from ..core.errors import InputError

Launcher = Literal["torchrun", "srun", "spawn"]

#: the variable `--workers` sets in its children: the server's pid (the child ends when that process is gone)
PARENT_PID = "SYMBREAK_PARENT_PID"


@dataclass(frozen=True)
class RankLayout:
    """This process's place in a launch: its rank among ``world_size``, its rank on its node, the store's address."""

    rank: int
    world_size: int
    local_rank: int
    master_addr: str
    master_port: int
    launcher: Launcher

    @property
    def is_root(self) -> bool:
        """Rank 0: the one that talks to i-PI (or is the ASE calculator) and gathers the results."""
        return self.rank == 0

    def environment(self) -> dict[str, str]:
        """The torchrun variables of this layout (what `--workers` gives each child)."""
        return {"RANK": str(self.rank), "WORLD_SIZE": str(self.world_size), "LOCAL_RANK": str(self.local_rank),
                "LOCAL_WORLD_SIZE": str(self.world_size), "MASTER_ADDR": self.master_addr,
                "MASTER_PORT": str(self.master_port)}


def _integer(env: Mapping[str, str], name: str) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise InputError(f"the launcher's {name}={env[name]!r} is not an integer") from None


def layout_from_env(env: Mapping[str, str]) -> RankLayout | None:
    """Usage: layout_from_env(os.environ) -> this process's RankLayout under torchrun, srun or --workers; None outside.

    A launch of one process (WORLD_SIZE=1) is a layout too: rank 0 of 1.
    """
    if "MASTER_ADDR" not in env or "MASTER_PORT" not in env:
        return None
    if "RANK" in env and "WORLD_SIZE" in env:
        rank, world = _integer(env, "RANK"), _integer(env, "WORLD_SIZE")
        local = _integer(env, "LOCAL_RANK") if "LOCAL_RANK" in env else rank
        launcher: Launcher = "spawn" if PARENT_PID in env else "torchrun"
    elif "SLURM_PROCID" in env and "SLURM_NTASKS" in env:
        rank, world = _integer(env, "SLURM_PROCID"), _integer(env, "SLURM_NTASKS")
        local = _integer(env, "SLURM_LOCALID") if "SLURM_LOCALID" in env else 0
        launcher = "srun"
    else:
        return None
    port = _integer(env, "MASTER_PORT")
    if not 0 <= rank < world or not 1 <= port <= 65535 or local < 0:
        raise InputError(f"the launcher gives rank {rank} of {world} (local rank {local}) and MASTER_PORT {port}: "
                         "need 0 <= rank < world size and a port in 1-65535")
    return RankLayout(rank, world, local, env["MASTER_ADDR"], port, launcher)


def this_layout() -> RankLayout | None:
    """This process's layout (:func:`layout_from_env` of ``os.environ``)."""
    return layout_from_env(os.environ)


__all__ = ["PARENT_PID", "Launcher", "RankLayout", "layout_from_env", "this_layout"]
