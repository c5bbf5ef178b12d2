"""`symbreak run`: run a named simulation case with i-PI and symbreak servers.

    symbreak run --list
    symbreak run gas-nve --potential default --strategy 2i --steps 400 --out runs/gas-2i
    symbreak run liquid-pimd --strategy 2i --beads 8 --servers 2 --transport inet
    symbreak run replay --trajectory runs/liquid/simulation.positions_0.xyz --out runs/replay

Re-running the same command into the folder of an interrupted run resumes it
from i-PI's checkpoint (every step once in every output); a run folder is
locked by its runner, a re-run with other options refuses and lists them
(--force-new moves the old folder aside), and a run that stops making progress
is stopped with one line naming each process's state (--stall-timeout).
"""

from __future__ import annotations

from dataclasses import replace

from ..campaign.cases import get_case, list_cases
from ..campaign.parallelism import auto_workers
from ..campaign.runner import REPLAY_STRATEGIES, RunConfig, run_case
from ..core.errors import InputError
from ..potentials.spec import SPEC_HELP


def add_arguments(parser) -> None:
    parser.add_argument("case", nargs="?", help="case name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--strategy", default="plain", help="symmetrization strategy (see `symbreak serve --help`)")
    parser.add_argument("--potential", default="default", help=f"{SPEC_HELP} (default: default)")
    parser.add_argument("--steps", type=int, default=None, help="MD steps (default: the case's)")
    parser.add_argument("--beads", type=int, default=None, help="path-integral beads (default: the case's)")
    parser.add_argument("--servers", type=int, default=1, help="model servers sharing the work (default: 1)")
    parser.add_argument("--size", type=int, default=None, help="molecules (liquid: any; ice: 96, 128, 192, 288, 768)")
    parser.add_argument("--transport", choices=["unix", "inet"], default="unix", help="socket kind (default: unix)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address i-PI listens on with --transport inet (default: 127.0.0.1, loopback only)")
    parser.add_argument("--trajectory", default=None, help="frames to evaluate (replay case)")
    parser.add_argument("--mts-ratio", type=int, default=None, metavar="N",
                        help="MTS cases: inner 0.5 fs steps per outer step (default 10: the correction every 5 fs)")
    parser.add_argument("--stride", type=int, default=None, metavar="N",
                        help="steps between output rows of a dynamics run (default: the case's, 10 for bulk water)")
    parser.add_argument("--init", default=None, metavar="XYZ",
                        help="start from the last frame of this file (e.g. an earlier run's positions) instead of the case's structure")
    parser.add_argument("--replay-strategies", default=",".join(REPLAY_STRATEGIES),
                        help=f"strategies evaluated in a replay (default: {','.join(REPLAY_STRATEGIES)})")
    ref = parser.add_mutually_exclusive_group()
    ref.add_argument("--reference", dest="reference", action="store_true", default=None,
                     help="record the q-TIP4P/F energy at weight 0 (default: per case)")
    ref.add_argument("--no-reference", dest="reference", action="store_false", help="do not run the reference")
    parser.add_argument("--seed", type=int, default=31415, help="seed of i-PI and of the initial structure")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per server process (default: 1)")
    parser.add_argument("--workers", default="auto",
                        help="processes per model server sharing each call's rotated copies, for grid strategies "
                             "(`symbreak serve --workers`); auto (default): the usable cores for a grid strategy with "
                             ">= 8 evaluations and a torch model, else 1 (see the README's scale-out section)")
    parser.add_argument("--out", default=None, help="output folder (default: runs/CASE-STRATEGY)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--stall-timeout", type=float, default=None, metavar="SECONDS",
                        help="stop the run (exit 2, resumable) when i-PI writes no new step for this long "
                             "(default: max(60 s, 20 x the measured time per output row); 300 s at start-up)")
    parser.add_argument("--force-new", action="store_true",
                        help="if --out holds a run, move it aside to OUT.old-TIMESTAMP and start afresh "
                             "(without it, an unfinished run with the same options is resumed, and a finished "
                             "run or one with other options is refused)")


def workers_option(text: str, config: RunConfig) -> int:
    """--workers: an integer >= 1, or auto (:func:`symbreak.campaign.parallelism.auto_workers`)."""
    if str(text).strip().lower() == "auto":
        return auto_workers(config, get_case(config.case))
    try:
        return int(text)
    except ValueError:
        raise InputError(f"--workers must be an integer >= 1 or auto, not '{text}'") from None


def run(args) -> int:
    if args.list or not args.case:
        for name, description in list_cases():
            print(f"{name:12s} {description}")
        return 0 if args.list else 2
    out = args.out or f"runs/{args.case}-{args.strategy.replace(':', '_')}"
    config = RunConfig(
        case=args.case, out=out, strategy=args.strategy, potential=args.potential, steps=args.steps,
        beads=args.beads, size=args.size, servers=args.servers, seed=args.seed, transport=args.transport,
        host=args.host, threads=args.threads, reference=args.reference, trajectory=args.trajectory,
        init_structure=args.init, mts_ratio=args.mts_ratio, stride=args.stride, replay_strategies=tuple(s.strip() for s in args.replay_strategies.split(",") if s.strip()), quiet=args.quiet,
        stall_timeout=args.stall_timeout, force_new=args.force_new,
    )
    config = replace(config, workers=workers_option(args.workers, config))
    result = run_case(config)
    verb = "resumed and finished" if result.resumed else "ran"
    print(f"symbreak run: {verb} {result.steps} steps of {args.case} ({args.strategy}) in {result.seconds:.1f} s -> {result.out}")
    return 0
