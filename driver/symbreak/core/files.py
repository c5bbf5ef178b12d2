"""Files written whole or not at all: a temporary file in the same folder, renamed over the target.

    with atomic_path("run/manifest.json") as tmp:
        tmp.write_text(text)              # on success tmp replaces the target; on any error it is removed
    write_text_atomic("run/manifest.json", text)
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden temporary path beside ``path``; rename it over ``path`` when the block succeeds.

    The old file stays untouched if the block raises (a full disk, a bug), and
    the temporary file never outlives the block.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str, *, sync: bool = False) -> None:
    """Write ``text`` to ``path`` atomically; ``sync`` flushes it to disk before the rename."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write(text)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())


__all__ = ["atomic_path", "write_text_atomic"]
