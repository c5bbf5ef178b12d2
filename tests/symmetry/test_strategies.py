"""Symmetrization strategies: the parser, exact cancellation on the toy, derivatives, batching, diagnostics."""

import json

import numpy as np
import pytest
from symbreak.potentials.base import Evaluation, Potential, Structure
from symbreak.potentials.testing import CountingPotential, finite_difference_forces, finite_difference_virial
from symbreak.potentials.toy import ToyWater
from symbreak.symmetry.metrics import net_torque
from symbreak.symmetry.rotations import haar_rotations
from symbreak.symmetry.strategies import (
    DeltaStrategy,
    GridAverageStrategy,
    PlainStrategy,
    RandomRotationStrategy,
    StrategySpec,
    parse_strategy,
    parse_strategy_spec,
)

# --------------------------------------------------------------------------------------
# helpers


def toy_with(ls, amplitude=0.01, dipole=True, bond=True) -> ToyWater:
    """A toy whose only anisotropic terms have the orders in ``ls``."""
    return ToyWater(
        dipole_amplitudes={l: amplitude for l in ls} if dipole else {},
        bond_amplitudes={l: 0.7 * amplitude for l in ls} if bond else {},
    )


def with_positions(s: Structure, positions) -> Structure:
    return Structure(positions, s.numbers, s.cell)


def deformed(s: Structure, deform: np.ndarray) -> Structure:
    """Homogeneous deformation r -> D r of positions and cell vectors (rows)."""
    cell = None if s.cell is None else s.cell @ deform.T
    return Structure(s.positions @ deform.T, s.numbers, cell)


def energy(pot: Potential, s: Structure) -> float:
    return float(pot.compute([s]).energies[0])


fd_forces = finite_difference_forces


def fd_directional(pot, s, direction, h=1e-5):
    """-dE/dt along x + t * direction by central differences."""
    e_plus = energy(pot, with_positions(s, s.positions + h * direction))
    e_minus = energy(pot, with_positions(s, s.positions - h * direction))
    return -(e_plus - e_minus) / (2 * h)


fd_virial = finite_difference_virial


def assert_same_evaluation(a: Evaluation, b: Evaluation, atol=1e-12):
    np.testing.assert_allclose(a.energies, b.energies, rtol=0, atol=atol)
    assert len(a.forces) == len(b.forces)
    for fa, fb in zip(a.forces, b.forces):
        np.testing.assert_allclose(fa, fb, rtol=0, atol=atol)
    np.testing.assert_allclose(a.virials, b.virials, rtol=0, atol=atol)


def assert_same_extras(a: dict, b: dict, atol=1e-12):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], str):
            assert a[key] == b[key], key
        else:
            np.testing.assert_allclose(a[key], b[key], rtol=0, atol=atol, err_msg=key)


def cancelled(spec: StrategySpec, l: int) -> bool:
    """Whether the strategy's grid promises to cancel a component of order l."""
    q = spec.quadrature()
    return l <= q.degree or (q.inversion and l % 2 == 1)


# --------------------------------------------------------------------------------------
# the parser

VALID = {
    "plain": (StrategySpec("plain"), "plain"),
    "none": (StrategySpec("plain"), "plain"),
    "0": (StrategySpec("plain"), "plain"),
    "random": (StrategySpec("random"), "random"),
    "random:7": (StrategySpec("random", seed=7), "random:7"),
    "random:7:i": (StrategySpec("random", inversion=True, seed=7), "random:7:i"),
    "random:i": (StrategySpec("random", inversion=True), "random:i"),
    "legendre:2": (StrategySpec("legendre", 2), "2"),
    "legendre:2:i": (StrategySpec("legendre", 2, True), "2i"),
    "legendre:1:i": (StrategySpec("legendre", 1, True), "i"),
    "lebedev:5": (StrategySpec("lebedev", 5), "lebedev:5"),
    "lebedev:5:i": (StrategySpec("lebedev", 5, True), "lebedev:5:i"),
    "delta:2i": (StrategySpec("delta", 2, True, grid_kind="legendre"), "delta:2i"),
    "delta:legendre:3": (StrategySpec("delta", 3, False, grid_kind="legendre"), "delta:3"),
    "delta:lebedev:3": (StrategySpec("delta", 3, False, grid_kind="lebedev"), "delta:lebedev:3"),
    "delta:lebedev:5:i": (StrategySpec("delta", 5, True, grid_kind="lebedev"), "delta:lebedev:5:i"),
    "i": (StrategySpec("legendre", 1, True), "i"),
    "2": (StrategySpec("legendre", 2), "2"),
    "2i": (StrategySpec("legendre", 2, True), "2i"),
    "3": (StrategySpec("legendre", 3), "3"),
    "3i": (StrategySpec("legendre", 3, True), "3i"),
    " Legendre:2:I ": (StrategySpec("legendre", 2, True), "2i"),
}


@pytest.mark.parametrize("text", list(VALID))
def test_parse_valid_strategies_and_round_trip_their_labels(text):
    expected, label = VALID[text]
    spec = parse_strategy_spec(text)
    assert spec == expected
    assert spec.label == label
    assert parse_strategy_spec(spec.label) == spec


@pytest.mark.parametrize(
    "text",
    ["legendre", "legendre:x", "legendre:0", "legendre:2:j", "lebedev:4", "lebedev", "random:-1",
     "random:1:2", "random:x", "foo", "delta:plain", "delta:random", "delta:foo", "10", "2j"],
)
def test_parse_invalid_strategies_name_the_input(text):
    with pytest.raises(ValueError) as err:
        parse_strategy_spec(text)
    assert f"'{text}'" in str(err.value)
    # the message lists the valid forms
    assert "legendre:L[:i]" in str(err.value)


def test_invalid_order_messages_say_why():
    with pytest.raises(ValueError, match="no Lebedev rule of degree 4"):
        parse_strategy_spec("lebedev:4")
    with pytest.raises(ValueError, match="order must be >= 1"):
        parse_strategy_spec("legendre:0")


@pytest.mark.parametrize(
    "text, cls, n_rotations",
    [("plain", PlainStrategy, None), ("random:3", RandomRotationStrategy, None), ("2i", GridAverageStrategy, 36),
     ("lebedev:5", GridAverageStrategy, 70), ("delta:2i", DeltaStrategy, 36), ("i", GridAverageStrategy, 2)],
)
def test_parse_strategy_builds_the_wrapper(text, cls, n_rotations):
    base = ToyWater()
    strategy = parse_strategy(text, base)
    assert type(strategy) is cls
    assert strategy.base is base
    assert strategy.label == parse_strategy_spec(text).label
    assert strategy.label in strategy.name
    if n_rotations is not None:
        assert len(strategy.quadrature) == n_rotations
    # a parsed spec is accepted as well as a string
    assert type(parse_strategy(parse_strategy_spec(text), base)) is cls


# --------------------------------------------------------------------------------------
# exact cancellation on the toy, one angular order at a time

# lebedev:7 is left out: its only surviving l = 7 component (aliased in-plane order 7) is
# ~1e-7 eV for this molecule, too small to assert on; test_quadrature covers its degree
MOLECULE_GRIDS = ["i", "2", "2i", "3", "3i", "4", "4i", "lebedev:3", "lebedev:3:i", "lebedev:5", "lebedev:5:i"]
BOX_GRIDS = ["2", "2i", "lebedev:3:i"]


def check_cancellation(label, structure, **toy_options):
    spec = parse_strategy_spec(label)
    q = spec.quadrature()
    survivors = []
    for l in range(1, q.degree + 3):
        pot = toy_with([l], **toy_options)
        averaged = parse_strategy(spec, pot, diagnostics=False).compute([structure]).energies[0]
        exact = pot.invariant_part([structure]).energies[0]
        if cancelled(spec, l):
            assert averaged == pytest.approx(exact, abs=1e-10), (label, l)
        else:
            assert abs(averaged - exact) > 1e-6, (label, l, averaged - exact)
            survivors.append(l)
    # the first order the grid does not promise to cancel is really there
    assert survivors and survivors[0] == (q.degree + 2 if q.inversion else q.degree + 1)


@pytest.mark.parametrize("kind", ["dipole", "bond"])
@pytest.mark.parametrize("label", MOLECULE_GRIDS)
def test_grid_cancels_exactly_what_it_promises_on_a_molecule(label, kind, water_molecule):
    check_cancellation(label, water_molecule, dipole=kind == "dipole", bond=kind == "bond")


@pytest.mark.parametrize("label", BOX_GRIDS)
def test_grid_cancels_exactly_what_it_promises_in_a_box(label, water_box):
    check_cancellation(label, water_box)


def test_plain_strategy_is_the_model(water_box_triclinic):
    pot = ToyWater()
    assert_same_evaluation(parse_strategy("plain", pot).compute([water_box_triclinic]), pot.compute([water_box_triclinic]))


# --------------------------------------------------------------------------------------
# forces and virial are derivatives of the strategy's energy

DERIVATIVE_STRATEGIES = ["plain", "2", "2i", "lebedev:3:i", "delta:2i"]


@pytest.mark.parametrize("label", DERIVATIVE_STRATEGIES)
def test_forces_and_virial_are_derivatives_on_a_molecule(label, water_molecule):
    strategy = parse_strategy(label, ToyWater(), diagnostics=False)
    out = strategy.compute([water_molecule])
    assert np.abs(out.forces[0]).max() > 1e-3  # not trivially zero
    np.testing.assert_allclose(out.forces[0], fd_forces(strategy, water_molecule), rtol=0, atol=1e-8)
    np.testing.assert_allclose(out.virials[0], fd_virial(strategy, water_molecule), rtol=0, atol=1e-8)


@pytest.mark.parametrize("label", DERIVATIVE_STRATEGIES)
def test_forces_are_derivatives_in_a_triclinic_box(label, water_box_triclinic):
    s = water_box_triclinic
    strategy = parse_strategy(label, ToyWater(), diagnostics=False)
    forces = strategy.compute([s]).forces[0]
    rng = np.random.default_rng(42)
    for _ in range(2):
        direction = rng.standard_normal(s.positions.shape)
        assert np.sum(forces * direction) == pytest.approx(fd_directional(strategy, s, direction), abs=1e-7)
    # one atom, one component: catches a per-atom error that a random direction could hide
    direction = np.zeros_like(s.positions)
    direction[4, 1] = 1.0
    assert forces[4, 1] == pytest.approx(fd_directional(strategy, s, direction), abs=1e-8)


@pytest.mark.parametrize("label", ["plain", "lebedev:3", "delta:2"])
def test_virial_is_minus_the_strain_derivative_in_a_triclinic_box(label, water_box_triclinic):
    strategy = parse_strategy(label, ToyWater(), diagnostics=False)
    virial = strategy.compute([water_box_triclinic]).virials[0]
    np.testing.assert_allclose(virial, fd_virial(strategy, water_box_triclinic), rtol=0, atol=1e-7)


# --------------------------------------------------------------------------------------
# invariance and equivariance of averaged outputs


@pytest.mark.parametrize(
    "label, fixture",
    [(label, "water_molecule") for label in ("2", "2i", "3", "3i", "lebedev:3:i", "lebedev:5")]
    + [(label, "water_box_triclinic") for label in ("2", "2i", "lebedev:3:i")],
)
def test_averaged_outputs_are_invariant_and_equivariant(label, fixture, request):
    s = request.getfixturevalue(fixture)
    spec = parse_strategy_spec(label)
    ls = [l for l in range(1, spec.quadrature().degree + 4) if cancelled(spec, l)]
    strategy = parse_strategy(spec, toy_with(ls), diagnostics=False)
    ref = strategy.compute([s])
    for rot in haar_rotations(np.random.default_rng(9), 2, improper=True):
        out = strategy.compute([s.rotated(rot)])
        assert out.energies[0] == pytest.approx(ref.energies[0], abs=1e-10)
        np.testing.assert_allclose(out.forces[0], ref.forces[0] @ rot.T, rtol=0, atol=1e-10)
        np.testing.assert_allclose(out.virials[0], rot @ ref.virials[0] @ rot.T, rtol=0, atol=1e-10)


def test_equivariance_fails_beyond_the_degree(water_molecule):
    """The same check with an l = degree + 1 term must notice the broken symmetry."""
    strategy = parse_strategy("2", toy_with([3]), diagnostics=False)
    ref = strategy.compute([water_molecule])
    rot = haar_rotations(np.random.default_rng(9), 1)[0]
    out = strategy.compute([water_molecule.rotated(rot)])
    assert abs(out.energies[0] - ref.energies[0]) > 1e-6
    assert np.abs(out.forces[0] - ref.forces[0] @ rot.T).max() > 1e-6


# --------------------------------------------------------------------------------------
# chunking, batching, delta


@pytest.mark.parametrize("label", ["2i", "delta:lebedev:3"])
def test_chunk_size_does_not_change_results(label, water_box):
    pot = ToyWater()
    results = [parse_strategy(label, pot, chunk_size=c).compute([water_box]) for c in (1, 7, None)]
    counting = CountingPotential(pot)
    parse_strategy(label, counting, chunk_size=7).compute([water_box])
    n = len(parse_strategy_spec(label).quadrature()) + 1  # the grid and the plain structure
    assert counting.calls == -(-n // 7)
    for other in results[1:]:
        assert_same_evaluation(results[0], other)
        assert_same_extras(results[0].extras[0], other.extras[0])


@pytest.mark.parametrize("label", ["plain", "2i", "lebedev:3", "delta:2i", "random:5"])
def test_batch_equals_single_calls(label, water_molecule, water_box_triclinic):
    pot = ToyWater()
    structures = [water_molecule, water_box_triclinic]
    batched = parse_strategy(label, pot).compute(structures)
    singles = parse_strategy(label, pot)  # a fresh instance: the same random stream
    parts = [singles.compute([s]) for s in structures]
    assert len(batched) == 2 and len(batched.extras) == 2
    for b, part in enumerate(parts):
        assert batched.energies[b] == pytest.approx(part.energies[0], abs=1e-12)
        np.testing.assert_allclose(batched.forces[b], part.forces[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(batched.virials[b], part.virials[0], rtol=0, atol=1e-12)
        if not label.startswith("random"):  # the call counter differs there
            assert_same_extras(batched.extras[b], part.extras[0])


@pytest.mark.parametrize("grid", ["2i", "lebedev:3"])
def test_delta_is_averaged_minus_plain(grid, water_box_triclinic):
    pot = ToyWater()
    s = water_box_triclinic
    delta = parse_strategy(f"delta:{grid}", pot).compute([s])
    averaged = parse_strategy(grid, pot).compute([s])
    plain = pot.compute([s])
    assert delta.energies[0] == pytest.approx(averaged.energies[0] - plain.energies[0], abs=1e-12)
    np.testing.assert_allclose(delta.forces[0], averaged.forces[0] - plain.forces[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(delta.virials[0], averaged.virials[0] - plain.virials[0], rtol=0, atol=1e-12)
    assert abs(delta.energies[0]) > 1e-6  # the toy really breaks the symmetry here
    assert delta.extras[0]["energy_plain"] == pytest.approx(plain.energies[0], abs=1e-12)
    assert delta.extras[0]["energy_averaged"] == pytest.approx(averaged.energies[0], abs=1e-12)


# --------------------------------------------------------------------------------------
# random rotations


def test_random_same_seed_same_sequence_different_seed_differs(water_molecule):
    pot = ToyWater()

    def sequence(label):
        strategy = parse_strategy(label, pot)
        return np.array([strategy.compute([water_molecule]).energies[0] for _ in range(5)])

    first = sequence("random:11:i")
    np.testing.assert_array_equal(first, sequence("random:11:i"))
    assert np.all(np.abs(np.diff(first)) > 1e-9)  # a fresh rotation on every call
    assert np.all(np.abs(first - sequence("random:12:i")) > 1e-9)


@pytest.mark.parametrize("improper", [False, True])
@pytest.mark.parametrize("fixture", ["water_molecule", "water_box_triclinic"])
def test_random_forces_are_the_gradient_for_the_rotation_used(fixture, improper, request):
    s = request.getfixturevalue(fixture)
    pot = ToyWater()
    seed = 3
    strategy = parse_strategy(f"random:{seed}{':i' if improper else ''}", pot)
    rng = np.random.default_rng(seed)
    for call in (1, 2):  # the second call uses the next rotation of the stream
        out = strategy.compute([s])
        rot = haar_rotations(rng, 1, improper)[0]
        rotated_model = _Rotated(pot, rot)
        assert out.energies[0] == pytest.approx(energy(pot, s.rotated(rot)), abs=1e-12)
        assert out.extras[0]["seed"] == seed and out.extras[0]["call"] == call
        assert out.extras[0]["improper"] == bool(np.linalg.det(rot) < 0)
    if s.cell is None:
        np.testing.assert_allclose(out.forces[0], fd_forces(rotated_model, s), rtol=0, atol=1e-8)
    else:
        direction = np.random.default_rng(1).standard_normal(s.positions.shape)
        assert np.sum(out.forces[0] * direction) == pytest.approx(
            fd_directional(rotated_model, s, direction), abs=1e-7
        )
    np.testing.assert_allclose(out.virials[0], fd_virial(rotated_model, s), rtol=0, atol=1e-7)


class _Rotated(Potential):
    """x -> E(R x) for a fixed R: the energy a random-rotation call differentiates."""

    def __init__(self, base, rotation):
        self.base, self.rotation = base, rotation

    def compute(self, structures):
        return self.base.compute([s.rotated(self.rotation) for s in structures])


def test_random_without_seed_reports_one_that_reproduces_it(water_molecule):
    pot = ToyWater()
    strategy = parse_strategy("random", pot)
    energies = [strategy.compute([water_molecule]) for _ in range(3)]
    seed = energies[0].extras[0]["seed"]
    assert isinstance(seed, int) and seed >= 0
    replay = parse_strategy(f"random:{seed}", pot)
    for out in energies:
        assert replay.compute([water_molecule]).energies[0] == out.energies[0]


@pytest.mark.parametrize("label, low, high", [("random:5:i", 0.4, 0.6), ("random:5", 0.0, 0.0)])
def test_random_improper_fraction(label, low, high, water_molecule):
    strategy = parse_strategy(label, ToyWater())
    flags = [x["improper"] for _ in range(100) for x in strategy.compute([water_molecule] * 4).extras]
    assert len(flags) == 400
    assert low <= np.mean(flags) <= high


def test_random_averages_towards_the_invariant_part(water_molecule):
    """Unbiased on average: the mean over many random rotations approaches the O(3) average."""
    pot = toy_with([1, 2], amplitude=0.05)
    out = parse_strategy("random:2:i", pot, diagnostics=False).compute([water_molecule] * 4000)
    exact = pot.invariant_part([water_molecule]).energies[0]
    spread = np.std(out.energies)
    assert spread > 1e-3
    assert abs(np.mean(out.energies) - exact) < 4 * spread / np.sqrt(len(out))
    assert abs(np.mean(out.energies) - energy(pot, water_molecule)) > 4 * spread / np.sqrt(len(out))


# --------------------------------------------------------------------------------------
# diagnostics


def test_grid_diagnostics_have_sensible_values(water_molecule):
    pot = ToyWater()
    s = water_molecule
    strategy = parse_strategy("2i", pot)
    out = strategy.compute([s])
    d = out.extras[0]
    plain_e, plain_f, _ = pot.compute_one(s)
    assert d["strategy"] == "2i" and d["n_rotations"] == 36
    assert d["energy_plain"] == pytest.approx(plain_e, abs=1e-12)
    assert d["energy_averaged"] == pytest.approx(out.energies[0], abs=1e-12)
    assert d["energy_plain_minus_averaged"] == pytest.approx(plain_e - out.energies[0], abs=1e-12)
    np.testing.assert_allclose(d["net_torque_plain"], net_torque(s.positions, plain_f, s.numbers), atol=1e-12)
    np.testing.assert_allclose(d["net_force_plain"], plain_f.sum(axis=0), atol=1e-12)
    assert np.linalg.norm(d["net_torque_plain"]) > 1e-4  # the toy exerts a torque
    # the spreads, recomputed from the rotated copies
    q = strategy.quadrature
    grid = pot.compute([s.rotated(r) for r in q.rotations])
    e = grid.energies
    assert d["energy_spread"] == pytest.approx(np.sqrt(q.weights @ (e - q.weights @ e) ** 2), rel=1e-9)
    f = np.stack([fk @ r for fk, r in zip(grid.forces, q.rotations)])
    f_std = np.sqrt(np.einsum("k,kia->ia", q.weights, (f - np.einsum("k,kia->ia", q.weights, f)) ** 2))
    assert d["force_spread"] == pytest.approx(np.sqrt(np.mean(f_std**2)), rel=1e-9)
    assert d["energy_spread"] > 1e-4 and d["force_spread"] > 1e-4


@pytest.mark.parametrize("label", ["2i", "lebedev:3", "delta:2"])
def test_grid_diagnostics_vanish_for_an_invariant_model(label, water_molecule):
    pot = ToyWater(dipole_amplitudes={}, bond_amplitudes={})
    d = parse_strategy(label, pot).compute([water_molecule]).extras[0]
    assert d["energy_spread"] < 1e-10
    assert d["force_spread"] < 1e-10
    assert abs(d["energy_plain_minus_averaged"]) < 1e-10
    assert np.linalg.norm(d["net_torque_plain"]) < 1e-10


def test_plain_and_random_diagnostics(water_molecule):
    pot = ToyWater()
    plain = parse_strategy("plain", pot).compute([water_molecule]).extras[0]
    assert plain["strategy"] == "plain"
    assert plain["energy_plain"] == pytest.approx(energy(pot, water_molecule), abs=1e-12)
    assert np.linalg.norm(plain["net_torque_plain"]) > 1e-4
    np.testing.assert_allclose(plain["net_force_plain"], 0.0, atol=1e-12)
    rnd = parse_strategy("random:4", pot).compute([water_molecule]).extras[0]
    assert {"seed", "call", "improper", "net_force", "net_torque"} <= rnd.keys()


@pytest.mark.parametrize(
    "label, with_diagnostics, without",
    [("2", 19, 18), ("lebedev:3:i", 37, 36), ("i", 2, 2), ("delta:2", 19, 19), ("plain", 1, 1), ("random:1", 1, 1)],
)
def test_plain_evaluation_only_when_needed(label, with_diagnostics, without, water_molecule):
    for diagnostics, expected in [(True, with_diagnostics), (False, without)]:
        counting = CountingPotential(ToyWater())
        out = parse_strategy(label, counting, diagnostics=diagnostics).compute([water_molecule])
        assert counting.structures == expected, (label, diagnostics)
        assert counting.calls == 1
        if not diagnostics and not label.startswith("delta"):
            assert all("energy_plain" not in x for x in out.extras)


def test_identity_in_the_grid_serves_as_plain(water_molecule):
    """For 'i' the plain evaluation is the grid's identity member, not an extra call."""
    pot = ToyWater()
    d = parse_strategy("i", pot).compute([water_molecule]).extras[0]
    assert d["energy_plain"] == pytest.approx(energy(pot, water_molecule), abs=1e-12)


@pytest.mark.parametrize("label", ["random:21", "random:21:i", "random"])
def test_random_stream_continues_from_a_saved_state(label, water_molecule):
    """Calls 0..9 of one strategy = calls 0..4 of one and 5..9 of a fresh one restored from its state."""
    pot = ToyWater()
    batch = [water_molecule, water_molecule]

    def run(strategy, n):
        return [strategy.compute(batch) for _ in range(n)]

    whole = parse_strategy(label, pot)
    first = parse_strategy(label if whole.spec.seed is not None else f"random:{whole.seed}{label[6:]}", pot)
    reference, head = run(whole, 10), run(first, 5)
    state = json.loads(json.dumps(first.state()))  # what a server writes to its state file
    resumed = parse_strategy(label, pot)
    resumed.restore(state)
    tail = run(resumed, 5)
    for ref, got in zip(reference, head + tail):
        np.testing.assert_array_equal(ref.energies, got.energies)
        np.testing.assert_array_equal(np.array(ref.forces), np.array(got.forces))
        assert [x["call"] for x in ref.extras] == [x["call"] for x in got.extras]
    assert tail[0].extras[0]["call"] == 6 and resumed.seed == whole.seed


def test_random_state_of_another_seed_or_kind_is_refused():
    pot = ToyWater()
    state = parse_strategy("random:3", pot).state()
    with pytest.raises(ValueError, match="seed 3, not 4"):
        parse_strategy("random:4", pot).restore(state)
    with pytest.raises(ValueError, match="random:3"):
        parse_strategy("random:3:i", pot).restore(state)
