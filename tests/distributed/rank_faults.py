"""An ASE calculator for the failure tests: the toy water everywhere, except on one rank, where it fails as told.

    ase:tests/distributed/rank_faults.py:faulty:{"fault": "raise", "rank": 1}

fault: "raise" (an error in the model), "die" (SIGKILL of its own process), "hang" (sleeps for an hour) on
the first call that rank evaluates; "load" (the factory raises: the rank cannot load its potential).
"""

import os
import signal
import time

from ase.calculators.calculator import Calculator, all_changes
from symbreak.core.structure import Structure
from symbreak.potentials.toy import ToyWater


def on_rank(rank: int) -> bool:
    return os.environ.get("RANK") == str(rank)


class FaultyToy(Calculator):
    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, fault: str, rank: int):
        super().__init__()
        self.fault, self.rank, self.toy = fault, rank, ToyWater()

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        if on_rank(self.rank):
            if self.fault == "raise":
                raise ValueError(f"the model failed on rank {self.rank}")
            if self.fault == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            if self.fault == "hang":
                time.sleep(3600)
        out = self.toy.compute([Structure.from_atoms(self.atoms)])
        self.results = {"energy": float(out.energies[0]), "free_energy": float(out.energies[0]),
                        "forces": out.forces[0]}
        if self.atoms.pbc.any():
            self.results["stress"] = -out.virials[0].reshape(-1)[[0, 4, 8, 5, 2, 1]] / self.atoms.get_volume()


def faulty(fault: str = "raise", rank: int = 1) -> FaultyToy:
    if fault == "load" and on_rank(rank):
        raise RuntimeError(f"no model file on rank {rank}")
    return FaultyToy(fault, rank)
