"""The socket client against a fake i-PI peer: message handling, units, batching, errors."""

import json
import socket
import threading
import time

import numpy as np
import pytest
from ase.units import Bohr, Hartree
from symbreak.potentials import load_potential
from symbreak.server.protocol import (
    INIT,
    MAX_ATOMS,
    NEEDINIT,
    UNIX_PATH_MAX,
    IPIClient,
    ProtocolError,
    connect_unix,
    parse_batch_size,
)
from symbreak.server.service import ForceService, InputError
from symbreak.symmetry import parse_strategy

from .fake_ipi import FakeIPI, TCPPeer, announce_atoms, announce_init, garbage_header


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


# --- peers that are not i-PI, or an i-PI announcing absurd sizes: one-line errors, nothing allocated ---------

@pytest.mark.parametrize("n_atoms", [2**31 - 1, MAX_ATOMS + 1, 0, -5])
def test_absurd_atom_count_is_refused_before_allocating(n_atoms):
    peer, thread, errors = serve_in_thread(ForceService(load_potential("toy")))
    peer.init()
    announce_atoms(peer.sock, n_atoms)
    thread.join(5)
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], ProtocolError)
    assert f"i-PI announced {n_atoms} atoms: refusing (limit 1..{MAX_ATOMS} atoms)" == str(errors[0])


def test_absurd_batch_and_init_length_are_refused():
    peer, thread, errors = serve_in_thread(ForceService(load_potential("toy")))
    assert peer.status() == NEEDINIT
    data = b"batch_size:1000000000"
    peer.sock.sendall(INIT + np.int32(0).tobytes() + np.int32(len(data)).tobytes() + data)
    thread.join(5)
    assert errors and "batch of 1000000000 structures: refusing" in str(errors[0])
    for length in (2**31 - 1, -1):
        peer, thread, errors = serve_in_thread(ForceService(load_potential("toy")))
        announce_init(peer.sock, length)
        thread.join(5)
        assert errors and f"INIT string of {length} bytes: refusing" in str(errors[0])


def test_silent_peer_fails_within_the_handshake_timeout():
    a, b = socket.socketpair()
    start = time.monotonic()
    with pytest.raises(ProtocolError, match="sent no complete message within 0.3 s of connecting: not i-PI"):
        IPIClient(b, ForceService(load_potential("toy")), handshake_timeout=0.3).run()
    assert time.monotonic() - start < 3
    # half a header is no better
    a.sendall(b"STAT")
    with pytest.raises(ProtocolError, match="within 0.3 s"):
        IPIClient(b, ForceService(load_potential("toy")), handshake_timeout=0.3).run()
    a.close(), b.close()


def test_a_slow_ipi_after_the_handshake_is_not_a_timeout(water_molecule):
    """Only the first message is timed: i-PI may stay silent between steps as long as it likes."""
    service = ForceService(load_potential("toy"), vacuum=True)
    a, b = socket.socketpair()
    errors = []

    def target():
        try:
            IPIClient(b, service, handshake_timeout=0.2).run()
        except Exception as err:
            errors.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    peer = FakeIPI(a)
    peer.init()
    time.sleep(0.5)
    peer.request(np.eye(3) * 40, water_molecule.positions / Bohr)
    peer.exit()
    thread.join(5)
    assert not errors and not thread.is_alive()


def test_garbage_first_message_names_the_peer():
    peer, thread, errors = serve_in_thread(ForceService(load_potential("toy")))
    peer.sock.sendall(b"GET / HTTP/1.1\r\n\r\n")
    thread.join(5)
    assert errors and "is not i-PI: its first message was b'GET / HTTP/1'" in str(errors[0])


def test_too_long_unix_path_fails_at_once():
    path = "/tmp/ipi_" + "x" * 120
    start = time.monotonic()
    with pytest.raises(ValueError, match=f"is 129 bytes, longer than the OS limit of {UNIX_PATH_MAX}"):
        connect_unix(path, timeout=30)
    assert time.monotonic() - start < 1


def _serve_cli(capsys, *args):
    from symbreak.cli import main

    code = main(["serve", "--potential", "toy", "--quiet", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return code, err


def test_serve_cli_absurd_atom_count_one_line(capsys):
    def script(sock):
        peer = FakeIPI(sock)
        peer.init()
        announce_atoms(sock, 2**31 - 1)

    with TCPPeer(script) as peer:
        code, err = _serve_cli(capsys, "--host", "127.0.0.1", "--port", str(peer.port), "--timeout", "10")
    assert code == 2
    assert err.strip() == f"symbreak serve: error: i-PI announced 2147483647 atoms: refusing (limit 1..{MAX_ATOMS} atoms)"


def test_serve_cli_silent_or_garbage_tcp_peer_one_line(capsys):
    with TCPPeer(lambda sock: None) as peer:
        start = time.monotonic()
        code, err = _serve_cli(capsys, "--host", "127.0.0.1", "--port", str(peer.port), "--timeout", "10",
                               "--handshake-timeout", "0.5")
        assert time.monotonic() - start < 10
    assert code == 2 and "sent no complete message within 0.5 s of connecting: not i-PI" in err
    with TCPPeer(lambda sock: sock.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")) as peer:
        code, err = _serve_cli(capsys, "--host", "127.0.0.1", "--port", str(peer.port), "--timeout", "10")
    assert code == 2 and "is not i-PI: its first message was b'SSH-2.0-Open'" in err


def test_serve_cli_too_long_unix_path_one_line(capsys):
    start = time.monotonic()
    code, err = _serve_cli(capsys, "-u", "-a", "x" * 120, "--timeout", "30")
    assert code == 2 and f"longer than the OS limit of {UNIX_PATH_MAX}" in err
    assert time.monotonic() - start < 10
