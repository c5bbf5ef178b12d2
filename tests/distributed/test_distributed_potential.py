"""The distributed potential over gloo: the serial average with 1, 2 and 3 ranks; failures one line, bounded, named."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from symbreak.core.errors import DeadlineError, InputError, PeerError, ProcessError
from symbreak.distributed import RankLayout, RankOptions, join_as_root, start_local_ranks
from symbreak.distributed.spawn import LocalRanks
from symbreak.potentials import testing
from symbreak.potentials.registry import load_potential
from symbreak.symmetry.strategies import parse_strategy

FAULTS = Path(__file__).with_name("rank_faults.py")
STRATEGIES = ["plain", "2i", "lebedev:3", "2i+random:5", "random:3", "2+notorque"]


def faulty(fault: str, rank: int = 1) -> str:
    return f'ase:{FAULTS}:faulty:{{"fault": "{fault}", "rank": {rank}}}'


def batches():
    """Beads of a periodic box (one sheared and rotated), and molecules in vacuum."""
    box = testing.water_box(n_per_side=2, seed=4)
    beads = [box, box.rotated(np.eye(3)[[1, 2, 0]]), testing.water_box_triclinic(n_per_side=2, seed=2)]
    molecules = [testing.water_molecule(seed=s) for s in (1, 2, 3)]
    return {"beads": beads, "molecules": molecules, "one molecule": molecules[:1]}


def assert_same(shared, serial, atol=1e-12):
    np.testing.assert_allclose(shared.energies, serial.energies, rtol=0, atol=atol)
    np.testing.assert_allclose(shared.virials, serial.virials, rtol=0, atol=atol)
    for f, g in zip(shared.forces, serial.forces):
        np.testing.assert_allclose(f, g, rtol=0, atol=atol)
    assert [sorted(x) for x in shared.extras] == [sorted(x) for x in serial.extras]  # diagnostics intact
    for x, y in zip(shared.extras, serial.extras):
        for key in ("energy_spread", "force_spread", "energy_plain"):
            if key in x:
                assert x[key] == pytest.approx(y[key], abs=atol)


def check_against_serial(potential):
    for strategy in STRATEGIES:
        for label, structures in batches().items():
            if "notorque" in strategy and label == "beads":
                continue  # net-torque removal is for isolated systems
            serial = parse_strategy(strategy, load_potential("toy")).compute(structures)
            shared = parse_strategy(strategy, potential).compute(structures)
            assert_same(shared, serial)


def assert_gone(processes):
    for process in processes:
        assert process.returncode is not None, f"pid {process.pid} is still running"
        with pytest.raises(ProcessLookupError):
            os.kill(process.pid, 0)


def test_one_rank_is_the_serial_potential():
    potential = start_local_ranks("toy", 1)  # a group of one, in this process: no child
    try:
        check_against_serial(potential)
        assert potential.shares_sent == 0 and "on 1 ranks (gloo)" in potential.describe()
    finally:
        potential.close()


@pytest.mark.slow
@pytest.mark.parametrize("ranks", [2, 3])
def test_several_ranks_give_the_serial_average(ranks):
    potential = start_local_ranks("toy", ranks)
    children = list(potential.group.children.processes)
    try:
        check_against_serial(potential)
        assert potential.shares_sent > 0
    finally:
        potential.close()
    assert_gone(children)
    assert all(p.returncode == 0 for p in children)  # QUIT, not killed


@pytest.mark.slow
def test_an_error_in_a_ranks_model_is_one_line_naming_it_and_the_next_call_works():
    potential = start_local_ranks(faulty("raise", rank=2), 3)
    children = list(potential.group.children.processes)
    molecules = batches()["molecules"]
    try:
        with pytest.raises(PeerError, match=r"^rank 2 \(local, pid \d+, still running\): .*the model failed on rank 2"):
            potential.compute(molecules)
        assert len(potential.compute(molecules[:2])) == 2  # rank 2 gets no share of two structures: it works
    finally:
        potential.close()
    assert_gone(children)


@pytest.mark.slow
@pytest.mark.parametrize("fault, error, words", [("die", PeerError, r"rank 1 \(local, pid \d+, was killed by signal 9\) stopped"),
                                                 ("hang", DeadlineError, r"rank 1 \(local, pid \d+, still running\) did not "
                                                                         r"send its share's results in time")])
def test_a_dead_or_hung_rank_ends_the_run_in_bounded_time_named(fault, error, words):
    potential = start_local_ranks(faulty(fault), 3, options=RankOptions(answer_timeout=2.0))
    children = list(potential.group.children.processes)
    started = time.monotonic()
    try:
        with pytest.raises(error, match=words) as caught:
            parse_strategy("2i", potential).compute(batches()["molecules"])
        assert len(str(caught.value).splitlines()) == 1
        assert time.monotonic() - started < 15
        with pytest.raises(error, match=words):  # the group is gone: every later call says so at once
            potential.compute(batches()["molecules"])
    finally:
        potential.close()
    assert_gone(children)


@pytest.mark.slow
def test_ranks_that_disagree_on_the_potential_or_cannot_load_it_are_refused_naming_the_rank():
    children = LocalRanks.start("toy", 1)
    layout = RankLayout(0, 2, 0, "127.0.0.1", children.store.port, "spawn")
    with pytest.raises(InputError, match=r"rank 1 \(local.*\) loaded the potential 'toy', rank 0 'default'"):
        join_as_root(load_potential("toy"), "default", layout, RankOptions(), children)
    assert_gone(children.processes)
    with pytest.raises(ProcessError, match=r"rank 1 \(local.*\) could not load its potential: .*no model file on rank 1"):
        start_local_ranks(faulty("load"), 2)
