"""Ranks started by a launcher: srun's environment (SLURM_PROCID, SLURM_NTASKS + MASTER_ADDR/PORT) and torchrun's
multi-node rendezvous, each rank a `symbreak serve` (or a script calling join_launch)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from symbreak.distributed import join_launch, layout_from_env
from symbreak.ipi.processes import free_tcp_port
from symbreak.potentials import testing
from symbreak.potentials.registry import load_potential
from symbreak.symmetry.strategies import parse_strategy


@pytest.mark.slow
def test_the_ranks_of_an_srun_launch(monkeypatch):
    slurm = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_tcp_port()), "SLURM_NTASKS": "2"}
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    rank1 = subprocess.Popen([sys.executable, "-m", "symbreak", "serve", "--potential", "toy", "--strategy", "2i",
                              "--quiet"], stdin=subprocess.DEVNULL,
                             env={**os.environ, **slurm, "SLURM_PROCID": "1", "SLURM_LOCALID": "1"})
    try:
        for name, value in {**slurm, "SLURM_PROCID": "0", "SLURM_LOCALID": "0"}.items():
            monkeypatch.setenv(name, value)
        layout = layout_from_env(os.environ)
        assert layout.launcher == "srun" and layout.is_root and layout.world_size == 2
        potential = join_launch("toy", layout=layout)
        try:
            batch = [testing.water_molecule(seed=1), testing.water_box(n_per_side=2, seed=4)]
            shared = parse_strategy("2i", potential).compute(batch)
            serial = parse_strategy("2i", load_potential("toy")).compute(batch)
            np.testing.assert_allclose(shared.energies, serial.energies, rtol=0, atol=1e-12)
            assert potential.shares_sent == 1
        finally:
            potential.close()
        assert rank1.wait(timeout=30) == 0
    finally:
        if rank1.poll() is None:
            rank1.kill()
            rank1.wait()
