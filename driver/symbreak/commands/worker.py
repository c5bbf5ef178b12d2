"""`symbreak worker`: evaluate shares of a coordinating server's calls, on this machine or another.

    symbreak worker --potential default --host 0.0.0.0 --port 40000       # on node2
    symbreak serve --potential default --strategy 2i --workers 2 --remote-workers node2:40000 ...   # on node1

A coordinating `symbreak serve` cuts every call's batch of rotated copies (and
beads) into shares, one per process: its own, its local workers' (--workers K
starts K-1 of these on its machine by itself) and its remote workers'. The
worker must serve the same --potential; it answers one coordinator after
another until stopped (--once: one, then exit). Anyone who can reach the port
can ask it for energies: bind to a private network. Nothing is unpickled.
"""

from __future__ import annotations

import os
import socket
import sys

from ..core.errors import InputError
from ..potentials.registry import load_potential
from ..potentials.spec import SPEC_HELP
from ..server.protocol import check_unix_path
from ..server.worker_service import serve_coordinator


def add_arguments(parser) -> None:
    parser.add_argument("--potential", default="default", help=f"{SPEC_HELP} (default: default); the coordinator's")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--unix", default=None, metavar="PATH", help="listen on this UNIX socket path")
    where.add_argument("--port", type=int, default=None, help="listen on this TCP port")
    parser.add_argument("--host", default="127.0.0.1",
                        help="TCP address to listen on (default: 127.0.0.1; 0.0.0.0 for other machines)")
    parser.add_argument("--once", action="store_true", help="serve one coordinator, then exit")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--chunk-size", type=int, default=None, help="structures per batched model call (default: the potential's)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def listening_socket(args) -> socket.socket:
    if args.unix is not None:
        check_unix_path(args.unix)
        if os.path.exists(args.unix):
            raise InputError(f"{args.unix} exists already: another worker listens there, or remove the stale file")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(args.unix)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((args.host, args.port))
        except OSError as err:
            raise InputError(f"cannot listen on {args.host}:{args.port}: {err.strerror}") from None
    sock.listen(1)
    return sock


def run(args) -> int:
    if args.unix is None and args.port is None:  # before the (slow) model load
        raise InputError("give --unix PATH or --port N to listen on")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(f"symbreak worker: {msg}", file=sys.stderr, flush=True))
    potential = load_potential(args.potential)  # loaded before listening: a coordinator that connects finds it ready
    if args.chunk_size:
        potential.chunk_size = args.chunk_size
    server = listening_socket(args)
    where = args.unix or f"{args.host}:{args.port}"
    log(f"serving {potential.describe()} at {where}")
    try:
        while True:
            sock, _ = server.accept()
            if args.unix is not None and args.once:
                os.unlink(args.unix)  # one connection only: nothing else may connect, no file left behind
            with sock:
                if args.port is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                serve_coordinator(sock, potential, args.potential, log)
            if args.once:
                return 0
    finally:
        server.close()
        if args.unix is not None and os.path.exists(args.unix):
            os.unlink(args.unix)
