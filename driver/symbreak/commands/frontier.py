"""`symbreak frontier`: what each way of fixing the symmetry costs and what it fixes, measured side by side.

    symbreak frontier --out frontier                          # one H2O in vacuum, 0.5 ps per entry (~5 min)
    symbreak frontier --systems gas,liquid --liquid-size 32 --liquid-fs 50 --out frontier
    symbreak frontier --potential toy --duration-fs 50 --out frontier-toy

Entries (see :mod:`symbreak.study.frontier`): plain; random (one random
rotation per call); 2i turned at random per call; plain with the net torque
(vacuum) or net force (liquid) removed; the grids i, 2, 2i and, in vacuum, 3i
at every step; MTS with the plain model every 0.5 fs and the 2 or 2i
correction every 2, 4, 5, 10 or 20 inner steps. Every entry simulates the same
time from the same start. The reference is direct 3i in vacuum and direct 2i
in the liquid. Writes frontier.json, frontier.txt, report.html and one figure
per system (cost against error, one point per entry) into --out; a finished
run folder is reused, an interrupted one resumed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ..campaign.parallelism import usable_cores
from ..core.errors import InputError
from ..potentials.spec import SPEC_HELP, parse_potential_spec


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="frontier", help="output folder (default: frontier)")
    parser.add_argument("--potential", default="default", help=f"{SPEC_HELP} (default: default)")
    parser.add_argument("--systems", default="gas", help="gas, liquid or gas,liquid (default: gas)")
    parser.add_argument("--duration-fs", type=float, default=500.0,
                        help="simulated time of each vacuum entry in fs (default: 500)")
    parser.add_argument("--liquid-fs", type=float, default=50.0,
                        help="simulated time of each liquid entry in fs (default: 50)")
    parser.add_argument("--liquid-size", type=int, default=32, help="molecules in the liquid (default: 32)")
    parser.add_argument("--seed", type=int, default=7, help="seed of i-PI and of the initial structures")


def parse_systems(text: str) -> tuple[str, ...]:
    from ..study.frontier import SYSTEMS

    systems = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown or not systems:
        raise InputError(f"unknown --systems {unknown or text!r}: choose from {','.join(SYSTEMS)}")
    return systems


def _log(text: str) -> None:
    print(f"symbreak frontier: {text}", file=sys.stderr, flush=True)


def run(args) -> int:
    from ..analysis.report import write_report
    from ..analysis.results import write_json
    from ..study.frontier_execute import measure_frontier
    from ..study.frontier_report import (
        frontier_document,
        frontier_figure,
        frontier_figure_name,
        frontier_finding,
        frontier_section,
        frontier_text,
    )

    start = time.monotonic()
    parse_potential_spec(args.potential)
    systems = parse_systems(args.systems)
    for name, value in (("--duration-fs", args.duration_fs), ("--liquid-fs", args.liquid_fs)):
        if not value > 0:
            raise InputError(f"{name} must be > 0, got {value:g}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frontiers = []
    for system in systems:
        duration = args.duration_fs if system == "gas" else args.liquid_fs
        size = args.liquid_size if system == "liquid" else None
        frontiers.append(measure_frontier(system, out, args.potential, duration, args.seed, size, _log))
    sections, texts = [], []
    for f in frontiers:
        sections.append(frontier_section(f, frontier_figure(f, out / frontier_figure_name(f))))
        texts.append(frontier_text(f))
    seconds = time.monotonic() - start
    load = os.getloadavg()[1]  # the last 5 minutes
    cores = usable_cores()
    busy = (f" The machine was busy (load {load:.1f} on {cores} cores): costs measured under load are noisy."
            if load > cores else "")
    intro = (f"Potential <b>{args.potential}</b>; {seconds:.0f} s wall (reused runs cost nothing); load average "
             f"{load:.1f} on {cores} cores.{busy}")
    write_report(out / "report.html", "symbreak frontier", [frontier_finding(f) for f in frontiers], sections, [],
                 intro=intro)
    write_json(out / "frontier.json", {"potential": args.potential, "wall_seconds": round(seconds, 1),
                                       "load_average": round(load, 2), "cores": cores,
                                       "systems": [frontier_document(f) for f in frontiers]})
    text = "\n\n".join(texts)
    (out / "frontier.txt").write_text(text + "\n")
    print(text + ("\n" + busy.strip() if busy else ""))
    _log(f"wrote {out / 'report.html'}, {out / 'frontier.json'}, {out / 'frontier.txt'} in {seconds:.0f} s")
    return 0
