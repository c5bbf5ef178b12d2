"""Shared fixtures: small water structures (consecutive O, H, H triplets, eV/Angstrom).

    def test_something(water_molecule, water_box, water_box_triclinic): ...

The builders live in :mod:`symbreak.potentials.testing` so that code outside
pytest can use the same structures. Add new shared fixtures here, keep them
generic and cheap.
"""

import pytest
from symbreak.potentials import testing


@pytest.fixture
def water_molecule():
    """One distorted H2O in vacuum (``cell is None``), random orientation."""
    return testing.water_molecule(seed=0)


@pytest.fixture
def water_box():
    """8 distorted H2O in a periodic cubic 6.2 A cell, random orientations."""
    return testing.water_box(n_per_side=2, seed=1)


@pytest.fixture
def water_box_triclinic():
    """8 H2O in a sheared, rotated (non upper-triangular) cell, molecules split and unwrapped."""
    return testing.water_box_triclinic(n_per_side=2, seed=2)


@pytest.fixture(scope="session")
def tiny_pet_model(tmp_path_factory):
    """Path to a tiny random-weight metatrain PET (H, O; float32) exported to metatomic, made once per session."""
    pytest.importorskip("metatrain", reason="the tiny PET model needs metatrain (pip install 'symbreak[controls]')")
    pytest.importorskip("metatomic.torch", reason="metatomic models need metatomic-torch (pip install 'symbreak[metatomic]')")
    from symbreak.potentials.foreign_models import export_random_pet

    return export_random_pet(str(tmp_path_factory.mktemp("models") / "tiny-pet.pt"))
