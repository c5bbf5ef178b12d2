"""Short i-PI NVE runs of the isolated molecule through `symbreak serve`: does the model spin it up?

    results = molecule_nve("metatomic:model.pt", out / "nve", steps=400, strategies=("plain", "2i"))

Both runs start from the same positions and thermal velocities (same seed), so
the change of the angular momentum L is directly comparable: an invariant model
conserves L to the integrator's precision; a model with a net torque changes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..analysis.angular import angular_summary
from ..analysis.run_folder import RunFolder
from ..campaign.config import RunConfig
from ..campaign.manifest import read_manifest
from ..campaign.options import option_differences
from ..campaign.runner import run_case
from ..core.errors import InputError
from .results import NVEResult


def _result(strategy: str, steps: int, folder: Path) -> NVEResult:
    """L and torque straight from the run's outputs (a random-weight model may break the molecule: no per-molecule analysis)."""
    run = RunFolder(folder)
    positions, momenta, forces = run.positions(), run.momenta(), run.forces()
    n = min(len(positions), len(momenta), len(forces))
    gas = angular_summary(positions[:n], momenta[:n], forces[:n], run.masses())
    times = run.frame_times()[:n]
    return NVEResult(
        strategy=strategy,
        steps=steps,
        duration_fs=1e3 * float(np.ptp(times)),
        L0_hbar=gas.L0,
        L_max_change_hbar=gas.L_max_change,
        L_direction_change_deg=gas.L_direction_change,
        torque_rms_eV=gas.torque_rms,
        ms_per_step=float(run.cost().ms_per_step or float("nan")),
        run=str(folder),
    )


def molecule_nve(potential: str, out: Path, *, steps: int, strategies=("plain", "2i"), seed: int = 31415,
                 threads: int = 1, log=None) -> list[NVEResult]:
    """One gas-nve run per strategy into out/STRATEGY (resumed if interrupted, reused if finished).

    A run left in out/STRATEGY with other defining options (another potential,
    length or seed: the runner's option_differences) is never reused nor
    removed: ValueError lists them and asks for another --out.
    """
    results = []
    for strategy in strategies:
        folder = Path(out) / strategy
        config = RunConfig(case="gas-nve", out=str(folder), strategy=strategy, potential=potential, steps=steps,
                           seed=seed, threads=threads, reference=False)
        try:
            old = read_manifest(folder)
        except InputError as err:
            raise InputError(f"{folder} holds no readable NVE run ({err}): choose another --out (or remove that folder)") from None
        if old is not None:
            # the runner's own comparison of the options that define a run
            differences = option_differences(old, config)
            if differences:
                raise InputError(f"{folder} holds an NVE run with other options ({'; '.join(differences)}): "
                                 "choose another --out (or remove that folder)")
        if not (old and old.finished):
            if log:
                log(f"NVE of the molecule with {strategy}: {steps} steps through symbreak serve")
            run_case(config)
        results.append(_result(strategy, steps, folder))
    return results
