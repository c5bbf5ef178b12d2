"""Rotations, rotation quadratures, symmetrization strategies and symmetry metrics."""

from .quadrature import RotationQuadrature, lebedev_quadrature, legendre_quadrature
from .strategies import parse_strategy
from .strategy_spec import StrategySpec, parse_strategy_spec

__all__ = [
    "RotationQuadrature",
    "legendre_quadrature",
    "lebedev_quadrature",
    "StrategySpec",
    "parse_strategy",
    "parse_strategy_spec",
]
