"""Evaluation: model and symmetry errors per strategy, reference grid choice, CLI JSON shape.

    pytest tests/training/test_evaluate.py -q
"""

import json

import numpy as np
import pytest
import torch
from symbreak.cli import main
from symbreak.core.errors import InputError
from symbreak.potentials import Evaluation, Potential, pet_checkpoint
from symbreak.potentials.pet import PETHypers, PETModel
from symbreak.potentials.testing import water_box, water_molecule
from symbreak.potentials.toy import ToyWater
from symbreak.training.evaluate import (
    STRATEGY_KEYS,
    evaluate_model,
    format_table,
    parse_frame_selection,
    reference_strategy,
    report_json,
    select_frames,
)
from symbreak.training.data import Labelled

torch.set_num_threads(1)


def labelled(structures):
    ref = ToyWater().invariant_part(structures)
    return [Labelled(s, float(e), f) for s, e, f in zip(structures, ref.energies, ref.forces)]


def test_reference_is_largest_grid():
    assert reference_strategy(["plain", "i", "2", "2i", "3i"]) == "3i"
    assert reference_strategy(["2i", "lebedev:5", "random:3"]) == "lebedev:5"  # 70 rotations > 36
    assert reference_strategy(["plain", "random:1"]) is None
    with pytest.raises(ValueError, match="correction"):
        reference_strategy(["plain", "delta:2i"])


def test_toy_model_errors_and_symmetry_errors():
    data = labelled([water_box(seed=1), water_molecule(seed=2)])
    report = evaluate_model(ToyWater(), data, ["plain", "i", "2i", "3i"])
    s = report["strategies"]
    assert report["reference_strategy"] == "3i"
    assert s["3i"]["symmetry_energy_mae_per_atom"] == 0.0 and s["3i"]["symmetry_force_mae"] == 0.0
    # labels are the toy's invariant part: the model error shrinks as the grid grows
    assert s["plain"]["energy_mae_per_atom"] > s["2i"]["energy_mae_per_atom"] > s["3i"]["energy_mae_per_atom"]
    assert s["plain"]["symmetry_force_mae"] > s["2i"]["symmetry_force_mae"] > 0.0
    spread = report["rotational_spread"]
    assert spread is not None and spread["energy"] > 0
    doc = report_json(report)
    assert set(doc) == {"n_structures", "reference_force_std", "strategies"}
    assert all(tuple(v) == STRATEGY_KEYS for v in doc["strategies"].values())
    assert "3i" in format_table(report)


class _Identity(Potential):
    """A stand-in wrapper honouring the parse_strategy contract: returns the wrapped potential's results."""

    def __init__(self, base):
        self.base = base

    def compute(self, structures):
        out = self.base.compute(structures)
        return Evaluation(out.energies, out.forces, out.virials)


def test_stand_in_strategies_contract():
    data = labelled([water_molecule(seed=3)])
    report = evaluate_model(
        ToyWater(), data, ["plain", "big"], parse=lambda spec, pot: _Identity(pot), sizes=lambda spec: 5 if spec == "big" else None
    )
    assert report["reference_strategy"] == "big"
    assert report["strategies"]["plain"]["symmetry_force_mae"] == 0.0
    assert report["rotational_spread"] is None


def test_evaluate_cli_json(tmp_path, capsys):
    import ase.io

    data = labelled([water_box(seed=4), water_molecule(seed=5)])
    frames = []
    for d in data:
        atoms = d.structure.to_atoms()
        atoms.info["energy"] = d.energy
        atoms.arrays["forces"] = d.forces
        frames.append(atoms)
    ase.io.write(tmp_path / "test.xyz", frames, format="extxyz")
    torch.manual_seed(0)
    model = PETModel(PETHypers(d_model=8, n_heads=2, n_blocks=1, d_feedforward=16, n_radial=4))
    pet_checkpoint.save_model(tmp_path / "m" / "best.pt", model)
    args = ["evaluate", "--model", str(tmp_path / "m"), "--data", str(tmp_path / "test.xyz"), "--strategies", "plain,i,2"]
    assert main(args + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"n_structures", "reference_force_std", "strategies"} and doc["n_structures"] == 2
    assert list(doc["strategies"]) == ["plain", "i", "2"]
    for entry in doc["strategies"].values():
        assert tuple(entry) == STRATEGY_KEYS and all(np.isfinite(v) for v in entry.values())
    assert doc["strategies"]["2"]["symmetry_energy_mae_per_atom"] == 0.0
    assert doc["strategies"]["plain"]["symmetry_force_mae"] > 0.0  # an untrained model is far from invariant
    assert main(args) == 0
    assert "rotational spread over 2" in capsys.readouterr().out
    assert main(args + ["--strategies", "plain,nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_select_frames_by_source_and_index():
    data = [Labelled(water_molecule(seed=k), 0.0, np.zeros((3, 3)), source=src)
            for k, src in enumerate(["ice", "liquid", "ice", "liquid", None])]
    assert [d.structure for d in select_frames(data, ["ice"])] == [data[0].structure, data[2].structure]
    assert select_frames(data, None, parse_frame_selection("1:5:2")) == [data[1], data[3]]
    assert select_frames(data, ["liquid"], parse_frame_selection("0,1,2")) == [data[1]]
    assert parse_frame_selection("::3") == slice(None, None, 3) and parse_frame_selection("4") == [4]
    for bad, message in [(lambda: select_frames(data, ["gas"]), "labels no frame; the data's sources: ice, liquid"),
                         (lambda: select_frames(data, None, [7]), "index 7 is past the 5 frames"),
                         (lambda: select_frames(data, ["ice"], slice(4, 5)), "keeps no frame"),
                         (lambda: parse_frame_selection("a:b"), "START:STOP")]:
        with pytest.raises(InputError, match=message):
            bad()


def test_evaluate_cli_source_filter(tmp_path, capsys):
    import ase.io

    frames = []
    for k, d in enumerate(labelled([water_box(seed=4), water_molecule(seed=5), water_molecule(seed=6)])):
        atoms = d.structure.to_atoms()
        atoms.info.update(energy=d.energy, source="box" if k == 0 else "molecule")
        atoms.arrays["forces"] = d.forces
        frames.append(atoms)
    ase.io.write(tmp_path / "test.xyz", frames, format="extxyz")
    args = ["evaluate", "--model", "toy", "--data", str(tmp_path / "test.xyz"), "--strategies", "plain,2", "--json"]
    assert main(args + ["--source", "molecule", "--frames", "1:"]) == 0
    assert json.loads(capsys.readouterr().out)["n_structures"] == 2
    assert main(args + ["--source", "nothing"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "labels no frame" in err


def test_angular_orders_find_the_order_that_breaks_the_symmetry():
    from symbreak.potentials import load_potential
    from symbreak.training.evaluate import angular_orders, format_orders

    data = labelled([water_molecule(seed=6), water_molecule(seed=7)])
    # a_2 P_2(u . n) alone: the whole rotational variance of the energy is in l = 2, parity even
    quadrupole = angular_orders(load_potential("toy", dipole_amplitudes={2: 0.01}, bond_amplitudes={}), data, l_max=2)
    assert quadrupole["grid"] == "3i"
    assert quadrupole["energy"]["shares"] == pytest.approx([0.0, 0.0, 1.0], abs=1e-9)
    assert quadrupole["energy"]["odd"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    assert quadrupole["energy"]["unresolved"] == pytest.approx(0.0, abs=1e-9)
    # a_1 P_1(u . n): order 1, all of it parity-odd
    dipole = angular_orders(load_potential("toy", dipole_amplitudes={1: 0.01}, bond_amplitudes={}), data, l_max=2)
    assert dipole["energy"]["shares"] == pytest.approx([0.0, 1.0, 0.0], abs=1e-9)
    assert dipole["energy"]["odd"][1] == pytest.approx(1.0, abs=1e-9)
    for orders in (quadrupole, dipole):
        f = orders["force"]
        assert sum(f["shares"]) + f["unresolved"] == pytest.approx(1.0, abs=1e-9) and f["variance"] > 0
    assert "l=2 100.0 %" in format_orders(quadrupole)
    with pytest.raises(InputError, match="--orders must be >= 1"):
        angular_orders(ToyWater(), data, l_max=0)


def test_evaluate_cli_orders(tmp_path, capsys):
    import ase.io

    data = labelled([water_molecule(seed=8)])
    atoms = data[0].structure.to_atoms()
    atoms.info["energy"] = data[0].energy
    atoms.arrays["forces"] = data[0].forces
    ase.io.write(tmp_path / "one.xyz", [atoms], format="extxyz")
    args = ["evaluate", "--model", "toy", "--data", str(tmp_path / "one.xyz"), "--strategies", "plain,2i"]
    assert main(args + ["--orders", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["angular_orders"]["grid"] == "2i" and len(doc["angular_orders"]["energy"]["shares"]) == 2
    assert main(args + ["--orders", "1"]) == 0
    assert "symmetry error of plain by angular order" in capsys.readouterr().out
    assert main(args + ["--orders", "0"]) == 2
    assert "--orders must be >= 1" in capsys.readouterr().err
