"""Contiguous shares of one call's batch: which structures each rank evaluates.

    share_bounds([3] * 37, 2)        # [(0, 19), (19, 37)]: rank 0 takes structures 0-18, rank 1 19-36

A strategy hands the potential every rotated copy of every bead of a call at
once; cutting that batch into contiguous index ranges of about equal atom
counts keeps each rank's share in the serial order, so the results concatenate
back into exactly the batch the serial server would have evaluated.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def share_bounds(atoms: Sequence[int], shares: int) -> list[tuple[int, int]]:
    """Usage: share_bounds([3] * 37, 2) -> [(0, 19), (19, 37)]: contiguous index ranges of about equal atoms.

    At most ``shares`` ranges, none empty; fewer when there are fewer structures.
    """
    n = len(atoms)
    shares = max(1, min(shares, n))
    cumulative = np.cumsum(atoms)
    total = cumulative[-1] if n else 0
    cuts = [0]
    for k in range(1, shares):
        cut = int(np.searchsorted(cumulative, total * k / shares, side="left")) + 1
        cuts.append(min(max(cut, cuts[-1] + 1), n - (shares - k)))
    cuts.append(n)
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


__all__ = ["share_bounds"]
