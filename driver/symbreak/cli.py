"""The `symbreak` command line: one subcommand per module, imported only when used.

    symbreak serve --potential toy --strategy 2i --unix --address h2o
    symbreak --help
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# name -> (module, one-line help). Each module defines add_arguments(parser) and run(args) -> int.
COMMANDS = {
    "study": ("symbreak.campaign.study", "the main job: run the study for several strategies and report"),
    "audit": ("symbreak.audit.cli", "audit a model: symmetry error by grid and angular order, torque, drift in NVE, model error"),
    "analyze": ("symbreak.analysis.cli", "analyse run folders: observables with error bars, figures, verdicts between runs"),
    "run": ("symbreak.campaign.cli", "run a named simulation case (i-PI + servers) into an output folder"),
    "serve": ("symbreak.server.cli", "serve a potential to i-PI over a socket, wrapped in a symmetrization strategy"),
    "reference": ("symbreak.potentials.qtip4pf_cli", "run the LAMMPS q-TIP4P/F reference as an i-PI client (fix ipi)"),
    "label": ("symbreak.potentials.label_cli", "label structures with reference energies, forces and stress"),
    "build": ("symbreak.structures.cli", "build water structures: molecule, liquid box, proton-disordered ice"),
    "dataset": ("symbreak.training.dataset_cli", "generate labelled reference data with i-PI + LAMMPS"),
    "train": ("symbreak.training.train_cli", "train the PET-style model on extxyz data"),
    "evaluate": ("symbreak.training.evaluate_cli", "model and symmetry errors of a model on labelled data"),
}


class CLIError(Exception):
    """An error at the command-line boundary: printed as one line, exit code 2."""


def _user_errors() -> tuple:
    from .campaign.processes import ProcessFailed

    return (CLIError, ValueError, FileNotFoundError, ConnectionError, TimeoutError, ProcessFailed)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="symbreak", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"symbreak {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module) is None:
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[args.command][0])
    USER_ERRORS = _user_errors()
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("symbreak: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        print(f"symbreak {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
