"""The in-process parts' cache: a JSON file holding what a part computed and the settings it was computed with.

    data = cached(out / "polymorphs.json", settings, compute, log)   # compute() only when the settings differ

A second study with the same settings reads the data back; other settings (another potential, more steps)
compute it again. Written atomically: an interrupted study leaves the old file or none, never half of one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..core.files import atomic_path


def cached(path: Path, settings: dict, compute: Callable[[], object], log: Callable[[str], None] = lambda line: None):
    """Usage: cached(path, settings, compute) -> the stored data when path holds these settings, else compute()'s (stored)."""
    path = Path(path)
    if path.is_file():
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError):
            stored = None
        if isinstance(stored, dict) and stored.get("settings") == settings and "data" in stored:
            return stored["data"]
        log(f"{path} was made with other settings: computing again")
    data = compute()
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps({"settings": settings, "data": data}, indent=1) + "\n")
    return data


__all__ = ["cached"]
