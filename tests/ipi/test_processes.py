"""ProcessGroup: clients must exit by themselves after the engine, except spares that came too late."""

from __future__ import annotations

import sys

import pytest
from symbreak.ipi.processes import ProcessFailed, ProcessGroup


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.slow
def test_a_client_that_exits_cleanly_passes(tmp_path):
    with ProcessGroup(tmp_path) as group:
        main = group.start("engine", python("pass"))
        group.start("client", python("import time; time.sleep(0.3)"))
        group.wait_for(main, timeout=30)
        assert group.wait_clients(main) == []


@pytest.mark.slow
def test_a_client_that_fails_after_the_engine_fails_the_run(tmp_path):
    with ProcessGroup(tmp_path) as group:
        main = group.start("engine", python("pass"))
        group.start("client", python("import time, sys; time.sleep(0.5); sys.exit(3)"))
        main.popen.wait()
        with pytest.raises(ProcessFailed, match="client exited with code 3"):
            group.wait_clients(main)


@pytest.mark.slow
def test_a_client_that_does_not_exit_fails_the_run(tmp_path):
    with ProcessGroup(tmp_path) as group:
        main = group.start("engine", python("pass"))
        group.start("client", python("import time; time.sleep(60)"))
        main.popen.wait()
        with pytest.raises(ProcessFailed, match="client did not exit after engine finished"):
            group.wait_clients(main, timeout=0.5)


@pytest.mark.slow
def test_spares_that_came_too_late_are_notes_not_failures(tmp_path):
    """The CI failure of 2026-11-28: i-PI finished with one server before the second connected."""
    with ProcessGroup(tmp_path) as group:
        main = group.start("engine", python("pass"))
        first = group.start("server0", python("pass"))
        waiting = group.start("server1", python("import time; time.sleep(60)"), spare=True)
        reset = group.start("server2", python("import sys; sys.exit(1)"), spare=True)
        main.popen.wait()
        notes = group.wait_clients(main, spare_grace=0.5)
        assert first.popen.returncode == 0
        assert len(notes) == 2
        assert "server1 (a spare client) was still waiting" in notes[0]
        assert "server2 (a spare client) exited with code 1" in notes[1]
    assert waiting.popen.returncode is not None and reset.popen.returncode == 1  # stopped on leaving the group


@pytest.mark.slow
def test_a_run_finished_by_one_of_two_servers_on_a_socket_passes(tmp_path, capsys):
    """The CI failure, made certain: the same server command twice, one of them 8 s late (after i-PI is done)."""
    import shlex

    from symbreak.ipi.inputs import ForceTerm, SimulationSpec, SocketSpec, simulation_xml
    from symbreak.ipi.launch import run_simulation, symbreak_command
    from symbreak.ipi.md_settings import MDSettings
    from symbreak.ipi.processes import unique_socket_name
    from symbreak.potentials import testing

    name = unique_socket_name()
    serve = shlex.join(symbreak_command("serve", "--potential", "toy", "--unix", "--address", name, "--vacuum"))
    late = ["sh", "-c", f"if mkdir first 2>/dev/null; then exec {serve}; else sleep 8; exec {serve}; fi"]
    spec = SimulationSpec("init.xyz", [SocketSpec("model", name)], [ForceTerm("model")],
                          MDSettings(ensemble="nve", thermostat="none", steps=3))
    run_simulation(tmp_path, testing.water_molecule(seed=1), simulation_xml(spec), [late, late], timeout=120)
    assert "(a spare client)" in capsys.readouterr().err


@pytest.mark.slow
def test_a_spare_that_fails_while_the_engine_finishes_is_not_a_failure(tmp_path):
    with ProcessGroup(tmp_path) as group:
        main = group.start("engine", python("import time; time.sleep(1.5)"))
        group.start("server1", python("import sys; sys.exit(1)"), spare=True)  # reset as i-PI closes its socket
        assert group.wait_for(main, timeout=30, spare_grace=5.0) == 0
        assert "server1 (a spare client) exited with code 1" in group.wait_clients(main)[0]


@pytest.mark.slow
def test_a_spare_that_fails_mid_run_is_still_a_failure(tmp_path):
    with ProcessGroup(tmp_path) as group:
        main = group.start("engine", python("import time; time.sleep(60)"))
        group.start("server1", python("import sys; sys.exit(1)"), spare=True)
        with pytest.raises(ProcessFailed, match="server1 exited with code 1"):
            group.wait_for(main, timeout=30, spare_grace=1.0)
