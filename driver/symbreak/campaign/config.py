"""What a run is asked to be: the options of `symbreak run` as one record.

    config = RunConfig(case="gas-nve", out="runs/gas-2i", strategy="2i", steps=200)
    DEFINING                     # the options a re-run must repeat to resume the run
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

REPLAY_STRATEGIES = ("plain", "i", "2", "2i", "3i")


@dataclass(frozen=True)
class RunConfig:
    """Usage: RunConfig(case="gas-nve", out="runs/gas-2i", strategy="2i") -> the options of one run.

    What to run: a case, a potential and a strategy, for so many steps, into
    ``out``. Frozen: change one with ``dataclasses.replace``.
    """

    case: str
    out: str
    strategy: str = "plain"
    potential: str = "default"
    steps: int | None = None
    beads: int | None = None
    size: int | None = None
    servers: int = 1
    seed: int = 31415
    transport: Literal["unix", "inet"] = "unix"
    host: str = "127.0.0.1"
    threads: int = 1
    #: processes per model server sharing each call's rotated copies (`symbreak serve --workers`)
    workers: int = 1
    reference: bool | None = None  # None: the case's default
    trajectory: str | None = None  # for replay
    #: start from the last frame of this xyz file (e.g. the end of an earlier run) instead of the case's structure
    init_structure: str | None = None
    replay_strategies: tuple[str, ...] = REPLAY_STRATEGIES
    quiet: bool = False
    #: socket names CASE-ROLE (UNIX) or ports from 31415 up (TCP) instead of unique ones: for input templates
    fixed_addresses: bool = False
    #: i-PI's verbosity; 'high' logs the wall time of every step (see ipi.timing)
    verbosity: Literal["quiet", "low", "medium", "high", "debug"] = "low"
    #: MTS cases: inner steps per outer step (the inner step stays at the case's 0.5 fs; the outer step
    #: is mts_ratio x 0.5 fs). None: the case's 10, an outer step of 5 fs
    mts_ratio: int | None = None
    #: steps between trajectory and properties rows of a dynamics run; None: the case's (10 for bulk water)
    stride: int | None = None
    #: seconds without a new i-PI step before the run is declared stalled; None: max(60 s, 20 x time per row)
    stall_timeout: float | None = None
    #: an existing run in ``out`` (finished, or with other options) is moved aside to OUT.old-TIMESTAMP
    force_new: bool = False


#: the RunConfig fields that define a run: a re-run into its folder must give the same ones to resume it
DEFINING = ("case", "potential", "strategy", "steps", "beads", "size", "servers", "seed", "transport", "reference",
            "trajectory", "init_structure", "replay_strategies", "mts_ratio", "stride")


__all__ = ["DEFINING", "REPLAY_STRATEGIES", "RunConfig"]
