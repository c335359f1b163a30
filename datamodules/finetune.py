"""Batches for reward fine-tuning, where the model makes its own samples."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset


class _BatchSizes(Dataset):
    def __init__(self, batch_size: int, length: int) -> None:
        self.batch_size = batch_size
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        return torch.tensor(self.batch_size)


class FineTuneDataModule(L.LightningDataModule):
    """Yields, for each optimiser step, the number of paths to simulate.

    Fine-tuning draws its noise inside the module from seeds derived from
    ``(seed, global_step, rank)``, so a resumed run reproduces the same noise;
    the data loader only says how many paths each step simulates. Under DDP each
    rank simulates ``batch_size`` paths per step.

    Args:
        batch_size: paths per step and rank.
        batches_per_epoch: steps in one epoch (only affects epoch-level logging).
    """

    def __init__(self, batch_size: int = 256, batches_per_epoch: int = 100) -> None:
        super().__init__()
        if batch_size < 1 or batches_per_epoch < 1:
            raise ValueError(f"batch_size ({batch_size}) and batches_per_epoch ({batches_per_epoch}) must be positive")
        self.batch_size = batch_size
        self.batches_per_epoch = batches_per_epoch

    def train_dataloader(self) -> DataLoader:
        return DataLoader(_BatchSizes(self.batch_size, self.batches_per_epoch), batch_size=None)
