"""Following a running i-PI: the last step in its properties file, the speed and the time left.

    progress = Progress(out / "simulation.out", total=400, timestep_fs=0.5, say=print, every=10.0)
    progress.poll()                    # call often: reads new rows, says "step 120/400  1.234 ns/day ..." every 10 s
    progress.report(final=True)        # the last line; progress.ms_per_step keeps the steady-state speed

Used by every i-PI run symbreak starts: `symbreak run` (campaign, which also
feeds its stall watchdog from ``changed_at`` and ``row_interval``) and the
reference MD of `symbreak dataset` (training).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable


class Progress:
    """Usage: Progress(path, total, timestep_fs, say=print) -> follows i-PI's properties file; ``poll()`` often.

    Rows already in the file when it is created (a resumed run's) are the
    baseline: the speed counts from the first step this attempt writes, so
    start-up (i-PI, sockets, model loading) is not in it; ``ms_per_step`` keeps
    the final figure. The file is read incrementally. ``say`` gets one line
    ("step 120/400  1.234 ns/day  12.3 ms/step  ETA 30 s") every ``every``
    seconds and at the end; None says nothing.
    """

    def __init__(self, path: str | os.PathLike, total: int, timestep_fs: float,
                 say: Callable[[str], None] | None = None, every: float = 10.0):
        self.path, self.total, self.dt, self.say, self.every = Path(path), total, timestep_fs, say, every
        self.step: int | None = None  # the last step in the file
        self.origin: tuple[float, int] | None = None  # (time, step) when this attempt's first step appeared
        self.last_row_time: float | None = None
        self.new_rows = 0  # rows this attempt wrote
        self.changed_at = time.monotonic()  # when the last new row appeared (or the start)
        self.ms_per_step: float | None = None
        self._offset, self._tail, self._last_report = 0, b"", time.monotonic()
        self.read(baseline=True)

    def read(self, baseline: bool = False) -> None:
        """Usage: progress.read() -> None; reads the rows written since the last call.

        With ``baseline`` the rows read are taken as there before this attempt.
        """
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return
        if size < self._offset:  # replaced
            self._offset, self._tail = 0, b""
        if size == self._offset:
            return
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            data = fh.read(size - self._offset)
        self._offset += len(data)
        lines = (self._tail + data).split(b"\n")
        self._tail = lines.pop()
        for line in lines:
            if not line.strip() or line.lstrip().startswith(b"#"):
                continue
            try:
                step = int(float(line.split()[0]))
            except ValueError:
                continue
            self.step = step
            if baseline:
                continue
            now = time.monotonic()
            self.new_rows += 1
            self.changed_at = self.last_row_time = now
            if self.origin is None:
                self.origin = (now, step)

    def poll(self) -> None:
        """Usage: progress.poll() -> None; reads new rows and says a progress line if ``every`` seconds passed since the last."""
        self.read()
        if time.monotonic() - self._last_report >= self.every:
            self._last_report = time.monotonic()
            self.report()

    def steps_done(self) -> int:
        return min(self.step or 0, self.total)

    def row_interval(self) -> float | None:
        """Usage: progress.row_interval() -> mean seconds between this attempt's rows (None before two rows)."""
        if self.origin is None or self.new_rows < 2:
            return None
        return (self.last_row_time - self.origin[0]) / (self.new_rows - 1)

    def _rate(self, done: int) -> float:
        if self.origin is None or done <= self.origin[1] or self.last_row_time is None:
            return 0.0
        seconds = self.last_row_time - self.origin[0]
        return (done - self.origin[1]) / seconds if seconds > 0.05 else 0.0  # rows read at once: unknown

    def line(self, final: bool = False) -> str:
        """Usage: progress.line() -> "step 120/400 1.234 ns/day 12.3 ms/step ETA 30 s", from the rows read so far."""
        done = self.steps_done()
        rate = self._rate(done)
        if rate > 0:
            ns_day = rate * self.dt * 1e-6 * 86400
            speed = f"{ns_day:.3f} ns/day  {1e3 / rate:.1f} ms/step"
            tail = "done" if final else f"ETA {(self.total - done) / rate:.0f} s"
        else:
            speed, tail = "starting", ""
        return f"step {done}/{self.total}  {speed}  {tail}"

    def report(self, final: bool = False) -> None:
        """Usage: progress.report(final=True) -> None; reads new rows and says the progress line.

        ``final`` also keeps ``ms_per_step``.
        """
        self.read()
        rate = self._rate(self.steps_done())
        if final and rate > 0:
            self.ms_per_step = 1e3 / rate
        if self.say is not None:
            self.say(self.line(final))


__all__ = ["Progress"]
