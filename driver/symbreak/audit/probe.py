"""Rotational behaviour of a potential on one structure, from every rotation of a few grids.

    probe = probe_system(potential, system, l_max=3)
    probe.error("plain").force_mae_meV_per_A, probe.energy_orders.shares

Grids evaluated once each: the identity (plain), ``i`` (2 rotations), ``2i`` (36;
its proper half is ``2``), ``3i`` (150, the reference) and, for the per-l shares,
the Legendre grid of order l_max + 1 with inversion (it resolves every order
l <= l_max; 2i and 3i are reused for l_max 1 and 2). The symmetry error of a
strategy is |E_s - E_3i| per molecule and the mean |F_s - F_3i| per component,
as in the study this project reproduces.
"""

from __future__ import annotations

import time

import numpy as np

from ..core.errors import InputError
from ..potentials.base import Potential
from ..symmetry.angular_orders import AngularPower, angular_power
from ..symmetry.metrics import net_force, net_torque, rms_spread, weighted_mean, weighted_std
from ..symmetry.quadrature import RotationQuadrature
from ..symmetry.strategies import GridAverageStrategy, parse_strategy_spec
from .results import REFERENCE_GRID, OrderShares, StrategyError, SystemProbe
from .systems import AuditSystem

#: relative energy spread and force spread (over the rms force) below which a model counts as invariant:
#: a float32 model's roundoff is ~1e-7 relative, a model that breaks symmetry is orders above
INVARIANT_ENERGY = 1e-6
INVARIANT_FORCE = 1e-5


def _grid(potential: Potential, system: AuditSystem, label: str) -> tuple[RotationQuadrature, np.ndarray, np.ndarray]:
    """(quadrature, E on the grid (N,), back-rotated F on the grid (N, n, 3)) in eV, eV/A."""
    strategy = GridAverageStrategy(potential, parse_strategy_spec(label), diagnostics=False)
    _, _, grids = strategy.compute_with_plain([system.structure], need_plain=False)
    energies, forces, _ = grids[0]
    return strategy.quadrature, np.asarray(energies), np.asarray(forces)


def _proper_half(quad: RotationQuadrature, energies, forces):
    proper = np.linalg.det(quad.rotations) > 0
    weights = quad.weights[proper] / quad.weights[proper].sum()
    return weights, energies[proper], forces[proper]


def _shares(power: AngularPower, quantity: str, grid: str, scale: float) -> OrderShares:
    total = power.variance
    shares = power.shares
    odd = power.power_odd / total if total > 0 and not power.is_invariant else np.zeros_like(power.power_odd)
    return OrderShares(
        quantity=quantity,  # type: ignore[arg-type]
        grid=grid,
        resolved_l_max=power.resolved_l_max,
        shares=tuple(float(x) for x in shares),
        odd=tuple(float(x) for x in odd),
        unresolved=float(power.unresolved_share),
        variance=float(total * scale),
    )


def probe_system(potential: Potential, system: AuditSystem, l_max: int = 3, log=None) -> SystemProbe:
    """Symmetry errors of plain, i, 2, 2i against 3i, spread, per-l shares, net force and torque on one system."""
    if l_max < 1:
        raise InputError(f"--lmax must be >= 1, got {l_max}")
    started = time.perf_counter()
    s = system.structure
    n_mol = max(system.n_molecules, 1)
    plain = potential.compute([s])
    e_plain, f_plain = float(plain.energies[0]), plain.forces[0]
    evaluations = 1
    grids = {}
    for label in ("i", "2i", REFERENCE_GRID):
        grids[label] = _grid(potential, system, label)
        evaluations += len(grids[label][0])
        if log:
            log(f"{system.name}: {label} grid done ({evaluations} evaluations, {time.perf_counter() - started:.1f} s)")
    order_label = {1: "2i", 2: REFERENCE_GRID}.get(l_max, f"{l_max + 1}i")
    if order_label not in grids:
        grids[order_label] = _grid(potential, system, order_label)
        evaluations += len(grids[order_label][0])
        if log:
            log(f"{system.name}: {order_label} grid for the angular orders done ({evaluations} evaluations)")

    averages = {"plain": (e_plain, f_plain)}
    for label in ("i", "2i", REFERENCE_GRID):
        quad, energies, forces = grids[label]
        averages[label] = (float(weighted_mean(energies, quad.weights)), weighted_mean(forces, quad.weights))
    w2, e2, f2 = _proper_half(*grids["2i"])
    averages["2"] = (float(weighted_mean(e2, w2)), weighted_mean(f2, w2))
    counts = {"plain": 1, "i": 2, "2": len(w2), "2i": len(grids["2i"][0])}

    e_ref, f_ref = averages[REFERENCE_GRID]
    errors = tuple(
        StrategyError(
            strategy=label,
            evaluations=counts[label],
            energy_meV_per_molecule=1e3 * abs(averages[label][0] - e_ref) / n_mol,
            force_mae_meV_per_A=1e3 * float(np.mean(np.abs(averages[label][1] - f_ref))),
        )
        for label in ("plain", "i", "2", "2i")
    )
    quad, energies, forces = grids[REFERENCE_GRID]
    e_spread = float(weighted_std(energies, quad.weights))
    f_spread = rms_spread(forces, quad.weights)
    rms_force = float(np.sqrt(np.mean(f_ref**2)))
    invariant = e_spread <= INVARIANT_ENERGY * max(abs(e_ref), 1.0) and f_spread <= INVARIANT_FORCE * max(rms_force, 1e-3)

    quad, energies, forces = grids[order_label]
    e_power = angular_power(energies / n_mol, quad, l_max)
    f_power = angular_power(forces, quad, l_max)
    return SystemProbe(
        system=system.name,
        n_atoms=s.n_atoms,
        n_molecules=system.n_molecules,
        periodic=s.periodic,
        energy_meV_per_molecule=1e3 * e_plain / n_mol,
        energy_spread_meV_per_molecule=1e3 * e_spread / n_mol,
        force_spread_meV_per_A=1e3 * f_spread,
        errors=errors,
        energy_orders=_shares(e_power, "energy", order_label, 1e6),
        force_orders=_shares(f_power, "force", order_label, 1e6),
        net_force_eV_per_A=float(np.linalg.norm(net_force(f_plain))),
        # a periodic system's torque about the centre of mass depends on how atoms are wrapped: not a symmetry test
        net_torque_eV=None if s.periodic else float(np.linalg.norm(net_torque(s.positions, f_plain, s.numbers))),
        invariant=bool(invariant),
        evaluations=evaluations,
        seconds=time.perf_counter() - started,
    )
