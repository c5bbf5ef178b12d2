"""Any i-PI run folder as arrays, with clear errors: i-PI's input says what the run is, symbreak's manifest adds the rest.

    run = RunFolder("runs/liquid-2i")          # RunError (one line) if it is not an analysable i-PI run
    run.case, run.kind, run.label              # "liquid-nvt", "liquid", "2i"  (a foreign run: "ipi-nvt", ..., "model")
    run.description                            # the i-PI input as a RunDescription (symbreak.ipi.input_reader)
    run.manifest                               # symbreak's Manifest, None for a run symbreak did not start
    run.properties["potential"]                # i-PI's properties, eV, ps, K
    run.positions(bead=0), run.cells()         # (T, N, 3) A, (T, 3, 3) rows or None for an isolated system
    run.extras(k)                              # per frame: the JSON extras of forcefield component k (bead 0)
    run.component("reference")                 # component index of a role, or None
    run.temperature_k, run.timestep_fs         # from i-PI's input
    run.potential, run.strategy, run.size, run.seed, run.trajectory   # the manifest's; None when unknown
    run.notes                                  # what was left out of outputs still being written

What comes from where:

* i-PI's input (input.xml, another input, or the RESTART: see
  :mod:`symbreak.ipi.input_reader`): motion, ensemble, time step, beads,
  temperature, forcefields and their weights and MTS weights, the output files
  (names, strides, formats: xyz or ase/extxyz), the cell.
* the manifest, only where i-PI cannot know: the case name, the options of
  `symbreak run` (potential, strategy, size, seed, trajectory), each
  component's role and strategy, whether the servers ran ``--vacuum``,
  timings, and whether the run finished.

A run symbreak did not start (no manifest.json) gets:

* ``case``: ``ipi-`` + the ensemble (dynamics) or the motion (``replay``,
  ``minimize``), + ``-mts`` with multiple time stepping, + ``-pimd`` with
  more than one bead: ``ipi-nve``, ``ipi-nvt-pimd``, ``ipi-nvt-mts``, ``ipi-replay``.
* ``kind`` (which analysis fits): replay and minimize motions are ``replay`` and
  ``geop``; an isolated system (:mod:`symbreak.ipi.isolation`: the cell much
  larger than the atoms' spread) is ``gas``; more than one bead ``pimd``; else
  ``liquid`` (``ice`` only for symbreak's ice cases, by name).
* roles by weights: a component that does not move the atoms (weight 0, or
  all MTS weights 0) is the ``reference`` (compared, like symbreak's weight-0
  q-TIP4P/F); with multiple time stepping, a component weighted only on the
  innermost level is ``inner`` and the other driving ones ``outer``; in a
  replay, every component with a known strategy is ``replay``; else ``model``.
* strategies: what `symbreak serve` reports in the component's extras (its
  first record's ``strategy``), when the input writes them; else None.
* ``label``: the strategy (``mts:`` + the outer one's grid with MTS) when known,
  else the driving forcefields' names joined by ``+``, ``ipi`` if none.
* ``finished``: the properties reach <total_steps>.

Reading is lazy and cached: an analysis opens only the files it needs. A run
that is still being written is read up to the last complete row or frame of
each output, and ``run.notes`` says so ("simulation.positions_0.xyz: read 812
complete frames; the last one was being written"); a corrupted output (a row
with another number of columns, NUL bytes before real data) is a RunError
naming the file and the row.
"""

from __future__ import annotations

import ast
import json
import re
from functools import cached_property
from pathlib import Path

import numpy as np

from ..campaign.manifest import ForcefieldRecord, Manifest, component_with_role, read_manifest
from ..core.errors import InputError
from ..ipi.description import RunDescription, TrajectoryOutput
from ..ipi.input_reader import read_description
from ..ipi.isolation import looks_isolated
from ..ipi.outputs import (
    MissingOutput,
    OutputError,
    add_note,
    read_properties,
    read_trajectory_file,
    stacked,
    strip_nul_tail,
)
from ..symmetry import extras_keys as keys
from .results import RunKind, Timing
from .results import number as finite_or_none

_EXTRAS_HEADER = re.compile(r"Step:\s*(\d+)\s+Bead:\s*(\d+)")

#: the i-PI motions symbreak analyses
ANALYSED_MOTIONS = ("dynamics", "replay", "minimize")


class RunError(InputError):
    """A folder that cannot be analysed: not a run, unfinished, missing outputs, too few frames."""


def _parse_extras_line(path: Path, number: int, line: str) -> dict:
    try:
        data = ast.literal_eval(line)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            raise RunError(f"{path}: line {number} is neither a Python dict nor JSON: {line[:60]!r}") from None
    if not isinstance(data, dict):
        raise RunError(f"{path}: line {number} is not a dict of extras: {line[:60]!r}")
    data.pop("raw", None)
    return {k: v if isinstance(v, list) else [v] for k, v in data.items()}


def read_extras(path, notes: list | None = None) -> list[dict]:
    """``read_extras("run/simulation.extras_c0")``: one dict per frame, each value a list over beads.

    A last line still being written (no newline yet) is left out, with a note in ``notes``.
    """
    path = Path(path)
    if not path.exists():
        raise RunError(f"no extras file {path}: the run must write <trajectory> extras_component_raw(k) </trajectory>")
    try:
        raw = strip_nul_tail(path, path.read_bytes(), notes)
    except OutputError as err:
        raise RunError(str(err)) from None
    lines = raw.decode("utf-8", "replace").split("\n")
    if lines.pop().strip():  # no newline after it: cut while being written
        add_note(notes, f"{path.name}: the last extras line was being written: left out")
    frames = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#") or _EXTRAS_HEADER.search(line):  # " #EXTRAS(raw)# Step: 3" headers
            continue
        frames.append(_parse_extras_line(path, number, line))
    return frames


def first_extras(path, max_lines: int = 20) -> dict | None:
    """``first_extras("run/sim.extras_c0")``: the first extras record of a file, None if it has none (or no dict)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                if number > max_lines or not line.endswith("\n"):
                    return None
                line = line.strip()
                if line and not line.startswith("#") and not _EXTRAS_HEADER.search(line):
                    try:
                        return _parse_extras_line(path, number, line)
                    except RunError:
                        return None
    except OSError:
        return None
    return None


def _output_error(folder: Path, err: OutputError) -> str:
    """One line for a RunError: a missing output is named as such, a corrupted one by its own message."""
    return f"{folder}: missing outputs: {err}" if isinstance(err, MissingOutput) else str(err)


def extras_series(frames: list[dict], key: str, bead: int = 0) -> np.ndarray | None:
    """``extras_series(run.extras(0), "energy_plain")``: (T, ...) values of one key, None if any frame lacks it."""
    if not frames or not all(key in f for f in frames):
        return None
    return np.array([f[key][bead] for f in frames], dtype=float)


def derived_case(description: RunDescription) -> str:
    """``derived_case(d)`` -> ``ipi-nvt-pimd``: the case name of a run symbreak did not start (module docstring)."""
    head = description.ensemble if description.motion == "dynamics" and description.ensemble else description.motion
    return "ipi-" + head + ("-mts" if description.mts else "") + ("-pimd" if description.nbeads > 1 else "")


class RunFolder:
    """``RunFolder("runs/x")``: the i-PI input, outputs and (when symbreak ran it) manifest of one run folder."""

    def __init__(self, path, min_frames: int = 2):
        self.path = Path(path)
        self.notes: list[str] = []
        if not self.path.is_dir():
            raise RunError(f"{self.path} is not a folder: pass an i-PI run folder (e.g. one written by `symbreak run`)")
        try:
            self.manifest: Manifest | None = read_manifest(self.path)
            self.description: RunDescription = read_description(self.path)
        except InputError as err:
            raise RunError(str(err)) from None
        d = self.description
        if d.motion not in ANALYSED_MOTIONS:
            raise RunError(f"{d.source}: motion '{d.motion}' has no analysis here (symbreak analyses "
                           f"{', '.join(ANALYSED_MOTIONS)})")
        output = d.properties_output
        if output is None:
            raise RunError(f"{d.source}: the input writes no <properties>: there is nothing to analyse")
        self.properties_file = output.path
        try:
            self.properties = read_properties(self.path / output.path, self.notes)
        except OutputError as err:
            raise RunError(_output_error(self.path, err)) from None
        rows = len(next(iter(self.properties.values())))
        if rows < min_frames:
            raise RunError(f"{self.path}: only {rows} frame(s) in {output.path}, need at least {min_frames}: run more steps")

    # --- what the run is
    @property
    def prefix(self) -> str:
        return self.description.prefix

    @property
    def case(self) -> str:
        """The manifest's case, or one derived from the i-PI input (``ipi-nve``, ...)."""
        return self.manifest.case if self.manifest is not None else derived_case(self.description)

    @property
    def kind(self) -> RunKind:
        """gas | liquid | pimd | ice | geop | replay: which analysis fits (see the module docstring)."""
        motion = self.description.motion
        if motion == "replay":
            return "replay"
        if motion == "minimize":
            return "geop"
        if self.isolated:
            return "gas"
        if self.beads > 1:
            return "pimd"
        return "ice" if self.case.startswith("ice") else "liquid"

    @cached_property
    def isolated(self) -> bool:
        """No periodic images: symbreak's servers ran --vacuum, or the cell dwarfs the atoms (ipi.isolation)."""
        if self.manifest is not None and any("--vacuum" in c.command for c in self.manifest.commands.clients):
            return True
        if self.description.isolated is not None:
            return self.description.isolated
        first = self._position_frames[0]
        return looks_isolated(first.cell.array, first.positions)

    @property
    def label(self) -> str:
        """Short name of a run: the strategy (``mts:2i`` with MTS), ``reference`` for q-TIP4P/F, else forcefield names."""
        mts = "mts:" if self.description.mts else ""
        if self.manifest is not None:
            if self.manifest.config.potential == "qtip4pf":
                return "reference"
            return mts + (self.manifest.config.strategy or "plain")
        if self.strategy is not None:
            return mts + self.strategy
        driving = [c.name for c in self.forcefields if c.role != "reference"]
        return mts + "+".join(dict.fromkeys(driving)) if driving else "ipi"

    @property
    def potential(self) -> str | None:
        return None if self.manifest is None else self.manifest.config.potential

    @property
    def strategy(self) -> str | None:
        """The run's strategy: the manifest's, else the one `symbreak serve` reported for the driving (outer) component."""
        if self.manifest is not None:
            return self.manifest.config.strategy
        for role in ("outer", "model", "replay", "inner"):
            found = [c.strategy for c in self.forcefields if c.role == role and c.strategy]
            if found:  # an MTS outer force is served as delta:GRID; the run's strategy is GRID (as symbreak's)
                return found[0].removeprefix("delta:")
        return None

    @property
    def size(self) -> int | None:
        return None if self.manifest is None else self.manifest.config.size

    @property
    def seed(self) -> int | None:
        return None if self.manifest is None else self.manifest.config.seed

    @property
    def trajectory(self) -> str | None:
        """The replayed trajectory: the manifest's --trajectory, else the replay file of the i-PI input."""
        if self.manifest is not None:
            return self.manifest.config.trajectory
        return self.description.replay_file

    @property
    def beads(self) -> int:
        return self.description.nbeads

    @property
    def finished(self) -> bool:
        """The manifest says so; for a foreign run, the properties reach <total_steps>."""
        if self.manifest is not None:
            return self.manifest.finished is not None
        total = self.description.total_steps
        steps = self.properties.get("step")
        if total is None or steps is None or not len(steps):
            return False
        return int(steps[-1]) + self.description.properties_output.stride > total

    @property
    def temperature_k(self) -> float | None:
        """The ensemble's temperature, else the initial thermal velocities' (None if the input has neither)."""
        return self.description.temperature_k or self.description.initial_temperature_k

    @cached_property
    def forcefields(self) -> tuple[ForcefieldRecord, ...]:
        """The force components with their roles and strategies (the manifest's, else by the rules above)."""
        d = self.description
        records = {} if self.manifest is None else {f.component: f for f in self.manifest.forcefields}
        out = []
        for c in d.components:
            record = records.get(c.index)
            if record is not None:
                out.append(ForcefieldRecord(c.index, record.name, record.role, record.strategy, c.weight, c.mts_weights))
                continue
            strategy = self._served_strategy(c.index)
            if d.motion == "replay" and strategy is not None:
                role = "replay"
            elif not c.drives:
                role = "reference"
            elif d.mts and c.mts_weights is not None:
                inner_only = all(w == 0 for w in c.mts_weights[:-1]) and c.mts_weights[-1] != 0
                role = "inner" if inner_only else "outer"
            elif d.motion == "replay":
                role = "replay"
            else:
                role = "model"
            out.append(ForcefieldRecord(c.index, c.forcefield, role, strategy, c.weight, c.mts_weights))
        return tuple(out)

    def _extras_output(self, k: int) -> TrajectoryOutput | None:
        d = self.description
        found = d.trajectory("extras_component_raw", argument=k)
        if found is None and len(d.components) == 1 and k == 0:
            found = d.trajectory("extras", bead=0)
        return found

    def _served_strategy(self, k: int) -> str | None:
        output = self._extras_output(k)
        if output is None:
            return None
        record = first_extras(self.path / output.path(0))
        strategy = None if record is None else record.get(keys.STRATEGY, [None])[0]
        return strategy if isinstance(strategy, str) else None

    def component(self, role: str) -> int | None:
        """Index k of the first forcefield with this role (model, inner, outer, replay, reference)."""
        return component_with_role(self.forcefields, role)

    def cost(self) -> Timing:
        """Wall seconds, steps and ms per step from the manifest (None when unknown: unfinished or foreign runs).

        ms per step is the runner's steady-state figure (start-up excluded) when
        the run recorded it, else wall time over steps.
        """
        if self.manifest is None:
            steps = self.properties.get("step")
            return Timing(None, int(steps[-1]) if steps is not None and len(steps) else 0, None)
        wall = self.manifest.wall_seconds
        steps = int(self.manifest.steps or 0)
        ms = self.manifest.ms_per_step or (1e3 * wall / steps if wall and steps else None)
        return Timing(finite_or_none(wall), steps, finite_or_none(ms))

    # --- outputs
    def column(self, name: str) -> np.ndarray:
        if name not in self.properties:
            raise RunError(f"{self.path}: {self.properties_file} has no column '{name}' (it has {sorted(self.properties)})")
        return self.properties[name]

    def pot_component(self, k: int) -> np.ndarray:
        return self.column(f"pot_component_raw({k})")

    @cached_property
    def _position_frames(self):
        return self._frames("positions", 0)

    def _frames(self, quantity: str, bead: int):
        output = self.description.trajectory(quantity, bead=bead)
        if output is None:
            raise RunError(f"{self.path}: missing outputs: {self.description.source} writes no {quantity} trajectory"
                           f"{f' of bead {bead}' if bead else ''}: add <trajectory filename='{quantity[:3]}'> {quantity} "
                           "</trajectory>")
        try:
            return read_trajectory_file(self.path / output.path(bead), output.format, self.notes)
        except OutputError as err:
            raise RunError(_output_error(self.path, err)) from None

    def numbers(self) -> np.ndarray:
        return self._position_frames[0].numbers.astype(int)

    @property
    def n_molecules(self) -> int:
        return len(self.numbers()) // 3

    def positions(self, bead: int = 0) -> np.ndarray:
        frames = self._position_frames if bead == 0 else self._frames("positions", bead)
        return stacked(frames, "positions")

    def forces(self, bead: int = 0) -> np.ndarray:
        return stacked(self._frames("forces", bead), "forces")

    def momenta(self, bead: int = 0) -> np.ndarray:
        return stacked(self._frames("momenta", bead), "momenta")

    def masses(self) -> np.ndarray:
        return self._position_frames[0].get_masses()

    def cells(self) -> np.ndarray | None:
        """(T, 3, 3) cells as rows, or None for an isolated system (its big box is not a cell)."""
        if self.isolated:
            return None
        return np.stack([f.cell.array for f in self._position_frames])

    @property
    def output_stride(self) -> int:
        """Steps between position frames (the positions trajectory's stride; the properties' without one)."""
        output = self.description.trajectory("positions")
        return output.stride if output is not None else self.description.properties_output.stride

    def frame_times(self) -> np.ndarray:
        """ps of each trajectory frame: the properties' times when trajectory and properties share their stride.

        (The frames' own step labels are not used: ipi.scripting.read_trajectory misreads steps >= 10.)
        Without a time column: the positions' stride times the time step (frame numbers without a time step).
        """
        n = len(self._position_frames)
        same_stride = self.output_stride == self.description.properties_output.stride
        if same_stride and "time" in self.properties and len(self.properties["time"]) >= n:
            return self.properties["time"][:n]
        step = self.timestep_fs
        return np.arange(n) * (self.output_stride * step * 1e-3 if step else 1.0)

    def component_forces(self, k: int) -> np.ndarray | None:
        """(T, N, 3) eV/A of forcefield component k (``forces_component_raw(k)``), None if the run did not write them."""
        output = self.description.trajectory("forces_component_raw", argument=k)
        if output is None or not (self.path / output.path()).exists():
            return None
        try:
            return stacked(read_trajectory_file(self.path / output.path(), output.format, self.notes),
                           "forces_component_raw")
        except OutputError as err:
            raise RunError(_output_error(self.path, err)) from None

    def extras(self, k: int) -> list[dict]:
        output = self._extras_output(k)
        if output is None:
            raise RunError(f"{self.path}: no extras of component {k}: the input must write "
                           f"<trajectory> extras_component_raw({k}) </trajectory>")
        return read_extras(self.path / output.path(0), self.notes)

    @property
    def timestep_fs(self) -> float | None:
        """The (outer) time step of the run from i-PI's input (the manifest's if the input has none); None for no dynamics."""
        if self.description.timestep_fs is not None:
            return self.description.timestep_fs
        return None if self.manifest is None else self.manifest.timestep_fs

    @property
    def extras_stride(self) -> int:
        """Steps between extras frames: the stride of the extras output (the manifest's, else the properties')."""
        for c in self.forcefields:
            output = self._extras_output(c.component)
            if output is not None:
                return output.stride
        if self.manifest is not None and self.manifest.extras_stride:
            return int(self.manifest.extras_stride)
        return self.description.properties_output.stride

    def require_frames(self, n_frames: int, needed: int, what: str) -> None:
        if n_frames < needed:
            raise RunError(f"{self.path}: {what} needs at least {needed} frames, the run has {n_frames}: run more steps")
