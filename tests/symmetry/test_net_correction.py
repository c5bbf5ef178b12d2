"""S+notorque and S+nonetforce: the net force (and torque) of an isolated system removed after any strategy.

The math (metrics.remove_net_force_and_torque) is the least-squares projection
of the forces off the rigid motions; the wrapper keeps the energy, makes the
virial follow the forces, refuses periodic structures for the torque, and an
i-PI run of the toy keeps the molecule's angular momentum.
"""

import numpy as np
import pytest
from symbreak.core.structure import Structure
from symbreak.potentials.base import Potential
from symbreak.potentials.testing import CountingPotential
from symbreak.potentials.toy import ToyWater
from symbreak.symmetry.metrics import (
    centre_of_mass,
    net_torque,
    remove_net_force,
    remove_net_force_and_torque,
)
from symbreak.symmetry.strategies import NetCorrectionStrategy, StrategySpec, parse_strategy, parse_strategy_spec


def cluster(n_molecules=3, seed=4) -> Structure:
    """A few randomly placed and oriented water molecules in vacuum, away from the origin."""
    from symbreak.potentials.testing import water_molecule

    rng = np.random.default_rng(seed)
    parts = [water_molecule(seed=seed + k).positions + 3.2 * rng.standard_normal(3) + 7.0 for k in range(n_molecules)]
    return Structure(np.concatenate(parts), np.tile([8, 1, 1], n_molecules), None)


def brute_force_correction(positions, forces, numbers):
    """The smallest dF (least squares) with sum(F + dF) = 0 and sum (r - R_com) x (F + dF) = 0: -pinv(A) A F."""
    n = len(positions)
    arms = positions - centre_of_mass(positions, numbers)
    a = np.zeros((6, 3 * n))
    for i in range(n):
        a[0:3, 3 * i : 3 * i + 3] = np.eye(3)
        x, y, z = arms[i]
        a[3:6, 3 * i : 3 * i + 3] = [[0, -z, y], [z, 0, -x], [-y, x, 0]]  # (d x F) = [d]_x F
    return (-np.linalg.pinv(a, rcond=1e-12) @ a @ forces.ravel()).reshape(n, 3)


# --------------------------------------------------------------------------------------
# the grammar

VALID = {
    "plain+notorque": (StrategySpec("plain", net="torque"), "plain+notorque"),
    "2i+notorque": (StrategySpec("legendre", 2, True, net="torque"), "2i+notorque"),
    "random:3:i+nonetforce": (StrategySpec("random", 1, True, 3, net="force"), "random:3:i+nonetforce"),
    "lebedev:3+nonetforce": (StrategySpec("lebedev", 3, net="force"), "lebedev:3+nonetforce"),
    "2+notorque+random:4": (StrategySpec("random", 2, False, 4, grid_kind="legendre", net="torque"),
                            "2+random:4+notorque"),
}


@pytest.mark.parametrize("text", list(VALID))
def test_parse_net_modifiers_and_round_trip(text):
    expected, label = VALID[text]
    spec = parse_strategy_spec(text)
    assert spec == expected and spec.label == label and parse_strategy_spec(label) == spec
    assert spec.evaluations == parse_strategy_spec(label.rsplit("+", 1)[0]).evaluations  # no extra cost


@pytest.mark.parametrize(
    "text, message",
    [("2i+notorque+nonetforce", "not both"), ("2i+notorque+notorque", "twice"),
     ("delta:2i+notorque", "delta:GRID takes no +modifiers"), ("2i+notorque:1", "unknown strategy modifier"),
     ("2i+torque", "unknown strategy modifier '+torque'")],
)
def test_bad_net_modifiers_are_one_line_errors(text, message):
    with pytest.raises(ValueError) as err:
        parse_strategy_spec(text)
    assert message in str(err.value) and f"'{text}'" in str(err.value) and "\n" not in str(err.value)


def test_unknown_strategies_are_one_line_and_list_the_forms():
    with pytest.raises(ValueError) as err:
        parse_strategy_spec("foo")
    assert "\n" not in str(err.value) and "+notorque" in str(err.value) and "+random[:SEED]" in str(err.value)


# --------------------------------------------------------------------------------------
# the math


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_removal_is_the_least_squares_minimum(seed):
    rng = np.random.default_rng(seed)
    numbers = np.tile([8, 1, 1], 3)
    positions = 5.0 + 2.0 * rng.standard_normal((9, 3))
    forces = rng.standard_normal((9, 3))
    fixed = remove_net_force_and_torque(positions, forces)
    np.testing.assert_allclose(fixed.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(net_torque(positions, fixed, numbers), 0.0, atol=1e-12)
    # the torque about the centroid, the origin or anywhere else too: the net force is zero
    np.testing.assert_allclose(np.cross(positions, fixed).sum(axis=0), 0.0, atol=1e-11)
    np.testing.assert_allclose(fixed - forces, brute_force_correction(positions, forces, numbers), atol=1e-12)
    # a projection: idempotent, and blind to any rigid-motion field added to the forces
    np.testing.assert_allclose(remove_net_force_and_torque(positions, fixed), fixed, atol=1e-12)
    a, b = rng.standard_normal(3), rng.standard_normal(3)
    shifted = forces + a + np.cross(b, positions - rng.standard_normal(3))
    np.testing.assert_allclose(remove_net_force_and_torque(positions, shifted), fixed, atol=1e-12)
    np.testing.assert_allclose(remove_net_force(forces), forces - forces.mean(axis=0), atol=1e-15)


def test_removal_on_a_linear_system_uses_the_pseudo_inverse():
    """Collinear atoms: no torque about the axis can exist; the other two components are still removed."""
    rng = np.random.default_rng(3)
    axis = np.array([1.0, 2.0, -0.5]) / np.linalg.norm([1.0, 2.0, -0.5])
    positions = np.outer([-1.1, 0.2, 1.3], axis) + 2.0
    forces = rng.standard_normal((3, 3))
    fixed = remove_net_force_and_torque(positions, forces)
    assert np.all(np.isfinite(fixed))
    np.testing.assert_allclose(fixed.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.cross(positions - positions.mean(axis=0), fixed).sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(fixed - forces, brute_force_correction(positions, forces, np.ones(3, int)), atol=1e-12)
    np.testing.assert_allclose(remove_net_force_and_torque(positions[:1], forces[:1]), 0.0, atol=1e-15)  # one atom


# --------------------------------------------------------------------------------------
# the wrapper on the toy


@pytest.mark.parametrize("label", ["plain+notorque", "random:3:i+notorque", "2+random:3+notorque", "2i+notorque"])
@pytest.mark.parametrize("make", [lambda: None, cluster], ids=["molecule", "cluster"])
def test_net_force_and_torque_vanish_and_forces_change_by_the_least_squares_minimum(label, make, water_molecule):
    s = make() or water_molecule
    pot = ToyWater()
    strategy = parse_strategy(label, pot)
    inner = parse_strategy(label.rsplit("+", 1)[0], pot)  # the same stream for the random ones
    out, ref = strategy.compute([s]), inner.compute([s])
    assert isinstance(strategy, NetCorrectionStrategy)
    f = out.forces[0]
    np.testing.assert_allclose(f.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(net_torque(s.positions, f, s.numbers), 0.0, atol=1e-12)
    np.testing.assert_allclose(f - ref.forces[0], brute_force_correction(s.positions, ref.forces[0], s.numbers),
                               atol=1e-12)
    assert out.energies[0] == ref.energies[0]  # the energy is the inner strategy's
    # the virial follows the forces: W = sum_i F_i r_i^T, symmetric now, and the same wherever the origin is
    np.testing.assert_allclose(out.virials[0], f.T @ s.positions, atol=1e-12)
    np.testing.assert_allclose(out.virials[0], out.virials[0].T, atol=1e-12)
    d = out.extras[0]
    assert list(d)[0] == "strategy" and d["strategy"] == strategy.label
    np.testing.assert_allclose(d["net_torque_removed"], net_torque(s.positions, ref.forces[0], s.numbers), atol=1e-15)
    np.testing.assert_allclose(d["net_force_removed"], ref.forces[0].sum(axis=0), atol=1e-15)


def test_the_plain_toy_has_a_torque_to_remove(water_molecule):
    d = parse_strategy("plain+notorque", ToyWater()).compute([water_molecule]).extras[0]
    assert np.linalg.norm(d["net_torque_removed"]) > 1e-3


def test_composes_with_2i_up_to_its_own_residual_torque(water_molecule):
    """2i+notorque = 2i minus the projection of 2i's small residual torque; = 2i when 2i is exact."""
    s = water_molecule
    pot = ToyWater()
    two, fixed, plain = (parse_strategy(x, pot).compute([s]) for x in ("2i", "2i+notorque", "plain+notorque"))
    tau = net_torque(s.positions, two.forces[0], s.numbers)
    change = np.linalg.norm(fixed.forces[0] - two.forces[0])
    arms = s.positions - s.positions.mean(axis=0)
    smallest = np.linalg.eigvalsh(np.sum(arms**2) * np.eye(3) - arms.T @ arms)[0]
    assert 0 < change <= np.linalg.norm(tau) / np.sqrt(smallest) * (1 + 1e-12)  # |w x d| = sqrt(tau I^-1 tau)
    plain_change = np.linalg.norm(plain.forces[0] - pot.compute([s]).forces[0])
    assert change < 0.3 * plain_change  # 2i leaves much less torque than the plain model
    np.testing.assert_allclose(fixed.forces[0], remove_net_force_and_torque(s.positions, two.forces[0]), atol=1e-15)
    assert fixed.energies[0] == two.energies[0]
    # a toy whose anisotropy 2i cancels exactly: no torque left, nothing changes
    exact = ToyWater(dipole_amplitudes={1: 0.01, 2: 0.01, 3: 0.01}, bond_amplitudes={1: 0.01, 2: 0.01})
    a, b = parse_strategy("2i", exact).compute([s]), parse_strategy("2i+notorque", exact).compute([s])
    np.testing.assert_allclose(b.forces[0], a.forces[0], atol=1e-12)
    np.testing.assert_allclose(b.virials[0], a.virials[0], atol=1e-12)


def test_a_periodic_structure_is_refused_in_one_line_before_any_evaluation(water_box):
    counting = CountingPotential(ToyWater())
    strategy = parse_strategy("2i+notorque", counting)
    with pytest.raises(ValueError) as err:
        strategy.compute([water_box])
    message = str(err.value)
    assert "removes the net torque of an isolated system; periodic systems have no" in message
    assert "\n" not in message and "--vacuum" in message
    assert counting.calls == 0


def test_nonetforce_works_in_a_box_and_keeps_the_virial(water_box_triclinic):
    """A model with a net force (here: forces plus a constant) in a periodic cell: the mean is removed."""
    s = water_box_triclinic

    class Pushed(Potential):
        species = ToyWater.species

        def compute(self, structures):
            out = ToyWater().compute(structures)
            out.forces = [f + [0.1, -0.2, 0.05] for f in out.forces]
            return out

    out = parse_strategy("plain+nonetforce", Pushed()).compute([s])
    ref = parse_strategy("plain", Pushed()).compute([s])
    assert np.linalg.norm(ref.forces[0].sum(axis=0)) > 1.0
    np.testing.assert_allclose(out.forces[0].sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.forces[0], ref.forces[0] - ref.forces[0].mean(axis=0), atol=1e-15)
    np.testing.assert_array_equal(out.virials[0], ref.virials[0])  # periodic: left as the model gives it
    assert "net_torque_removed" not in out.extras[0]
    np.testing.assert_allclose(out.extras[0]["net_force_removed"], ref.forces[0].sum(axis=0), atol=1e-12)


def test_without_diagnostics_no_extras(water_molecule):
    out = parse_strategy("2+notorque", ToyWater(), diagnostics=False).compute([water_molecule])
    assert out.extras == []


# --------------------------------------------------------------------------------------
# the command line


def test_serve_help_documents_the_modifiers(capsys):
    from symbreak.cli import main

    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    for form in ("GRID+random[:SEED]", "S+notorque", "S+nonetforce"):
        assert form in help_text


@pytest.mark.parametrize(
    "strategy, message",
    [("2i+random:5+notorque", "no i-PI socket"),  # parsed and built: it waits for i-PI
     ("2i+spin", "unknown strategy modifier '+spin'"), ("plain+random", "+random turns a grid"), ("foo", "+notorque")],
)
def test_serve_parses_the_new_strategies_and_bad_ones_are_one_line(strategy, message, capsys):
    """`symbreak serve --strategy S` in-process (the same main() as the command): one line on stderr, exit 2."""
    from symbreak.cli import main

    code = main(["serve", "--potential", "toy", "--strategy", strategy, "--unix", "--address",
                 f"symbreak-test-none-{abs(hash(strategy))}", "--timeout", "0.2", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err


# --------------------------------------------------------------------------------------
# a real i-PI run: the plain toy spins the molecule up, +notorque keeps L


@pytest.mark.slow
def test_ipi_gas_nve_keeps_the_angular_momentum_with_notorque(tmp_path):
    from symbreak.analysis.angular import angular_momentum, hbar_ase
    from symbreak.analysis.run_folder import RunFolder
    from symbreak.cli import main

    changes = {}
    for strategy in ("plain", "plain+notorque"):
        out = tmp_path / strategy.replace("+", "-")
        # `symbreak run gas-nve ...` in-process (i-PI and the servers are real processes)
        assert main(["run", "gas-nve", "--potential", "toy", "--strategy", strategy, "--steps", "40",
                     "--out", str(out), "--no-reference", "--quiet"]) == 0
        run = RunFolder(out)
        positions, momenta = run.positions(), run.momenta()
        assert len(positions) >= 5
        L = angular_momentum(positions, momenta, run.masses()) / hbar_ase()
        assert np.linalg.norm(L[0]) > 1.0  # 300 K initial velocities: the molecule turns
        changes[strategy] = np.linalg.norm(L - L[0], axis=1).max()
    # i-PI writes 6 significant digits: L (a few hbar) is constant to that precision with +notorque
    assert changes["plain+notorque"] < 2e-3
    assert changes["plain"] > 50 * changes["plain+notorque"] and changes["plain"] > 0.05
