"""Wall time per MD step as i-PI measures it, read from its log.

    times = ipi_step_times("run/ipi.log")     # seconds, one per timing line

i-PI prints "Average timings at MD step N. t/step: X" every step with
verbosity 'high', every 100 steps with 'medium' (the average over them).
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from ..core.errors import InputError

_STEP_TIME = re.compile(r"Average timings at MD step\s+\d+\. t/step:\s+(\S+)")


def ipi_step_times(log_path) -> list[float]:
    """Every t/step value in an i-PI log, in seconds."""
    return [float(t) for t in _STEP_TIME.findall(Path(log_path).read_text())]


def median_step_time(log_path, skip: int) -> float:
    """Median of the per-step times after dropping the first ``skip`` (connection, warm-up)."""
    times = ipi_step_times(log_path)[skip:]
    if not times:
        raise InputError(f"{log_path} has no timing lines past the first {skip}: run more steps")
    return statistics.median(times)
