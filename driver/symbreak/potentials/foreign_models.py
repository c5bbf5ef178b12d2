"""Third-party models made on the spot, with no download: the tests', benchmarks' and docs' controls.

    python -m symbreak.potentials.foreign_models pet tiny-pet.pt       # a random-weight metatrain PET
    symbreak audit --potential metatomic:tiny-pet.pt
    symbreak audit --potential 'ase:symbreak.potentials.foreign_models:random_orb_calculator:{"seed": 0}'
    symbreak audit --potential 'ase:sevenn.calculator:SevenNetCalculator:{"model": "7net-0"}'

- :func:`export_random_pet`: metatrain's PET (not rotation invariant by construction)
  with random weights, exported to a metatomic ``.pt`` file (extra ``symbreak[metatomic]``
  plus ``metatrain``).
- :func:`random_orb_calculator`: an Orb v3 *direct* model (forces from a head, not a
  gradient; it removes the net force and, for isolated systems, the net torque) with
  random weights behind Orb's ASE calculator (``orb-models``): the positive control.
- SevenNet-0 ships inside the ``sevenn`` wheel and is exactly equivariant: the negative
  control needs no factory here.
Random weights are enough to measure symmetry breaking; they say nothing about water.
"""

from __future__ import annotations

import os
import sys


def export_random_pet(path: str, *, seed: int = 0, cutoff: float = 4.0, width: int = 32, layers: int = 1) -> str:
    """``export_random_pet("tiny-pet.pt")``: a small random metatrain PET for H and O, saved for metatomic.

    ``width`` is the token size, ``layers`` the number of message-passing blocks.
    Returns ``path``. Needs ``metatrain`` (and so metatomic-torch).
    """
    import torch
    from metatrain.pet import PET
    from metatrain.utils.architectures import get_default_hypers
    from metatrain.utils.data import DatasetInfo
    from metatrain.utils.data.target_info import get_energy_target_info

    hypers = get_default_hypers("pet")["model"]
    hypers.update(
        cutoff=cutoff,
        cutoff_width=0.2,
        num_neighbors_adaptive=None,
        num_gnn_layers=layers,
        num_attention_layers=1,
        d_pet=width,
        d_node=width,
        d_head=width,
        num_heads=2,
        d_feedforward=2 * width,
    )
    energy = get_energy_target_info(
        "energy", {"quantity": "energy", "unit": "eV"}, add_position_gradients=True, add_strain_gradients=True
    )
    info = DatasetInfo(length_unit="Angstrom", atomic_types=[1, 8], targets={"energy": energy})
    torch.manual_seed(seed)
    model = PET(hypers, info)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    model.export().save(path)
    return path


def random_orb_calculator(seed: int = 0, latent_dim: int = 64, steps: int = 2, radius: float = 5.0):
    """``random_orb_calculator(seed=0)``: Orb's ASE calculator around a random-weight Orb v3 direct model."""
    import torch
    from orb_models.forcefield.atomic_system import SystemConfig
    from orb_models.forcefield.calculator import ORBCalculator
    from orb_models.forcefield.pretrained import orb_v3_direct_architecture

    torch.manual_seed(seed)
    config = SystemConfig(radius=radius, max_num_neighbors=64)
    model = orb_v3_direct_architecture(
        latent_dim=latent_dim,
        base_mlp_hidden_dim=2 * latent_dim,
        head_mlp_hidden_dim=latent_dim,
        num_message_passing_steps=steps,
        system_config=config,
        device="cpu",
    )
    model.eval()
    return ORBCalculator(model, system_config=config, device="cpu")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] != "pet":
        print("usage: python -m symbreak.potentials.foreign_models pet OUT.pt", file=sys.stderr)
        return 2
    print(export_random_pet(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
