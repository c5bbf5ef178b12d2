"""The strategy grammar: strategy strings parsed into StrategySpec (one parser for the CLI, the inputs, the tests).

    spec = parse_strategy_spec("2i+random:7")      # StrategySpec(kind="random", order=2, inversion=True, seed=7, ...)
    spec.label, spec.evaluations, spec.is_grid, spec.quadrature()

Strategy strings (one parser for the CLI, the inputs and the tests):
  plain | none | 0          the model as it is
  random[:SEED][:i]         one Haar-random SO(3) (O(3) with :i) rotation per structure per call
  legendre:L[:i]            Euler/Gauss-Legendre grid of order L (1, 18, 75, 196 rotations)
  lebedev:N[:i]             Lebedev rule of degree N x N in-plane angles
  delta:GRID                GRID-averaged minus plain (the outer force of multiple time stepping)
  study labels: i = legendre:1:i, 2 = legendre:2, 2i, 3, 3i, 4, 4i likewise
modifiers, appended with + (each at most once; not on delta):
  GRID+random[:SEED]        GRID turned as a whole by one fresh Haar-random SO(3) rotation per structure
                            per call: the grid's cost, the same orders cancelled on every call, and on
                            average no orientation bias; seeded and resumable (--state) like random
  S+notorque                then subtract the mean force and the net torque (the least-squares smallest
                            change of the forces; energy unchanged): isolated systems only (--vacuum)
  S+nonetforce              then subtract the mean force only (isolated or periodic)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal, get_args

from ..core.errors import InputError
from .quadrature import RotationQuadrature, lebedev_quadrature, legendre_quadrature

STRATEGY_HELP = __doc__.split("Strategy strings", 1)[1].split("\n", 1)[1].rstrip()
#: the grammar in one line, for error messages (the CLI prints errors as one line)
STRATEGY_FORMS = ("plain, random[:SEED][:i], legendre:L[:i], lebedev:N[:i], delta:GRID or a study label "
                  "(i, 2, 2i, 3, 3i, ...), optionally followed by +random[:SEED] (grids only), "
                  "+notorque or +nonetforce (see `symbreak serve --help`)")


#: plain (no averaging), random (one random rotation per call; with a grid_kind, a grid turned by one random
#: rotation per call), a grid (legendre or lebedev), or delta (the grid average minus plain: the MTS outer correction)
StrategyKind = Literal["plain", "random", "legendre", "lebedev", "delta"]
GridKind = Literal["legendre", "lebedev"]
GRID_KINDS: tuple[str, ...] = get_args(GridKind)
#: what is removed from the forces afterwards: the net force, or the net force and the net torque
NetCorrection = Literal["force", "torque"]
_NET_MODIFIERS: dict[str, NetCorrection] = {"nonetforce": "force", "notorque": "torque"}


@dataclass(frozen=True)
class StrategySpec:
    """Usage: parse_strategy_spec("2i+random:7").kind -> a parsed strategy string (kind, grid, seed, net).

    kind in {plain, random, legendre, lebedev, delta}. A random kind with a
    ``grid_kind`` is a randomly turned grid (GRID+random[:SEED]); there
    ``inversion`` belongs to the grid (the random rotations are proper), while
    for plain random it makes the draws improper half the time. ``net`` is the
    +nonetforce ("force") or +notorque ("torque") modifier.
    """

    kind: StrategyKind
    order: int = 1
    inversion: bool = False
    seed: int | None = None
    #: for delta strategies, the kind of grid averaged over; for random ones, the grid turned (None: no grid)
    grid_kind: GridKind | None = None
    #: removed from the forces after the strategy: the net force, or the net force and torque (None: nothing)
    net: NetCorrection | None = None

    @property
    def label(self) -> str:
        """Canonical string, parseable again; the study's labels for legendre grids."""
        if self.net is not None:
            modifier = {v: k for k, v in _NET_MODIFIERS.items()}[self.net]
            return f"{replace(self, net=None).label}+{modifier}"
        inv = "i" if self.inversion else ""
        if self.kind == "plain":
            return "plain"
        if self.kind == "random":
            seed = "" if self.seed is None else f":{self.seed}"
            if self.grid_kind is not None:
                return f"{self.grid().label}+random{seed}"
            return f"random{seed}{':i' if self.inversion else ''}"
        if self.kind == "legendre":
            return "i" if self.order == 1 and self.inversion else f"{self.order}{inv}"
        if self.kind == "lebedev":
            return f"lebedev:{self.order}{':i' if self.inversion else ''}"
        return f"delta:{self.grid().label}"

    @property
    def is_grid(self) -> bool:
        """Whether this is a fixed rotation grid (legendre or lebedev), averaged directly."""
        return self.kind in GRID_KINDS

    @property
    def random_grid(self) -> bool:
        """Whether this is a randomly turned grid (GRID+random[:SEED])."""
        return self.kind == "random" and self.grid_kind is not None

    def grid(self) -> "StrategySpec":
        """For a delta strategy or a randomly turned grid, the grid it averages over."""
        return StrategySpec(self.grid_kind or self.kind, self.order, self.inversion)

    @property
    def evaluations(self) -> int:
        """Model evaluations per structure and call: 1 (plain, random), the grid size, grid + 1 (delta)."""
        if self.kind == "plain" or (self.kind == "random" and self.grid_kind is None):
            return 1
        return len(self.quadrature()) + (1 if self.kind == "delta" else 0)

    def quadrature(self) -> RotationQuadrature:
        spec = self.grid() if self.kind == "delta" or self.random_grid else self
        if spec.kind == "legendre":
            return legendre_quadrature(spec.order, spec.inversion)
        if spec.kind == "lebedev":
            return lebedev_quadrature(spec.order, spec.inversion)
        raise InputError(f"strategy '{self.label}' has no quadrature")


_STUDY_LABEL = re.compile(r"^([1-9])(i?)$")


def parse_strategy_spec(text: str) -> StrategySpec:
    """Usage: parse_strategy_spec("2i+notorque") -> StrategySpec; a one-line InputError names what is wrong."""
    raw = text
    base, *modifiers = text.strip().lower().split("+")
    spec = _parse_base(base.strip(), raw)
    seen = set()
    for modifier in (m.strip() for m in modifiers):
        head, _, arg = modifier.partition(":")
        if head in seen:
            raise InputError(f"invalid strategy '{raw}': +{head} twice")
        if head in _NET_MODIFIERS and seen & set(_NET_MODIFIERS):
            raise InputError(f"invalid strategy '{raw}': give one of +notorque (which removes the net force too) "
                             "and +nonetforce, not both")
        seen.add(head)
        if spec.kind == "delta":
            raise InputError(f"invalid strategy '{raw}': delta:GRID takes no +modifiers (it is one MTS level's "
                             "correction; turn or correct the grid strategy itself)")
        if head == "random":
            if not spec.is_grid:
                raise InputError(f"invalid strategy '{raw}': +random turns a grid (legendre, lebedev or a study "
                                 "label such as 2i); for one random rotation use random[:SEED][:i]")
            seed = None
            if arg:
                if not arg.isdigit():
                    raise InputError(f"invalid strategy '{raw}': the seed of +random must be an integer >= 0, "
                                     f"not '{arg}'")
                seed = int(arg)
            spec = StrategySpec("random", spec.order, spec.inversion, seed, grid_kind=spec.kind, net=spec.net)
        elif head in _NET_MODIFIERS and not arg:
            spec = replace(spec, net=_NET_MODIFIERS[head])
        else:
            raise InputError(f"unknown strategy modifier '+{modifier}' in '{raw}': use +random[:SEED] (after a "
                             "grid), +notorque or +nonetforce")
    return spec


def _parse_base(text: str, raw: str) -> StrategySpec:
    """A strategy string without +modifiers (see the module docstring)."""
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
        if head in GRID_KINDS:
            if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] != "i"):
                raise ValueError
            order = int(parts[0])
            spec = StrategySpec(head, order, len(parts) == 2)
            spec.quadrature()  # validates the order
            return spec
        if head == "delta":
            grid = _parse_base(rest, raw)
            if not grid.is_grid:
                raise ValueError
            return StrategySpec("delta", grid.order, grid.inversion, grid_kind=grid.kind)
    except ValueError as err:
        detail = f" ({err})" if str(err) else ""
        raise InputError(f"invalid strategy '{raw}'{detail}; expected {STRATEGY_FORMS}") from None
    raise InputError(f"unknown strategy '{raw}'; expected {STRATEGY_FORMS}")


__all__ = ["GRID_KINDS", "STRATEGY_FORMS", "STRATEGY_HELP", "GridKind", "NetCorrection", "StrategyKind", "StrategySpec",
           "parse_strategy_spec"]
