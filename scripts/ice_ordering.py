"""Can a model order proton-disordered ice cells? Relative energies of relaxed cells: spread, model error, symmetry error.

    python scripts/ice_ordering.py --model default --cells 10 --repeats 2 2 1
    python scripts/ice_ordering.py --model default --cells 8 --repeats 3 2 2 --polar --relax-steps 400

Builds ``--cells`` proton-disordered ice Ih cells (symbreak's builder, seeds from --first-seed; zero net
dipole unless --polar), relaxes each at fixed cell with the q-TIP4P/F reference (LAMMPS, L-BFGS), and
evaluates on the relaxed geometries: the reference, the model plain and the model averaged (--averaged,
default 2i). Relative energies are each potential's energies per molecule minus their mean over the cells
(the proton-pattern energetics the model must resolve). Prints, in meV/H2O:
  spread            std of the reference relative energies (the physical signal)
  model error       RMS of (plain - reference) relative energies, and its ratio to the spread
  symmetry error    RMS of (plain - averaged) relative energies, and its ratio to the spread
  Kendall tau       rank agreement of plain and of averaged with the reference
Goals of issue 15: model error < 0.5 x spread, symmetry error <= 5 % of the spread.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy import stats


def relaxed_cells(repeats, n_cells: int, first_seed: int, polar: bool, relax_steps: int, fmax: float):
    from symbreak.potentials.qtip4pf import QTIP4PF
    from symbreak.potentials.relaxation import relax
    from symbreak.structures import ice_ih

    reference = QTIP4PF(kspace_accuracy=1e-6)
    cells = []
    for seed in range(first_seed, first_seed + n_cells):
        cell = ice_ih(tuple(repeats), seed=seed, zero_dipole=not polar)
        cells.append(relax(cell, reference, steps=relax_steps, fmax=fmax))
    return reference, cells


def per_molecule_energies(potential, cells) -> np.ndarray:
    return np.array([potential.compute_one(c)[0] / (c.n_atoms // 3) for c in cells])


def rms(x) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="default", help="potential spec (default: the shipped model)")
    p.add_argument("--cells", type=int, default=10)
    p.add_argument("--repeats", type=int, nargs=3, default=[2, 2, 1], help="orthorhombic ice Ih repeats (8 H2O each)")
    p.add_argument("--first-seed", type=int, default=100)
    p.add_argument("--polar", action="store_true", help="keep each proton pattern's net dipole")
    p.add_argument("--relax-steps", type=int, default=300)
    p.add_argument("--fmax", type=float, default=0.005)
    p.add_argument("--averaged", default="2i", help="the strategy compared with plain (default 2i)")
    a = p.parse_args(argv)
    if a.cells < 3:
        p.error("--cells must be >= 3")
    from symbreak.potentials import load_potential
    from symbreak.symmetry.strategies import parse_strategy

    start = time.perf_counter()
    reference, cells = relaxed_cells(a.repeats, a.cells, a.first_seed, a.polar, a.relax_steps, a.fmax)
    relaxed_s = time.perf_counter() - start
    model = load_potential(a.model)
    e = {"reference": per_molecule_energies(reference, cells),
         "plain": per_molecule_energies(parse_strategy("plain", model), cells),
         a.averaged: per_molecule_energies(parse_strategy(a.averaged, model), cells)}
    rel = {k: 1000.0 * (v - v.mean()) for k, v in e.items()}  # meV/H2O
    spread = float(rel["reference"].std())
    model_error = rms(rel["plain"] - rel["reference"])
    symmetry_error = rms(rel["plain"] - rel[a.averaged])
    tau_plain = stats.kendalltau(rel["plain"], rel["reference"]).statistic
    tau_avg = stats.kendalltau(rel[a.averaged], rel["reference"]).statistic
    n_mol = cells[0].n_atoms // 3
    print(f"{a.cells} cells of {n_mol} H2O (repeats {' '.join(map(str, a.repeats))}, "
          f"{'polar' if a.polar else 'zero dipole'}), relaxed with q-TIP4P/F in {relaxed_s:.0f} s; model {a.model}")
    print("cell  " + "  ".join(f"{k:>10s}" for k in rel) + "   (relative energies, meV/H2O)")
    for k in range(a.cells):
        print(f"{a.first_seed + k:4d}  " + "  ".join(f"{rel[name][k]:10.4f}" for name in rel))
    print(f"spread (reference std)      {spread:.4f} meV/H2O")
    print(f"model error (plain, RMS)    {model_error:.4f} meV/H2O = {model_error / spread:.2f} x spread (goal < 0.5)")
    print(f"symmetry error (plain-{a.averaged})  {symmetry_error:.4f} meV/H2O = {100 * symmetry_error / spread:.1f} % "
          "of the spread (goal <= 5 %)")
    print(f"Kendall tau vs reference    plain {tau_plain:+.2f}   {a.averaged} {tau_avg:+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
