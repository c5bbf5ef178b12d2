"""GRID+random[:SEED]: a grid turned by one fresh Haar-random rotation per structure per call.

Each call is the fixed grid on a rotated structure (exactly), it cancels the
same angular orders as the fixed grid on every call, and on average it cancels
the rest as well; the stream is seeded, reproducible and resumable.
"""

import json

import numpy as np
import pytest
from symbreak.commands.serve import load_stream_state, save_stream_state
from symbreak.potentials.testing import CountingPotential
from symbreak.potentials.toy import ToyWater
from symbreak.symmetry.rotations import haar_rotations
from symbreak.symmetry.strategies import (
    GridAverageStrategy,
    NetCorrectionStrategy,
    RandomGridStrategy,
    StrategySpec,
    parse_strategy,
    parse_strategy_spec,
)


def toy_with(ls, amplitude=0.01):
    """A toy whose only anisotropic terms have the orders in ``ls``."""
    return ToyWater(dipole_amplitudes={l: amplitude for l in ls}, bond_amplitudes={l: 0.7 * amplitude for l in ls})


def cancelled(spec: StrategySpec, l: int) -> bool:
    """Whether the grid promises to cancel a component of order l (on every call)."""
    q = spec.quadrature()
    return l <= q.degree or (q.inversion and l % 2 == 1)


# --------------------------------------------------------------------------------------
# the grammar

VALID = {
    "2i+random:7": (StrategySpec("random", 2, True, 7, grid_kind="legendre"), "2i+random:7"),
    "legendre:3+random": (StrategySpec("random", 3, False, grid_kind="legendre"), "3+random"),
    "lebedev:5:i+random:0": (StrategySpec("random", 5, True, 0, grid_kind="lebedev"), "lebedev:5:i+random:0"),
    "i+random:4": (StrategySpec("random", 1, True, 4, grid_kind="legendre"), "i+random:4"),
    "1+random:4": (StrategySpec("random", 1, False, 4, grid_kind="legendre"), "1+random:4"),
    " 2I + Random:3 ": (StrategySpec("random", 2, True, 3, grid_kind="legendre"), "2i+random:3"),
}


@pytest.mark.parametrize("text", list(VALID))
def test_parse_random_grids_and_round_trip_their_labels(text):
    expected, label = VALID[text]
    spec = parse_strategy_spec(text)
    assert spec == expected and spec.label == label
    assert parse_strategy_spec(label) == spec
    assert spec.random_grid and spec.kind == "random"  # the campaign gives every random kind a --state file
    assert spec.evaluations == len(spec.grid().quadrature()) == len(spec.quadrature())


@pytest.mark.parametrize(
    "text, message",
    [("plain+random", "+random turns a grid"), ("random:3+random", "+random turns a grid"),
     ("delta:2i+random", "delta:GRID takes no +modifiers"), ("2i+random:-1", "integer >= 0"),
     ("2i+random:x", "integer >= 0"), ("2i+random:1:i", "integer >= 0"), ("2i+random+random", "twice"),
     ("2i+rand", "unknown strategy modifier '+rand'"), ("2i+", "unknown strategy modifier")],
)
def test_bad_random_grids_are_one_line_errors(text, message):
    with pytest.raises(ValueError) as err:
        parse_strategy_spec(text)
    assert message in str(err.value)
    assert f"'{text}'" in str(err.value) and "\n" not in str(err.value)


def test_parse_strategy_builds_a_random_grid(water_molecule):
    strategy = parse_strategy("lebedev:3:i+random:2", ToyWater())
    assert type(strategy) is RandomGridStrategy and isinstance(strategy, GridAverageStrategy)
    assert len(strategy.quadrature) == 36 and strategy.seed == 2
    assert strategy.label in strategy.name


# --------------------------------------------------------------------------------------
# one call = the fixed grid on a rotated structure


@pytest.mark.parametrize("grid", ["2i", "lebedev:3", "3"])
@pytest.mark.parametrize("fixture", ["water_molecule", "water_box_triclinic"])
def test_each_call_is_the_fixed_grid_on_the_structure_turned_by_the_stream(grid, fixture, request):
    s = request.getfixturevalue(fixture)
    pot = ToyWater()
    turned = parse_strategy(f"{grid}+random:5", pot)
    fixed = parse_strategy(grid, pot, diagnostics=False)
    rng = np.random.default_rng(5)  # the stream: one proper Haar rotation per structure per call
    previous = None
    for call in (1, 2, 3):
        out = turned.compute([s])
        rot = haar_rotations(rng, 1)[0]
        ref = fixed.compute([s.rotated(rot)])
        assert out.energies[0] == pytest.approx(ref.energies[0], abs=1e-12)
        np.testing.assert_allclose(out.forces[0], ref.forces[0] @ rot, rtol=0, atol=1e-12)
        np.testing.assert_allclose(out.virials[0], rot.T @ ref.virials[0] @ rot, rtol=0, atol=1e-12)
        assert out.extras[0]["seed"] == 5 and out.extras[0]["call"] == call
        assert out.extras[0]["strategy"] == f"{parse_strategy_spec(grid).label}+random:5"
        if previous is not None:
            assert abs(out.energies[0] - previous) > 1e-9  # a fresh rotation on every call
        previous = out.energies[0]


def test_the_identity_grid_turned_is_the_random_strategy(water_molecule, water_box_triclinic):
    """1+random:S draws the same stream as random:S: the same energies, forces and virials."""
    pot = ToyWater()
    a, b = parse_strategy("1+random:13", pot), parse_strategy("random:13", pot)
    for _ in range(3):
        x, y = a.compute([water_molecule, water_box_triclinic]), b.compute([water_molecule, water_box_triclinic])
        np.testing.assert_allclose(x.energies, y.energies, rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.concatenate(x.forces), np.concatenate(y.forces), rtol=0, atol=1e-12)
        np.testing.assert_allclose(x.virials, y.virials, rtol=0, atol=1e-12)


def test_same_seed_same_stream_other_seed_another(water_molecule):
    pot = ToyWater()

    def stream(label):
        strategy = parse_strategy(label, pot)
        return np.array([strategy.compute([water_molecule, water_molecule]).energies for _ in range(4)]).ravel()

    first = stream("2+random:11")
    np.testing.assert_array_equal(first, stream("2+random:11"))
    assert len(np.unique(np.round(first, 12))) == len(first)  # every structure of every call turned afresh
    assert np.all(np.abs(first - stream("2+random:12")) > 1e-9)


def test_the_rotations_of_the_stream_are_haar():
    """Moments of Haar SO(3): E[R] = 0, E[R_ij R_kl] = d_ik d_jl / 3, E[tr(R)^2] = 1 (orthonormal characters)."""
    n = 20000
    r = haar_rotations(np.random.default_rng(5), n)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    tol = 5.0 / np.sqrt(n)  # every entry and product below has a standard deviation <= 1
    assert np.abs(r.mean(axis=0)).max() < tol
    second = np.einsum("nij,nkl->ijkl", r, r) / n
    expected = np.einsum("ik,jl->ijkl", np.eye(3), np.eye(3)) / 3.0
    assert np.abs(second - expected).max() < tol
    assert np.mean(np.trace(r, axis1=1, axis2=2) ** 2) == pytest.approx(1.0, abs=3 * tol)


def test_batch_equals_single_calls_with_the_same_stream(water_molecule, water_box_triclinic):
    pot = ToyWater()
    batched = parse_strategy("2i+random:8", pot).compute([water_molecule, water_box_triclinic])
    singles = parse_strategy("2i+random:8", pot)
    parts = [singles.compute([s]) for s in (water_molecule, water_box_triclinic)]
    for b, part in enumerate(parts):
        assert batched.energies[b] == pytest.approx(part.energies[0], abs=1e-12)
        np.testing.assert_allclose(batched.forces[b], part.forces[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("label, with_diagnostics, without", [("2+random:1", 19, 18), ("i+random:1", 3, 2)])
def test_cost_is_the_grid_plus_one_plain_for_the_diagnostics(label, with_diagnostics, without, water_molecule):
    for diagnostics, expected in [(True, with_diagnostics), (False, without)]:
        counting = CountingPotential(ToyWater())
        out = parse_strategy(label, counting, diagnostics=diagnostics).compute([water_molecule])
        assert counting.structures == expected and counting.calls == 1
        if diagnostics:  # the plain model is the unturned structure's
            assert out.extras[0]["energy_plain"] == pytest.approx(ToyWater().compute([water_molecule]).energies[0])


# --------------------------------------------------------------------------------------
# what it removes: per call what the fixed grid removes, on average everything


@pytest.mark.parametrize("grid", ["2", "2i", "lebedev:3", "lebedev:3:i"])
def test_each_call_cancels_exactly_the_orders_the_fixed_grid_cancels(grid, water_molecule):
    spec = parse_strategy_spec(grid)
    for l in range(1, spec.quadrature().degree + 3):
        pot = toy_with([l])
        exact = pot.invariant_part([water_molecule]).energies[0]
        turned = parse_strategy(f"{grid}+random:3", pot, diagnostics=False).compute([water_molecule] * 4).energies
        if cancelled(spec, l):
            np.testing.assert_allclose(turned, exact, rtol=0, atol=1e-10, err_msg=f"{grid}, l = {l}")
        else:  # left on every call, and different on every call
            assert np.all(np.abs(turned - exact) > 1e-7), (grid, l, turned - exact)
            assert np.ptp(turned) > 1e-6, (grid, l)


@pytest.mark.parametrize("grid, ls", [("2", [3, 4]), ("2i", [4]), ("lebedev:3", [3])])
def test_the_average_over_calls_removes_the_fixed_grids_own_bias(grid, ls, water_molecule):
    """The mean over many calls converges to the O(3) average (3i is exact here); the fixed grid stays off."""
    pot = toy_with(ls, amplitude=0.05)
    s = water_molecule
    n = 500
    out = parse_strategy(f"{grid}+random:9", pot, diagnostics=False).compute([s] * n)
    full = parse_strategy("3i", pot, diagnostics=False).compute([s])
    exact = pot.invariant_part([s])
    assert full.energies[0] == pytest.approx(exact.energies[0], abs=1e-10)  # 3i cancels l <= 4
    fixed = parse_strategy(grid, pot, diagnostics=False).compute([s])
    # energies: the turned grid's mean is within 4 standard errors of 3i, the fixed grid is > 6 away
    error = np.std(out.energies) / np.sqrt(n)
    assert np.std(out.energies) > 1e-4
    assert abs(np.mean(out.energies) - full.energies[0]) < 4 * error
    assert abs(fixed.energies[0] - full.energies[0]) > 6 * error
    # forces, component by component
    forces = np.array(out.forces)
    errors = forces.std(axis=0) / np.sqrt(n) + 1e-12
    assert np.all(np.abs(forces.mean(axis=0) - full.forces[0]) < 5 * errors)
    assert np.abs(fixed.forces[0] - full.forces[0]).max() > 5 * errors.max()


# --------------------------------------------------------------------------------------
# the stream survives a restart


@pytest.mark.parametrize("label", ["2i+random:21", "lebedev:3+random:21+notorque", "2+random"])
def test_random_grid_stream_continues_from_a_saved_state(label, water_molecule, tmp_path):
    """Calls 1..8 of one strategy = calls 1..4 of one and 5..8 of a fresh one resumed through a state file."""
    pot = ToyWater()
    batch = [water_molecule, water_molecule]
    whole = parse_strategy(label, pot)
    seeded = label if whole.spec.seed is not None else label.replace("+random", f"+random:{whole.seed}")
    first = parse_strategy(seeded, pot)
    reference = [whole.compute(batch) for _ in range(8)]
    head = [first.compute(batch) for _ in range(4)]
    path = tmp_path / "model0.random.json"
    save_stream_state(first, str(path))  # what `symbreak serve --state FILE` writes after every call
    assert json.loads(path.read_text())["calls"] == 4
    resumed = parse_strategy(label, pot)
    load_stream_state(resumed, str(path))  # what `symbreak serve --state FILE` does at start
    tail = [resumed.compute(batch) for _ in range(4)]
    for ref, got in zip(reference, head + tail):
        np.testing.assert_array_equal(ref.energies, got.energies)
        np.testing.assert_array_equal(np.array(ref.forces), np.array(got.forces))
        assert [x["call"] for x in ref.extras] == [x["call"] for x in got.extras]
    assert tail[0].extras[0]["call"] == 5 and resumed.seed == whole.seed
    # and a fresh strategy without the state restarts the stream instead
    restarted = parse_strategy(seeded, pot).compute(batch)
    assert not np.array_equal(restarted.energies, tail[0].energies)


def test_a_state_of_another_grid_or_seed_is_refused(tmp_path):
    pot = ToyWater()
    state = parse_strategy("2i+random:3", pot).state()
    with pytest.raises(ValueError, match="seed 3, not 4"):
        parse_strategy("2i+random:4", pot).restore(state)
    with pytest.raises(ValueError, match="the state is of '2i\\+random:3', not '2\\+random:3'"):
        parse_strategy("2+random:3", pot).restore(state)
    with pytest.raises(ValueError, match="not '2i\\+random:3'"):
        parse_strategy("2i+random:3", pot).restore(parse_strategy("random:3", pot).state())
    with pytest.raises(ValueError, match="not the state of a random strategy"):
        parse_strategy("2i+random:3", pot).restore({"strategy": "2i", "bit_generator": {}})
    # a state file for a strategy without a stream is refused by `serve --state`
    with pytest.raises(ValueError, match="--state is for random strategies"):
        load_stream_state(parse_strategy("2i+notorque", pot), str(tmp_path / "x.json"))
    assert isinstance(parse_strategy("2i+random:3+notorque", pot), NetCorrectionStrategy)
    assert parse_strategy("2i+random:3+notorque", pot).state()["strategy"] == "2i+random:3"
