"""What the ranks send each other, as plain tensors (nothing is pickled): shares out, results and greetings back.

    header, payload = pack_request(structures)               # rank 0 -> rank k: two tensors
    structures = unpack_request(header, payload)             # rank k
    result = pack_result(evaluation)  /  pack_failure("the model failed", len(structures), n_atoms)
    evaluation = unpack_result(result, structures)           # rank 0; RankFailure carries rank k's message

A request is a fixed-size int64 header (operation, structures, atoms, periodic
structures) and one float64 payload: atom counts, periodic flags and atomic
numbers (integers, exact in float64), positions, then the cells of the
periodic structures (rows as in :class:`~symbreak.core.structure.Structure`):
two messages a share, so that a rank wakes up twice per call. A result is one float64
tensor whose size rank 0 knows from the share it sent: a status, a fixed-size
message (the one-line error of a failed evaluation, UTF-8), then energies,
forces and virials. A greeting (:class:`Identity`) is a fixed-size byte tensor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..core.structure import Evaluation, Structure

#: operations in a request header
EVALUATE, QUIT = 1, 2
HEADER_SIZE = 4
#: bytes of the error message in a result (longer messages are cut)
MESSAGE_BYTES = 1024
_MESSAGE_FLOATS = MESSAGE_BYTES // 8
#: bytes of a greeting
IDENTITY_BYTES = 4096
OK, FAILED = 0.0, 1.0


class RankFailure(Exception):
    """A rank could not evaluate its share: its one-line message (rank 0 adds which rank)."""


def header(operation: int, structures: int = 0, atoms: int = 0, periodic: int = 0) -> torch.Tensor:
    return torch.tensor([operation, structures, atoms, periodic], dtype=torch.int64)


def empty_header() -> torch.Tensor:
    return torch.zeros(HEADER_SIZE, dtype=torch.int64)


def pack_request(structures: Sequence[Structure]) -> tuple[torch.Tensor, torch.Tensor]:
    """The header and the float64 payload that carry ``structures``."""
    counts = np.array([s.n_atoms for s in structures], np.float64)
    periodic = np.array([s.cell is not None for s in structures], np.float64)
    numbers = np.concatenate([s.numbers for s in structures]).astype(np.float64)
    positions = np.concatenate([s.positions for s in structures]).reshape(-1)
    cells = np.array([s.cell for s in structures if s.cell is not None], np.float64).reshape(-1)
    payload = torch.from_numpy(np.concatenate([counts, periodic, numbers, positions, cells]))
    return header(EVALUATE, len(structures), int(counts.sum()), int(periodic.sum())), payload


def request_buffer(head: torch.Tensor) -> torch.Tensor:
    """An empty float64 payload of the size ``head`` announces (for the receiver)."""
    _, n, atoms, periodic = (int(x) for x in head.tolist())
    return torch.empty(2 * n + 4 * atoms + 9 * periodic, dtype=torch.float64)


def unpack_request(head: torch.Tensor, payload: torch.Tensor) -> list[Structure]:
    """The structures a request carries (the inverse of :func:`pack_request`)."""
    _, n, atoms, _ = (int(x) for x in head.tolist())
    values = payload.numpy()
    counts, periodic = values[:n].astype(np.int64), values[n:2 * n] != 0
    numbers = values[2 * n:2 * n + atoms].astype(np.int64)
    positions = values[2 * n + atoms:2 * n + 4 * atoms].reshape(atoms, 3)
    cells = values[2 * n + 4 * atoms:].reshape(-1, 3, 3)
    structures, start, k = [], 0, 0
    for count, has_cell in zip(counts, periodic):
        cell = None
        if has_cell:
            cell, k = cells[k], k + 1
        structures.append(Structure(positions[start:start + count], numbers[start:start + count], cell))
        start += int(count)
    return structures


def result_size(structures: int, atoms: int) -> int:
    """Floats in the result of a share of ``structures`` structures and ``atoms`` atoms."""
    return 1 + _MESSAGE_FLOATS + structures + 3 * atoms + 9 * structures


def result_buffer(structures: Sequence[Structure]) -> torch.Tensor:
    return torch.empty(result_size(len(structures), sum(s.n_atoms for s in structures)), dtype=torch.float64)


def pack_result(out: Evaluation) -> torch.Tensor:
    """Status OK, an empty message, then the energies, forces and virials of ``out``."""
    forces = np.concatenate([np.asarray(f, np.float64).reshape(-1) for f in out.forces])
    body = np.concatenate([np.asarray(out.energies, np.float64).reshape(-1), forces,
                           np.asarray(out.virials, np.float64).reshape(-1)])
    return torch.from_numpy(np.concatenate([[OK], np.zeros(_MESSAGE_FLOATS), body]))


def pack_failure(message: str, structures: int, atoms: int) -> torch.Tensor:
    """Status FAILED and ``message`` (cut to MESSAGE_BYTES), padded to the size rank 0 expects."""
    out = torch.zeros(result_size(structures, atoms), dtype=torch.float64)
    out[0] = FAILED
    out[1:1 + _MESSAGE_FLOATS] = torch.from_numpy(np.frombuffer(_fixed_bytes(message, MESSAGE_BYTES), np.float64).copy())
    return out


def unpack_result(result: torch.Tensor, structures: Sequence[Structure]) -> Evaluation:
    """The evaluation of ``structures`` a result carries; RankFailure with the rank's message if it failed."""
    values = result.numpy()
    if values[0] != OK:
        raise RankFailure(_text(values[1:1 + _MESSAGE_FLOATS].tobytes()) or "failed without a message")
    n = len(structures)
    counts = [s.n_atoms for s in structures]
    body = values[1 + _MESSAGE_FLOATS:]
    energies = body[:n].copy()
    flat = body[n:n + 3 * sum(counts)].reshape(-1, 3)
    virials = body[n + 3 * sum(counts):].reshape(n, 3, 3).copy()
    bounds = np.cumsum([0, *counts])
    forces = [flat[bounds[k]:bounds[k + 1]].copy() for k in range(n)]
    return Evaluation(energies, forces, virials, [{} for _ in range(n)])


def _fixed_bytes(text: str, size: int) -> bytes:
    data = text.encode("utf-8")[:size]
    return data + b"\0" * (size - len(data))


def _text(data: bytes) -> str:
    return data.rstrip(b"\0").decode("utf-8", "replace")


@dataclass(frozen=True)
class Identity:
    """A rank's greeting: the potential spec it loaded, symbreak's version, its host, and why loading failed ("": it did not)."""

    spec: str
    version: str
    host: str
    failure: str = ""

    def pack(self) -> torch.Tensor:
        fields = [self.spec, self.version, self.host, self.failure]
        text = "\n".join(f.replace("\n", " ") for f in fields)
        return torch.frombuffer(bytearray(_fixed_bytes(text, IDENTITY_BYTES)), dtype=torch.uint8)

    @classmethod
    def unpack(cls, tensor: torch.Tensor) -> "Identity":
        fields = (_text(tensor.numpy().tobytes()).split("\n") + ["", "", "", ""])[:4]
        return cls(*fields)


def identity_buffer() -> torch.Tensor:
    return torch.zeros(IDENTITY_BYTES, dtype=torch.uint8)


__all__ = ["EVALUATE", "HEADER_SIZE", "IDENTITY_BYTES", "MESSAGE_BYTES", "QUIT", "Identity", "RankFailure",
           "empty_header", "header", "identity_buffer", "pack_failure", "pack_request", "pack_result",
           "request_buffer", "result_buffer", "result_size", "unpack_request", "unpack_result"]
