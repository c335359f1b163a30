"""sklearn's bundled digits for pretraining an image diffusion model."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from rewardsde.images import check_digit_options, digit_images


class DigitsDataModule(L.LightningDataModule):
    """All 1797 ``load_digits`` images, scaled to [-1, 1], as batches ``(batch, 1, size, size)``.

    Args:
        batch_size: images per step and rank.
        image_size: 8 (native) or 16.
        resize: ``"pad"`` or ``"bilinear"``, for ``image_size=16``.
        num_workers: data-loader workers.
        seed: shuffling seed.
    """

    def __init__(
        self, batch_size: int = 128, image_size: int = 8, resize: str = "pad", num_workers: int = 0, seed: int = 0
    ) -> None:
        super().__init__()
        check_digit_options(image_size, resize)
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.batch_size = batch_size
        self.image_size = image_size
        self.resize = resize
        self.num_workers = num_workers
        self.seed = seed

    def train_dataloader(self) -> DataLoader:
        images, _ = digit_images(self.image_size, self.resize)
        return DataLoader(
            TensorDataset(images),
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=self.num_workers,
            generator=torch.Generator().manual_seed(self.seed),
        )
