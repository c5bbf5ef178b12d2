"""Training settings (TrainConfig) with documented defaults: what every training module reads.

    config = TrainConfig(epochs=20, batch_size=4, energy_weight=1000, device="cpu")
    config.validate()                          # InputError naming the first invalid setting
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from ..core.errors import InputError
from ..potentials.pet.potential import as_device


@dataclass
class TrainConfig:
    """TrainConfig(epochs=100, batch_size=8, ...): training settings with documented defaults."""

    #: passes over the training set
    epochs: int = 100
    #: structures per optimizer step
    batch_size: int = 8
    #: initial Adam learning rate
    lr: float = 1e-3
    #: the learning rate decays (cosine over all steps) to lr * lr_final_fraction
    lr_final_fraction: float = 0.02
    #: weight of the squared energy error per atom (eV^2)
    energy_weight: float = 1.0
    #: weight of the squared force component error (eV^2/A^2)
    force_weight: float = 1.0
    #: random O(3) rotation of every structure at every step (the study's augmentation)
    augment: bool = True
    #: include inversions (det -1) with probability 1/2 in the augmentation
    inversion: bool = True
    #: copies of every structure per step, each with its own random rotation (K x the cost per step)
    rotated_copies: int = 1
    #: weight of the rotational consistency term mean(|dE/dtheta|^2 / n_atoms), eV^2 (0: off)
    consistency_weight: float = 0.0
    #: seed of the weight initialisation, shuffling and rotations
    seed: int = 0
    #: torch intra-op threads
    threads: int = 1
    #: where the model trains: "cpu", "cuda", "cuda:1", ... (checkpoints are always written for the CPU)
    device: str = "cpu"
    #: "float32" or "float64" for the weights and the arithmetic
    dtype: str = "float32"
    #: stop after the epoch during which this many minutes of training have passed (None: no limit)
    max_minutes: float | None = None
    #: PET hyperparameters overriding the defaults (species are taken from the data when absent)
    hypers: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """config.to_dict(): plain dict, JSON-compatible."""
        return asdict(self)

    def validate(self) -> None:
        """config.validate(): InputError naming the first invalid setting of the symmetry options."""
        if isinstance(self.rotated_copies, bool) or int(self.rotated_copies) != self.rotated_copies or self.rotated_copies < 1:
            raise InputError(f"--rotated-copies must be an integer >= 1, got {self.rotated_copies}")
        if self.rotated_copies > 1 and not self.augment:
            raise InputError("--rotated-copies > 1 needs the random augmentation (drop --no-augment): unrotated copies are identical")
        if not math.isfinite(self.consistency_weight) or self.consistency_weight < 0:
            raise InputError(f"--consistency-weight must be >= 0, got {self.consistency_weight}")
        as_device(self.device, "--device")


    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """TrainConfig.from_dict(d): inverse of to_dict, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


__all__ = ["TrainConfig"]
