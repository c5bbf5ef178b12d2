"""The lock of a run folder: one runner at a time, and the processes a killed runner left behind.

    lock = RunLock(out)
    previous = lock.acquire()        # RunBusy (a ValueError) while another runner holds it
    for name, identity in find_orphans(previous, out): ...
    lock.claim()                     # the file now names this runner
    lock.record_child("ipi", pid)    # ... and its processes as they start
    lock.release()                   # at the end of the runner, whatever happened

``OUT/symbreak.lock`` holds JSON: the runner's PID, host, start time and
command, and each child's PID, start time and command line. The lock itself is
an flock on that file, held for the runner's lifetime: the kernel releases it
when the runner dies, even by SIGKILL, so a stale lock never blocks. The
children (i-PI, servers, the reference) run in their own sessions and may
outlive a killed runner; the next runner finds them from the file (a PID counts
only if its start time and command line are still the recorded ones) and from
/proc (processes working in the folder whose command is i-PI's or a symbreak
server's), and stops them before it touches any output.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from ..core.errors import InputError
from ..ipi.processes import is_alive_as, process_identity

LOCK_NAME = "symbreak.lock"


class RunBusy(InputError):
    """Usage: raise RunBusy(message) -> another live runner holds the folder's lock (one line)."""


class RunLock:
    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.fd: int | None = None
        self.record: dict = {}
        self.claimed = False
        self.previous: dict = {}

    def acquire(self) -> dict:
        """Usage: previous = lock.acquire() -> what the previous owner recorded ({} if nothing).

        Takes the lock; RunBusy if another live runner holds it.
        """
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise RunBusy(self._busy_message()) from None
            # the file may have been removed (released) between open and flock: lock the file that is there
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        self.fd = fd
        self.previous = _parse(os.pread(fd, 1 << 20, 0))
        return self.previous

    def claim(self) -> None:
        """Usage: lock.claim() -> None; writes this runner into the lock file.

        Until then the file keeps what the previous owner wrote.
        """
        self.record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
                       "command": sys.argv, "children": {}}
        self.claimed = True
        self._write()

    def moved_to(self, folder: str | os.PathLike) -> None:
        """Usage: lock.moved_to(aside) -> the folder was renamed (the lock, an open file, moves with it)."""
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME

    def _busy_message(self) -> str:
        try:
            owner = _parse(self.path.read_bytes())
        except OSError:
            owner = {}
        who = f"PID {owner.get('pid', '?')} on {owner.get('host', '?')} since {owner.get('started', '?')}"
        return (f"{self.folder} is in use by another symbreak run ({who}): wait for it to end, "
                f"or stop it (kill {owner.get('pid', 'PID')}) and re-run to resume")

    def _write(self) -> None:
        data = json.dumps(self.record, indent=1).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)
        os.fsync(self.fd)

    def record_child(self, name: str, pid: int) -> None:
        """Usage: lock.record_child("ipi", pid) -> None; names a started child in the lock file.

        For the next runner, should this one be killed.
        """
        identity = process_identity(pid)
        deadline = time.monotonic() + 2.0
        while identity is not None and not identity["cmdline"] and time.monotonic() < deadline:
            time.sleep(0.01)  # caught between fork and exec: wait for the command line
            identity = process_identity(pid)
        if identity is not None and self.fd is not None:
            self.record["children"][name] = identity
            self._write()

    def release(self) -> None:
        """Usage: lock.release() -> None; drops the lock.

        Removes the file if this runner claimed it (its children are stopped by then).

        Unclaimed (a runner that refused), the file keeps the previous owner's record for the next runner.
        """
        if self.fd is None:
            return
        if self.claimed or not self.previous:
            try:
                self.path.unlink()
            except OSError:
                pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _parse(data: bytes) -> dict:
    try:
        value = json.loads(data.decode(errors="replace") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def read_lock(folder: str | os.PathLike) -> dict:
    """Usage: read_lock(out) -> the lock file's record ({} when there is none or it cannot be read).

    Retried a few times: a runner rewrites the file in place, so a read may catch it half written.
    """
    path = Path(folder) / LOCK_NAME
    for _ in range(20):
        try:
            data = path.read_bytes()
        except OSError:
            return {}
        record = _parse(data)
        if record or not data.strip():
            return record
        time.sleep(0.01)
    return {}


def runner_holds(folder: str | os.PathLike) -> bool:
    """Usage: runner_holds(out) -> True while a runner holds the folder's lock (the kernel drops it when it dies)."""
    try:
        fd = os.open(Path(folder) / LOCK_NAME, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock this call may have taken
    return False


def role_of(cmdline: list[str]) -> str | None:
    """Usage: role_of(cmdline) -> the role of a process a runner starts: 'ipi', 'serve', 'reference' or None."""
    for k, arg in enumerate(cmdline[:-1]):
        if arg == "-m" and cmdline[k + 1] == "symbreak.cli" and k + 2 < len(cmdline):
            return cmdline[k + 2] if cmdline[k + 2] in ("serve", "reference") else None
    if any(os.path.basename(a) == "i-pi" for a in cmdline) and cmdline and cmdline[-1] in ("input.xml", "resume.xml"):
        return "ipi"
    return None


def find_orphans(previous: dict, folder: str | os.PathLike) -> list[tuple[str, dict]]:
    """Usage: find_orphans(previous, out) -> live processes of an earlier runner of ``folder``: (name, identity) pairs.

    The children the lock recorded (still the same process: PID, start time and
    command line match) and, for those started in the instant before the
    record, any process working in ``folder`` whose command is i-PI's or a
    symbreak server's or reference's.
    """
    found: dict[int, tuple[str, dict]] = {}
    for name, identity in (previous.get("children") or {}).items():
        if isinstance(identity, dict) and "pid" in identity and is_alive_as(identity):
            found[identity["pid"]] = (name, identity)
    folder = os.path.realpath(folder)
    me = os.getpid()
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) in found or int(entry.name) == me:
            continue
        try:
            if os.readlink(entry / "cwd") != folder:
                continue
        except OSError:
            continue
        identity = process_identity(int(entry.name))
        if identity is None or not is_alive_as(identity):
            continue
        role = role_of(identity["cmdline"])
        if role is not None:
            found[identity["pid"]] = (f"{role} (PID {identity['pid']})", identity)
    return list(found.values())
