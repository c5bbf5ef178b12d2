"""The socket client against a fake i-PI peer: message handling, units, batching, errors."""

import json
import socket
import threading

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from symbreak.potentials import load_potential
from symbreak.server.protocol import IPIClient, ProtocolError, parse_batch_size
from symbreak.server.service import ForceService, InputError
from symbreak.symmetry import parse_strategy

from .fake_ipi import FakeIPI, garbage_header


def serve_in_thread(service):
    """A connected (peer, thread, errors) triple: the client runs until EXIT or error."""
    a, b = socket.socketpair()
    errors = []

    def target():
        try:
            IPIClient(b, service).run()
        except Exception as err:  # reported to the test
            errors.append(err)
        finally:
            b.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return FakeIPI(a), thread, errors


def ipi_cell(structure):
    """i-PI's h (lattice vectors as columns) in Bohr for a periodic Structure."""
    return structure.cell.T / Bohr


def test_round_trip_units_and_extras(water_box_triclinic):
    toy = load_potential("toy")
    service = ForceService(parse_strategy("2", toy), water_box_triclinic.numbers)
    peer, thread, errors = serve_in_thread(service)
    peer.init("some parameters")
    pot, forces, vir, extra = peer.request(ipi_cell(water_box_triclinic), water_box_triclinic.positions / Bohr)
    peer.exit()
    thread.join(5)
    assert not errors and not thread.is_alive()

    expected = parse_strategy("2", toy).compute([water_box_triclinic])
    assert pot * Hartree == pytest.approx(expected.energies[0], abs=1e-10)
    np.testing.assert_allclose(forces * Hartree / Bohr, expected.forces[0], atol=1e-9)
    np.testing.assert_allclose(vir.T * Hartree, expected.virials[0], atol=1e-9)
    diag = json.loads(extra)
    assert diag["strategy"] == "2" and diag["n_rotations"] == 18
    assert diag["energy_averaged"] == pytest.approx(expected.energies[0], abs=1e-12)


def test_batched_protocol_matches_single_calls(water_box):
    toy = load_potential("toy")
    service = ForceService(parse_strategy("plain", toy), water_box.numbers)
    peer, thread, errors = serve_in_thread(service)
    peer.init(batch_size=3)
    rng = np.random.default_rng(0)
    positions = [water_box.positions + 0.02 * rng.standard_normal(water_box.positions.shape) for _ in range(3)]
    cells = [ipi_cell(water_box)] * 3
    pots, forces, virs, extras = peer.request_batch(cells, [p / Bohr for p in positions])
    peer.exit()
    thread.join(5)
    assert not errors
    for k, p in enumerate(positions):
        e, f, _ = toy.compute_one(type(water_box)(p, water_box.numbers, water_box.cell))
        assert pots[k] * Hartree == pytest.approx(e, abs=1e-10)
        np.testing.assert_allclose(forces[k] * Hartree / Bohr, f, atol=1e-9)
        assert json.loads(extras[k])["strategy"] == "plain"


def test_vacuum_ignores_the_cell(water_molecule):
    toy = load_potential("toy")
    service = ForceService(toy, water_molecule.numbers, vacuum=True)
    peer, thread, errors = serve_in_thread(service)
    peer.init()
    pot, _, _, _ = peer.request(np.eye(3) * 5.0, water_molecule.positions / Bohr)  # tiny box: would overlap images
    peer.exit()
    thread.join(5)
    assert not errors
    assert pot * Hartree == pytest.approx(toy.compute_one(water_molecule)[0], abs=1e-10)


def test_atom_count_change_is_an_error(water_molecule, water_box):
    service = ForceService(load_potential("toy"))
    peer, thread, errors = serve_in_thread(service)
    peer.init()
    peer.request(np.eye(3) * 40, water_molecule.positions / Bohr)
    peer.send_positions(np.eye(3) * 40, water_box.positions / Bohr)
    thread.join(5)
    assert errors and isinstance(errors[0], ProtocolError)
    assert "number of atoms changed" in str(errors[0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_positions_are_an_error(water_molecule, bad):
    service = ForceService(load_potential("toy"), vacuum=True)
    peer, thread, errors = serve_in_thread(service)
    peer.init()
    q = water_molecule.positions / Bohr
    q[1, 2] = bad
    peer.send_positions(np.eye(3) * 40, q)
    thread.join(5)
    assert errors and isinstance(errors[0], InputError)
    assert "non-finite" in str(errors[0])


def test_unknown_species_is_refused_up_front():
    with pytest.raises(ValueError, match="atomic numbers \\[6\\]"):
        ForceService(load_potential("toy"), np.array([8, 1, 6]))


def test_wrong_atom_count_for_water_is_an_error():
    service = ForceService(load_potential("toy"))
    with pytest.raises(InputError, match="not a multiple of 3"):
        service([np.eye(3) * 40], [np.zeros((4, 3))])


def test_garbage_message_is_a_protocol_error():
    peer, thread, errors = serve_in_thread(ForceService(load_potential("toy")))
    peer.sock.sendall(garbage_header())
    thread.join(5)
    assert errors and isinstance(errors[0], ProtocolError)


def test_peer_closing_without_exit_is_reported():
    peer, thread, errors = serve_in_thread(ForceService(load_potential("toy")))
    peer.init()
    peer.sock.close()
    thread.join(5)
    assert errors and isinstance(errors[0], ConnectionError)
    assert "without sending EXIT" in str(errors[0])


def test_parse_batch_size():
    assert parse_batch_size("") == 1
    assert parse_batch_size("foo, batch_size:8") == 8
    with pytest.raises(ProtocolError):
        parse_batch_size("batch_size:x")
