"""Fresh feasible sequences of an Ehrlich instance's Markov process, for pretraining."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader

from rewardsde.domains import EhrlichInstance, SequenceDomain, domain_reward, one_hot

from ._epoch_seeded import EpochIndices, GeneratedBatches


class EhrlichDataModule(L.LightningDataModule):
    """Batches ``(batch_size, num_states, dim)`` of one-hot DMP samples of an Ehrlich instance.

    Every batch is a fresh draw of ``batch_size`` sequences from the instance's
    discrete Markov process (all feasible), in the ±1 code of
    :func:`rewardsde.domains.one_hot`; batch ``i`` of epoch ``e`` is seeded by
    ``(seed, e·batches_per_epoch + i)``, so each epoch sees new sequences and a run
    is reproducible. :attr:`metadata` is the instance as a
    :class:`rewardsde.domains.SequenceDomain` (every parameter, saved with a
    pretrained model), and :attr:`reward` its Ehrlich reward.

    Args:
        num_states, dim: alphabet size and sequence length.
        num_motifs, motif_length, quantization, epistasis_factor, random_seed: the
            instance (see :class:`rewardsde.domains.EhrlichInstance`).
        batch_size: sequences per batch.
        batches_per_epoch: batches in one epoch.
        seed: seed of the sampling (non-negative).
        num_workers: data loader workers.
    """

    def __init__(
        self,
        num_states: int = 20,
        dim: int = 32,
        num_motifs: int = 2,
        motif_length: int = 4,
        quantization: int | None = None,
        epistasis_factor: float = 0.0,
        random_seed: int = 0,
        batch_size: int = 128,
        batches_per_epoch: int = 50,
        seed: int = 0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if batch_size < 1 or batches_per_epoch < 1:
            raise ValueError(f"batch_size ({batch_size}) and batches_per_epoch ({batches_per_epoch}) must be positive")
        self.save_hyperparameters()
        instance = EhrlichInstance(num_motifs, motif_length, quantization, epistasis_factor, random_seed)
        self.domain = SequenceDomain(num_states, dim, instance)
        self.reward = domain_reward(self.domain)
        self.batches = GeneratedBatches(self.draw, seed)

    @property
    def metadata(self) -> SequenceDomain:
        """The instance, saved with a pretrained model (see :meth:`PretrainModule.save_pretrained`)."""
        return self.domain

    def draw(self, generator: torch.Generator) -> torch.Tensor:
        """One batch ``(batch_size, num_states, dim)`` of one-hot DMP samples."""
        return one_hot(self.reward.sample(self.hparams.batch_size, generator), self.hparams.num_states)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.batches,
            batch_size=None,
            sampler=EpochIndices(self.hparams.batches_per_epoch),
            num_workers=self.hparams.num_workers,
        )
