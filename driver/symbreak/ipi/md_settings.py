"""What an i-PI run integrates: motion, ensemble, thermostat, temperature, time step, beads, steps.

    md = MDSettings(ensemble="nvt", thermostat="svr", temperature_k=300.0, steps=400)
    replace(md, beads=8, thermostat="pile_l")     # frozen: change one with dataclasses.replace
    md.describe()                                 # the one-line summary written atop an i-PI input

One record for every i-PI run symbreak writes: the named cases of `symbreak run`
(campaign.cases), the reference MD that makes training data (training.ipi_md)
and the i-PI input writer (ipi.inputs.SimulationSpec). Units fs, K and bar.

The kinds are closed sets: ``motion`` is dynamics, minimize (L-BFGS at fixed
cell) or replay (of a trajectory); ``ensemble`` nve, nvt or npt; ``thermostat``
none, svr, langevin or pile_l. An NVE run has no thermostat and an NVT or NPT
run needs one (checked for dynamics, the only motion that integrates); a
minimisation or replay ignores ensemble, thermostat and time step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from ..core.errors import InputError

Motion = Literal["dynamics", "minimize", "replay"]
Ensemble = Literal["nve", "nvt", "npt"]
Thermostat = Literal["none", "svr", "langevin", "pile_l"]
MOTIONS: tuple[str, ...] = get_args(Motion)
ENSEMBLES: tuple[str, ...] = get_args(Ensemble)
THERMOSTATS: tuple[str, ...] = get_args(Thermostat)

#: the thermostat of the NPT barostat's own cell degrees of freedom (i-PI's isotropic barostat)
BAROSTAT_THERMOSTAT: tuple[Thermostat, float] = ("langevin", 100.0)


def thermostat_for(beads: int) -> Thermostat:
    """Usage: thermostat_for(4) -> "pile_l": PILE-L for path integrals, SVR for one bead."""
    return "pile_l" if beads > 1 else "svr"


def _one_of(what: str, value: str, known: tuple[str, ...]) -> None:
    if value not in known:
        raise InputError(f"unknown {what} {value!r}: use {', '.join(known)}")


@dataclass(frozen=True)
class MDSettings:
    """Usage: MDSettings(ensemble="nvt", thermostat="svr", temperature_k=300.0, steps=100) -> one run's MD settings.

    ``timestep_fs`` is the (outer) step; ``mts_ratio`` N (None: no multiple time
    stepping) makes i-PI take N inner steps of timestep_fs / N per outer step.
    ``stride`` is the steps between output rows for dynamics (a minimisation or
    replay writes every step: ``output_stride``). ``seed`` seeds i-PI's random
    numbers (thermal velocities, thermostats).
    """

    motion: Motion = "dynamics"
    ensemble: Ensemble = "nvt"
    thermostat: Thermostat = "svr"
    thermostat_tau_fs: float = 10.0
    barostat_tau_fs: float = 200.0
    pressure_bar: float = 1.0
    temperature_k: float = 300.0
    timestep_fs: float = 0.5
    beads: int = 1
    mts_ratio: int | None = None
    steps: int = 200
    stride: int = 1
    seed: int = 31415
    fixcom: bool = True

    def __post_init__(self) -> None:
        _one_of("motion", self.motion, MOTIONS)
        _one_of("ensemble", self.ensemble, ENSEMBLES)
        _one_of("thermostat", self.thermostat, THERMOSTATS)
        if self.motion == "dynamics":
            if self.ensemble == "nve" and self.thermostat != "none":
                raise InputError(f"an NVE run has no thermostat: thermostat must be 'none', not {self.thermostat!r}")
            if self.ensemble != "nve" and self.thermostat == "none":
                raise InputError(f"an {self.ensemble.upper()} run needs a thermostat (svr, langevin or pile_l)")
        if self.beads < 1:
            raise InputError(f"beads must be >= 1, got {self.beads}")
        if self.stride < 1:
            raise InputError(f"the output stride must be >= 1, got {self.stride}")
        if self.mts_ratio is not None and self.mts_ratio < 1:
            raise InputError(f"the MTS ratio must be >= 1, got {self.mts_ratio}")

    @property
    def output_stride(self) -> int:
        """Steps between trajectory and properties rows: ``stride`` for dynamics, every step otherwise."""
        return self.stride if self.motion == "dynamics" else 1

    @property
    def thermostatted(self) -> bool:
        """Whether i-PI integrates with a thermostat (dynamics in NVT or NPT)."""
        return self.motion == "dynamics" and self.ensemble != "nve"

    @property
    def inner_timestep_fs(self) -> float:
        """The inner time step of multiple time stepping (the time step without it)."""
        return self.timestep_fs / self.mts_ratio if self.mts_ratio else self.timestep_fs

    def describe(self) -> str:
        """Usage: md.describe() -> "motion dynamics, ensemble nve (no thermostat), time step 0.5 fs,

        ..." (true for every motion).
        """
        tail = f"beads {self.beads}, steps {self.steps}, output stride {self.output_stride}"
        if self.motion == "minimize":
            return f"motion minimize (L-BFGS, fixed cell), {tail}"
        if self.motion == "replay":
            return f"motion replay (the initial structure, then each frame of the trajectory), {tail}"
        if self.ensemble == "nve":
            ensemble = "ensemble nve (no thermostat)"
        else:
            ensemble = f"ensemble {self.ensemble}, thermostat {self.thermostat} (tau {self.thermostat_tau_fs:g} fs)"
        if self.ensemble == "npt":
            mode, tau = BAROSTAT_THERMOSTAT
            ensemble += (f", isotropic barostat (tau {self.barostat_tau_fs:g} fs, its {mode} thermostat tau {tau:g} fs) "
                         f"at {self.pressure_bar:g} bar")
        step = f"time step {self.timestep_fs:g} fs"
        if self.mts_ratio:
            step += f" (outer; inner {self.inner_timestep_fs:g} fs, nmts [1,{self.mts_ratio}])"
        return f"motion dynamics, {ensemble},\n{step}, T {self.temperature_k:g} K, {tail}"


__all__ = ["BAROSTAT_THERMOSTAT", "ENSEMBLES", "MDSettings", "MOTIONS", "Motion", "Ensemble", "THERMOSTATS",
           "Thermostat", "thermostat_for"]
