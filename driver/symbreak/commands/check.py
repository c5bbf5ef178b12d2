"""`symbreak check`: is a run folder whole? Integrity checks of any i-PI run, one line each, exit 0 or 1.

    symbreak check runs/liquid-2i                 # after a crash, a kill, a full disk: what is lost or torn
    symbreak check runs/a runs/b --json           # the same as JSON (one object per folder)

Works on symbreak's run folders and on i-PI's own (it reads the i-PI input of
the folder, and symbreak's manifest and lock file when they are there). The
checks (see :mod:`symbreak.campaign.run_check`): the properties file's steps,
every trajectory's and extras file's frames, NUL bytes, the conserved quantity
where a run resumed, the manifest's attempts, processes and socket files left
behind. Exit code 0 when every check passes (or does not apply), 1 when one
fails, 2 for a folder that is not an i-PI run.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..analysis.results import result_json
from ..campaign.run_check import check_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """add_arguments(parser): the options of `symbreak check`."""
    parser.add_argument("folders", nargs="+", metavar="RUN", help="run folders (symbreak's or i-PI's own)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of lines")


def run(args) -> int:
    """run(args) -> 0 when every folder is whole, 1 when a check fails (2, through the CLI, for a bad folder)."""
    reports = [check_run(folder) for folder in args.folders]
    if args.json:
        json.dump([{**result_json(r), "ok": r.ok} for r in reports], sys.stdout, indent=1)
        print()
    else:
        for report in reports:
            state = "in progress" if report.running else "not running"
            print(f"{report.folder} ({state}; last step {report.last_step}; frames lost {report.frames_lost}, "
                  f"duplicated {report.duplicates}):")
            for c in report.checks:
                print(f"  {c.status:4s} {c.name}" + (f": {c.detail}" if c.detail else ""))
            print(f"  {'PASSED' if report.ok else 'FAILED'}")
    return 0 if all(r.ok for r in reports) else 1
