"""The project's errors: one base class, so that the command line turns only these into one-line messages.

    from symbreak.core.errors import InputError
    raise InputError("--steps must be >= 1, got 0")     # `symbreak ...: error: --steps must be >= 1, got 0`

A ``SymbreakError`` is a condition the user can act on (bad input, a process that
died, a peer that is not i-PI); anything else escaping a command is a bug and
keeps its traceback. The subclasses also derive from the builtin error they
replace, so ``except ValueError`` around a call keeps working.
"""

from __future__ import annotations


class SymbreakError(Exception):
    """Base of every error symbreak raises on purpose; the CLI prints it as one line (exit 2)."""


class InputError(SymbreakError, ValueError):
    """Bad user input: an option, a file's content, a structure, a model spec."""


class MissingFileError(SymbreakError, FileNotFoundError):
    """A file or folder the user named (or a run should hold) does not exist."""


class PeerError(SymbreakError, ConnectionError):
    """A socket peer misbehaved: not i-PI, disconnected, unreachable."""


class DeadlineError(SymbreakError, TimeoutError):
    """Something the run waits for did not happen in time (a handshake, a server, a step)."""


class ProcessError(SymbreakError, RuntimeError):
    """An external process (i-PI, a server, LAMMPS) failed or could not start."""


__all__ = ["SymbreakError", "InputError", "MissingFileError", "PeerError", "DeadlineError", "ProcessError"]
