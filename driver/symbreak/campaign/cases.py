"""The named simulation cases: which system, which ensemble, which defaults.

    case = get_case("liquid-pimd")
    case.structure(seed=0, size=None)   # the starting Structure
    list_cases()                         # names with one-line descriptions

A case fixes the physics (system, ensemble, thermostat, time step,
temperature, beads, multiple time stepping, vacuum); the runner adds the
potential, the strategy, the number of steps, beads and servers.

Bead counts: q-TIP4P/F water needs ~32 PILE beads at 300 K for a converged
centroid-virial kinetic energy (P T ~ 10^4 K); the defaults (8 at 300 K, 8 at
200 K) are sized for 2 cores and under-converge K_cv by roughly 10-15 %;
pass --beads 32 for production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.errors import InputError
from ..core.structure import Structure

ICE_SIZES = {96: (3, 2, 2), 128: (2, 2, 4), 192: (3, 2, 4), 288: (3, 3, 4), 768: (4, 4, 6)}


def _gas(seed: int, size: int | None) -> Structure:
    from ..structures import molecule

    return molecule(seed=seed)


def _liquid(seed: int, size: int | None) -> Structure:
    """Random non-overlapping molecules, minimised with q-TIP4P/F (L-BFGS, up to 300 steps).

    Without the minimisation the first ~100 fs of a run convert ~0.5 eV per molecule of placement
    strain into heat (a 300 K run passes through ~600 K), and short runs measure that transient.
    """
    from ..potentials.relaxation import relax
    from ..structures import liquid_box

    return relax(liquid_box(size or 64, density=0.997, seed=seed), steps=300)


def _ice(seed: int, size: int | None) -> Structure:
    from ..structures import ice_ih

    size = size or 96
    if size not in ICE_SIZES:
        raise InputError(f"ice supercells come in {sorted(ICE_SIZES)} molecules, not {size}")
    return ice_ih(ICE_SIZES[size], seed=seed)


@dataclass(frozen=True)
class Case:
    """One simulation setting; units fs, K and bar."""

    name: str
    description: str
    system: Callable[[int, int | None], Structure]
    motion: str = "dynamics"  # dynamics | minimize | replay
    ensemble: str = "nvt"  # nve | nvt | npt
    thermostat: str = "svr"
    thermostat_tau_fs: float = 10.0
    barostat_tau_fs: float = 200.0
    pressure_bar: float = 1.0
    timestep_fs: float = 0.5
    temperature_k: float = 300.0
    vacuum: bool = False
    mts: bool = False
    beads: int = 1
    default_steps: int = 200
    stride: int = 1
    reference: bool = True  # record the q-TIP4P/F energy at weight 0 alongside the model

    def structure(self, seed: int = 0, size: int | None = None) -> Structure:
        return self.system(seed, size)

    @property
    def output_stride(self) -> int:
        """Steps between trajectory and properties rows: ``stride`` for dynamics, every step otherwise."""
        return self.stride if self.motion == "dynamics" else 1


_GAS = dict(system=_gas, vacuum=True)
_LIQUID = dict(system=_liquid, stride=10)
_ICE = dict(system=_ice, temperature_k=200.0, stride=10)

CASES = {
    c.name: c
    for c in [
        Case("gas-nve", "one H2O in vacuum, NVE, 0.5 fs, 300 K initial velocities, fixcom", ensemble="nve",
             default_steps=400, **_GAS),
        Case("gas-nvt", "one H2O in vacuum, NVT (Langevin, tau 100 fs), 300 K", thermostat="langevin",
             thermostat_tau_fs=100.0, default_steps=400, **_GAS),
        Case("gas-mts", "one H2O in vacuum, NVT, MTS: plain every 0.5 fs, averaged-minus-plain every 5 fs",
             thermostat="langevin", thermostat_tau_fs=100.0, timestep_fs=5.0, mts=True, default_steps=40, **_GAS),
        Case("liquid-nvt", "64 H2O (--size 216, 512) at 0.997 g/cm3, 300 K, NVT (SVR, tau 10 fs), 0.5 fs",
             default_steps=100, **_LIQUID),
        Case("liquid-mts", "liquid water NVT with MTS: plain every 0.5 fs, averaged-minus-plain every 5 fs",
             timestep_fs=5.0, mts=True, default_steps=10, **_LIQUID),
        Case("liquid-pimd", "liquid water, 300 K, 8 beads PILE-L (tau 100 fs), 0.25 fs", thermostat="pile_l",
             thermostat_tau_fs=100.0, timestep_fs=0.25, beads=8, default_steps=40, **_LIQUID),
        Case("ice-nvt", "proton-disordered ice Ih (96 H2O; --size 128..768), 200 K, NVT (SVR)",
             default_steps=100, **_ICE),
        Case("ice-npt", "proton-disordered ice Ih, 200 K, 1 bar, NPT (isotropic barostat, tau 200 fs)",
             ensemble="npt", default_steps=100, **_ICE),
        Case("ice-pimd", "proton-disordered ice Ih, 200 K, 8 beads PILE-L, 0.25 fs", thermostat="pile_l",
             thermostat_tau_fs=100.0, timestep_fs=0.25, beads=8, default_steps=40, **_ICE),
        Case("ice-geop", "fixed-cell L-BFGS relaxation of one proton-disordered ice Ih cell (--seed picks it)",
             motion="minimize", default_steps=200, reference=False, **_ICE),
        Case("replay", "evaluate a saved trajectory (--trajectory) with plain, i, 2, 2i, 3i and the reference",
             system=None, motion="replay", default_steps=1000),
    ]
}


def get_case(name: str) -> Case:
    """The case called ``name``; ValueError listing the known ones otherwise."""
    try:
        return CASES[name]
    except KeyError:
        raise InputError(f"unknown case '{name}'; known cases: {', '.join(CASES)}") from None


def list_cases() -> list[tuple[str, str]]:
    return [(c.name, c.description) for c in CASES.values()]
