"""Gas-phase analysis of a run folder: angular momentum, torque and energy conservation.

    summary = analyze_gas_run("runs/gas-nve-plain")
"""

from __future__ import annotations

import numpy as np

from .angular import angular_momentum, gas_summary, torque
from .ipi_outputs import OutputError, read_frames, read_properties, stacked


def analyze_gas_run(run_dir, prefix: str = "simulation") -> dict:
    """L(t), torque(t) and conserved-quantity drift of an isolated-molecule run."""
    positions_frames = read_frames(run_dir, "positions", prefix=prefix)
    momenta = stacked(read_frames(run_dir, "momenta", prefix=prefix), "momenta")
    forces = stacked(read_frames(run_dir, "forces", prefix=prefix), "forces")
    positions = stacked(positions_frames, "positions")
    n = min(len(positions), len(momenta), len(forces))
    if n < 2:
        raise OutputError(f"{run_dir}: need at least 2 frames of positions, momenta and forces, found {n}")
    masses = positions_frames[0].get_masses()
    props = read_properties(f"{run_dir}/{prefix}.out")
    times = props["time"][:n] if "time" in props else np.arange(n, dtype=float)
    L = angular_momentum(positions[:n], momenta[:n], masses)
    tau = torque(positions[:n], forces[:n], masses)
    summary = gas_summary(times, L, tau)
    if "conserved" in props and len(props["conserved"]) > 1:
        conserved = props["conserved"]
        t = props.get("time", np.arange(len(conserved)))
        slope = np.polyfit(t, conserved, 1)[0] if np.ptp(t) > 0 else 0.0
        summary["conserved_drift_eV_per_ps"] = float(slope)
        summary["conserved_fluctuation_eV"] = float(np.std(conserved - np.polyval(np.polyfit(t, conserved, 1), t)))
    summary["series"] = {"time_ps": times.tolist(), "L": L.tolist(), "torque": tau.tolist()}
    return summary
