"""The named simulation cases: which system, which ensemble, which defaults.

    case = get_case("liquid-pimd")
    case.md                              # its MDSettings: PILE-L, 300 K, 0.25 fs, 8 beads, 40 steps
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
from ..ipi.md_settings import Ensemble, MDSettings, Motion, Thermostat

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


#: inner steps per outer step of the MTS cases (their time step is the outer one; the inner one 0.5 fs)
MTS_RATIO = 10


@dataclass(frozen=True)
class Case:
    """Usage: get_case("gas-nve") -> Case: one simulation setting (its MD in ``md``; units fs, K and bar).

    ``md.steps`` is the case's default length, ``md.stride`` its output stride
    for dynamics; ``system`` makes the starting structure (None: the replay
    case reads its frames); ``vacuum``: an isolated molecule (the servers use
    plain Coulomb); ``reference``: record the q-TIP4P/F energy at weight 0
    alongside the model; ``same_physics_as``: for an MTS case, the direct case
    whose ensemble and system it samples (the analysis compares their runs).
    """

    name: str
    description: str
    system: Callable[[int, int | None], Structure] | None
    md: MDSettings
    vacuum: bool = False
    reference: bool = True
    same_physics_as: str | None = None

    @property
    def comparable_case(self) -> str:
        """The case whose runs sample the same ensemble: itself, or the direct case of an MTS one."""
        return self.same_physics_as or self.name

    def structure(self, seed: int = 0, size: int | None = None) -> Structure:
        return self.system(seed, size)

    # the MD settings under the names the runs and their analysis use
    @property
    def motion(self) -> Motion:
        return self.md.motion

    @property
    def ensemble(self) -> Ensemble:
        return self.md.ensemble

    @property
    def thermostat(self) -> Thermostat:
        return self.md.thermostat

    @property
    def temperature_k(self) -> float:
        return self.md.temperature_k

    @property
    def timestep_fs(self) -> float:
        """The (outer, with MTS) time step."""
        return self.md.timestep_fs

    @property
    def beads(self) -> int:
        return self.md.beads

    @property
    def default_steps(self) -> int:
        return self.md.steps

    @property
    def stride(self) -> int:
        return self.md.stride

    @property
    def mts(self) -> bool:
        """Multiple time stepping: the plain model on the inner step, the correction on the outer one."""
        return self.md.mts_ratio is not None

    @property
    def output_stride(self) -> int:
        """Steps between trajectory and properties rows: ``stride`` for dynamics, every step otherwise."""
        return self.md.output_stride


_GAS = dict(system=_gas, vacuum=True)
_LIQUID = dict(system=_liquid)
_ICE = dict(system=_ice)
_LIQUID_MD = dict(stride=10)
_ICE_MD = dict(temperature_k=200.0, stride=10)
#: Langevin (tau 100 fs) for the molecule: SVR rescales one molecule's few degrees of freedom too hard
_LANGEVIN = dict(thermostat="langevin", thermostat_tau_fs=100.0)
_PILE = dict(thermostat="pile_l", thermostat_tau_fs=100.0, timestep_fs=0.25, beads=8)
_MTS = dict(timestep_fs=5.0, mts_ratio=MTS_RATIO)
#: path integrals with MTS: the inner step stays PILE's 0.25 fs, the outer one is MTS_RATIO of them
_PILE_MTS = dict(**{**_PILE, "timestep_fs": 0.25 * MTS_RATIO}, mts_ratio=MTS_RATIO)

CASES = {
    c.name: c
    for c in [
        Case("gas-nve", "one H2O in vacuum, NVE, 0.5 fs, 300 K initial velocities, fixcom",
             md=MDSettings(ensemble="nve", thermostat="none", steps=400), **_GAS),
        Case("gas-nvt", "one H2O in vacuum, NVT (Langevin, tau 100 fs), 300 K",
             md=MDSettings(**_LANGEVIN, steps=400), **_GAS),
        Case("gas-mts", "one H2O in vacuum, NVT, MTS: plain every 0.5 fs, averaged-minus-plain every 5 fs",
             md=MDSettings(**_LANGEVIN, **_MTS, steps=40), same_physics_as="gas-nvt", **_GAS),
        Case("gas-mts-nve", "one H2O in vacuum, NVE, MTS: plain every 0.5 fs, averaged-minus-plain every 5 fs, fixcom",
             md=MDSettings(ensemble="nve", thermostat="none", **_MTS, steps=40), same_physics_as="gas-nve", **_GAS),
        Case("liquid-nvt", "64 H2O (--size 216, 512) at 0.997 g/cm3, 300 K, NVT (SVR, tau 10 fs), 0.5 fs",
             md=MDSettings(**_LIQUID_MD, steps=100), **_LIQUID),
        # frames every outer step (5 fs; 1 fs with the study's --mts-ratio 2)
        Case("liquid-mts", "liquid water NVT with MTS: plain every 0.5 fs, averaged-minus-plain every 5 fs",
             md=MDSettings(**{**_LIQUID_MD, "stride": 1}, **_MTS, steps=10), same_physics_as="liquid-nvt", **_LIQUID),
        Case("liquid-pimd", "liquid water, 300 K, 8 beads PILE-L (tau 100 fs), 0.25 fs",
             md=MDSettings(**_LIQUID_MD, **_PILE, steps=40), **_LIQUID),
        # frames every outer step (2.5 fs; 1 fs with the study's --mts-ratio 4)
        Case("liquid-pimd-mts", "liquid water, 300 K, 8 beads PILE-L, MTS: plain every 0.25 fs, averaged-minus-plain "
             "every 2.5 fs on every bead", md=MDSettings(**{**_LIQUID_MD, "stride": 1}, **_PILE_MTS, steps=4),
             same_physics_as="liquid-pimd", **_LIQUID),
        Case("ice-nvt", "proton-disordered ice Ih (96 H2O; --size 128..768), 200 K, NVT (SVR)",
             md=MDSettings(**_ICE_MD, steps=100), **_ICE),
        # frames every outer step (5 fs; 2 fs with the study's --mts-ratio 4)
        Case("ice-mts", "proton-disordered ice Ih NVT with MTS: plain every 0.5 fs, averaged-minus-plain every 5 fs",
             md=MDSettings(**{**_ICE_MD, "stride": 1}, **_MTS, steps=10), same_physics_as="ice-nvt", **_ICE),
        Case("ice-npt", "proton-disordered ice Ih, 200 K, 1 bar, NPT (isotropic barostat, tau 200 fs)",
             md=MDSettings(**_ICE_MD, ensemble="npt", steps=100), **_ICE),
        Case("ice-pimd", "proton-disordered ice Ih, 200 K, 8 beads PILE-L, 0.25 fs",
             md=MDSettings(**_ICE_MD, **_PILE, steps=40), **_ICE),
        Case("ice-pimd-mts", "proton-disordered ice Ih, 200 K, 8 beads PILE-L, MTS: plain every 0.25 fs, "
             "averaged-minus-plain every 2.5 fs on every bead", md=MDSettings(**{**_ICE_MD, "stride": 1}, **_PILE_MTS, steps=4),
             same_physics_as="ice-pimd", **_ICE),
        Case("ice-geop", "fixed-cell L-BFGS relaxation of one proton-disordered ice Ih cell (--seed picks it)",
             md=MDSettings(**_ICE_MD, motion="minimize", steps=200), reference=False, **_ICE),
        Case("replay", "evaluate a saved trajectory (--trajectory) with plain, i, 2, 2i, 3i and the reference",
             system=None, md=MDSettings(motion="replay", steps=1000)),
    ]
}


def get_case(name: str) -> Case:
    """Usage: get_case("gas-nve") -> the case called ``name``; ValueError listing the known ones otherwise."""
    try:
        return CASES[name]
    except KeyError:
        raise InputError(f"unknown case '{name}'; known cases: {', '.join(CASES)}") from None


def comparable_case(name: str) -> str:
    """Usage: comparable_case("liquid-mts") -> "liquid-nvt": the direct case an MTS case samples; any other name itself.

    Names that are not symbreak cases (a foreign run's ``ipi-nvt``, ...) are their own.
    """
    known = CASES.get(name)
    return known.comparable_case if known is not None else name


def list_cases() -> list[tuple[str, str]]:
    """Usage: list_cases() -> [(name, one-line description), ...] of every case."""
    return [(c.name, c.description) for c in CASES.values()]
