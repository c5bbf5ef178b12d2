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

from ..core.errors import InputError


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
    """Everything an i-PI input needs; units fs, K, bar and i-PI's own elsewhere.

    ``motion`` is dynamics (ensemble nve, nvt or npt), minimize (L-BFGS at
    fixed cell) or replay (of ``replay_file``). ``nmts`` (e.g. (1, 10)) turns
    on multiple time stepping; the force terms then carry ``mts_weights``.
    """

    init_file: str
    steps: int
    forcefields: list
    forces: list
    motion: str = "dynamics"
    ensemble: str = "nve"  # nve | nvt | npt
    thermostat: str = "svr"  # svr | langevin | pile_l
    thermostat_tau_fs: float = 10.0
    barostat_tau_fs: float = 200.0
    pressure_bar: float = 1.0
    temperature_k: float = 300.0
    timestep_fs: float = 0.5
    nbeads: int = 1
    nmts: tuple[int, ...] | None = None
    replay_file: str | None = None
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
    #: output stride of single trajectories (by their name in ``trajectories``) instead of ``stride``
    trajectory_strides: dict[str, int] = field(default_factory=dict)
    fixcom: bool = True
    restart_stride: int = 100
    verbosity: str = "low"
    #: text written as an XML comment at the top (what the input is, its parameters)
    comment: str = ""

    def thermostat_xml(self, mode: str | None = None, tau_fs: float | None = None) -> str:
        mode = mode or self.thermostat
        tau = f"<tau units='femtosecond'>{tau_fs or self.thermostat_tau_fs:g}</tau>"
        if mode in ("svr", "langevin"):
            return f"<thermostat mode='{mode}'>{tau}</thermostat>"
        if mode == "pile_l":
            return f"<thermostat mode='pile_l'>{tau}<pile_lambda>0.5</pile_lambda></thermostat>"
        raise InputError(f"unknown thermostat '{mode}': use svr, langevin or pile_l")

    def motion_xml(self) -> str:
        if self.motion == "minimize":
            return (
                "<motion mode='minimize'><optimizer mode='lbfgs'><tolerances>"
                "<energy>1e-7</energy><force>2e-4</force><position>1e-3</position>"
                "</tolerances></optimizer></motion>"
            )
        if self.motion == "replay":
            if not self.replay_file:
                raise InputError("a replay needs the trajectory to replay (replay_file)")
            return f"<motion mode='replay'><file mode='xyz'>{escape(self.replay_file)}</file></motion>"
        if self.motion != "dynamics":
            raise InputError(f"unknown motion '{self.motion}': use dynamics, minimize or replay")
        if self.ensemble not in ("nve", "nvt", "npt"):
            raise InputError(f"unknown ensemble '{self.ensemble}': use nve, nvt or npt")
        inner = f"<timestep units='femtosecond'>{self.timestep_fs:g}</timestep>"
        if self.ensemble in ("nvt", "npt"):
            inner += self.thermostat_xml()
        if self.ensemble == "npt":
            inner += (
                f"<barostat mode='isotropic'><tau units='femtosecond'>{self.barostat_tau_fs:g}</tau>"
                f"{self.thermostat_xml('langevin', 100.0)}</barostat>"
            )
        if self.nmts is not None:
            inner += "<nmts>[" + ", ".join(map(str, self.nmts)) + "]</nmts>"
        return (
            f"<motion mode='dynamics'><fixcom>{self.fixcom}</fixcom>"
            f"<dynamics mode='{self.ensemble}'>{inner}</dynamics></motion>"
        )

    def ensemble_xml(self) -> str:
        pressure = f"<pressure units='bar'>{self.pressure_bar:g}</pressure>" if self.ensemble == "npt" else ""
        return f"<ensemble><temperature units='kelvin'>{self.temperature_k:g}</temperature>{pressure}</ensemble>"


def simulation_xml(spec: SimulationSpec) -> str:
    """The complete i-PI input described by ``spec``."""
    props = ", ".join(spec.properties)
    trajs = "\n    ".join(
        f"<trajectory filename='{trajectory_filename(t)}' stride='{spec.trajectory_strides.get(t, spec.stride)}'> {t} </trajectory>"
        for t in spec.trajectories
    )
    ffs = "\n  ".join(ff.xml() for ff in spec.forcefields)
    forces = "".join(f.xml() for f in spec.forces)
    velocities = (
        f"<velocities mode='thermal' units='kelvin'>{spec.temperature_k:g}</velocities>"
        if spec.motion == "dynamics" else ""
    )
    comment = f"<!--\n{spec.comment.replace('--', '- -')}\n-->\n" if spec.comment else ""
    return comment + f"""<simulation verbosity='{spec.verbosity}' safe_stride='{spec.restart_stride}'>
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
      {velocities}
    </initialize>
    <forces>{forces}</forces>
    {spec.motion_xml()}
    {spec.ensemble_xml()}
  </system>
</simulation>
"""


def trajectory_filename(trajectory: str) -> str:
    """Output name of a trajectory: 'positions{angstrom}' -> 'positions', 'extras_component_raw(1)' -> 'extras_c1'."""
    name = trajectory.split("{")[0].split("(")[0].replace("_component_raw", "")
    return f"{name}_c{trajectory.split('(')[1].rstrip(')')}" if "(" in trajectory else name
