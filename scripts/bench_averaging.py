#!/usr/bin/env python
"""Benchmark: rotational averaging inside the server vs i-PI's <ffrotations>, and server vs in-process.

    python scripts/bench_averaging.py [--potential default] [--strategy 2i] [--steps 300] [--box-steps 8] [--repeats 2]

For one molecule and for a 64-molecule box, times one MD step of i-PI with
  server     : `symbreak serve --strategy 2i` (all rotations batched in the server)
  ffrotations: i-PI's <ffrotations legendre 2 + inversion> over `symbreak serve --strategy plain`
               (one socket round trip per rotation)
  in-process : i-PI's <ffdirect> running the same strategy without sockets
Per-step times are i-PI's own: for the molecule, its average over blocks of
100 steps (verbosity medium, which keeps i-PI's logging out of the timing);
for the box, where a step costs far more than logging, the time of every step
(verbosity high), dropping the first two steps (connection, warm-up); medians.
Configurations are run side by side, interleaved; only the ratios are meant
to be compared (this machine is noisy). Targets: ffrotations/server >= 10
(one molecule) and >= 1.3 (64 molecules); in-process/server >= 0.95.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from symbreak.ipi.inputs import DirectSpec, ForceTerm, RotationsSpec, SimulationSpec, SocketSpec, simulation_xml
from symbreak.ipi.launch import run_simulation, symbreak_command
from symbreak.ipi.md_settings import MDSettings
from symbreak.ipi.processes import unique_socket_name
from symbreak.ipi.timing import median_step_time
from symbreak.potentials import testing
from symbreak.symmetry import parse_strategy_spec


def one_run(workdir: Path, structure, config: str, args, steps: int, vacuum: bool, verbosity: str) -> float:
    name = unique_socket_name("bench")
    spec_grid = parse_strategy_spec(args.strategy)
    serve = ["serve", "--potential", args.potential, "--unix", "--address", name, "--quiet", "--threads", str(args.threads)]
    if vacuum:
        serve.append("--vacuum")
    params = {"potential": args.potential, "strategy": args.strategy, "vacuum": vacuum}
    if config == "server":
        ffs, servers = [SocketSpec("model", name)], [symbreak_command(*serve, "--strategy", args.strategy)]
    elif config == "ffrotations":
        ffs = [RotationsSpec("model", SocketSpec("inner", name), spec_grid.kind, spec_grid.order, spec_grid.inversion)]
        servers = [symbreak_command(*serve, "--strategy", "plain", "--no-diagnostics")]
    elif config == "in-process":
        ffs, servers = [DirectSpec("model", params)], []
    else:
        raise ValueError(config)
    spec = SimulationSpec("init.xyz", ffs, [ForceTerm("model")], MDSettings(ensemble="nve", thermostat="none", steps=steps + 2),
                          verbosity=verbosity, properties=["step", "potential"], trajectories=[], restart_stride=100000)
    run_simulation(workdir, structure, simulation_xml(spec), servers, timeout=3600)
    return median_step_time(workdir / "ipi.log", skip=2 if verbosity == "high" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--potential", default="default")
    parser.add_argument("--strategy", default="2i", help="a legendre grid, so that ffrotations can do the same")
    parser.add_argument("--steps", type=int, default=300, help="timed steps for the molecule (>= 200)")
    parser.add_argument("--box-steps", type=int, default=8, help="timed steps for the 64-molecule box")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads in each server")
    args = parser.parse_args()
    if parse_strategy_spec(args.strategy).kind != "legendre":
        parser.error("--strategy must be a legendre grid (e.g. 2i) to compare with ffrotations")

    systems = {
        "1 molecule": (testing.water_molecule(seed=0), True, max(args.steps, 200), "medium"),
        "64 molecules": (testing.water_box(n_per_side=4, seed=1), False, args.box_steps, "high"),
    }
    configs = ["server", "ffrotations", "in-process"]
    print(f"potential {args.potential}, strategy {args.strategy}, {args.repeats} repeats, median per-step times")
    with tempfile.TemporaryDirectory() as tmp:
        for label, (structure, vacuum, steps, verbosity) in systems.items():
            times = {c: [] for c in configs}
            for r in range(args.repeats):
                for c in configs:
                    base = Path(tmp) / f"{label[:2]}-{c}-{r}"
                    times[c].append(one_run(base, structure, c, args, steps, vacuum, verbosity))
            med = {c: statistics.median(v) for c, v in times.items()}
            print(f"\n{label}: " + ", ".join(f"{c} {1e3 * t:.1f} ms/step" for c, t in med.items()))
            print(f"  ffrotations / server = {med['ffrotations'] / med['server']:.2f}x")
            print(f"  in-process / server  = {med['in-process'] / med['server']:.2f}x (server speed relative to in-process)")


if __name__ == "__main__":
    main()
