"""Run one i-PI simulation with its clients and wait for it: the building block of every case.

    seconds = run_simulation(workdir, structure, xml_text, servers=[["symbreak", "serve", ...]])

Writes ``init.xyz`` and ``input.xml`` into ``workdir``, starts i-PI, then the
clients, waits for i-PI to finish, checks that every client exited cleanly
(a repeated server command shares its socket: i-PI may finish without any one
of them, which is then a note, not a failure), and stops
whatever is left, whatever happened.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..structures.io import write_ipi_xyz
from .processes import ProcessGroup, executable


def symbreak_command(*args: str) -> list[str]:
    """The command line that runs ``symbreak ARGS`` with this Python."""
    return [sys.executable, "-m", "symbreak.cli", *args]


def run_simulation(workdir, structure, xml_text: str, servers: list[list[str]], timeout: float | None = None,
                   init_file: str = "init.xyz") -> float:
    """Run i-PI on ``xml_text`` with ``servers``; return the wall time of i-PI in seconds."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    write_ipi_xyz(workdir / init_file, structure)
    (workdir / "input.xml").write_text(xml_text)
    with ProcessGroup(workdir) as group:
        start = time.perf_counter()
        ipi = group.start("ipi", [executable("i-pi"), "input.xml"])
        for k, command in enumerate(servers):
            group.start(f"server{k}", command, spare=servers.count(command) > 1)  # same command: a shared socket
        group.wait_for(ipi, timeout=timeout)
        seconds = time.perf_counter() - start
        for note in group.wait_clients(ipi):
            print(f"note: {note}", file=sys.stderr)
    return seconds
