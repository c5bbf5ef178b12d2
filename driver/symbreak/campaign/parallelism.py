"""How many processes each model server uses when the user does not say: `--workers auto`.

    workers = auto_workers(config, get_case("liquid-nvt"))     # 2 on a 2-core machine for 2i with the default model

Parallel averaging (``symbreak serve --workers K``) shares each call's rotated
copies between K torch.distributed ranks. It pays when a call holds many expensive
model evaluations: a grid strategy (2: 18 rotations, 2i: 36, ...) with a torch
model, in a box (2i on 2 cores, 2 ranks: 64 H2O 1.7x, 216 H2O 2.0x faster); for one
molecule it measured 0.94x (2 ranks) to 1.13x (torchrun), about even, so an
isolated molecule gets one process. It does not pay
for one or two evaluations per call (plain, random, i), nor for the cheap analytic
potentials (toy, q-TIP4P/F), where the fixed cost of a share exceeds the work (scripts/bench_averaging.py
measures all of these side by side).
"""

from __future__ import annotations

import os

from ..potentials.spec import PotentialError, parse_potential_spec
from ..symmetry.strategies import parse_strategy_spec
from .cases import Case
from .config import RunConfig

#: potentials whose evaluation is too cheap for parallel averaging to pay
CHEAP_POTENTIALS = ("toy", "qtip4pf")
#: the fewest model evaluations per structure and call for which workers pay
MIN_EVALUATIONS = 8


def usable_cores() -> int:
    """The cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def auto_workers(config: RunConfig, case: Case, cores: int | None = None) -> int:
    """Usage: auto_workers(config, case) -> the workers per model server that measure fastest here (1: none)."""
    cores = usable_cores() if cores is None else cores
    try:
        kind = parse_potential_spec(config.potential).kind
        evaluations = parse_strategy_spec(config.strategy).evaluations
    except (PotentialError, ValueError):
        return 1  # preflight names the bad option
    if kind in CHEAP_POTENTIALS or evaluations < MIN_EVALUATIONS or case.motion == "replay" or case.vacuum:
        return 1  # one molecule: a 2i call of 108 atoms is too small to share (2 ranks: 0.94-1.13x)
    return max(1, cores // max(1, config.servers))


__all__ = ["CHEAP_POTENTIALS", "MIN_EVALUATIONS", "auto_workers", "usable_cores"]
