"""Training: reading labels, baseline, augmentation, and a tiny end-to-end run with resume.

    pytest tests/training/test_train.py -q
"""

import json

import ase.io
import numpy as np
import pytest
import torch
from ase.calculators.singlepoint import SinglePointCalculator
from symbreak.cli import main
from symbreak.potentials import load_potential
from symbreak.potentials.pet import topology
from symbreak.potentials.testing import water_box, water_molecule
from symbreak.potentials.toy import ToyWater
from symbreak.symmetry.rotations import haar_rotations
from symbreak.training.config import TrainConfig
from symbreak.training.data import Labelled, fit_baseline, make_batch, read_labelled
from symbreak.training.train import learning_rate

torch.set_num_threads(1)

TINY_HYPERS = ["d_model=8", "n_heads=2", "n_blocks=1", "n_layers=1", "d_feedforward=16", "n_radial=4"]


def write_labelled(path, structures, style="info"):
    """Label structures with the exactly invariant part of the toy water and write extxyz."""
    toy = ToyWater()
    out = toy.invariant_part(structures)
    frames = []
    for s, e, f in zip(structures, out.energies, out.forces):
        atoms = s.to_atoms()
        if style == "info":
            atoms.info["REF_energy"] = float(e)
            atoms.arrays["REF_forces"] = f
        else:
            atoms.calc = SinglePointCalculator(atoms, energy=float(e), forces=f)
        frames.append(atoms)
    ase.io.write(path, frames, format="extxyz")
    return out


@pytest.mark.parametrize("style", ["info", "calculator"])
def test_read_labelled(tmp_path, style):
    structures = [water_box(seed=1), water_molecule(seed=2)]
    ref = write_labelled(tmp_path / "d.xyz", structures, style)
    data = read_labelled(tmp_path / "d.xyz")
    assert len(data) == 2 and data[1].structure.cell is None and data[0].structure.cell is not None
    assert data[0].energy == pytest.approx(ref.energies[0])
    np.testing.assert_allclose(data[1].forces, ref.forces[1], atol=1e-6)


def test_read_labelled_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_labelled(tmp_path / "missing.xyz")
    ase.io.write(tmp_path / "bare.xyz", water_molecule().to_atoms(), format="extxyz")
    with pytest.raises(ValueError, match="frame 0 has no energy"):
        read_labelled(tmp_path / "bare.xyz")


def test_fit_baseline_recovers_composition_energies():
    rng = np.random.default_rng(0)
    data = []
    for n_o, n_h in [(1, 2), (2, 3), (3, 1), (1, 1)]:
        numbers = np.array([8] * n_o + [1] * n_h)
        s = water_molecule()  # any positions; only numbers matter here
        from symbreak.potentials import Structure

        s = Structure(rng.standard_normal((len(numbers), 3)), numbers, None)
        data.append(Labelled(s, -430.0 * n_o - 13.6 * n_h, np.zeros((len(numbers), 3))))
    np.testing.assert_allclose(fit_baseline(data, (1, 8)), [-13.6, -430.0], atol=1e-9)


def test_random_rotations_and_rotated_batch():
    rng = np.random.default_rng(1)
    rots = haar_rotations(rng, 64, improper=True)
    np.testing.assert_allclose(rots @ rots.transpose(0, 2, 1), np.broadcast_to(np.eye(3), rots.shape), atol=1e-12)
    dets = np.linalg.det(rots)
    assert (dets > 0).any() and (dets < 0).any()
    assert (np.linalg.det(haar_rotations(rng, 16, improper=False)) > 0).all()
    s = water_box(seed=3)
    item = Labelled(s, -1.0, np.arange(s.n_atoms * 3, dtype=float).reshape(-1, 3))
    batch, _, forces, _ = make_batch([item], [topology(s, 4.0)], (1, 8), torch.float64, rots[:1])
    np.testing.assert_allclose(forces.numpy(), item.forces @ rots[0].T)
    np.testing.assert_allclose(batch.cells[0].numpy(), s.cell @ rots[0].T)
    config = TrainConfig(lr=1e-3, lr_final_fraction=0.1)
    assert learning_rate(config, 0, 10) == pytest.approx(1e-3)
    assert learning_rate(config, 10, 10) == pytest.approx(1e-4)


def test_train_resume_and_load(tmp_path, capsys):
    train = [water_box(seed=10 + k) for k in range(4)] + [water_molecule(seed=20 + k) for k in range(2)]
    write_labelled(tmp_path / "train.xyz", train)
    write_labelled(tmp_path / "valid.xyz", [water_box(seed=30), water_molecule(seed=31)])
    out = tmp_path / "model"
    args = ["train", "--train", str(tmp_path / "train.xyz"), "--valid", str(tmp_path / "valid.xyz"), "--out", str(out)]
    assert main(args + ["--epochs", "2", "--batch-size", "3", "--seed", "1", "--hypers", *TINY_HYPERS]) == 0
    text = capsys.readouterr().out
    assert "epoch    1" in text and "epoch    2" in text and "meV/atom" in text
    assert {"best.pt", "last.pt", "log.tsv", "config.json"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "config.json").read_text())["hypers"]["d_model"] == 8
    state = torch.load(out / "last.pt", weights_only=True)
    assert state["epoch"] == 2 and "state" in state["optimizer"]

    assert main(args + ["--resume", "--epochs", "3"]) == 0
    text = capsys.readouterr().out
    assert "epochs 3..3" in text and "epoch    3" in text and "epoch    1 " not in text
    assert len((out / "log.tsv").read_text().strip().splitlines()) == 1 + 3
    assert torch.load(out / "last.pt", weights_only=True)["epoch"] == 3

    # --init: a new run from these weights (a fine-tune / warm restart) with a fresh schedule
    tuned = tmp_path / "tuned"
    init_args = ["train", "--train", str(tmp_path / "train.xyz"), "--valid", str(tmp_path / "valid.xyz"),
                 "--out", str(tuned), "--init", str(out), "--epochs", "1", "--lr", "0"]
    assert main(init_args[:-2] + ["--lr", "1e-12"]) == 0
    text = capsys.readouterr().out
    assert "epochs 1..1" in text
    started = torch.load(out / "best.pt", weights_only=True)["state_dict"]
    after = torch.load(tuned / "last.pt", weights_only=True)["model"]["state_dict"]
    assert all(torch.allclose(started[k], after[k], atol=1e-6) for k in started)  # lr ~ 0: the weights stay
    assert main(init_args + ["--resume"]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert main(init_args + ["--hypers", "d_model=16"]) == 2
    assert "--hypers" in capsys.readouterr().err
    assert main(init_args[:-4] + ["--init", str(tmp_path / "missing.pt")]) == 2
    assert "missing.pt" in capsys.readouterr().err

    pot = load_potential(str(out))
    result = pot.compute([water_molecule(seed=40)])
    assert np.isfinite(result.energies).all()
    # the fitted per-species baseline puts energies at the right scale before any training
    labels = read_labelled(tmp_path / "valid.xyz")
    assert abs(pot.compute([labels[0].structure]).energies[0] - labels[0].energy) < 0.1 * abs(labels[0].energy) + 5.0


def test_train_cli_errors(tmp_path, capsys):
    write_labelled(tmp_path / "t.xyz", [water_molecule(seed=1)])
    args = ["train", "--train", str(tmp_path / "t.xyz"), "--valid", str(tmp_path / "t.xyz"), "--out", str(tmp_path / "m")]
    assert main(args + ["--resume"]) == 2
    assert "cannot resume" in capsys.readouterr().err
    assert main(args + ["--hypers", "d_model"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(args + ["--hypers", "d_model=10", "n_heads=4"]) == 2
    assert "multiple of n_heads" in capsys.readouterr().err


def test_refit_baseline_removes_a_constant_offset_per_atom():
    from symbreak.training.train import build_model, refit_baseline

    structures = [water_box(seed=50 + k) for k in range(3)]
    labels = ToyWater().invariant_part(structures)
    data = [Labelled(s, float(e), f) for s, e, f in zip(structures, labels.energies, labels.forces)]
    model = build_model(TrainConfig(hypers=dict(d_model=8, n_heads=2, n_blocks=1, n_layers=1, d_feedforward=16, n_radial=4)), data)
    with torch.no_grad():
        model.baseline += 0.05  # an offset of 50 meV per atom
    shift = refit_baseline(model, data)
    composition = np.array([16, 8])  # 8 molecules: 16 H and 8 O (baseline order: species sorted)
    assert shift @ composition == pytest.approx(-0.05 * 24, abs=1e-3)


def test_device_option(tmp_path, capsys):
    """--device: cpu trains as before; an unknown or absent device is one line; cuda runs where a GPU is."""
    write_labelled(tmp_path / "t.xyz", [water_box(seed=60), water_molecule(seed=61)])
    args = ["train", "--train", str(tmp_path / "t.xyz"), "--valid", str(tmp_path / "t.xyz"), "--epochs", "1",
            "--hypers", *TINY_HYPERS]
    assert main(args + ["--out", str(tmp_path / "cpu"), "--device", "cpu"]) == 0
    assert "1 thread(s)" in capsys.readouterr().out
    assert main(args + ["--out", str(tmp_path / "bad"), "--device", "tpu9"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--device" in err and len(err.splitlines()) == 1
    if not torch.cuda.is_available():
        assert main(args + ["--out", str(tmp_path / "gpu"), "--device", "cuda"]) == 2
        assert "no usable CUDA" in capsys.readouterr().err
        return
    assert main(args + ["--out", str(tmp_path / "gpu"), "--device", "cuda"]) == 0
    assert "device cuda" in capsys.readouterr().out
    # the checkpoint loads on the CPU and gives what the GPU model gave to float32 precision
    pot = load_potential(str(tmp_path / "gpu"))
    assert np.isfinite(pot.compute([water_molecule(seed=62)]).energies).all()


def test_train_cli_refits_the_readout(tmp_path, capsys):
    train = [water_box(seed=40 + k) for k in range(3)] + [water_molecule(seed=50 + k) for k in range(2)]
    write_labelled(tmp_path / "train.xyz", train)
    write_labelled(tmp_path / "valid.xyz", [water_box(seed=60)])
    out = tmp_path / "model"
    args = ["train", "--train", str(tmp_path / "train.xyz"), "--valid", str(tmp_path / "valid.xyz"), "--out", str(out)]
    assert main(args + ["--epochs", "1", "--batch-size", "5", "--hypers", *TINY_HYPERS]) == 0
    capsys.readouterr()
    assert main(args + ["--resume", "--refit-readout", "2"]) == 0  # a finished run: only the refit
    text = capsys.readouterr().out
    assert "no epoch left (done: 1 of --epochs 1)" in text
    assert "readout refit" in text and "energies of 5 structures, forces of 2" in text
    from symbreak.potentials.pet_checkpoint import load_checkpoint

    _, metadata = load_checkpoint(out / "best.pt")
    fit = metadata["readout_refit"]
    assert fit["force_frames"] == 2 and fit["loss_after"] <= fit["loss_before"]
    assert main(args + ["--resume", "--refit-readout", "2", "--readout-rotation-weight", "100"]) == 0
    assert "energy over 8 orientations" in capsys.readouterr().out
    assert load_checkpoint(out / "best.pt")[1]["readout_refit"]["rotation_copies"] == 8
    assert main(args + ["--resume", "--refit-readout", "-1"]) == 2
    assert "--refit-readout must be >= 0" in capsys.readouterr().err
    assert main(args + ["--resume", "--refit-readout", "2", "--readout-rotation-weight", "1", "--readout-rotations", "1"]) == 2
    assert "--readout-rotations >= 2" in capsys.readouterr().err
