"""`symbreak check RUN`: a clean run passes; a killed run fails until it is resumed; torn copies fail by name."""

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from symbreak.campaign.run_check import check_run
from symbreak.campaign.runlock import find_orphans, read_lock
from symbreak.cli import main
from symbreak.ipi.launch import symbreak_command
from symbreak.ipi.processes import stop_process_group

GAS = ["gas-nve", "--potential", "toy", "--strategy", "plain", "--no-reference", "--quiet"]


def _run(out: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(symbreak_command("run", *args, "--out", str(out)), capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})


def _rows(out: Path) -> int:
    try:
        return sum(1 for line in (out / "simulation.out").read_bytes().splitlines() if line.strip() and not line.startswith(b"#"))
    except OSError:
        return 0


def _statuses(report) -> dict[str, str]:
    return {c.name.split(":")[0].split(" (")[0]: c.status for c in report.checks}


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("check") / "clean"
    done = _run(out, *GAS, "--steps", "60")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_a_clean_run_passes_every_check(clean, capsys):
    report = check_run(clean)
    assert report.ok and report.frames_lost == 0 and report.duplicates == 0 and not report.running
    assert report.last_step == 60
    statuses = _statuses(report)
    assert statuses["no NUL bytes in any file of the folder"] == "ok"
    assert statuses["conserved quantity continuous where the run resumed"] == "skip"  # never resumed
    assert main(["check", str(clean)]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and out.count("\n  ok ") >= 6
    assert main(["check", str(clean), "--json"]) == 0
    (data,) = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["frames_lost"] == 0 and {c["status"] for c in data["checks"]} <= {"ok", "skip"}


def _corrupt(clean: Path, tmp_path: Path, name: str, change) -> Path:
    copy = tmp_path / name
    shutil.copytree(clean, copy)
    change(copy)
    return copy


def _drop_row(folder: Path, duplicate: bool = False) -> None:
    path = folder / "simulation.out"
    lines = path.read_text().splitlines(keepends=True)
    data = [k for k, line in enumerate(lines) if not line.startswith("#")]
    k = data[2]
    lines = lines[:k] + ([lines[k], lines[k]] if duplicate else []) + lines[k + 1:]
    path.write_text("".join(lines))


def _truncate_frame(folder: Path) -> None:
    path = folder / "simulation.positions_0.xyz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])


def _nul_bytes(folder: Path) -> None:
    path = folder / "simulation.forces_0.xyz"
    data = path.read_bytes()
    path.write_bytes(data[:200] + b"\0" * 16 + data[200:])


@pytest.mark.slow
@pytest.mark.parametrize("name, change, failing, text", [
    ("missing-row", _drop_row, "properties simulation.out", "1 missing (first [2])"),
    ("duplicated-step", lambda f: _drop_row(f, duplicate=True), "properties simulation.out", "1 duplicated (first [2])"),
    ("truncated-frame", _truncate_frame, "trajectories", "the frame of step 60 is incomplete"),
    ("nul-bytes", _nul_bytes, "no NUL bytes in any file of the folder", "simulation.forces_0.xyz"),
])
def test_a_torn_copy_fails_the_check_that_names_it(clean, tmp_path, capsys, name, change, failing, text):
    copy = _corrupt(clean, tmp_path, name, change)
    report = check_run(copy)
    assert not report.ok
    failed = [c for c in report.checks if c.status == "FAIL"]
    assert any(c.name.startswith(failing) and text in c.detail for c in failed), failed
    assert main(["check", str(copy)]) == 1
    assert "FAILED" in capsys.readouterr().out


@pytest.mark.slow
def test_a_killed_run_fails_until_the_same_command_resumes_it(tmp_path):
    out = tmp_path / "killed"
    args = [*GAS, "--steps", "600"]
    proc = subprocess.Popen(symbreak_command("run", *args, "--out", str(out)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 180
        while _rows(out) < 150:
            assert proc.poll() is None and time.monotonic() < deadline, "the run ended or stalled early"
            time.sleep(0.05)
        ipi = read_lock(out)["children"]["ipi"]
        os.kill(proc.pid, signal.SIGKILL)  # the runner first: its attempt stays open, nobody cleans up
        proc.wait()
        os.kill(ipi["pid"], signal.SIGKILL)  # then i-PI, which leaves its socket file
        time.sleep(0.5)
        report = check_run(out)
        assert not report.ok and not report.running
        failed = {c.name.split(" (")[0].split(":")[0] for c in report.checks if c.status == "FAIL"}
        assert {"manifest", "no UNIX socket file of any attempt left"} <= failed, report.checks
        again = _run(out, *args)
        assert again.returncode == 0 and "resuming" in again.stderr, again.stderr
        report = check_run(out)
        assert report.ok, [c for c in report.checks if c.status == "FAIL"]
        assert report.frames_lost == 0 and report.duplicates == 0 and report.last_step == 600
        seams = next(c for c in report.checks if c.name.startswith("conserved quantity"))
        assert seams.status == "ok" and "1 seams" in seams.name
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for _, identity in find_orphans(read_lock(out), out) if out.exists() else []:
            stop_process_group(identity, grace=2.0)


def test_a_folder_that_is_no_run_is_one_line(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "no i-PI input" in err and len(err.splitlines()) == 1
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err
