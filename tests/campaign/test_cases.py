"""Every case runs a handful of steps end to end (toy model; the LAMMPS reference where the case records it)."""

import json

import numpy as np
import pytest
from symbreak.campaign.cases import CASES
from symbreak.campaign.runner import RunConfig, run_case
from symbreak.ipi.outputs import read_properties

DYNAMICS = [name for name, case in CASES.items() if case.motion == "dynamics"]


@pytest.mark.parametrize("name", DYNAMICS)
@pytest.mark.slow
def test_dynamics_case_runs(tmp_path, name):
    case = CASES[name]
    out = tmp_path / name
    run_case(RunConfig(case=name, out=str(out), strategy="2i", potential="toy", steps=2 * case.stride, quiet=True,
                       size=8 if name.startswith("liquid") else None, beads=min(case.beads, 2)))
    props = read_properties(out / "simulation.out")
    assert len(props["step"]) == 3 and np.all(np.isfinite(props["potential"]))
    manifest = json.loads((out / "manifest.json").read_text())
    roles = [f["role"] for f in manifest["forcefields"]]
    assert ("inner" in roles and "outer" in roles) if case.mts else ("model" in roles)
    if case.reference:
        k = roles.index("reference")
        # the reference energy is recorded on every frame, at weight 0
        assert np.all(props[f"pot_component_raw({k})"] != 0) or name.startswith("gas")
    if case.beads > 1:  # path-integral cases (run here with 2 beads)
        assert np.all(props["kinetic_cv"] > 0)
    if case.ensemble == "npt":
        assert np.all(props["volume"] > 0)


@pytest.mark.slow
def test_geometry_optimisation_lowers_the_energy(tmp_path):
    out = tmp_path / "geop"
    run_case(RunConfig(case="ice-geop", out=str(out), strategy="plain", potential="toy", steps=5, quiet=True))
    pot = read_properties(out / "simulation.out")["potential"]
    assert pot[-1] < pot[0]


@pytest.mark.slow
def test_replay_evaluates_every_frame_with_every_strategy(tmp_path):
    src = tmp_path / "src"
    run_case(RunConfig(case="gas-nve", out=str(src), potential="toy", steps=4, reference=False, quiet=True))
    out = tmp_path / "replay"
    run_case(RunConfig(case="replay", out=str(out), potential="toy", trajectory=str(src / "simulation.positions_0.xyz"),
                       replay_strategies=("plain", "2i", "3i"), quiet=True))
    props = read_properties(out / "simulation.out")
    assert len(props["step"]) == 6  # the initial structure, then the 5 frames
    plain, avg2, avg3, ref = (props[f"pot_component_raw({k})"] for k in range(4))
    assert np.all(np.abs(plain - avg3) > 1e-6) and np.all(np.abs(avg2 - avg3) > 0)
    # replayed frames equal the source run's potential energies (frame k replayed at row k+1)
    source = read_properties(src / "simulation.out")["potential"]
    np.testing.assert_allclose(plain[1:], source, atol=2e-4)  # i-PI writes positions with limited digits


def test_mts_needs_a_grid_strategy(tmp_path):
    with pytest.raises(ValueError, match="grid strategy"):
        run_case(RunConfig(case="gas-mts", out=str(tmp_path / "x"), strategy="random:1", potential="toy", steps=1))


@pytest.mark.slow
def test_mts_ratio_sets_the_outer_step(tmp_path):
    """--mts-ratio 4: the correction every 2 fs (inner step still 0.5 fs); the analysis uses the run's own step."""
    from symbreak.analysis.run_folder import RunFolder
    from symbreak.campaign.runner import prepare

    spec, _, manifest = prepare(RunConfig(case="gas-mts", out=str(tmp_path / "p"), strategy="2i", potential="toy",
                                          steps=3, mts_ratio=4))
    assert spec.nmts == (1, 4) and spec.timestep_fs == pytest.approx(2.0) and manifest.timestep_fs == 2.0
    out = tmp_path / "run"
    run_case(RunConfig(case="gas-mts", out=str(out), strategy="2i", potential="toy", steps=3, mts_ratio=4, quiet=True))
    props = read_properties(out / "simulation.out")
    assert np.allclose(np.diff(props["time"]), 2e-3)
    assert RunFolder(out).timestep_fs == 2.0
    for bad in (dict(case="gas-mts", mts_ratio=0), dict(case="gas-nve", mts_ratio=4)):
        with pytest.raises(ValueError, match="mts-ratio"):
            prepare(RunConfig(out=str(tmp_path / "b"), strategy="2i", potential="toy", **bad))


@pytest.mark.slow
def test_init_structure_starts_from_the_last_frame(tmp_path):
    from symbreak.structures.io import read_structures

    src = tmp_path / "src"
    run_case(RunConfig(case="gas-nve", out=str(src), potential="toy", steps=4, reference=False, quiet=True))
    out = tmp_path / "next"
    run_case(RunConfig(case="gas-nve", out=str(out), potential="toy", steps=2, reference=False, quiet=True,
                       init_structure=str(src / "simulation.positions_0.xyz")))
    last = read_structures(str(src / "simulation.positions_0.xyz"))[-1]
    np.testing.assert_allclose(read_structures(str(out / "init.xyz"))[0].positions, last.positions, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="missing.xyz"):
        run_case(RunConfig(case="gas-nve", out=str(tmp_path / "x"), potential="toy", steps=2,
                           init_structure=str(tmp_path / "missing.xyz")))


def test_every_input_header_describes_its_input(tmp_path):
    """The comment atop each input names only what the input does: no thermostat for NVE, no time step without dynamics."""
    import re

    from symbreak.campaign.preparation import prepare, write_inputs
    from symbreak.structures import molecule
    from symbreak.structures.io import write_ipi_xyz

    frames = tmp_path / "frames.xyz"
    write_ipi_xyz(frames, [molecule(seed=1), molecule(seed=2)])
    for name, case in CASES.items():
        out = tmp_path / name
        out.mkdir()
        config = RunConfig(case=name, out=str(out), strategy="2i", potential="toy", steps=3,
                           trajectory=str(frames) if name == "replay" else None)
        spec, fields, _ = prepare(config)
        write_inputs(config, spec, fields, out, [molecule(seed=1), molecule(seed=2)] if name == "replay" else molecule())
        xml = (out / "input.xml").read_text()
        header, body = xml.split("-->", 1)
        steps = re.search(r"<total_steps>(\d+)</total_steps>", body).group(1)
        assert f"steps {steps}," in header, name
        dynamics = re.search(r"<dynamics mode='(\w+)'>(.*)</dynamics>", body)
        if dynamics is None:
            assert "time step" not in header and "thermostat" not in header, name
            continue
        ensemble, inner = dynamics.groups()
        assert f"ensemble {ensemble}" in header, name
        thermostat = re.match(r".*?</timestep><thermostat mode='(\w+)'>", inner)
        if thermostat is None:
            assert "no thermostat" in header, name
        else:
            assert f"thermostat {thermostat.group(1)}" in header, name
        assert ("barostat" in header) == ("<barostat" in inner), name
