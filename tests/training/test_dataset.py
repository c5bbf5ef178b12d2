"""`symbreak dataset` machinery: a tiny end-to-end generation (i-PI + fix ipi + labelling)."""

import numpy as np
import pytest

try:
    from symbreak.potentials.lammps_env import new_lammps

    new_lammps().close()
except ImportError as err:  # pragma: no cover - depends on the environment
    pytest.skip(f"LAMMPS unavailable: {err}", allow_module_level=True)

from symbreak.training.dataset import DatasetConfig, RunSpec, generate_dataset


@pytest.mark.slow
def test_tiny_dataset(tmp_path):
    import ase.io

    config = DatasetConfig(
        frames_per_run=3, gas_frames=4, equilibration_steps=10, stride=5, gas_stride=5, relax_steps=20,
        split=(1 / 3, 1 / 3, 1 / 3),
        runs=[RunSpec("liq", "liquid", 300.0, 0.997, nbeads=2, molecules=8, seed=1), RunSpec("gas", "gas", 300.0, molecules=1)],
    )
    summary = generate_dataset(str(tmp_path), config, progress=lambda msg: None)
    assert summary == {"train": 1, "valid": 1, "test": 1, "gas_test": 4}
    for name in ("train", "valid", "test"):
        (atoms,) = ase.io.read(tmp_path / f"{name}.xyz", index=":")
        assert len(atoms) == 24 and atoms.pbc.all() and atoms.info["source"] == "liq"
        assert atoms.get_forces().shape == (24, 3) and np.isfinite(atoms.get_stress()).all()
        assert -1.0 < atoms.get_potential_energy() / 8 < 0.5
    gas = ase.io.read(tmp_path / "gas_test.xyz", index=":")
    assert all(not a.pbc.any() and 0 <= a.get_potential_energy() < 0.5 for a in gas)
    # a second call reuses the finished runs
    assert generate_dataset(str(tmp_path), config, progress=lambda msg: None) == summary


@pytest.mark.slow
def test_polymorph_minima_are_labelled_minima_of_the_built_cells(tmp_path, capsys):
    """Built cells and their q-TIP4P/F minima: lower energy, forces near zero, labelled with source "minima"."""
    import ase.io

    from symbreak.cli import main
    from symbreak.training.data import read_labelled
    from symbreak.training.dataset import polymorph_minima

    path = tmp_path / "minima.xyz"
    count = polymorph_minima(str(path), seeds=(400, 401), densities=(1.0, 1.02), relax_steps=60,
                             repeats={"Ih": (1, 1, 1), "II": (1, 1, 1)}, progress=lambda _: None)
    # Ih: 2 patterns x 2 densities x (built, relaxed); II is proton-ordered: one pattern
    assert count == 8 + 4
    frames, labelled = ase.io.read(path, ":"), read_labelled(path)
    assert {d.source for d in labelled} == {"minima"}
    for k in range(0, count, 2):
        built, relaxed = frames[k].info, frames[k + 1].info
        assert (built["stage"], relaxed["stage"]) == ("built", "relaxed")
        assert built["polymorph"] == relaxed["polymorph"] and built["density_scale"] == relaxed["density_scale"]
        assert labelled[k + 1].energy < labelled[k].energy
        assert np.abs(labelled[k + 1].forces).max() < 0.05 < np.abs(labelled[k].forces).max()
    assert main(["dataset", "--minima"]) == 2
    assert "--output" in capsys.readouterr().err


@pytest.mark.slow
def test_model_minima_are_the_models_minima_labelled_by_the_reference(tmp_path):
    """With a model: one frame per cell, at a minimum of the model's surface (not the reference's), labelled by
    q-TIP4P/F; the labels are the reference's energy and forces there."""
    from symbreak.potentials.qtip4pf import QTIP4PF
    from symbreak.potentials.registry import load_potential
    from symbreak.structures.polymorphs import ice_polymorph
    from symbreak.training.data import read_labelled
    from symbreak.training.dataset import polymorph_minima

    model = load_potential("default", dtype="float64")
    path = tmp_path / "model-minima.xyz"
    count = polymorph_minima(str(path), seeds=(400,), densities=(1.0,), repeats={"Ih": (1, 1, 1)}, model=model,
                             model_steps=40, progress=lambda _: None)
    assert count == 1
    (frame,) = read_labelled(path)
    assert frame.source == "model-minima"
    built = ice_polymorph("Ih", (1, 1, 1), seed=400)
    assert model.compute_one(frame.structure)[0] < model.compute_one(built)[0]
    assert np.abs(model.compute_one(frame.structure)[1]).max() < 0.5 * np.abs(model.compute_one(built)[1]).max()
    e, f, _ = QTIP4PF(kspace_accuracy=1e-6).compute_one(frame.structure)
    assert frame.energy == pytest.approx(e, abs=1e-6) and np.allclose(frame.forces, f, atol=1e-5)
    # not the reference's own minimum (relaxed there to 5 meV/A): the model's minimum is off by tens of meV/A
    assert np.abs(frame.forces).max() > 0.02


def test_dataset_minima_options_reach_the_minima_and_bad_ones_fail_in_one_line(tmp_path, monkeypatch, capsys):
    """`--minima-seeds` chooses the proton patterns of `--minima` (default MINIMA_SEEDS), `--minima-model` the
    surface the cells relax on (into model-minima.xyz); misuse is one line."""
    from symbreak.cli import main
    from symbreak.commands import dataset as command
    from symbreak.training.dataset import MINIMA_SEEDS

    calls = []
    monkeypatch.setattr(command, "polymorph_minima",
                        lambda path, seeds, model=None, **kw: calls.append((path, seeds, type(model).__name__)) or 7)
    assert main(["dataset", "-o", str(tmp_path), "--minima"]) == 0
    assert main(["dataset", "-o", str(tmp_path), "--minima", "--minima-seeds", "402", "403", "404"]) == 0
    assert main(["dataset", "-o", str(tmp_path), "--minima", "--minima-model", "toy"]) == 0
    assert calls == [(str(tmp_path / "minima.xyz"), MINIMA_SEEDS, "NoneType"),
                     (str(tmp_path / "minima.xyz"), (402, 403, 404), "NoneType"),
                     (str(tmp_path / "model-minima.xyz"), MINIMA_SEEDS, "ToyWater")]
    assert "7 frames" in capsys.readouterr().out
    for argv, message in ((["--minima-seeds", "402"], "--minima-seeds goes with --minima"),
                          (["--minima-model", "toy"], "--minima-model goes with --minima"),
                          (["--minima", "--minima-model", str(tmp_path / "nothing.pt")], "nothing.pt"),
                          (["--minima", "--minima-seeds", "402", "402"], "distinct non-negative"),
                          (["--minima", "--minima-seeds", "-1"], "distinct non-negative")):
        assert main(["dataset", "-o", str(tmp_path)] + argv) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert len(calls) == 3
