"""Writing i-PI inputs: socket forcefields, systems and outputs as small dataclasses.

    xml = simulation_xml(SimulationSpec(
        init_file="init.xyz",
        forcefields=[SocketSpec("model", "h2o", mode="unix")],
        forces=[ForceTerm("model")],
        md=MDSettings(ensemble="nve", thermostat="none", steps=100)))

Sockets use pbc='false': i-PI then sends unwrapped positions plus the cell and
the potential applies the minimum image itself (wrapping breaks molecules).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence
from xml.sax.saxutils import escape

from ..core.errors import InputError
from .md_settings import BAROSTAT_THERMOSTAT, MDSettings, Thermostat


@dataclass(frozen=True)
class SocketSpec:
    """Usage: SocketSpec("model", "h2o") or SocketSpec("model", "127.0.0.1", "inet", 31415) -> an <ffsocket>.

    Mode 'unix' (address = socket name) or 'inet' (address = host, with port).
    """

    name: str
    address: str
    mode: Literal["unix", "inet"] = "unix"
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


@dataclass(frozen=True)
class DirectSpec:
    """Usage: DirectSpec("model", {"potential": "toy", "strategy": "2i"}) -> an in-process <ffdirect> running symbreak's PES (no sockets).

    An in-process <ffdirect> running symbreak's PES (no sockets): parameters as for `symbreak serve`.
    """

    name: str
    parameters: Mapping
    batch_size: int = 1

    def xml(self) -> str:
        from symbreak.server import ipi_pes

        pars = ", ".join(f"{k}: {v}" for k, v in self.parameters.items())
        batch = f"<batch_size>{self.batch_size}</batch_size>" if self.batch_size > 1 else ""
        return (
            f"<ffdirect name='{self.name}'><pes>custom</pes><pes_path>{escape(ipi_pes.__file__)}</pes_path>"
            f"<parameters>{{{escape(pars)}}}</parameters>{batch}</ffdirect>"
        )


@dataclass(frozen=True)
class RotationsSpec:
    """Usage: RotationsSpec("model", SocketSpec("inner", "h2o"), "legendre", 2) -> i-PI's own <ffrotations>.

    One request per rotation, around a socket or direct forcefield.
    """

    name: str
    inner: "SocketSpec | DirectSpec"
    grid_mode: Literal["legendre", "lebedev"] = "legendre"
    grid_order: int = 2
    inversion: bool = False
    random: bool = False

    def xml(self) -> str:
        return (
            f"<ffrotations name='{self.name}'><grid_mode>{self.grid_mode}</grid_mode>"
            f"<grid_order>{self.grid_order}</grid_order><inversion>{self.inversion}</inversion>"
            f"<random>{self.random}</random>{self.inner.xml()}</ffrotations>"
        )


@dataclass(frozen=True)
class ForceTerm:
    """Usage: ForceTerm("model", 1.0) -> a <force> component: forcefield name, weight, optional MTS weights."""

    forcefield: str
    weight: float = 1.0
    mts_weights: tuple[float, ...] | None = None

    def xml(self) -> str:
        mts = ""
        if self.mts_weights is not None:
            mts = "<mts_weights>[" + ", ".join(f"{w:g}" for w in self.mts_weights) + "]</mts_weights>"
        return f"<force forcefield='{self.forcefield}' weight='{self.weight:g}'>{mts}</force>"


@dataclass(frozen=True)
class SimulationSpec:
    """Usage: SimulationSpec("init.xyz", [SocketSpec("model", "h2o")], [ForceTerm("model")], MDSettings(steps=100)).

    Everything an i-PI input needs: the initial structure, the forcefields and
    force terms, the MD settings (``md``: motion, ensemble, thermostat, time
    step, beads, steps, output stride, seed; units fs, K, bar) and the outputs.
    A replay reads ``replay_file``; with ``md.mts_ratio`` the force terms carry
    ``mts_weights``. Frozen: change one with ``dataclasses.replace``.
    """

    init_file: str
    forcefields: Sequence
    forces: Sequence
    md: MDSettings = MDSettings()
    replay_file: str | None = None
    prefix: str = "simulation"
    properties: Sequence[str] = (
        "step", "time{picosecond}", "conserved{electronvolt}", "temperature{kelvin}",
        "kinetic_md{electronvolt}", "potential{electronvolt}",
    )
    trajectories: Sequence[str] = ("positions", "momenta", "forces", "extras")
    #: output stride of single trajectories (by their name in ``trajectories``) instead of ``md.output_stride``
    trajectory_strides: Mapping[str, int] = field(default_factory=dict)
    restart_stride: int = 100
    verbosity: str = "low"
    #: text written as an XML comment at the top (what the input is, its parameters)
    comment: str = ""

    @property
    def steps(self) -> int:
        return self.md.steps

    @property
    def stride(self) -> int:
        """Steps between output rows (every step for a minimisation or replay)."""
        return self.md.output_stride

    @property
    def timestep_fs(self) -> float:
        return self.md.timestep_fs

    @property
    def nmts(self) -> tuple[int, int] | None:
        """i-PI's <nmts> (1, ratio) with multiple time stepping, else None."""
        return (1, self.md.mts_ratio) if self.md.mts_ratio else None

    def motion_xml(self) -> str:
        md = self.md
        if md.motion == "minimize":
            return (
                "<motion mode='minimize'><optimizer mode='lbfgs'><tolerances>"
                "<energy>1e-7</energy><force>2e-4</force><position>1e-3</position>"
                "</tolerances></optimizer></motion>"
            )
        if md.motion == "replay":
            if not self.replay_file:
                raise InputError("a replay needs the trajectory to replay (replay_file)")
            return f"<motion mode='replay'><file mode='xyz'>{escape(self.replay_file)}</file></motion>"
        inner = f"<timestep units='femtosecond'>{md.timestep_fs:g}</timestep>"
        if md.thermostatted:
            inner += thermostat_xml(md.thermostat, md.thermostat_tau_fs)
        if md.ensemble == "npt":
            inner += (
                f"<barostat mode='isotropic'><tau units='femtosecond'>{md.barostat_tau_fs:g}</tau>"
                f"{thermostat_xml(*BAROSTAT_THERMOSTAT)}</barostat>"
            )
        if self.nmts is not None:
            inner += "<nmts>[" + ", ".join(map(str, self.nmts)) + "]</nmts>"
        return (
            f"<motion mode='dynamics'><fixcom>{md.fixcom}</fixcom>"
            f"<dynamics mode='{md.ensemble}'>{inner}</dynamics></motion>"
        )

    def ensemble_xml(self) -> str:
        md = self.md
        pressure = f"<pressure units='bar'>{md.pressure_bar:g}</pressure>" if md.ensemble == "npt" else ""
        return f"<ensemble><temperature units='kelvin'>{md.temperature_k:g}</temperature>{pressure}</ensemble>"


def thermostat_xml(mode: Thermostat, tau_fs: float) -> str:
    """Usage: thermostat_xml("svr", 10.0) -> "<thermostat mode='svr'>...</thermostat>"."""
    tau = f"<tau units='femtosecond'>{tau_fs:g}</tau>"
    if mode in ("svr", "langevin"):
        return f"<thermostat mode='{mode}'>{tau}</thermostat>"
    if mode == "pile_l":
        return f"<thermostat mode='pile_l'>{tau}<pile_lambda>0.5</pile_lambda></thermostat>"
    raise InputError(f"no i-PI thermostat for {mode!r}: use svr, langevin or pile_l")


def simulation_xml(spec: SimulationSpec) -> str:
    """Usage: simulation_xml(spec) -> the complete i-PI input described by ``spec``."""
    props = ", ".join(spec.properties)
    trajs = "\n    ".join(
        f"<trajectory filename='{trajectory_filename(t)}' stride='{spec.trajectory_strides.get(t, spec.stride)}'> {t} </trajectory>"
        for t in spec.trajectories
    )
    ffs = "\n  ".join(ff.xml() for ff in spec.forcefields)
    forces = "".join(f.xml() for f in spec.forces)
    velocities = (
        f"<velocities mode='thermal' units='kelvin'>{spec.md.temperature_k:g}</velocities>"
        if spec.md.motion == "dynamics" else ""
    )
    comment = f"<!--\n{spec.comment.replace('--', '- -')}\n-->\n" if spec.comment else ""
    return comment + f"""<simulation verbosity='{spec.verbosity}' safe_stride='{spec.restart_stride}'>
  <output prefix='{spec.prefix}'>
    <properties stride='{spec.stride}' filename='out'> [ {props} ] </properties>
    {trajs}
    <checkpoint stride='{spec.restart_stride}'/>
  </output>
  <total_steps>{spec.steps}</total_steps>
  <prng><seed>{spec.md.seed}</seed></prng>
  {ffs}
  <system>
    <initialize nbeads='{spec.md.beads}'>
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
    """Usage: trajectory_filename("extras_component_raw(1)") -> "extras_c1" (the output name of a trajectory).

    'positions{angstrom}' -> 'positions'.
    """
    name = trajectory.split("{")[0].split("(")[0].replace("_component_raw", "")
    return f"{name}_c{trajectory.split('(')[1].rstrip(')')}" if "(" in trajectory else name
