"""The named simulation cases: what system, which ensemble, which defaults.

    case = get_case("gas-nve")
    case.structure(seed=0)      # a Structure to start from
    list_cases()                # names with one-line descriptions

A case fixes the physics (system, ensemble, thermostat, time step,
temperature, vacuum or not); the runner adds the potential, the strategy,
the number of steps and beads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..potentials.base import Structure


def _gas_molecule(seed: int) -> Structure:
    from ..potentials.testing import water_molecule

    return water_molecule(seed=seed, distortion=0.0)


def _liquid_box(n_per_side: int) -> Callable[[int], Structure]:
    def build(seed: int) -> Structure:
        from ..potentials.testing import water_box

        # molecules on a cubic lattice at 0.997 g/cm3, random orientations
        spacing = (18.015 / 0.997 / 0.6022) ** (1.0 / 3.0)
        return water_box(n_per_side=n_per_side, spacing=spacing, seed=seed)

    return build


@dataclass(frozen=True)
class Case:
    """One simulation setting; units fs and K."""

    name: str
    description: str
    structure: Callable[[int], Structure]
    ensemble: str = "nvt"
    thermostat: str = "svr"
    thermostat_tau_fs: float = 10.0
    timestep_fs: float = 0.5
    temperature_k: float = 300.0
    vacuum: bool = False
    default_steps: int = 200
    default_beads: int = 1
    stride: int = 1
    trajectories: tuple[str, ...] = field(default=("positions", "momenta", "forces", "extras"))


CASES = {
    c.name: c
    for c in [
        Case("gas-nve", "one H2O in vacuum, NVE, 0.5 fs, 300 K initial velocities, fixcom",
             _gas_molecule, ensemble="nve", vacuum=True, default_steps=400),
        Case("gas-nvt", "one H2O in vacuum, NVT (Langevin, 100 fs), 300 K",
             _gas_molecule, thermostat="langevin", thermostat_tau_fs=100.0, vacuum=True, default_steps=400),
        Case("liquid-nvt", "64 H2O at 0.997 g/cm3, 300 K, NVT (SVR, tau 10 fs)",
             _liquid_box(4), default_steps=100, stride=10),
    ]
}


def get_case(name: str) -> Case:
    """The case called ``name``; ValueError listing the known ones otherwise."""
    try:
        return CASES[name]
    except KeyError:
        raise ValueError(f"unknown case '{name}'; known cases: {', '.join(CASES)}") from None


def list_cases() -> list[tuple[str, str]]:
    return [(c.name, c.description) for c in CASES.values()]
