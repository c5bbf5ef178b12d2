#!/usr/bin/env python
"""Cost per MD step of every case with the runner: plain vs 2i vs MTS, on this machine.

    python scripts/bench_cases.py [--potential default] [--steps 4] [--cases gas-nve,liquid-nvt]

Each case runs through `symbreak run` machinery (i-PI, the model servers with
one torch thread each, and the q-TIP4P/F reference at weight 0 where the case
records it) for a few steps with i-PI's verbosity 'high'; the table shows the
median wall time per step after the first (connection, warm-up). MTS cases
report the cost of one outer step (10 inner steps).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from symbreak.campaign.cases import CASES
from symbreak.campaign.runner import RunConfig, run_case
from symbreak.ipi.timing import median_step_time

PLAN = {
    "gas-nve": ("plain", "2i"), "gas-mts": ("2i",), "liquid-nvt": ("plain", "2i"), "liquid-mts": ("2i",),
    "liquid-pimd": ("plain", "2i"), "ice-nvt": ("plain", "2i"), "ice-npt": ("plain",), "ice-pimd": ("plain",),
    "ice-geop": ("plain", "2i"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--potential", default="default")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--cases", default=",".join(PLAN))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases.split(","):
            for strategy in PLAN[name]:
                out = Path(tmp) / f"{name}-{strategy}"
                run_case(RunConfig(case=name, out=str(out), strategy=strategy, potential=args.potential,
                                   steps=args.steps, verbosity="high", quiet=True))
                ms = 1e3 * median_step_time(out / "ipi.log", skip=1)
                case = CASES[name]
                rows.append((name, strategy, case.beads, case.timestep_fs, ms))
                print(f"{name:12s} {strategy:6s} {ms:10.1f} ms/step", flush=True)
    print(f"\n{'case':12s} {'strategy':8s} {'beads':>5s} {'dt/fs':>6s} {'ms/step':>9s} {'ms/fs':>8s}")
    for name, strategy, beads, dt, ms in rows:
        print(f"{name:12s} {strategy:8s} {beads:5d} {dt:6.2f} {ms:9.1f} {ms / dt:8.1f}")


if __name__ == "__main__":
    main()
