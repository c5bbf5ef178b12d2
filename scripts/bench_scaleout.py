#!/usr/bin/env python
"""Benchmark: K model servers over TCP serving one path-integral i-PI run (i-PI spreads the beads).

    python scripts/bench_scaleout.py [--potential default] [--beads 8] [--servers 1 2] [--steps 10]

Runs the liquid-pimd case (64 H2O, 8 beads, no reference) with K = 1 and K = 2
servers, each with one torch thread, side by side and interleaved, and prints
the speed-up of K = 2 over K = 1 from i-PI's own per-step timings (verbosity
high, first two steps dropped, median). Goal on 2 cores: >= 1.6x.

Servers on other machines: run i-PI with an <ffsocket mode='inet'> on host H,
port P (e.g. `symbreak run liquid-pimd --transport inet --host 0.0.0.0`
writes such an input), then on each machine `symbreak serve --host H --port P
--potential default --strategy 2i --structure init.xyz`; i-PI hands each
connected server its own beads.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

from symbreak.campaign.cases import get_case
from symbreak.campaign.runner import RunConfig, prepare
from symbreak.ipi.inputs import simulation_xml
from symbreak.ipi.launch import run_simulation
from symbreak.ipi.timing import median_step_time


def one_run(workdir: Path, args, servers: int) -> float:
    config = RunConfig(case="liquid-pimd", out=str(workdir), strategy=args.strategy, potential=args.potential,
                       steps=args.steps + 2, beads=args.beads, servers=servers, transport="inet", reference=False,
                       size=args.molecules)
    spec, _, manifest = prepare(config)
    spec = replace(spec, verbosity="high", trajectories=[])
    clients = [list(c.command) for c in manifest.commands.clients]
    structure = get_case("liquid-pimd").structure(config.seed, args.molecules)
    run_simulation(workdir, structure, simulation_xml(spec), clients, timeout=3600)
    return median_step_time(workdir / "ipi.log", skip=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--potential", default="default")
    parser.add_argument("--strategy", default="plain")
    parser.add_argument("--beads", type=int, default=8)
    parser.add_argument("--molecules", type=int, default=64)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    times = {k: [] for k in args.servers}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for k in args.servers:
                times[k].append(one_run(Path(tmp) / f"k{k}-{r}", args, k))
    med = {k: statistics.median(v) for k, v in times.items()}
    base = med[args.servers[0]]
    print(f"{args.potential} [{args.strategy}], {args.molecules} H2O x {args.beads} beads, median ms/step over {args.repeats} runs")
    for k, t in med.items():
        print(f"  K = {k}: {1e3 * t:8.1f} ms/step   speed-up vs K = {args.servers[0]}: {base / t:.2f}x")


if __name__ == "__main__":
    main()
