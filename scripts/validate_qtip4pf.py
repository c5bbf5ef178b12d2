"""Validate the LAMMPS q-TIP4P/F reference in i-PI against published liquid-water numbers (not run in CI).

    python scripts/validate_qtip4pf.py --out runs/validate --steps 40000 --npt-steps 20000 --pimd-steps 4000 --beads 32

Runs, with i-PI driving `symbreak reference` (fix ipi) over a UNIX socket:
1. classical NVT of 216 molecules at 298 K (0.997 g/cm^3, SVR): the O-O RDF
   first peak (position, height) from frames after the equilibration;
2. classical NPT at 298 K and 1 bar (i-PI's isotropic barostat) from the
   equilibrated liquid: the density, with a block-averaged error bar;
3. PIMD NVT (PILE-L) of the same box: centroid-virial kinetic energy per H and
   per O atom, and the O-O RDF from all beads.
A summary is printed and written to OUT/summary.json.

Literature for comparison (q-TIP4P/F, Habershon, Markland, Manolopoulos,
J. Chem. Phys. 131, 024501 (2009)): the abstract says the model was fitted to
the liquid structure, diffusion and IR frequencies in path-integral
simulations and reproduces the temperature dependence of the experimental
density (0.997 g/cm^3 at 298 K). The other targets in LITERATURE are
approximate and from memory (no offline copy of the paper's tables): g_OO
first peak near 2.8 A; quantum kinetic energy of H ~0.14 eV per atom, the
experimental (neutron Compton) value for water, classical 3/2 kT = 0.0385 eV.

Measured on 2 cores (one run each, 216 H2O, 298 K; `--steps 40000
--npt-steps 20000 --pimd-steps 6000 --beads 32`, then `--steps 0
--pimd-steps 0 --lj-tail`), the first quarter of each run discarded:
  classical NVT 20 ps at 0.997 g/cm^3   g_OO peak 2.766 A, height 3.30
  NPT 10 ps, no LJ tail correction        0.985 +- 0.003 g/cm^3
  NPT 10 ps, --lj-tail                    1.002 +- 0.004 g/cm^3
  PIMD 32 beads, PILE-L, 1.5 ps           K_cv(H) 0.155 eV, K_cv(O) 0.056 eV;
                                          bead g_OO peak 2.774 A, height 3.13
The density agrees with the published one only with the Lennard-Jones tail
correction (the model's LJ cutoff of 9 A without it lowers the density by
1.7 %): use --lj-tail (QTIP4PF(lj_tail=True)) for constant-pressure runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from symbreak.analysis.blocks import block_average
from symbreak.analysis.rdf import radial_distribution
from symbreak.ipi.md_settings import MDSettings, thermostat_for
from symbreak.potentials.relaxation import relax
from symbreak.structures import liquid_box, write_ipi_xyz
from symbreak.structures.io import read_structures
from symbreak.ipi.outputs import read_properties
from symbreak.training.ipi_md import run_reference_md

KT_298 = 8.617333262e-5 * 298.0
LITERATURE = {"gOO_peak_position": (2.80, 0.05), "gOO_peak_height_quantum": (2.7, 0.2),
              "density_g_cm3": (0.998, 0.01), "T_H_quantum_eV": (0.14, 0.01)}
WATER_MASS_G = 18.01528 / 6.02214076e23


def rdf_oo(frames, r_max: float = 8.0, bins: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """Usage: rdf_oo(structures) -> (r, g_OO(r)) of frames sharing one composition (symbreak.analysis.rdf)."""
    g = radial_distribution(np.stack([s.positions for s in frames]), frames[0].numbers,
                            np.stack([s.cell for s in frames]), pair="OO", r_max=r_max, n_bins=bins)
    return g.r, g.g


def first_peak(r: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Usage: first_peak(r, g) -> (position, height) of the first maximum, parabola-refined."""
    k = int(np.argmax(np.where(r < 3.3, g, 0.0)))
    y0, y1, y2 = g[k - 1], g[k], g[k + 1]
    shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2) if (y0 - 2 * y1 + y2) != 0 else 0.0
    dr = r[1] - r[0]
    return float(r[k] + shift * dr), float(y1 - 0.25 * (y0 - y2) * shift)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/validate_qtip4pf", help="output directory")
    parser.add_argument("--molecules", type=int, default=216)
    parser.add_argument("--steps", type=int, default=20000, help="classical steps (0.5 fs)")
    parser.add_argument("--npt-steps", type=int, default=20000, help="classical NPT steps (0.5 fs) for the density")
    parser.add_argument("--lj-tail", action="store_true",
                        help="NPT with the Lennard-Jones tail correction (pair_modify tail yes)")
    parser.add_argument("--pimd-steps", type=int, default=4000, help="PIMD steps (0.25 fs)")
    parser.add_argument("--beads", type=int, default=32)
    parser.add_argument("--equilibration", type=float, default=0.25, help="fraction of each run discarded")
    args = parser.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    init = os.path.join(args.out, "init.xyz")
    if not os.path.exists(init):
        write_ipi_xyz(init, relax(liquid_box(args.molecules, density=0.997, seed=11), steps=300))

    def say(msg):
        print(f"validate: {msg}", file=sys.stderr, flush=True)

    summary_path = os.path.join(args.out, "summary.json")
    report = {}
    if os.path.exists(summary_path):  # stages run separately (--steps 0 ...) add to one summary
        with open(summary_path) as fh:
            report = json.load(fh).get("runs", {})
    equilibrated = os.path.join(args.out, "equilibrated.xyz")
    if args.steps == 0 and os.path.exists(equilibrated):
        init = equilibrated
    if args.steps > 0:
        t = time.time()
        res = run_reference_md(os.path.join(args.out, "classical"), init,
                               MDSettings(temperature_k=298.0, steps=args.steps, stride=20, thermostat_tau_fs=50.0,
                                          seed=12345),
                               timeout=1e6, progress=say)
        frames = read_structures(res.trajectories[0])
        frames = frames[int(args.equilibration * len(frames)):]
        r, g = rdf_oo(frames)
        pos, height = first_peak(r, g)
        props = read_properties(res.properties)
        keep = props["step"] >= args.equilibration * args.steps
        report["classical"] = {
            "frames": len(frames), "gOO_peak_position_A": pos, "gOO_peak_height": height,
            "temperature_K": float(props["temperature"][keep].mean()),
            "potential_eV_per_molecule": float(props["potential"][keep].mean() / args.molecules),
            "wall_s": time.time() - t,
        }
        np.savetxt(os.path.join(args.out, "gOO_classical.dat"), np.c_[r, g])
        init = os.path.join(args.out, "equilibrated.xyz")  # NPT and PIMD start from the equilibrated liquid
        write_ipi_xyz(init, frames[-1])
    if args.npt_steps > 0:
        t = time.time()
        name = "npt_lj_tail" if args.lj_tail else "npt"
        res = run_reference_md(os.path.join(args.out, name), init,
                               MDSettings(temperature_k=298.0, steps=args.npt_steps, stride=20, thermostat_tau_fs=50.0,
                                          ensemble="npt", pressure_bar=1.0, barostat_tau_fs=200.0, seed=12345),
                               lj_tail=args.lj_tail, timeout=1e6, progress=say)
        props = read_properties(res.properties)
        keep = props["step"] >= args.equilibration * args.npt_steps
        density = args.molecules * WATER_MASS_G / (props["volume"][keep] * 1e-24)
        mean, err = block_average(density, n_blocks=5)
        report[name] = {
            "density_g_cm3": float(mean), "density_error_g_cm3": float(err),
            "pressure_MPa": float(props["pressure_cv"][keep].mean()) / 10.0,  # the reader gives bar
            "temperature_K": float(props["temperature"][keep].mean()), "wall_s": time.time() - t,
        }
    if args.pimd_steps > 0:
        t = time.time()
        res = run_reference_md(os.path.join(args.out, "pimd"), init,
                               MDSettings(temperature_k=298.0, steps=args.pimd_steps, stride=20, beads=args.beads,
                                          thermostat=thermostat_for(args.beads), timestep_fs=0.25,
                                          thermostat_tau_fs=100.0, seed=12345), timeout=1e6, progress=say)
        props = read_properties(res.properties)
        keep = props["step"] >= args.equilibration * args.pimd_steps
        n_h, n_o = 2 * args.molecules, args.molecules
        frames = []
        for path in res.trajectories:
            beads = read_structures(path)
            frames += beads[int(args.equilibration * len(beads)):]
        r, g = rdf_oo(frames)
        pos, height = first_peak(r, g)
        report["pimd"] = {
            "beads": args.beads,
            "T_H_cv_eV_per_atom": float(props["kinetic_cv(H)"][keep].mean() / n_h),
            "T_O_cv_eV_per_atom": float(props["kinetic_cv(O)"][keep].mean() / n_o),
            "classical_1.5kT_eV": 1.5 * KT_298,
            "gOO_peak_position_A": pos, "gOO_peak_height": height,
            "wall_s": time.time() - t,
        }
        np.savetxt(os.path.join(args.out, "gOO_pimd.dat"), np.c_[r, g])
    with open(summary_path, "w") as fh:
        json.dump({"runs": report, "literature": LITERATURE}, fh, indent=1)
    for name, values in report.items():
        print(f"{name}: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()))
    print("literature (approximate): " + ", ".join(f"{k}={v[0]}+-{v[1]}" for k, v in LITERATURE.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
