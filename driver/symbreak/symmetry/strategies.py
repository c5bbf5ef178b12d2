"""Symmetrization strategies: wrappers that make any potential (more) rotation invariant.

    from symbreak.symmetry import parse_strategy
    averaged = parse_strategy("2i", potential)       # legendre:2 + inversion, 36 rotations
    result = averaged.compute([structure])          # batched, chunked, one call
    result.extras[0][keys.ENERGY_SPREAD]              # the diagnostics' keys: symmetry.extras_keys
    turned = parse_strategy("2i+random:7+notorque", potential)   # a randomly turned 2i, torque-free

The strategy strings and their parser are in :mod:`symbreak.symmetry.strategy_spec`
(re-exported here); this module holds the wrappers that carry them out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..core.errors import InputError
from ..core.structure import Evaluation, Structure, split_batch
from ..potentials.base import Potential
from . import extras_keys as keys
from .metrics import (
    net_force,
    net_torque,
    remove_net_force,
    remove_net_force_and_torque,
    rms_spread,
    weighted_mean,
    weighted_std,
)
from .strategy_spec import (
    GRID_KINDS,
    STRATEGY_FORMS,
    STRATEGY_HELP,
    GridKind,
    NetCorrection,
    StrategyKind,
    StrategySpec,
    parse_strategy_spec,
)
from .rotations import haar_rotations, rotate_forces_back, rotate_virial_back

def centred(structure: Structure) -> tuple[Structure, np.ndarray | None]:
    """Usage: centred(s) -> (s moved so that its centroid is at the origin, the centroid) if isolated; (s, None) if periodic.

    The grids rotate about the origin. i-PI keeps an isolated molecule in the
    middle of its 100 A box, so rotating it as it comes sends the copies ~90 A
    away: energies and forces do not change (translation invariance), but some
    models' neighbour searches cost more with the region the coordinates span
    (SevenNet-0 through ASE: 6x slower for a molecule at (50, 50, 50) A). The
    virial of an isolated system, sum_i F_i r_i^T, depends on the origin: see
    :func:`virial_about_origin`.
    """
    if structure.periodic:
        return structure, None
    centre = structure.positions.mean(axis=0)
    return Structure(structure.positions - centre, structure.numbers, None), centre


def virial_about_origin(virial: np.ndarray, forces: np.ndarray, centre: np.ndarray | None) -> np.ndarray:
    """Usage: virial_about_origin(W, F, c) -> the isolated-system virial sum_i F_i r_i^T of the structure moved back by c."""
    return virial if centre is None else virial + np.outer(np.asarray(forces).sum(axis=0), centre)


def evaluate_chunked(potential: Potential, structures: Sequence[Structure], chunk_size: int | None) -> Evaluation:
    """One or more batched calls of at most ``chunk_size`` structures and the potential's atom limit each."""
    chunks = split_batch(structures, chunk_size, potential.max_atoms_per_call)
    if len(chunks) == 1:
        return potential.compute(chunks[0])
    return Evaluation.concatenate([potential.compute(c) for c in chunks])


def plain_diagnostics(structure: Structure, energy: float, forces: np.ndarray) -> dict:
    """Net force and torque (about the centre of mass) of one evaluation."""
    return {
        keys.ENERGY_PLAIN: float(energy),
        keys.NET_FORCE_PLAIN: net_force(forces).tolist(),
        keys.NET_TORQUE_PLAIN: net_torque(structure.positions, forces, structure.numbers).tolist(),
    }


class Strategy(Potential):
    """Base of the wrappers: holds the wrapped potential and the parsed spec."""

    def __init__(self, base: Potential, spec: StrategySpec, chunk_size: int | None = None, diagnostics: bool = True):
        self.base = base
        self.spec = spec
        self.chunk_size = chunk_size if chunk_size is not None else base.chunk_size
        self.max_atoms_per_call = base.max_atoms_per_call
        self.diagnostics = diagnostics
        self.species = base.species
        self.name = f"{base.name}[{spec.label}]"

    @property
    def label(self) -> str:
        return self.spec.label

    def close(self) -> None:
        self.base.close()


class PlainStrategy(Strategy):
    """The model as it is, with its net force and torque as diagnostics."""

    def compute(self, structures):
        out = evaluate_chunked(self.base, structures, self.chunk_size)
        if self.diagnostics:
            out.extras = [
                {keys.STRATEGY: "plain", **plain_diagnostics(s, e, f)}
                for s, e, f in zip(structures, out.energies, out.forces)
            ]
        return out


class RandomStream:
    """Usage: a mixin; ``strategy.state()`` / ``strategy.restore(state)`` carry its seeded rotation stream.

    The stream is numpy's default generator seeded with ``seed`` (drawn and
    reported when the spec has none); ``state()`` and ``restore(state)`` carry
    it (the generator's state and the call count) across a restart, so that a
    resumed server (``symbreak serve --state FILE``) continues the stream where
    the stopped one left it instead of repeating it from the seed.
    """

    def _start_stream(self, spec: StrategySpec) -> None:
        self.seed = spec.seed if spec.seed is not None else int(np.random.SeedSequence().entropy % (2**31))
        self.rng = np.random.default_rng(self.seed)
        self.calls = 0

    def state(self) -> dict:
        """Usage: strategy.state() -> the stream's position, JSON-serialisable (strategy, seed, calls, generator)."""
        return {"strategy": self.spec.label, "seed": self.seed, "calls": self.calls,
                "bit_generator": self.rng.bit_generator.state}

    def restore(self, state: dict) -> None:
        """Usage: strategy.restore(state) continues the stream; InputError if it is another seed's or strategy's."""
        label = state.get("strategy")
        try:
            other = parse_strategy_spec(label) if isinstance(label, str) else None
        except InputError:
            other = None
        if other is None or other.kind != "random" or "bit_generator" not in state:
            raise InputError("not the state of a random strategy")
        if self.spec.seed is not None and state.get("seed") != self.spec.seed:
            raise InputError(f"the state continues seed {state.get('seed')}, not {self.spec.seed}")
        if replace(other, seed=None) != replace(self.spec, seed=None):
            raise InputError(f"the state is of '{label}', not '{self.spec.label}'")
        rng = np.random.default_rng(int(state["seed"]))
        rng.bit_generator.state = state["bit_generator"]
        self.seed, self.rng, self.calls = int(state["seed"]), rng, int(state["calls"])


class RandomRotationStrategy(RandomStream, Strategy):
    """A fresh Haar-random rotation for every structure of every call (seedable, reproducible, resumable).

    Removes orientational bias on average at the cost of the plain model, but
    makes forces stochastic and non-conservative: use with a thermostat. See
    :class:`RandomStream` for the seed and the state of the stream.
    """

    def __init__(self, base, spec, **kwargs):
        super().__init__(base, spec, **kwargs)
        self._start_stream(spec)

    def compute(self, structures):
        rotations = haar_rotations(self.rng, len(structures), improper=self.spec.inversion)
        moved = [centred(s) for s in structures]
        rotated = [s.rotated(r) for (s, _), r in zip(moved, rotations)]
        out = evaluate_chunked(self.base, rotated, self.chunk_size)
        forces = [rotate_forces_back(f, r) for f, r in zip(out.forces, rotations)]
        virials = np.array([virial_about_origin(rotate_virial_back(w, r), f, c)
                            for w, r, f, (_, c) in zip(out.virials, rotations, forces, moved)])
        self.calls += 1
        extras = []
        if self.diagnostics:
            for s, f, r in zip(structures, forces, rotations):
                extras.append(
                    {
                        keys.STRATEGY: self.spec.label,
                        keys.SEED: self.seed,
                        keys.CALL: self.calls,
                        keys.IMPROPER: bool(np.linalg.det(r) < 0),
                        keys.NET_FORCE: net_force(f).tolist(),
                        keys.NET_TORQUE: net_torque(s.positions, f, s.numbers).tolist(),
                    }
                )
        return Evaluation(out.energies.copy(), forces, virials, extras)


@dataclass(frozen=True)
class RotationalSpread:
    """The weighted standard deviation over a grid's rotations of one structure's back-rotated results.

    ``energy`` (eV), ``forces`` (n, 3) eV/A and ``virial`` (3, 3) eV, element by element: how much the
    model's answer depends on the orientation (zero for an invariant model).
    """

    energy: float
    forces: np.ndarray
    virial: np.ndarray


def rotational_spreads(grids, weights) -> list[RotationalSpread]:
    """Usage: rotational_spreads(grids, quadrature.weights) -> one RotationalSpread per structure of a grid call."""
    return [RotationalSpread(float(weighted_std(e, weights)), weighted_std(f, weights), weighted_std(w, weights))
            for e, f, w in grids]


class GridAverageStrategy(Strategy):
    """Average over a rotation quadrature, computed in batched chunks.

    E_avg = sum_k w_k E(R_k x), F_avg = sum_k w_k R_k^T F(R_k x), W_avg = sum_k w_k R_k^T W(R_k x) R_k.
    With diagnostics, also evaluates the plain model once (cost 1/N more) for
    the plain energy, its net torque and the raw-minus-averaged difference.
    """

    def __init__(self, base, spec, **kwargs):
        super().__init__(base, spec, **kwargs)
        self.quadrature = spec.quadrature()
        identity = np.all(np.abs(self.quadrature.rotations - np.eye(3)) < 1e-12, axis=(1, 2))
        self._identity_index = int(np.argmax(identity)) if identity.any() else None

    def compute_with_plain(self, structures, need_plain: bool, frames: np.ndarray | None = None
                           ) -> tuple[Evaluation, Evaluation | None, list]:
        """Averaged evaluation, the plain one (if asked or free) and per-structure grid data.

        ``frames`` (B, 3, 3), if given, turns the whole grid of structure b:
        its rotations become R_k @ frames[b] (the grid evaluated on the
        structure turned by frames[b], back-rotated to the original frame).
        """
        quad = self.quadrature
        n_rot = len(quad)
        free_plain = self._identity_index is not None and frames is None
        plain_extra = need_plain and not free_plain
        batch, grid_rotations, centres = [], [], []
        for b, s in enumerate(structures):
            rotations = quad.rotations if frames is None else quad.rotations @ frames[b]
            grid_rotations.append(rotations)
            moved, centre = centred(s)
            centres.append(centre)
            batch.extend(moved.rotated(r) for r in rotations)
            if plain_extra:
                batch.append(s)
        raw = evaluate_chunked(self.base, batch, self.chunk_size)
        stride = n_rot + (1 if plain_extra else 0)
        energies, forces, virials, grids = [], [], [], []
        plain_e, plain_f, plain_w = [], [], []
        for b, rotations in enumerate(grid_rotations):
            lo = b * stride
            e_grid = raw.energies[lo : lo + n_rot]
            f_grid = np.stack([rotate_forces_back(f, r) for f, r in zip(raw.forces[lo : lo + n_rot], rotations)])
            w_grid = np.stack([virial_about_origin(rotate_virial_back(w, r), f, centres[b])
                               for w, r, f in zip(raw.virials[lo : lo + n_rot], rotations, f_grid)])
            energies.append(weighted_mean(e_grid, quad.weights))
            forces.append(weighted_mean(f_grid, quad.weights))
            virials.append(weighted_mean(w_grid, quad.weights))
            grids.append((e_grid, f_grid, w_grid))
            if plain_extra:
                plain_e.append(raw.energies[lo + n_rot])
                plain_f.append(raw.forces[lo + n_rot])
                plain_w.append(raw.virials[lo + n_rot])
            elif need_plain:
                k = lo + self._identity_index
                plain_e.append(raw.energies[k])
                plain_f.append(raw.forces[k])
                plain_w.append(virial_about_origin(raw.virials[k], raw.forces[k], centres[b]))
        averaged = Evaluation(np.array(energies), forces, np.array(virials))
        plain = Evaluation(np.array(plain_e), plain_f, np.array(plain_w)) if need_plain else None
        return averaged, plain, grids

    def _diagnostics(self, structures, averaged, plain, grids) -> list[dict]:
        quad = self.quadrature
        extras = []
        for b, s in enumerate(structures):
            e_grid, f_grid, _ = grids[b]
            d = {
                keys.STRATEGY: self.spec.label,
                keys.N_ROTATIONS: len(quad),
                keys.ENERGY_AVERAGED: float(averaged.energies[b]),
                keys.ENERGY_SPREAD: float(weighted_std(e_grid, quad.weights)),
                keys.FORCE_SPREAD: rms_spread(f_grid, quad.weights),
            }
            if plain is not None:
                d.update(plain_diagnostics(s, plain.energies[b], plain.forces[b]))
                d[keys.ENERGY_PLAIN_MINUS_AVERAGED] = float(plain.energies[b] - averaged.energies[b])
                diff = plain.forces[b] - averaged.forces[b]
                d[keys.FORCE_PLAIN_MINUS_AVERAGED_RMS] = float(np.sqrt(np.mean(diff**2)))
            extras.append(d)
        return extras

    #: the rotational spreads of the structures of the last call (read by the ASE calculator)
    last_spreads: list[RotationalSpread] | None = None

    def compute(self, structures):
        averaged, plain, grids = self.compute_with_plain(structures, need_plain=self.diagnostics)
        self.last_spreads = rotational_spreads(grids, self.quadrature.weights)
        if self.diagnostics:
            averaged.extras = self._diagnostics(structures, averaged, plain, grids)
        return averaged


class RandomGridStrategy(RandomStream, GridAverageStrategy):
    """GRID+random[:SEED]: the grid turned as a whole by a fresh Haar-random rotation per structure per call.

    One call on x equals the fixed grid's average on R x, back-rotated:
    E = sum_k w_k E(R_k R x), F = sum_k w_k (R_k R)^T F(R_k R x). Since the
    Haar measure is invariant, every call still cancels exactly the angular
    orders the fixed grid cancels, and the average over calls cancels the
    rest too (the fixed grid's own orientation bias), at the grid's cost per
    call. R is a proper rotation (the grid's :i adds the inversion); the stream
    is that of random[:SEED] (:class:`RandomStream`: seeded, resumable), so
    1+random:S gives exactly random:S.
    """

    def __init__(self, base, spec, **kwargs):
        super().__init__(base, spec, **kwargs)
        self._start_stream(spec)

    def compute(self, structures):
        frames = haar_rotations(self.rng, len(structures))
        averaged, plain, grids = self.compute_with_plain(structures, need_plain=self.diagnostics, frames=frames)
        self.last_spreads = rotational_spreads(grids, self.quadrature.weights)
        self.calls += 1
        if self.diagnostics:
            averaged.extras = self._diagnostics(structures, averaged, plain, grids)
            for d in averaged.extras:
                d.update(seed=self.seed, call=self.calls)
        return averaged


class DeltaStrategy(GridAverageStrategy):
    """Averaged minus plain: the slow correction applied on the outer step of MTS.

    In i-PI: `<nmts>[1,10]</nmts>`; mts_weights list the outer level first, so the
    plain server gets [0,1] (inner) and this one [1,0] (outer), or equivalently
    plain [-1,1] and the averaged server [1,0].
    """

    def compute(self, structures):
        averaged, plain, grids = self.compute_with_plain(structures, need_plain=True)
        delta = Evaluation(
            averaged.energies - plain.energies,
            [a - p for a, p in zip(averaged.forces, plain.forces)],
            averaged.virials - plain.virials,
        )
        if self.diagnostics:
            delta.extras = self._diagnostics(structures, averaged, plain, grids)
        return delta


class NetCorrectionStrategy(Strategy):
    """S+notorque / S+nonetforce: the inner strategy S, then its net force (and net torque) removed.

    +nonetforce subtracts the mean force; +notorque also removes the net torque
    with the smallest change of the forces (:func:`remove_net_force_and_torque`).
    The energy is the inner one. For an isolated system the virial follows the
    forces: W' = W + sum_i dF_i r_i^T, i.e. sum_i F'_i r_i^T when W = sum_i F_i r_i^T
    (symbreak's definition for a finite system); for a periodic one (+nonetforce
    only) it is left as it is, a uniform force having no virial in a cell.
    The corrected forces are not the gradient of the energy unless the
    correction is zero (an invariant model): the point is to keep the total
    momentum and angular momentum of an isolated molecule conserved.
    A periodic structure is refused by +notorque when it arrives (InputError).
    Anything else (state, restore, seed, quadrature) is the inner strategy's.
    """

    def __init__(self, base, spec, inner: Strategy, **kwargs):
        super().__init__(base, spec, **kwargs)
        self.inner = inner

    def __getattr__(self, name):
        # only called for attributes this wrapper lacks: the inner strategy's stream, quadrature, seed, ...
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def compute(self, structures):
        if self.spec.net == "torque":
            for s in structures:
                if s.periodic:
                    raise InputError(f"strategy '{self.spec.label}': +notorque removes the net torque of an isolated "
                                     "system; periodic systems have no conserved angular momentum (serve with "
                                     "--vacuum for a molecule, or use +nonetforce)")
        out = self.inner.compute(structures)
        forces, virials = [], np.array(out.virials, dtype=float, copy=True)
        for b, (s, f) in enumerate(zip(structures, out.forces)):
            fixed = (remove_net_force_and_torque(s.positions, f) if self.spec.net == "torque"
                     else remove_net_force(f))
            if not s.periodic:
                virials[b] += (fixed - f).T @ s.positions
            forces.append(fixed)
        extras = []
        if self.diagnostics:
            for b, (s, f) in enumerate(zip(structures, out.forces)):
                inner = out.extras[b] if b < len(out.extras) else {}
                d = {keys.STRATEGY: self.spec.label, **{k: v for k, v in inner.items() if k != keys.STRATEGY}}
                d[keys.NET_FORCE_REMOVED] = net_force(f).tolist()
                if self.spec.net == "torque":
                    d[keys.NET_TORQUE_REMOVED] = net_torque(s.positions, f, s.numbers).tolist()
                extras.append(d)
        return Evaluation(out.energies.copy(), forces, virials, extras)


def parse_strategy(spec: str | StrategySpec, potential: Potential, **options) -> Strategy:
    """Usage: parse_strategy("2i+notorque", potential) -> the potential wrapped in that strategy.

    Options: chunk_size (structures per batched call), diagnostics (bool).
    """
    if isinstance(spec, str):
        spec = parse_strategy_spec(spec)
    if spec.net is not None:
        inner = parse_strategy(replace(spec, net=None), potential, **options)
        return NetCorrectionStrategy(potential, spec, inner, **options)
    if spec.random_grid:
        return RandomGridStrategy(potential, spec, **options)
    cls = {
        "plain": PlainStrategy,
        "random": RandomRotationStrategy,
        "legendre": GridAverageStrategy,
        "lebedev": GridAverageStrategy,
        "delta": DeltaStrategy,
    }[spec.kind]
    return cls(potential, spec, **options)


__all__ = [
    # the grammar, re-exported from strategy_spec
    "GRID_KINDS", "STRATEGY_FORMS", "STRATEGY_HELP", "GridKind", "NetCorrection", "StrategyKind", "StrategySpec",
    "parse_strategy_spec",
    # the wrappers
    "DeltaStrategy", "GridAverageStrategy", "NetCorrectionStrategy", "PlainStrategy", "RandomGridStrategy",
    "RandomRotationStrategy", "RandomStream", "RotationalSpread", "Strategy", "centred", "evaluate_chunked",
    "parse_strategy", "plain_diagnostics", "rotational_spreads", "virial_about_origin",
]
