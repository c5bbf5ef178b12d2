"""The shipped model on two ranks: the serial average to the model's precision, also as rank 0 of an ASE calculator."""

import numpy as np
import pytest
from symbreak.ase import SymbreakCalculator
from symbreak.distributed import start_local_ranks
from symbreak.potentials import testing
from symbreak.potentials.registry import load_potential
from symbreak.symmetry.strategies import parse_strategy


@pytest.mark.slow
def test_the_default_model_on_two_ranks_and_behind_an_ase_calculator():
    box = testing.water_box(n_per_side=2, seed=1)
    structures = [testing.water_molecule(seed=0), box]
    serial_model = load_potential("default")
    potential = start_local_ranks("default", 2)
    try:
        for strategy in ("plain", "2i"):
            serial = parse_strategy(strategy, serial_model).compute(structures)
            shared = parse_strategy(strategy, potential).compute(structures)
            np.testing.assert_allclose(shared.energies, serial.energies, rtol=0, atol=1e-4)  # float32 model
            for f, g in zip(shared.forces, serial.forces):
                np.testing.assert_allclose(f, g, rtol=0, atol=1e-4)
        atoms = box.to_atoms()
        atoms.calc = SymbreakCalculator(potential, strategy="2i")
        reference = box.to_atoms()
        reference.calc = SymbreakCalculator(serial_model, strategy="2i")
        assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy(), abs=1e-4)
        np.testing.assert_allclose(atoms.get_stress(), reference.get_stress(), rtol=0, atol=1e-6)
        assert potential.shares_sent > 0
    finally:
        potential.close()
    assert all(p.returncode == 0 for p in potential.group.children.processes)
