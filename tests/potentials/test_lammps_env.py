"""The LAMMPS reference keeps off the network: `symbreak reference` listens on nothing but loopback."""

import os
import socket
import subprocess
import sys

import pytest

try:
    from symbreak.potentials.lammps_env import MPI_LOOPBACK, lammps_environment, new_lammps

    new_lammps().close()
except ImportError as err:  # pragma: no cover - depends on the environment
    pytest.skip(f"LAMMPS unavailable: {err}", allow_module_level=True)

from symbreak.server.protocol import EXIT, STATUS
from symbreak.structures import molecule, write_ipi_xyz

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/net/tcp"), reason="needs Linux /proc")

_LOOPBACK = {"tcp": lambda a: a.endswith("7F"),  # 127.x.x.x: /proc writes IPv4 as little-endian hex
             "tcp6": lambda a: a in ("00000000000000000000000001000000", "0000000000000000FFFF00000100007F")}


def listening_addresses(pid: int) -> list[tuple[str, str]]:
    """(family, hex local address) of every TCP socket of ``pid`` in LISTEN state."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for family in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{family}") as fh:
            for line in fh.read().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and fields[3] == "0A":
                    found.append((family, fields[1].split(":")[0]))
    return found


def test_environment_keeps_mpi_on_loopback():
    env = lammps_environment({"UCX_NET_DEVICES": "mlx5_0:1"})
    assert env["UCX_NET_DEVICES"] == "mlx5_0:1"  # the user's choice wins
    assert env["FI_TCP_IFACE"] == "lo" and MPI_LOOPBACK["UCX_NET_DEVICES"] == "lo"


@pytest.mark.slow
def test_reference_process_listens_only_on_loopback(tmp_path):
    structure = tmp_path / "h2o.xyz"
    write_ipi_xyz(str(structure), molecule())
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(60)
    port = server.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in MPI_LOOPBACK}
    proc = subprocess.Popen(
        [sys.executable, "-m", "symbreak.cli", "reference", "--host", "127.0.0.1", "--port", str(port),
         "--structure", str(structure), "--vacuum"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        conn, _ = server.accept()  # LAMMPS' fix ipi connects as a client
        with conn:
            conn.settimeout(60)
            conn.sendall(STATUS)
            assert len(conn.recv(12)) == 12  # MPI_Init is long done once fix ipi answers
            listening = listening_addresses(proc.pid)
            conn.sendall(EXIT)
            out, err = proc.communicate(timeout=60)
    finally:
        server.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    outside = [(family, addr) for family, addr in listening if not _LOOPBACK[family](addr)]
    assert not outside, f"the reference listens off loopback: {listening}"
    assert proc.returncode == 0, err
