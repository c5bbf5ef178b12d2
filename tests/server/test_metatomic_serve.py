"""Real i-PI driving `symbreak serve` with an exported metatomic model (the tiny random PET) over UNIX sockets.

The energies i-PI receives must be the 2i average of the model at the positions i-PI sent,
whether the server is started with ``--potential metatomic:MODEL`` or with i-PI's own
driver flags (``-m metatomic -o template=init.xyz,model=MODEL``).
"""

import json

import numpy as np
import pytest

pytest.importorskip("metatomic.torch", reason="metatomic models need metatomic-torch (pip install 'symbreak[metatomic]')")

from ase.io import read  # noqa: E402
from symbreak.ipi.inputs import ForceTerm, SimulationSpec, SocketSpec, simulation_xml  # noqa: E402
from symbreak.ipi.md_settings import MDSettings  # noqa: E402
from symbreak.ipi.processes import unique_socket_name  # noqa: E402
from symbreak.potentials import Structure, load_potential  # noqa: E402
from symbreak.symmetry.strategies import parse_strategy  # noqa: E402

from .ipi_run import read_properties, run_ipi, symbreak_command  # noqa: E402
from .test_with_ipi import extras_records  # noqa: E402

STEPS = 3

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")]


def run_molecule(workdir, molecule, serve_args):
    """STEPS of NVE for one molecule; returns (i-PI's potentials in eV, the positions it sent, in A, per step)."""
    name = unique_socket_name()
    spec = SimulationSpec(
        "init.xyz", [SocketSpec("model", name, mode="unix")], [ForceTerm("model")],
        MDSettings(ensemble="nve", thermostat="none", steps=STEPS),
        properties=["step", "potential{electronvolt}"], trajectories=["positions{ase}", "extras"],
    )
    # full-precision positions (i-PI's xyz writer keeps 6 digits; its extxyz writer keeps 1e-8 A)
    xml = simulation_xml(spec).replace("<trajectory filename='positions'", "<trajectory format='ase' filename='positions'")
    serve = symbreak_command("serve", *serve_args(name), "--strategy", "2i", "--vacuum", "--threads", "1")
    run_ipi(workdir, molecule, spec, [serve], input_text=xml)
    energies = read_properties(workdir / "simulation.out")[:, 1]
    (trajectory,) = workdir.glob("simulation.positions*.extxyz")
    frames = [atoms.positions.copy() for atoms in read(trajectory, index=":")]
    assert len(energies) == len(frames) == STEPS + 1
    return energies, frames


def expected_2i(model, molecule, frames):
    """The 2i average of the same (float32) model at the given positions, in this process."""
    averaged = parse_strategy("2i", load_potential(f"metatomic:{model}"))
    return averaged.compute([Structure(p, molecule.numbers, None) for p in frames]).energies


def test_serve_metatomic_2i_under_ipi(tmp_path, tiny_pet_model, water_molecule):
    """`serve --potential metatomic:MODEL --strategy 2i`: i-PI gets the in-process 2i energies, to float precision."""
    energies, frames = run_molecule(
        tmp_path, water_molecule, lambda name: ["--potential", f"metatomic:{tiny_pet_model}", "--unix", "--address", name]
    )
    assert np.ptp(np.array(frames), axis=0).max() > 1e-4  # the atoms moved: several different geometries
    np.testing.assert_allclose(energies, expected_2i(tiny_pet_model, water_molecule, frames), rtol=0, atol=2e-6)
    records = [json.loads(r) for r in extras_records(tmp_path / "simulation.extras_0")]
    assert len(records) == STEPS + 1 and records[0]["strategy"] == "2i" and records[0]["n_rotations"] == 36
    assert records[0]["energy_spread"] > 1e-3  # the random PET breaks the symmetry by meV
    np.testing.assert_allclose([r["energy_averaged"] for r in records], energies, atol=1e-7)


def test_serve_with_ipi_driver_flags(tmp_path, tiny_pet_model, water_molecule):
    """`i-pi-py_driver -u -a NAME -m metatomic -o template=init.xyz,model=MODEL` with `symbreak serve` in its place."""
    energies, frames = run_molecule(
        tmp_path, water_molecule,
        lambda name: ["-u", "-a", name, "-m", "metatomic", "-o", f"template=init.xyz,model={tiny_pet_model}"],
    )
    np.testing.assert_allclose(energies, expected_2i(tiny_pet_model, water_molecule, frames), rtol=0, atol=2e-6)
    assert "metatomic:tiny-pet.pt" in (tmp_path / "server0.log").read_text()


def test_ffdirect_with_a_metatomic_spec(tmp_path, tiny_pet_model, water_molecule):
    """In-process <ffdirect>: a metatomic spec with two options (semicolon-separated, since i-PI splits its
    parameters at commas) gives i-PI the same 2i energies as the model in this process."""
    from symbreak.ipi.inputs import DirectSpec

    direct = DirectSpec("model", {"potential": f"metatomic:{tiny_pet_model}:dtype=float64;chunk_size=4",
                                  "strategy": "2i", "vacuum": "true"})
    spec = SimulationSpec("init.xyz", [direct], [ForceTerm("model")], MDSettings(ensemble="nve", thermostat="none", steps=STEPS),
                          properties=["step", "potential{electronvolt}"], trajectories=["positions{ase}"])
    xml = simulation_xml(spec).replace("<trajectory filename='positions'", "<trajectory format='ase' filename='positions'")
    run_ipi(tmp_path, water_molecule, spec, [], input_text=xml)
    energies = read_properties(tmp_path / "simulation.out")[:, 1]
    (trajectory,) = tmp_path.glob("simulation.positions*.extxyz")
    frames = [atoms.positions.copy() for atoms in read(trajectory, index=":")]
    averaged = parse_strategy("2i", load_potential(f"metatomic:{tiny_pet_model}:dtype=float64"))
    expected = averaged.compute([Structure(p, water_molecule.numbers, None) for p in frames]).energies
    np.testing.assert_allclose(energies, expected, rtol=0, atol=2e-6)
