"""Fresh feasible sequences of an Ehrlich instance's Markov process, for pretraining."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader

from rewardsde.domains import EhrlichReward, one_hot

from ._epoch_seeded import EpochIndices, GeneratedBatches


class EhrlichDataModule(L.LightningDataModule):
    """Batches ``(batch_size, num_states, dim)`` of one-hot DMP samples of an Ehrlich instance.

    Every batch is a fresh draw of ``batch_size`` sequences from the instance's
    discrete Markov process (all feasible), encoded as ``low + (high - low)·e_a``;
    batch ``i`` of epoch ``e`` is seeded by ``(seed, e·batches_per_epoch + i)``, so
    each epoch sees new sequences and a run is reproducible. The reward of the same
    instance is :attr:`reward`, and :attr:`metadata` names the instance.

    Args:
        num_states, dim, num_motifs, motif_length, quantization, random_seed: the
            Ehrlich instance (see :class:`rewardsde.domains.EhrlichReward`).
        batch_size: sequences per batch.
        batches_per_epoch: batches in one epoch.
        seed: seed of the sampling (non-negative).
        low, high: the one-hot levels.
        num_workers: data loader workers.
    """

    def __init__(
        self,
        num_states: int = 20,
        dim: int = 32,
        num_motifs: int = 2,
        motif_length: int = 4,
        quantization: int | None = None,
        random_seed: int = 0,
        batch_size: int = 128,
        batches_per_epoch: int = 50,
        seed: int = 0,
        low: float = -1.0,
        high: float = 1.0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if batch_size < 1 or batches_per_epoch < 1:
            raise ValueError(f"batch_size ({batch_size}) and batches_per_epoch ({batches_per_epoch}) must be positive")
        self.save_hyperparameters()
        self.reward = EhrlichReward(num_states, dim, num_motifs, motif_length, quantization, random_seed=random_seed)
        self.batches = GeneratedBatches(self.draw, seed)

    @property
    def metadata(self) -> dict:
        """The instance, saved with a pretrained model (see :meth:`PretrainModule.save_pretrained`)."""
        keys = ("num_states", "dim", "num_motifs", "motif_length", "quantization", "random_seed")
        return {"domain": "ehrlich", "instance": {key: self.hparams[key] for key in keys}}

    def draw(self, generator: torch.Generator) -> torch.Tensor:
        """One batch ``(batch_size, num_states, dim)`` of one-hot DMP samples."""
        tokens = self.reward.sample(self.hparams.batch_size, generator)
        return one_hot(tokens, self.hparams.num_states, self.hparams.low, self.hparams.high)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.batches,
            batch_size=None,
            sampler=EpochIndices(self.hparams.batches_per_epoch),
            num_workers=self.hparams.num_workers,
        )
