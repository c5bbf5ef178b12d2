"""The PET-style model: derivatives, periodicity, batching, (non-)invariance, checkpoints.

    pytest tests/potentials/test_pet.py -q
"""

import numpy as np
import pytest
import torch
from symbreak.potentials import Structure, load_potential, pet_checkpoint
from symbreak.potentials.pet import PETHypers, PETModel, PETPotential, collate, topology
from symbreak.potentials.pet.cutoff import cutoff_function
from symbreak.potentials.pet.neighbors import neighbor_list, reverse_edges
from symbreak.potentials.testing import (
    finite_difference_forces,
    finite_difference_virial,
    water_box,
    water_box_triclinic,
    water_molecule,
)

torch.set_num_threads(1)

SMALL = dict(d_model=16, n_heads=2, n_blocks=2, n_layers=1, d_feedforward=32, n_radial=4)


def make_model(seed=0, **hypers) -> PETModel:
    torch.manual_seed(seed)
    model = PETModel(PETHypers(**{**SMALL, **hypers}))
    # random baseline and scale so that these buffers are exercised too
    model.baseline.copy_(torch.tensor([-13.6, -430.0]))
    model.energy_scale.fill_(0.7)
    return model


@pytest.fixture(scope="module")
def pot64():
    return PETPotential(make_model(), dtype="float64")


def energy(pot, positions, numbers, cell):
    return pot.compute([Structure(positions, numbers, cell)]).energies[0]


@pytest.mark.parametrize("which", ["molecule", "box", "triclinic"])
def test_forces_are_minus_finite_difference_gradient(pot64, which):
    s = {"molecule": water_molecule(seed=3), "box": water_box(seed=4), "triclinic": water_box_triclinic(seed=5)}[which]
    forces = pot64.compute([s]).forces[0]
    atoms = np.random.default_rng(0).choice(s.n_atoms, size=3, replace=False)
    np.testing.assert_allclose(forces[atoms], finite_difference_forces(pot64, s, atoms=atoms), atol=1e-6, rtol=1e-6)


def test_virial_is_minus_strain_derivative(pot64):
    s = water_box_triclinic(seed=6)
    virial = pot64.compute([s]).virials[0]
    fd = finite_difference_virial(pot64, s, h=1e-6)
    np.testing.assert_allclose(virial, fd, atol=1e-6, rtol=1e-6)
    assert np.abs(virial - virial.T).max() > 1e-8  # not invariant: the virial has an antisymmetric part


def test_finite_system_virial_is_sum_of_f_times_r(pot64):
    s = water_molecule(seed=1)
    out = pot64.compute([s])
    np.testing.assert_allclose(out.virials[0], out.forces[0].T @ s.positions, atol=1e-10)


def test_isolated_equals_large_periodic_box(pot64):
    s = water_molecule(seed=2)
    big = Structure(s.positions, s.numbers, np.eye(3) * 30.0)
    a, b = pot64.compute([s]), pot64.compute([big])
    assert a.energies[0] == pytest.approx(b.energies[0], abs=1e-10)
    np.testing.assert_allclose(a.forces[0], b.forces[0], atol=1e-10)
    np.testing.assert_allclose(a.virials[0], b.virials[0], atol=1e-10)


def test_unwrapped_images_and_rotated_triclinic_cell(pot64):
    # the same periodic system with atoms moved by random lattice vectors: identical results
    scrambled = water_box_triclinic(seed=7, scramble_images=True)
    wrapped = water_box_triclinic(seed=7, scramble_images=False)
    assert not np.allclose(scrambled.positions, wrapped.positions)
    a, b = pot64.compute([scrambled]), pot64.compute([wrapped])
    assert a.energies[0] == pytest.approx(b.energies[0], abs=1e-9)
    np.testing.assert_allclose(a.forces[0], b.forces[0], atol=1e-9)
    np.testing.assert_allclose(a.virials[0], b.virials[0], atol=1e-9)
    # the equivalent upper-triangular cell (rotated back by the QR rotation): same neighbours,
    # results differ only through the model's non-invariance
    q, r = np.linalg.qr(wrapped.cell.T)
    q = q * np.sign(np.diag(r))  # proper QR signs
    if np.linalg.det(q) < 0:
        pytest.skip("QR gave an improper rotation")
    upper = wrapped.rotated(q.T)
    assert np.allclose(np.tril(upper.cell.T, -1), 0.0, atol=1e-10)
    n_edges = [len(topology(x, 4.0).i) for x in (wrapped, upper)]
    assert n_edges[0] == n_edges[1]
    c = pot64.compute([upper])
    assert c.energies[0] != pytest.approx(b.energies[0], abs=1e-8)
    assert abs(c.energies[0] - b.energies[0]) < 0.5 * abs(b.energies[0] - (-13.6 * 16 - 430.0 * 8))


def test_translation_invariance_and_permutation_equivariance(pot64):
    s = water_box(seed=8)
    ref = pot64.compute([s])
    moved = Structure(s.positions + np.array([0.37, -1.2, 2.9]), s.numbers, s.cell)
    out = pot64.compute([moved])
    assert out.energies[0] == pytest.approx(ref.energies[0], abs=1e-9)
    np.testing.assert_allclose(out.forces[0], ref.forces[0], atol=1e-9)
    perm = np.random.default_rng(1).permutation(s.n_atoms)
    out = pot64.compute([Structure(s.positions[perm], s.numbers[perm], s.cell)])
    assert out.energies[0] == pytest.approx(ref.energies[0], abs=1e-9)
    np.testing.assert_allclose(out.forces[0], ref.forces[0][perm], atol=1e-9)
    np.testing.assert_allclose(out.virials[0], ref.virials[0], atol=1e-9)


def test_not_rotation_invariant(pot64):
    s = water_molecule(seed=9)
    rot = np.linalg.qr(np.random.default_rng(2).standard_normal((3, 3)))[0]
    ref, rotated = pot64.compute([s]), pot64.compute([s.rotated(rot)])
    assert abs(rotated.energies[0] - ref.energies[0]) > 1e-6
    # net torque of an isolated molecule: zero only for an invariant model
    f = ref.forces[0]
    torque = np.cross(s.positions - s.positions.mean(0), f).sum(0)
    assert np.abs(torque).max() > 1e-8
    # but still translation invariant: zero net force
    np.testing.assert_allclose(f.sum(0), 0.0, atol=1e-10)


def test_energy_is_smooth_across_the_cutoff(pot64):
    def pair(d):
        return energy(pot64, np.array([[0.0, 0.0, 0.0], [d, 0.1, 0.0]]), np.array([8, 1]), None)

    rc = 4.0
    just_in = pair(np.sqrt((rc - 1e-7) ** 2 - 0.01))
    just_out = pair(np.sqrt((rc + 1e-7) ** 2 - 0.01))
    assert just_in == pytest.approx(just_out, abs=1e-8)
    assert cutoff_function(torch.tensor([3.7, 3.9, 4.0, 4.1], dtype=torch.float64), 4.0, 0.2).tolist() == pytest.approx([1.0, 0.5, 0.0, 0.0])


def test_single_atom_and_empty_neighbourhoods(pot64):
    out = pot64.compute([Structure(np.zeros((1, 3)), np.array([8]), None), Structure(np.zeros((1, 3)), np.array([8]), None)])
    assert np.isfinite(out.energies).all() and out.energies[0] == out.energies[1]
    np.testing.assert_allclose(out.forces[0], 0.0)
    np.testing.assert_allclose(out.virials[0], 0.0)


def test_batch_equals_single_calls(pot64):
    structures = [water_molecule(seed=10), water_box(seed=11), water_box_triclinic(seed=12)]
    batched = pot64.compute(structures)
    for k, s in enumerate(structures):
        single = pot64.compute([s])
        assert batched.energies[k] == pytest.approx(single.energies[0], abs=1e-10)
        np.testing.assert_allclose(batched.forces[k], single.forces[0], atol=1e-10)
        np.testing.assert_allclose(batched.virials[k], single.virials[0], atol=1e-10)
    pot64.chunk_size = 2
    try:
        chunked = pot64.compute(structures)
    finally:
        pot64.chunk_size = None
    np.testing.assert_allclose(chunked.energies, batched.energies, atol=1e-10)


def test_neighbor_list_matches_brute_force_for_small_triclinic_cell():
    s = water_box_triclinic(seed=13)  # cell smaller than twice the cutoff: several images
    i, j, shifts = neighbor_list(s.positions, s.cell, 4.0)
    d = np.linalg.norm(s.positions[j] - s.positions[i] + shifts @ s.cell, axis=1)
    assert d.max() < 4.0
    count = 0
    for n in np.stack(np.meshgrid(*[np.arange(-3, 4)] * 3, indexing="ij"), -1).reshape(-1, 3):
        dv = s.positions[None, :, :] - s.positions[:, None, :] + n @ s.cell
        dist = np.linalg.norm(dv, axis=-1)
        if not n.any():
            np.fill_diagonal(dist, np.inf)
        count += int((dist < 4.0).sum())
    assert count == len(i)
    rev = reverse_edges(i, j, shifts)
    np.testing.assert_array_equal(i[rev], j)
    np.testing.assert_array_equal(shifts[rev], -shifts)


def test_species_and_float32(pot64):
    pot32 = PETPotential(make_model(), dtype="float32")
    s = water_box(seed=14)
    e32, e64 = pot32.compute([s]).energies[0], pot64.compute([s]).energies[0]
    assert e32 == pytest.approx(e64, rel=1e-5)
    with pytest.raises(ValueError, match="atomic numbers \\[6\\]"):
        pot32.compute([Structure(np.zeros((1, 3)), np.array([6]), None)])
    assert pot32.species == frozenset({1, 8})


def test_force_loss_double_backward_train_step():
    model = make_model(seed=3).double()
    s = water_box(seed=15)
    batch = collate([topology(s, 4.0)], [s.positions], [s.cell], (1, 8), torch.float64)
    energies, forces, _ = model.compute(batch, create_graph=True)
    loss = (forces**2).mean() + (energies / s.n_atoms).pow(2).mean()
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    attention_grad = model.blocks[0].layers[0].attention.qkv.weight.grad
    assert attention_grad.abs().sum() > 0
    before = energies.detach().clone()
    torch.optim.Adam(model.parameters(), lr=1e-3).step()
    assert not torch.allclose(model(batch).detach(), before)


def test_checkpoint_round_trip(tmp_path, pot64):
    model = make_model(seed=4)
    path = tmp_path / "model" / "best.pt"
    pet_checkpoint.save_model(path, model, metadata={"epoch": 3})
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "symbreak-pet" and raw["metadata"]["epoch"] == 3
    structures = [water_molecule(seed=16), water_box(seed=17)]
    ref = PETPotential(model, dtype="float64").compute(structures)
    for source in (path, path.parent, str(path.parent)):
        loaded = load_potential(str(source), dtype="float64")
        assert isinstance(loaded, PETPotential)
        out = loaded.compute(structures)
        np.testing.assert_array_equal(out.energies, ref.energies)
        np.testing.assert_array_equal(out.forces[1], ref.forces[1])
    loaded_model, metadata = pet_checkpoint.load_checkpoint(path)
    assert loaded_model.hypers == model.hypers and metadata == {"epoch": 3}


def test_checkpoint_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        pet_checkpoint.load_model(tmp_path / "missing.pt")
    with pytest.raises(FileNotFoundError, match="no best.pt"):
        pet_checkpoint.load_model(tmp_path)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupted") as err:
        pet_checkpoint.load_model(bad)
    assert "\n" not in str(err.value)
    good = tmp_path / "good.pt"
    pet_checkpoint.save_model(good, make_model())
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(ValueError, match="corrupted"):
        pet_checkpoint.load_model(truncated)
    ckpt = torch.load(good, weights_only=True)
    ckpt["hypers"]["d_model"] = 24
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="does not match its hyperparameters"):
        pet_checkpoint.load_model(tmp_path / "mismatch.pt")
    ckpt["hypers"] = {**ckpt["hypers"], "d_model": 16, "n_wings": 2}
    torch.save(ckpt, tmp_path / "unknown.pt")
    with pytest.raises(ValueError, match="incompatible hyperparameters"):
        pet_checkpoint.load_model(tmp_path / "unknown.pt")
    monkeypatch.setattr(pet_checkpoint, "DEFAULT_MODEL", tmp_path / "nothing" / "default.pt")
    with pytest.raises(FileNotFoundError, match="the model 'default' is not shipped"):
        load_potential("default")
    monkeypatch.setattr(pet_checkpoint, "SHIPPED_DIR", tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="the model 'default-ice' is not shipped"):
        load_potential("default-ice:dtype=float64")


@pytest.mark.parametrize("name", ["default", "default-ice"])
def test_shipped_models_load_and_run(name):
    if not pet_checkpoint.shipped_model_path(name).is_file():
        pytest.skip(f"{name} model not shipped")
    pot = load_potential(name)
    assert pot.name == name and pot.species == frozenset({1, 8})
    out = pot.compute([water_molecule(seed=18), water_box(seed=19)])
    assert np.isfinite(out.energies).all() and np.isfinite(out.forces[1]).all()
