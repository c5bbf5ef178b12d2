"""i-PI's socket protocol, client side: framing and one connection's message loop.

    client = IPIClient(connect_unix("/tmp/ipi_h2o", timeout=60), evaluate)
    client.run()      # returns when i-PI sends EXIT

``evaluate(cells, positions) -> list[(pot, forces, virial, extras_str)]`` works
on i-PI's native data (cells h with lattice vectors as columns, positions in
Bohr; results in Hartree) for a batch of structures: one structure in the
classic protocol, ``batch_size`` of them when i-PI announces batching in INIT.

Messages (12-byte headers): STATUS -> NEEDINIT | READY | HAVEDATA;
INIT (id, string); POSDATA (h, h^-1, natoms, positions) or, batched,
(natoms, batch x (h, h^-1), batch x positions); GETFORCE -> FORCEREADY
(energy, natoms, forces, virial, extras) or its batched form; EXIT.

Defences against a peer that is not i-PI (each a one-line ProtocolError, a
ConnectionError): the first message must arrive within
:data:`HANDSHAKE_TIMEOUT` s of connecting. i-PI accepts a client, and sends it
STATUS at once, the next time it needs forces from that socket: immediately in
a running simulation, after its start-up for a server started first, after up
to one outer step for the slow socket of a multiple-time-step run (give
``handshake_timeout`` more where outer steps take longer). After the first
message i-PI may stay silent for as long as it likes. Atom counts outside
1..:data:`MAX_ATOMS`, batch sizes above :data:`MAX_BATCH` and INIT strings
longer than :data:`MAX_INIT_BYTES` are refused before anything is allocated.
:func:`connect_unix` refuses a socket path longer than the OS allows
(:data:`UNIX_PATH_MAX` bytes) at once.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from typing import Callable

import numpy as np

from ..core.errors import DeadlineError, InputError, PeerError

HEADER_LENGTH = 12

#: seconds the first message of a new connection may take (i-PI sends STATUS once it accepts the client,
#: which it does the next time it needs forces from that socket)
HANDSHAKE_TIMEOUT = 600.0
#: the most atoms (per structure) a POSDATA may announce: 10 million is ~240 MB of positions per structure
MAX_ATOMS = 10_000_000
#: the largest batch an INIT may announce, and the most atoms in one batch (all structures together)
MAX_BATCH = 100_000
MAX_BATCH_ATOMS = 4 * MAX_ATOMS
#: the longest INIT string accepted (i-PI sends its <parameters>, a few hundred bytes)
MAX_INIT_BYTES = 1 << 20
#: the longest UNIX socket path: sun_path holds 108 bytes on Linux (104 on macOS/BSD) with the final NUL
UNIX_PATH_MAX = 107 if sys.platform.startswith("linux") else 103


def header(name: str) -> bytes:
    return name.upper().ljust(HEADER_LENGTH).encode()


STATUS, INIT, POSDATA, GETFORCE, EXIT = (header(m) for m in ("STATUS", "INIT", "POSDATA", "GETFORCE", "EXIT"))
NEEDINIT, READY, HAVEDATA, FORCEREADY = (header(m) for m in ("NEEDINIT", "READY", "HAVEDATA", "FORCEREADY"))


class ProtocolError(PeerError):
    """i-PI sent something the protocol does not allow, or the data cannot be served."""


class Disconnected(PeerError):
    """i-PI closed the connection without sending EXIT."""


Evaluator = Callable[[list, list], list]


def check_unix_path(path: str) -> None:
    """ValueError (one line) if ``path`` is too long to be a UNIX socket address on this OS."""
    length = len(os.fsencode(path))
    if length > UNIX_PATH_MAX:
        raise InputError(
            f"the UNIX socket path {path} is {length} bytes, longer than the OS limit of {UNIX_PATH_MAX}: "
            "i-PI cannot create it either; use a shorter address or sockets prefix"
        )


#: what a server that finds no i-PI to connect to is told (``peer`` and ``hint`` of the connect functions)
IPI_UNIX_HINT = "start i-PI first (with <ffsocket mode='unix'>) or check --address / --sockets-prefix"
IPI_TCP_HINT = "start i-PI first (with <ffsocket mode='inet'>) or check --host / --port"


def wait_for_unix_socket(path: str, timeout: float, poll: float = 0.02, peer: str = "i-PI",
                         hint: str = IPI_UNIX_HINT) -> None:
    """Return once the UNIX socket ``path`` exists, without connecting (LAMMPS' fix ipi connects only once).

    DeadlineError after ``timeout`` s, worded as :func:`connect_unix`'s.
    """
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise DeadlineError(f"no {peer} socket at {path} after {timeout:g} s: {hint}")
        time.sleep(poll)


def is_local_address(host: str) -> bool:
    """Whether ``host`` names an address of this machine (one a socket here can bind to)."""
    try:
        family = socket.getaddrinfo(host, None)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
        return True
    except OSError:
        return False


def listening_tcp_ports() -> set[int] | None:
    """The TCP ports with a listening socket on this machine (Linux' /proc/net/tcp*); None where unreadable."""
    ports: set[int] = set()
    readable = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == "0A":  # state LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports if readable else None


def wait_for_tcp_listener(host: str, port: int, timeout: float, poll: float = 0.05, peer: str = "i-PI",
                          hint: str = IPI_TCP_HINT) -> None:
    """Return once something listens on ``port`` of this machine, without connecting (LAMMPS connects once).

    Only for a local ``host`` on a machine whose listen table is readable;
    elsewhere it returns at once (the client's own connect is then the test).
    DeadlineError after ``timeout`` s, worded as :func:`connect_tcp`'s.
    """
    if not is_local_address(host):
        return
    deadline = time.monotonic() + timeout
    while True:
        ports = listening_tcp_ports()
        if ports is None or port in ports:
            return
        if time.monotonic() > deadline:
            raise DeadlineError(f"{peer} is not listening on {host}:{port} after {timeout:g} s: {hint}")
        time.sleep(poll)


def connect_unix(path: str, timeout: float = 60.0, poll: float = 0.1, peer: str = "i-PI",
                 hint: str = IPI_UNIX_HINT) -> socket.socket:
    """Connect to ``peer``'s UNIX socket (i-PI's by default), waiting up to ``timeout`` s for it to appear.

    A path longer than :data:`UNIX_PATH_MAX` bytes fails at once (ValueError);
    the DeadlineError names ``peer`` and ends with ``hint``.
    """
    check_unix_path(path)
    deadline = time.monotonic() + timeout
    while True:
        if os.path.exists(path):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return sock
            except (ConnectionRefusedError, FileNotFoundError):
                sock.close()
        if time.monotonic() > deadline:
            raise DeadlineError(f"no {peer} socket at {path} after {timeout:g} s: {hint}")
        time.sleep(poll)


def connect_tcp(host: str, port: int, timeout: float = 60.0, poll: float = 0.2, peer: str = "i-PI",
                hint: str = IPI_TCP_HINT) -> socket.socket:
    """Connect to ``peer``'s TCP socket (i-PI's by default), retrying until ``timeout`` s while it is not listening."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=max(timeout, 1.0))
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except (ConnectionRefusedError, socket.timeout, OSError) as err:
            if time.monotonic() > deadline:
                raise DeadlineError(f"{peer} is not listening on {host}:{port} after {timeout:g} s ({err}): {hint}") from None
            time.sleep(poll)


def parse_batch_size(init_string: str) -> int:
    """The batch size i-PI announces in INIT ('..., batch_size:N'), 1 if absent."""
    for token in init_string.split(","):
        key, sep, value = token.strip().partition(":")
        if sep and key.strip() == "batch_size":
            try:
                size = max(1, int(value))
            except ValueError:
                raise ProtocolError(f"i-PI sent an invalid batch size in INIT: '{value}'") from None
            if size > MAX_BATCH:
                raise ProtocolError(f"i-PI announced a batch of {size} structures: refusing (limit {MAX_BATCH})")
            return size
    return 1


class IPIClient:
    """One connection to i-PI, answering force requests with ``evaluate`` until EXIT."""

    def __init__(
        self,
        sock: socket.socket,
        evaluate: Evaluator,
        on_call: Callable[[int], None] | None = None,
        handshake_timeout: float | None = None,
    ):
        """``handshake_timeout``: seconds for the peer's first message (default :data:`HANDSHAKE_TIMEOUT`)."""
        self.sock = sock
        self.handshake_timeout = handshake_timeout
        self.evaluate = evaluate
        self.on_call = on_call
        self.initialized = False
        self.batch_size = 1
        self.init_string = ""
        self.replica_id = -1
        self.n_atoms: int | None = None
        self.results: list | None = None
        self.calls = 0

    # -- framing ---------------------------------------------------------
    def _recv_into(self, buffer: memoryview) -> None:
        got = 0
        while got < len(buffer):
            try:
                n = self.sock.recv_into(buffer[got:])
            except ConnectionResetError:
                raise Disconnected("i-PI reset the connection (it ended before serving this client?)") from None
            if n == 0:
                raise Disconnected("i-PI closed the connection without sending EXIT")
            got += n

    def _recv_array(self, shape, dtype=np.float64) -> np.ndarray:
        out = np.empty(shape, dtype=dtype)
        self._recv_into(memoryview(out).cast("B"))
        return out

    def _recv_int(self) -> int:
        return int(self._recv_array((), np.int32))

    def _recv_header(self) -> bytes:
        buf = bytearray(HEADER_LENGTH)
        self._recv_into(memoryview(buf))
        return bytes(buf)

    # -- messages --------------------------------------------------------
    def _first_header(self) -> bytes:
        """The peer's first message, within the handshake timeout: a silent peer is not i-PI."""
        timeout = HANDSHAKE_TIMEOUT if self.handshake_timeout is None else self.handshake_timeout
        previous = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            return self._recv_header()
        except (socket.timeout, TimeoutError):
            raise ProtocolError(
                f"{self._peer()} sent no complete message within {timeout:g} s of connecting: not i-PI, "
                "or an i-PI that is stopped (i-PI sends STATUS as soon as it accepts a client)"
            ) from None
        finally:
            self.sock.settimeout(previous)

    def _peer(self) -> str:
        try:
            name = self.sock.getpeername()
        except OSError:
            name = None
        if isinstance(name, tuple) and len(name) >= 2:
            return f"the peer at {name[0]}:{name[1]}"
        return f"the peer at {name}" if name else "the peer"

    def run(self) -> None:
        """Serve until i-PI sends EXIT (returns) or the connection breaks (raises)."""
        first = True
        while True:
            msg = self._first_header() if first else self._recv_header()
            if first and msg not in (STATUS, INIT, POSDATA, GETFORCE, EXIT):
                raise ProtocolError(f"{self._peer()} is not i-PI: its first message was {msg!r}, not STATUS")
            first = False
            if msg == STATUS:
                self.sock.sendall(NEEDINIT if not self.initialized else HAVEDATA if self.results is not None else READY)
            elif msg == INIT:
                self._on_init()
            elif msg == POSDATA:
                self._on_posdata()
            elif msg == GETFORCE:
                self._on_getforce()
            elif msg == EXIT:
                return
            else:
                raise ProtocolError(f"unexpected message from i-PI: {msg!r}")

    def _on_init(self) -> None:
        self.replica_id = self._recv_int()
        length = self._recv_int()
        if not 0 <= length <= MAX_INIT_BYTES:
            raise ProtocolError(f"i-PI announced an INIT string of {length} bytes: refusing (limit {MAX_INIT_BYTES})")
        self.init_string = bytes(self._recv_array((length,), np.uint8)).decode("utf-8", "replace")
        self.batch_size = parse_batch_size(self.init_string)
        self.initialized = True

    def _check_atoms(self, n_atoms: int) -> None:
        if not 1 <= n_atoms <= MAX_ATOMS or n_atoms * self.batch_size > MAX_BATCH_ATOMS:
            what = f"{n_atoms} atoms" + (f" in each of {self.batch_size} structures" if self.batch_size > 1 else "")
            limit = f"1..{MAX_ATOMS} atoms" + (f", {MAX_BATCH_ATOMS} in a batch" if self.batch_size > 1 else "")
            raise ProtocolError(f"i-PI announced {what}: refusing (limit {limit})")
        if self.n_atoms is None:
            self.n_atoms = n_atoms
        elif n_atoms != self.n_atoms:
            raise ProtocolError(f"the number of atoms changed during the run: {self.n_atoms} -> {n_atoms}")

    def _on_posdata(self) -> None:
        if self.batch_size == 1:
            cell = self._recv_array((3, 3))
            self._recv_array((3, 3))  # inverse cell: not needed
            n_atoms = self._recv_int()
            self._check_atoms(n_atoms)
            cells, positions = [cell], [self._recv_array((n_atoms, 3))]
        else:
            n_atoms = self._recv_int()
            self._check_atoms(n_atoms)
            cell_block = self._recv_array((self.batch_size, 2, 3, 3))
            cells = list(cell_block[:, 0])
            positions = list(self._recv_array((self.batch_size, n_atoms, 3)))
        self.results = self.evaluate(cells, positions)
        if len(self.results) != len(positions):
            raise ProtocolError(f"evaluator returned {len(self.results)} results for {len(positions)} structures")

    def _on_getforce(self) -> None:
        if self.results is None:
            raise ProtocolError("i-PI asked for forces before sending positions")
        n = self.n_atoms
        extras = [r[3].encode("utf-8") for r in self.results]
        if self.batch_size == 1:
            pot, forces, virial, _ = self.results[0]
            payload = [
                FORCEREADY,
                np.float64(pot).tobytes(),
                np.int32(n).tobytes(),
                np.asarray(forces, np.float64).tobytes(),
                np.asarray(virial, np.float64).tobytes(),
                np.int32(len(extras[0])).tobytes(),
                extras[0],
            ]
        else:
            payload = [
                FORCEREADY,
                np.array([r[0] for r in self.results], np.float64).tobytes(),
                np.int32(n).tobytes(),
                np.array([np.asarray(r[1], np.float64).reshape(3 * n) for r in self.results]).tobytes(),
                np.array([np.asarray(r[2], np.float64).reshape(3, 3) for r in self.results]).tobytes(),
            ]
            for e in extras:
                payload += [np.int32(len(e)).tobytes(), e]
        self.sock.sendall(b"".join(payload))
        self.results = None
        self.calls += 1
        if self.on_call is not None:
            self.on_call(self.calls)
