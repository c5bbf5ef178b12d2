"""Time energy + forces of the PET-style model on liquid-water boxes of 192 and 1536 atoms.

    python scripts/bench_model.py --threads 1
    python scripts/bench_model.py --model default --threads 2 --sizes 4 8 12 --dtype float64

Prints, per box, the time of one E+F+virial step (best and median wall time
of ``--repeats``, and best CPU time of the process, which other users of a
shared machine disturb less), the time per atom and the neighbour-list share. The cost per
atom should be flat (within ~20 %) from 192 to 1536 atoms: the neighbour list
and the model both scale linearly. Without ``--model`` a randomly initialised
model with the default hyperparameters is timed (same cost as a trained one).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="'default' or a checkpoint path (default: random weights)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default: %(default)s)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8], help="molecules per box side (4 -> 192 atoms, 8 -> 1536)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from symbreak.potentials import load_potential
    from symbreak.potentials.pet import PETHypers, PETModel, PETPotential, topology
    from symbreak.potentials.testing import water_box

    if args.model is None:
        torch.manual_seed(0)
        pot = PETPotential(PETModel(PETHypers()), dtype=args.dtype)
    else:
        pot = load_potential(args.model, dtype=args.dtype)
    print(f"{pot.describe()}; {args.threads} thread(s)")
    print(f"{'atoms':>7}{'best ms':>10}{'median ms':>11}{'us/atom':>10}{'cpu ms':>10}{'cpu us/atom':>13}{'nlist ms':>10}")
    per_atom = []
    for n in args.sizes:
        box = water_box(n_per_side=n, spacing=3.1, seed=n)  # ~1 g/cm3
        pot.compute([box])  # warm-up
        times, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            pot.compute([box])
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        topology(box, pot.model.hypers.cutoff)
        nlist = time.perf_counter() - t0
        best = min(times)
        best_cpu = min(cpu)
        per_atom.append((best / box.n_atoms, best_cpu / box.n_atoms))
        print(
            f"{box.n_atoms:>7}{1000 * best:>10.1f}{1000 * statistics.median(times):>11.1f}{1e6 * best / box.n_atoms:>10.1f}"
            f"{1000 * best_cpu:>10.1f}{1e6 * best_cpu / box.n_atoms:>13.1f}{1000 * nlist:>10.1f}"
        )
    if len(per_atom) > 1:
        print(
            f"cost per atom, largest / smallest box: wall {per_atom[-1][0] / per_atom[0][0]:.2f}, "
            f"cpu {per_atom[-1][1] / per_atom[0][1]:.2f} (cpu time is the fairer number on a shared machine)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
