"""The stall watchdog: a run whose i-PI writes no new step for too long is stopped, resumably.

    watchdog = Watchdog(progress, group, stall_timeout=None)
    group.wait_for(ipi, on_poll=watchdog.check)       # raises Stalled naming what each process is doing

When i-PI's properties file gets no new row for max(STALL_MIN_S = 60 s,
STALL_FACTOR = 20 x the attempt's mean time per row) (``stall_timeout`` /
--stall-timeout S replaces this with S; until an attempt has written two rows
the start-up allowance is max(STARTUP_S = 300 s, S)), the watchdog names what
each process is doing (/proc/PID/stat: "model0 stopped (state T)") and raises
Stalled; the process group then stops everything (SIGCONT before SIGTERM, so a
stopped process can die and i-PI writes its checkpoint). The outputs stay
resumable.
"""

from __future__ import annotations

import time

from ..ipi.processes import ProcessFailed, ProcessGroup
from ..ipi.progress import Progress

#: the limits (see the module docstring): seconds and factor
STALL_MIN_S = 60.0
STALL_FACTOR = 20.0
STARTUP_S = 300.0


class Stalled(ProcessFailed):
    """Usage: raise Stalled("no i-PI progress for 61 s ...") -> i-PI made no progress within the stall timeout.

    The message names each process's state; the CLI prints it as one line (exit 2).
    """


class Watchdog:
    """Usage: Watchdog(progress, group, stall_timeout=None).check() -> None while i-PI writes new steps.

    Raises Stalled when i-PI writes no new step for too long.
    """

    def __init__(self, progress: Progress, group: ProcessGroup, stall_timeout: float | None = None):
        self.progress, self.group, self.fixed = progress, group, stall_timeout

    def limit(self) -> float:
        """Usage: watchdog.limit() -> the seconds without a new row that count as a stall now."""
        interval = self.progress.row_interval()
        if interval is None:  # start-up: the time per row is not known yet
            return max(STARTUP_S, self.fixed or 0.0)
        if self.fixed is not None:
            return self.fixed
        return max(STALL_MIN_S, STALL_FACTOR * interval)

    def check(self) -> None:
        """Usage: watchdog.check() -> None while i-PI progresses (also says progress lines); Stalled otherwise."""
        self.progress.poll()
        idle = time.monotonic() - self.progress.changed_at
        limit = self.limit()
        if idle > limit:
            last = "no step yet" if self.progress.step is None else f"last step {self.progress.step}"
            raise Stalled(f"no i-PI progress for {idle:.0f} s (limit {limit:.0f} s, {last}); the processes: "
                          f"{self.group.states()}; all were stopped: re-run the same command to resume")


__all__ = ["STALL_FACTOR", "STALL_MIN_S", "STARTUP_S", "Stalled", "Watchdog"]
