"""`symbreak study`: the main job. Runs the cases for several strategies with one model and reports.

    symbreak study --quick --out study/            # minutes on 2 cores
    symbreak study --potential toy --strategies plain,2i --steps 400

For now the study covers the gas phase (the extrapolative case where broken
symmetry shows most): one molecule in NVE from the same initial conditions
for every strategy; it reports the change of the angular momentum, the RMS
net torque and the energy drift, as a table, JSON and a figure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ..analysis.angular import hbar_ase
from ..analysis.gas import analyze_gas_run
from .runner import RunConfig, run_case


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true", help="small sizes: finishes in a few minutes")
    parser.add_argument("--potential", default="default", help="toy, default or a checkpoint (default: default)")
    parser.add_argument("--strategies", default="plain,random:1,2i", help="comma-separated (default: plain,random:1,2i)")
    parser.add_argument("--steps", type=int, default=None, help="gas NVE steps (default: 2000, quick: 600)")
    parser.add_argument("--out", default="study", help="output folder (default: study)")
    parser.add_argument("--seed", type=int, default=7)


def _figure(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for label, summary in results.items():
        s = summary["series"]
        t = np.array(s["time_ps"])
        L = np.array(s["L"]) / hbar_ase()
        axes[0].plot(t, np.linalg.norm(L - L[0], axis=1), label=label)
        axes[1].plot(t, np.linalg.norm(np.array(s["torque"]), axis=1) * 1e3, label=label, lw=0.8)
    axes[0].set(xlabel="time / ps", ylabel=r"$|L(t) - L(0)|$ / $\hbar$", title="angular momentum, one H$_2$O in vacuum (NVE)")
    axes[1].set(xlabel="time / ps", ylabel="|net torque| / meV", title="net torque on the molecule")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(args) -> int:
    out = Path(args.out)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    steps = args.steps or (600 if args.quick else 2000)
    results = {}
    for strategy in strategies:
        run_dir = out / f"gas-nve-{strategy.replace(':', '_')}"
        if not (run_dir / "manifest.json").exists() or "finished" not in json.loads((run_dir / "manifest.json").read_text()):
            if run_dir.exists():
                import shutil

                shutil.rmtree(run_dir)  # an unfinished run from an interrupted study
            print(f"symbreak study: gas NVE, {args.potential}, strategy {strategy}, {steps} steps", file=sys.stderr)
            run_case(RunConfig(case="gas-nve", out=str(run_dir), strategy=strategy, potential=args.potential,
                               steps=steps, seed=args.seed))
        results[strategy] = analyze_gas_run(run_dir)
    table = ["strategy        |dL|max/hbar  dir.change/deg  torque RMS/meV  drift meV/ps"]
    for label, s in results.items():
        table.append(
            f"{label:15s} {s['L_max_change_hbar']:12.4f} {s['L_direction_change_deg']:15.3f} "
            f"{1e3 * s['torque_rms_eV']:15.4f} {1e3 * s.get('conserved_drift_eV_per_ps', float('nan')):13.4f}"
        )
    text = "\n".join(table)
    print(text)
    (out / "summary.json").write_text(
        json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "series"} for k, v in results.items()}, indent=2)
    )
    (out / "summary.txt").write_text(text + "\n")
    _figure(results, out / "gas_angular_momentum.png")
    print(f"symbreak study: wrote {out / 'summary.txt'}, {out / 'summary.json'}, {out / 'gas_angular_momentum.png'}")
    return 0
