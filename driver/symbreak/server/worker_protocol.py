"""The wire format between a coordinating server and its workers: structures out, energies and forces back.

    send_hello(sock, "default")                     # worker, once connected
    spec = recv_hello(sock)                         # coordinator
    send_structures(sock, structures)               # coordinator: one batch
    structures = recv_request(sock)                 # worker (None: the coordinator said QUIT)
    send_results(sock, evaluation)  /  send_failure(sock, "message")
    evaluation = recv_results(sock, structures)     # coordinator; PeerError carries a worker's failure

Plain little-endian numbers and float64 arrays behind 4-byte tags; nothing is
unpickled. A batch travels as a few large blocks (atom counts, periodic flags,
numbers, positions, cells), so a message costs one round trip whatever its
size. Limits (:data:`MAX_STRUCTURES`, :data:`MAX_ATOMS`) are checked before
anything is allocated.
"""

from __future__ import annotations

import socket
from typing import Sequence

import numpy as np

from ..core.errors import PeerError
from ..core.structure import Evaluation, Structure

VERSION = 1
HELLO, EVAL, DONE, FAIL, QUIT = b"SBWH", b"EVAL", b"DONE", b"FAIL", b"QUIT"
#: the most structures and atoms (all structures together) one request may carry
MAX_STRUCTURES = 1_000_000
MAX_ATOMS = 100_000_000
MAX_TEXT = 1 << 16


class WorkerError(PeerError):
    """A worker failed, closed its connection or sent something this protocol does not allow."""


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        try:
            n = sock.recv_into(view[got:])
        except ConnectionResetError:
            n = 0
        if n == 0:
            raise WorkerError("the connection closed in the middle of a message (the peer stopped or was killed)")
        got += n
    return bytes(buffer)


def _recv_array(sock: socket.socket, count: int, dtype) -> np.ndarray:
    dtype = np.dtype(dtype).newbyteorder("<")
    return np.frombuffer(_recv_exact(sock, count * dtype.itemsize), dtype=dtype).astype(dtype.newbyteorder("="))


def _recv_u32(sock: socket.socket) -> int:
    return int(_recv_array(sock, 1, np.uint32)[0])


def _u32(value: int) -> bytes:
    return np.uint32(value).astype("<u4").tobytes()


def _text(value: str) -> bytes:
    data = value.encode("utf-8")[:MAX_TEXT]
    return _u32(len(data)) + data


def _recv_text(sock: socket.socket) -> str:
    length = _recv_u32(sock)
    if length > MAX_TEXT:
        raise WorkerError(f"the peer announced a text of {length} bytes (limit {MAX_TEXT}): not a symbreak worker")
    return _recv_exact(sock, length).decode("utf-8", "replace")


def _tag(sock: socket.socket, allowed: tuple[bytes, ...]) -> bytes:
    tag = _recv_exact(sock, 4)
    if tag not in allowed:
        raise WorkerError(f"the peer sent {tag!r} where {' or '.join(t.decode() for t in allowed)} was due: "
                          "not a symbreak worker of this version")
    return tag


def send_hello(sock: socket.socket, spec: str) -> None:
    """The worker's first message: protocol version and the potential it serves."""
    sock.sendall(HELLO + _u32(VERSION) + _text(spec))


def recv_hello(sock: socket.socket) -> str:
    """The potential spec a worker serves; WorkerError for another protocol or version."""
    _tag(sock, (HELLO,))
    version = _recv_u32(sock)
    if version != VERSION:
        raise WorkerError(f"the worker speaks protocol version {version}, this server {VERSION}: "
                          "run the same symbreak version on every machine")
    return _recv_text(sock)


def send_structures(sock: socket.socket, structures: Sequence[Structure]) -> None:
    counts = np.array([s.n_atoms for s in structures], "<u4")
    periodic = np.array([s.cell is not None for s in structures], np.uint8)
    numbers = np.concatenate([s.numbers for s in structures]).astype("<i4")
    positions = np.concatenate([s.positions for s in structures]).astype("<f8")
    cells = np.array([s.cell for s in structures if s.cell is not None], "<f8").reshape(-1, 9)
    sock.sendall(b"".join([EVAL, _u32(len(structures)), counts.tobytes(), periodic.tobytes(), numbers.tobytes(),
                           positions.tobytes(), cells.tobytes()]))


def send_quit(sock: socket.socket) -> None:
    sock.sendall(QUIT)


def recv_request(sock: socket.socket) -> list[Structure] | None:
    """The next batch a coordinator asks for, or None when it said QUIT."""
    if _tag(sock, (EVAL, QUIT)) == QUIT:
        return None
    n = _recv_u32(sock)
    if not 1 <= n <= MAX_STRUCTURES:
        raise WorkerError(f"a request of {n} structures: refusing (limit 1..{MAX_STRUCTURES})")
    counts = _recv_array(sock, n, np.uint32).astype(np.int64)
    total = int(counts.sum())
    if counts.min() < 1 or total > MAX_ATOMS:
        raise WorkerError(f"a request of {total} atoms (smallest structure {counts.min()}): refusing "
                          f"(limit {MAX_ATOMS} atoms, at least one per structure)")
    periodic = _recv_array(sock, n, np.uint8).astype(bool)
    numbers = _recv_array(sock, total, np.int32)
    positions = _recv_array(sock, 3 * total, np.float64).reshape(total, 3)
    cells = _recv_array(sock, 9 * int(periodic.sum()), np.float64).reshape(-1, 3, 3)
    structures, start, k = [], 0, 0
    for count, has_cell in zip(counts, periodic):
        cell = None
        if has_cell:
            cell, k = cells[k], k + 1
        structures.append(Structure(positions[start:start + count], numbers[start:start + count], cell))
        start += count
    return structures


def send_results(sock: socket.socket, out: Evaluation) -> None:
    forces = np.concatenate([np.asarray(f, np.float64).reshape(-1, 3) for f in out.forces]).astype("<f8")
    sock.sendall(b"".join([DONE, np.asarray(out.energies, "<f8").tobytes(), forces.tobytes(),
                           np.asarray(out.virials, "<f8").reshape(-1, 9).tobytes()]))


def send_failure(sock: socket.socket, message: str) -> None:
    sock.sendall(FAIL + _text(message))


def recv_results(sock: socket.socket, structures: Sequence[Structure]) -> Evaluation:
    """The worker's energies, forces and virials of ``structures`` (the batch sent); WorkerError if it failed."""
    if _tag(sock, (DONE, FAIL)) == FAIL:
        raise WorkerError(_recv_text(sock))
    n = len(structures)
    counts = [s.n_atoms for s in structures]
    energies = _recv_array(sock, n, np.float64)
    flat = _recv_array(sock, 3 * sum(counts), np.float64).reshape(-1, 3)
    virials = _recv_array(sock, 9 * n, np.float64).reshape(n, 3, 3)
    bounds = np.cumsum([0, *counts])
    forces = [flat[bounds[k]:bounds[k + 1]] for k in range(n)]
    return Evaluation(energies, forces, virials, [{} for _ in range(n)])


__all__ = ["VERSION", "WorkerError", "recv_hello", "recv_request", "recv_results", "send_failure", "send_hello",
           "send_quit", "send_results", "send_structures"]
