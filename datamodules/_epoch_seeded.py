"""A map-style dataset of generated batches whose seeds follow the epoch."""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, Sampler


class GeneratedBatches(Dataset):
    """Item ``i`` is the batch ``make(generator)`` with the generator seeded by ``(seed, i)``.

    The pair is mixed into one 32-bit seed by ``numpy.random.SeedSequence`` (the CPU
    generator keeps only 32 bits of its seed).

    Items are whole batches (use ``DataLoader(..., batch_size=None)``), so a batch is
    the same however many workers or ranks draw it.
    """

    def __init__(self, make: Callable[[torch.Generator], Tensor], seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self.make = make
        self.seed = seed

    def __getitem__(self, index: int) -> Tensor:
        mixed = int(np.random.SeedSequence([self.seed, index]).generate_state(1)[0])
        return self.make(torch.Generator().manual_seed(mixed))


class EpochIndices(Sampler[int]):
    """Indices ``epoch·n, …, epoch·n + n - 1``: ``n`` batches per epoch, new ones every epoch.

    Lightning calls :meth:`set_epoch` at the start of every epoch (also through the
    distributed wrapper, which then splits these indices between ranks), so the
    batches are fresh each epoch, differ across ranks, and are the same after a resume.
    """

    def __init__(self, batches_per_epoch: int) -> None:
        self.batches_per_epoch = batches_per_epoch
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        start = self.epoch * self.batches_per_epoch
        return iter(range(start, start + self.batches_per_epoch))

    def __len__(self) -> int:
        return self.batches_per_epoch
