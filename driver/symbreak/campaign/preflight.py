"""Checks before a run starts: its options, its input files and its output folder.

    check_options(config, case)          # InputError (one line) for a bad option
    check_out(Path("runs/gas-2i"))       # InputError unless it is, or can be made, a writable folder
    frames = input_structures(config)    # the initial structure (or the replay frames), read and checked
    made = make_folder(out)              # the top-most folder it made (to remove if writing the inputs fails)

Every option and input file (the initial structure, the replay trajectory,
--out, the --host to listen on) is checked before the run folder is made; a
bad input is one InputError (a ValueError) line.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import InputError, MissingFileError
from ..potentials.spec import PotentialError, parse_potential_spec
from .cases import Case, get_case
from .config import RunConfig


def check_options(config: RunConfig, case: Case) -> None:
    """Usage: check_options(config, get_case(config.case)) -> None, or one InputError line naming the bad option."""
    potential = parse_potential_spec(config.potential)  # a bad spec fails here, before any process starts
    if potential.kind == "metatomic":
        if not Path(potential.path).is_file():
            raise PotentialError(f"metatomic model file not found: {potential.path}")
        check_loads(config.potential)
    steps = config.steps if config.steps is not None else case.default_steps
    beads = config.beads if config.beads is not None else case.beads
    if steps < 1:
        raise InputError(f"--steps must be >= 1, got {steps}")
    if beads < 1 or config.servers < 1:
        raise InputError(f"--beads and --servers must be >= 1, got {beads} and {config.servers}")
    if config.workers < 1:
        raise InputError(f"--workers must be >= 1, got {config.workers}")
    if case.motion == "replay" and not config.trajectory:
        raise InputError("the replay case needs --trajectory FILE (an i-PI or extxyz trajectory in Angstrom)")
    if config.init_structure and case.motion == "replay":
        raise InputError("--init does not apply to the replay case (it starts from the trajectory's first frame)")
    if config.init_structure and not Path(config.init_structure).is_file():
        raise MissingFileError(f"initial structure {config.init_structure} does not exist")
    if config.stall_timeout is not None and not config.stall_timeout > 0:
        raise InputError(f"--stall-timeout must be > 0 seconds, got {config.stall_timeout}")
    if config.stride is not None and config.stride < 1:
        raise InputError(f"--stride must be at least 1 (steps between output rows), got {config.stride}")
    if config.mts_ratio is not None and (not case.mts or config.mts_ratio < 1):
        raise InputError(f"--mts-ratio must be >= 1 and needs an MTS case (gas-mts, gas-mts-nve, liquid-mts), "
                         f"got {config.mts_ratio} for {case.name}")


def check_loads(spec: str) -> None:
    """Usage: check_loads("metatomic:model.pt") -> None, or the loader's one-line error before any process starts.

    A file that exists may still be no model (corrupted, another format): loading it here costs a second or
    two, and spares starting i-PI and the servers only to see the first server fail.
    """
    from ..potentials.registry import load_potential

    load_potential(spec).close()


def check_out(out: Path) -> None:
    """Usage: check_out(Path("runs/x")) -> None, or one InputError line unless ``out`` is (or can be made) a writable folder."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder: choose another --out")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot make the output folder {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot make the output folder {out}: no write permission in {parent}")


def make_folder(out: Path) -> Path | None:
    """Usage: make_folder(out) -> the top-most folder this made (None if ``out`` was there already)."""
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


def initial_structure(path: str):
    """Usage: initial_structure("run/simulation.positions_0.xyz") -> its last frame (i-PI xyz or extxyz, Angstrom).

    An unreadable or empty file is one InputError line naming it.
    """
    return read_frames(path, "initial structure")[-1]


def read_frames(path: str, what: str) -> list:
    """Usage: read_frames("traj.xyz", "replay trajectory") -> every frame; MissingFileError names a missing file."""
    from ..structures.io import read_structures

    if not Path(path).is_file():
        raise MissingFileError(f"{what} {path} does not exist")
    return read_structures(path)  # anything unreadable or empty is already one InputError line


def input_structures(config: RunConfig):
    """Usage: input_structures(config) -> the structures init.xyz (and replay.xyz) will hold: the replay frames, or one structure."""
    case = get_case(config.case)
    if case.motion == "replay":
        return read_frames(config.trajectory, "replay trajectory")
    if config.init_structure:
        return initial_structure(config.init_structure)
    return case.structure(config.seed, config.size)


__all__ = ["check_loads", "check_options", "check_out", "initial_structure", "input_structures", "make_folder", "read_frames"]
