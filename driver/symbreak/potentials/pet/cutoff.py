"""Smooth cutoff: 1 below ``cutoff - width``, 0 beyond ``cutoff``, C1 cosine switch between.

    fc = cutoff_function(distances, cutoff=4.0, width=0.2)

The study's PET used a 4.0 A cutoff with a 0.2 A switching width; the same
numbers are the defaults here. The switch multiplies attention weights and
edge readouts, so an atom crossing the cutoff changes energies continuously
and forces stay finite.
"""

from __future__ import annotations

import math

import torch

DEFAULT_CUTOFF = 4.0
DEFAULT_WIDTH = 0.2


def cutoff_function(distances: torch.Tensor, cutoff: float = DEFAULT_CUTOFF, width: float = DEFAULT_WIDTH) -> torch.Tensor:
    """fc = cutoff_function(d, cutoff, width): 1 for d <= cutoff - width, 0 for d >= cutoff.

    Between the two it is (1 + cos(pi t)) / 2 with t = (d - cutoff + width) / width,
    continuous with a continuous first derivative.
    """
    t = ((distances - (cutoff - width)) / width).clamp(0.0, 1.0)
    return 0.5 * (1.0 + torch.cos(math.pi * t))
