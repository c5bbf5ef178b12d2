"""A run folder written by `symbreak run`: its manifest and i-PI outputs as arrays, with clear errors.

    run = RunFolder("runs/liquid-2i")          # RunError (one line) if it is not a finished-enough run
    run.case, run.kind, run.label              # "liquid-nvt", "liquid", "2i"
    run.properties["potential"]                # i-PI's properties, eV and ps
    run.positions(bead=0), run.cells()         # (T, N, 3) A, (T, 3, 3) rows or None in vacuum
    run.extras(k)                              # per frame: the JSON extras of forcefield component k (bead 0)
    run.component("reference")                 # component index of a role, or None
    run.notes                                  # what was left out of outputs still being written

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

from ..campaign.cases import get_case
from ..core.errors import InputError
from ..ipi.outputs import (
    MissingOutput,
    OutputError,
    add_note,
    read_frames,
    read_properties,
    read_xyz_trajectory,
    stacked,
    strip_nul_tail,
)

_EXTRAS_HEADER = re.compile(r"Step:\s*(\d+)\s+Bead:\s*(\d+)")


class RunError(InputError):
    """A folder that cannot be analysed: not a run, unfinished, missing outputs, too few frames."""


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
        if not line or _EXTRAS_HEADER.search(line):
            continue
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
        frames.append({k: v if isinstance(v, list) else [v] for k, v in data.items()})
    return frames


def _output_error(folder: Path, err: OutputError) -> str:
    """One line for a RunError: a missing output is named as such, a corrupted one by its own message."""
    return f"{folder}: missing outputs: {err}" if isinstance(err, MissingOutput) else str(err)


def extras_series(frames: list[dict], key: str, bead: int = 0) -> np.ndarray | None:
    """``extras_series(run.extras(0), "energy_plain")``: (T, ...) values of one key, None if any frame lacks it."""
    if not frames or not all(key in f for f in frames):
        return None
    return np.array([f[key][bead] for f in frames], dtype=float)


def label_of(manifest: dict) -> str:
    """Short name of a run: the strategy (``mts:2i`` with multiple time stepping), ``reference`` for q-TIP4P/F."""
    config = manifest.get("config", {})
    if config.get("potential") == "qtip4pf":
        return "reference"
    strategy = config.get("strategy", "plain")
    if get_case(manifest["case"]).mts:
        return f"mts:{strategy}"
    return strategy


class RunFolder:
    """The manifest and outputs of one `symbreak run` folder."""

    def __init__(self, path, prefix: str = "simulation", min_frames: int = 2):
        self.path = Path(path)
        self.prefix = prefix
        self.notes: list[str] = []
        manifest = self.path / "manifest.json"
        if not self.path.is_dir():
            raise RunError(f"{self.path} is not a folder: pass a run folder written by `symbreak run`")
        if not manifest.exists():
            raise RunError(f"{self.path} is not a symbreak run (no manifest.json): pass a folder written by `symbreak run`")
        try:
            self.manifest = json.loads(manifest.read_text())
            self.case_spec = get_case(self.manifest["case"])
        except (json.JSONDecodeError, KeyError, ValueError) as err:
            raise RunError(f"{manifest} is not a valid symbreak manifest ({err})") from None
        try:
            self.properties = read_properties(self.path / f"{prefix}.out", self.notes)
        except OutputError as err:
            raise RunError(_output_error(self.path, err)) from None
        rows = len(next(iter(self.properties.values())))
        if rows < min_frames:
            raise RunError(f"{self.path}: only {rows} frame(s) in {prefix}.out, need at least {min_frames}: run more steps")

    # --- what the run is
    @property
    def case(self) -> str:
        return self.manifest["case"]

    @property
    def kind(self) -> str:
        """gas | liquid | pimd | ice | geop | replay: which analysis fits."""
        c = self.case_spec
        if c.motion == "replay":
            return "replay"
        if c.motion == "minimize":
            return "geop"
        if c.vacuum:
            return "gas"
        if self.beads > 1:
            return "pimd"
        return "ice" if self.case.startswith("ice") else "liquid"

    @property
    def label(self) -> str:
        return label_of(self.manifest)

    @property
    def beads(self) -> int:
        return int(self.manifest.get("beads") or 1)

    @property
    def finished(self) -> bool:
        return "finished" in self.manifest

    @property
    def forcefields(self) -> list[dict]:
        return self.manifest.get("forcefields", [])

    def component(self, role: str) -> int | None:
        """Index k of the first forcefield with this role (model, inner, outer, replay, reference)."""
        for f in self.forcefields:
            if f["role"] == role:
                return int(f["component"])
        return None

    def cost(self) -> dict:
        """Wall seconds, steps and ms per step from the manifest (NaN for an unfinished run).

        ms per step is the runner's steady-state figure (start-up excluded) when
        the run recorded it, else wall time over steps.
        """
        wall = self.manifest.get("wall_seconds")
        steps = int(self.manifest.get("steps") or 0)
        ms = self.manifest.get("ms_per_step") or (1e3 * wall / steps if wall and steps else float("nan"))
        return {"wall_seconds": wall, "steps": steps, "ms_per_step": ms}

    # --- outputs
    def column(self, name: str) -> np.ndarray:
        if name not in self.properties:
            raise RunError(f"{self.path}: {self.prefix}.out has no column '{name}' (it has {sorted(self.properties)})")
        return self.properties[name]

    def pot_component(self, k: int) -> np.ndarray:
        return self.column(f"pot_component_raw({k})")

    @cached_property
    def _position_frames(self):
        return self._frames("positions", 0)

    def _frames(self, quantity: str, bead: int):
        try:
            return read_frames(self.path, quantity, bead=bead, prefix=self.prefix, notes=self.notes)
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
        """(T, 3, 3) cells as rows, or None for a vacuum case (the 100 A box is not a cell)."""
        if self.case_spec.vacuum:
            return None
        return np.stack([f.cell.array for f in self._position_frames])

    def frame_times(self) -> np.ndarray:
        """ps of each trajectory frame: trajectories and properties share their stride, so row k is frame k.

        (The frames' own step labels are not used: ipi.scripting.read_trajectory misreads steps >= 10.)
        """
        n = len(self._position_frames)
        if "time" in self.properties and len(self.properties["time"]) >= n:
            return self.properties["time"][:n]
        return np.arange(n) * self.case_spec.output_stride * self.timestep_fs * 1e-3

    def component_forces(self, k: int) -> np.ndarray | None:
        """(T, N, 3) eV/A of forcefield component k (``forces_component_raw(k)``), None if the run did not write them."""
        path = self.path / f"{self.prefix}.forces_c{k}.xyz"
        if not path.exists():
            return None
        try:
            return stacked(read_xyz_trajectory(path, self.notes), "forces_component_raw")
        except OutputError as err:
            raise RunError(_output_error(self.path, err)) from None

    def extras(self, k: int) -> list[dict]:
        return read_extras(self.path / f"{self.prefix}.extras_c{k}", self.notes)

    @property
    def timestep_fs(self) -> float:
        """The (outer) time step of the run: the manifest's, or the case's for runs that predate it."""
        return float(self.manifest.get("timestep_fs") or self.case_spec.timestep_fs)

    @property
    def extras_stride(self) -> int:
        """Steps between extras frames: 1 since the extras got their own stride, the case's stride in older runs."""
        return int(self.manifest.get("extras_stride") or self.case_spec.output_stride)

    def require_frames(self, n_frames: int, needed: int, what: str) -> None:
        if n_frames < needed:
            raise RunError(f"{self.path}: {what} needs at least {needed} frames, the run has {n_frames}: run more steps")
