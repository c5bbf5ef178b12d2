"""The committed inputs/ folder is what scripts/write_inputs.py writes, and a template runs by hand."""

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from symbreak.ipi.outputs import read_properties

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import write_inputs  # noqa: E402


@pytest.mark.slow
def test_inputs_folder_is_up_to_date(tmp_path):
    write_inputs.write_all(tmp_path)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / "inputs") for p in (ROOT / "inputs").rglob("*") if p.is_file())
    assert fresh == committed, "run `python scripts/write_inputs.py` and commit inputs/"
    for rel in fresh:
        if rel.suffix in (".xml", ".sh"):
            assert (tmp_path / rel).read_text() == (ROOT / "inputs" / rel).read_text(), f"{rel} is stale"


@pytest.mark.slow
def test_a_template_runs_by_hand(tmp_path):
    work = tmp_path / "nve"
    shutil.copytree(ROOT / "inputs" / "gas" / "classical" / "nve-2i", work)
    tag = uuid.uuid4().hex[:8]
    xml = (work / "input.xml").read_text()
    xml = re.sub(r"<total_steps>\d+</total_steps>", "<total_steps>3</total_steps>", xml).replace("gas-nve-", f"t{tag}-")
    (work / "input.xml").write_text(xml)
    script = (work / "run.sh").read_text().replace("gas-nve-", f"t{tag}-").replace("--potential default", "--potential toy")
    (work / "run.sh").write_text(script)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run(["bash", "run.sh"], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr + (work / "ipi.log").read_text()[-2000:]
    props = read_properties(work / "simulation.out")
    assert len(props["step"]) == 4 and np.all(np.isfinite(props["pot_component_raw(1)"]))
