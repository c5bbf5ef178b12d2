"""Ice polymorphs from GenIce: ice rules, geometry, densities, seeds, repeats; `symbreak build ice --polymorph`."""

import numpy as np
import pytest
from symbreak.core.errors import InputError
from symbreak.core.structure import minimum_image
from symbreak.core.water import R_OH_EQ, THETA_EQ
from symbreak.structures import ice_rule_violations, read_structures

pytest.importorskip("genice2", reason="ice polymorphs need GenIce (pip install 'symbreak[ice]')")

from symbreak.structures.polymorphs import POLYMORPHS, density_of, ice_polymorph, polymorph, polymorph_molecules  # noqa: E402

#: measured densities of the crystals as GenIce builds them (g/cm^3)
DENSITIES = {"Ih": 0.92, "Ic": 0.92, "II": 1.18, "III": 1.17, "V": 1.24, "VI": 1.37, "VII": 1.60, "XI": 0.93}


def _molecules(s):
    return s.positions.reshape(-1, 3, 3)


@pytest.mark.parametrize("name", list(POLYMORPHS))
def test_polymorph_obeys_ice_rules_with_the_qtip4pf_molecule(name):
    s = ice_polymorph(name, (1, 2, 1), seed=3)
    n = polymorph_molecules(name, (1, 2, 1))
    assert s.n_atoms == 3 * n and list(s.numbers[:3]) == [8, 1, 1]
    assert ice_rule_violations(s) == 0
    mol = _molecules(s)
    oh = mol[:, 1:] - mol[:, :1]  # whole molecules: no minimum image needed
    assert np.allclose(np.linalg.norm(oh, axis=-1), R_OH_EQ, atol=1e-9)
    cos = np.einsum("ij,ij->i", oh[:, 0], oh[:, 1]) / R_OH_EQ**2
    assert np.allclose(np.degrees(np.arccos(cos)), THETA_EQ, atol=1e-6)
    # oxygens inside the cell; each O has 4 hydrogen-bonded neighbours at 2.6-3.0 A
    frac = mol[:, 0] @ np.linalg.inv(s.cell)
    assert np.all((frac >= -1e-9) & (frac < 1 + 1e-9))
    assert density_of(s) == pytest.approx(DENSITIES[name], abs=0.01)


@pytest.mark.parametrize("name", list(POLYMORPHS))
def test_net_dipole_is_small(name):
    # GenIce zeroes the hydrogen-bond network's dipole; the q-TIP4P/F molecule on the bisector leaves
    # a residue where bond angles are far from tetrahedral (III, V, VI: 1-4 % of a polar crystal's)
    s = ice_polymorph(name, (2, 2, 2), seed=1)
    mol = _molecules(s)
    net = np.linalg.norm((mol[:, 1:] - mol[:, :1]).sum(axis=(0, 1)))
    assert net < 0.05 * 2 * R_OH_EQ * len(mol)


def test_disordered_phases_change_with_the_seed_ordered_ones_do_not():
    for name in ("Ih", "III", "VI", "VII"):
        a, b = ice_polymorph(name, (2, 2, 2), seed=1), ice_polymorph(name, (2, 2, 2), seed=2)
        assert np.allclose(a.positions[0::3], b.positions[0::3])
        assert not np.allclose(a.positions, b.positions), name
    for name in ("II", "XI"):
        a, b = ice_polymorph(name, seed=1), ice_polymorph(name, seed=2)
        assert np.allclose(a.positions, b.positions)
    again = ice_polymorph("V", seed=7)
    assert np.array_equal(again.positions, ice_polymorph("V", seed=7).positions)


def test_building_ice_leaves_numpys_global_random_state_alone():
    np.random.seed(5)
    expected = np.random.rand(3)
    np.random.seed(5)
    ice_polymorph("Ic", seed=9)
    assert np.array_equal(np.random.rand(3), expected)


def test_density_scales_the_cell_isotropically():
    a = ice_polymorph("III", seed=1)
    b = ice_polymorph("III", seed=1, density=1.2)
    assert density_of(b) == pytest.approx(1.2, rel=1e-12)
    scale = np.linalg.norm(b.cell, axis=1) / np.linalg.norm(a.cell, axis=1)
    assert np.allclose(scale, scale[0])
    # the molecules keep their geometry: only the oxygens move with the cell
    oh_a, oh_b = _molecules(a)[:, 1:] - _molecules(a)[:, :1], _molecules(b)[:, 1:] - _molecules(b)[:, :1]
    assert np.allclose(oh_a, oh_b)
    # density_scale: relative to the crystal's own density, the same cell as the absolute density it means
    c = ice_polymorph("III", seed=1, density_scale=1.2 / density_of(a))
    assert np.allclose(c.cell, b.cell, rtol=1e-12) and np.allclose(c.positions, b.positions, rtol=1e-12)
    assert density_of(ice_polymorph("III", seed=1, density_scale=0.98)) == pytest.approx(0.98 * density_of(a), rel=1e-12)


def test_bad_input_is_one_line():
    with pytest.raises(InputError, match="unknown ice polymorph 'X'.*Ih, Ic, II"):
        polymorph("X")
    assert polymorph("vii").name == "VII"
    with pytest.raises(InputError, match="repeats"):
        ice_polymorph("Ih", (0, 1, 1))
    with pytest.raises(InputError, match="at most"):
        ice_polymorph("V", (9, 9, 9))
    with pytest.raises(InputError, match="density"):
        ice_polymorph("Ih", density=-1)
    with pytest.raises(InputError, match="density_scale"):
        ice_polymorph("Ih", density_scale=0)
    with pytest.raises(InputError, match="not both"):
        ice_polymorph("Ih", density=0.9, density_scale=1.0)


def test_ice_rule_checker_catches_a_turned_molecule():
    s = ice_polymorph("VII", (2, 2, 2), seed=0)
    mol = _molecules(s).copy()
    mol[0, 1:] = mol[0, 0] - (mol[0, 1:] - mol[0, 0])  # molecule 0 donates the other way
    from symbreak.core.structure import Structure

    assert ice_rule_violations(Structure(mol.reshape(-1, 3), s.numbers, s.cell)) > 0
    # the checker's minimum image works in GenIce's non-orthogonal cells (II is rhombohedral)
    ii = ice_polymorph("II", (2, 2, 2))
    assert abs(ii.cell[1, 0]) > 1.0 and ice_rule_violations(ii) == 0
    d = minimum_image(ii.positions[3] - ii.positions[0], ii.cell)
    assert np.linalg.norm(d) < np.linalg.norm(ii.cell, axis=1).min()


def test_build_cli_polymorph(tmp_path, capsys):
    from symbreak.cli import main

    out = tmp_path / "ice6.xyz"
    assert main(["build", "ice", "--polymorph", "VI", "--repeats", "2", "2", "1", "--seed", "4", "-o", str(out)]) == 0
    s = read_structures(str(out))[0]
    assert s.n_atoms == 3 * 40 and ice_rule_violations(s) == 0
    assert np.allclose(s.positions, ice_polymorph("VI", (2, 2, 1), seed=4).positions, atol=1e-6)
    assert "40 molecules of ice VI" in capsys.readouterr().out
    assert main(["build", "ice", "--polymorph", "XI", "-o", str(out)]) == 0
    assert "proton-ordered" in capsys.readouterr().out
    assert main(["build", "ice", "--polymorph", "II", "--density", "1.3", "-o", str(out)]) == 0
    assert density_of(read_structures(str(out))[0]) == pytest.approx(1.3, rel=1e-6)
    capsys.readouterr()
    for bad, message in ((["ice", "--polymorph", "X"], "unknown ice polymorph"),
                         (["liquid", "--polymorph", "Ih"], "--polymorph is for"),
                         (["ice", "--density", "1.0"], "needs --polymorph"),
                         (["ice", "--polymorph", "V", "--repeats", "9", "9", "9"], "at most")):
        assert main(["build", *bad, "-o", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1
