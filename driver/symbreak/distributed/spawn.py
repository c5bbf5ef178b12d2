"""`symbreak serve --workers K` on one machine: start the K-1 other ranks as children, and stop them on every exit path.

    children = LocalRanks.start("toy", count=1, threads=1)    # rank 1 as `python -m symbreak serve ...`
    children.wait_joined(timeout=300)                        # ProcessError naming a child that exited first
    ...                                                      # init the group with children.store as rank 0
    children.stop()                                          # waited for, killed if they linger

The children find rank 0 through a TCP store this process opens on a free
port of 127.0.0.1 (passed as MASTER_ADDR and MASTER_PORT with RANK,
WORLD_SIZE and LOCAL_RANK, as torchrun would), so they run exactly the code
a torchrun launch runs. Each child watches this process and exits when it is
gone, even if it was killed with SIGKILL.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from dataclasses import dataclass

from ..core.errors import DeadlineError, ProcessError
from .ranks import PARENT_PID, RankLayout

#: the store key a rank sets once its potential is loaded, just before it joins the group
JOINED = "symbreak/joined/{rank}"


def child_command(spec: str, threads: int | None, chunk_size: int | None, backend: str, answer_timeout: float) -> list[str]:
    """The command line of a local rank: `symbreak serve` with the potential and no i-PI address (it never talks to i-PI)."""
    command = [sys.executable, "-m", "symbreak", "serve", "--potential", spec, "--quiet", "--backend", backend,
               "--rank-timeout", f"{answer_timeout:g}"]
    if threads:
        command += ["--threads", str(threads)]
    if chunk_size:
        command += ["--chunk-size", str(chunk_size)]
    return command


def describe_exit(code: int | None) -> str:
    if code is None:
        return "still running"
    return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"


@dataclass
class LocalRanks:
    """Ranks 1..count of a launch on this machine: their processes and the store rank 0 hosts."""

    store: object
    processes: list[subprocess.Popen]

    @property
    def world_size(self) -> int:
        return 1 + len(self.processes)

    @classmethod
    def start(cls, spec: str, count: int, threads: int | None = 1, chunk_size: int | None = None,
              backend: str = "gloo", answer_timeout: float = 300.0, join_timeout: float = 300.0) -> "LocalRanks":
        import torch.distributed as dist

        store = dist.TCPStore("127.0.0.1", 0, 1 + count, is_master=True, wait_for_workers=False,
                              timeout=datetime.timedelta(seconds=join_timeout))
        command = child_command(spec, threads, chunk_size, backend, answer_timeout)
        ranks = cls(store, [])
        try:
            for rank in range(1, count + 1):
                layout = RankLayout(rank, 1 + count, rank, "127.0.0.1", store.port, "spawn")
                env = {**os.environ, **layout.environment(), PARENT_PID: str(os.getpid())}
                ranks.processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, env=env))
        except BaseException:
            ranks.stop(grace=0)
            raise
        return ranks

    def wait_joined(self, timeout: float) -> None:
        """Wait until every child has loaded its potential and is joining; ProcessError if one exits first."""
        keys = [JOINED.format(rank=k) for k in range(1, self.world_size)]
        deadline = time.monotonic() + timeout
        while not self.store.check(keys):
            for rank, process in enumerate(self.processes, start=1):
                if process.poll() is not None:
                    raise ProcessError(f"rank {rank} (local, pid {process.pid}) {describe_exit(process.returncode)} "
                                       "before joining (its messages are above)")
            if time.monotonic() > deadline:
                raise DeadlineError(f"the local ranks did not load their potential and join within {timeout:g} s "
                                    "(--rank-timeout raises the limit)")
            time.sleep(0.02)

    def describe(self, rank: int) -> str:
        """'rank 2 (local, pid 123, was killed by signal 9)': what rank 0 says about a child."""
        process = self.processes[rank - 1]
        try:
            process.wait(timeout=0.5)  # a rank whose connection just broke is usually exiting: say how it ended
        except subprocess.TimeoutExpired:
            pass
        return f"rank {rank} (local, pid {process.pid}, {describe_exit(process.poll())})"

    def stop(self, grace: float = 10.0) -> None:
        """Wait up to ``grace`` s for the children to exit (after QUIT), then kill those left; none survives."""
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """In a child: a daemon thread that ends this process when ``parent_pid`` is no longer its parent."""
    import threading

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="symbreak-parent-watch", daemon=True).start()


__all__ = ["JOINED", "LocalRanks", "child_command", "describe_exit", "watch_parent"]
