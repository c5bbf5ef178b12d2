"""i-PI runs driven by the LAMMPS q-TIP4P/F reference over fix ipi: input XML and process handling.

    from symbreak.training.ipi_md import MDSettings, run_reference_md
    result = run_reference_md("runs/liq300", "init.xyz", MDSettings(temperature=300, steps=200, nbeads=4))
    result.trajectories    # ["runs/liq300/sim.pos_0.xyz", ...] (Angstrom, one file per bead)
    result.properties      # "runs/liq300/sim.out"

Starts ``i-pi input.xml`` and one ``symbreak reference`` client on a fresh
UNIX socket, each in its own process group, waits for i-PI to finish and
always kills both groups (also on errors and Ctrl-C).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field


@dataclass
class MDSettings:
    """Usage: MDSettings(temperature=300.0, steps=1000, nbeads=1) -> settings of one NVT run.

    timestep in fs; stride: output every `stride` steps; thermostat: "svr"
    (classical, tau `tau` fs) or "pile_l" (used automatically when nbeads > 1,
    centroid tau `tau` fs); vacuum: serve the structure with plain Coulomb
    (isolated molecule in a large box); kspace_accuracy: PPPM accuracy.
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
    extra_properties: list[str] = field(default_factory=list)


@dataclass
class MDResult:
    """Where a finished run left its files."""

    directory: str
    properties: str
    trajectories: list[str]
    wall_time: float


def ipi_input_xml(settings: MDSettings, init_file: str, address: str, prefix: str = "sim") -> str:
    """Usage: ipi_input_xml(MDSettings(), "init.xyz", "h2o") -> i-PI XML text (NVT, UNIX socket)."""
    s = settings
    thermostat = s.thermostat or ("pile_l" if s.nbeads > 1 else "svr")
    if thermostat not in ("svr", "pile_l", "langevin"):
        raise ValueError(f"thermostat must be svr, pile_l or langevin, got {thermostat!r}")
    props = [
        "step",
        "time{picosecond}",
        "conserved{electronvolt}",
        "temperature{kelvin}",
        "kinetic_cv{electronvolt}",
        "potential{electronvolt}",
        "kinetic_cv{electronvolt}(H)",
        "kinetic_cv{electronvolt}(O)",
        "pressure_cv{megapascal}",
    ] + list(s.extra_properties)
    pile = "<pile_lambda> 0.5 </pile_lambda>" if thermostat == "pile_l" else ""
    return f"""<simulation verbosity='low'>
  <output prefix='{prefix}'>
    <properties stride='{s.stride}' filename='out'> [ {', '.join(props)} ] </properties>
    <trajectory filename='pos' stride='{s.stride}' format='xyz' cell_units='angstrom'> positions{{angstrom}} </trajectory>
    <checkpoint stride='{max(s.stride, 1000)}'/>
  </output>
  <total_steps> {s.steps} </total_steps>
  <prng><seed> {s.seed} </seed></prng>
  <ffsocket name='qtip4pf' mode='unix' pbc='false'>
    <address> {address} </address>
    <latency> 1e-4 </latency>
    <timeout> 600 </timeout>
  </ffsocket>
  <system>
    <initialize nbeads='{s.nbeads}'>
      <file mode='xyz'> {init_file} </file>
      <velocities mode='thermal' units='kelvin'> {s.temperature} </velocities>
    </initialize>
    <forces><force forcefield='qtip4pf'/></forces>
    <ensemble><temperature units='kelvin'> {s.temperature} </temperature></ensemble>
    <motion mode='dynamics'>
      <fixcom> {str(s.fixcom)} </fixcom>
      <dynamics mode='nvt'>
        <timestep units='femtosecond'> {s.timestep} </timestep>
        <thermostat mode='{thermostat}'>
          <tau units='femtosecond'> {s.tau} </tau>{pile}
        </thermostat>
      </dynamics>
    </motion>
  </system>
</simulation>
"""


def unique_address(tag: str = "sb") -> str:
    """Usage: unique_address() -> a socket name whose /tmp/ipi_NAME does not exist yet."""
    while True:
        name = f"{tag}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if not os.path.exists("/tmp/ipi_" + name):
            return name


def _kill_group(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _ipi_command() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "i-pi")
    return [exe] if os.path.isfile(exe) else [shutil.which("i-pi") or "i-pi"]


def _symbreak_command() -> list[str]:
    return [sys.executable, "-m", "symbreak.cli"]


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

    Raises RuntimeError with the tail of the logs if i-PI or the client fails,
    TimeoutError after ``timeout`` seconds. Logs: ipi.log, reference.log.
    """
    from ..potentials.lammps_env import lammps_environment

    os.makedirs(directory, exist_ok=True)
    shutil.copy(init_file, os.path.join(directory, "init.xyz"))
    address = unique_address()
    with open(os.path.join(directory, "input.xml"), "w") as fh:
        fh.write(ipi_input_xml(settings, "init.xyz", address, prefix))
    env = lammps_environment()
    env["PYTHONUNBUFFERED"] = "1"
    socket_path = "/tmp/ipi_" + address
    ipi = client = None
    start = time.time()
    ipi_log = open(os.path.join(directory, "ipi.log"), "w")
    ref_log = open(os.path.join(directory, "reference.log"), "w")
    try:
        ipi = subprocess.Popen(_ipi_command() + ["input.xml"], cwd=directory, stdout=ipi_log,
                               stderr=subprocess.STDOUT, env=env, start_new_session=True)
        while not os.path.exists(socket_path):
            if ipi.poll() is not None:
                raise RuntimeError(f"i-PI exited before opening its socket:\n{_tail(ipi_log.name)}")
            if time.time() - start > 60:
                raise TimeoutError(f"i-PI did not open {socket_path} within 60 s")
            time.sleep(0.1)
        cmd = _symbreak_command() + ["reference", "--unix", "--address", address, "--structure", "init.xyz",
                                     "--kspace-accuracy", str(settings.kspace_accuracy)]
        if settings.vacuum:
            cmd.append("--vacuum")
        client = subprocess.Popen(cmd, cwd=directory, stdout=ref_log, stderr=subprocess.STDOUT, env=env,
                                  start_new_session=True)
        last = 0.0
        while ipi.poll() is None:
            if client.poll() is not None and client.returncode != 0:
                raise RuntimeError(f"the LAMMPS client failed:\n{_tail(ref_log.name)}")
            if time.time() - start > timeout:
                raise TimeoutError(f"i-PI run in {directory} exceeded {timeout:.0f} s")
            if progress and time.time() - last > 10:
                last = time.time()
                progress(_progress_line(os.path.join(directory, f"{prefix}.out"), settings.steps))
            time.sleep(0.2)
        if ipi.returncode != 0:
            raise RuntimeError(f"i-PI failed (exit {ipi.returncode}):\n{_tail(ipi_log.name)}")
        try:
            client.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    finally:
        _kill_group(client)
        _kill_group(ipi)
        ipi_log.close()
        ref_log.close()
        if os.path.exists(socket_path):
            try:
                os.unlink(socket_path)
            except OSError:
                pass
    trajectories = sorted(glob.glob(os.path.join(directory, f"{prefix}.pos_*.xyz")))
    return MDResult(directory, os.path.join(directory, f"{prefix}.out"), trajectories, time.time() - start)


def _tail(path: str, n: int = 15) -> str:
    try:
        with open(path) as fh:
            return "".join(fh.readlines()[-n:])
    except OSError:
        return ""


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


__all__ = ["MDSettings", "MDResult", "ipi_input_xml", "unique_address", "run_reference_md", "read_properties"]
