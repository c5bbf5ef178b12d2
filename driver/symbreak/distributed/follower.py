"""The ranks other than 0: load the same potential, join, then evaluate the shares rank 0 sends until it says QUIT.

    code = run_rank("default", layout, RankOptions())      # what `symbreak serve` does on a rank != 0

A share is evaluated exactly as the serial server would (the potential's own
chunking). An error in the potential goes back to rank 0 as a one-line
message, which rank 0 raises naming this rank, and this rank keeps serving. A
rank exits 0 when rank 0 says QUIT and 1 when rank 0 goes away (its
connection breaks) or refuses the launch.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Callable

from .. import __version__
from ..core.errors import SymbreakError
from ..potentials.base import Potential
from ..symmetry.strategies import evaluate_chunked
from .channel import Channel, LinkError
from .group import RankGroup, this_host
from .messages import QUIT, Identity, empty_header, pack_failure, pack_result, request_buffer, unpack_request
from .options import IDLE_SECONDS, RankOptions, choose_backend
from .ranks import PARENT_PID, RankLayout
from .spawn import watch_parent

#: seconds a rank waits for the rest of a request once its header came (rank 0 sends them together)
REQUEST_SECONDS = 600.0


def serve_shares(potential: Potential, channel: Channel, log: Callable[[str], None] = lambda line: None) -> int:
    """Evaluate the shares rank 0 sends until it says QUIT (returns the number served); LinkError if it goes away."""
    shares = 0
    while True:
        head = empty_header()
        channel.wait(channel.recv(head, 0), IDLE_SECONDS)
        if int(head[0]) == QUIT:
            log(f"rank 0 is done after {shares} shares")
            return shares
        payload = request_buffer(head)
        channel.wait(channel.recv(payload, 0), REQUEST_SECONDS)
        structures = unpack_request(head, payload)
        try:
            result = pack_result(evaluate_chunked(potential, structures, potential.chunk_size))
        except SymbreakError as err:
            result = pack_failure(str(err), len(structures), sum(s.n_atoms for s in structures))
        except Exception as err:  # a bug in a potential: its traceback here, one line for rank 0
            traceback.print_exc(file=sys.stderr)
            result = pack_failure(f"{type(err).__name__}: {err}", len(structures), sum(s.n_atoms for s in structures))
        channel.wait(channel.send(result, 0), IDLE_SECONDS)
        shares += 1


def load_for_rank(spec: str, chunk_size: int | None) -> tuple[Potential | None, str]:
    """(the potential, "") or (None, the one-line reason it failed), so that rank 0 hears why."""
    from ..potentials.registry import load_potential

    try:
        potential = load_potential(spec)
    except SymbreakError as err:
        return None, str(err)
    except Exception as err:  # noqa: BLE001 - reported to rank 0, which ends the launch naming this rank
        traceback.print_exc(file=sys.stderr)
        return None, f"{type(err).__name__}: {err}"
    if chunk_size:
        potential.chunk_size = chunk_size
    return potential, ""


def run_rank(spec: str, layout: RankLayout, options: RankOptions, chunk_size: int | None = None,
             log: Callable[[str], None] = lambda line: None) -> int:
    """All a rank != 0 does: load, join, greet, serve shares, leave; the exit code (0: rank 0 said QUIT)."""
    if PARENT_PID in os.environ:
        watch_parent(int(os.environ[PARENT_PID]))
    backend = choose_backend(options.backend, spec)
    select_device(backend, layout)
    potential, failure = load_for_rank(spec, chunk_size)
    group = RankGroup.join(layout, backend, options.join_timeout)
    try:
        if not group.greet_as_rank(Identity(spec, __version__, this_host(), failure), options.join_timeout):
            log("rank 0 refused the launch (its message says why)")
            return 1
        if potential is None:
            return 1
        log(f"rank {layout.rank} of {layout.world_size} serving {potential.describe()} ({backend})")
        serve_shares(potential, group.channel, log)
        return 0
    except LinkError as err:
        log(f"rank 0 went away ({err.detail}): leaving")
        return 1
    finally:
        group.close(quit=False)


def select_device(backend: str, layout: RankLayout) -> None:
    """With nccl (or any CUDA device): this rank's GPU is LOCAL_RANK (modulo the GPUs), so 'cuda' in a spec means it."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.set_device(layout.local_rank % torch.cuda.device_count())


__all__ = ["REQUEST_SECONDS", "load_for_rank", "run_rank", "select_device", "serve_shares"]
