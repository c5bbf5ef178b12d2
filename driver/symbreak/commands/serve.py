"""`symbreak serve`: serve a potential, wrapped in a symmetrization strategy, to i-PI.

    symbreak serve --potential toy --strategy 2i --unix --address h2o
    symbreak serve --potential default --strategy random:42 --host 127.0.0.1 --port 31415
    symbreak serve --potential metatomic:model.pt --strategy 2i -u -a driver
    symbreak serve -u -a driver -m metatomic -o template=init.xyz,model=model.pt --strategy 2i   # i-PI's flags
    symbreak serve --potential toy --strategy random:7 -u -a h2o --state model0.random.json   # resumable stream
    symbreak serve --potential default --strategy 2i -u -a liquid --workers 2      # 2 ranks on this machine
    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint node1:29500 \
        -m symbreak serve --potential default --strategy 2i --host node1 --port 31415   # 8 ranks on 2 machines

Each force call returns diagnostics as i-PI extras (JSON, eV and Angstrom):
the plain and averaged energies, the spread of E and F over the grid, the
plain model's net force and torque, the strategy label and the seed.
With --workers K, K ranks on this machine (this process and K-1 children),
and under torchrun or srun every rank of the launch, share every call's
rotated copies over torch.distributed; rank 0 talks to i-PI and keeps the
strategy, the other ranks only evaluate shares. The results equal the serial
server's (symbreak.distributed).
"""

from __future__ import annotations

import argparse
import sys
import time

from ..core.errors import InputError
from ..distributed import RankOptions, join_launch, start_local_ranks, this_layout
from ..distributed.follower import run_rank
from ..distributed.options import BACKENDS
from ..potentials.registry import load_potential
from ..potentials.spec import SPEC_HELP, PotentialError
from ..server.driver_flags import DRIVER_MODES, spec_from_driver_flags
from ..server.protocol import HANDSHAKE_TIMEOUT, IPIClient, connect_tcp, connect_unix
from ..server.service import ForceService
from ..structures.io import read_numbers
from ..symmetry.strategies import STRATEGY_HELP, parse_strategy, parse_strategy_spec


def add_arguments(parser) -> None:
    parser.epilog = "strategies:\n" + STRATEGY_HELP
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--potential", default=None, help=f"{SPEC_HELP} (default: default)")
    parser.add_argument("--strategy", default="plain", help="symmetrization strategy (default: plain; see below)")
    parser.add_argument("-m", "--mode", default=None, help=f"i-PI driver style: the potential kind ({', '.join(DRIVER_MODES)}), with -o")
    parser.add_argument("-o", "--param", default="", help="i-PI driver style: options of -m, e.g. template=init.xyz,model=model.pt")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-u", "--unix", action="store_true", help="connect to a UNIX socket (sockets-prefix + address)")
    parser.add_argument("-a", "--address", default="localhost", help="UNIX socket name, or TCP host name (default: localhost)")
    parser.add_argument("--host", default=None, help="TCP host (overrides --address for TCP)")
    parser.add_argument("-p", "--port", type=int, default=31415, help="TCP port (default: 31415)")
    parser.add_argument("-S", "--sockets-prefix", "--sockets_prefix", dest="sockets_prefix", default="/tmp/ipi_",
                        help="prefix of UNIX socket paths (default: /tmp/ipi_)")
    parser.add_argument("-v", "--verbose", action="store_true", help="accepted for i-PI's driver habits; progress is on by default")
    parser.add_argument("--structure", default=None, help="file with the species (i-PI's initial xyz); default: water, O H H repeated")
    parser.add_argument("--vacuum", action="store_true", help="ignore the cell: an isolated system (no periodic images)")
    parser.add_argument("--chunk-size", type=int, default=None, help="structures per batched model call (default: the potential's)")
    parser.add_argument("--no-diagnostics", action="store_true", help="skip the extras (saves one plain evaluation per call)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for i-PI's socket (default: 60)")
    parser.add_argument("--handshake-timeout", type=float, default=HANDSHAKE_TIMEOUT,
                        help="seconds to wait, once connected, for the peer's first message: a peer that stays silent "
                             "is not i-PI (i-PI speaks when it first needs this server's forces; default: %(default)g)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads in each process (default: torch's choice; 1 with several ranks)")
    parser.add_argument("--workers", type=int, default=1,
                        help="ranks on this machine sharing every call's rotated copies and beads: this server and "
                             "K-1 children, over torch.distributed (default: 1; under torchrun or srun the launcher "
                             "starts the ranks; see the README's scale-out section)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="torch.distributed backend between ranks: gloo (CPU), nccl (a GPU per rank) or auto "
                             "(nccl when the potential runs on CUDA, else gloo; default)")
    parser.add_argument("--rank-timeout", type=float, default=300.0, metavar="SECONDS",
                        help="seconds every rank may take to load its potential and join, and the least time a rank "
                             "may take to answer a call (the limit grows to 10x this server's own share for slow "
                             "models); a rank silent for longer ends the run, named (default: %(default)g)")
    parser.add_argument("--remote-workers", default="", help=argparse.SUPPRESS)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--state", default=None, metavar="FILE",
                        help="random strategies: continue the rotation stream from FILE if it exists, and keep FILE "
                             "up to date after every call (JSON, replaced atomically); `symbreak run` uses it so that "
                             "a resumed run does not repeat the rotations")


def potential_arguments(args) -> tuple[str, str | None]:
    """(spec, structure file) from --potential/--structure or from i-PI's -m/-o."""
    if args.mode is None:
        if args.param:
            raise PotentialError("-o needs -m MODE (i-PI driver style); or use --potential SPEC")
        return args.potential or "default", args.structure
    if args.potential is not None:
        raise PotentialError("give either --potential SPEC or i-PI's -m MODE -o PARAMS, not both")
    spec, template = spec_from_driver_flags(args.mode, args.param)
    if template and args.structure and template != args.structure:
        raise PotentialError(f"-o template={template} and --structure {args.structure} disagree: give one")
    return spec, template or args.structure


def rank_options(args) -> RankOptions:
    return RankOptions(backend=args.backend, join_timeout=args.rank_timeout, answer_timeout=args.rank_timeout)


def launch_layout(args):
    """This process's place in a torchrun/srun launch of more than one rank, or None (one-line errors for misuse)."""
    if args.remote_workers:
        raise InputError("--remote-workers is gone: start the ranks on every machine with torchrun or srun "
                         "(README, 'Parallel averaging and scale-out')")
    if not args.rank_timeout > 0:
        raise InputError(f"--rank-timeout must be > 0 seconds, got {args.rank_timeout}")
    layout = this_layout()
    if layout is None or layout.world_size == 1:
        return None
    if args.workers > 1:
        raise InputError(f"--workers {args.workers} under a launcher of {layout.world_size} ranks ({layout.launcher}): "
                         "the launcher starts the ranks; drop --workers")
    return layout


def set_threads(args, parallel: bool) -> None:
    threads = args.threads or (1 if parallel else None)
    if threads:
        import torch

        torch.set_num_threads(threads)


def check_socket_arguments(args) -> None:
    """One line for a socket that cannot exist (a TCP port outside 1-65535, a timeout <= 0), before any model loads."""
    if not args.unix and not 1 <= args.port <= 65535:
        raise InputError(f"--port {args.port} is not a TCP port: give one in 1-65535 (i-PI's <port> in its <ffsocket>)")
    if not args.timeout > 0:
        raise InputError(f"--timeout must be > 0 seconds, got {args.timeout}")


def socket_target(args) -> str:
    """Where i-PI is expected: the UNIX socket's path or HOST:PORT."""
    return args.sockets_prefix + args.address if args.unix else f"{args.host or args.address}:{args.port}"


def build_service(args) -> ForceService:
    check_socket_arguments(args)
    if args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    layout = launch_layout(args)
    parallel = args.workers > 1 or layout is not None
    set_threads(args, parallel)
    spec, structure = potential_arguments(args)
    parse_strategy_spec(args.strategy)  # a bad strategy fails before any rank starts
    if layout is not None:
        potential = join_launch(spec, layout=layout, options=rank_options(args), chunk_size=args.chunk_size)
    elif parallel:
        potential = start_local_ranks(spec, args.workers, options=rank_options(args), threads=args.threads or 1,
                                      chunk_size=args.chunk_size)
    else:
        potential = load_potential(spec)
    try:
        strategy = parse_strategy(args.strategy, potential, chunk_size=None if parallel else args.chunk_size,
                                  diagnostics=not args.no_diagnostics)
        numbers = read_numbers(structure) if structure else None
        if getattr(args, "state", None):
            load_stream_state(strategy, args.state)
        return ForceService(strategy, numbers, vacuum=args.vacuum)
    except BaseException:
        potential.close()  # stops the other ranks
        raise


def serve_as_rank(args, layout) -> int:
    """A rank other than 0 of a launch: evaluate shares for rank 0 (which talks to i-PI) until it quits."""
    log = (lambda msg: None) if args.quiet else (lambda msg: print(f"symbreak serve: {msg}", file=sys.stderr, flush=True))
    set_threads(args, parallel=True)
    spec, _ = potential_arguments(args)
    return run_rank(spec, layout, rank_options(args), args.chunk_size, log)


def load_stream_state(strategy, path: str) -> None:
    """Continue a random strategy's stream from ``path`` (if the file exists); ValueError names a bad file."""
    import json
    import os

    if not hasattr(strategy, "restore"):
        raise InputError(f"--state is for random strategies; '{strategy.label}' has no random stream")
    if not os.path.exists(path):
        return
    try:
        state = json.loads(open(path).read())
        strategy.restore(state)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(f"cannot continue the random stream from {path}: {err}") from None


def save_stream_state(strategy, path: str) -> None:
    """Write the strategy's stream position to ``path`` atomically (a new file renamed over the old)."""
    import json

    from ..core.files import write_text_atomic

    write_text_atomic(path, json.dumps(strategy.state()))


def run(args) -> int:
    layout = launch_layout(args)
    if layout is not None and not layout.is_root:
        return serve_as_rank(args, layout)
    service = build_service(args)
    try:
        return serve_ipi(service, args)
    finally:
        service.potential.close()


def serve_ipi(service: ForceService, args) -> int:
    log = (lambda msg: None) if args.quiet else (lambda msg: print(f"symbreak serve: {msg}", file=sys.stderr, flush=True))
    target = socket_target(args)
    kind = "UNIX socket" if args.unix else "TCP"
    log(f"waiting up to {args.timeout:g} s for i-PI at {kind} {target} (start i-PI with that <address>"
        f"{'' if args.unix else ' and <port>'} in its <ffsocket>; --timeout changes the wait)")
    if args.unix:
        sock = connect_unix(target, timeout=args.timeout)
    else:
        sock = connect_tcp(args.host or args.address, args.port, timeout=args.timeout)
    log(f"connected to {target}; serving {service.potential.name}")
    last = [time.monotonic()]
    state_file = getattr(args, "state", None)

    def progress(calls: int) -> None:
        if state_file:
            save_stream_state(service.potential, state_file)
        now = time.monotonic()
        if now - last[0] > 10.0:
            last[0] = now
            per_call = 1e3 * service.seconds / max(service.calls, 1)
            log(f"{calls} calls, {service.structures} structures, {per_call:.1f} ms per call")

    client = IPIClient(sock, service, on_call=progress, handshake_timeout=args.handshake_timeout)
    try:
        client.run()
    finally:
        sock.close()
    log(f"i-PI sent EXIT after {client.calls} calls; bye")
    return 0
