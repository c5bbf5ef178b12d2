"""The tensors ranks exchange carry structures, results, failures and greetings exactly (no process started)."""

import numpy as np
import pytest
from symbreak.distributed.messages import (
    EVALUATE,
    Identity,
    RankFailure,
    pack_failure,
    pack_request,
    pack_result,
    request_buffer,
    result_buffer,
    unpack_request,
    unpack_result,
)
from symbreak.potentials import testing
from symbreak.potentials.registry import load_potential


def mixed_batch():
    box = testing.water_box(n_per_side=2, seed=4)
    return [testing.water_molecule(seed=1), box, testing.water_box_triclinic(n_per_side=2, seed=2),
            box.rotated(np.eye(3)[[1, 2, 0]])]


def test_a_request_carries_the_structures_exactly():
    batch = mixed_batch()
    head, payload = pack_request(batch)
    assert head.tolist()[0] == EVALUATE and head.tolist()[1:] == [4, sum(s.n_atoms for s in batch), 3]
    assert request_buffer(head).shape == payload.shape and payload.dtype == request_buffer(head).dtype
    for s, r in zip(batch, unpack_request(head, payload)):
        np.testing.assert_array_equal(s.positions, r.positions)
        np.testing.assert_array_equal(s.numbers, r.numbers)
        assert (s.cell is None) == (r.cell is None)
        if s.cell is not None:
            np.testing.assert_array_equal(s.cell, r.cell)


def test_a_result_carries_the_evaluation_exactly_and_a_failure_its_message():
    batch = mixed_batch()
    out = load_potential("toy").compute(batch)
    packed = pack_result(out)
    assert packed.shape == result_buffer(batch).shape
    back = unpack_result(packed, batch)
    np.testing.assert_array_equal(out.energies, back.energies)
    np.testing.assert_array_equal(out.virials, back.virials)
    for f, g in zip(out.forces, back.forces):
        np.testing.assert_array_equal(f, g)
    failed = pack_failure("the model failed: ü", len(batch), sum(s.n_atoms for s in batch))
    assert failed.shape == packed.shape
    with pytest.raises(RankFailure, match="^the model failed: ü$"):
        unpack_result(failed, batch)
    long = pack_failure("x" * 5000, 1, 3)
    with pytest.raises(RankFailure, match="^x{1024}$"):
        unpack_result(long, batch[:1])


def test_a_greeting_round_trips():
    identity = Identity("metatomic:/m/model.pt:device=cuda", "0.1.0", "node2", "no\nfile")
    back = Identity.unpack(identity.pack())
    assert back == Identity("metatomic:/m/model.pt:device=cuda", "0.1.0", "node2", "no file")
