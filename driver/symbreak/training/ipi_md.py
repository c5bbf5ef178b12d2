"""i-PI runs driven by the LAMMPS q-TIP4P/F reference over fix ipi, for reference data.

    from symbreak.ipi.md_settings import MDSettings
    from symbreak.training.ipi_md import run_reference_md
    md = MDSettings(temperature_k=300, steps=200, beads=4, thermostat="pile_l", thermostat_tau_fs=100, stride=20)
    result = run_reference_md("runs/liq300", "init.xyz", md, vacuum=False, kspace_accuracy=1e-5)
    result.trajectories    # ["runs/liq300/sim.positions_0.xyz", ...] (Angstrom, one file per bead)
    result.properties      # "runs/liq300/sim.out"

The MD settings are the one :class:`symbreak.ipi.md_settings.MDSettings` of
every i-PI run (``thermostat_for(beads)`` picks PILE-L for path integrals);
what is particular to the reference client (vacuum, PPPM accuracy, the LJ
tail) and extra i-PI properties are keywords of :func:`run_reference_md`.
The input is written by :mod:`symbreak.ipi.inputs` and the processes
(``i-pi`` and one ``symbreak reference`` client on a fresh UNIX socket) are
run by :class:`symbreak.ipi.processes.ProcessGroup`, which always stops
both, also on errors and Ctrl-C.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
from dataclasses import dataclass
from typing import Sequence

from ..ipi.inputs import ForceTerm, SimulationSpec, SocketSpec, simulation_xml
from ..ipi.launch import symbreak_command
from ..ipi.md_settings import MDSettings
from ..ipi.processes import ProcessGroup, executable, unique_socket_name
from ..ipi.progress import Progress


@dataclass(frozen=True)
class MDResult:
    """Usage: run_reference_md(...) -> MDResult: where a finished run left its files."""

    directory: str
    properties: str
    trajectories: list[str]
    wall_time: float


def reference_md_spec(md: MDSettings, init_file: str, address: str, prefix: str = "sim",
                      extra_properties: Sequence[str] = ()) -> SimulationSpec:
    """Usage: reference_md_spec(MDSettings(), "init.xyz", "h2o") -> the i-PI input of a reference run."""
    properties = [
        "step", "time{picosecond}", "conserved{electronvolt}", "temperature{kelvin}", "kinetic_cv{electronvolt}",
        "potential{electronvolt}", "kinetic_cv{electronvolt}(H)", "kinetic_cv{electronvolt}(O)",
        "pressure_cv{megapascal}",
    ] + (["volume{angstrom3}"] if md.ensemble == "npt" else []) + list(extra_properties)
    return SimulationSpec(
        init_file=init_file, forcefields=[SocketSpec("qtip4pf", address)], forces=[ForceTerm("qtip4pf")], md=md,
        prefix=prefix, properties=properties, trajectories=["positions{angstrom}"],
        restart_stride=max(md.stride, 1000),
    )


def ipi_input_xml(md: MDSettings, init_file: str, address: str, prefix: str = "sim",
                  extra_properties: Sequence[str] = ()) -> str:
    """Usage: ipi_input_xml(MDSettings(), "init.xyz", "h2o") -> i-PI XML text (UNIX socket)."""
    return simulation_xml(reference_md_spec(md, init_file, address, prefix, extra_properties))


def run_reference_md(
    directory: str,
    init_file: str,
    md: MDSettings,
    *,
    vacuum: bool = False,
    kspace_accuracy: float = 1e-5,
    lj_tail: bool = False,
    extra_properties: Sequence[str] = (),
    timeout: float = 3600.0,
    prefix: str = "sim",
    progress=None,
) -> MDResult:
    """Usage: run_reference_md("out/run1", "init.xyz", MDSettings(steps=100)) -> MDResult.

    ``vacuum``: the reference serves the structure with plain Coulomb (an
    isolated molecule in a large box); ``kspace_accuracy``: its PPPM accuracy;
    ``lj_tail``: the Lennard-Jones long-range correction to energy and
    pressure; ``extra_properties``: more i-PI properties in the .out file;
    ``progress``: called with a progress line every 10 s. Raises ProcessFailed
    (a RuntimeError) with the tail of the logs if i-PI or the client fails or
    ``timeout`` seconds pass. Logs: ipi.log, reference.log.
    """
    os.makedirs(directory, exist_ok=True)
    shutil.copy(init_file, os.path.join(directory, "init.xyz"))
    address = unique_socket_name("ref")
    with open(os.path.join(directory, "input.xml"), "w") as fh:
        fh.write(ipi_input_xml(md, "init.xyz", address, prefix, extra_properties))
    client = symbreak_command("reference", "--unix", "--address", address, "--structure", "init.xyz",
                              "--kspace-accuracy", str(kspace_accuracy))
    if vacuum:
        client.append("--vacuum")
    if md.ensemble == "npt":  # PPPM must follow the changing box
        client.append("--reset-kspace")
    if lj_tail:
        client.append("--lj-tail")
    start = time.time()
    out_file = os.path.join(directory, f"{prefix}.out")
    tracker = Progress(out_file, md.steps, md.timestep_fs, say=progress, every=10.0)
    with ProcessGroup(directory, env={**os.environ, "PYTHONUNBUFFERED": "1"}) as group:
        ipi = group.start("ipi", [executable("i-pi"), "input.xml"])
        group.start("reference", client)
        group.wait_for(ipi, timeout=timeout, on_poll=tracker.poll)
    return MDResult(directory, out_file, bead_trajectories(directory, prefix), time.time() - start)


def bead_trajectories(directory: str, prefix: str = "sim") -> list[str]:
    """Usage: bead_trajectories("runs/liq300") -> the position files of a run, one per bead, in bead order."""
    paths = glob.glob(os.path.join(directory, f"{prefix}.positions_*.xyz"))
    return sorted(paths, key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))


__all__ = ["MDResult", "bead_trajectories", "ipi_input_xml", "reference_md_spec", "run_reference_md"]
