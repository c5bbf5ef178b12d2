"""Centroid-virial kinetic energy and ring-polymer size: classical limit and the harmonic oscillator."""

import numpy as np
import pytest
from ase import units
from symbreak.analysis.angular import hbar_ase
from symbreak.analysis.pimd import bead_deviations, centroid_virial_kinetic_energy, radius_of_gyration

TEMPERATURE = 300.0


def ring_modes(n_beads):
    """Eigenvalues 4 sin^2(pi j / P) and orthonormal eigenvectors (columns) of the ring's spring matrix."""
    ring = 2 * np.eye(n_beads) - np.roll(np.eye(n_beads), 1, axis=0) - np.roll(np.eye(n_beads), -1, axis=0)
    return np.linalg.eigh(ring) if n_beads > 1 else (np.zeros(1), np.ones((1, 1)))


def mode_variances(n_beads, mass, omega):
    """Variances (A^2) of the normal modes of a harmonic ring polymer at TEMPERATURE (i-PI's beta_P = beta / P)."""
    beta = 1 / (units.kB * TEMPERATURE)
    omega_p = n_beads / (beta * hbar_ase())
    lam, _ = ring_modes(n_beads)
    return n_beads / (beta * mass * (omega_p**2 * lam + omega**2))


def sample_harmonic_rings(n_beads, masses, omegas, n_frames, seed):
    """Exact samples of the discretised path distribution of 3-d oscillators: positions and forces (P, T, N, 3)."""
    rng = np.random.default_rng(seed)
    _, vectors = ring_modes(n_beads)
    positions = []
    for mass, omega in zip(masses, omegas):
        modes = rng.standard_normal((n_beads, n_frames, 3)) * np.sqrt(mode_variances(n_beads, mass, omega))[:, None, None]
        positions.append(np.einsum("km,mtj->ktj", vectors, modes))
    positions = np.stack(positions, axis=2) + 5.0  # (P, T, N, 3), the wells centred at 5 A
    forces = -(masses * omegas**2)[None, None, :, None] * (positions - 5.0)
    return positions, forces


def exact_kinetic(n_beads, omega):
    """<K_cv> per atom (3 dof) of the P-bead harmonic ring polymer, and the quantum (P -> infinity) value."""
    beta = 1 / (units.kB * TEMPERATURE)
    omega_p = n_beads / (beta * hbar_ase())
    lam, _ = ring_modes(n_beads)
    finite = 1 / (2 * beta) + omega**2 / (2 * beta) * np.sum(1 / (omega_p**2 * lam[1:] + omega**2))
    hw = hbar_ase() * omega
    return 3 * finite, 3 * hw / 4 / np.tanh(beta * hw / 2)


def test_one_bead_gives_the_classical_kinetic_energy_exactly():
    rng = np.random.default_rng(0)
    positions = rng.standard_normal((1, 7, 6, 3))
    forces = rng.standard_normal((1, 7, 6, 3))
    k = centroid_virial_kinetic_energy(positions, forces, [8, 1, 1, 8, 1, 1], TEMPERATURE)
    kt = units.kB * TEMPERATURE
    assert k.kinetic == {"H": pytest.approx(1.5 * kt, abs=1e-15), "O": pytest.approx(1.5 * kt, abs=1e-15)}
    assert k.classical == pytest.approx(1.5 * kt)
    assert k.n_beads == 1 and k.error is None and k.blocks is None  # no blocks asked for
    assert radius_of_gyration(positions, [8, 1, 1, 8, 1, 1]).rg == {"H": 0.0, "O": 0.0}


def test_harmonic_oscillator_approaches_the_quantum_kinetic_energy():
    n_beads = 32
    kt = units.kB * TEMPERATURE
    masses = np.array([16.0, 1.0, 1.0])
    omegas = np.array([1.0, 4.0, 4.0]) * kt / hbar_ase()  # beta hbar omega = 1 for O, 4 for H
    positions, forces = sample_harmonic_rings(n_beads, masses, omegas, n_frames=4000, seed=1)
    k = centroid_virial_kinetic_energy(positions, forces, [8, 1, 1], TEMPERATURE, n_blocks=10)
    for symbol, omega in (("O", omegas[0]), ("H", omegas[1])):
        finite, quantum = exact_kinetic(n_beads, omega)
        assert finite == pytest.approx(quantum, rel=0.01)  # 32 beads converge beta hbar omega = 4 to 1 %
        assert abs(k.kinetic[symbol] - finite) < 4 * k.error[symbol]
    assert k.kinetic["H"] > 2 * k.classical  # (x/2) coth(x/2) = 2.07 at x = 4: a quantum hydrogen

    g = radius_of_gyration(positions, [8, 1, 1], n_blocks=10)
    for symbol, mass, omega in (("O", 16.0, omegas[0]), ("H", 1.0, omegas[1])):
        exact = np.sqrt(3 * np.sum(mode_variances(n_beads, mass, omega)[1:]) / n_beads)
        assert abs(g.rg[symbol] - exact) < 4 * g.error[symbol]


def test_rings_wrapped_bead_by_bead_give_the_same_result():
    masses = np.array([16.0, 1.0, 1.0])
    omegas = np.full(3, 4.0) * units.kB * TEMPERATURE / hbar_ase()
    positions, forces = sample_harmonic_rings(8, masses, omegas, n_frames=5, seed=2)
    cell = np.array([[6.0, 0.0, 0.0], [1.0, 6.0, 0.0], [0.5, -1.0, 7.0]])
    rng = np.random.default_rng(3)
    wrapped = positions + rng.integers(-1, 2, positions.shape[:3] + (1, 3)).squeeze(-2) @ cell
    np.testing.assert_allclose(bead_deviations(wrapped, cell), bead_deviations(positions), atol=1e-10)
    a = centroid_virial_kinetic_energy(positions, forces, [8, 1, 1], TEMPERATURE)
    b = centroid_virial_kinetic_energy(wrapped, forces, [8, 1, 1], TEMPERATURE, cells=cell)
    assert a.kinetic == pytest.approx(b.kinetic)


def test_bad_inputs_are_refused():
    x = np.zeros((4, 2, 3, 3))
    with pytest.raises(ValueError, match="same"):
        centroid_virial_kinetic_energy(x, x[:, :1], [8, 1, 1], TEMPERATURE)
    with pytest.raises(ValueError, match="temperature"):
        centroid_virial_kinetic_energy(x, x, [8, 1, 1], -1.0)
    with pytest.raises(ValueError, match="numbers must be 3"):
        centroid_virial_kinetic_energy(x, x, [8, 1], TEMPERATURE)
    with pytest.raises(ValueError, match="beads first"):
        radius_of_gyration(np.zeros((3, 3)), [8, 1, 1])


def test_few_beads_give_the_discretised_value_not_the_quantum_one():
    omegas = np.full(3, 4.0) * units.kB * TEMPERATURE / hbar_ase()
    positions, forces = sample_harmonic_rings(4, np.array([16.0, 1.0, 1.0]), omegas, n_frames=2000, seed=4)
    k = centroid_virial_kinetic_energy(positions, forces, [8, 1, 1], TEMPERATURE, n_blocks=10)
    finite, quantum = exact_kinetic(4, omegas[0])
    assert finite < 0.92 * quantum
    for symbol in ("H", "O"):
        assert abs(k.kinetic[symbol] - finite) < 4 * k.error[symbol]
