"""What a study runs: its sizes (Plan), its parts, and the runs in the order they run (StudyRun).

    plan = study_plan(quick=True, ice_cells=3)                 # QUICK with cells 1, 2, 3
    runs = plan_runs(plan, parse_parts("gas,replay"), scale=0.1, seed=7, out=Path("study"))
    runs[0].name, runs[0].part, runs[0].case, runs[0].strategy, runs[0].steps

Parts: gas (one H2O in vacuum, NVE plain / random:1 / 2i, and MTS), liquid
(NVT plain, q-TIP4P/F, and 2i by multiple time stepping: the plain model every
0.5 fs, the 2i correction every LIQUID_MTS_RATIO inner steps, the cheapest
averaging the frontier finds as good as direct 2i; its runs are compared with
the direct ones), ice (NVT plain, 2i: directly in QUICK, by MTS in FULL,
``Plan.box_mts``), geop (per proton-disordered
cell: plain from the built cell, 2i from the plain minimum, q-TIP4P/F),
polymorphs (the eight ice polymorphs built and relaxed with plain, 2i and
q-TIP4P/F, in-process: no runs here, :mod:`symbreak.study.polymorph_part`),
crystal (proton-ordered ice XI and II relaxed by q-TIP4P/F, plain, random and
2i: the space group each keeps, :mod:`symbreak.audit.crystal_symmetry`), replay
(the liquid plain frames with plain, i, 2, 2i, 3i and the reference), pimd
(path-integral liquid water, PILE-L, 0.25 fs: plain, 2i and q-TIP4P/F with the
same beads, 2i directly in QUICK and by MTS on every bead in FULL; FULL also
path-integral ice Ih the same way), frontier
(every way of fixing the symmetry, at every step or by MTS, for the same
simulated time: cost against error, :mod:`symbreak.study.frontier`; the
liquid frontier in FULL only). An ice
cell's number travels in ``StudyRun.cell``, not in its folder name; the beads
of a PIMD run in ``StudyRun.beads``.

Beads. FULL runs 8 beads (the cases' default): for water at 300 K with PILE
that is the usual minimum for a qualitatively right quantum kinetic energy,
and it leaves K_cv(H) some 10-15 % below its converged value, which needs ~32
beads (P T ~ 10^4 K; see :mod:`symbreak.campaign.cases`). The study compares
plain, 2i and q-TIP4P/F at the same beads, so that bead error is common to
the three runs and cancels in the comparison; for absolute K_cv run
``symbreak run liquid-pimd --beads 32``. QUICK runs 4 beads of 32 molecules
for 40 steps (10 fs): the 2i run costs 36 model evaluations per bead and step
(~1.2 s per bead with the shipped model on one core), and 4 beads keep the
whole part near 4 minutes of one core. FULL pays 2i every 4th step by MTS
on every bead (the correction's own virial enters K_cv; ring-polymer
contraction to the centroid would drop it); QUICK cannot (``Plan.box_mts``).
40 steps give 11 frames (every 4
steps, ``Plan.pimd_stride``), 5 blocks of 2 for the error bars, and the first
frame, where the beads have not yet spread (K_cv = 3/2 kT exactly), falls
outside the blocks. 10 fs is a check of the machinery and a comparison of the
three runs over the same early relaxation of the ring polymers (K_cv(H) ~84
meV for all three with the shipped model, still rising), not converged
quantum observables. Plain, 2i and q-TIP4P/F start from one structure with one
seed, so the verdicts compare them block by block (paired errors,
:mod:`symbreak.analysis.compare`), which needs at least 4 blocks: what the
paired bars cannot resolve to 5 % the report calls "undecided", and says why.
The quick ice runs (40 steps) are stored every 4 steps for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..core.errors import InputError
from .frontier import frontier_runs
from .study_run import PARTS, Part, StudyRun

#: the grid the study compares with plain, and the strategies of each part
GRID = "2i"
GAS_STRATEGIES = ("plain", "random:1", GRID)
#: the liquid's averaged run: GRID by MTS, the correction every this many 0.5 fs steps (2 fs). The liquid frontier
#: (`symbreak frontier --systems liquid --liquid-fs 150`, 32 H2O, the shipped model) found every 2, 4, 5 and 10
#: steps as good as direct 2i (drift bounds 0.72x, 0.40x, 0.27x, 1.4x direct 2i's, the same anisotropy) and every
#: 20 not (17.6x); 400 fs of the quick study with every 4 gave the drift of plain (0.39 against 0.40 meV/H2O/ps) at
#: 0.52-0.59 s per fs on 2 cores, against 1.04 s per fs with every 2. In vacuum NVE, the stricter test, every 2 is the
#: cheapest MTS that passes with this model (every 4: 2.2x direct 2i's bound in 250 fs). Frames every outer step
LIQUID_MTS_RATIO = 4


@dataclass(frozen=True)
class Plan:
    """Sizes of one study: steps per run kind (scaled by --scale), molecules, cells."""

    gas_steps: int
    mts_steps: int
    liquid_size: int
    liquid_steps: int
    ice_size: int
    ice_steps: int
    #: steps between the output rows of the ice and path-integral runs (the cases' 10 leaves a short run 5 frames,
    #: too few for the >= 4 blocks that compare plain and 2i block by block)
    ice_stride: int
    #: L-BFGS steps of the plain and q-TIP4P/F relaxations (i-PI stops earlier once converged)
    geop_steps: int
    #: L-BFGS steps of the 2i relaxation, which starts from the plain minimum
    geop_2i_steps: int
    geop_seeds: tuple[int, ...]
    replay_frames: int
    #: path-integral liquid (liquid-pimd, 0.25 fs): molecules, beads, steps; and whether q-TIP4P/F runs it too
    pimd_size: int
    pimd_beads: int
    pimd_steps: int
    pimd_reference: bool
    pimd_stride: int
    #: path-integral ice (ice-pimd, 200 K, ice_size molecules): beads and steps; 0 steps: not in this plan
    ice_pimd_beads: int
    ice_pimd_steps: int
    #: the cost-accuracy frontier (:mod:`symbreak.study.frontier`): simulated fs of each vacuum entry; of each
    #: liquid entry (0: no liquid frontier) and the liquid's molecules
    frontier_fs: float
    frontier_liquid_fs: float
    frontier_liquid_size: int
    #: the polymorph part (:mod:`symbreak.study.polymorph_part`, in-process): unit cells per axis of each
    #: polymorph, the proton patterns of the disordered ones, L-BFGS steps of the reference and plain relaxations
    #: and of the 2i relaxation from the plain minimum
    polymorph_repeats: tuple[tuple[str, tuple[int, int, int]], ...] = ()
    polymorph_seeds: tuple[int, ...] = (1, 2)
    polymorph_relax_steps: int = 100
    polymorph_averaged_steps: int = 5
    #: the crystal part (:mod:`symbreak.audit.crystal_symmetry`): L-BFGS steps of the 2i relaxations of ice XI and II
    crystal_averaged_steps: int = 40
    #: the ice NVT and path-integral parts: 2i by MTS (the correction every LIQUID_MTS_RATIO steps) instead of at
    #: every step. Long runs only: MTS thermostats every outer step, so its noise is no longer the direct run's,
    #: and short runs lose the paired comparison with plain that decides their verdicts (10 fs of 4-bead PIMD:
    #: 2 sigma of K_cv(H) 0.1 % paired direct, 5.6 % with MTS, measured)
    box_mts: bool = False


#: the polymorph cells of the quick study: one unit cell each (8-28 molecules)
QUICK_POLYMORPHS = tuple((name, (1, 1, 1)) for name in ("Ih", "Ic", "II", "III", "V", "VI", "VII", "XI"))
#: the full study's: 48-224 molecules, the repeats of the held-out polymorph data (symbreak.training.dataset)
FULL_POLYMORPHS = (("Ih", (2, 2, 2)), ("Ic", (3, 2, 2)), ("II", (2, 2, 1)), ("III", (2, 2, 2)), ("V", (2, 1, 2)),
                   ("VI", (3, 2, 2)), ("VII", (2, 2, 2)), ("XI", (2, 2, 2)))


QUICK = Plan(gas_steps=1000, mts_steps=100, liquid_size=32, liquid_steps=800, ice_size=96, ice_steps=40, ice_stride=4,
             geop_steps=100, geop_2i_steps=5, geop_seeds=(1, 2, 3, 4), replay_frames=8,
             pimd_size=32, pimd_beads=4, pimd_steps=40, pimd_reference=True, pimd_stride=4, ice_pimd_beads=8,
             ice_pimd_steps=0,
             frontier_fs=250.0, frontier_liquid_fs=0.0, frontier_liquid_size=32,
             polymorph_repeats=QUICK_POLYMORPHS, polymorph_seeds=(1, 2), polymorph_relax_steps=100,
             polymorph_averaged_steps=5, crystal_averaged_steps=20)
FULL = Plan(gas_steps=50000, mts_steps=5000, liquid_size=64, liquid_steps=20000, ice_size=96, ice_steps=10000, ice_stride=10,
            geop_steps=1000, geop_2i_steps=100, geop_seeds=tuple(range(1, 11)), replay_frames=100,
            pimd_size=64, pimd_beads=8, pimd_steps=4000, pimd_reference=True, pimd_stride=10, ice_pimd_beads=8,
            ice_pimd_steps=2000,
            frontier_fs=2000.0, frontier_liquid_fs=500.0, frontier_liquid_size=64,
            polymorph_repeats=FULL_POLYMORPHS, polymorph_seeds=(1, 2, 3), polymorph_relax_steps=500,
            polymorph_averaged_steps=30, crystal_averaged_steps=200, box_mts=True)


def parse_parts(text: str) -> tuple[Part, ...]:
    """``parse_parts("gas, replay")`` -> ("gas", "replay"); InputError for an unknown or empty list."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise InputError(f"unknown --parts {unknown}: choose from {','.join(PARTS)}")
    return tuple(parts)  # type: ignore[return-value]


def study_plan(quick: bool, ice_cells: int | None = None) -> Plan:
    """``study_plan(quick=True, ice_cells=3)``: QUICK or FULL, with cells 1..ice_cells (at least 2) if given."""
    plan = QUICK if quick else FULL
    if ice_cells is not None:
        if ice_cells < 2:
            raise InputError(f"--ice-cells must be at least 2 (relative energies need two cells), got {ice_cells}")
        plan = replace(plan, geop_seeds=tuple(range(1, ice_cells + 1)))
    return plan


def scaled_steps(n: int, scale: float, least: int) -> int:
    """``scaled_steps(1000, 0.03, 30)`` -> 30: n x scale, rounded, at least ``least``."""
    return max(least, int(round(n * scale)))


def plan_runs(plan: Plan, parts: tuple[Part, ...] | list[str], scale: float, seed: int, out: Path) -> list[StudyRun]:
    """The runs of a study, in the order they run (the replay follows the liquid plain run it replays)."""
    if scale <= 0:
        raise InputError(f"--scale must be positive, got {scale}")
    runs: list[StudyRun] = []
    if "gas" in parts:
        for strategy in GAS_STRATEGIES:
            runs.append(StudyRun(f"gas-nve-{strategy.replace(':', '_')}", "gas", "gas-nve", strategy,
                                 steps=scaled_steps(plan.gas_steps, scale, 30), seed=seed))
        runs.append(StudyRun(f"gas-mts-{GRID}", "gas", "gas-mts", GRID, steps=scaled_steps(plan.mts_steps, scale, 30), seed=seed))
    liquid = dict(case="liquid-nvt", steps=scaled_steps(plan.liquid_steps, scale, 30), size=plan.liquid_size, seed=seed)
    if "liquid" in parts or "replay" in parts:
        runs.append(StudyRun("liquid-nvt-plain", "liquid", strategy="plain", **liquid))
    if "liquid" in parts:
        mts_steps = max(6, liquid["steps"] // LIQUID_MTS_RATIO)  # outer steps: the same simulated time
        runs.append(StudyRun(f"liquid-mts-{GRID}", "liquid", "liquid-mts", GRID, steps=mts_steps, size=plan.liquid_size,
                             seed=seed, mts_ratio=LIQUID_MTS_RATIO))
        runs.append(StudyRun("liquid-nvt-reference", "liquid", strategy="plain", potential="qtip4pf", **liquid))
    if "ice" in parts:
        # plain directly; 2i directly, or by MTS over the same time (frames every outer step)
        steps = scaled_steps(plan.ice_steps, scale, 30)
        runs.append(StudyRun("ice-nvt-plain", "ice", "ice-nvt", "plain", steps=steps, size=plan.ice_size, seed=seed,
                             stride=plan.ice_stride))
        if plan.box_mts:
            runs.append(StudyRun(f"ice-mts-{GRID}", "ice", "ice-mts", GRID, steps=max(6, steps // LIQUID_MTS_RATIO),
                                 size=plan.ice_size, seed=seed, mts_ratio=LIQUID_MTS_RATIO, stride=1))
        else:
            runs.append(StudyRun(f"ice-nvt-{GRID}", "ice", "ice-nvt", GRID, steps=steps, size=plan.ice_size, seed=seed,
                                 stride=plan.ice_stride))
    if "geop" in parts:
        # each cell: the plain model relaxes from the built cell, 2i continues from the plain minimum (the two
        # minima differ by the symmetry error only), q-TIP4P/F relaxes from the built cell on its own surface
        steps, steps_2i = scaled_steps(plan.geop_steps, scale, 3), scaled_steps(plan.geop_2i_steps, scale, 2)
        for cell in plan.geop_seeds:
            common = dict(part="geop", case="ice-geop", size=plan.ice_size, seed=cell, cell=cell)
            runs.append(StudyRun(f"ice-geop-{cell}-plain", strategy="plain", steps=steps, **common))
            runs.append(StudyRun(f"ice-geop-{cell}-{GRID}", strategy=GRID, steps=steps_2i, init_from=f"ice-geop-{cell}-plain",
                                 **common))
            runs.append(StudyRun(f"ice-geop-{cell}-reference", potential="qtip4pf", steps=steps, **common))
    if "replay" in parts:
        n = scaled_steps(plan.replay_frames, scale, 2)
        runs.append(StudyRun("replay-liquid", "replay", "replay", "plain", steps=n, seed=seed, frames=n,
                             trajectory=str(out / "liquid-nvt-plain" / "simulation.positions_0.xyz")))
    if "pimd" in parts:
        # plain and q-TIP4P/F directly, 2i directly or by MTS, all with the same beads, size and seed: one group
        systems = [("liquid-pimd", plan.pimd_size, plan.pimd_beads, plan.pimd_steps)]
        if plan.ice_pimd_steps:
            systems.append(("ice-pimd", plan.ice_size, plan.ice_pimd_beads, plan.ice_pimd_steps))
        for case, size, beads, steps in systems:
            common = dict(part="pimd", case=case, steps=scaled_steps(steps, scale, 30), size=size, beads=beads, seed=seed,
                          stride=plan.pimd_stride)
            runs.append(StudyRun(f"{case}-plain", strategy="plain", **common))
            if plan.box_mts:  # 2i by MTS on every bead: the correction every LIQUID_MTS_RATIO steps, the same time
                runs.append(StudyRun(f"{case}-mts-{GRID}", strategy=GRID, **{
                    **common, "case": f"{case}-mts", "steps": max(6, common["steps"] // LIQUID_MTS_RATIO), "stride": 1,
                    "mts_ratio": LIQUID_MTS_RATIO}))
            else:
                runs.append(StudyRun(f"{case}-{GRID}", strategy=GRID, **common))
            if plan.pimd_reference:
                runs.append(StudyRun(f"{case}-reference", strategy="plain", potential="qtip4pf", **common))
    if "frontier" in parts:
        runs += frontier_runs("gas", plan.frontier_fs * scale, seed)
        if plan.frontier_liquid_fs:
            runs += frontier_runs("liquid", plan.frontier_liquid_fs * scale, seed, plan.frontier_liquid_size)
    return runs


__all__ = ["FULL", "FULL_POLYMORPHS", "QUICK_POLYMORPHS", "GAS_STRATEGIES", "GRID", "LIQUID_MTS_RATIO", "PARTS", "QUICK", "Part", "Plan", "StudyRun", "parse_parts", "plan_runs",
           "scaled_steps", "study_plan"]
