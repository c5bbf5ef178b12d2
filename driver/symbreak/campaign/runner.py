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
process is named with the last lines of its log.

Checks come first: every option and input file (the initial structure, the
replay trajectory, --out, the --host to listen on) is checked before the run
folder is made, and a folder this attempt made is removed again if writing its
inputs fails; a bad input is one ValueError line. Sockets listen on loopback
(127.0.0.1) unless --host says otherwise.

Resuming. Re-running the same command into the folder of an interrupted run
(i-PI, a server, the reference or the runner killed by any signal, a stall,
a full disk once there is space again) resumes it:
  * the lock: ``OUT/symbreak.lock`` is flock'ed by the runner for its lifetime
    (the kernel drops it when the runner dies) and names its PID, host, start
    time and children (PID, start time, command line). A second runner refuses
    with one line while the first is alive. If the first was killed but its
    i-PI or servers, which run in their own sessions, still run, the new runner
    *stops them* and then resumes (SIGCONT and SIGTERM to their process group,
    SIGKILL after 10 s; only processes whose PID, start time and command line
    are the recorded ones, or that work in the folder with i-PI's or a symbreak
    server's command line): outputs are never truncated under a live i-PI. A
    lock left with children by a runner on another host is not second-guessed:
    the re-run refuses and names them.
  * the options: the options that define the run (``DEFINING``: case, potential,
    strategy, steps, beads, size, servers, seed, transport, reference, input
    files, replay strategies, MTS ratio) must be the manifest's, or the re-run
    refuses and lists the differences; ``force_new`` (``--force-new``) moves the
    old folder aside to OUT.old-TIMESTAMP (nothing is deleted) and starts afresh.
    Threads, host, verbosity, quiet and the stall timeout may change.
  * the checkpoint: the complete checkpoint with the highest step (RESTART or
    simulation.restart; one cut short by a kill is skipped); every output is
    truncated to it (atomically, dropping partial last lines and frames), so each
    step is in every output exactly once and the dynamics continues from i-PI's
    own state (the conserved quantity has no jump). A run stopped before its first
    checkpoint starts again from step 0.
  * the sockets: each attempt gets new socket names (or free ports), written into
    its copy of the checkpoint (resume.xml) and its clients' command lines (the
    manifest's ``commands`` are the last attempt's; ``attempts`` lists every
    attempt: start, end, outcome, first and last step, sockets). Socket files a
    killed i-PI left behind are removed once no process has them bound
    (/proc/net/unix), and only the run's own.
  * random strategies: each server keeps its stream's position in
    ``NAME.random.json`` (``symbreak serve --state``), so a resumed server
    continues the rotation stream instead of repeating it from the seed.

The stall watchdog: when i-PI's properties file gets no new row for
max(STALL_MIN_S = 60 s, STALL_FACTOR = 20 x the attempt's mean time per row)
(``stall_timeout`` / --stall-timeout S replaces this with S; until an attempt has
written two rows the start-up allowance is max(STARTUP_S = 300 s, S)), the runner
names what each process is doing (/proc/PID/stat: "model0 stopped (state T)"),
stops everything (SIGCONT before SIGTERM, so a stopped process can die and i-PI
writes its checkpoint) and raises Stalled (one line, exit 2 from the CLI). The
outputs stay resumable.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path

from ..core.errors import InputError, MissingFileError
from ..ipi.inputs import ForceTerm, SimulationSpec, SocketSpec, simulation_xml
from ..ipi.launch import symbreak_command
from ..ipi.processes import (
    SOCKETS_PREFIX,
    ProcessFailed,
    ProcessGroup,
    check_bindable,
    executable,
    free_tcp_port,
    remove_stale_socket,
    stop_process_group,
    unique_socket_name,
)
from ..ipi.resume import checkpoint_step, latest_checkpoint, truncate_outputs, with_socket_addresses
from ..potentials.spec import PotentialError, parse_potential_spec
from ..structures.io import write_ipi_xyz
from ..symmetry.strategies import parse_strategy_spec
from .cases import Case, get_case
from .config import DEFINING, REPLAY_STRATEGIES, RunConfig
from .runlock import RunLock, find_orphans

#: inner steps per outer step of the MTS cases (their time step is the outer one)
MTS_RATIO = 10
#: the stall watchdog (see the module docstring): seconds and factor
STALL_MIN_S = 60.0
STALL_FACTOR = 20.0
STARTUP_S = 300.0


class Stalled(ProcessFailed):
    """i-PI made no progress within the stall timeout (the message names each process's state)."""


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
    """Follows i-PI's properties file: the last step written, speed (ns/day, ms/step) and ETA every ``every`` s.

    Call ``poll()`` often (the runner does, every 0.2 s). Rows already in the
    file when it is created (a resumed run's) are the baseline: the speed counts
    from the first step this attempt writes, so start-up (i-PI, sockets, model
    loading) is not in it; ``ms_per_step`` keeps the final figure. The file is
    read incrementally.
    """

    def __init__(self, path: Path, total: int, stride: int, timestep_fs: float, quiet: bool, every: float = 10.0):
        self.path, self.total, self.stride, self.dt, self.quiet, self.every = path, total, stride, timestep_fs, quiet, every
        self.step: int | None = None  # the last step in the file
        self.origin: tuple[float, int] | None = None  # (time, step) when this attempt's first step appeared
        self.last_row_time: float | None = None
        self.new_rows = 0  # rows this attempt wrote
        self.changed_at = time.monotonic()  # when the last new row appeared (or the start)
        self.ms_per_step: float | None = None
        self._offset, self._tail, self._last_report = 0, b"", time.monotonic()
        self._read(baseline=True)

    def _read(self, baseline: bool = False) -> None:
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return
        if size < self._offset:  # replaced
            self._offset, self._tail = 0, b""
        if size == self._offset:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read(size - self._offset)
        self._offset += len(data)
        lines = (self._tail + data).split(b"\n")
        self._tail = lines.pop()
        for line in lines:
            if not line.strip() or line.lstrip().startswith(b"#"):
                continue
            try:
                step = int(float(line.split()[0]))
            except ValueError:
                continue
            self.step = step
            if baseline:
                continue
            now = time.monotonic()
            self.new_rows += 1
            self.changed_at = self.last_row_time = now
            if self.origin is None:
                self.origin = (now, step)

    def poll(self) -> None:
        self._read()
        if time.monotonic() - self._last_report >= self.every:
            self._last_report = time.monotonic()
            self.report()

    def steps_done(self) -> int:
        return min(self.step or 0, self.total)

    def row_interval(self) -> float | None:
        """Mean seconds between this attempt's rows (None before two rows)."""
        if self.origin is None or self.new_rows < 2:
            return None
        return (self.last_row_time - self.origin[0]) / (self.new_rows - 1)

    def _rate(self, done: int) -> float:
        if self.origin is None or done <= self.origin[1] or self.last_row_time is None:
            return 0.0
        seconds = self.last_row_time - self.origin[0]
        return (done - self.origin[1]) / seconds if seconds > 0.05 else 0.0  # rows read at once: unknown

    def report(self, final: bool = False):
        self._read()
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


class Watchdog:
    """Raises Stalled when i-PI writes no new step for too long (the limits: see the module docstring)."""

    def __init__(self, progress: Progress, group: ProcessGroup, stall_timeout: float | None = None):
        self.progress, self.group, self.fixed = progress, group, stall_timeout

    def limit(self) -> float:
        interval = self.progress.row_interval()
        if interval is None:  # start-up: the time per row is not known yet
            return max(STARTUP_S, self.fixed or 0.0)
        if self.fixed is not None:
            return self.fixed
        return max(STALL_MIN_S, STALL_FACTOR * interval)

    def check(self) -> None:
        self.progress.poll()
        idle = time.monotonic() - self.progress.changed_at
        limit = self.limit()
        if idle > limit:
            last = "no step yet" if self.progress.step is None else f"last step {self.progress.step}"
            raise Stalled(f"no i-PI progress for {idle:.0f} s (limit {limit:.0f} s, {last}); the processes: "
                          f"{self.group.states()}; all were stopped: re-run the same command to resume")


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
        port = 31414 + self.count if fixed else free_tcp_port(self.config.host)
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
            raise InputError(f"case {case.name} needs a grid strategy for its outer step (e.g. 2i), not '{config.strategy}'")
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
        raise InputError(f"--steps must be >= 1, got {steps}")
    if beads < 1 or config.servers < 1:
        raise InputError(f"--beads and --servers must be >= 1, got {beads} and {config.servers}")
    if case.motion == "replay" and not config.trajectory:
        raise InputError("the replay case needs --trajectory FILE (an i-PI or extxyz trajectory in Angstrom)")
    if config.init_structure and case.motion == "replay":
        raise InputError("--init does not apply to the replay case (it starts from the trajectory's first frame)")
    if config.init_structure and not Path(config.init_structure).is_file():
        raise MissingFileError(f"initial structure {config.init_structure} does not exist")
    if config.stall_timeout is not None and not config.stall_timeout > 0:
        raise InputError(f"--stall-timeout must be > 0 seconds, got {config.stall_timeout}")
    if config.mts_ratio is not None and (not case.mts or config.mts_ratio < 1):
        raise InputError(f"--mts-ratio must be >= 1 and needs an MTS case (gas-mts, liquid-mts), got {config.mts_ratio} for {case.name}")
    ratio = (config.mts_ratio or MTS_RATIO) if case.mts else None
    # MTS cases give the outer step; the inner one is outer / MTS_RATIO
    timestep = case.timestep_fs / MTS_RATIO * ratio if ratio else case.timestep_fs
    if config.transport == "inet" and not config.fixed_addresses:
        check_bindable(config.host)  # before asking for free ports there (templates may name another machine)
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
    """The last frame of ``path`` (i-PI xyz or extxyz, Angstrom); ValueError names an unreadable or empty file."""
    return _read_frames(path, "initial structure")[-1]


def _read_frames(path: str, what: str) -> list:
    """Every frame of ``path``; read_structures already makes anything unreadable or empty one ValueError line."""
    from ..structures.io import read_structures

    if not Path(path).is_file():
        raise MissingFileError(f"{what} {path} does not exist")
    return read_structures(path)


def _input_structures(config: RunConfig):
    """What init.xyz (and replay.xyz) will hold: the replay frames, or the initial structure."""
    case = get_case(config.case)
    if case.motion == "replay":
        return _read_frames(config.trajectory, "replay trajectory")
    if config.init_structure:
        return initial_structure(config.init_structure)
    return case.structure(config.seed, config.size)


def _write_inputs(config: RunConfig, spec: SimulationSpec, out: Path, structures=None) -> None:
    """Write init.xyz (replay.xyz) and input.xml; ``structures`` from _input_structures (read here if None)."""
    case = get_case(config.case)
    if structures is None:
        structures = _input_structures(config)
    if case.motion == "replay":
        write_ipi_xyz(out / "replay.xyz", structures)
        write_ipi_xyz(out / spec.init_file, structures[0])
        # i-PI first re-evaluates the initial structure (frame 0), then replays every frame
        spec.steps = min(spec.steps, len(structures))
    else:
        write_ipi_xyz(out / spec.init_file, structures)
    (out / "input.xml").write_text(simulation_xml(spec))


def checkpoint_file(out: Path) -> Path | None:
    """The i-PI checkpoint a run folder can resume from (complete, highest step), or None."""
    return latest_checkpoint(out)


def defining_options(config: RunConfig) -> dict:
    """The options that define a run (DEFINING), resolved: the case's defaults filled in, absolute paths."""
    case = get_case(config.case)

    def path(p):
        return None if p is None else os.path.abspath(p)

    try:
        potential = parse_potential_spec(config.potential).with_absolute_paths().text
    except PotentialError:
        potential = config.potential
    try:
        strategy = parse_strategy_spec(config.strategy).label
    except ValueError:
        strategy = config.strategy
    reference = case.reference if config.reference is None else config.reference
    options = {
        "case": config.case, "potential": potential, "strategy": strategy,
        "steps": config.steps if config.steps is not None else case.default_steps,
        "beads": config.beads if config.beads is not None else case.beads,
        "size": config.size, "servers": config.servers, "seed": config.seed, "transport": config.transport,
        "reference": bool(reference and config.potential != "qtip4pf"),
        "trajectory": path(config.trajectory), "init_structure": path(config.init_structure),
        "replay_strategies": list(config.replay_strategies) if case.motion == "replay" else None,
        "mts_ratio": (config.mts_ratio or MTS_RATIO) if case.mts else None,
    }
    return json.loads(json.dumps(options))


def _old_options(manifest: dict) -> dict | None:
    if "options" in manifest:
        return manifest["options"]
    known = {f.name for f in dataclass_fields(RunConfig)}
    try:
        old = RunConfig(**{k: v for k, v in manifest.get("config", {}).items() if k in known})
        if isinstance(old.replay_strategies, list):
            old.replay_strategies = tuple(old.replay_strategies)
        return defining_options(old)
    except (TypeError, ValueError):
        return None


def option_differences(manifest: dict, config: RunConfig) -> list[str]:
    """'strategy 2i -> plain' for each defining option of ``config`` that differs from the run in ``manifest``."""
    old, new = _old_options(manifest), defining_options(config)
    if old is None:
        return ["the manifest's options cannot be read"]
    return [f"{k} {old.get(k)} -> {new.get(k)}" for k in DEFINING if old.get(k) != new.get(k)]


def _write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (a new file renamed over the old one)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _check_out(out: Path) -> None:
    """One ValueError line unless ``out`` is (or can be made) a writable folder."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder: choose another --out")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot make the output folder {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot make the output folder {out}: no write permission in {parent}")


def _make_folder(out: Path) -> Path | None:
    """Make ``out``; return the top-most folder this made (None if ``out`` was there already)."""
    top = None
    p = out
    while not p.exists() and p != p.parent:
        top, p = p, p.parent
    if top is None:
        return None
    try:
        out.mkdir(parents=True)
    except FileExistsError:  # another runner made it just now: its lock decides
        return None
    except OSError as err:
        raise InputError(f"cannot make the output folder {out}: {err.strerror}") from None
    return top


def _clients(fields: list[Forcefield], servers: int) -> list[dict]:
    """This attempt's client commands; a random strategy's servers keep their stream in NAME.random.json."""
    clients = []
    for f in fields:
        random = f.strategy is not None and parse_strategy_spec(f.strategy).kind == "random"
        for k in range(servers):
            name = f"{f.name}{k}"
            clients.append({"name": name, "command": f.command + (["--state", f"{name}.random.json"] if random else [])})
    return clients


def _unix_sockets(clients: list[dict]) -> list[str]:
    """The UNIX socket paths the clients of a manifest connect to."""
    paths = []
    for c in clients:
        command = c.get("command", [])
        if "--unix" in command and "--address" in command:
            k = command.index("--address")
            if k + 1 < len(command):
                paths.append(SOCKETS_PREFIX + command[k + 1])
    return paths


def _say(config: RunConfig, text: str) -> None:
    print(f"symbreak run: {text}", file=sys.stderr, flush=True)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def run_case(config: RunConfig) -> RunResult:
    """Run ``config`` to completion, or resume it (see the module docstring).

    Raises ValueError (one line) for a bad option or input, a busy folder, or a
    re-run with other options; ProcessFailed naming the process on any failure
    (Stalled when the run stops making progress).
    """
    out = Path(config.out)
    _check_out(out)
    try:
        if out.is_dir() and any(out.iterdir()):
            return _continue(config, out)
        return _fresh(config, out)
    except OSError as err:  # a full disk, a read-only or vanished folder: one line naming the file
        if err.errno not in _FILE_ERRORS:
            raise
        where = f": {err.filename}" if err.filename else ""
        raise InputError(f"{err.strerror}{where} (fix it and re-run the same command to resume)") from None


#: errors of the file system that stop a run (reported as one line; the run resumes once they are fixed)
_FILE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOTDIR,
                errno.EISDIR}


def _fresh(config: RunConfig, out: Path) -> RunResult:
    spec, fields, manifest = prepare(config)
    structures = _input_structures(config)
    if config.transport == "inet":
        check_bindable(config.host)
    created = _make_folder(out)
    lock = RunLock(out)
    try:
        lock.acquire()
    except ValueError:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise
    written = []
    try:
        lock.claim()
        for name in ("input.xml", spec.init_file, "replay.xyz", "manifest.json"):
            written.append(out / name)
        _write_inputs(config, spec, out, structures)
        manifest["steps"] = spec.steps
        manifest["started"] = _now()
        manifest["options"] = defining_options(config)
        _write_json(out / "manifest.json", manifest)
    except BaseException:
        lock.release()
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        else:  # the folder was there, empty: remove what this attempt wrote
            for path in written:
                path.unlink(missing_ok=True)
        raise
    return _attempt(config, out, spec, fields, manifest, lock, "input.xml", 0, resumed=False)


def _continue(config: RunConfig, out: Path) -> RunResult:
    manifest_path = out / "manifest.json"
    if not manifest_path.exists():
        raise InputError(f"output folder {out} exists, is not empty and holds no symbreak run: choose another --out")
    lock = RunLock(out)
    previous = lock.acquire()  # RunBusy while another runner is alive
    try:
        try:
            old = json.loads(manifest_path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"cannot read {manifest_path} ({err}): not resumable; choose another --out") from None
        for attempt in old.get("attempts", []):
            if "ended" not in attempt:  # its runner was killed before it could say
                attempt.update(ended="?", outcome="no record: the runner was killed (or could not write the manifest)")
        differences = option_differences(old, config)
        finished = "finished" in old
        if not config.force_new:
            if differences:
                raise InputError(
                    f"{out} holds a run with other options ({'; '.join(differences)}): re-run with its options to "
                    f"resume it, or add --force-new to move it aside (to {out.name}.old-TIMESTAMP) and start afresh")
            if finished:
                raise InputError(f"{out} holds a finished run ({old['case']}, {old['config']['strategy']}): choose "
                                 "another --out, or add --force-new to move it aside and start afresh")
        here = socket.gethostname()
        if previous.get("host") not in (None, here) and previous.get("children"):
            children = ", ".join(f"{n} (PID {c.get('pid')})" for n, c in previous["children"].items())
            raise InputError(f"{out} was last run on host {previous['host']} by runner PID {previous.get('pid')} with "
                             f"{children}: they cannot be checked from {here}; make sure they are gone, then delete "
                             f"{lock.path} and re-run")
        orphans = find_orphans(previous, out)
        if orphans:
            _say(config, f"stopping what an earlier runner of {out} left running: "
                         + ", ".join(f"{name} (PID {identity['pid']})" for name, identity in orphans))
            for _, identity in sorted(orphans, key=lambda o: o[0] != "ipi"):  # i-PI first: it writes its checkpoint
                stop_process_group(identity)
        lock.claim()
        for path in _unix_sockets(old.get("commands", {}).get("clients", [])):
            remove_stale_socket(path)
        if config.force_new:
            aside = out.with_name(f"{out.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
            k = 1
            while aside.exists():
                aside, k = out.with_name(f"{out.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{k}"), k + 1
            out.rename(aside)
            lock.moved_to(aside)
            lock.release()
            _say(config, f"moved the earlier run aside to {aside}")
            return _fresh(config, out)
        return _resume(config, out, old, lock)
    except BaseException:
        lock.release()
        raise


def _resume(config: RunConfig, out: Path, manifest: dict, lock: RunLock) -> RunResult:
    spec, fields, _ = prepare(config)  # new socket addresses for this attempt
    if config.transport == "inet":
        check_bindable(config.host)
    addresses = {f.name: (f.address, f.port) for f in fields}
    checkpoint = latest_checkpoint(out)
    if checkpoint is None:
        # stopped before its first checkpoint: start again from step 0 (the outputs so far are this run's own)
        for path in out.glob(f"{spec.prefix}.*"):
            if path.is_file():
                path.unlink()
        text, step = (out / "input.xml").read_text(), 0
        _say(config, f"{out} stopped before its first checkpoint: starting it again from step 0")
    else:
        step = checkpoint_step(checkpoint)
        truncate_outputs(out, step, prefix=spec.prefix)
        text = checkpoint.read_text()
        if step >= manifest["steps"]:
            manifest["finished"] = _now()
            manifest.setdefault("attempts", []).append({"started": _now(), "ended": _now(), "host": socket.gethostname(),
                                                        "runner_pid": os.getpid(), "from_step": step,
                                                        "outcome": "finished (i-PI had written its last step)"})
            _write_json(out / "manifest.json", manifest)
            lock.release()
            _say(config, f"{out}: i-PI had finished all {manifest['steps']} steps; marked the run finished")
            return RunResult(out, manifest["steps"], 0.0, True)
        _say(config, f"resuming {out} from {checkpoint.name} (step {step})")
    (out / "resume.xml").write_text(with_socket_addresses(text, addresses))
    manifest.setdefault("resumes", []).append(_now())
    if "options" not in manifest:
        manifest["options"] = defining_options(config)
    return _attempt(config, out, spec, fields, manifest, lock, "resume.xml", step, resumed=True)


def _attempt(config: RunConfig, out: Path, spec: SimulationSpec, fields: list[Forcefield], manifest: dict,
             lock: RunLock, ipi_input: str, from_step: int, resumed: bool) -> RunResult:
    """Start i-PI on ``ipi_input`` and this attempt's clients; wait; record the attempt in the manifest."""
    manifest_path = out / "manifest.json"
    clients = _clients(fields, config.servers)
    manifest["commands"] = {"i-pi": [executable("i-pi"), ipi_input], "clients": clients}
    attempt = {"started": _now(), "host": socket.gethostname(), "runner_pid": os.getpid(), "from_step": from_step,
               "sockets": {f.name: f.address if f.port is None else f"{f.address}:{f.port}" for f in fields}}
    manifest.setdefault("attempts", []).append(attempt)
    _write_json(manifest_path, manifest)
    total = manifest["steps"]
    progress = Progress(out / f"{spec.prefix}.out", total, spec.stride, spec.timestep_fs, config.quiet)
    start = time.monotonic()
    outcome = "failed: the runner stopped on an error"
    try:
        with ProcessGroup(out) as group:
            ipi = group.start("ipi", manifest["commands"]["i-pi"])
            lock.record_child("ipi", ipi.popen.pid)
            for client in clients:
                lock.record_child(client["name"], group.start(client["name"], client["command"]).popen.pid)
            watchdog = Watchdog(progress, group, config.stall_timeout)
            group.wait_for(ipi, on_poll=watchdog.check)
            progress.report(final=True)
            group.wait_clients(ipi)
        outcome = "finished"
    except ProcessFailed as err:
        outcome = ("stalled: " if isinstance(err, Stalled) else "failed: ") + str(err).split("; last lines")[0].splitlines()[0]
        raise
    except KeyboardInterrupt as err:
        outcome = f"interrupted ({err or 'SIGINT'})"
        raise
    finally:
        seconds = time.monotonic() - start
        for path in _unix_sockets(clients):
            remove_stale_socket(path)  # left by an i-PI that was killed
        progress._read()
        attempt.update(ended=_now(), outcome=outcome, last_step=progress.step)
        manifest["wall_seconds"] = round(seconds + manifest.get("wall_seconds", 0.0), 2)
        if outcome == "finished":
            manifest["finished"] = _now()
            if progress.ms_per_step is not None:
                manifest["ms_per_step"] = round(progress.ms_per_step, 3)  # steady state, start-up excluded
        try:
            _write_json(manifest_path, manifest)
        except OSError as err:  # e.g. a full disk: say so, and let the run's own error through
            _say(config, f"could not record this attempt in {manifest_path}: {err.strerror}")
            if outcome == "finished":
                raise
        finally:
            lock.release()
    return RunResult(out, total, seconds, resumed)
