"""`symbreak label` with any potential spec: the labels are the potential's own numbers."""

import ase.io
import numpy as np
from symbreak.cli import main
from symbreak.potentials import Structure, load_potential
from symbreak.potentials.testing import water_box


def test_label_with_a_potential_spec(tmp_path):
    """--potential toy writes the toy's energies and forces for every frame, with a stress for periodic frames."""
    frames = [water_box(n_per_side=2, seed=k) for k in range(2)]
    source = tmp_path / "frames.xyz"
    ase.io.write(source, [s.to_atoms() for s in frames])
    out = tmp_path / "labelled.xyz"
    assert main(["label", str(source), str(out), "--potential", "toy", "--quiet"]) == 0
    toy = load_potential("toy")
    for atoms, s in zip(ase.io.read(out, index=":"), frames):
        e, f, _ = toy.compute_one(Structure.from_atoms(atoms))
        assert np.isclose(atoms.get_potential_energy(), e, rtol=1e-7)
        np.testing.assert_allclose(atoms.get_forces(), f, atol=1e-6)  # extxyz keeps 8 digits
        assert atoms.get_stress().shape == (6,)


def test_label_refuses_a_bad_spec(tmp_path, capsys):
    """A spec that cannot be loaded is one line and exit 2, before anything is written."""
    source = tmp_path / "frames.xyz"
    ase.io.write(source, water_box(n_per_side=2, seed=0).to_atoms())
    assert main(["label", str(source), str(tmp_path / "out.xyz"), "--potential", "metatomic:missing.pt"]) == 2
    assert "metatomic model file not found" in capsys.readouterr().err
    assert not (tmp_path / "out.xyz").exists()
