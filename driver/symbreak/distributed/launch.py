"""Starting a distributed potential: K ranks on this machine, or rank 0 of a torchrun / srun launch.

    potential = start_local_ranks("default", processes=2)        # this process + 1 child (`serve --workers 2`)
    potential = join_launch("default")                           # under torchrun/srun: rank 0 gets the potential,
    if potential is None:                                        # every other rank serves shares until rank 0
        raise SystemExit(0)                                      # closes it, then gets None
    calc = SymbreakCalculator(potential, strategy="2i")          # rank 0: an ASE calculator like any other

Every rank loads the potential before it joins, so a slow load never counts
against a call; rank 0 then checks that every rank loaded the same spec with
the same symbreak version (one line naming the rank otherwise) before the
first call.
"""

from __future__ import annotations

from typing import Callable

from .. import __version__
from ..core.errors import InputError
from ..potentials.base import Potential
from .follower import run_rank, select_device
from .group import RankGroup, this_host
from .messages import Identity
from .options import RankOptions, choose_backend
from .potential import DistributedPotential
from .ranks import RankLayout, this_layout
from .spawn import LocalRanks


def local_potential(local: Potential | None, spec: str, chunk_size: int | None) -> Potential:
    """Rank 0's own potential: ``local``, or ``spec`` loaded here; with ``chunk_size``, it chunks its share by it."""
    if local is None:
        from ..potentials.registry import load_potential

        local = load_potential(spec)
    if chunk_size:
        local.chunk_size = chunk_size
    return local


def join_as_root(local: Potential, spec: str, layout: RankLayout, options: RankOptions,
                 children: LocalRanks | None = None) -> DistributedPotential:
    """Rank 0: join the group (with ``children``' store when they are ours), greet every rank, wrap ``local``.

    On any failure the group is left and the children are stopped before the error goes up.
    """
    backend = choose_backend(options.backend, spec)
    group = None
    try:
        if children is not None:
            children.wait_joined(options.join_timeout)
        group = RankGroup.join(layout, backend, options.join_timeout, children=children)
        group.greet_as_root(Identity(spec, __version__, this_host()), options.join_timeout)
    except BaseException:
        if group is not None:
            group.close(quit=False)
        elif children is not None:
            children.stop(grace=0.0)
        raise
    return DistributedPotential(local, group, options)


def start_local_ranks(spec: str, processes: int, *, local: Potential | None = None,
                      options: RankOptions = RankOptions(), threads: int | None = 1,
                      chunk_size: int | None = None) -> DistributedPotential:
    """``processes`` ranks on this machine: this process (rank 0, evaluating ``local`` or ``spec`` loaded here)
    and ``processes - 1`` children `python -m symbreak serve --potential SPEC`, one torch thread each by default.
    """
    if processes < 1:
        raise InputError(f"--workers must be >= 1, got {processes}")
    backend = choose_backend(options.backend, spec)
    local = local_potential(local, spec, chunk_size)
    children = LocalRanks.start(spec, processes - 1, threads=threads, chunk_size=chunk_size, backend=backend,
                                answer_timeout=options.answer_timeout, join_timeout=options.join_timeout)
    layout = RankLayout(0, processes, 0, "127.0.0.1", children.store.port, "spawn")
    return join_as_root(local, spec, layout, options, children)


def join_launch(spec: str, *, layout: RankLayout | None = None, local: Potential | None = None,
                options: RankOptions = RankOptions(), chunk_size: int | None = None,
                log: Callable[[str], None] = lambda line: None) -> DistributedPotential | None:
    """Every rank of a torchrun or srun launch calls this: rank 0 gets the DistributedPotential; any other rank
    serves shares until rank 0 closes it and gets None (SystemExit(1) if rank 0 went away or refused the launch)."""
    layout = layout or this_layout()
    if layout is None:
        raise InputError("no launcher found (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, or SLURM_PROCID, "
                         "SLURM_NTASKS with MASTER_ADDR, MASTER_PORT): start with torchrun or srun")
    if not layout.is_root:
        code = run_rank(spec, layout, options, chunk_size, log)
        if code:
            raise SystemExit(code)
        return None
    select_device(choose_backend(options.backend, spec), layout)
    local = local_potential(local, spec, chunk_size)
    return join_as_root(local, spec, layout, options)


__all__ = ["join_as_root", "join_launch", "start_local_ranks"]
