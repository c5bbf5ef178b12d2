"""Training-side symmetry options of `symbreak train`: --rotated-copies K and --consistency-weight W.

    pytest tests/training/test_symmetry_options.py -q
"""

import ase.io
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from symbreak.cli import main
from symbreak.potentials.pet import topology
from symbreak.potentials.pet.batch import collate
from symbreak.potentials.pet.model import PETHypers, PETModel
from symbreak.potentials.testing import water_box, water_box_triclinic, water_molecule
from symbreak.potentials.toy import ToyWater
from symbreak.symmetry.rotations import haar_rotations
from symbreak.training.config import TrainConfig
from symbreak.training.data import Labelled, training_batch
from symbreak.training.loss import consistency_per_structure, model_terms, rotation_gradient, total_loss
from symbreak.training.train import LOG_COLUMNS

torch.set_num_threads(1)
# float() of a loss that still carries its graph is intended here
pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True to a scalar")

TINY = dict(d_model=8, n_heads=2, n_blocks=1, n_layers=1, d_feedforward=16, n_radial=4)
TINY_HYPERS = [f"{k}={v}" for k, v in TINY.items()]


def labelled(structures):
    """Labelled structures from the exactly invariant part of the toy water."""
    out = ToyWater().invariant_part(structures)
    return [Labelled(s, float(e), f) for s, e, f in zip(structures, out.energies, out.forces)]


def write_xyz(path, structures):
    frames = []
    for d in labelled(structures):
        atoms = d.structure.to_atoms()
        atoms.info["REF_energy"] = d.energy
        atoms.arrays["REF_forces"] = d.forces
        frames.append(atoms)
    ase.io.write(path, frames, format="extxyz")


def small_model(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return PETModel(PETHypers(species=(1, 8), **TINY)).to(dtype)


class InvariantPET(PETModel):
    """A PETModel whose energy depends on edge lengths only: exactly rotation invariant."""

    def atomic_energies(self, batch, vectors):
        length = vectors.norm(dim=-1)
        pair = torch.cos(1.3 * length) * torch.exp(-0.5 * length) * (1.0 + 0.1 * batch.species[batch.edge_j])
        return vectors.new_zeros(batch.n_total_atoms).index_add(0, batch.edge_i, pair)


def rotated_batch(structure, rotation, dtype=torch.float64):
    topo = topology(structure, 4.0)
    cell = None if structure.cell is None else structure.cell @ rotation.T
    return collate([topo], [structure.positions @ rotation.T], [cell], (1, 8), dtype)


# --- K rotated copies ----------------------------------------------------------------


def test_training_batch_has_k_rotated_copies_with_rotated_labels():
    data = labelled([water_box(seed=3), water_molecule(seed=4)])
    topos = [topology(d.structure, 4.0) for d in data]
    config = TrainConfig(rotated_copies=3)
    batch, energies, forces, n_atoms, rots = training_batch(data, topos, (1, 8), torch.float64, np.random.default_rng(5), config)
    assert batch.n_structures == 6 and rots.shape == (6, 3, 3)
    sizes = [d.structure.n_atoms for d in data for _ in range(3)]
    assert batch.n_atoms == sizes and n_atoms.tolist() == sizes
    assert batch.n_total_atoms == forces.shape[0] == sum(sizes)
    np.testing.assert_allclose(energies.numpy(), [data[0].energy] * 3 + [data[1].energy] * 3)
    # every pair of copies has its own rotation; all are orthogonal, with both signs of det
    flat = rots.reshape(6, 9)
    assert min(np.linalg.norm(flat[a] - flat[b]) for a in range(6) for b in range(a)) > 1e-3
    np.testing.assert_allclose(rots @ rots.transpose(0, 2, 1), np.broadcast_to(np.eye(3), rots.shape), atol=1e-12)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for copy in range(6):
        item, rot = data[copy // 3], rots[copy]
        sl = slice(starts[copy], starts[copy + 1])
        np.testing.assert_allclose(batch.positions[sl].numpy(), item.structure.positions @ rot.T, atol=1e-12)
        np.testing.assert_allclose(forces[sl].numpy(), item.forces @ rot.T, atol=1e-12)
        if item.structure.cell is not None:
            np.testing.assert_allclose(batch.cells[copy].numpy(), item.structure.cell @ rot.T, atol=1e-12)
    # the copies' labels are consistent: toy labels of the rotated structure equal the rotated labels
    from symbreak.core.structure import Structure

    s = data[0].structure
    again = ToyWater().invariant_part([Structure(s.positions @ rots[1].T, s.numbers, s.cell @ rots[1].T)])
    np.testing.assert_allclose(again.forces[0], forces[starts[1] : starts[2]].numpy(), atol=1e-9)


def test_one_copy_draws_exactly_the_plain_augmentation():
    data = labelled([water_molecule(seed=k) for k in range(4)])
    topos = [topology(d.structure, 4.0) for d in data]
    *_, rots = training_batch(data, topos, (1, 8), torch.float64, np.random.default_rng(7), TrainConfig())
    np.testing.assert_array_equal(rots, haar_rotations(np.random.default_rng(7), 4, improper=True))
    *_, rots = training_batch(data, topos, (1, 8), torch.float64, np.random.default_rng(7), TrainConfig(inversion=False, rotated_copies=2))
    assert rots.shape == (8, 3, 3) and (np.linalg.det(rots) > 0).all()
    *_, rots = training_batch(data, topos, (1, 8), torch.float64, np.random.default_rng(7), TrainConfig(augment=False))
    assert rots is None


# --- the rotational consistency term --------------------------------------------------


def test_rotation_gradient_of_the_analytic_toy():
    """The toy's analytic virial: zero torque for its invariant part, the finite-difference one for the rest."""
    toy = ToyWater()
    s = water_molecule(seed=11)
    assert np.abs(rotation_gradient(toy.invariant_part([s]).virials)).max() < 1e-12
    tau = rotation_gradient(toy.compute([s]).virials)[0]
    assert np.abs(tau).max() > 1e-4
    h = 1e-5
    from symbreak.core.structure import Structure

    for a in range(3):
        energy = [toy.compute([Structure(s.positions @ Rotation.from_rotvec(sign * h * np.eye(3)[a]).as_matrix().T, s.numbers, None)]).energies[0]
                  for sign in (1, -1)]
        assert (energy[0] - energy[1]) / (2 * h) == pytest.approx(tau[a], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_consistency_vanishes_for_an_invariant_model_only(dtype, atol):
    data = labelled([water_box(seed=12), water_box_triclinic(seed=13), water_molecule(seed=14)])
    topos = [topology(d.structure, 4.0) for d in data]
    torch.manual_seed(0)
    invariant = InvariantPET(PETHypers(species=(1, 8), **TINY)).to(dtype)
    config = TrainConfig(rotated_copies=2)
    batch, energies, forces, n_atoms, _ = training_batch(data, topos, (1, 8), dtype, np.random.default_rng(1), config)
    _, predicted_forces, _ = invariant.compute(batch)
    assert float(predicted_forces.abs().mean()) > 1e-2  # the model's forces are not small ...
    terms = model_terms(invariant, batch, energies, forces, n_atoms, create_graph=False)
    assert float(terms["consistency"].detach()) < atol  # ... but its torque vanishes
    plain = small_model(dtype=dtype)
    assert float(model_terms(plain, batch, energies, forces, n_atoms, create_graph=False)["consistency"].detach()) > 1e-6


def test_rotation_gradient_is_the_derivative_under_a_rigid_rotation_of_positions_and_cell():
    """Finite differences of E(R(theta) x, R(theta) cell) on a sheared, rotated, unwrapped periodic box."""
    model = small_model(seed=3)
    s = water_box_triclinic(seed=5)
    _, _, virials = model.compute(rotated_batch(s, np.eye(3)))
    tau = rotation_gradient(virials)[0].detach().numpy()
    assert np.abs(tau).max() > 1e-4
    h = 1e-4
    for a in range(3):
        e = [float(model(rotated_batch(s, Rotation.from_rotvec(sign * h * np.eye(3)[a]).as_matrix()))[0].detach()) for sign in (1, -1)]
        assert (e[0] - e[1]) / (2 * h) == pytest.approx(tau[a], rel=1e-6, abs=1e-10)
    # the same as sum_i r_i x dE/dr_i + sum_c h_c x dE/dh_c (torque of -forces plus the cell's part)
    batch = rotated_batch(s, np.eye(3))
    batch.positions.requires_grad_(True)
    batch.cells.requires_grad_(True)
    g_pos, g_cell = torch.autograd.grad(model(batch).sum(), [batch.positions, batch.cells])
    explicit = torch.cross(batch.positions, g_pos, dim=-1).sum(0) + torch.cross(batch.cells[0], g_cell[0], dim=-1).sum(0)
    np.testing.assert_allclose(explicit.detach().numpy(), tau, rtol=1e-9, atol=1e-12)


def test_consistency_term_is_differentiable_and_weighted_into_the_loss():
    model = small_model(seed=4)
    data = labelled([water_box(seed=21), water_molecule(seed=22)])
    topos = [topology(d.structure, 4.0) for d in data]
    batch, energies, forces, n_atoms, _ = training_batch(data, topos, (1, 8), torch.float64, np.random.default_rng(2), TrainConfig())
    terms = model_terms(model, batch, energies, forces, n_atoms, create_graph=True)
    grads = torch.autograd.grad(terms["consistency"], [p for p in model.parameters()], allow_unused=True)
    assert sum(float(g.abs().sum()) for g in grads if g is not None) > 0
    base = float(total_loss(TrainConfig(), terms))
    assert base == pytest.approx(float(terms["energy_mse"] + terms["force_mse"]))
    assert float(total_loss(TrainConfig(consistency_weight=2.0), terms)) == pytest.approx(base + 2.0 * float(terms["consistency"]))
    # per structure: |tau|^2 / n_atoms
    virials = np.zeros((2, 3, 3))
    virials[0, 0, 1], virials[1, 2, 0] = 3.0, -1.0
    np.testing.assert_allclose(consistency_per_structure(virials, np.array([3.0, 1.0])), [3.0, 1.0])


def test_a_few_steps_on_the_consistency_term_reduce_it():
    model = small_model(seed=6)
    data = labelled([water_box(seed=31), water_molecule(seed=32)])
    topos = [topology(d.structure, 4.0) for d in data]
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    values = []
    for step in range(15):
        batch, energies, forces, n_atoms, _ = training_batch(data, topos, (1, 8), torch.float64, np.random.default_rng(step), TrainConfig())
        terms = model_terms(model, batch, energies, forces, n_atoms, create_graph=True)
        optimizer.zero_grad()
        terms["consistency"].backward()
        optimizer.step()
        values.append(float(terms["consistency"]))
    assert values[-1] < 0.5 * values[0]


# --- the options in `symbreak train` ---------------------------------------------------


@pytest.fixture
def tiny_files(tmp_path):
    write_xyz(tmp_path / "train.xyz", [water_box(seed=40 + k) for k in range(3)] + [water_molecule(seed=50 + k) for k in range(2)])
    write_xyz(tmp_path / "valid.xyz", [water_box(seed=60), water_molecule(seed=61)])
    return ["train", "--train", str(tmp_path / "train.xyz"), "--valid", str(tmp_path / "valid.xyz")]


def read_log(path):
    lines = path.read_text().strip().splitlines()
    header = lines[0].split("\t")
    return header, [dict(zip(header, line.split("\t"))) for line in lines[1:]]


@pytest.mark.parametrize("option, value, field", [("--rotated-copies", "2", "rotated_copies"), ("--consistency-weight", "0.5", "consistency_weight")])
def test_train_with_option_runs_resumes_and_logs(tmp_path, tiny_files, capsys, option, value, field):
    out = tmp_path / "model"
    args = tiny_files + ["--out", str(out)]
    assert main(args + ["--epochs", "2", "--batch-size", "2", "--hypers", *TINY_HYPERS, option, value]) == 0
    text = capsys.readouterr().out
    assert ("2 rotated copies per structure (2x cost per step)" if field == "rotated_copies" else "consistency weight 0.5") in text
    assert "dE/dtheta" in text
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["config"][field] == pytest.approx(float(value))
    header, rows = read_log(out / "log.tsv")
    assert tuple(header) == LOG_COLUMNS and len(rows) == 2
    assert all(np.isfinite(float(r["train_consistency"])) and float(r["valid_consistency"]) > 0 for r in rows)

    assert main(args + ["--resume", "--epochs", "3"]) == 0  # the option is not repeated: it comes from last.pt
    text = capsys.readouterr().out
    assert "epochs 3..3" in text and field.split("_")[0] in text
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["epoch"] == 3 and state["config"][field] == pytest.approx(float(value))
    header, rows = read_log(out / "log.tsv")
    assert tuple(header) == LOG_COLUMNS and [r["epoch"] for r in rows] == ["1", "2", "3"]


def test_resume_of_a_run_logged_without_the_new_columns(tmp_path, tiny_files, capsys):
    out = tmp_path / "model"
    args = tiny_files + ["--out", str(out)]
    assert main(args + ["--epochs", "1", "--hypers", *TINY_HYPERS]) == 0
    log = out / "log.tsv"
    old = [line.split("\t")[:8] for line in log.read_text().strip().splitlines()]
    log.write_text("".join("\t".join(cols) + "\n" for cols in old))  # as an older version wrote it
    state = torch.load(out / "last.pt", weights_only=True)
    for row in state["history"]:
        row.pop("train_consistency"), row.pop("valid_consistency")
    for key in ("rotated_copies", "consistency_weight"):
        state["config"].pop(key)
    torch.save(state, out / "last.pt")
    assert main(args + ["--resume", "--epochs", "2", "--consistency-weight", "0.1"]) == 0
    header, rows = read_log(log)
    assert tuple(header) == LOG_COLUMNS and rows[0]["train_consistency"] == "nan" and float(rows[1]["train_consistency"]) > 0
    assert torch.load(out / "last.pt", weights_only=True)["config"]["consistency_weight"] == pytest.approx(0.1)


@pytest.mark.parametrize("extra, message", [
    (["--rotated-copies", "0"], "--rotated-copies must be an integer >= 1, got 0"),
    (["--rotated-copies", "-2"], "--rotated-copies must be an integer >= 1"),
    (["--consistency-weight", "-0.1"], "--consistency-weight must be >= 0, got -0.1"),
    (["--consistency-weight", "nan"], "--consistency-weight must be >= 0"),
    (["--rotated-copies", "2", "--no-augment"], "needs the random augmentation"),
])
def test_option_errors_are_one_line(tmp_path, tiny_files, capsys, extra, message):
    assert main(tiny_files + ["--out", str(tmp_path / "m"), "--epochs", "1"] + extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m" / "last.pt").exists()


def test_defaults_are_augmentation_alone():
    config = TrainConfig()
    assert config.augment and config.rotated_copies == 1 and config.consistency_weight == 0.0
    config.validate()
