"""probe_system on toy waters with one anisotropic term: every number has a known answer.

On one molecule the toy's term E_l = a P_l(u . n) (u the dipole axis, n a fixed lab
vector) is, as a function of the rotation g of the molecule, pure angular order l
with parity (-1)^l. So:

- its O(3) average is zero: the 3i reference (degree 4 and inversion) returns the
  invariant part exactly for l <= 3 (l <= 4 by degree, odd l by inversion), and the
  plain symmetry error is |E_l| and the mean |F_l| of the term itself;
- a grid of degree d cancels l <= d: ``2`` (the proper half of 2i, Legendre order 2,
  degree 2) removes l = 1, 2 but not l = 3; ``i`` (identity and inversion, degree 0)
  removes exactly the parity-odd orders l = 1, 3; ``2i`` removes l <= 3;
- its rotational variance is a^2 / (2l + 1) (addition theorem), all of it in order l,
  parity-odd for odd l;
- an invariant energy exerts no net torque; the anisotropic term does (it depends on
  the orientation). The toy depends on intramolecular vectors only: no net force.
"""

import math

import numpy as np
import pytest
from symbreak.audit.probe import probe_system
from symbreak.audit.results import AUDITED_STRATEGIES

from .conftest import AMPLITUDE, toy

#: |error| of a strategy that cancels the term exactly: float64 roundoff (meV, meV/A)
EXACT = 1e-9
A_MEV = 1e3 * AMPLITUDE


def anisotropic(name, molecule):
    """(|E_l| in meV, mean |F_l| in meV/A) of the toy's anisotropic term alone: the exact plain error."""
    part = toy(name).anisotropic_part([molecule.structure])
    return 1e3 * abs(float(part.energies[0])), 1e3 * float(np.mean(np.abs(part.forces[0])))


def test_invariant_toy_is_invariant_with_no_error_no_shares_no_torque(toy_probe):
    """Both amplitude dicts empty: invariant, every strategy at roundoff, no angular structure, no net force or torque."""
    p = toy_probe("invariant")
    assert p.invariant
    assert p.system == "molecule" and p.n_atoms == 3 and p.n_molecules == 1 and not p.periodic
    for strategy in AUDITED_STRATEGIES:
        e = p.error(strategy)
        assert e.energy_meV_per_molecule < EXACT and e.force_mae_meV_per_A < EXACT, strategy
    assert p.energy_spread_meV_per_molecule < EXACT and p.force_spread_meV_per_A < EXACT
    for orders in (p.energy_orders, p.force_orders):
        assert orders.dominant_order() is None
        assert max(orders.shares) == 0.0 and max(orders.odd) == 0.0 and orders.unresolved == 0.0
    assert p.net_torque_eV < 1e-12
    assert p.net_force_eV_per_A < 1e-12


def test_probe_counts_the_evaluations_of_every_grid(toy_probe):
    """1 (plain) + 2 (i) + 36 (2i) + 150 (3i) = 189 with l_max 2 (3i reused); l_max 3 adds 4i = 2 x 7 x 4 x 7 = 392."""
    assert toy_probe("l2", 2).evaluations == 189
    assert toy_probe("l2", 2).energy_orders.grid == "3i"
    assert toy_probe("l2", 3).evaluations == 189 + 392
    assert toy_probe("l2", 3).energy_orders.grid == "4i"
    counts = {e.strategy: e.evaluations for e in toy_probe("l2").errors}
    assert counts == {"plain": 1, "i": 2, "2": 18, "2i": 36}


def test_l2_term_is_all_in_order_2_and_removed_by_the_degree_2_grids(toy_probe, molecule):
    """Only a_2: > 99.9 % of the E and F variance in l = 2, parity-even; plain errs by exactly the term,
    i (inversion) does not help an even term, 2 and 2i remove it to roundoff."""
    for l_max in (2, 3):
        p = toy_probe("l2", l_max)
        assert not p.invariant
        for orders in (p.energy_orders, p.force_orders):
            assert orders.dominant_order() == 2
            assert orders.shares[2] > 0.999
            assert orders.odd[2] < 1e-9
            assert orders.unresolved < 1e-9
    p = toy_probe("l2")
    energy, force = anisotropic("l2", molecule)
    plain = p.error("plain")
    assert plain.energy_meV_per_molecule == pytest.approx(energy, rel=1e-9)
    assert plain.force_mae_meV_per_A == pytest.approx(force, rel=1e-9)
    assert plain.force_mae_meV_per_A > 1.0
    # P_2(-x) = P_2(x): averaging over the inversion leaves the term as it is
    assert p.error("i").energy_meV_per_molecule == pytest.approx(plain.energy_meV_per_molecule, rel=1e-9)
    assert p.error("i").force_mae_meV_per_A == pytest.approx(plain.force_mae_meV_per_A, rel=1e-9)
    for strategy in ("2", "2i"):
        assert p.error(strategy).energy_meV_per_molecule < EXACT
        assert p.error(strategy).force_mae_meV_per_A < EXACT


def test_l2_variance_and_spread_are_a_squared_over_5(toy_probe):
    """Rotational variance of a P_2(u . n) over O(3) is a^2/5 (meV^2): the Legendre grids integrate it exactly."""
    for l_max in (2, 3):
        assert toy_probe("l2", l_max).energy_orders.variance == pytest.approx(A_MEV**2 / 5, rel=1e-9)
    assert toy_probe("l2").energy_spread_meV_per_molecule == pytest.approx(A_MEV / math.sqrt(5), rel=1e-9)


def test_l1_term_is_parity_odd_order_1_and_inversion_removes_it(toy_probe, molecule):
    """Only a_1: the variance a^2/3 is all in l = 1 and all parity-odd; i removes it exactly (P_1 is odd)."""
    p = toy_probe("l1")
    for orders in (p.energy_orders, p.force_orders):
        assert orders.dominant_order() == 1
        assert orders.shares[1] > 0.999
        assert orders.odd[1] == pytest.approx(orders.shares[1], rel=1e-9)
    assert p.energy_orders.variance == pytest.approx(A_MEV**2 / 3, rel=1e-9)
    energy, force = anisotropic("l1", molecule)
    assert p.error("plain").energy_meV_per_molecule == pytest.approx(energy, rel=1e-9)
    assert p.error("plain").force_mae_meV_per_A == pytest.approx(force, rel=1e-9)
    assert p.error("plain").force_mae_meV_per_A > 1.0
    for strategy in ("i", "2", "2i"):
        assert p.error(strategy).energy_meV_per_molecule < EXACT, strategy
        assert p.error(strategy).force_mae_meV_per_A < EXACT, strategy


def test_l3_term_survives_degree_2_but_not_inversion(toy_probe, molecule):
    """Only a_3 (parity-odd): plain errs by the term; ``2`` (degree 2 < 3) leaves part of it; ``i`` and
    hence ``2i`` remove it to roundoff. With l_max 3 (grid 4i) > 99 % of the variance, a^2/7, is in l = 3, odd."""
    p = toy_probe("l3", 3)
    energy, force = anisotropic("l3", molecule)
    assert p.error("plain").energy_meV_per_molecule == pytest.approx(energy, rel=1e-9)
    assert p.error("plain").force_mae_meV_per_A == pytest.approx(force, rel=1e-9)
    assert p.error("plain").force_mae_meV_per_A > 1.0
    assert p.error("2").force_mae_meV_per_A > 0.1  # measured 2.5 of the plain 5.9 meV/A
    assert p.error("2").energy_meV_per_molecule > 0.1
    for strategy in ("i", "2i"):
        assert p.error(strategy).energy_meV_per_molecule < EXACT, strategy
        assert p.error(strategy).force_mae_meV_per_A < EXACT, strategy
    for orders in (p.energy_orders, p.force_orders):
        assert orders.resolved_l_max == 3
        assert orders.dominant_order() == 3
        assert orders.shares[3] > 0.99
        assert orders.odd[3] == pytest.approx(orders.shares[3], rel=1e-9)
        assert orders.unresolved < 1e-6
    assert p.energy_orders.variance == pytest.approx(A_MEV**2 / 7, rel=1e-9)


def test_l3_term_on_the_l_max_2_grid_is_mostly_unresolved_and_keeps_its_parity(toy_probe):
    """With l_max 2 (grid 3i resolves l <= 2) the l = 3 term cannot be resolved: most of it is reported as
    'unresolved', and what aliases into the resolved orders stays parity-odd (inversion is exact on the grid)."""
    p = toy_probe("l3", 2)
    for orders in (p.energy_orders, p.force_orders):
        assert orders.resolved_l_max == 2
        assert orders.unresolved > 0.5  # measured 0.74 (E) and 0.79 (F)
        for share, odd in zip(orders.shares, orders.odd):
            assert odd == pytest.approx(share, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("name", ["l1", "l2", "l3"])
def test_net_torque_is_nonzero_exactly_when_the_toy_breaks_symmetry(toy_probe, name):
    """An orientation-dependent term exerts a net torque on the molecule (> 1e-3 eV here); the net force stays zero."""
    p = toy_probe(name)
    assert p.net_torque_eV > 1e-3  # measured 4e-3 (l1) to 1.2e-2 (l2) eV
    assert p.net_force_eV_per_A < 1e-12
    assert toy_probe("invariant").net_torque_eV < 1e-12


def test_probe_refuses_l_max_below_1(molecule):
    """l_max 0 would resolve no rotational order: ValueError naming --lmax."""
    with pytest.raises(ValueError, match="--lmax must be >= 1"):
        probe_system(toy("l2"), molecule, l_max=0)
