"""Water builders: molecule, liquid box, proton-disordered ice Ih; i-PI xyz round trips; `symbreak build`."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from symbreak.potentials.base import Structure
from symbreak.structures import (
    box_length,
    ice_ih,
    ice_rule_violations,
    liquid_box,
    molecule,
    read_structures,
    write_ipi_xyz,
)
from symbreak.structures.io import rows_to_abc, standard_frame


def _mic(d, cell):
    f = d @ np.linalg.inv(cell)
    return (f - np.round(f)) @ cell


@pytest.mark.parametrize("repeats,seed", [((3, 2, 2), 0), ((2, 2, 2), 1), ((4, 3, 3), 2)])
def test_ice_obeys_ice_rules(repeats, seed):
    s = ice_ih(repeats, seed=seed)
    n = 8 * np.prod(repeats)
    assert s.n_atoms == 3 * n and list(s.numbers[:3]) == [8, 1, 1]
    assert ice_rule_violations(s) == 0
    o, h = s.positions[0::3], s.positions[s.numbers == 1]
    # each O has exactly 2 H within 1.1 A, and they are its own (O,H,H order)
    r_oh = np.linalg.norm(_mic(h[None] - o[:, None], s.cell), axis=-1)
    assert np.all((r_oh < 1.1).sum(axis=1) == 2)
    assert np.all(r_oh[np.arange(n), 2 * np.arange(n)] < 1.1)
    # every H-bond O...O (4 per O, ~2.75 A) has exactly one H between its ends
    d = _mic(o[None] - o[:, None], s.cell)
    r_oo = np.linalg.norm(d, axis=-1)
    bonded = (r_oo > 0.1) & (r_oo < 3.2)
    assert np.all(bonded.sum(axis=1) == 4)
    assert np.allclose(r_oo[bonded], 2.75, atol=0.02)
    # zero net dipole (sum of O->H vectors)
    oh = _mic(s.positions.reshape(-1, 3, 3)[:, 1:] - s.positions.reshape(-1, 3, 3)[:, :1], s.cell)
    assert np.linalg.norm(oh.sum(axis=(0, 1))) < 1e-6


def test_ice_seeds_give_different_proton_patterns():
    a, b = ice_ih((3, 2, 2), seed=0), ice_ih((3, 2, 2), seed=1)
    assert np.allclose(a.positions[0::3], b.positions[0::3])
    assert not np.allclose(a.positions, b.positions)


def test_ice_rule_checker_catches_a_broken_rule():
    s = ice_ih((2, 2, 2), seed=0)
    pos = s.positions.copy()
    mol = pos.reshape(-1, 3, 3)
    mol[0, 1] = mol[0, 0] - (mol[0, 1] - mol[0, 0])  # point one H of molecule 0 the other way
    assert ice_rule_violations(Structure(pos, s.numbers, s.cell)) > 0


def test_liquid_box_density_and_spacing():
    s = liquid_box(64, density=0.997, seed=3, min_oo=2.5)
    length = box_length(64, 0.997)
    assert np.allclose(s.cell, np.eye(3) * length)
    mass = 64 * 18.01528 / 6.02214076e23
    assert mass / (length * 1e-8) ** 3 == pytest.approx(0.997, rel=1e-6)
    o = s.positions[0::3]
    r = np.linalg.norm(_mic(o[None] - o[:, None], s.cell), axis=-1) + 10 * np.eye(64)
    assert r.min() >= 2.5
    with pytest.raises(ValueError, match="could not place"):
        liquid_box(64, density=2.5, min_oo=3.0, max_tries=2000)


def test_molecule_geometry():
    s = molecule(seed=4)
    d1, d2 = s.positions[1] - s.positions[0], s.positions[2] - s.positions[0]
    assert np.linalg.norm(d1) == pytest.approx(0.9419) and np.linalg.norm(d2) == pytest.approx(0.9419)
    assert np.degrees(np.arccos(d1 @ d2 / 0.9419**2)) == pytest.approx(107.4)
    assert s.cell is None


def test_ipi_xyz_round_trip_of_a_rotated_triclinic_cell(tmp_path, water_box_triclinic):
    s = water_box_triclinic.rotated(Rotation.random(random_state=2).as_matrix())
    path = str(tmp_path / "x.xyz")
    write_ipi_xyz(path, s)
    back = read_structures(path)[0]
    assert np.allclose(rows_to_abc(back.cell), rows_to_abc(s.cell), atol=1e-8)
    assert np.allclose(back.cell, np.tril(back.cell))  # i-PI's frame: a along x, b in xy
    # same structure up to a rotation and lattice translations: compare O-H and O-O geometry
    ref = standard_frame(s)
    d_ref = _mic(ref.positions[None] - ref.positions[:, None], ref.cell)
    d_back = _mic(back.positions[None] - back.positions[:, None], back.cell)
    assert np.allclose(np.linalg.norm(d_ref, axis=-1), np.linalg.norm(d_back, axis=-1), atol=1e-8)
    # molecules written whole
    mol = back.positions.reshape(-1, 3, 3)
    assert np.linalg.norm(mol[:, 1:] - mol[:, :1], axis=-1).max() < 1.2


def test_ipi_reads_our_files(tmp_path):
    from ipi.utils.io import read_file

    s = ice_ih((2, 2, 2), seed=0)
    path = str(tmp_path / "ice.xyz")
    write_ipi_xyz(path, s)
    with open(path) as fh:
        frame = read_file("xyz", fh)
    bohr = 0.529177210903
    assert np.allclose(frame["cell"].h * bohr, s.cell.T, atol=1e-6)
    assert np.allclose(frame["atoms"].q.reshape(-1, 3) * bohr, read_structures(path)[0].positions, atol=1e-6)


def test_build_cli(tmp_path):
    from symbreak.cli import main

    for args in (["molecule"], ["liquid", "--molecules", "16", "--density", "0.9"], ["ice", "--repeats", "2", "2", "2"]):
        out = tmp_path / f"{args[0]}.xyz"
        assert main(["build", *args, "-o", str(out)]) == 0
        s = read_structures(str(out))[0]
        assert list(s.numbers[:3]) == [8, 1, 1] and s.cell is not None
    assert main(["build", "liquid", "--molecules", "64", "--density", "3", "--min-oo", "3", "-o", str(out)]) == 2
