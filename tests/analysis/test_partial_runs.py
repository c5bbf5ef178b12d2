"""`symbreak analyze` on runs still being written (outputs cut at any byte) and on corrupted outputs.

One tiny toy run (gas-nve, 40 steps, every step written) is made per module;
each test copies it and cuts or damages its files.
"""

import json
import shutil

import numpy as np
import pytest
from symbreak.analysis.run_analysis import analyze_run
from symbreak.analysis.run_folder import RunError, read_extras
from symbreak.campaign.runner import RunConfig, run_case
from symbreak.cli import main
from symbreak.ipi.outputs import OutputError, complete_xyz_end, read_properties, read_xyz_trajectory

OUTPUTS = ("simulation.out", "simulation.positions_0.xyz", "simulation.momenta_0.xyz", "simulation.forces_0.xyz",
           "simulation.extras_c0")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("partial") / "gas"
    run_case(RunConfig(case="gas-nve", out=str(out), potential="toy", steps=40, quiet=True, reference=False))
    return out


def _copy(finished, tmp_path, name="run", unfinished=True):
    run = tmp_path / name
    shutil.copytree(finished, run)
    if unfinished:  # what a run being written looks like: no "finished" in its manifest yet
        manifest = json.loads((run / "manifest.json").read_text())
        manifest.pop("finished", None)
        (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def _frame_ends(data: bytes) -> list[int]:
    """Byte offsets just after each xyz frame, counted independently of the reader."""
    lines = data.split(b"\n")
    ends, pos, i = [], 0, 0
    while i < len(lines) and lines[i].strip():
        n = int(lines[i])
        for line in lines[i:i + n + 2]:
            pos += len(line) + 1
        ends.append(pos)
        i += n + 2
    return ends


def _cli(capsys, *args):
    code = main(["analyze", *args, "--no-figures"])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out


@pytest.mark.slow
def test_cut_at_arbitrary_offsets_reads_the_complete_part(finished, tmp_path, capsys):
    rng = np.random.default_rng(0)
    for trial in range(3):
        run = _copy(finished, tmp_path, f"run{trial}")
        for name in OUTPUTS:
            path = run / name
            data = path.read_bytes()
            path.write_bytes(data[:int(len(data) * rng.uniform(0.6, 0.98))])
        positions = (run / "simulation.positions_0.xyz").read_bytes()
        complete = sum(end <= len(positions) for end in _frame_ends((finished / "simulation.positions_0.xyz").read_bytes()))
        rows = (run / "simulation.out").read_text().split("\n")
        complete_rows = sum(1 for line in rows[:-1] if line.strip() and not line.startswith("#"))
        result = analyze_run(run)
        assert result.frames == complete_rows
        notes = "\n".join(result.notes)
        assert "the run is not finished" in notes
        assert f"simulation.positions_0.xyz: read {complete} complete frames; the last one was being written" in notes
        assert "torque_rms" in result.observables
    code, out = _cli(capsys, str(run))
    assert code == 0
    assert "note: simulation.positions_0.xyz: read" in out.out and "the last one was being written" in out.out


@pytest.mark.slow
def test_xyz_cut_at_every_kind_of_place(finished, tmp_path):
    data = (finished / "simulation.positions_0.xyz").read_bytes()
    ends = _frame_ends(data)
    path = tmp_path / "simulation.positions_0.xyz"
    # at a frame boundary, in the count line, in the comment, inside an atom line, one byte short of the end
    for cut in [ends[2], ends[2] + 1, ends[2] + 40, ends[3] - 30, ends[3] - 1, len(data) - 1]:
        path.write_bytes(data[:cut])
        notes = []
        frames = read_xyz_trajectory(path, notes)
        expected = sum(end <= cut for end in ends)
        assert len(frames) == expected and complete_xyz_end(path, data[:cut])[1] == expected
        assert bool(notes) == (cut not in ends)
    path.write_bytes(data[:ends[0] - 5])
    with pytest.raises(OutputError, match="has no complete frame yet"):
        read_xyz_trajectory(path)


@pytest.mark.slow
def test_properties_last_row_being_written_is_dropped(finished, tmp_path):
    text = (finished / "simulation.out").read_text()
    path = tmp_path / "simulation.out"
    path.write_text(text[:-25])
    notes = []
    props = read_properties(path, notes)
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(props["step"]) == len(rows) - 1
    assert notes == [f"simulation.out: read {len(rows) - 1} complete rows; the last one was being written"]


@pytest.mark.slow
def test_nul_tail_is_left_out_with_a_note(finished, tmp_path):
    run = _copy(finished, tmp_path)
    for name in ("simulation.out", "simulation.positions_0.xyz"):
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[:len(data) * 3 // 4] + b"\0" * 1500)
    result = analyze_run(run)
    notes = "\n".join(result.notes)
    assert "simulation.out: ends in 1500 NUL bytes" in notes and "simulation.positions_0.xyz: read" in notes


@pytest.mark.parametrize("damage, message", [
    ("extra_column", "simulation.out: row 13 (line 20) has 8 columns, the header names 7: the file is corrupted"),
    ("nul_middle", "simulation.out: NUL bytes at line 20, followed by more data: the file is corrupted"),
    ("text", "simulation.out: row 13 (line 20) is not all numbers"),
])
@pytest.mark.slow
def test_corrupted_properties_one_line(finished, tmp_path, capsys, damage, message):
    run = _copy(finished, tmp_path)
    path = run / "simulation.out"
    lines = path.read_text().splitlines(keepends=True)
    assert lines[18].startswith("#") is False and lines[6].startswith("#")  # 7 header lines, row 13 is line 20
    if damage == "extra_column":
        lines[19] = lines[19].rstrip("\n") + " 1.0\n"
    elif damage == "nul_middle":
        lines[19] = "\0" * 1200 + "\n"
    else:
        lines[19] = lines[19].replace("e", "x", 1)
    path.write_text("".join(lines))
    with pytest.raises(RunError) as info:
        analyze_run(run)
    assert message in str(info.value) and str(path) in str(info.value)
    code, out = _cli(capsys, str(run))
    assert code == 2
    last = out.err.strip().splitlines()[-1]
    assert last.startswith("symbreak analyze: error: ") and message in last


@pytest.mark.slow
def test_corrupted_trajectory_one_line(finished, tmp_path, capsys):
    run = _copy(finished, tmp_path)
    path = run / "simulation.positions_0.xyz"
    lines = path.read_text().splitlines(keepends=True)
    lines[10] = "garbage\n"  # a count line
    path.write_text("".join(lines))
    code, out = _cli(capsys, str(run))
    assert code == 2
    assert "simulation.positions_0.xyz: line 11 should hold the atom count of frame 3, found 'garbage'" in out.err


@pytest.mark.slow
def test_extras_cut_or_corrupted(finished, tmp_path):
    text = (finished / "simulation.extras_c0").read_text()
    path = tmp_path / "simulation.extras_c0"
    path.write_text(text[:-40])
    notes = []
    frames = read_extras(path, notes)
    assert len(frames) == 40 and notes == ["simulation.extras_c0: the last extras line was being written: left out"]
    lines = text.splitlines(keepends=True)
    lines[3] = "{'strategy': ['plain'], 'energy_pl\n"
    path.write_text("".join(lines))
    with pytest.raises(RunError, match="simulation.extras_c0: line 4 is neither a Python dict nor JSON"):
        read_extras(path)


@pytest.mark.slow
def test_out_that_is_a_file_one_line(finished, tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x")
    code, out = _cli(capsys, str(finished), "--out", str(target))
    assert code == 2 and out.err.strip().splitlines()[-1] == f"symbreak analyze: error: --out {target} is a file, not a folder"
