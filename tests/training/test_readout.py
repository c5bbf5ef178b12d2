"""The readout refit: the energy heads' last layers solved by least squares on energies and forces.

    pytest tests/training/test_readout.py -q
"""

import numpy as np
import pytest
import torch
from symbreak.potentials.pet import PETPotential
from symbreak.potentials.testing import water_box, water_molecule
from symbreak.training.config import TrainConfig
from symbreak.training.data import Labelled
from symbreak.core.errors import InputError
from symbreak.training.readout import energy_rows, force_frame_indices, force_rows, refit_readout, rotation_rows
from symbreak.training.train import build_model

torch.set_num_threads(1)

HYPERS = dict(d_model=8, n_heads=2, n_blocks=2, n_layers=1, d_feedforward=16, n_radial=4)


def tiny_model(structures):
    labels = [Labelled(s, 0.0, np.zeros((s.n_atoms, 3))) for s in structures]
    torch.manual_seed(0)
    return build_model(TrainConfig(hypers=HYPERS), labels).double().eval()


def model_labels(model, structures, sources=None):
    """The model's own energies and forces as labels."""
    result = PETPotential(model, dtype="float64").compute(structures)
    sources = sources or [None] * len(structures)
    return [Labelled(s, float(e), f, src) for s, e, f, src in zip(structures, result.energies, result.forces, sources)]


def test_readout_features_reproduce_the_energies_and_forces():
    structures = [water_box(seed=1), water_molecule(seed=2)]
    model = tiny_model(structures)
    labels = model_labels(model, structures)
    x, target = energy_rows(model, labels)
    w = model.readout_vector().numpy()
    assert x.shape == (2, 2 * 2 * (8 + 1))
    np.testing.assert_allclose(x @ w, target, atol=1e-12)  # labels are the model's: residual zero
    for item in labels:
        np.testing.assert_allclose(force_rows(model, item) @ w, item.forces.ravel(), atol=1e-10)
    # set_readout_vector is the inverse of readout_vector
    model.set_readout_vector(torch.as_tensor(2 * w))
    np.testing.assert_allclose(model.readout_vector().numpy(), 2 * w)


def test_refit_recovers_a_readout_from_its_own_labels():
    """Labels made by the same network with another readout: the refit finds an equivalent one, loss ~0."""
    structures = [water_box(seed=10 + k) for k in range(4)] + [water_molecule(seed=20 + k) for k in range(4)]
    model = tiny_model(structures)
    w0 = model.readout_vector().clone()
    target_w = w0 + 0.3 * torch.randn(len(w0), generator=torch.Generator().manual_seed(3), dtype=w0.dtype)
    model.set_readout_vector(target_w)
    labels = model_labels(model, structures, sources=["box"] * 4 + ["gas"] * 4)
    model.set_readout_vector(w0)
    fit = refit_readout(model, labels, energy_weight=100.0, force_weight=1.0, force_frames=3, ridge=0.0,
                        log=lambda _: None)
    assert fit.force_frames == 3 and fit.energy_frames == 8 and fit.parameters == len(w0)
    assert fit.loss_before > 1e-4 and fit.loss_after < 1e-12 * fit.loss_before + 1e-14
    # the labels are reproduced (the weights themselves are not all identifiable: every block's centre-head bias
    # multiplies n_atoms), forces too on the structures whose forces were not in the fit
    x, target = energy_rows(model, labels)
    w = model.readout_vector().numpy()
    np.testing.assert_allclose(x @ w, target, rtol=1e-5)  # labels ~10 eV/atom; the normal equations square
    for item in labels:                                    # the condition number
        np.testing.assert_allclose(force_rows(model, item) @ w, item.forces.ravel(), rtol=1e-4, atol=1e-4)


def test_refit_is_the_minimum_of_the_restricted_loss():
    """On labels the readout cannot fit exactly, any step away from the refit raises the loss it reports."""
    structures = [water_box(seed=30 + k) for k in range(3)]
    model = tiny_model(structures)
    labels = model_labels(model, structures)
    rng = np.random.default_rng(0)
    labels = [Labelled(d.structure, d.energy + rng.normal(0, 0.05), d.forces + rng.normal(0, 0.1, d.forces.shape))
              for d in labels]

    def loss(w):
        model.set_readout_vector(torch.as_tensor(w))
        x, target = energy_rows(model, labels)
        e_mse = np.mean((x @ w - target) ** 2)
        f_mse = np.mean(np.concatenate([(force_rows(model, d) @ w - d.forces.ravel()) ** 2 for d in labels]))
        return 10.0 * e_mse + f_mse

    before = loss(model.readout_vector().numpy())
    w_start = model.readout_vector().numpy()
    damped = refit_readout(model, labels, energy_weight=10.0, force_weight=1.0, force_frames=3, ridge=1e-3,
                           log=lambda _: None)
    damped_step = np.linalg.norm(model.readout_vector().numpy() - w_start)
    model.set_readout_vector(torch.as_tensor(w_start))
    fit = refit_readout(model, labels, energy_weight=10.0, force_weight=1.0, force_frames=3, ridge=0.0,
                        log=lambda _: None)
    w = model.readout_vector().numpy()
    # the ridge shortens the step at some cost in the loss
    assert damped_step < 0.9 * np.linalg.norm(w - w_start) and fit.loss_after < damped.loss_after < fit.loss_before
    assert fit.loss_before == pytest.approx(before, rel=1e-8)
    assert fit.loss_after == pytest.approx(loss(w), rel=1e-8) and fit.loss_after < fit.loss_before
    for _ in range(4):
        assert loss(w + 1e-3 * rng.normal(size=len(w))) > fit.loss_after


def test_force_frames_are_drawn_evenly_over_sources():
    structures = [water_molecule(seed=k) for k in range(10)]
    data = [Labelled(s, 0.0, np.zeros((3, 3)), "a" if k < 7 else "b") for k, s in enumerate(structures)]
    chosen = force_frame_indices(data, 4)
    assert len(chosen) == 4 and sum(k >= 7 for k in chosen) == 2
    assert force_frame_indices(data, 50) == list(range(10))
    assert force_frame_indices(data, 4, seed=0) == chosen


def test_rotation_term_lowers_the_orientation_dependence():
    """The rotation term trades some fit for a less orientation-dependent energy; its RMS is that of rotation_rows."""
    structures = [water_box(seed=70 + k) for k in range(3)]
    model = tiny_model(structures)
    model.set_readout_vector(torch.randn(36, generator=torch.Generator().manual_seed(4), dtype=torch.float64))
    labels = model_labels(model, structures)  # an orientation-dependent model's own labels: fitted exactly
    w0 = model.readout_vector().numpy()
    plain = refit_readout(model, labels, 10.0, 1.0, force_frames=3, log=lambda _: None)
    assert plain.rotation_copies == 0 and plain.rotation_rms_after == 0.0
    model.set_readout_vector(torch.as_tensor(w0))
    fit = refit_readout(model, labels, 10.0, 1.0, force_frames=3, rotation_copies=6, rotation_weight=1e4,
                        log=lambda _: None)
    assert fit.rotation_copies == 6 and fit.rotation_rms_after < 0.5 * fit.rotation_rms_before
    assert fit.loss_after < fit.loss_before
    # the RMS it reports is the deviation over fresh orientations too (not only those fitted), in the same units
    rows = np.concatenate([rotation_rows(model, d, 6, np.random.default_rng(9)) for d in labels])
    rms = np.sqrt(np.mean((rows @ model.readout_vector().numpy()) ** 2))
    assert rms < 0.8 * fit.rotation_rms_before
    with pytest.raises(InputError, match="at least 2 rotated copies"):
        refit_readout(model, labels, 10.0, 1.0, force_frames=1, rotation_copies=1, rotation_weight=1.0)
