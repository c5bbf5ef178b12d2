"""Conserved-quantity drift: a known linear drift under correlated noise, with an honest error bar."""

import dataclasses

import numpy as np
import pytest
from symbreak.analysis.energy import conserved_drift


def drifting_series(slope, n_molecules, seed, n=20000, dt=0.001, rho=0.95, sigma=0.05):
    """Total conserved quantity (eV): slope per molecule per ps plus AR(1) noise of std sigma."""
    rng = np.random.default_rng(seed)
    noise = np.empty(n)
    noise[0] = rng.standard_normal()
    kicks = rng.standard_normal(n) * np.sqrt(1 - rho**2)
    for k in range(1, n):
        noise[k] = rho * noise[k - 1] + kicks[k]
    t = np.arange(n) * dt
    return t, -500.0 + n_molecules * slope * t + sigma * noise


def test_linear_drift_is_recovered_with_its_error_bar():
    slope, n_mol = 2e-3, 64
    z = []
    for seed in range(20):
        t, e = drifting_series(slope, n_mol, seed)
        d = conserved_drift(t, e, n_molecules=n_mol, n_blocks=20)
        z.append((d.drift - slope) / d.drift_err)
    z = np.array(z)
    assert np.all(np.abs(z) < 4)
    assert 0.5 < np.std(z) < 1.6  # the error bar is neither too small nor too large
    assert d.fluctuation == pytest.approx(0.05 / n_mol, rel=0.2)
    assert d.duration == pytest.approx(t[-1])
    assert d.intercept == pytest.approx(-500.0 / n_mol, abs=1e-3)


def test_a_noiseless_line_is_exact():
    t = np.arange(100) * 0.5
    d = conserved_drift(t, 3.0 + 0.2 * t, n_molecules=2)
    assert d.drift == pytest.approx(0.1) and d.drift_err < 1e-8
    assert d.fluctuation == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.drift = 0.0  # a result, not a workspace


def test_bad_inputs_are_refused():
    t = np.arange(100) * 0.5
    with pytest.raises(ValueError, match="not uniformly spaced"):
        conserved_drift(np.concatenate([t[:50], t[51:], [60.0]]), np.zeros(100), n_molecules=1)
    with pytest.raises(ValueError, match="equal length"):
        conserved_drift(t, np.zeros(99), n_molecules=1)
    with pytest.raises(ValueError, match="n_molecules"):
        conserved_drift(t, np.zeros(100), n_molecules=0)
