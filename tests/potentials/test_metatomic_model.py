"""metatomic models behind the Potential interface: derivatives, virial convention, batching, dtypes, errors.

The model is a tiny random-weight metatrain PET (the ``tiny_pet_model`` fixture): not rotation
invariant, so its virial has an antisymmetric part and the 2i average has something to remove.

    pytest tests/potentials/test_metatomic_model.py -q
"""

import sys

import numpy as np
import pytest

pytest.importorskip("metatomic.torch", reason="metatomic models need metatomic-torch (pip install 'symbreak[metatomic]')")
pytest.importorskip("vesin", reason="metatomic models need vesin (pip install 'symbreak[metatomic]')")

import torch  # noqa: E402
from scipy.spatial.transform import Rotation  # noqa: E402
from symbreak.potentials import PotentialError, Structure, load_potential  # noqa: E402
from symbreak.potentials.base import split_batch  # noqa: E402
from symbreak.potentials.metatomic_model import MetatomicPotential  # noqa: E402
from symbreak.potentials.testing import (  # noqa: E402
    finite_difference_forces,
    finite_difference_virial,
    water_box,
    water_box_triclinic,
    water_molecule,
)
from symbreak.symmetry.strategies import parse_strategy  # noqa: E402

torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


@pytest.fixture(scope="module")
def pot32(tiny_pet_model):
    """The model as exported: float32, from its capabilities."""
    return load_potential(f"metatomic:{tiny_pet_model}")


@pytest.fixture(scope="module")
def pot64(tiny_pet_model):
    """The same model run in float64 (spec option dtype=float64): the yardstick for derivatives."""
    return load_potential(f"metatomic:{tiny_pet_model}:dtype=float64")


STRUCTURES = {
    "molecule": lambda: water_molecule(seed=3),
    "box": lambda: water_box(seed=4),
    "triclinic": lambda: water_box_triclinic(seed=5),
}


# -- derivatives -----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", list(STRUCTURES))
def test_forces_are_minus_finite_difference_gradient(pot64, which):
    """F = -dE/dx (central differences, float64) in vacuum, a cubic box and a rotated triclinic box."""
    s = STRUCTURES[which]()
    forces = pot64.compute([s]).forces[0]
    atoms = [0, 1, 2] if s.n_atoms == 3 else [0, 4, 23]
    fd = finite_difference_forces(pot64, s, h=1e-5, atoms=atoms)
    assert np.abs(forces).max() > 1e-3  # a random model: real forces, not zeros
    np.testing.assert_allclose(forces[atoms], fd, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("which", ["box", "triclinic"])
def test_virial_is_minus_strain_derivative_with_its_antisymmetric_part(pot64, which):
    """W = -dE/d(strain) (W_ab = sum_i F_i,a r_i,b), including the antisymmetric part of a non-invariant model."""
    s = STRUCTURES[which]()
    virial = pot64.compute([s]).virials[0]
    fd = finite_difference_virial(pot64, s, h=1e-5)
    scale = np.abs(virial).max()
    np.testing.assert_allclose(virial, fd, atol=1e-7 * scale, rtol=0)
    antisymmetric = (virial - virial.T) / 2
    assert np.abs(antisymmetric).max() > 1e-3  # the random PET is not rotation invariant
    np.testing.assert_allclose(antisymmetric, (fd - fd.T) / 2, atol=1e-7 * scale, rtol=0)


def test_isolated_virial_is_sum_of_f_times_r(pot64):
    """For a molecule in vacuum the virial is sum_i F_i,a r_i,b, and equals the strain derivative."""
    s = water_molecule(seed=1)
    out = pot64.compute([s])
    np.testing.assert_allclose(out.virials[0], out.forces[0].T @ s.positions, atol=1e-10)
    np.testing.assert_allclose(out.virials[0], finite_difference_virial(pot64, s), atol=1e-7)


def test_unwrapped_images_give_the_same_numbers(pot64):
    """Atoms moved by lattice vectors (split, scrambled molecules): the neighbour lists find the same system."""
    a = pot64.compute([water_box_triclinic(seed=7, scramble_images=True)])
    b = pot64.compute([water_box_triclinic(seed=7, scramble_images=False)])
    assert a.energies[0] == pytest.approx(b.energies[0], abs=1e-9)
    np.testing.assert_allclose(a.forces[0], b.forces[0], atol=1e-9)
    np.testing.assert_allclose(a.virials[0], b.virials[0], atol=1e-8)


# -- batching --------------------------------------------------------------------------------------


def mixed_batch():
    return [water_molecule(seed=0), water_box(seed=1), water_box_triclinic(seed=2), water_molecule(seed=3)]


@pytest.mark.parametrize("chunk_size, max_atoms", [(1, 4096), (2, 4096), (16, 4096), (16, 30)])
def test_mixed_batch_equals_one_by_one(pot64, monkeypatch, chunk_size, max_atoms):
    """Molecules and boxes in one call, split by chunk_size and max_atoms: the same numbers as single calls."""
    singles = [pot64.compute([s]) for s in mixed_batch()]
    monkeypatch.setattr(pot64, "systems_per_call", chunk_size)
    monkeypatch.setattr(pot64, "max_atoms_per_call", max_atoms)
    calls = []
    chunk = pot64._chunk
    monkeypatch.setattr(pot64, "_chunk", lambda structures: calls.append(len(structures)) or chunk(structures))

    out = pot64.compute(mixed_batch())
    expected_calls = [len(c) for c in split_batch(mixed_batch(), chunk_size, max_atoms)]
    assert calls == expected_calls
    assert calls == {(1, 4096): [1, 1, 1, 1], (2, 4096): [2, 2], (16, 4096): [4], (16, 30): [2, 2]}[chunk_size, max_atoms]
    assert out.energies.shape == (4,) and out.virials.shape == (4, 3, 3) and len(out.forces) == 4
    for k, single in enumerate(singles):
        assert out.energies[k] == pytest.approx(single.energies[0], abs=1e-9)
        np.testing.assert_allclose(out.forces[k], single.forces[0], atol=1e-9)
        np.testing.assert_allclose(out.virials[k], single.virials[0], atol=1e-8)


def test_spec_options_reach_the_potential(tiny_pet_model):
    """chunk_size, max_atoms, dtype and the name come from the spec; wrappers hand whole batches (chunk_size None)."""
    pot = load_potential(f"metatomic:{tiny_pet_model}:chunk_size=3,max_atoms=50,dtype=float64")
    assert isinstance(pot, MetatomicPotential)
    assert (pot.chunk_size, pot.systems_per_call, pot.max_atoms_per_call, pot.dtype_name) == (None, 3, 50, "float64")
    assert pot.name == "metatomic:tiny-pet.pt" and pot.species == frozenset({1, 8})
    assert pot.cutoff == pytest.approx(4.0)
    assert "float64" in pot.describe()


def test_empty_batch(pot32):
    """No structures: empty arrays of the right shapes, no model call."""
    out = pot32.compute([])
    assert out.energies.shape == (0,) and out.virials.shape == (0, 3, 3) and out.forces == []


# -- dtypes ----------------------------------------------------------------------------------------


def test_float32_by_default_float64_on_request_and_they_agree(pot32, pot64):
    """The model's own dtype (float32) unless asked; float64 agrees with it to float32 precision."""
    assert pot32.dtype_name == "float32" and pot32.dtype == torch.float32
    assert pot64.dtype_name == "float64" and pot64.dtype == torch.float64
    batch = mixed_batch()
    a, b = pot32.compute(batch), pot64.compute(batch)
    assert a.energies.dtype == np.float64  # results are float64 arrays whatever the model ran in
    np.testing.assert_allclose(a.energies, b.energies, rtol=2e-6, atol=1e-6)
    for fa, fb, s in zip(a.forces, b.forces, batch):
        np.testing.assert_allclose(fa, fb, atol=2e-5 * max(1.0, np.abs(fb).max()))
    np.testing.assert_allclose(a.virials, b.virials, atol=2e-5 * np.abs(b.virials).max())
    assert np.abs(a.energies - b.energies).max() > 0  # really two precisions, not the same run


# -- symmetrization --------------------------------------------------------------------------------


def test_grid_average_removes_the_rotation_dependence(pot64):
    """E_avg(R x) - E_avg(x) over random R: 2i removes most of the plain model's meV error, 4i all but ~1e-7.

    A Legendre grid is exact only up to a finite angular order, so 2i leaves a residual
    (tens of micro-eV here); the residual falls with the grid order.
    """
    s = water_molecule(seed=0)
    rotations = Rotation.random(3, random_state=11).as_matrix()
    rotated = [s.rotated(r) for r in rotations]

    def rotation_error(pot):
        return pot.compute(rotated).energies - pot.compute([s]).energies[0]

    plain = rotation_error(pot64)
    two_i = rotation_error(parse_strategy("2i", pot64, chunk_size=36))
    four_i = rotation_error(parse_strategy("4i", pot64, chunk_size=64))
    energy = abs(pot64.compute([s]).energies[0])
    assert np.abs(plain).max() > 1e-3  # meV symmetry breaking of the random PET
    assert np.abs(two_i).max() < 0.05 * np.abs(plain).max()
    assert np.abs(four_i).max() < 1e-6 * energy


def test_2i_extras_show_the_symmetry_error(pot64):
    """The 2i diagnostics of the random PET: an energy spread of meV over the grid, a net torque from the plain model."""
    extras = parse_strategy("2i", pot64).compute([water_molecule(seed=0)]).extras[0]
    assert extras["n_rotations"] == 36
    assert extras["energy_spread"] > 1e-3
    assert np.linalg.norm(extras["net_torque_plain"]) > 1e-3
    assert np.linalg.norm(extras["net_force_plain"]) < 1e-10  # a sum of pair terms: no net force


# -- errors ----------------------------------------------------------------------------------------


def one_line(info):
    message = str(info.value)
    assert "\n" not in message, message
    return message


@pytest.mark.parametrize("content", ["bytes", "tensor"])
def test_file_that_is_not_a_metatomic_model(tmp_path, content):
    """Random bytes or a plain torch.save: a one-line PotentialError that says how to make a model."""
    path = tmp_path / "not-a-model.pt"
    if content == "bytes":
        path.write_bytes(b"\x00not a zip archive at all")
    else:
        torch.save(torch.zeros(3), path)
    with pytest.raises(PotentialError) as info:
        load_potential(f"metatomic:{path}")
    message = one_line(info)
    assert str(path) in message and "not a usable metatomic model" in message and "export" in message


def test_missing_file(tmp_path):
    """A model path that does not exist: one line naming the file."""
    with pytest.raises(PotentialError) as info:
        load_potential(f"metatomic:{tmp_path}/absent.pt")
    assert "not found" in one_line(info) and "absent.pt" in str(info.value)


def test_missing_extensions_folder(tiny_pet_model, tmp_path):
    """extensions=DIR that does not exist is refused before loading."""
    with pytest.raises(PotentialError, match="extensions folder not found"):
        load_potential(f"metatomic:{tiny_pet_model}:extensions={tmp_path}/nope")


NO_ENERGY_MODEL = '''
from typing import Dict, List, Optional

import torch
from metatensor.torch import Labels, TensorBlock, TensorMap
from metatomic.torch import AtomisticModel, ModelCapabilities, ModelMetadata, ModelOutput, System


class Feature(torch.nn.Module):
    def forward(self, systems: List[System], outputs: Dict[str, ModelOutput],
                selected_atoms: Optional[Labels] = None) -> Dict[str, TensorMap]:
        values = torch.stack([s.positions.sum().reshape(1) for s in systems])
        samples = Labels(["system"], torch.arange(len(systems), dtype=torch.int32).reshape(-1, 1))
        block = TensorBlock(values=values, samples=samples, components=[],
                            properties=Labels(["feature"], torch.tensor([[0]])))
        return {"feature": TensorMap(Labels(["_"], torch.tensor([[0]])), [block])}


def save(path):
    capabilities = ModelCapabilities(
        outputs={"feature": ModelOutput(sample_kind="system")}, atomic_types=[1, 8], interaction_range=0.0,
        length_unit="angstrom", supported_devices=["cpu"], dtype="float64",
    )
    AtomisticModel(Feature().eval(), ModelMetadata(), capabilities).save(path)
'''


def test_model_without_energy_output(tmp_path):
    """A valid metatomic model that predicts only a 'feature': refused, naming the missing 'energy' output."""
    import importlib.util

    source = tmp_path / "feature_model.py"
    source.write_text(NO_ENERGY_MODEL)  # TorchScript compiles from the source file
    spec = importlib.util.spec_from_file_location("symbreak_test_feature_model", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "feature.pt"
    module.save(str(path))
    with pytest.raises(PotentialError) as info:
        load_potential(f"metatomic:{path}")
    message = one_line(info)
    assert "no 'energy' output" in message and "feature" in message


def test_unknown_energy_variant(tiny_pet_model):
    """variant=pbe asks for energy/pbe, which the model does not have: say so and list its energy outputs."""
    with pytest.raises(PotentialError) as info:
        load_potential(f"metatomic:{tiny_pet_model}:variant=pbe")
    message = one_line(info)
    assert "'energy/pbe'" in message and "energy outputs: energy" in message


@pytest.mark.parametrize(
    "options, fragment",
    [
        ("dtype=float16", "dtype must be float32 or float64"),
        ("chunk_size=0", "chunk_size must be a positive integer"),
        ("max_atoms=many", "max_atoms must be a positive integer"),
        ("check_consistency=maybe", "check_consistency must be true or false"),
        ("device=warp-drive", "device"),
    ],
)
def test_bad_option_values(tiny_pet_model, options, fragment):
    """Option values of the wrong kind: a one-line PotentialError naming the option and what it takes."""
    with pytest.raises(PotentialError) as info:
        load_potential(f"metatomic:{tiny_pet_model}:{options}")
    assert fragment in one_line(info)


def test_species_the_model_does_not_know(pot32):
    """A carbon atom (Z = 6) in an H/O model: ValueError naming the atomic number, before any model call."""
    s = Structure(np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0]]), np.array([6, 8]))
    with pytest.raises(ValueError, match=r"atomic numbers \[6\]"):
        pot32.compute([water_molecule(), s])


def test_check_consistency_runs(tiny_pet_model, pot32):
    """check_consistency=true: metatomic's own input/output checks pass on our systems and neighbour lists."""
    pot = load_potential(f"metatomic:{tiny_pet_model}:check_consistency=true")
    assert pot.check_consistency is True
    batch = [water_molecule(seed=0), water_box_triclinic(seed=2)]
    np.testing.assert_allclose(pot.compute(batch).energies, pot32.compute(batch).energies, rtol=1e-6)


def test_check_consistency_refuses_a_dtype_override(tiny_pet_model):
    """metatomic checks inputs against the declared float32: with dtype=float64 that is refused at load time."""
    with pytest.raises(PotentialError) as info:
        load_potential(f"metatomic:{tiny_pet_model}:check_consistency=true,dtype=float64")
    assert "cannot be combined with dtype=float64" in one_line(info)


def test_missing_package_says_which_extra(monkeypatch, tmp_path):
    """Without metatomic-torch: a PotentialError that names the extra symbreak[metatomic]."""
    monkeypatch.setitem(sys.modules, "metatomic.torch", None)
    path = tmp_path / "m.pt"
    path.write_bytes(b"")
    with pytest.raises(PotentialError) as info:
        load_potential(f"metatomic:{path}")
    assert "symbreak[metatomic]" in one_line(info)


def test_packed_isolated_structures_equal_separate_systems(tiny_pet_model):
    """Isolated structures packed into one model system (the default for a local model) give the numbers of
    separate systems: energies, forces and virials agree to float64 rounding, finite differences hold."""
    from symbreak.potentials.testing import finite_difference_virial

    packed = load_potential(f"metatomic:{tiny_pet_model}:dtype=float64")
    separate = load_potential(f"metatomic:{tiny_pet_model}:dtype=float64,pack=false")
    assert packed.pack and not separate.pack
    molecules = [water_molecule(seed=k) for k in range(7)]
    a, b = packed.compute(molecules), separate.compute(molecules)
    np.testing.assert_allclose(a.energies, b.energies, rtol=0, atol=1e-12)
    for fa, fb in zip(a.forces, b.forces):
        np.testing.assert_allclose(fa, fb, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.virials, b.virials, rtol=0, atol=1e-12)
    np.testing.assert_allclose(finite_difference_virial(packed, molecules[3]), a.virials[3], atol=1e-8)
    # copies of different sizes take the per-structure leaves (equal sizes: two stacked ones)
    dimer = Structure(np.concatenate([molecules[0].positions, molecules[1].positions + [2.9, 0.0, 0.0]]),
                      np.concatenate([molecules[0].numbers, molecules[1].numbers]), None)
    mixed = [molecules[2], dimer, molecules[4]]
    a, b = packed.compute(mixed), separate.compute(mixed)
    np.testing.assert_allclose(a.energies, b.energies, rtol=0, atol=1e-12)
    for fa, fb in zip(a.forces, b.forces):
        np.testing.assert_allclose(fa, fb, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.virials, b.virials, rtol=0, atol=1e-12)
    np.testing.assert_allclose(finite_difference_virial(packed, dimer), a.virials[1], atol=1e-5)  # h**2 error
