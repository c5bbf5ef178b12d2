"""Run a named case: fill the i-PI input, start i-PI, the model servers and the reference, show progress.

    result = run_case(RunConfig(case="gas-nve", strategy="2i", steps=200, out="runs/gas-2i"))
    result.out / "simulation.out"      # i-PI's own outputs, next to manifest.json

Forcefields of a run (their order is the component index k of i-PI's
``pot_component_raw(k)`` outputs, listed in the manifest):
  model        the potential wrapped in the strategy (weight 1)
  plain, correction   with MTS: plain on the inner step, delta:STRATEGY on the outer one
  replay:S     for the replay case, one per strategy S (weight 0)
  reference    q-TIP4P/F by LAMMPS at weight 0, so every frame has the true energy
Every process is stopped when the run ends, fails or is interrupted; a failing
process is named with the last lines of its log. Re-running into a folder that
holds an unfinished run resumes it from i-PI's checkpoint.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..potentials.spec import PotentialError, parse_potential_spec
from ..structures.io import write_ipi_xyz
from ..symmetry.strategies import parse_strategy_spec
from .cases import Case, get_case
from .ipi_xml import ForceTerm, SimulationSpec, SocketSpec, simulation_xml
from .launch import symbreak_command
from .resume import checkpoint_step, truncate_outputs
from .processes import ProcessGroup, executable, free_tcp_port, unique_socket_name

REPLAY_STRATEGIES = ("plain", "i", "2", "2i", "3i")
#: inner steps per outer step of the MTS cases (their time step is the outer one)
MTS_RATIO = 10


@dataclass
class RunConfig:
    """What to run: a case, a potential and a strategy, for so many steps, into ``out``."""

    case: str
    out: str
    strategy: str = "plain"
    potential: str = "default"
    steps: int | None = None
    beads: int | None = None
    size: int | None = None
    servers: int = 1
    seed: int = 31415
    transport: str = "unix"  # unix | inet
    host: str = "127.0.0.1"
    threads: int = 1
    reference: bool | None = None  # None: the case's default
    trajectory: str | None = None  # for replay
    #: start from the last frame of this xyz file (e.g. the end of an earlier run) instead of the case's structure
    init_structure: str | None = None
    replay_strategies: tuple[str, ...] = REPLAY_STRATEGIES
    quiet: bool = False
    #: socket names CASE-ROLE (UNIX) or ports from 31415 up (TCP) instead of unique ones: for input templates
    fixed_addresses: bool = False
    #: i-PI's verbosity; 'high' logs the wall time of every step (see campaign.timing)
    verbosity: str = "low"
    #: MTS cases: inner steps per outer step (the inner step stays at the case's 0.5 fs; the outer step
    #: is mts_ratio x 0.5 fs). None: the case's 10, an outer step of 5 fs
    mts_ratio: int | None = None


@dataclass
class Forcefield:
    """One forcefield of the run and the command line of its client(s)."""

    name: str
    role: str
    command: list[str]
    strategy: str | None = None
    weight: float = 1.0
    mts_weights: tuple[float, ...] | None = None
    address: str = ""
    port: int | None = None


@dataclass
class RunResult:
    out: Path
    steps: int
    seconds: float
    resumed: bool = False


def _versions() -> dict:
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for pkg in ("symbreak", "ipi", "numpy", "torch", "ase", "lammps"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return versions


def _data_rows(path: Path) -> int:
    try:
        with open(path) as fh:
            return sum(1 for line in fh if line.strip() and not line.startswith("#"))
    except OSError:
        return 0


class Progress:
    """Follows i-PI's properties file: prints steps done, speed (ns/day, ms/step) and ETA every ``every`` s.

    The speed counts from the first step written, so start-up (i-PI, sockets,
    model loading) is not in it; ``ms_per_step`` keeps the final figure.
    """

    def __init__(self, path: Path, total: int, stride: int, timestep_fs: float, quiet: bool, every: float = 10.0):
        self.path, self.total, self.stride, self.dt, self.quiet, self.every = path, total, stride, timestep_fs, quiet, every
        self.origin: tuple[float, int] | None = None  # (time, steps) when the first step appeared
        self.ms_per_step: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def steps_done(self) -> int:
        return min(max(_data_rows(self.path) - 1, 0) * self.stride, self.total)

    def _rate(self, done: int) -> float:
        if self.origin is None or done <= self.origin[1]:
            return 0.0
        return (done - self.origin[1]) / (time.monotonic() - self.origin[0])

    def _loop(self):
        last = time.monotonic()
        while not self._stop.wait(0.25):
            done = self.steps_done()
            if self.origin is None and done > 0:
                self.origin = (time.monotonic(), done)
            if time.monotonic() - last >= self.every:
                last = time.monotonic()
                self.report()

    def report(self, final: bool = False):
        done = self.steps_done()
        rate = self._rate(done)
        if final and rate > 0:
            self.ms_per_step = 1e3 / rate
        if self.quiet:
            return
        if rate > 0:
            ns_day = rate * self.dt * 1e-6 * 86400
            speed = f"{ns_day:.3f} ns/day  {1e3 / rate:.1f} ms/step"
            tail = "done" if final else f"ETA {(self.total - done) / rate:.0f} s"
        else:
            speed, tail = "starting", ""
        print(f"  step {done}/{self.total}  {speed}  {tail}", file=sys.stderr, flush=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class Endpoints:
    """Hands out socket addresses: unique UNIX names, or free TCP ports on ``host``."""

    def __init__(self, config: RunConfig):
        self.config = config
        self.count = 0

    def new(self, role: str) -> tuple[str, int | None, list[str]]:
        fixed = self.config.fixed_addresses
        self.count += 1
        if self.config.transport == "unix":
            name = f"{self.config.case}-{role}" if fixed else unique_socket_name(f"{self.config.case}-{role}")
            return name, None, ["--unix", "--address", name]
        port = 31414 + self.count if fixed else free_tcp_port()
        return self.config.host, port, ["--host", self.config.host, "--port", str(port)]


def _serve(config: RunConfig, strategy: str, where: list[str], vacuum: bool) -> list[str]:
    command = symbreak_command(
        "serve", "--potential", parse_potential_spec(config.potential).with_absolute_paths().text,
        "--strategy", strategy, *where,
        "--threads", str(config.threads), "--quiet", "--structure", "init.xyz",
    )
    return command + (["--vacuum"] if vacuum else [])


def forcefields_for(config: RunConfig, case: Case) -> list[Forcefield]:
    """The forcefields (and their clients) a case needs with this configuration."""
    spec = parse_strategy_spec(config.strategy)  # validates the strategy string early
    endpoints = Endpoints(config)
    fields: list[Forcefield] = []

    def add(name, role, strategy, weight=1.0, mts=None):
        address, port, where = endpoints.new(name)
        fields.append(Forcefield(name, role, _serve(config, strategy, where, case.vacuum), strategy, weight, mts,
                                 address, port))

    if case.motion == "replay":
        for k, s in enumerate(config.replay_strategies):
            add(f"replay{k}", "replay", s, weight=1.0 if k == 0 else 0.0)
    elif case.mts:
        if spec.kind not in ("legendre", "lebedev"):
            raise ValueError(f"case {case.name} needs a grid strategy for its outer step (e.g. 2i), not '{config.strategy}'")
        add("plain", "inner", "plain", mts=(0.0, 1.0))
        add("correction", "outer", f"delta:{spec.label if spec.kind == 'legendre' else config.strategy}", mts=(1.0, 0.0))
    else:
        add("model", "model", config.strategy)
    with_reference = case.reference if config.reference is None else config.reference
    if with_reference and config.potential != "qtip4pf":
        address, port, where = endpoints.new("reference")
        command = symbreak_command("reference", *where, "--structure", "init.xyz")
        if case.vacuum:
            command.append("--vacuum")
        if case.ensemble == "npt":
            command.append("--reset-kspace")
        mts = (0.0, 0.0) if case.mts else None
        fields.append(Forcefield("reference", "reference", command, None, 0.0, mts, address, port))
    return fields


def prepare(config: RunConfig) -> tuple[SimulationSpec, list[Forcefield], dict]:
    """The i-PI spec, the forcefields with their clients, and the manifest (nothing started)."""
    case = get_case(config.case)
    potential = parse_potential_spec(config.potential)  # a bad spec fails here, before any process starts
    if potential.kind == "metatomic" and not Path(potential.path).is_file():
        raise PotentialError(f"metatomic model file not found: {potential.path}")
    steps = config.steps if config.steps is not None else case.default_steps
    beads = config.beads if config.beads is not None else case.beads
    if steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    if beads < 1 or config.servers < 1:
        raise ValueError(f"--beads and --servers must be >= 1, got {beads} and {config.servers}")
    if case.motion == "replay" and not config.trajectory:
        raise ValueError("the replay case needs --trajectory FILE (an i-PI or extxyz trajectory in Angstrom)")
    if config.init_structure and case.motion == "replay":
        raise ValueError("--init does not apply to the replay case (it starts from the trajectory's first frame)")
    if config.init_structure and not Path(config.init_structure).is_file():
        raise FileNotFoundError(f"initial structure {config.init_structure} does not exist")
    if config.mts_ratio is not None and (not case.mts or config.mts_ratio < 1):
        raise ValueError(f"--mts-ratio must be >= 1 and needs an MTS case (gas-mts, liquid-mts), got {config.mts_ratio} for {case.name}")
    ratio = (config.mts_ratio or MTS_RATIO) if case.mts else None
    # MTS cases give the outer step; the inner one is outer / MTS_RATIO
    timestep = case.timestep_fs / MTS_RATIO * ratio if ratio else case.timestep_fs
    fields = forcefields_for(config, case)
    sockets = [SocketSpec(f.name, f.address, mode=config.transport, port=f.port) for f in fields]
    forces = [ForceTerm(f.name, f.weight, f.mts_weights) for f in fields]
    if case.motion == "minimize":
        # i-PI's optimiser evaluates a copy of the forces: per-component outputs are not available
        properties = ["step", "potential{electronvolt}"]
    else:
        properties = ["step", "time{picosecond}", "conserved{electronvolt}", "temperature{kelvin}",
                      "kinetic_md{electronvolt}", "potential{electronvolt}"]
        properties += [f"pot_component_raw({k}){{electronvolt}}" for k in range(len(fields))]
    if beads > 1:
        properties.append("kinetic_cv{electronvolt}")
    if case.ensemble == "npt":
        properties += ["volume{angstrom3}", "pressure_md{bar}"]
    symbreak_fields = [k for k, f in enumerate(fields) if f.role != "reference"]
    trajectories = ["positions", "forces"] + ([] if case.motion != "dynamics" else ["momenta"])
    extras = [f"extras_component_raw({k})" for k in symbreak_fields] if case.motion != "minimize" else []
    trajectories += extras
    if case.motion == "replay":  # per-strategy forces (and the reference's) for the force errors of the table
        trajectories += [f"forces_component_raw({k})" for k in range(len(fields))]
    spec = SimulationSpec(
        init_file="init.xyz", steps=steps, forcefields=sockets, forces=forces, motion=case.motion,
        ensemble=case.ensemble, thermostat=case.thermostat, thermostat_tau_fs=case.thermostat_tau_fs,
        barostat_tau_fs=case.barostat_tau_fs, pressure_bar=case.pressure_bar, temperature_k=case.temperature_k,
        timestep_fs=timestep, nbeads=beads, nmts=(1, ratio) if ratio else None,
        replay_file="replay.xyz" if case.motion == "replay" else None, seed=config.seed,
        stride=case.output_stride, properties=properties, trajectories=trajectories,
        # the extras (E_plain, E_avg per call) every step: the spectrum of V_avg - V_plain needs stride 1
        trajectory_strides={t: 1 for t in extras}, verbosity=config.verbosity,
    )
    spec.comment = _describe(case, spec, fields, config)
    clients = [{"name": f"{f.name}{k}", "command": f.command} for f in fields for k in range(config.servers)]
    manifest = {
        "case": config.case,
        "description": case.description,
        "config": asdict(config),
        "steps": steps,
        "beads": beads,
        "seed": config.seed,
        "extras_stride": 1,
        "timestep_fs": timestep,
        "forcefields": [
            {"component": k, "name": f.name, "role": f.role, "strategy": f.strategy, "weight": f.weight,
             "mts_weights": f.mts_weights}
            for k, f in enumerate(fields)
        ],
        "versions": _versions(),
        "commands": {"i-pi": [executable("i-pi"), "input.xml"], "clients": clients},
    }
    return spec, fields, manifest


def _describe(case: Case, spec: SimulationSpec, fields: list[Forcefield], config: RunConfig) -> str:
    """The parameters of an input, for the comment at its top."""
    lines = [f"symbreak case {case.name}: {case.description}",
             f"motion {spec.motion}, ensemble {spec.ensemble}, thermostat {spec.thermostat} (tau {spec.thermostat_tau_fs:g} fs),",
             f"time step {spec.timestep_fs:g} fs" + (f" (outer; inner {spec.timestep_fs / spec.nmts[1]:g} fs, nmts [1,{spec.nmts[1]}])"
                                                     if spec.nmts else "")
             + f", T {spec.temperature_k:g} K, beads {spec.nbeads}, steps {spec.steps}, output stride {spec.stride}",
             "forcefields (component k of pot_component_raw(k)):"]
    for k, f in enumerate(fields):
        what = f"strategy {f.strategy}" if f.strategy else "q-TIP4P/F by LAMMPS (symbreak reference)"
        mts = f", mts_weights {list(f.mts_weights)}" if f.mts_weights else ""
        lines.append(f"  {k}: {f.name} ({f.role}), {what}, weight {f.weight:g}{mts}")
    lines.append("sockets use pbc='false': the clients receive unwrapped positions and apply the minimum image")
    return "\n".join(lines)


def initial_structure(path: str):
    """The last frame of ``path`` (i-PI xyz or extxyz, Angstrom; prepare() has checked that it exists)."""
    from ..structures.io import read_structures

    frames = read_structures(path)
    if not frames:
        raise ValueError(f"initial structure file {path} holds no frames")
    return frames[-1]


def _write_inputs(config: RunConfig, spec: SimulationSpec, out: Path) -> None:
    case = get_case(config.case)
    if case.motion == "replay":
        from ..structures.io import read_structures

        frames = read_structures(config.trajectory)
        write_ipi_xyz(out / "replay.xyz", frames)
        write_ipi_xyz(out / spec.init_file, frames[0])
        # i-PI first re-evaluates the initial structure (frame 0), then replays every frame
        spec.steps = min(spec.steps, len(frames))
    elif config.init_structure:
        write_ipi_xyz(out / spec.init_file, initial_structure(config.init_structure))
    else:
        write_ipi_xyz(out / spec.init_file, case.structure(config.seed, config.size))
    (out / "input.xml").write_text(simulation_xml(spec))


def checkpoint_file(out: Path) -> Path | None:
    """The i-PI checkpoint a run folder can resume from, or None."""
    for name in ("RESTART", "simulation.restart"):
        if (out / name).exists():
            return out / name
    return None


def run_case(config: RunConfig) -> RunResult:
    """Run ``config`` to completion (or resume it); raise ProcessFailed naming the process on any failure."""
    out = Path(config.out)
    manifest_path = out / "manifest.json"
    resumed = False
    if out.exists() and any(out.iterdir()):
        if not manifest_path.exists():
            raise ValueError(f"output folder {out} exists, is not empty and holds no symbreak run: choose another --out")
        old = json.loads(manifest_path.read_text())
        if "finished" in old:
            raise ValueError(f"{out} holds a finished run ({old['case']}, {old['config']['strategy']}): choose another --out")
        if checkpoint_file(out) is None:
            raise ValueError(f"{out} holds an unfinished run without an i-PI checkpoint: remove it and start again")
        resumed = True
    spec, fields, manifest = prepare(config)
    if resumed:
        # the checkpoint names the original sockets: keep the original client command lines
        manifest = old
        manifest.setdefault("resumes", []).append(time.strftime("%Y-%m-%dT%H:%M:%S"))
    else:
        out.mkdir(parents=True, exist_ok=True)
        _write_inputs(config, spec, out)
        manifest["steps"] = spec.steps
        manifest["started"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        manifest_path.write_text(json.dumps(manifest, indent=2))
    ipi_command = manifest["commands"]["i-pi"]
    if resumed:
        checkpoint = checkpoint_file(out)
        shutil.copy(checkpoint, out / "resume.xml")
        truncate_outputs(out, checkpoint_step(checkpoint), prefix=spec.prefix)
        ipi_command = [executable("i-pi"), "resume.xml"]
        print(f"symbreak run: resuming {out} from {checkpoint.name}", file=sys.stderr)
    start = time.monotonic()
    with ProcessGroup(out) as group:
        ipi = group.start("ipi", ipi_command)
        for client in manifest["commands"]["clients"]:
            group.start(client["name"], client["command"])
        progress = Progress(out / f"{spec.prefix}.out", spec.steps, spec.stride, spec.timestep_fs, config.quiet)
        with progress:
            group.wait_for(ipi)
        progress.report(final=True)
        group.wait_clients(ipi)
    seconds = time.monotonic() - start
    manifest["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    manifest["wall_seconds"] = round(seconds + manifest.get("wall_seconds", 0.0), 2)
    if progress.ms_per_step is not None:
        manifest["ms_per_step"] = round(progress.ms_per_step, 3)  # steady state, start-up excluded
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return RunResult(out, manifest["steps"], seconds, resumed)
