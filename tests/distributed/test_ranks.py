"""Where a rank comes from (torchrun, srun, --workers), the shares, the deadlines and the backend (no process started)."""

import pytest
from symbreak.core.errors import InputError
from symbreak.distributed import RankLayout, RankOptions, layout_from_env, share_bounds
from symbreak.distributed.options import choose_backend, wants_cuda
from symbreak.distributed.ranks import PARENT_PID

MASTER = {"MASTER_ADDR": "node1", "MASTER_PORT": "29500"}


def test_torchrun_srun_and_spawned_children_are_recognised():
    torchrun = layout_from_env({**MASTER, "RANK": "5", "WORLD_SIZE": "8", "LOCAL_RANK": "1"})
    assert torchrun == RankLayout(5, 8, 1, "node1", 29500, "torchrun") and not torchrun.is_root
    srun = layout_from_env({**MASTER, "SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_LOCALID": "0"})
    assert srun == RankLayout(0, 4, 0, "node1", 29500, "srun") and srun.is_root
    child = layout_from_env({**MASTER, "RANK": "1", "WORLD_SIZE": "2", PARENT_PID: "12"})
    assert child.launcher == "spawn" and child.local_rank == 1
    assert layout_from_env({**child.environment(), PARENT_PID: "12"}) == child


def test_no_launcher_without_master_address():
    assert layout_from_env({}) is None
    assert layout_from_env({"SLURM_PROCID": "0", "SLURM_NTASKS": "4"}) is None  # `symbreak run` inside an allocation
    assert layout_from_env({"RANK": "0", "WORLD_SIZE": "2"}) is None
    assert layout_from_env(MASTER) is None


@pytest.mark.parametrize("env, words", [({"RANK": "2", "WORLD_SIZE": "2"}, "rank 2 of 2"),
                                        ({"RANK": "x", "WORLD_SIZE": "2"}, "RANK='x' is not an integer")])
def test_a_bad_launch_is_one_line(env, words):
    with pytest.raises(InputError, match=words):
        layout_from_env({**MASTER, **env})


@pytest.mark.parametrize("atoms, shares", [([3] * 37, 2), ([3] * 37, 3), ([3] * 5, 8), ([192] * 36 + [3], 2),
                                           ([1, 100, 1, 1, 100], 2), ([7], 4)])
def test_shares_are_contiguous_non_empty_and_balanced(atoms, shares):
    bounds = share_bounds(atoms, shares)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(atoms)
    assert all(b > a for a, b in bounds) and all(b0 == a1 for (_, b0), (a1, _) in zip(bounds, bounds[1:]))
    assert len(bounds) == min(shares, len(atoms))
    if len(set(atoms)) == 1:
        sizes = [b - a for a, b in bounds]
        assert max(sizes) - min(sizes) <= 1


def test_the_answer_deadline_grows_with_a_slow_model():
    options = RankOptions(answer_timeout=60, answer_factor=10)
    assert options.answer_deadline(0.5) == 60 and options.answer_deadline(30) == 300
    with pytest.raises(InputError, match="answer_timeout must be > 0"):
        RankOptions(answer_timeout=0)
    with pytest.raises(InputError, match="backend 'mpi' is none of"):
        RankOptions(backend="mpi")


def test_the_backend_is_gloo_on_cpu_and_nccl_only_where_asked_and_possible():
    assert wants_cuda("metatomic:model.pt:device=cuda") and wants_cuda("metatomic:model.pt:dtype=float64,device=cuda")
    assert not wants_cuda("toy") and not wants_cuda("metatomic:model.pt")
    assert wants_cuda("default:device=cuda") and wants_cuda("default:device=cuda:1") and not wants_cuda("default")
    import torch

    assert choose_backend("auto", "toy") == "gloo" and choose_backend("gloo", "toy") == "gloo"
    if not torch.cuda.is_available():
        assert choose_backend("auto", "metatomic:model.pt:device=cuda") == "gloo"
        with pytest.raises(InputError, match="--backend nccl needs a CUDA build"):
            choose_backend("nccl", "toy")
