"""scripts/bench_averaging.py at smoke size: the toy molecule, five configurations, the table and its ratios."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_averaging.py"
CONFIGS = ["server", "server-workers2", "ffrotations-1", "ffrotations-batched-2", "in-process"]


@pytest.mark.slow
def test_bench_averaging_prints_the_table_and_the_ratios(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--potential", "toy", "--systems", "1 H2O", "--configs", *CONFIGS,
         "--steps", "200", "--repeats", "1"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    assert "failed" not in out, out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("system"))
    assert header.split() == ["system", *CONFIGS]
    row = next(line for line in lines if line.startswith("1 H2O "))
    times = [float(x) for x in row.split()[2:]]
    assert len(times) == len(CONFIGS) and all(t > 0 for t in times), row
    number = r"\d+\.\d\dx"
    best = r"best ffrotations \(ffrotations-[\w-]+\) / server-workers2"
    assert re.search(rf"{best} = {number}", out), out
    assert re.search(rf"server / server-workers2 = {number}", out), out
    assert re.search(r"server-threads2 / server-workers2 = n/a \(server-threads2 not run\)", out), out
    assert re.search(r"server / server-torchrun2 = n/a \(server-torchrun2 not run\)", out), out
    assert re.search(r"server / server-threads2 = n/a", out)
    assert re.search(rf"in-process / server = {number}", out), out
    assert re.search(rf"ffrotations-1 / server = {number}", out), out
