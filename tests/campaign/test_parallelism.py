"""--workers auto: parallel averaging only where it pays."""

from __future__ import annotations

import pytest
from symbreak.campaign.cases import get_case
from symbreak.campaign.config import RunConfig
from symbreak.campaign.parallelism import auto_workers, usable_cores


@pytest.mark.parametrize("case, potential, strategy, servers, expected", [
    ("liquid-nvt", "default", "2i", 1, 4),       # a grid, a torch model, a bulk system: every core
    ("liquid-pimd", "default", "2i", 2, 2),      # cores shared by the servers
    ("liquid-mts", "default", "2i", 1, 4),       # the correction server
    ("liquid-nvt", "default", "plain", 1, 1),    # one evaluation per call
    ("liquid-nvt", "default", "random:3", 1, 1),
    ("liquid-nvt", "toy", "2i", 1, 1),           # too cheap
    ("liquid-nvt", "qtip4pf", "2i", 1, 1),
    ("gas-nve", "default", "2i", 1, 1),          # one molecule: 2 ranks measured 0.94-1.13x, about even
    ("gas-mts", "default", "2i", 1, 1),
    ("liquid-nvt", "default", "i", 1, 1),        # two evaluations: the fixed cost of a share dominates
    ("ice-nvt", "metatomic:model.pt", "3i", 1, 4),
    ("liquid-nvt", "no-such-model", "2i", 1, 1),  # preflight names it
])
def test_auto_workers(case, potential, strategy, servers, expected):
    config = RunConfig(case=case, out="x", potential=potential, strategy=strategy, servers=servers)
    assert auto_workers(config, get_case(case), cores=4) == expected


def test_usable_cores_is_at_least_one():
    assert usable_cores() >= 1
