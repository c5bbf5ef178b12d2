"""Running a real i-PI with symbreak servers from tests: short runs, unique sockets, always cleaned up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from symbreak.ipi.inputs import SimulationSpec, simulation_xml
from symbreak.ipi.outputs import read_properties as read_columns
from symbreak.ipi.launch import run_simulation, symbreak_command  # noqa: F401 (re-exported for tests)


def run_ipi(workdir: Path, structure, spec: SimulationSpec, servers: list[list[str]], timeout: float = 240.0,
            input_text: str | None = None) -> Path:
    run_simulation(workdir, structure, input_text or simulation_xml(spec), servers, timeout=timeout,
                   init_file=spec.init_file)
    return workdir


def read_properties(path: Path) -> np.ndarray:
    """The properties file as a (rows, columns) array, read by symbreak's reader (columns in symbreak's units)."""
    return np.column_stack(list(read_columns(path).values()))
