"""A minimal i-PI peer speaking the server side of the socket protocol, for unit tests.

    peer = FakeIPI(sock); peer.init(); pot, forces, vir, extra = peer.request(cell, positions)
"""

import numpy as np
from symbreak.server.protocol import (
    EXIT,
    FORCEREADY,
    GETFORCE,
    HAVEDATA,
    INIT,
    NEEDINIT,
    POSDATA,
    READY,
    STATUS,
    header,
)


class FakeIPI:
    def __init__(self, sock):
        self.sock = sock

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("client closed")
            buf += chunk
        return buf

    def status(self):
        self.sock.sendall(STATUS)
        return self.recv_exact(12)

    def init(self, text="", batch_size=1):
        assert self.status() == NEEDINIT
        if batch_size > 1:
            text = (text + "," if text else "") + f"batch_size:{batch_size}"
        data = text.encode()
        self.sock.sendall(INIT + np.int32(0).tobytes() + np.int32(len(data)).tobytes() + data)
        assert self.status() == READY

    def send_positions(self, cell, positions):
        h = np.asarray(cell, np.float64)
        q = np.asarray(positions, np.float64)
        self.sock.sendall(
            POSDATA + h.tobytes() + np.linalg.inv(h).tobytes() + np.int32(len(q)).tobytes() + q.tobytes()
        )

    def request(self, cell, positions):
        """One classic POSDATA + GETFORCE exchange (cell h columns, Bohr)."""
        self.send_positions(cell, positions)
        assert self.status() == HAVEDATA
        self.sock.sendall(GETFORCE)
        assert self.recv_exact(12) == FORCEREADY
        pot = np.frombuffer(self.recv_exact(8), np.float64)[0]
        nat = np.frombuffer(self.recv_exact(4), np.int32)[0]
        forces = np.frombuffer(self.recv_exact(24 * nat), np.float64).reshape(nat, 3)
        vir = np.frombuffer(self.recv_exact(72), np.float64).reshape(3, 3)
        n_extra = np.frombuffer(self.recv_exact(4), np.int32)[0]
        extra = self.recv_exact(n_extra).decode()
        return pot, forces, vir, extra

    def request_batch(self, cells, positions):
        """One batched exchange: the batch size must match init(batch_size=...)."""
        nat = len(positions[0])
        payload = POSDATA + np.int32(nat).tobytes()
        for h in cells:
            h = np.asarray(h, np.float64)
            payload += h.tobytes() + np.linalg.inv(h).tobytes()
        for q in positions:
            payload += np.asarray(q, np.float64).tobytes()
        self.sock.sendall(payload + GETFORCE)
        assert self.recv_exact(12) == FORCEREADY
        b = len(cells)
        pots = np.frombuffer(self.recv_exact(8 * b), np.float64)
        assert np.frombuffer(self.recv_exact(4), np.int32)[0] == nat
        forces = np.frombuffer(self.recv_exact(24 * nat * b), np.float64).reshape(b, nat, 3)
        virs = np.frombuffer(self.recv_exact(72 * b), np.float64).reshape(b, 3, 3)
        extras = []
        for _ in range(b):
            n = np.frombuffer(self.recv_exact(4), np.int32)[0]
            extras.append(self.recv_exact(n).decode())
        return pots, forces, virs, extras

    def exit(self):
        self.sock.sendall(EXIT)


def garbage_header():
    return header("NONSENSE")


def announce_atoms(sock, n_atoms, cell=None):
    """A classic POSDATA header claiming ``n_atoms`` atoms, with no positions after it."""
    h = np.eye(3) * 20.0 if cell is None else np.asarray(cell, np.float64)
    sock.sendall(POSDATA + h.tobytes() + np.linalg.inv(h).tobytes() + np.int32(n_atoms).tobytes())


def announce_init(sock, length):
    """An INIT header claiming a parameter string of ``length`` bytes, with nothing after it."""
    sock.sendall(INIT + np.int32(0).tobytes() + np.int32(length).tobytes())


class TCPPeer:
    """A listening TCP socket on loopback that runs ``script(sock)`` on the first connection, in a thread.

        with TCPPeer(lambda s: s.sendall(b"hello")) as peer:
            main(["serve", "--host", "127.0.0.1", "--port", str(peer.port), ...])

    After the script it waits (up to ``linger`` s) for the client to close, so
    that the client sees its own error rather than the peer going away.
    """

    def __init__(self, script, linger=20.0):
        import socket
        import threading

        self.script, self.linger = script, linger
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.server.settimeout(30)
        self.port = self.server.getsockname()[1]
        self.errors = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        try:
            conn, _ = self.server.accept()
        except OSError as err:
            self.errors.append(err)
            return
        with conn:
            try:
                self.script(conn)
                conn.settimeout(self.linger)
                while conn.recv(4096):
                    pass
            except OSError:
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.close()
        self.thread.join(self.linger + 5)
