"""Fixtures of the audit tests: the probed molecule and toy waters with one known anisotropic term.

    def test_x(molecule, toy_probe): probe = toy_probe("l2")

The toy's anisotropic term a P_l(u . n) on one molecule is, as a function of the
rotation g, pure angular order l with parity (-1)^l: every audit number for it
has a known answer (see tests/audit/test_probe.py).
"""

import pytest
from symbreak.audit.probe import probe_system
from symbreak.audit.systems import build_systems
from symbreak.potentials import load_potential

#: amplitude of the single anisotropic term, eV (10 meV)
AMPLITUDE = 0.01

#: name -> (dipole_amplitudes, bond_amplitudes) of the toy variants
TOYS = {
    "invariant": ({}, {}),
    "l1": ({1: AMPLITUDE}, {}),
    "l2": ({2: AMPLITUDE}, {}),
    "l3": ({3: AMPLITUDE}, {}),
}


def toy(name: str):
    """The toy water with only the anisotropic term ``name`` (TOYS) switched on."""
    dipole, bond = TOYS[name]
    return load_potential("toy", dipole_amplitudes=dipole, bond_amplitudes=bond)


@pytest.fixture(scope="session")
def molecule():
    """The audit's isolated molecule (slightly distorted, not aligned with the lab axes), no frames."""
    return build_systems(("molecule",), quick=True, frames=0)[0]


@pytest.fixture(scope="session")
def toy_probe(molecule):
    """``toy_probe("l2", l_max=2)``: probe_system of a TOYS variant on the molecule, cached per (name, l_max)."""
    cache = {}

    def probe(name: str, l_max: int = 2):
        if (name, l_max) not in cache:
            cache[name, l_max] = probe_system(toy(name), molecule, l_max=l_max)
        return cache[name, l_max]

    return probe


def make_report(probes, *, model_errors=(), nve=(), reference=None, label="toy"):
    """An AuditReport as `symbreak audit` assembles it, from real probes and the verdict on them."""
    from symbreak.audit.report import verdict
    from symbreak.audit.results import AuditReport

    by = {r.strategy: r for r in nve}
    ratio = by["plain"].L_max_change_hbar / by["2i"].L_max_change_hbar if {"plain", "2i"} <= set(by) else None
    return AuditReport(
        potential="toy", label=label, description="toy water", reference=reference,
        systems=tuple(probes), model_errors=tuple(model_errors), nve=tuple(nve), nve_drift_ratio=ratio,
        verdict=tuple(verdict(label, list(probes), list(model_errors), list(nve), reference, foreign=False)),
        notes=("a note",), seconds=1.5,
    )


def nve_pair(plain=0.26, averaged=0.08):
    """NVE results of plain and 2i with the L changes given (hbar), as molecule_nve returns them."""
    from symbreak.audit.results import NVEResult

    return tuple(
        NVEResult(strategy=s, steps=40, duration_fs=20.0, L0_hbar=5.9, L_max_change_hbar=dl, L_direction_change_deg=2.0 * dl,
                  torque_rms_eV=0.05 * dl, ms_per_step=30.0, run=f"nve/{s}")
        for s, dl in (("plain", plain), ("2i", averaged))
    )
