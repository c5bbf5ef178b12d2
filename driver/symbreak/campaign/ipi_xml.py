"""Writing i-PI inputs: socket forcefields, systems and outputs as small dataclasses.

    xml = simulation_xml(SimulationSpec(
        init_file="init.xyz", steps=100,
        forcefields=[SocketSpec("model", "h2o", mode="unix")],
        forces=[ForceTerm("model")], ensemble="nve"))

Sockets use pbc='false': i-PI then sends unwrapped positions plus the cell and
the potential applies the minimum image itself (wrapping breaks molecules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape


@dataclass
class SocketSpec:
    """An <ffsocket>: mode 'unix' (address = socket name) or 'inet' (address = host, with port)."""

    name: str
    address: str
    mode: str = "unix"
    port: int | None = None
    batch_size: int = 1
    timeout: float = 600.0

    def xml(self) -> str:
        port = f"<port>{self.port}</port>" if self.mode == "inet" else ""
        batch = f"<batch_size>{self.batch_size}</batch_size>" if self.batch_size > 1 else ""
        return (
            f"<ffsocket name='{self.name}' mode='{self.mode}' pbc='false'>"
            f"<address>{escape(self.address)}</address>{port}<latency>1e-4</latency>"
            f"<timeout>{self.timeout:g}</timeout>{batch}</ffsocket>"
        )


@dataclass
class DirectSpec:
    """An in-process <ffdirect> running symbreak's PES (no sockets): parameters as for `symbreak serve`."""

    name: str
    parameters: dict
    batch_size: int = 1

    def xml(self) -> str:
        from symbreak.server import ipi_pes

        pars = ", ".join(f"{k}: {v}" for k, v in self.parameters.items())
        batch = f"<batch_size>{self.batch_size}</batch_size>" if self.batch_size > 1 else ""
        return (
            f"<ffdirect name='{self.name}'><pes>custom</pes><pes_path>{escape(ipi_pes.__file__)}</pes_path>"
            f"<parameters>{{{escape(pars)}}}</parameters>{batch}</ffdirect>"
        )


@dataclass
class RotationsSpec:
    """i-PI's own <ffrotations> (one request per rotation) around a socket or direct forcefield."""

    name: str
    inner: "SocketSpec | DirectSpec"
    grid_mode: str = "legendre"
    grid_order: int = 2
    inversion: bool = False
    random: bool = False

    def xml(self) -> str:
        return (
            f"<ffrotations name='{self.name}'><grid_mode>{self.grid_mode}</grid_mode>"
            f"<grid_order>{self.grid_order}</grid_order><inversion>{self.inversion}</inversion>"
            f"<random>{self.random}</random>{self.inner.xml()}</ffrotations>"
        )


@dataclass
class ForceTerm:
    """A <force> component: forcefield name, weight, optional MTS weights."""

    forcefield: str
    weight: float = 1.0
    mts_weights: tuple[float, ...] | None = None

    def xml(self) -> str:
        mts = ""
        if self.mts_weights is not None:
            mts = "<mts_weights>[" + ", ".join(f"{w:g}" for w in self.mts_weights) + "]</mts_weights>"
        return f"<force forcefield='{self.forcefield}' weight='{self.weight:g}'>{mts}</force>"


@dataclass
class SimulationSpec:
    """Everything an input of a dynamics run needs; units: fs, K, and i-PI's own elsewhere."""

    init_file: str
    steps: int
    forcefields: list
    forces: list
    ensemble: str = "nve"  # nve | nvt
    thermostat: str = "svr"  # svr | langevin | pile_l
    thermostat_tau_fs: float = 10.0
    temperature_k: float = 300.0
    timestep_fs: float = 0.5
    nbeads: int = 1
    nmts: tuple[int, ...] | None = None
    seed: int = 31415
    prefix: str = "simulation"
    stride: int = 1
    properties: list[str] = field(
        default_factory=lambda: [
            "step", "time{picosecond}", "conserved{electronvolt}", "temperature{kelvin}",
            "kinetic_md{electronvolt}", "potential{electronvolt}",
        ]
    )
    trajectories: list[str] = field(default_factory=lambda: ["positions", "momenta", "forces", "extras"])
    fixcom: bool = True
    restart_stride: int = 100
    verbosity: str = "low"

    def thermostat_xml(self) -> str:
        if self.ensemble == "nve":
            return ""
        tau = f"<tau units='femtosecond'>{self.thermostat_tau_fs:g}</tau>"
        if self.thermostat == "svr":
            return f"<thermostat mode='svr'>{tau}</thermostat>"
        if self.thermostat == "langevin":
            return f"<thermostat mode='langevin'>{tau}</thermostat>"
        if self.thermostat == "pile_l":
            return f"<thermostat mode='pile_l'>{tau}<pile_lambda>0.5</pile_lambda></thermostat>"
        raise ValueError(f"unknown thermostat '{self.thermostat}': use svr, langevin or pile_l")


def simulation_xml(spec: SimulationSpec) -> str:
    """The complete i-PI input for a dynamics run described by ``spec``."""
    if spec.ensemble not in ("nve", "nvt"):
        raise ValueError(f"unknown ensemble '{spec.ensemble}': use nve or nvt")
    props = ", ".join(spec.properties)
    trajs = "\n    ".join(
        f"<trajectory filename='{t}' stride='{spec.stride}'> {t} </trajectory>" for t in spec.trajectories
    )
    ffs = "\n  ".join(ff.xml() for ff in spec.forcefields)
    forces = "".join(f.xml() for f in spec.forces)
    nmts = "" if spec.nmts is None else "<nmts>[" + ", ".join(map(str, spec.nmts)) + "]</nmts>"
    return f"""<simulation verbosity='{spec.verbosity}' safe_stride='{spec.restart_stride}'>
  <output prefix='{spec.prefix}'>
    <properties stride='{spec.stride}' filename='out'> [ {props} ] </properties>
    {trajs}
    <checkpoint stride='{spec.restart_stride}'/>
  </output>
  <total_steps>{spec.steps}</total_steps>
  <prng><seed>{spec.seed}</seed></prng>
  {ffs}
  <system>
    <initialize nbeads='{spec.nbeads}'>
      <file mode='xyz'>{escape(spec.init_file)}</file>
      <velocities mode='thermal' units='kelvin'>{spec.temperature_k:g}</velocities>
    </initialize>
    <forces>{forces}</forces>
    <motion mode='dynamics'>
      <fixcom>{spec.fixcom}</fixcom>
      <dynamics mode='{spec.ensemble}'>
        <timestep units='femtosecond'>{spec.timestep_fs:g}</timestep>
        {spec.thermostat_xml()}{nmts}
      </dynamics>
    </motion>
    <ensemble><temperature units='kelvin'>{spec.temperature_k:g}</temperature></ensemble>
  </system>
</simulation>
"""


def write_ipi_xyz(path, structure, comment_extra: str = "") -> None:
    """Write a Structure (Angstrom) as an i-PI xyz with its cell (100 A cube when isolated)."""
    import numpy as np
    from ase.data import chemical_symbols

    if structure.cell is None:
        abc, angles = (100.0, 100.0, 100.0), (90.0, 90.0, 90.0)
    else:
        from ase.geometry import cell_to_cellpar

        par = cell_to_cellpar(structure.cell)
        abc, angles = par[:3], par[3:]
    header = "# CELL(abcABC): {:.8f} {:.8f} {:.8f} {:.5f} {:.5f} {:.5f}  positions{{angstrom}} cell{{angstrom}}".format(
        *abc, *angles
    )
    positions = structure.positions
    if structure.cell is not None:
        # i-PI rebuilds an upper-triangular cell from a, b, c, angles: express positions in that frame
        from ase.geometry import cellpar_to_cell

        frame = cellpar_to_cell(np.r_[abc, angles])
        positions = positions @ np.linalg.solve(structure.cell, frame)
    lines = [str(structure.n_atoms), header + comment_extra]
    for z, r in zip(structure.numbers, positions):
        lines.append(f"{chemical_symbols[z]:2s} {r[0]:16.10f} {r[1]:16.10f} {r[2]:16.10f}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
