"""`symbreak run`: a real i-PI + server run of a case, its manifest, and its failure paths."""

import json
import subprocess

import pytest
from symbreak.campaign.cases import CASES, get_case
from symbreak.campaign.runner import RunConfig, run_case
from symbreak.ipi.launch import symbreak_command
from symbreak.ipi.processes import ProcessFailed


@pytest.mark.slow
def test_gas_nve_run_writes_outputs_and_manifest(tmp_path):
    out = tmp_path / "gas"
    result = run_case(RunConfig(case="gas-nve", out=str(out), strategy="2i", potential="toy", steps=5, quiet=True))
    assert result.steps == 5
    lines = [l for l in (out / "simulation.out").read_text().splitlines() if not l.startswith("#")]
    assert len(lines) == 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["case"] == "gas-nve" and manifest["config"]["strategy"] == "2i"
    assert "finished" in manifest and "ipi" in manifest["versions"]
    assert "--vacuum" in manifest["commands"]["clients"][0]["command"]


@pytest.mark.slow
def test_stride_sets_the_output_rows_and_defines_the_run(tmp_path):
    out = tmp_path / "liquid"
    run_case(RunConfig(case="liquid-nvt", out=str(out), potential="toy", steps=6, size=8, stride=2, quiet=True))
    steps = [int(float(l.split()[0])) for l in (out / "simulation.out").read_text().splitlines() if not l.startswith("#")]
    assert steps == [0, 2, 4, 6]
    assert json.loads((out / "manifest.json").read_text())["options"]["stride"] == 2
    # a re-run with another stride is another run: refused, not mixed into these outputs
    with pytest.raises(ValueError, match="stride 2 -> 3"):
        run_case(RunConfig(case="liquid-nvt", out=str(out), potential="toy", steps=6, size=8, stride=3, quiet=True))
    with pytest.raises(ValueError, match="--stride must be at least 1"):
        run_case(RunConfig(case="liquid-nvt", out=str(tmp_path / "x"), potential="toy", stride=0, quiet=True))


@pytest.mark.slow
def test_workers_reach_the_model_server_of_a_grid_strategy_only(tmp_path):
    out = tmp_path / "liquid"
    run_case(RunConfig(case="liquid-nvt", out=str(out), strategy="2i", potential="toy", steps=3, workers=2,
                       reference=True, quiet=True))
    clients = {c["name"]: c["command"] for c in json.loads((out / "manifest.json").read_text())["commands"]["clients"]}
    assert clients["model0"][clients["model0"].index("--workers") + 1] == "2"
    assert "--workers" not in clients["reference0"]
    with pytest.raises(ValueError, match="--workers must be >= 1, got 0"):
        run_case(RunConfig(case="gas-nve", out=str(tmp_path / "x"), potential="toy", workers=0, quiet=True))


@pytest.mark.slow
def test_liquid_run_over_tcp(tmp_path):
    out = tmp_path / "liquid"
    run_case(RunConfig(case="liquid-nvt", out=str(out), strategy="plain", potential="toy", steps=3,
                       transport="inet", quiet=True))
    assert (out / "simulation.positions_0.xyz").exists()


@pytest.mark.slow
def test_a_dying_server_is_named(tmp_path):
    # a spec that parses but whose factory returns no calculator: the runner starts, the server dies at load
    with pytest.raises(ProcessFailed, match="model0 exited with code 2"):
        run_case(RunConfig(case="gas-nve", out=str(tmp_path / "x"), potential="ase:os:getcwd", steps=5, quiet=True))


def test_an_unknown_potential_fails_before_any_process(tmp_path):
    with pytest.raises(ValueError, match="unknown potential 'no-such-model'"):
        run_case(RunConfig(case="gas-nve", out=str(tmp_path / "x"), potential="no-such-model", steps=5, quiet=True))


def test_refuses_to_overwrite(tmp_path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        run_case(RunConfig(case="gas-nve", out=str(tmp_path / "busy"), potential="toy", steps=1))


def test_unknown_case_lists_the_known_ones():
    with pytest.raises(ValueError, match="gas-nve"):
        get_case("gas-npt")


@pytest.mark.slow
def test_cli_list():
    out = subprocess.run(symbreak_command("run", "--list"), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for name in CASES:
        assert name in out.stdout


@pytest.mark.slow
def test_an_ipi_input_error_is_named(tmp_path, monkeypatch):
    import symbreak.campaign.preparation as preparation

    monkeypatch.setattr(preparation, "simulation_xml", lambda spec: "<simulation><no_such_field/></simulation>")
    with pytest.raises(ProcessFailed, match="ipi exited with code"):
        run_case(RunConfig(case="gas-nve", out=str(tmp_path / "bad"), potential="toy", steps=2, reference=False,
                           quiet=True))


@pytest.mark.slow
def test_a_port_in_use_is_reported(tmp_path):
    import socket

    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", 31415))  # the first port of fixed TCP addresses
    except OSError:
        pytest.skip("port 31415 is busy on this machine already")
    blocker.listen(1)
    try:
        with pytest.raises(ProcessFailed) as err:
            run_case(RunConfig(case="gas-nve", out=str(tmp_path / "busy"), potential="toy", steps=2, reference=False,
                               transport="inet", fixed_addresses=True, quiet=True))
        assert "ipi exited" in str(err.value) and "in use" in str(err.value).lower()
    finally:
        blocker.close()
