"""A worker's side of parallel averaging: greet the coordinator, then evaluate the shares it sends.

    serve_coordinator(sock, load_potential("default"), "default")   # returns when the coordinator quits

The worker evaluates each share as a serial server would (the potential's own
chunking); an error in the potential goes back to the coordinator as a one-line
failure, which the coordinator raises, and the worker keeps serving.
"""

from __future__ import annotations

import socket
import sys
import traceback
from typing import Callable

from ..core.errors import SymbreakError
from ..potentials.base import Potential
from ..symmetry.strategies import evaluate_chunked
from .worker_protocol import WorkerError, recv_request, send_failure, send_hello, send_results


def serve_coordinator(sock: socket.socket, potential: Potential, spec: str,
                      log: Callable[[str], None] = lambda line: None) -> int:
    """Answer one coordinator until it sends QUIT or goes away; the number of shares evaluated."""
    send_hello(sock, spec)
    shares = 0
    while True:
        try:
            structures = recv_request(sock)
        except WorkerError as err:
            log(f"the coordinator went away after {shares} shares: {err}")
            return shares
        if structures is None:
            log(f"the coordinator is done after {shares} shares")
            return shares
        try:
            out = evaluate_chunked(potential, structures, potential.chunk_size)
        except SymbreakError as err:
            send_failure(sock, str(err))
            continue
        except Exception as err:  # a bug in a potential: its traceback here, one line for the coordinator
            traceback.print_exc(file=sys.stderr)
            send_failure(sock, f"{type(err).__name__}: {err}")
            continue
        send_results(sock, out)
        shares += 1


__all__ = ["serve_coordinator"]
