"""The one writer of observables: undeclared names, runs and block values fail at once; units come from the registry."""

import numpy as np
import pytest
from symbreak.analysis import collector as collector_module
from symbreak.analysis.collector import ObservableCollector, UndeclaredForRun
from symbreak.analysis.observables import UnknownObservable, observable_spec
from symbreak.analysis.trajectory import ScalarValue, Trajectory
from symbreak.potentials.testing import water_molecule


def test_units_and_axes_come_from_the_declaration():
    out = ObservableCollector("liquid")
    out.scalar("potential", -0.41, 0.01, blocks=[-0.4, -0.42], block_times=[0.1, 0.3])
    out.curve("g_OO", [1.0, 2.0], [0.0, 1.5], [0.0, 0.1])
    p = out.scalars["potential"]
    assert (p.name, p.unit, p.value, p.error, p.blocks) == ("potential", "eV/H2O", -0.41, 0.01, (-0.4, -0.42))
    g = out.curves["g_OO"]
    assert (g.x_axis, g.y_axis) == ("r / A", "g_OO(r)")
    out.curve("g_OH", [1.0], [0.5], y_label="g_OH(r), all beads")
    assert out.curves["g_OH"].y_axis == "g_OH(r), all beads"


def test_a_misspelt_name_fails_when_written():
    out = ObservableCollector("liquid")
    with pytest.raises(UnknownObservable, match="temprature"):
        out.scalar("temprature", 300.0)
    with pytest.raises(UnknownObservable):
        out.curve("g_OX", [1.0], [1.0])
    assert out.scalars == {} and out.curves == {}


def test_an_observable_of_another_kind_of_run_fails():
    with pytest.raises(UndeclaredForRun, match="gas"):
        ObservableCollector("liquid").scalar("torque_rms", 1e-3)
    with pytest.raises(UndeclaredForRun):
        ObservableCollector("geop").scalar("bond_OH", 0.97)


def test_block_values_only_for_paired_observables():
    assert not observable_spec("scalar", "conserved_drift").paired
    with pytest.raises(ValueError, match="not declared paired"):
        ObservableCollector("liquid").scalar("conserved_drift", 1e-4, 1e-5, blocks=[1.0, 2.0], block_times=[0.0, 1.0])


def _trajectory(frames=8, cell=True):
    rng = np.random.default_rng(0)
    molecules = [water_molecule(seed=k) for k in range(4)]
    base = np.concatenate([m.positions + 3.0 * k for k, m in enumerate(molecules)])
    positions = base[None] + 0.01 * rng.standard_normal((frames, len(base), 3))
    numbers = np.concatenate([m.numbers for m in molecules])
    cells = np.broadcast_to(15.0 * np.eye(3), (frames, 3, 3)) if cell else None
    return Trajectory(numbers, positions, 1e-3 * np.arange(frames), cells, None, 4)


def test_frame_observables_are_computed_for_the_runs_they_are_declared_for():
    out = ObservableCollector("liquid")
    out.computed(_trajectory())
    bond = out.scalars["bond_OH"]
    assert bond.unit == "A" and 0.9 < bond.value < 1.05 and bond.error > 0 and len(bond.blocks) == 4
    p = out.curves["bond_OH_distribution"]
    assert p.x_axis == "r / A" and p.y_axis == "P(r_OH) / 1/A" and p.y_error is not None
    out = ObservableCollector("geop")
    out.computed(_trajectory())
    assert out.scalars == {} and out.curves == {}


def test_a_compute_that_returns_the_wrong_kind_is_caught(monkeypatch):
    spec = observable_spec("curve", "bond_OH_distribution")
    wrong = type(spec)(**{**spec.__dict__, "compute": lambda traj: ScalarValue(1.0)})
    monkeypatch.setattr(collector_module, "computed_for", lambda kind: (wrong,))
    with pytest.raises(TypeError, match="bond_OH_distribution is a curve"):
        ObservableCollector("liquid").computed(_trajectory())
