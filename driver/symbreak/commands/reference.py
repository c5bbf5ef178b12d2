"""`symbreak reference`: LAMMPS q-TIP4P/F as an i-PI client over `fix ipi`.

    i-pi input.xml &                                              # <ffsocket mode='unix'><address>h2o</address>
    symbreak reference --unix --address h2o --structure init.xyz
    symbreak reference --port 31415 --host node1 --structure init.xyz
    symbreak reference --unix --address gas --structure h2o.xyz --vacuum

The structure file gives the topology (O,H,H triplets) and whether the box is
triclinic; i-PI then sends positions and cell at every step. LAMMPS builds
the UNIX socket path as /tmp/ipi_ADDRESS, i-PI's default prefix: do not
change ``sockets_prefix`` in the i-PI input. With ``--vacuum`` Coulomb and LJ
are summed plainly up to ``--vacuum-cutoff`` (no Ewald): exact for a molecule
or cluster in a box wider than the cluster plus twice the cutoff (the 100 A
gas-phase box). LAMMPS runs in this process and the command returns 0 when
i-PI sends EXIT.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np

from ..core.errors import InputError, PeerError
from ..server.protocol import wait_for_tcp_listener, wait_for_unix_socket


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", default="localhost",
                        help="UNIX socket name (with --unix) or host name (default localhost)")
    parser.add_argument("--host", default=None, help="TCP host (default: --address)")
    parser.add_argument("--port", type=int, default=31415, help="TCP port (default 31415)")
    parser.add_argument("--unix", action="store_true", help="connect over the UNIX socket /tmp/ipi_ADDRESS")
    parser.add_argument("--structure", required=True, help="initial structure (i-PI xyz or ASE-readable, O,H,H order)")
    parser.add_argument("--vacuum", action="store_true", help="isolated molecule(s): plain Coulomb, no Ewald")
    parser.add_argument("--vacuum-cutoff", type=float, default=30.0, help="Coulomb/LJ cutoff with --vacuum in A (default 30)")
    parser.add_argument("--kspace-accuracy", type=float, default=1e-6, help="pppm/tip4p relative accuracy (default 1e-6)")
    parser.add_argument("--cutoff", type=float, default=9.0, help="LJ + real-space Coulomb cutoff in A (default 9)")
    parser.add_argument("--lj-tail", action="store_true", help="add the Lennard-Jones tail correction (energy, pressure)")
    parser.add_argument("--reset-kspace", action="store_true", help="re-initialise PPPM at every step (variable cell)")
    parser.add_argument("--log", default=None, help="LAMMPS log file (default: none)")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for i-PI's socket (UNIX, or a TCP port on this machine) to appear (default: 60): "
                             "LAMMPS tries only once")


def lammps_script(structure, data_path: str, args) -> list[str]:
    """Usage: lammps_script(structure, "data.lmp", args) -> LAMMPS commands ending in `run`."""
    from ..potentials.qtip4pf_setup import data_file_text, input_commands, lammps_frame

    if structure.cell is None:
        raise InputError("the structure has no cell: i-PI needs one (write it with `symbreak build`)")
    frame = lammps_frame(structure.positions, structure.cell)
    if args.vacuum:
        width = np.min(np.diag(frame.box))
        if width < 2 * args.vacuum_cutoff + 2:
            raise InputError(
                f"--vacuum needs a box wider than 2 x cutoff + 2 = {2 * args.vacuum_cutoff + 2:.0f} A, got {width:.1f} A"
            )
    box = frame.box if frame.triclinic else np.diag(np.diag(frame.box))
    text = data_file_text(structure.numbers, frame.positions, box)
    if not frame.triclinic:
        text = text.replace("\n0 0 0 xy xz yz", "")
    with open(data_path, "w") as fh:
        fh.write(text)
    cmds = input_commands(
        data_path,
        periodic=not args.vacuum,
        cutoff=args.cutoff,
        kspace_accuracy=args.kspace_accuracy,
        lj_tail=args.lj_tail,
        coulomb_cutoff=args.vacuum_cutoff,
        shrink_wrap=False,
    )
    address = args.address if args.unix else (args.host or args.address)
    fix = f"fix ipi all ipi {address} {args.port}" + (" unix" if args.unix else "") + (" reset" if args.reset_kspace else "")
    return cmds + ["timestep 0.5", "thermo 100000000", fix, "run 2000000000"]


def run(args) -> int:
    from ..potentials.lammps_env import new_lammps
    from ..potentials.qtip4pf_setup import check_water
    from ..structures.io import read_structures

    if args.unix and len("/tmp/ipi_" + args.address) > 100:
        raise InputError(f"UNIX socket name too long: /tmp/ipi_{args.address}")
    if not args.unix and not 1024 < args.port <= 65535:
        raise InputError(f"--port must be in 1025..65535, got {args.port}")
    structure = read_structures(args.structure)[0]
    check_water(structure.numbers, structure.positions, structure.cell)
    if not args.timeout > 0:
        raise InputError(f"--timeout must be > 0 seconds, got {args.timeout}")
    lmp = new_lammps(log=args.log)
    where = f"/tmp/ipi_{args.address}" if args.unix else f"{args.host or args.address}:{args.port}"
    print(f"symbreak reference: q-TIP4P/F for {len(structure.numbers) // 3} molecules, connecting to {where}",
          file=sys.stderr, flush=True)
    try:
        if args.unix:
            wait_for_unix_socket(where, args.timeout, hint="is i-PI running with this address?")
        else:  # LAMMPS' fix ipi connects once: a reference started before i-PI listens must wait here
            wait_for_tcp_listener(args.host or args.address, args.port, args.timeout,
                                  hint="is i-PI running with this host and port?")
        with tempfile.TemporaryDirectory(prefix="symbreak-ref-") as tmp:
            for cmd in lammps_script(structure, os.path.join(tmp, "data.lmp"), args):
                try:
                    lmp.command(cmd)
                except Exception as err:  # LAMMPS raises plain Exception subclasses
                    message = str(err).splitlines()[0] if str(err) else repr(err)
                    if "EXIT" in message:
                        print("symbreak reference: i-PI sent EXIT, done", file=sys.stderr, flush=True)
                        return 0
                    if "socket" in message.lower():
                        raise PeerError(f"{message.removeprefix('ERROR: ')} ({where})") from None
                    raise InputError(f"LAMMPS: {message}") from None
    finally:
        try:
            lmp.close()
        except Exception:
            pass
    return 0
