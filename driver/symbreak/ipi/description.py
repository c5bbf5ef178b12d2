"""What an i-PI input says a run is, as frozen types: the contract between i-PI's files and the analysis.

    d = read_description("runs/foreign")            # symbreak.ipi.input_reader: a RunDescription
    d.motion, d.ensemble, d.timestep_fs, d.nbeads  # "dynamics", "nvt", 0.5, 1
    d.components[1].weight, d.nmts                 # 0.0, (1, 10)
    d.trajectory("positions").path(bead=0)         # "sim.pos_0.extxyz" (relative to the run folder)
    d.properties_output.path                       # "sim.out"

Units are symbreak's: fs, K, bar, Angstrom (converted from i-PI's units where
the input gives them, from atomic units where it does not). Names of output
files follow i-PI 3.3 (ipi/engine/outputs.py): ``PREFIX.FILENAME`` for
properties, ``PREFIX.FILENAME_B.EXT`` for per-bead trajectories (B zero-padded
to 1 + floor(log10(nbeads)) digits, as i-PI pads it; EXT = the format, ``extxyz``
for ``ase``), ``PREFIX.FILENAME.EXT`` for global ones, and no extension for
extras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

#: i-PI's <motion mode=...> (ipi/inputs/motion/motion.py)
Motion = Literal["dynamics", "replay", "minimize", "vibrations", "neb", "string", "driven_dynamics",
                 "constrained_dynamics", "t_ramp", "p_ramp", "alchemy", "atomswap", "planetary", "instanton",
                 "al-kmc", "dummy", "scp", "normalmodes", "multi"]
#: i-PI's <dynamics mode=...>
Ensemble = Literal["nve", "nvt", "npt", "nst", "sc", "scnpt", "nvt-cc"]
#: i-PI's <thermostat mode=...>
ThermostatKind = Literal["langevin", "svr", "pile_l", "pile_g", "gle", "nm_gle", "nm_gle_g", "cl", "ffl", "multi"]
#: the forcefield tags of i-PI, less their "ff" (ffsocket -> socket)
ForcefieldKind = Literal["socket", "direct", "mpi", "lj", "dmd", "debye", "plumed", "yaff", "committee", "rotations",
                         "sgdml", "cavphsocket"]
#: i-PI's <trajectory format=...>
TrajectoryFormat = Literal["xyz", "pdb", "ase", "bin"]

MOTIONS: tuple[str, ...] = get_args(Motion)
ENSEMBLES: tuple[str, ...] = get_args(Ensemble)
THERMOSTATS: tuple[str, ...] = get_args(ThermostatKind)
FORCEFIELD_KINDS: tuple[str, ...] = get_args(ForcefieldKind)
TRAJECTORY_FORMATS: tuple[str, ...] = get_args(TrajectoryFormat)

#: trajectories i-PI writes one file per bead (ipi/engine/outputs.py, TrajectoryOutput.open_stream)
PER_BEAD = frozenset({"positions", "velocities", "forces", "forces_spring", "Eforces", "extras", "extras_bias",
                      "forces_sc", "momenta", "becx", "becy", "becz"})


@dataclass(frozen=True)
class Forcefield:
    """``Forcefield("driver", "socket", mode="unix", address="h2o")``: one i-PI forcefield and where a socket one listens."""

    name: str
    kind: ForcefieldKind
    mode: str | None = None  # unix | inet for sockets
    address: str | None = None
    port: int | None = None
    pbc: bool | None = None


@dataclass(frozen=True)
class ForceComponent:
    """``ForceComponent(1, "ref", weight=0.0)``: one <force> of the system; ``index`` is k in pot_component_raw(k)."""

    index: int
    forcefield: str
    weight: float = 1.0
    mts_weights: tuple[float, ...] | None = None
    nbeads: int | None = None
    name: str | None = None

    @property
    def drives(self) -> bool:
        """``component.drives``: does it move the atoms (a weight, and an MTS weight if any, that is not zero)?"""
        return self.weight != 0 and (self.mts_weights is None or any(w != 0 for w in self.mts_weights))


@dataclass(frozen=True)
class Thermostat:
    """``Thermostat("svr", 10.0)``: the thermostat of the dynamics; ``tau_fs`` None for kinds without one (gle)."""

    kind: ThermostatKind
    tau_fs: float | None = None


@dataclass(frozen=True)
class PropertiesOutput:
    """``PropertiesOutput("sim.out", 1, ("step", "potential{electronvolt}"))``: a <properties> output (path in the folder)."""

    path: str
    stride: int
    properties: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """``output.names``: the properties without units (``conserved{electronvolt}`` -> ``conserved``)."""
        return tuple(property_name(p) for p in self.properties)


def property_name(text: str) -> str:
    """``property_name("pot_component_raw(1){electronvolt}")`` -> ``pot_component_raw(1)``."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out).strip()


def bead_label(bead: int, nbeads: int) -> str:
    """``bead_label(3, 16)`` -> ``03``: i-PI pads bead numbers to 1 + floor(log10(nbeads)) digits (its formula)."""
    width = int(1 + math.floor(math.log(max(nbeads, 1)) / math.log(10)))
    return f"{bead:0{width}d}"


@dataclass(frozen=True)
class TrajectoryOutput:
    """``TrajectoryOutput("positions{angstrom}", "pos", "sim")``: a <trajectory> output; ``what`` as written."""

    what: str
    filename: str  # the filename attribute
    prefix: str
    stride: int = 1
    format: TrajectoryFormat = "xyz"
    bead: int = -1  # i-PI's: >= 0 only that bead, -n every n-th bead
    nbeads: int = 1

    @property
    def quantity(self) -> str:
        """``extras_component_raw(1)`` -> ``extras_component_raw``, ``positions{angstrom}`` -> ``positions``."""
        return property_name(self.what).split("(")[0].strip()

    @property
    def argument(self) -> str | None:
        """``extras_component_raw(1)`` -> ``1`` (the text in parentheses, first item), None without one."""
        name = property_name(self.what)
        if "(" not in name:
            return None
        return name.split("(", 1)[1].rsplit(")", 1)[0].split(";")[0].split(",")[0].strip() or None

    @property
    def units(self) -> str | None:
        inside = self.what.split("{", 1)[1].split("}", 1)[0] if "{" in self.what else ""
        return inside or None

    @property
    def per_bead(self) -> bool:
        return self.quantity in PER_BEAD

    def has_bead(self, bead: int) -> bool:
        """``output.has_bead(3)``: does i-PI write a file for bead 3 (always, for global trajectories)?"""
        if not self.per_bead:
            return True
        if bead < 0 or bead >= self.nbeads:
            return False
        return bead % -self.bead == 0 if self.bead < 0 else bead == self.bead

    def path(self, bead: int = 0) -> str:
        """``output.path(bead=1)`` -> ``sim.pos_1.xyz``: the file i-PI writes, relative to the run folder."""
        base = f"{self.prefix}.{self.filename}"
        extras = self.quantity.startswith("extras")
        if self.per_bead:
            base += "_" + bead_label(bead, self.nbeads)
        if extras:
            return base
        return base + (".extxyz" if self.format == "ase" else f".{self.format}")


@dataclass(frozen=True)
class RunDescription:
    """``read_description("runs/x")``: what an i-PI input (or checkpoint) says about its run; fs, K, bar, Angstrom.

    ``nmts`` is () without multiple time stepping; ``temperature_k`` is the
    ensemble's (None when the input has none, as in many NVE inputs), and
    ``initial_temperature_k`` the thermal velocities'. ``cell`` (rows, A) and
    ``isolated`` come from the starting structure (the init file, or the
    checkpoint's beads); both are None when it could not be read.
    """

    source: str
    checkpoint: bool
    prefix: str
    motion: Motion
    ensemble: Ensemble | None
    timestep_fs: float | None
    nbeads: int
    forcefields: tuple[Forcefield, ...]
    components: tuple[ForceComponent, ...]
    properties: tuple[PropertiesOutput, ...]
    trajectories: tuple[TrajectoryOutput, ...]
    nmts: tuple[int, ...] = ()
    temperature_k: float | None = None
    initial_temperature_k: float | None = None
    pressure_bar: float | None = None
    thermostat: Thermostat | None = None
    total_steps: int | None = None
    step: int = 0
    seed: int | None = None
    replay_file: str | None = None
    replay_format: str | None = None
    init_file: str | None = None
    cell: tuple[tuple[float, float, float], ...] | None = None
    isolated: bool | None = None

    @property
    def mts(self) -> bool:
        """``d.mts``: multiple time stepping (more than one level in nmts)."""
        return len(self.nmts) > 1

    @property
    def properties_output(self) -> PropertiesOutput | None:
        """``d.properties_output.path``: the properties output with the most columns (first of equals); None if none."""
        return max(self.properties, key=lambda p: len(p.properties), default=None)

    def forcefield(self, name: str) -> Forcefield | None:
        """``d.forcefield("driver")``: the forcefield of that name, None if there is none."""
        return next((f for f in self.forcefields if f.name == name), None)

    def trajectory(self, quantity: str, bead: int = 0, argument: str | int | None = None) -> TrajectoryOutput | None:
        """``d.trajectory("positions", bead=1)``: the output writing that quantity (and bead), None if none does.

        Among several, xyz before other formats, then the smallest stride.
        """
        arg = None if argument is None else str(argument)
        found = [t for t in self.trajectories
                 if t.quantity == quantity and (arg is None or t.argument == arg) and t.has_bead(bead)]
        found.sort(key=lambda t: (t.format != "xyz", t.stride))
        return found[0] if found else None


__all__ = [
    "ENSEMBLES", "FORCEFIELD_KINDS", "MOTIONS", "PER_BEAD", "THERMOSTATS", "TRAJECTORY_FORMATS", "Ensemble",
    "ForceComponent", "Forcefield", "ForcefieldKind", "Motion", "PropertiesOutput", "RunDescription", "Thermostat",
    "ThermostatKind", "TrajectoryFormat", "TrajectoryOutput", "bead_label", "property_name",
]
