"""Reference data for training: i-PI + LAMMPS q-TIP4P/F runs, sampled, labelled, split.

    from symbreak.training.dataset import DatasetConfig, generate_dataset
    summary = generate_dataset("data/", DatasetConfig(frames_per_run=20))
    # data/train.xyz valid.xyz test.xyz gas_test.xyz (extxyz: energy, forces, stress)

Bulk runs (liquid, 64 molecules, several temperatures/densities, classical
and PIMD; proton-disordered ice Ih, 96 molecules) are NVT i-PI simulations
driven by the reference over fix ipi. After ``equilibration_steps`` one frame
is kept every ``stride`` steps, from one randomly chosen bead for PIMD runs,
and relabelled in-process (energies, forces, stress of exactly the written
coordinates). The gas-phase molecule is never in the training data: it goes
to a separate test set of isolated molecules at thermal geometries (a
classical and a PIMD run in vacuum, every frame randomly rotated).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError
from ..core.files import atomic_path
from ..core.structure import Structure
from ..structures.polymorphs import polymorph_molecules


@dataclass(frozen=True)
class RunSpec:
    """Usage: RunSpec("liquid-300", "liquid", temperature=300, density=0.997, nbeads=1)."""

    name: str
    kind: str  # "liquid", "ice" or "gas"
    temperature: float
    density: float = 0.997
    nbeads: int = 1
    molecules: int = 64
    seed: int = 0
    zero_dipole: bool = True  # ice only: False keeps the proton pattern's net polarisation
    polymorph: str | None = None  # ice from GenIce (Ih, Ic, II, III, V, VI, VII, XI); None: the Ih builder
    repeats: tuple[int, int, int] = (1, 1, 1)  # polymorph unit cells per axis
    density_scale: float = 1.0  # polymorph: density relative to GenIce's (the crystal's measured one)
    frames: int | None = None  # frames kept from this run (None: the dataset's frames_per_run)


def default_runs() -> list[RunSpec]:
    """Usage: default_runs() -> the liquid, ice and gas runs of the standard dataset."""
    return [
        RunSpec("liquid-300-classical", "liquid", 300.0, 0.997, 1, seed=1),
        RunSpec("liquid-350-classical", "liquid", 350.0, 0.974, 1, seed=2),
        RunSpec("liquid-260-dense", "liquid", 260.0, 1.03, 1, seed=3),
        RunSpec("liquid-300-pimd", "liquid", 300.0, 0.997, 4, seed=4),
        RunSpec("ice-200-classical", "ice", 200.0, nbeads=1, molecules=96, seed=5),
        RunSpec("ice-150-pimd", "ice", 150.0, nbeads=4, molecules=96, seed=6),
        RunSpec("gas-300-classical", "gas", 300.0, molecules=1, seed=7),
        RunSpec("gas-300-pimd", "gas", 300.0, nbeads=4, molecules=1, seed=8),
    ]


def extended_runs() -> list[RunSpec]:
    """Usage: extended_runs() -> the standard runs plus ice of other proton patterns and sizes, more liquid.

    Ice cells of 32 to 128 molecules, each with its own proton pattern (some
    with a net polarisation), at 100 to 250 K, classical and PIMD, and liquid
    at two more state points: the data of the second default model.
    """
    return default_runs() + [
        RunSpec("ice-100-classical-64", "ice", 100.0, molecules=64, seed=11, zero_dipole=False),
        RunSpec("ice-200-classical-128", "ice", 200.0, molecules=128, seed=12, zero_dipole=False),
        RunSpec("ice-250-classical-64", "ice", 250.0, molecules=64, seed=13),
        RunSpec("ice-200-pimd-64", "ice", 200.0, nbeads=4, molecules=64, seed=14),
        RunSpec("ice-150-classical-32", "ice", 150.0, molecules=32, seed=15, zero_dipole=False),
        RunSpec("ice-220-classical-96", "ice", 220.0, molecules=96, seed=16, zero_dipole=False),
        RunSpec("liquid-280-classical", "liquid", 280.0, 1.0, 1, seed=17),
        RunSpec("liquid-320-pimd", "liquid", 320.0, 0.99, 4, seed=18),
    ]


def heldout_runs() -> list[RunSpec]:
    """Usage: heldout_runs() -> test-only runs: box sizes and proton patterns no training run has.

    A 216-molecule liquid and 288-molecule ice Ih cells (a cell shape the
    training data never has) of two new proton patterns; use with
    ``--split 0 0 1`` so that every frame lands in test.xyz.
    """
    return [
        RunSpec("heldout-liquid-300-216", "liquid", 300.0, 0.997, 1, molecules=216, seed=31),
        RunSpec("heldout-ice-200-288a", "ice", 200.0, molecules=288, seed=32),
        RunSpec("heldout-ice-200-288b", "ice", 200.0, molecules=288, seed=33, zero_dipole=False),
    ]


#: training cells of the polymorphs (unit cells per axis; 48-128 molecules); held-out cells use other repeats
POLYMORPH_TRAINING_REPEATS = {
    "Ih": (2, 2, 1), "Ic": (2, 2, 2), "II": (2, 2, 2), "III": (2, 2, 1),
    "V": (1, 2, 1), "VI": (2, 2, 2), "VII": (2, 2, 1), "XI": (1, 2, 2),
}
POLYMORPH_HELDOUT_REPEATS = {
    "Ih": (2, 2, 2), "Ic": (3, 2, 2), "II": (2, 2, 1), "III": (2, 2, 2),
    "V": (2, 1, 2), "VI": (3, 2, 2), "VII": (2, 2, 2), "XI": (2, 2, 2),
}


def polymorph_runs(frames: int = 60) -> list[RunSpec]:
    """Usage: polymorph_runs() -> classical NVT of the eight polymorphs, three per phase, ``frames`` kept each.

    Each polymorph at 60, 130 and 200 K and at 1.00, 0.98 and 1.02 times its
    density, each run its own proton pattern (the disordered phases): the data
    of the polymorph-aware model. Cells as ``POLYMORPH_TRAINING_REPEATS``.
    """
    runs = []
    for k, (name, repeats) in enumerate(POLYMORPH_TRAINING_REPEATS.items()):
        for j, (temperature, scale) in enumerate(((60.0, 1.0), (130.0, 0.98), (200.0, 1.02))):
            n = polymorph_molecules(name, repeats)
            runs.append(RunSpec(f"ice{name}-{temperature:.0f}-{scale:.2f}", "ice", temperature, molecules=n,
                                seed=100 + 3 * k + j, polymorph=name, repeats=repeats, density_scale=scale,
                                frames=frames))
    return runs


def polymorph_heldout_runs() -> list[RunSpec]:
    """Usage: polymorph_heldout_runs() -> one 120 K run per polymorph in cells and patterns no training run has.

    Use with ``--split 0 0 1``: every frame lands in test.xyz.
    """
    return [
        RunSpec(f"heldout-ice{name}-120", "ice", 120.0, molecules=polymorph_molecules(name, repeats), seed=200 + k,
                polymorph=name, repeats=repeats)
        for k, (name, repeats) in enumerate(POLYMORPH_HELDOUT_REPEATS.items())
    ]


def polymorph_extended_runs() -> list[RunSpec]:
    """Usage: polymorph_extended_runs() -> the extended runs plus the polymorph runs (the fourth model's data)."""
    return extended_runs() + polymorph_runs()


RUN_SETS = {
    "standard": default_runs,
    "extended": extended_runs,
    "heldout": heldout_runs,
    "polymorphs": polymorph_extended_runs,
    "polymorphs-heldout": polymorph_heldout_runs,
}


@dataclass
class DatasetConfig:
    """Usage: DatasetConfig(frames_per_run=20, stride=20) -> sizes of the standard dataset.

    frames_per_run: frames kept per bulk run (gas runs keep ``gas_frames``);
    equilibration_steps: steps discarded at the start of every run;
    stride: steps between kept frames (0.5 fs each); split: train/valid/test
    fractions of the bulk frames; kspace_accuracy: PPPM accuracy of the labels.
    """

    frames_per_run: int = 20
    gas_frames: int = 50
    equilibration_steps: int = 1000
    stride: int = 20
    gas_stride: int = 20
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    kspace_accuracy: float = 1e-6
    md_kspace_accuracy: float = 1e-5
    relax_steps: int = 200
    runs: list[RunSpec] = field(default_factory=default_runs)
    timeout: float = 3600.0


def initial_structure(spec: RunSpec, relax_steps: int = 100) -> Structure:
    """Usage: initial_structure(spec) -> the starting structure of a run (liquid relaxed briefly)."""
    from ..potentials.relaxation import relax
    from ..structures import ice_ih, liquid_box, molecule

    if spec.kind == "liquid":
        return relax(liquid_box(spec.molecules, density=spec.density, seed=spec.seed), steps=relax_steps)
    if spec.kind == "ice" and spec.polymorph is not None:
        from ..structures.polymorphs import ice_polymorph

        return ice_polymorph(spec.polymorph, spec.repeats, seed=spec.seed, density_scale=spec.density_scale)
    if spec.kind == "ice":
        if spec.molecules % 8:
            raise InputError(f"ice needs a multiple of 8 molecules, got {spec.molecules}")
        sizes = {32: (2, 2, 1), 64: (2, 2, 2), 96: (3, 2, 2), 128: (4, 2, 2), 288: (4, 3, 3), 768: (8, 4, 3)}
        repeats = sizes.get(spec.molecules)
        if repeats is None:
            raise InputError(f"ice sizes available: {', '.join(map(str, sizes))} molecules; got {spec.molecules}")
        return ice_ih(repeats, seed=spec.seed, zero_dipole=spec.zero_dipole)
    if spec.kind == "gas":
        return molecule(seed=spec.seed)
    raise InputError(f"unknown run kind {spec.kind!r}: use liquid, ice or gas")


def sample_frames(trajectories: list[str], first_step: int, stride_steps: int, out_stride: int, rng) -> list[Structure]:
    """Usage: sample_frames(bead_files, 200, 20, 20, rng) -> one frame per kept step, random bead each."""
    from ..structures.io import read_structures

    beads = [read_structures(path) for path in trajectories]
    n = min(len(b) for b in beads)
    keep = [k for k in range(n) if k * out_stride >= first_step and (k * out_stride - first_step) % stride_steps == 0]
    return [beads[int(rng.integers(len(beads)))][k] for k in keep]


def _progress(msg: str) -> None:
    print(f"symbreak dataset: {msg}", file=sys.stderr, flush=True)


def _write(path: str, frames: list, potential, meta: list[dict], vacuum: bool) -> None:
    import ase.io

    from ..potentials.labelling import labelled_atoms

    with atomic_path(path) as tmp, open(tmp, "w") as fh:
        for s, info in zip(frames, meta):
            if vacuum:
                s = Structure(s.positions, s.numbers, None)
            e, f, w = potential.compute_one(s)
            atoms = labelled_atoms(s, e, f, w)
            atoms.info.update(info)
            ase.io.write(fh, atoms, format="extxyz")


def generate_dataset(directory: str, config: DatasetConfig | None = None, progress=_progress) -> dict:
    """Usage: generate_dataset("data/", DatasetConfig()) -> {"train": n, "valid": n, "test": n, "gas_test": n}.

    Each run lives in ``directory/runs/NAME`` (i-PI input, logs, trajectories);
    a run whose trajectories already hold enough frames is not repeated, so an
    interrupted generation resumes where it stopped.
    """
    from ..ipi.md_settings import MDSettings, thermostat_for
    from ..potentials.qtip4pf import QTIP4PF
    from ..structures.io import write_ipi_xyz
    from .ipi_md import bead_trajectories, run_reference_md

    config = config or DatasetConfig()
    if abs(sum(config.split) - 1.0) > 1e-9 or min(config.split) < 0:
        raise InputError(f"split fractions must be >= 0 and sum to 1, got {config.split}")
    rng = np.random.default_rng(config.seed)
    bulk, bulk_meta, gas, gas_meta = [], [], [], []
    for spec in config.runs:
        run_dir = os.path.join(directory, "runs", spec.name)
        gas_run = spec.kind == "gas"
        frames = config.gas_frames if gas_run else (spec.frames or config.frames_per_run)
        stride = config.gas_stride if gas_run else config.stride
        steps = config.equilibration_steps + frames * stride
        out_stride = stride
        md = MDSettings(
            ensemble="nvt",
            thermostat=thermostat_for(spec.nbeads),
            thermostat_tau_fs=50.0,
            temperature_k=spec.temperature,
            steps=steps,
            beads=spec.nbeads,
            stride=out_stride,
            seed=spec.seed + 1000,
        )
        done = os.path.join(run_dir, "DONE")
        if not os.path.exists(done):
            os.makedirs(run_dir, exist_ok=True)
            init = os.path.join(run_dir, "start.xyz")
            write_ipi_xyz(init, initial_structure(spec, config.relax_steps))
            progress(f"run {spec.name}: {steps} steps x {spec.nbeads} bead(s)")
            result = run_reference_md(run_dir, init, md, vacuum=gas_run, kspace_accuracy=config.md_kspace_accuracy,
                                      timeout=config.timeout,
                                      progress=lambda m, n=spec.name: progress(f"run {n}: {m}"))
            progress(f"run {spec.name}: finished in {result.wall_time:.0f} s")
            open(done, "w").close()
        trajectories = bead_trajectories(run_dir)
        sampled = sample_frames(trajectories, config.equilibration_steps + stride, stride, out_stride, rng)
        meta = {"source": spec.name, "temperature": spec.temperature, "nbeads": spec.nbeads}
        if spec.polymorph is not None:
            meta["polymorph"] = spec.polymorph
        if gas_run:
            from scipy.spatial.transform import Rotation

            for s in sampled:
                centred = s.positions - s.positions.mean(axis=0)
                rot = Rotation.random(random_state=rng).as_matrix()
                gas.append(Structure(centred @ rot.T, s.numbers, None))
                gas_meta.append(meta)
        else:
            bulk += sampled
            bulk_meta += [meta] * len(sampled)
    order = rng.permutation(len(bulk))
    n_train = int(round(config.split[0] * len(bulk)))
    n_valid = int(round(config.split[1] * len(bulk)))
    parts = {"train": order[:n_train], "valid": order[n_train:n_train + n_valid], "test": order[n_train + n_valid:]}
    potential = QTIP4PF(kspace_accuracy=config.kspace_accuracy)
    summary = {}
    for name, idx in parts.items():
        start = time.perf_counter()
        _write(os.path.join(directory, f"{name}.xyz"), [bulk[i] for i in idx], potential, [bulk_meta[i] for i in idx], False)
        summary[name] = len(idx)
        progress(f"labelled {name}.xyz: {len(idx)} frames in {time.perf_counter() - start:.1f} s")
    _write(os.path.join(directory, "gas_test.xyz"), gas, potential, gas_meta, True)
    summary["gas_test"] = len(gas)
    progress(f"labelled gas_test.xyz: {len(gas)} isolated molecules")
    return summary


#: proton patterns of the polymorph minima (no MD run and no held-out cell uses them)
MINIMA_SEEDS = (400, 401)
#: densities of the polymorph minima relative to the crystal's, as the training runs have
MINIMA_DENSITIES = (0.98, 1.0, 1.02)


def polymorph_minima(path: str, seeds=MINIMA_SEEDS, densities=MINIMA_DENSITIES, relax_steps: int = 300,
                     kspace_accuracy: float = 1e-6, repeats=None, model=None, model_steps: int = 100,
                     progress=_progress) -> int:
    """Usage: polymorph_minima("data/minima.xyz") -> frames written: the polymorphs' 0 K structures, labelled.

    For every polymorph's training cell (``repeats``, default ``POLYMORPH_TRAINING_REPEATS``), each proton
    pattern of ``seeds`` (one for the ordered phases) and each density of ``densities``: the built cell and its q-TIP4P/F
    minimum at fixed cell (the published study's relaxation; ``relax_steps`` L-BFGS steps, fmax 5 meV/A),
    source "minima". MD frames never reach these: a model trained on 60-200 K frames alone extrapolates to
    the relaxed cells on which the polymorph ranking is asked.

    With ``model`` (a potential), each cell's minimum on the model's surface instead (``model_steps`` L-BFGS
    steps from the built cell, as ``scripts/ice_polymorphs.py`` relaxes), labelled by q-TIP4P/F, source
    "model-minima": where a model's surface has minima the reference's does not (one round of active learning).
    """
    from ..potentials.qtip4pf import QTIP4PF
    from ..potentials.relaxation import relax
    from ..structures.polymorphs import POLYMORPHS, ice_polymorph

    potential = QTIP4PF(kspace_accuracy=kspace_accuracy)
    source = "minima" if model is None else "model-minima"
    frames, meta = [], []
    for name, cell in (repeats or POLYMORPH_TRAINING_REPEATS).items():
        for seed in seeds[:1] if POLYMORPHS[name].ordered else seeds:
            for scale in densities:
                built = ice_polymorph(name, cell, seed=seed, density_scale=scale)
                if model is None:
                    stages = (("built", built), ("relaxed", relax(built, potential, steps=relax_steps, fmax=0.005)))
                else:
                    stages = (("model-relaxed", relax(built, model, steps=model_steps, fmax=0.005)),)
                for stage, structure in stages:
                    frames.append(structure)
                    meta.append({"source": source, "polymorph": name, "stage": stage, "density_scale": scale,
                                 "proton_seed": seed, "temperature": 0.0, "nbeads": 1})
            progress(f"minima: ice {name} seed {seed} ({len(frames)} frames)")
    _write(path, frames, potential, meta, False)
    return len(frames)


__all__ = ["MINIMA_DENSITIES", "MINIMA_SEEDS", "RunSpec", "DatasetConfig", "default_runs", "extended_runs",
           "heldout_runs", "polymorph_runs",
           "polymorph_heldout_runs", "polymorph_extended_runs", "POLYMORPH_TRAINING_REPEATS",
           "POLYMORPH_HELDOUT_REPEATS", "RUN_SETS", "initial_structure", "sample_frames", "generate_dataset",
           "polymorph_minima"]
