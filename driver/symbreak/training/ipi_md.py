"""i-PI runs driven by the LAMMPS q-TIP4P/F reference over fix ipi, for reference data.

    from symbreak.training.ipi_md import MDSettings, run_reference_md
    result = run_reference_md("runs/liq300", "init.xyz", MDSettings(temperature=300, steps=200, nbeads=4))
    result.trajectories    # ["runs/liq300/sim.positions_0.xyz", ...] (Angstrom, one file per bead)
    result.properties      # "runs/liq300/sim.out"

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
from dataclasses import dataclass, field

from ..ipi.inputs import ForceTerm, SimulationSpec, SocketSpec, simulation_xml
from ..ipi.launch import symbreak_command
from ..ipi.processes import ProcessGroup, executable, unique_socket_name


@dataclass
class MDSettings:
    """Usage: MDSettings(temperature=300.0, steps=1000, nbeads=1) -> settings of one NVT (or NPT) run.

    timestep in fs; stride: output every `stride` steps; thermostat: "svr"
    (classical, tau `tau` fs) or "pile_l" (used automatically when nbeads > 1,
    centroid tau `tau` fs); vacuum: serve the structure with plain Coulomb
    (isolated molecule in a large box); kspace_accuracy: PPPM accuracy;
    ensemble "npt" adds i-PI's isotropic barostat at ``pressure_bar`` (time
    constant ``barostat_tau`` fs) and records the volume; lj_tail adds the
    Lennard-Jones long-range (tail) correction to energy and pressure.
    """

    temperature: float = 300.0
    steps: int = 1000
    nbeads: int = 1
    timestep: float = 0.5
    stride: int = 20
    tau: float = 100.0
    thermostat: str | None = None
    seed: int = 12345
    vacuum: bool = False
    kspace_accuracy: float = 1e-5
    fixcom: bool = True
    ensemble: str = "nvt"
    pressure_bar: float = 1.0
    barostat_tau: float = 200.0
    lj_tail: bool = False
    extra_properties: list[str] = field(default_factory=list)


@dataclass
class MDResult:
    """Where a finished run left its files."""

    directory: str
    properties: str
    trajectories: list[str]
    wall_time: float


def reference_md_spec(settings: MDSettings, init_file: str, address: str, prefix: str = "sim") -> SimulationSpec:
    """Usage: reference_md_spec(MDSettings(), "init.xyz", "h2o") -> the i-PI input of a reference run."""
    s = settings
    thermostat = s.thermostat or ("pile_l" if s.nbeads > 1 else "svr")
    properties = [
        "step", "time{picosecond}", "conserved{electronvolt}", "temperature{kelvin}", "kinetic_cv{electronvolt}",
        "potential{electronvolt}", "kinetic_cv{electronvolt}(H)", "kinetic_cv{electronvolt}(O)",
        "pressure_cv{megapascal}",
    ] + (["volume{angstrom3}"] if s.ensemble == "npt" else []) + list(s.extra_properties)
    return SimulationSpec(
        init_file=init_file, steps=s.steps, forcefields=[SocketSpec("qtip4pf", address)],
        forces=[ForceTerm("qtip4pf")], ensemble=s.ensemble, pressure_bar=s.pressure_bar,
        barostat_tau_fs=s.barostat_tau, thermostat=thermostat, thermostat_tau_fs=s.tau,
        temperature_k=s.temperature, timestep_fs=s.timestep, nbeads=s.nbeads, seed=s.seed, prefix=prefix,
        stride=s.stride, properties=properties, trajectories=["positions{angstrom}"], fixcom=s.fixcom,
        restart_stride=max(s.stride, 1000),
    )


def ipi_input_xml(settings: MDSettings, init_file: str, address: str, prefix: str = "sim") -> str:
    """Usage: ipi_input_xml(MDSettings(), "init.xyz", "h2o") -> i-PI XML text (NVT, UNIX socket)."""
    return simulation_xml(reference_md_spec(settings, init_file, address, prefix))


def run_reference_md(
    directory: str,
    init_file: str,
    settings: MDSettings,
    *,
    timeout: float = 3600.0,
    prefix: str = "sim",
    progress=None,
) -> MDResult:
    """Usage: run_reference_md("out/run1", "init.xyz", MDSettings(steps=100)) -> MDResult.

    Raises ProcessFailed (a RuntimeError) with the tail of the logs if i-PI or
    the client fails or ``timeout`` seconds pass. Logs: ipi.log, reference.log.
    """
    os.makedirs(directory, exist_ok=True)
    shutil.copy(init_file, os.path.join(directory, "init.xyz"))
    address = unique_socket_name("ref")
    with open(os.path.join(directory, "input.xml"), "w") as fh:
        fh.write(ipi_input_xml(settings, "init.xyz", address, prefix))
    client = symbreak_command("reference", "--unix", "--address", address, "--structure", "init.xyz",
                              "--kspace-accuracy", str(settings.kspace_accuracy))
    if settings.vacuum:
        client.append("--vacuum")
    if settings.ensemble == "npt":  # PPPM must follow the changing box
        client.append("--reset-kspace")
    if settings.lj_tail:
        client.append("--lj-tail")
    start = time.time()
    last = [start]
    out_file = os.path.join(directory, f"{prefix}.out")

    def report():
        if progress and time.time() - last[0] > 10:
            last[0] = time.time()
            progress(_progress_line(out_file, settings.steps))

    with ProcessGroup(directory, env={**os.environ, "PYTHONUNBUFFERED": "1"}) as group:
        ipi = group.start("ipi", [executable("i-pi"), "input.xml"])
        group.start("reference", client)
        group.wait_for(ipi, timeout=timeout, on_poll=report)
    return MDResult(directory, out_file, bead_trajectories(directory, prefix), time.time() - start)


def bead_trajectories(directory: str, prefix: str = "sim") -> list[str]:
    """Usage: bead_trajectories("runs/liq300") -> the position files of a run, one per bead, in bead order."""
    paths = glob.glob(os.path.join(directory, f"{prefix}.positions_*.xyz"))
    return sorted(paths, key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))


def _progress_line(out_file: str, total: int) -> str:
    step = 0
    try:
        with open(out_file) as fh:
            rows = [line for line in fh if line.strip() and not line.startswith("#")]
        if rows:
            step = int(float(rows[-1].split()[0]))
    except (OSError, ValueError):
        pass
    return f"step {step}/{total}"


def read_properties(path: str):
    """Usage: read_properties("sim.out") -> dict name -> numpy array (i-PI's own reader)."""
    from ipi.scripting import read_output

    values, _info = read_output(path)
    return values


__all__ = ["MDSettings", "MDResult", "bead_trajectories", "ipi_input_xml", "reference_md_spec", "run_reference_md", "read_properties"]
