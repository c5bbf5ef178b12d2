"""The `symbreak` command line: one subcommand per module, imported only when used.

    symbreak serve --potential toy --strategy 2i --unix --address h2o
    symbreak --help
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .core.errors import SymbreakError

# name -> (module, one-line help). Each module defines add_arguments(parser) and run(args) -> int.
COMMANDS = {
    "study": ("symbreak.commands.study", "the main job: run the study for several strategies and report"),
    "frontier": ("symbreak.commands.frontier", "the cost-accuracy frontier: every way of fixing the symmetry, cost vs error"),
    "audit": ("symbreak.commands.audit", "audit a model: symmetry error by grid and angular order, torque, drift in NVE, model error"),
    "check": ("symbreak.commands.check", "is a run folder whole? integrity checks after a crash (exit 0 or 1)"),
    "analyze": ("symbreak.commands.analyze", "analyse run folders: observables with error bars, figures, verdicts between runs"),
    "run": ("symbreak.commands.run", "run a named simulation case (i-PI + servers) into an output folder"),
    "serve": ("symbreak.commands.serve", "serve a potential to i-PI over a socket, wrapped in a symmetrization strategy"),
    "reference": ("symbreak.commands.reference", "run the LAMMPS q-TIP4P/F reference as an i-PI client (fix ipi)"),
    "label": ("symbreak.commands.label", "label structures with reference energies, forces and stress"),
    "build": ("symbreak.commands.build", "build water structures: molecule, liquid box, proton-disordered ice"),
    "dataset": ("symbreak.commands.dataset", "generate labelled reference data with i-PI + LAMMPS"),
    "train": ("symbreak.commands.train", "train the PET-style model on extxyz data"),
    "evaluate": ("symbreak.commands.evaluate", "model and symmetry errors of a model on labelled data"),
}
#: commands that are gone -> the one line that says what replaces them
RETIRED = {
    "worker": "`symbreak worker` is gone: ranks on other machines run `symbreak serve` under torchrun or srun "
              "(README, 'Parallel averaging and scale-out'); `symbreak serve --workers K` starts K ranks here",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported for its arguments (None: none, the list of commands).

    Importing every subcommand costs seconds (torch, scipy, matplotlib): a
    `symbreak serve` that i-PI waits for, started three times per run, must
    not pay for `symbreak study`.
    """
    from . import __version__

    parser = argparse.ArgumentParser(prog="symbreak", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"symbreak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    if words and words[0] in RETIRED:
        print(f"symbreak {words[0]}: error: {RETIRED[words[0]]}", file=sys.stderr)
        return 2
    parser = build_parser(next((w for w in words if not w.startswith("-")), None))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("symbreak: interrupted", file=sys.stderr)
        return 130
    except SymbreakError as err:  # anything else is a bug: its traceback shows
        print(f"symbreak {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
