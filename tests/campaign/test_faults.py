"""Long runs that survive: kills, orphans, stalls, re-runs with other options, and bad inputs of `symbreak run`.

Real short toy runs started as `symbreak run` subprocesses; the processes are
found through the run folder's lock (symbreak.lock names the runner and its
children) and always stopped at the end, whatever happened.
"""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from symbreak.campaign.runlock import LOCK_NAME, find_orphans
from symbreak.campaign.runner import RunConfig, prepare, run_case
from symbreak.cli import main as symbreak_main
from symbreak.ipi.launch import symbreak_command
from symbreak.ipi.processes import SOCKETS_PREFIX, is_alive_as, process_state, stop_process_group

GAS = ["gas-nve", "--potential", "toy", "--strategy", "2i", "--no-reference"]


# --------------------------------------------------------------------------------------
# helpers


class Runs:
    """Starts `symbreak run` subprocesses and stops them and everything they started at the end."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.procs: list[subprocess.Popen] = []
        self.folders: list[Path] = []

    def start(self, out: Path, *args: str) -> subprocess.Popen:
        self.folders.append(out)
        log = open(self.tmp / f"runner-{len(self.procs)}.log", "w")
        proc = subprocess.Popen(symbreak_command("run", *args, "--out", str(out)), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        proc.log_path = log.name
        self.procs.append(proc)
        return proc

    def run(self, out: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        self.folders.append(out)
        return subprocess.run(symbreak_command("run", *args, "--out", str(out)), capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for out in self.folders:
            for _, identity in find_orphans(lock_record(out), out) if out.exists() else []:
                stop_process_group(identity, grace=2.0)


@pytest.fixture
def runs(tmp_path):
    r = Runs(tmp_path)
    try:
        yield r
    finally:
        r.cleanup()


def lock_record(out: Path) -> dict:
    try:
        return json.loads((out / LOCK_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def rows(out: Path) -> int:
    try:
        with open(out / "simulation.out", "rb") as fh:
            return sum(1 for line in fh if line.strip() and not line.startswith(b"#"))
    except OSError:
        return 0


def wait_rows(out: Path, n: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while rows(out) <= n:
        assert proc.poll() is None, f"the run ended early:\n{Path(proc.log_path).read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {n} rows after {timeout} s"
        time.sleep(0.05)


def child(out: Path, name: str) -> dict:
    deadline = time.monotonic() + 60
    while name not in lock_record(out).get("children", {}):
        assert time.monotonic() < deadline, f"{name} not in the lock of {out}"
        time.sleep(0.05)
    return lock_record(out)["children"][name]


def assert_every_step_once(out: Path, steps: int, stride: int = 1) -> np.ndarray:
    """Contiguous steps in the properties and every trajectory; returns the properties table."""
    assert b"\0" not in (out / "simulation.out").read_bytes()
    table = np.loadtxt(out / "simulation.out")
    assert table[:, 0].astype(int).tolist() == list(range(0, steps + 1, stride))
    for path in sorted(out.glob("simulation.*")):
        if path.suffix in (".out", ".restart") or path.name.startswith("#"):
            continue
        found = [int(s) for s in re.findall(r"Step:\s+(\d+)", path.read_text())]
        step_stride = 1 if "extras" in path.name else stride
        assert found == list(range(0, steps + 1, step_stride)), f"{path.name}: steps not contiguous"
    return table


def assert_conserved_continuous(table: np.ndarray, seam: int) -> None:
    """The conserved quantity (column 3) changes across the seam row no more than elsewhere (x 3)."""
    change = np.abs(np.diff(table[:, 2]))
    k = int(np.searchsorted(table[:, 0], seam))
    if k >= len(change):  # the resume found i-PI's last step already written (a loaded machine): no seam inside
        return
    normal = np.delete(change, k)
    assert change[k] <= 3 * normal.max() + 1e-12, f"jump {change[k]:.3g} eV at step {seam}, normal <= {normal.max():.3g}"


# --------------------------------------------------------------------------------------
# kills and orphans (item 1 and 2)


@pytest.mark.slow
def test_ipi_and_runner_killed_stale_socket_resume_once(runs, tmp_path):
    out = tmp_path / "r"
    args = [*GAS, "--steps", "600", "--quiet"]
    proc = runs.start(out, *args)
    wait_rows(out, 250, proc)
    ipi = child(out, "ipi")
    command = child(out, "model0")["cmdline"]
    socket_path = SOCKETS_PREFIX + command[command.index("--address") + 1]
    os.kill(proc.pid, signal.SIGKILL)  # the runner first, so that nobody cleans up after i-PI
    proc.wait()
    os.kill(ipi["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while is_alive_as(ipi) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Path(socket_path).exists(), "the killed i-PI should have left its socket file"
    before = rows(out)
    assert before < 601, "the run finished before it could be interrupted"

    again = runs.run(out, *args)
    assert again.returncode == 0, again.stderr
    assert "resuming" in again.stderr
    assert not Path(socket_path).exists(), "the stale socket file of the first attempt is still there"
    table = assert_every_step_once(out, 600)
    manifest = json.loads((out / "manifest.json").read_text())
    first, second = manifest["attempts"]
    assert first["outcome"].startswith("no record: the runner was killed") and second["outcome"] == "finished"
    assert first["sockets"]["model"] != second["sockets"]["model"]
    assert second["sockets"]["model"] in " ".join(manifest["commands"]["clients"][0]["command"])
    assert_conserved_continuous(table, second["from_step"])
    assert not (out / LOCK_NAME).exists()


@pytest.mark.slow
def test_killed_before_the_first_checkpoint_starts_again_from_step_0(runs, tmp_path):
    out = tmp_path / "r"
    args = [*GAS, "--steps", "150", "--quiet"]
    proc = runs.start(out, *args)
    wait_rows(out, 20, proc)
    ipi = child(out, "ipi")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    os.kill(ipi["pid"], signal.SIGKILL)
    if rows(out) > 100:
        pytest.skip("i-PI wrote its first checkpoint before it was killed")
    again = runs.run(out, *args)
    assert again.returncode == 0, again.stderr
    assert "starting it again from step 0" in again.stderr
    assert_every_step_once(out, 150)


@pytest.mark.slow
def test_second_runner_refuses_and_orphans_are_stopped_before_resume(runs, tmp_path):
    out = tmp_path / "r"
    args = [*GAS, "--steps", "4000", "--quiet"]  # long enough not to finish while the second runner starts
    proc = runs.start(out, *args)
    wait_rows(out, 100, proc)
    second = runs.run(out, *args, timeout=120)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "in use by another symbreak run" in lines[0] and f"PID {proc.pid}" in lines[0], lines
    assert proc.poll() is None, "the refused runner must leave the first one alone"

    ipi, server = child(out, "ipi"), child(out, "model0")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    assert is_alive_as(ipi) and is_alive_as(server), "i-PI and the server should outlive the killed runner"
    os.kill(ipi["pid"], signal.SIGSTOP)  # hold the orphans where they are (a stopped one must be stopped too)
    assert rows(out) < 4001, "the orphans finished the run before the re-run"
    again = runs.run(out, *args)
    assert again.returncode == 0, again.stderr
    assert "stopping what an earlier runner" in again.stderr and f"PID {ipi['pid']}" in again.stderr
    assert not is_alive_as(ipi) and not is_alive_as(server)
    table = assert_every_step_once(out, 4000)
    assert_conserved_continuous(table, json.loads((out / "manifest.json").read_text())["attempts"][-1]["from_step"])


@pytest.mark.slow
def test_full_disk_stops_with_one_line_and_resumes_once_there_is_space(runs, tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1M", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        out = disk / "r"
        args = [*GAS, "--steps", "800", "--quiet"]
        full = runs.run(out, *args)
        assert full.returncode == 2, full.stderr
        assert full.stderr.count("\n") >= 1 and "No space left on device" in full.stderr
        again = runs.run(out, *args)  # still full: one line naming the file, nothing changed
        assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1, again.stderr
        assert "No space left on device: " in again.stderr and "re-run the same command" in again.stderr
        subprocess.run(["mount", "-o", "remount,size=32M", str(disk)], check=True)
        again = runs.run(out, *args)
        assert again.returncode == 0, again.stderr
        table = assert_every_step_once(out, 800)
        assert_conserved_continuous(table, json.loads((out / "manifest.json").read_text())["attempts"][-1]["from_step"])
    finally:
        runs.cleanup()
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --------------------------------------------------------------------------------------
# the stall watchdog (item 5)


@pytest.mark.slow
def test_a_stopped_server_is_detected_named_and_the_run_resumes(runs, tmp_path):
    out = tmp_path / "r"
    args = [*GAS, "--steps", "800", "--stall-timeout", "4"]
    proc = runs.start(out, *args)
    wait_rows(out, 100, proc)
    ipi, server = child(out, "ipi"), child(out, "model0")
    os.kill(server["pid"], signal.SIGSTOP)
    stopped = time.monotonic()
    code = proc.wait(timeout=120)
    took = time.monotonic() - stopped
    log = Path(proc.log_path).read_text()
    assert code == 2, log
    errors = [line for line in log.splitlines() if "error" in line]
    assert len(errors) == 1 and "no i-PI progress for" in errors[0], log
    assert "model0 stopped (state T)" in errors[0] and "ipi " in errors[0]
    assert took < 4 + 15 + 10, f"detected and stopped after {took:.0f} s"
    assert not is_alive_as(ipi) and not is_alive_as(server), "the stopped server must be stopped for good"
    assert process_state(server["pid"]) in (None, "Z")

    again = runs.run(out, *args)
    assert again.returncode == 0, again.stderr
    table = assert_every_step_once(out, 800)
    assert_conserved_continuous(table, json.loads((out / "manifest.json").read_text())["attempts"][-1]["from_step"])


# --------------------------------------------------------------------------------------
# re-runs with other options (item 3)


def _interrupted(out: Path, **options) -> dict:
    """A short finished run turned into an interrupted one (its manifest without 'finished')."""
    run_case(RunConfig(case="gas-nve", out=str(out), potential="toy", strategy="2i", steps=6, reference=False,
                       quiet=True, **options))
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["finished"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    return manifest


@pytest.mark.slow
def test_other_options_refuse_with_the_differences_listed(tmp_path):
    out = tmp_path / "r"
    _interrupted(out)
    before = sorted(p.name for p in out.iterdir())
    with pytest.raises(ValueError) as err:
        run_case(RunConfig(case="gas-nve", out=str(out), potential="default", strategy="plain", steps=350,
                           transport="inet", reference=False, quiet=True, threads=2))
    message = str(err.value)
    assert "\n" not in message and "--force-new" in message
    for difference in ("potential toy -> default", "strategy 2i -> plain", "steps 6 -> 350", "transport unix -> inet"):
        assert difference in message
    assert "threads" not in message
    assert sorted(p.name for p in out.iterdir()) == before  # nothing touched, the lock included
    # the same options (threads and quiet may differ) resume it: from i-PI's final checkpoint it is finished
    result = run_case(RunConfig(case="gas-nve", out=str(out), potential="toy", strategy="legendre:2:i", steps=6,
                                reference=False, threads=2))
    assert result.resumed and "finished" in json.loads((out / "manifest.json").read_text())


@pytest.mark.slow
def test_force_new_moves_the_old_run_aside(tmp_path, capsys):
    out = tmp_path / "r"
    old = _interrupted(out)
    code = symbreak_main(["run", "gas-nve", "--potential", "toy", "--strategy", "plain", "--steps", "4",
                          "--no-reference", "--quiet", "--out", str(out), "--force-new"])
    assert code == 0
    assert "moved the earlier run aside to" in capsys.readouterr().err
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("r.old-")]
    assert len(aside) == 1
    assert json.loads((aside[0] / "manifest.json").read_text())["started"] == old["started"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["strategy"] == "plain" and "finished" in manifest
    # a finished run is refused without --force-new
    code = symbreak_main(["run", "gas-nve", "--potential", "toy", "--strategy", "plain", "--steps", "4",
                          "--no-reference", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "finished run" in err[0] and "--force-new" in err[0]


# --------------------------------------------------------------------------------------
# the random stream continues on resume (item 4)


@pytest.mark.slow
def test_random_stream_continues_across_a_resume(runs, tmp_path):
    out = tmp_path / "r"
    args = ["gas-nvt", "--potential", "toy", "--strategy", "random:5", "--no-reference", "--steps", "400", "--quiet"]
    proc = runs.start(out, *args)
    wait_rows(out, 150, proc)
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=60) != 0
    state = json.loads((out / "model0.random.json").read_text())
    assert state["seed"] == 5 and state["calls"] > 150
    again = runs.run(out, *args)
    assert again.returncode == 0, again.stderr
    assert_every_step_once(out, 400)
    calls = [int(c) for c in re.findall(r"'call': \[(\d+)\]", (out / "simulation.extras_c0").read_text())]
    assert len(calls) == 401
    assert np.all(np.diff(calls) > 0), "a rotation of the first attempt was used again after the resume"
    assert "--state" in json.loads((out / "manifest.json").read_text())["commands"]["clients"][0]["command"]


# --------------------------------------------------------------------------------------
# bad inputs at the runner (item 6): one line, exit 2, no folder left behind


def _one_line_error(capsys, *args) -> str:
    code = symbreak_main(["run", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    return err[0]


def test_out_that_is_a_file_or_under_a_file(tmp_path, capsys):
    afile = tmp_path / "somefile"
    afile.write_text("mine")
    assert "is a file, not a folder" in _one_line_error(capsys, *GAS, "--out", str(afile))
    message = _one_line_error(capsys, *GAS, "--out", str(afile / "sub"))
    assert "cannot make the output folder" in message and str(afile) in message
    assert afile.read_text() == "mine"


def test_out_without_write_permission(tmp_path, capsys, monkeypatch):
    import symbreak.campaign.preflight as preflight

    monkeypatch.setattr(preflight.os, "access", lambda path, mode: False)
    message = _one_line_error(capsys, *GAS, "--out", str(tmp_path / "a" / "b"))
    assert "no write permission in" in message and str(tmp_path) in message
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("content", ["", "3\n# CELL(abcABC): 10 10 10 90 90 90\nO 0 0 0\nH 1 0 0\n", "\x00\x01garbage\n"])
def test_bad_init_file_is_named_and_leaves_no_folder(tmp_path, capsys, content):
    init = tmp_path / "init.xyz"
    init.write_text(content)
    out = tmp_path / "runs" / "r"
    message = _one_line_error(capsys, *GAS, "--init", str(init), "--out", str(out))
    assert str(init) in message
    assert not (tmp_path / "runs").exists()
    # a folder that was there (empty) stays, and stays empty
    out.mkdir(parents=True)
    _one_line_error(capsys, *GAS, "--init", str(init), "--out", str(out))
    assert out.is_dir() and not any(out.iterdir())


def test_empty_replay_trajectory(tmp_path, capsys):
    trajectory = tmp_path / "frames.xyz"
    trajectory.write_text("")
    out = tmp_path / "replay"
    message = _one_line_error(capsys, "replay", "--potential", "toy", "--trajectory", str(trajectory), "--out", str(out))
    assert str(trajectory) in message
    assert not out.exists()


def test_host_that_is_not_this_machine(tmp_path, capsys):
    out = tmp_path / "r"
    message = _one_line_error(capsys, *GAS, "--transport", "inet", "--host", "8.8.8.8", "--out", str(out))
    assert "cannot listen on 8.8.8.8: not an address of this machine" in message
    assert not out.exists()


def test_bad_stall_timeout(tmp_path, capsys):
    assert "--stall-timeout" in _one_line_error(capsys, *GAS, "--stall-timeout", "0", "--out", str(tmp_path / "r"))
    assert not (tmp_path / "r").exists()


def test_sockets_listen_on_loopback_by_default():
    for transport in ("unix", "inet"):
        spec, fields, _ = prepare(RunConfig(case="liquid-nvt", out="x", potential="toy", transport=transport))
        assert len(fields) == 2  # the model and the reference
        for socket_spec in spec.forcefields:
            assert socket_spec.mode == transport
            if transport == "inet":
                assert socket_spec.address == "127.0.0.1"


def test_serve_state_file_continues_the_stream(tmp_path, water_molecule):
    """`symbreak serve --state FILE`: a second server reading FILE continues the first one's rotations."""
    import argparse

    from symbreak.commands.serve import add_arguments, build_service, save_stream_state

    def server(*extra):
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        return build_service(parser.parse_args(["--potential", "toy", "--strategy", "random:9", *extra]))

    state = tmp_path / "model0.random.json"
    whole = server()
    reference = [whole.potential.compute([water_molecule]).energies[0] for _ in range(10)]
    first = server("--state", str(state))
    energies = []
    for _ in range(5):
        energies.append(first.potential.compute([water_molecule]).energies[0])
        save_stream_state(first.potential, str(state))  # what the server does after every call
    second = server("--state", str(state))
    energies += [second.potential.compute([water_molecule]).energies[0] for _ in range(5)]
    assert energies == reference
    with pytest.raises(ValueError, match="--state is for random strategies"):
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        build_service(parser.parse_args(["--potential", "toy", "--strategy", "2i", "--state", str(state)]))
    with pytest.raises(ValueError, match="seed 9, not 10"):
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        build_service(parser.parse_args(["--potential", "toy", "--strategy", "random:10", "--state", str(state)]))


# --------------------------------------------------------------------------------------
# the pieces, without a simulation


def test_truncation_drops_partial_lines_and_frames(tmp_path):
    from symbreak.ipi.resume import truncate_frames, truncate_properties

    props = tmp_path / "simulation.out"
    props.write_text("# column 1 --> step\n" + "".join(f"{k}.0 {k * 2} 1\n" for k in range(5)) + "5.0 10")
    assert truncate_properties(props, 100) == 0 and np.loadtxt(props)[:, 0].tolist() == [0, 1, 2, 3, 4]
    props.write_text("0.0 0 1\n1.0 2 1\n2.0 4\n")  # a row cut between columns (then a newline from a restart)
    assert truncate_properties(props, 100) == 1 and props.read_text() == "0.0 0 1\n1.0 2 1\n"
    xyz = tmp_path / "simulation.positions_0.xyz"
    frame = "2\n# CELL(abcABC): 1 1 1 90 90 90 Step: {} Bead: 0\nO 0 0 0\nH 1 0 0\n"
    xyz.write_text(frame.format(0) + frame.format(1) + "2\n# CELL(abcABC): 1 1 1 90 90 90 Step: 2 Bead: 0\nO 0 0")
    assert truncate_frames(xyz, 100) == 1
    assert re.findall(r"Step: (\d+)", xyz.read_text()) == ["0", "1"]
    assert not list(tmp_path.glob(".*truncating"))


def test_latest_complete_checkpoint_and_new_socket_addresses(tmp_path):
    from symbreak.ipi.inputs import simulation_xml
    from symbreak.ipi.resume import latest_checkpoint, with_socket_addresses

    spec, _, _ = prepare(RunConfig(case="gas-nve", out="x", potential="toy", reference=False, transport="inet"))
    text = simulation_xml(spec).replace("<total_steps>", "<step>250</step><total_steps>")
    (tmp_path / "RESTART").write_text(text)
    (tmp_path / "simulation.restart").write_text(text.replace("<step>250", "<step>300")[:-200])  # cut by a kill
    assert latest_checkpoint(tmp_path) == tmp_path / "RESTART"
    (tmp_path / "simulation.restart").write_text(text.replace("<step>250", "<step>300"))
    assert latest_checkpoint(tmp_path) == tmp_path / "simulation.restart"
    new = with_socket_addresses(text, {"model": ("127.0.0.1", 40001)})
    assert "<port>40001</port>" in new and new.count("<address>127.0.0.1</address>") == 1
    with pytest.raises(ValueError, match="'model'"):
        with_socket_addresses(text, {"other": ("x", None)})


@pytest.mark.slow
def test_lock_refuses_a_second_owner_and_finds_recorded_orphans(tmp_path):
    from symbreak.campaign.runlock import RunBusy, RunLock

    first = RunLock(tmp_path)
    assert first.acquire() == {}
    first.claim()
    sleeper = subprocess.Popen(["sleep", "60"], cwd=tmp_path, start_new_session=True)
    try:
        first.record_child("model0", sleeper.pid)
        with pytest.raises(RunBusy, match=f"PID {os.getpid()}"):
            RunLock(tmp_path).acquire()
        os.close(first.fd)  # the runner dies without releasing: the kernel drops the flock, the file stays
        second = RunLock(tmp_path)
        previous = second.acquire()
        assert previous["children"]["model0"]["pid"] == sleeper.pid
        impostor = dict(previous["children"]["model0"], start_time=1)  # a reused PID is not ours
        assert find_orphans({"children": {"x": impostor}}, tmp_path / "elsewhere") == []
        orphans = find_orphans(previous, tmp_path)
        assert [name for name, _ in orphans] == ["model0"]
        stop_process_group(orphans[0][1], grace=5)
        assert sleeper.wait(timeout=10) == -signal.SIGTERM
        second.claim()
        second.release()
        assert not (tmp_path / LOCK_NAME).exists()
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
