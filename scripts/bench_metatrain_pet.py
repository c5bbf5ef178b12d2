"""Time energy + forces of our PET-style model against metatrain's PET of about the same size.

    pip install -c constraints.txt metatrain      # next to torch 2.13 (it installs; not a dependency)
    python scripts/bench_metatrain_pet.py --repeats 5 --threads 1
    python scripts/bench_metatrain_pet.py --sizes 4 8 12 --eager

Needs metatrain (with metatomic-torch, metatomic-ase and vesin) installed next to
torch 2.13 and symbreak. Both models get random weights (the cost does not depend
on training), float32, and the same liquid-water boxes (192 and 1536 atoms by
default). One step is energy + forces + virial/stress of one box, neighbour list
included:

* ours: ``PETPotential.compute([structure])`` (eager PyTorch, forces by autograd);
* metatrain: ``PET.export()`` saved and reloaded as TorchScript (what ``mtt
  export`` gives; ``--eager`` keeps the Python module) and run through
  ``metatomic_ase.MetatomicCalculator`` (conservative forces and stress by
  autograd; vesin neighbour list rebuilt every step, ``neighbor_skin=0``, as
  ours is).

metatrain PET settings, chosen to match our defaults (PETHypers()): cutoff 4.0 A,
Cosine cutoff function of width 0.2 A, fixed cutoff (num_neighbors_adaptive=None,
i.e. all neighbours within the cutoff), num_gnn_layers=2, num_attention_layers=1,
d_pet = d_node = d_head = 64, num_heads=4, d_feedforward=128, LayerNorm, SiLU,
PreLN, featurizer_type="residual" (readout after every GNN layer, as ours sums
energies over blocks), no ZBL, no long range, species H and O. Remaining
differences: metatrain builds each edge token with an extra MLP ("compress") on
the concatenated embeddings and has 2-hidden-layer heads, hence ~30 % more
parameters; ours adds 8 Gaussian radial features to the edge input; at inference
metatrain uses torch's fused scaled_dot_product_attention, ours a plain softmax
(kept for force training); metatrain runs as TorchScript, ours as eager Python.

The repeats of the two models are interleaved (ours, metatrain, ours, ...) so
that a disturbance on a shared machine hits both; best and median wall time,
and the best CPU time of the process, are reported with the ratio metatrain / ours.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def metatrain_pet(hypers, eager: bool, workdir: str):
    """calculator, n_parameters, model hypers: an untrained metatrain PET matched to our PETHypers."""
    import torch
    from metatomic_ase import MetatomicCalculator
    from metatrain.pet import PET
    from metatrain.utils.architectures import get_default_hypers
    from metatrain.utils.data import DatasetInfo
    from metatrain.utils.data.target_info import get_energy_target_info

    mt_hypers = get_default_hypers("pet")["model"]
    mt_hypers.update(
        cutoff=hypers.cutoff,
        cutoff_function="Cosine",
        cutoff_width=hypers.cutoff_width,
        num_neighbors_adaptive=None,
        num_gnn_layers=hypers.n_blocks,
        num_attention_layers=hypers.n_layers,
        d_pet=hypers.d_model,
        d_node=hypers.d_model,
        d_head=hypers.d_model,
        num_heads=hypers.n_heads,
        d_feedforward=hypers.d_feedforward,
        normalization="LayerNorm",
        activation="SiLU",
        transformer_type="PreLN",
        featurizer_type="residual",
    )
    energy = get_energy_target_info(
        "energy", {"quantity": "energy", "unit": "eV"}, add_position_gradients=True, add_strain_gradients=True
    )
    info = DatasetInfo(length_unit="Angstrom", atomic_types=list(hypers.species), targets={"energy": energy})
    torch.manual_seed(0)
    model = PET(mt_hypers, info)
    n_params = sum(p.numel() for p in model.parameters())
    exported = model.export()
    if not eager:
        path = os.path.join(workdir, "metatrain-pet.pt")
        exported.save(path)
        exported = path
    return MetatomicCalculator(exported, neighbor_skin=0.0), n_params, mt_hypers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch (and vesin) threads (default: %(default)s)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8], help="molecules per box side (4 -> 192 atoms, 8 -> 1536)")
    parser.add_argument("--repeats", type=int, default=5, help="timed steps per model and box (default: %(default)s)")
    parser.add_argument("--eager", action="store_true", help="run metatrain's exported model as Python, not TorchScript")
    args = parser.parse_args(argv)

    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # vesin's thread count; before the libraries load
    try:
        import metatomic_ase  # noqa: F401
        import metatrain
        import vesin
        from symbreak.potentials.pet import PETHypers, PETModel, PETPotential, topology
        from symbreak.potentials.testing import water_box
    except ImportError as exc:
        print(f"error: {exc}; pip install metatrain next to torch 2.13 (and symbreak) to run this benchmark", file=sys.stderr)
        return 2
    import numpy as np
    import torch
    from ase.calculators.calculator import all_changes

    torch.set_num_threads(args.threads)
    hypers = PETHypers()
    torch.manual_seed(0)
    ours = PETPotential(PETModel(hypers), dtype="float32")
    with tempfile.TemporaryDirectory() as workdir:
        calc, mt_params, mt_hypers = metatrain_pet(hypers, args.eager, workdir)
    keys = ("cutoff", "cutoff_function", "cutoff_width", "num_neighbors_adaptive", "num_gnn_layers", "num_attention_layers",
            "d_pet", "d_node", "d_head", "num_heads", "d_feedforward", "normalization", "activation", "featurizer_type")
    print(f"ours:      {ours.describe()}")
    print(f"metatrain: PET {metatrain.__version__}, {mt_params} parameters, float32, "
          f"{'eager' if args.eager else 'TorchScript'}, MetatomicCalculator(neighbor_skin=0)")
    print("           " + ", ".join(f"{k}={mt_hypers[k]}" for k in keys))
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.repeats} interleaved repeats; times of one E+F+virial step")

    def run_ours(box, atoms):
        return ours.compute([box]).forces[0]

    def run_metatrain(box, atoms):
        calc.calculate(atoms, ["energy", "forces", "stress"], all_changes)  # all_changes: no ASE caching
        return calc.results["forces"]

    runners = {"ours": run_ours, "metatrain": run_metatrain}
    print(f"{'atoms':>6}{'pairs/atom':>11}{'ours best':>10}{'median':>8}{'us/atom':>8}"
          f"{'mtt best':>10}{'median':>8}{'us/atom':>8}{'ratio best':>11}{'median':>8}{'cpu':>6}   (ms; ratio = metatrain / ours)")
    for n in args.sizes:
        box = water_box(n_per_side=n, spacing=3.1, seed=n)  # ~1 g/cm3
        atoms = box.to_atoms()
        pairs = len(vesin.NeighborList(cutoff=hypers.cutoff, full_list=True).compute(
            box.positions, box.cell, True, quantities="i")[0])
        assert pairs == len(topology(box, hypers.cutoff).i), "the two neighbour lists differ"
        for name, run in runners.items():  # warm-up (TorchScript optimises during its first calls) and checks
            for _ in range(3):
                forces = np.asarray(run(box, atoms))
            assert forces.shape == (box.n_atoms, 3) and np.isfinite(forces).all() and np.abs(forces).max() > 0, name
        wall = {name: [] for name in runners}
        cpu = {name: [] for name in runners}
        for _ in range(args.repeats):
            for name, run in runners.items():
                t0, c0 = time.perf_counter(), time.process_time()
                run(box, atoms)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
        best = {k: min(v) for k, v in wall.items()}
        median = {k: statistics.median(v) for k, v in wall.items()}
        cpu_ratio = min(cpu["metatrain"]) / min(cpu["ours"])
        cols = "".join(f"{1e3 * best[k]:>10.1f}{1e3 * median[k]:>8.1f}{1e6 * best[k] / box.n_atoms:>8.1f}" for k in runners)
        print(f"{box.n_atoms:>6}{pairs / box.n_atoms:>11.1f}{cols}{best['metatrain'] / best['ours']:>11.2f}"
              f"{median['metatrain'] / median['ours']:>8.2f}{cpu_ratio:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
