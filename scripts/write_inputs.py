#!/usr/bin/env python
"""Regenerate inputs/: i-PI inputs for every case and strategy, usable by hand with `bash run.sh`.

    python scripts/write_inputs.py [--dest inputs]

Layout: inputs/SYSTEM/KIND/CASE-STRATEGY/{input.xml, init.xyz, run.sh}, with
SYSTEM gas, liquid or ice and KIND classical, pimd, mts, geop or replay.
A test checks that the committed folder matches what this script writes.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from symbreak.campaign.cases import CASES
from symbreak.campaign.runner import RunConfig
from symbreak.campaign.templates import write_template
from symbreak.structures import molecule
from symbreak.structures.io import write_ipi_xyz

STRATEGIES = ("plain", "random:1", "2i")


def layout():
    """(case, strategy, relative folder) of every template."""
    for name, case in CASES.items():
        system = name.split("-")[0]
        if case.motion == "replay":
            yield name, "plain", Path("replay")
            continue
        kind = "mts" if case.mts else "pimd" if case.beads > 1 else "geop" if case.motion == "minimize" else "classical"
        # MTS needs a grid; a random rotation per call would defeat a geometry optimiser
        strategies = ("2i",) if case.mts else ("plain", "2i") if case.motion == "minimize" else STRATEGIES
        for strategy in strategies:
            yield name, strategy, Path(system) / kind / f"{name.split('-', 1)[1]}-{strategy.replace(':', '')}"


def write_all(dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(tmp) / "example.xyz"
        write_ipi_xyz(example, [molecule(seed=1), molecule(seed=2)])
        for name, strategy, folder in layout():
            config = RunConfig(case=name, out=str(dest / folder), strategy=strategy, potential="default",
                               trajectory=str(example) if name == "replay" else None)
            write_template(config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", default=str(Path(__file__).resolve().parents[1] / "inputs"))
    dest = Path(parser.parse_args().dest)
    if dest.exists():
        shutil.rmtree(dest)
    write_all(dest)
    print(f"wrote {sum(1 for _ in dest.rglob('input.xml'))} inputs under {dest}")


if __name__ == "__main__":
    main()
