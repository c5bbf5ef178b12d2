"""Symmetrization strategies: wrappers that make any potential (more) rotation invariant.

    from symbreak.symmetry import parse_strategy
    averaged = parse_strategy("2i", potential)       # legendre:2 + inversion, 36 rotations
    result = averaged.compute([structure])          # batched, chunked, one call
    result.extras[0]["energy_spread"]

Strategy strings (one parser for the CLI, the inputs and the tests):
  plain | none | 0          the model as it is
  random[:SEED][:i]         one Haar-random SO(3) (O(3) with :i) rotation per structure per call
  legendre:L[:i]            Euler/Gauss-Legendre grid of order L (1, 18, 75, 196 rotations)
  lebedev:N[:i]             Lebedev rule of degree N x N in-plane angles
  delta:GRID                GRID-averaged minus plain (the outer force of multiple time stepping)
  study labels: i = legendre:1:i, 2 = legendre:2, 2i, 3, 3i, 4, 4i likewise
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from ..core.errors import InputError
from ..core.structure import Evaluation, Structure, split_batch
from ..potentials.base import Potential
from .metrics import net_force, net_torque, rms_spread, weighted_mean, weighted_std
from .quadrature import RotationQuadrature, lebedev_quadrature, legendre_quadrature
from .rotations import haar_rotations, rotate_forces_back, rotate_virial_back

STRATEGY_HELP = __doc__.split("Strategy strings", 1)[1].split("\n", 1)[1].rstrip()


#: plain (no averaging), random (one random rotation per call), a grid (legendre or lebedev), or delta (the
#: grid average minus plain: the MTS outer correction)
StrategyKind = Literal["plain", "random", "legendre", "lebedev", "delta"]
GridKind = Literal["legendre", "lebedev"]


@dataclass(frozen=True)
class StrategySpec:
    """A parsed strategy string: kind in {plain, random, legendre, lebedev, delta}."""

    kind: StrategyKind
    order: int = 1
    inversion: bool = False
    seed: int | None = None
    #: for delta strategies, the kind of grid averaged over (legendre or lebedev)
    grid_kind: GridKind | None = None

    @property
    def label(self) -> str:
        """Canonical string, parseable again; the study's labels for legendre grids."""
        inv = "i" if self.inversion else ""
        if self.kind == "plain":
            return "plain"
        if self.kind == "random":
            seed = "" if self.seed is None else f":{self.seed}"
            return f"random{seed}{':i' if self.inversion else ''}"
        if self.kind == "legendre":
            return "i" if self.order == 1 and self.inversion else f"{self.order}{inv}"
        if self.kind == "lebedev":
            return f"lebedev:{self.order}{':i' if self.inversion else ''}"
        return f"delta:{self.grid().label}"

    def grid(self) -> "StrategySpec":
        """For a delta strategy, the grid it averages over."""
        return StrategySpec(self.grid_kind or self.kind, self.order, self.inversion)

    @property
    def evaluations(self) -> int:
        """Model evaluations per structure and call: 1 (plain, random), the grid size, grid + 1 (delta)."""
        if self.kind in ("plain", "random"):
            return 1
        return len(self.quadrature()) + (1 if self.kind == "delta" else 0)

    def quadrature(self) -> RotationQuadrature:
        spec = self.grid() if self.kind == "delta" else self
        if spec.kind == "legendre":
            return legendre_quadrature(spec.order, spec.inversion)
        if spec.kind == "lebedev":
            return lebedev_quadrature(spec.order, spec.inversion)
        raise InputError(f"strategy '{self.label}' has no quadrature")


_STUDY_LABEL = re.compile(r"^([1-9])(i?)$")


def parse_strategy_spec(text: str) -> StrategySpec:
    """Parse a strategy string (see the module docstring); ValueError names what is wrong."""
    raw = text
    text = text.strip().lower()
    if text in ("plain", "none", "0", ""):
        return StrategySpec("plain")
    if text == "i":
        return StrategySpec("legendre", 1, True)
    m = _STUDY_LABEL.match(text)
    if m:
        return StrategySpec("legendre", int(m.group(1)), bool(m.group(2)))
    head, _, rest = text.partition(":")
    parts = [p for p in rest.split(":")] if rest else []
    try:
        if head == "random":
            inversion = "i" in parts
            numbers = [p for p in parts if p != "i"]
            if len(numbers) > 1:
                raise ValueError
            seed = int(numbers[0]) if numbers else None
            if seed is not None and seed < 0:
                raise ValueError
            return StrategySpec("random", 1, inversion, seed)
        if head in ("legendre", "lebedev"):
            if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] != "i"):
                raise ValueError
            order = int(parts[0])
            spec = StrategySpec(head, order, len(parts) == 2)
            spec.quadrature()  # validates the order
            return spec
        if head == "delta":
            grid = parse_strategy_spec(rest)
            if grid.kind not in ("legendre", "lebedev"):
                raise ValueError
            return StrategySpec("delta", grid.order, grid.inversion, grid_kind=grid.kind)
    except ValueError as err:
        detail = f" ({err})" if str(err) else ""
        raise InputError(f"invalid strategy '{raw}'{detail}; expected one of:\n{STRATEGY_HELP}") from None
    raise InputError(f"unknown strategy '{raw}'; expected one of:\n{STRATEGY_HELP}")


def evaluate_chunked(potential: Potential, structures: Sequence[Structure], chunk_size: int | None) -> Evaluation:
    """One or more batched calls of at most ``chunk_size`` structures and the potential's atom limit each."""
    chunks = split_batch(structures, chunk_size, potential.max_atoms_per_call)
    if len(chunks) == 1:
        return potential.compute(chunks[0])
    return Evaluation.concatenate([potential.compute(c) for c in chunks])


def plain_diagnostics(structure: Structure, energy: float, forces: np.ndarray) -> dict:
    """Net force and torque (about the centre of mass) of one evaluation."""
    return {
        "energy_plain": float(energy),
        "net_force_plain": net_force(forces).tolist(),
        "net_torque_plain": net_torque(structure.positions, forces, structure.numbers).tolist(),
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


class PlainStrategy(Strategy):
    """The model as it is, with its net force and torque as diagnostics."""

    def compute(self, structures):
        out = evaluate_chunked(self.base, structures, self.chunk_size)
        if self.diagnostics:
            out.extras = [
                {"strategy": "plain", **plain_diagnostics(s, e, f)}
                for s, e, f in zip(structures, out.energies, out.forces)
            ]
        return out


class RandomRotationStrategy(Strategy):
    """A fresh Haar-random rotation for every structure of every call (seedable, reproducible).

    Removes orientational bias on average at the cost of the plain model, but
    makes forces stochastic and non-conservative: use with a thermostat.

    The stream is numpy's default generator seeded with ``seed``; ``state()``
    and ``restore(state)`` carry it (the generator's state and the call count)
    across a restart, so that a resumed server continues the stream where the
    stopped one left it instead of repeating it from the seed.
    """

    def __init__(self, base, spec, **kwargs):
        super().__init__(base, spec, **kwargs)
        self.seed = spec.seed if spec.seed is not None else int(np.random.SeedSequence().entropy % (2**31))
        self.rng = np.random.default_rng(self.seed)
        self.calls = 0

    def state(self) -> dict:
        """The stream's position: JSON-serialisable (strategy, seed, calls, the generator's state)."""
        return {"strategy": self.spec.label, "seed": self.seed, "calls": self.calls,
                "bit_generator": self.rng.bit_generator.state}

    def restore(self, state: dict) -> None:
        """Continue the stream from ``state`` (from state()); ValueError if it belongs to another seed or kind."""
        if state.get("strategy", "").split(":")[0] != "random" or "bit_generator" not in state:
            raise InputError("not the state of a random strategy")
        if self.spec.seed is not None and state.get("seed") != self.spec.seed:
            raise InputError(f"the state continues seed {state.get('seed')}, not {self.spec.seed}")
        if bool(state["strategy"].endswith(":i")) != self.spec.inversion:
            raise InputError(f"the state is of '{state['strategy']}', not '{self.spec.label}'")
        rng = np.random.default_rng(int(state["seed"]))
        rng.bit_generator.state = state["bit_generator"]
        self.seed, self.rng, self.calls = int(state["seed"]), rng, int(state["calls"])

    def compute(self, structures):
        rotations = haar_rotations(self.rng, len(structures), improper=self.spec.inversion)
        rotated = [s.rotated(r) for s, r in zip(structures, rotations)]
        out = evaluate_chunked(self.base, rotated, self.chunk_size)
        forces = [rotate_forces_back(f, r) for f, r in zip(out.forces, rotations)]
        virials = np.array([rotate_virial_back(w, r) for w, r in zip(out.virials, rotations)])
        self.calls += 1
        extras = []
        if self.diagnostics:
            for s, f, r in zip(structures, forces, rotations):
                extras.append(
                    {
                        "strategy": self.spec.label,
                        "seed": self.seed,
                        "call": self.calls,
                        "improper": bool(np.linalg.det(r) < 0),
                        "net_force": net_force(f).tolist(),
                        "net_torque": net_torque(s.positions, f, s.numbers).tolist(),
                    }
                )
        return Evaluation(out.energies.copy(), forces, virials, extras)


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

    def compute_with_plain(self, structures, need_plain: bool) -> tuple[Evaluation, Evaluation | None, list]:
        """Averaged evaluation, the plain one (if asked or free) and per-structure grid data."""
        quad = self.quadrature
        n_rot = len(quad)
        plain_extra = need_plain and self._identity_index is None
        batch = []
        for s in structures:
            batch.extend(s.rotated(r) for r in quad.rotations)
            if plain_extra:
                batch.append(s)
        raw = evaluate_chunked(self.base, batch, self.chunk_size)
        stride = n_rot + (1 if plain_extra else 0)
        energies, forces, virials, grids = [], [], [], []
        plain_e, plain_f, plain_w = [], [], []
        for b in range(len(structures)):
            lo = b * stride
            e_grid = raw.energies[lo : lo + n_rot]
            f_grid = np.stack([rotate_forces_back(f, r) for f, r in zip(raw.forces[lo : lo + n_rot], quad.rotations)])
            w_grid = np.stack([rotate_virial_back(w, r) for w, r in zip(raw.virials[lo : lo + n_rot], quad.rotations)])
            energies.append(weighted_mean(e_grid, quad.weights))
            forces.append(weighted_mean(f_grid, quad.weights))
            virials.append(weighted_mean(w_grid, quad.weights))
            grids.append((e_grid, f_grid))
            if plain_extra:
                plain_e.append(raw.energies[lo + n_rot])
                plain_f.append(raw.forces[lo + n_rot])
                plain_w.append(raw.virials[lo + n_rot])
            elif need_plain:
                k = lo + self._identity_index
                plain_e.append(raw.energies[k])
                plain_f.append(raw.forces[k])
                plain_w.append(raw.virials[k])
        averaged = Evaluation(np.array(energies), forces, np.array(virials))
        plain = Evaluation(np.array(plain_e), plain_f, np.array(plain_w)) if need_plain else None
        return averaged, plain, grids

    def _diagnostics(self, structures, averaged, plain, grids) -> list[dict]:
        quad = self.quadrature
        extras = []
        for b, s in enumerate(structures):
            e_grid, f_grid = grids[b]
            d = {
                "strategy": self.spec.label,
                "n_rotations": len(quad),
                "energy_averaged": float(averaged.energies[b]),
                "energy_spread": float(weighted_std(e_grid, quad.weights)),
                "force_spread": rms_spread(f_grid, quad.weights),
            }
            if plain is not None:
                d.update(plain_diagnostics(s, plain.energies[b], plain.forces[b]))
                d["energy_plain_minus_averaged"] = float(plain.energies[b] - averaged.energies[b])
                diff = plain.forces[b] - averaged.forces[b]
                d["force_plain_minus_averaged_rms"] = float(np.sqrt(np.mean(diff**2)))
            extras.append(d)
        return extras

    def compute(self, structures):
        averaged, plain, grids = self.compute_with_plain(structures, need_plain=self.diagnostics)
        if self.diagnostics:
            averaged.extras = self._diagnostics(structures, averaged, plain, grids)
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


def parse_strategy(spec: str | StrategySpec, potential: Potential, **options) -> Strategy:
    """Wrap ``potential`` in the strategy named by ``spec``.

    Options: chunk_size (structures per batched call), diagnostics (bool).
    """
    if isinstance(spec, str):
        spec = parse_strategy_spec(spec)
    cls = {
        "plain": PlainStrategy,
        "random": RandomRotationStrategy,
        "legendre": GridAverageStrategy,
        "lebedev": GridAverageStrategy,
        "delta": DeltaStrategy,
    }[spec.kind]
    return cls(potential, spec, **options)
