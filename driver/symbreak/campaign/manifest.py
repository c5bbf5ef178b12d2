"""manifest.json: what symbreak adds to an i-PI run folder, written and read here only.

    manifest = read_manifest("runs/gas-2i")              # Manifest, or None for a folder symbreak did not run
    manifest.config.strategy, manifest.forcefields[0].role, manifest.finished
    write_manifest("runs/gas-2i", replace(manifest, finished=now()))   # atomically

i-PI's own input says what the simulation is (ensemble, time step, beads,
forcefields and their weights); the manifest adds what i-PI cannot know: the
case, the options of `symbreak run` (``RunConfig``), the role and strategy of
each forcefield, the commands of the last attempt, every attempt's record,
timings and package versions. Frozen: change one with ``dataclasses.replace``.

Versions: 2 is this layout with a ``version`` key; files without it (version 1,
written before the key existed) have the same keys and read the same way.
A file that is not a manifest (bad JSON, missing keys, wrong types) is an
``InputError`` naming the file.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Literal, get_args

from ..core.errors import InputError
from ..core.files import write_text_atomic
from .config import RunConfig

MANIFEST_VERSION = 2
MANIFEST_NAME = "manifest.json"

#: what a forcefield does in a run: the model, the MTS inner (plain) and outer (correction) parts, one of
#: several strategies replayed on a trajectory, or the q-TIP4P/F reference at weight 0
Role = Literal["model", "inner", "outer", "replay", "reference"]
ROLES: tuple[str, ...] = get_args(Role)


def now() -> str:
    """Usage: now() -> the local time as the manifest writes it: 2026-11-28T11:20:05."""
    return time.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class ForcefieldRecord:
    """Usage: ForcefieldRecord(0, "model", "model", "2i") -> one i-PI forcefield of the run.

    ``component`` is its index k in pot_component_raw(k).
    """

    component: int
    name: str
    role: Role
    strategy: str | None = None
    weight: float = 1.0
    mts_weights: tuple[float, ...] | None = None


def component_with_role(forcefields, role: Role) -> int | None:
    """Usage: component_with_role(manifest.forcefields, "reference") -> the first such component index, or None."""
    return next((f.component for f in forcefields if f.role == role), None)


@dataclass(frozen=True)
class ClientCommand:
    """Usage: ClientCommand("model0", ("symbreak", "serve", ...)) -> the command line of one client process.

    A model server or the reference; ``name`` e.g. model0.
    """

    name: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class Commands:
    """Usage: Commands(("i-pi", "input.xml"), clients) -> the last attempt's processes: i-PI's command line and its clients'."""

    ipi: tuple[str, ...]
    clients: tuple[ClientCommand, ...] = ()


@dataclass(frozen=True)
class Attempt:
    """Usage: Attempt(now(), socket.gethostname(), os.getpid(), from_step=0) -> one launch of the run.

    When, where, from which step, with which sockets, and how it ended.

    ``ended`` and ``outcome`` are None while the attempt runs (or if its runner was killed
    before it could write them; ``closed_unrecorded`` marks those).
    """

    started: str
    host: str
    runner_pid: int | None = None
    from_step: int = 0
    sockets: tuple[tuple[str, str], ...] = ()
    ended: str | None = None
    outcome: str | None = None
    last_step: int | None = None

    def closed_unrecorded(self) -> "Attempt":
        """Usage: attempt.closed_unrecorded() -> this attempt, marked as ended without a record unless it has one.

        For an attempt whose runner died before it could write its end.
        """
        if self.ended is not None:
            return self
        return replace(self, ended="?", outcome="no record: the runner was killed (or could not write the manifest)")


@dataclass(frozen=True)
class Manifest:
    """Usage: read_manifest(folder) -> the Manifest of a run folder.

    Everything symbreak knows about the run that i-PI's input does not say.
    """

    case: str
    description: str
    config: RunConfig
    steps: int
    beads: int
    seed: int
    #: the (outer) time step; None in runs that predate the key (the case's then)
    timestep_fs: float | None
    forcefields: tuple[ForcefieldRecord, ...]
    commands: Commands
    #: steps between extras frames; None in runs that predate the key (the case's output stride then)
    extras_stride: int | None = 1
    versions: tuple[tuple[str, str], ...] = ()
    #: the resolved options that define the run (campaign.config.DEFINING), as the runner compares them
    options: tuple[tuple[str, object], ...] | None = None
    started: str | None = None
    finished: str | None = None
    resumes: tuple[str, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    wall_seconds: float = 0.0
    ms_per_step: float | None = None
    version: int = MANIFEST_VERSION

    def component(self, role: Role) -> int | None:
        """Usage: manifest.component("reference") -> the index of the first forcefield with this role, or None."""
        return component_with_role(self.forcefields, role)

    def options_dict(self) -> dict | None:
        """Usage: manifest.options_dict() -> {"case": "gas-nve", "strategy": "2i", ...} (JSON values) or None."""
        return None if self.options is None else {k: _json_value(v) for k, v in self.options}

    def with_attempt(self, attempt: Attempt) -> "Manifest":
        """Usage: manifest.with_attempt(Attempt(now(), host)) -> this manifest with one more attempt."""
        return replace(self, attempts=self.attempts + (attempt,))

    def with_last_attempt(self, attempt: Attempt) -> "Manifest":
        """Usage: manifest.with_last_attempt(replace(last, outcome="finished")) -> the last attempt replaced."""
        return replace(self, attempts=self.attempts[:-1] + (attempt,))

    def with_attempts_closed(self) -> "Manifest":
        """Usage: manifest.with_attempts_closed() -> this manifest with every attempt without an end marked as ended unrecorded."""
        return replace(self, attempts=tuple(a.closed_unrecorded() for a in self.attempts))


def _json_value(value):
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def manifest_json(manifest: Manifest) -> dict:
    """Usage: manifest_json(manifest) -> the JSON object of ``manifest`` (the layout of manifest.json)."""
    return {
        "version": manifest.version,
        "case": manifest.case,
        "description": manifest.description,
        "config": {k: _json_value(v) for k, v in asdict(manifest.config).items()},
        "steps": manifest.steps,
        "beads": manifest.beads,
        "seed": manifest.seed,
        **({"extras_stride": manifest.extras_stride} if manifest.extras_stride is not None else {}),
        **({"timestep_fs": manifest.timestep_fs} if manifest.timestep_fs is not None else {}),
        "forcefields": [
            {"component": f.component, "name": f.name, "role": f.role, "strategy": f.strategy, "weight": f.weight,
             "mts_weights": None if f.mts_weights is None else list(f.mts_weights)}
            for f in manifest.forcefields
        ],
        "versions": dict(manifest.versions),
        "commands": {"i-pi": list(manifest.commands.ipi),
                     "clients": [{"name": c.name, "command": list(c.command)} for c in manifest.commands.clients]},
        **({"options": {k: _json_value(v) for k, v in manifest.options}} if manifest.options is not None else {}),
        **({"started": manifest.started} if manifest.started else {}),
        **({"finished": manifest.finished} if manifest.finished else {}),
        **({"resumes": list(manifest.resumes)} if manifest.resumes else {}),
        "attempts": [
            {k: v for k, v in {"started": a.started, "host": a.host, "runner_pid": a.runner_pid,
                               "from_step": a.from_step, "sockets": dict(a.sockets) if a.sockets else None,
                               "ended": a.ended, "outcome": a.outcome, "last_step": a.last_step}.items()
             if v is not None}
            for a in manifest.attempts
        ],
        "wall_seconds": manifest.wall_seconds,
        **({"ms_per_step": manifest.ms_per_step} if manifest.ms_per_step is not None else {}),
    }


def _tuple(value):
    return tuple(_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


def options_record(options: dict) -> tuple[tuple[str, object], ...]:
    """Usage: options_record(defining_options(config)) -> the options as Manifest.options holds them (lists as tuples)."""
    return tuple((k, _tuple(v)) for k, v in options.items())


def _run_config(data: dict) -> RunConfig:
    known = {f.name for f in fields(RunConfig)}
    values = {k: _tuple(v) for k, v in data.items() if k in known}
    return RunConfig(**values)


def manifest_from_json(data: dict, source: str = "manifest") -> Manifest:
    """Usage: manifest_from_json(json.load(fh), "run/manifest.json") -> Manifest.

    Reads the JSON object of manifest.json (version 1 or 2); InputError naming
    ``source`` if it is not one, or if its version is newer than this symbreak reads.
    """
    try:
        version = int(data.get("version", 1))
        if version > MANIFEST_VERSION:
            raise InputError(f"{source}: manifest version {version} is newer than this symbreak reads "
                             f"({MANIFEST_VERSION}): update symbreak")
        commands = data.get("commands") or {}
        forcefields = []
        for k, f in enumerate(data.get("forcefields", [])):
            role = f.get("role", "model")
            if role not in ROLES:
                raise InputError(f"{source}: forcefield {k} has an unknown role {role!r} (known: {', '.join(ROLES)})")
            mts = f.get("mts_weights")
            forcefields.append(ForcefieldRecord(int(f.get("component", k)), str(f["name"]), role, f.get("strategy"),
                                                float(f.get("weight", 1.0)),
                                                None if mts is None else tuple(float(w) for w in mts)))
        attempts = tuple(
            Attempt(started=str(a.get("started", "?")), host=str(a.get("host", "?")), runner_pid=a.get("runner_pid"),
                    from_step=int(a.get("from_step", 0)), sockets=tuple((a.get("sockets") or {}).items()),
                    ended=a.get("ended"), outcome=a.get("outcome"), last_step=a.get("last_step"))
            for a in data.get("attempts", [])
        )
        options = data.get("options")
        return Manifest(
            case=str(data["case"]),
            description=str(data.get("description", "")),
            config=_run_config(data.get("config", {"case": data["case"], "out": ""})),
            steps=int(data["steps"]),
            beads=int(data.get("beads") or 1),
            seed=int(data.get("seed", 0)),
            timestep_fs=None if data.get("timestep_fs") is None else float(data["timestep_fs"]),
            forcefields=tuple(forcefields),
            commands=Commands(tuple(commands.get("i-pi", ())),
                              tuple(ClientCommand(str(c["name"]), tuple(c["command"]))
                                    for c in commands.get("clients", ()))),
            extras_stride=None if data.get("extras_stride") is None else int(data["extras_stride"]),
            versions=tuple((data.get("versions") or {}).items()),
            options=None if options is None else options_record(options),
            started=data.get("started"),
            finished=data.get("finished"),
            resumes=tuple(data.get("resumes", ())),
            attempts=attempts,
            wall_seconds=float(data.get("wall_seconds") or 0.0),
            ms_per_step=None if data.get("ms_per_step") is None else float(data["ms_per_step"]),
            version=MANIFEST_VERSION,
        )
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise InputError(f"{source} is not a symbreak manifest ({type(err).__name__}: {err})") from None


def manifest_path(folder: str | Path) -> Path:
    """Usage: manifest_path("runs/gas-2i") -> Path("runs/gas-2i/manifest.json")."""
    return Path(folder) / MANIFEST_NAME


def read_manifest(folder: str | Path) -> Manifest | None:
    """Usage: read_manifest("runs/gas-2i") -> Manifest, or None if the folder has no manifest.json (i-PI run by hand).

    A file that cannot be read or is not a manifest is one InputError line naming it.
    """
    path = manifest_path(folder)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{path} is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a symbreak manifest (not a JSON object)")
    return manifest_from_json(data, str(path))


def write_manifest(folder: str | Path, manifest: Manifest) -> Path:
    """Usage: write_manifest("runs/gas-2i", manifest) -> the path of the manifest.json written.

    Atomic: the old file stays whole if writing fails (a full disk).
    """
    path = manifest_path(folder)
    write_text_atomic(path, json.dumps(manifest_json(manifest), indent=2))
    return path


__all__ = [
    "MANIFEST_NAME", "MANIFEST_VERSION", "ROLES", "Attempt", "ClientCommand", "Commands", "ForcefieldRecord",
    "Manifest", "Role", "component_with_role", "manifest_from_json", "manifest_json", "manifest_path", "now",
    "options_record", "read_manifest", "write_manifest",
]
