"""Model and symmetry errors side by side, grid convergence, the error decomposition."""

import numpy as np
import pytest
from symbreak.analysis.errors import (
    energy_force_errors,
    error_table,
    evaluations,
    format_error_table,
    largest_grid,
    model_and_symmetry_errors,
    rotational_decomposition,
)
from symbreak.symmetry.quadrature import legendre_quadrature


def test_energy_force_errors_of_known_offsets():
    e_ref = np.array([1.0, 2.0, 3.0, 4.0])
    f_ref = np.zeros((4, 6, 3))
    e = e_ref + np.array([0.2, -0.2, 0.2, -0.2])
    f = f_ref + 0.01
    f[0, 0, 0] = 0.03  # one component off by 0.03 instead of 0.01
    err = energy_force_errors(e, f, e_ref, f_ref, n_molecules=2)
    assert err.energy_mae == pytest.approx(0.1) and err.energy_rmse == pytest.approx(0.1)
    assert err.force_mae == pytest.approx(0.01 + 0.02 / 72)
    assert np.isnan(energy_force_errors(e, None, e_ref, f_ref, 2).force_mae)
    # per-frame units (atoms per structure) and frames of their own size
    per_atom = energy_force_errors(e, list(f), e_ref, list(f_ref), np.array([1.0, 2.0, 1.0, 2.0]))
    assert per_atom.energy_mae == pytest.approx(0.15) and per_atom.force_mae == pytest.approx(err.force_mae)


def test_evaluations_follow_the_strategy_strings():
    assert [evaluations(s) for s in ("plain", "0", "i", "2", "2i", "3", "3i", "random:1:i")] == [1, 1, 2, 18, 36, 75, 150, 1]
    with pytest.raises(ValueError, match="unknown strategy"):
        evaluations("best")


def test_error_table_orders_by_cost_and_uses_the_largest_grid_as_symmetry_reference():
    rng = np.random.default_rng(0)
    n_frames, n_atoms = 10, 9
    e_ref = rng.standard_normal(n_frames)
    f_ref = rng.standard_normal((n_frames, n_atoms, 3))
    model_e, model_f = 0.05, 0.02  # an invariant model's own error
    converged = (e_ref + model_e, f_ref + model_f)
    runs = {"3i": converged}
    for label, sym in (("plain", 1e-2), ("2", 3e-3), ("2i", 1e-3)):
        runs[label] = (converged[0] + sym, converged[1] + sym)
    table = error_table(runs, n_molecules=3, reference=(e_ref, f_ref))
    rows = table.rows
    assert table.symmetry_reference == "3i"
    assert [r.label for r in rows] == ["plain", "2", "2i", "3i"]
    assert [r.evaluations for r in rows] == [1, 18, 36, 150]
    np.testing.assert_allclose([r.symmetry.energy_mae for r in rows[:3]], [1e-2 / 3, 3e-3 / 3, 1e-3 / 3])
    np.testing.assert_allclose([r.symmetry.force_mae for r in rows[:3]], [1e-2, 3e-3, 1e-3])
    assert rows[3].symmetry is None
    np.testing.assert_allclose(rows[3].model.energy_mae, model_e / 3)
    np.testing.assert_allclose(table.row("plain").model.force_mae, model_f + 1e-2)
    text = format_error_table(table)
    assert "3i" in text and "150" in text and len(text.splitlines()) == 6

    no_reference = error_table(runs, n_molecules=3, symmetry_reference="2i")
    assert all(r.model is None for r in no_reference.rows)
    assert no_reference.row("3i").symmetry.energy_mae == pytest.approx(1e-3 / 3)
    # the shared function keeps the given order and takes any sizes (the training evaluation's stand-ins)
    plain_big = model_and_symmetry_errors({"plain": runs["plain"], "big": runs["3i"]}, 3, sizes=lambda s: 5 if s == "big" else None)
    assert plain_big.symmetry_reference == "big" and [r.label for r in plain_big.rows] == ["plain", "big"]


def test_largest_grid():
    assert largest_grid(["plain", "i", "2", "2i", "3i"]) == "3i"
    assert largest_grid(["2i", "lebedev:5", "random:3"]) == "lebedev:5"
    assert largest_grid(["plain", "random:1"]) is None
    with pytest.raises(ValueError, match="correction"):
        largest_grid(["plain", "delta:2i"])


def test_error_table_refuses_mismatched_inputs():
    e = np.zeros(5)
    f = np.zeros((5, 3, 3))
    with pytest.raises(ValueError, match="'2i' energies must have shape \\(5,\\)"):
        error_table({"plain": (e, f), "2i": (e[:4], f[:4])}, n_molecules=1)
    with pytest.raises(ValueError, match="forces must have shape"):
        error_table({"plain": (e, f[:, :, :2])}, n_molecules=1)
    with pytest.raises(ValueError, match="not among the strategies"):
        error_table({"plain": (e, f)}, n_molecules=1, symmetry_reference="3i")


def test_rotational_decomposition_identity_on_a_legendre_grid():
    rng = np.random.default_rng(1)
    quad = legendre_quadrature(3, inversion=True)
    n_frames, n_rot = 6, len(quad)
    reference = rng.standard_normal((n_frames, 4, 3))
    per_rotation = reference[:, None] + 0.1 + 0.05 * rng.standard_normal((n_frames, n_rot, 4, 3))
    d = rotational_decomposition(per_rotation, quad.weights, reference)
    assert d.mse == pytest.approx(d.bias_squared + d.variance, rel=1e-12)
    averaged = np.einsum("r,trij->tij", quad.weights, per_rotation) / quad.weights.sum()
    assert d.bias_squared == pytest.approx(np.mean((averaged - reference) ** 2))
    energies = rotational_decomposition(per_rotation[..., 0, 0], quad.weights, reference[..., 0, 0])
    assert energies.mse == pytest.approx(energies.bias_squared + energies.variance, rel=1e-12)
    with pytest.raises(ValueError, match="weights must be"):
        rotational_decomposition(per_rotation, quad.weights[:-1], reference)
    with pytest.raises(ValueError, match="reference must have shape"):
        rotational_decomposition(per_rotation, quad.weights, reference[:, :2])
