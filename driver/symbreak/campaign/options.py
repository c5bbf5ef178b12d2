"""The options that define a run, resolved, and how a re-run's differ from the run in a folder.

    defining_options(config)             # {"case": "gas-nve", "strategy": "2i", "steps": 400, ...} (JSON values)
    option_differences(manifest, config) # ["strategy 2i -> plain", ...]; [] when the re-run may resume

A re-run into the folder of a run must repeat its ``DEFINING`` options (case,
potential, strategy, steps, beads, size, servers, seed, transport, reference,
input files, replay strategies, MTS ratio); threads, host, verbosity, quiet and
the stall timeout may change.
"""

from __future__ import annotations

import json
import os

from ..potentials.spec import PotentialError, parse_potential_spec
from ..symmetry.strategies import parse_strategy_spec
from .cases import MTS_RATIO, get_case
from .config import DEFINING, RunConfig
from .forcefields import with_reference
from .manifest import Manifest


def defining_options(config: RunConfig) -> dict:
    """Usage: defining_options(config) -> the DEFINING options, resolved (the case's defaults, absolute paths; JSON values)."""
    case = get_case(config.case)

    def path(p):
        return None if p is None else os.path.abspath(p)

    try:
        potential = parse_potential_spec(config.potential).with_absolute_paths().text
    except PotentialError:
        potential = config.potential
    try:
        strategy = parse_strategy_spec(config.strategy).label
    except ValueError:
        strategy = config.strategy
    options = {
        "case": config.case, "potential": potential, "strategy": strategy,
        "steps": config.steps if config.steps is not None else case.default_steps,
        "beads": config.beads if config.beads is not None else case.beads,
        "size": config.size, "servers": config.servers, "seed": config.seed, "transport": config.transport,
        "reference": with_reference(config, case),
        "trajectory": path(config.trajectory), "init_structure": path(config.init_structure),
        "replay_strategies": list(config.replay_strategies) if case.motion == "replay" else None,
        "mts_ratio": (config.mts_ratio or MTS_RATIO) if case.mts else None,
        # None: the case's (and what manifests written before --stride existed mean)
        "stride": config.stride,
    }
    return json.loads(json.dumps(options))


def option_differences(manifest: Manifest, config: RunConfig) -> list[str]:
    """Usage: option_differences(read_manifest(out), config) -> ["strategy 2i -> plain", ...] (DEFINING options that differ).

    A manifest without options (written before they were recorded) is compared
    through the options its RunConfig resolves to.
    """
    old = manifest.options_dict()
    if old is None:
        try:
            old = defining_options(manifest.config)
        except ValueError:  # e.g. a case that no longer exists
            return ["the manifest's options cannot be read"]
    new = defining_options(config)
    return [f"{k} {old.get(k)} -> {new.get(k)}" for k in DEFINING if old.get(k) != new.get(k)]


__all__ = ["defining_options", "option_differences"]
