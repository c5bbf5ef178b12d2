"""One run of the study (StudyRun) and the study's parts: what plan.py and frontier.py both build on.

    run = StudyRun("gas-nve-plain", "gas", "gas-nve", "plain", steps=1000, seed=7)
    run.is_reference, PARTS
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Part = Literal["gas", "liquid", "ice", "geop", "polymorphs", "crystal", "replay", "pimd", "frontier"]
PARTS: tuple[str, ...] = get_args(Part)


@dataclass(frozen=True)
class StudyRun:
    """One run of the study: its folder name, its part and the RunConfig arguments."""

    name: str
    part: Part
    case: str
    strategy: str = "plain"
    potential: str | None = None  # None: the study's potential
    steps: int = 100
    size: int | None = None
    seed: int | None = None
    #: replay: the trajectory whose first ``frames`` (+1) frames are replayed
    trajectory: str | None = None
    frames: int | None = None
    #: start from the last frame of this earlier run of the study (its folder name)
    init_from: str | None = None
    #: geop: the proton-disordered cell (its seed)
    cell: int | None = None
    #: pimd: path-integral beads (None: the case's default)
    beads: int | None = None
    #: MTS cases: inner steps per outer step (None: the case's)
    mts_ratio: int | None = None
    #: record the q-TIP4P/F energy at weight 0 (None: the case's default)
    record_reference: bool | None = None
    #: processes per model server (None: `--workers auto`)
    workers: int | None = None
    #: steps between output rows (None: the case's)
    stride: int | None = None

    @property
    def is_reference(self) -> bool:
        """True for the q-TIP4P/F runs (their potential is fixed, whatever the study's)."""
        return self.potential == "qtip4pf"


__all__ = ["PARTS", "Part", "StudyRun"]
