"""Quality of the shipped default model on held-out q-TIP4P/F frames (tests/data), and its broken symmetry."""

from pathlib import Path

import numpy as np
import pytest
import torch
from symbreak.potentials import load_potential
from symbreak.potentials.pet_checkpoint import shipped_model_path
from symbreak.structures import molecule
from symbreak.symmetry import parse_strategy
from symbreak.symmetry.rotations import haar_rotations
from symbreak.training.data import read_labelled

DATA = Path(__file__).resolve().parents[1] / "data" / "reference_test_frames.xyz"


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return load_potential("default")


@pytest.fixture(scope="module")
def frames():
    return read_labelled(DATA)


@pytest.mark.parametrize("name", ["default", "default-ice"])
def test_model_error_on_held_out_frames(name, frames):
    if not shipped_model_path(name).is_file():
        pytest.skip(f"{name} model not shipped")
    torch.set_num_threads(1)
    out = load_potential(name).compute([f.structure for f in frames])
    e_err = np.array([abs(e - f.energy) / f.structure.n_atoms for e, f in zip(out.energies, frames)])
    f_err = np.concatenate([np.abs(p - f.forces).ravel() for p, f in zip(out.forces, frames)])
    f_std = np.concatenate([f.forces.ravel() for f in frames]).std()
    # measured when the models were shipped (driver/symbreak/models/README.md): 0.77 meV/atom, 53 meV/A on
    # these frames (the model before: 1.9 and 67); now default 0.69 / 48.7, default-ice 0.44 / 52.1; the bounds
    # leave some room
    assert e_err.mean() < 0.002, f"energy MAE {1e3 * e_err.mean():.2f} meV/atom"
    assert f_err.mean() < 0.060, f"force MAE {1e3 * f_err.mean():.1f} meV/A"
    assert f_err.mean() < 0.06 * f_std


@pytest.mark.slow
def test_plain_model_is_not_invariant_and_averaging_fixes_it(model, frames):
    s = frames[0].structure
    rotations = haar_rotations(np.random.default_rng(3), 2, improper=True)
    plain = [model.compute([s.rotated(r)]).energies[0] for r in rotations]
    averaged = parse_strategy("2i", model, diagnostics=False)
    avg = [averaged.compute([s.rotated(r)]).energies[0] for r in rotations]
    assert abs(plain[0] - plain[1]) > 1e-3  # eV: the model learned invariance only approximately
    assert abs(avg[0] - avg[1]) < 0.1 * abs(plain[0] - plain[1])


def test_isolated_molecule_feels_a_torque_that_averaging_removes(model):
    s = molecule(seed=4)
    plain = parse_strategy("plain", model).compute([s]).extras[0]
    averaged = parse_strategy("2i", model).compute([s])
    from symbreak.symmetry.metrics import net_torque

    torque_avg = net_torque(s.positions, averaged.forces[0], s.numbers)
    assert np.linalg.norm(plain["net_torque_plain"]) > 1e-3  # eV
    assert np.linalg.norm(torque_avg) < 0.1 * np.linalg.norm(plain["net_torque_plain"])


@pytest.mark.slow
def test_default_ice_knows_the_polymorphs_that_default_does_not():
    """Unit cells of the eight polymorphs in proton patterns no training run used (seeds 301/302), as built: the
    ice model's energies relative to Ih follow q-TIP4P/F's (measured when it was shipped: Kendall tau 0.929, 5.6
    meV/H2O rms over the 14 cells), the liquid model's do not (tau 0.64, 24.6 meV/H2O rms)."""
    from symbreak.analysis.polymorphs import compare_polymorphs
    from symbreak.potentials.qtip4pf import QTIP4PF
    from symbreak.structures.polymorphs import POLYMORPHS
    from symbreak.study.polymorph_energies import polymorph_cells

    if not shipped_model_path("default-ice").is_file():
        pytest.skip("default-ice model not shipped")
    torch.set_num_threads(1)
    cells, structures = polymorph_cells({name: (1, 1, 1) for name in POLYMORPHS}, seeds=(301, 302))
    molecules = np.array([s.n_atoms // 3 for s in structures])
    reference = QTIP4PF(kspace_accuracy=1e-6)
    try:
        energies = {"reference": np.asarray(reference.compute(list(structures)).energies) / molecules}
    finally:
        reference.close()
    for name in ("default", "default-ice"):
        energies[name] = np.asarray(load_potential(name).compute(list(structures)).energies) / molecules
    c = compare_polymorphs(cells, energies)
    assert c.kendall["default-ice"] >= 0.85, c.kendall
    assert c.rms_error["default-ice"] < 0.008, f"{1e3 * c.rms_error['default-ice']:.2f} meV/H2O rms"
    assert c.rms_error["default"] > 2 * c.rms_error["default-ice"], c.rms_error
