"""Space groups by tolerance (spglib) and the symmetrized crystal: known answers on GenIce's ordered ice."""

import numpy as np
import pytest
from symbreak.core.errors import InputError
from symbreak.core.structure import Structure

pytest.importorskip("spglib", reason="space groups need spglib (pip install 'symbreak[ice]')")
pytest.importorskip("genice2", reason="ice polymorphs need GenIce (pip install 'symbreak[ice]')")

from symbreak.structures.polymorphs import ice_polymorph  # noqa: E402
from symbreak.symmetry.space_group import TOLERANCES, space_group, space_group_scan, symmetrized  # noqa: E402


def test_the_built_ordered_crystals_have_their_group_at_every_tolerance():
    ii = space_group_scan(ice_polymorph("II"))
    assert ii.numbers == (148,) * len(TOLERANCES) and ii.symbols[0] == "R-3 (148)"  # ice II is R-3
    assert ii.lost_at(148) is None and ii.rms_displacement < 1e-10


def test_a_perturbation_loses_the_group_at_its_size_and_symmetrizing_restores_it():
    crystal = ice_polymorph("II")
    rng = np.random.default_rng(0)
    shaken = Structure(crystal.positions + rng.normal(scale=0.003, size=crystal.positions.shape), crystal.numbers,
                       crystal.cell)
    scan = space_group_scan(shaken)
    assert scan.numbers[0] == 148 and scan.lost_at(148) == pytest.approx(1e-2)  # found at 0.1 A, lost at 0.01 A
    assert 0.002 < scan.rms_displacement < 0.01  # about the perturbation (3 mA per component)
    restored = symmetrized(shaken, 1e-1)
    assert space_group(restored, 1e-5)[0] == 148
    # the cell is kept, and a rotated frame does not change the group (spglib works in the crystal's own frame)
    assert np.array_equal(restored.cell, crystal.cell)
    turn = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))[0]
    turn *= np.sign(np.linalg.det(turn))
    assert space_group(Structure(crystal.positions @ turn.T, crystal.numbers, crystal.cell @ turn.T), 1e-5)[0] == 148


def test_an_isolated_structure_has_no_space_group():
    with pytest.raises(InputError, match="periodic"):
        space_group(Structure(np.zeros((3, 3)), np.array([8, 1, 1]), None), 1e-3)


def test_no_rms_from_symmetry_where_no_symmetry_is_left():
    """A structure shaken far beyond 0.1 A is P1 at every tolerance: its distance from 'the symmetrized structure'
    (itself) is not a measurement, so rms_from_symmetry is None while the raw number is ~0."""
    crystal = ice_polymorph("II")
    rng = np.random.default_rng(1)
    shaken = Structure(crystal.positions + rng.normal(scale=0.3, size=crystal.positions.shape), crystal.numbers,
                       crystal.cell)
    scan = space_group_scan(shaken)
    assert set(scan.numbers) == {1} and scan.rms_displacement < 1e-10 and scan.rms_from_symmetry is None
    assert space_group_scan(crystal).rms_from_symmetry == space_group_scan(crystal).rms_displacement
