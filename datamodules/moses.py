"""One-hot SELFIES of a seeded MOSES subset, for pretraining."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, random_split

from rewardsde.domains import SelfiesAlphabet, moses_smiles


class MosesSelfiesDataModule(L.LightningDataModule):
    """Batches ``(batch_size, num_states, length)`` of one-hot SELFIES of MOSES training molecules.

    :meth:`setup` reads a seeded uniform subset of ``size`` SMILES from the MOSES
    training set (the ``molsets`` wheel), builds the SELFIES alphabet of that subset
    (``[nop]`` padding first) and encodes every molecule with levels ``low``/``high``.
    A ``val_fraction`` of the rows is held out for validation. After setup,
    :attr:`smiles`, :attr:`alphabet` and :attr:`data` hold the subset, its alphabet
    and its encoding, and :attr:`metadata` describes them; the model's ``num_states`` and ``length`` must match
    ``alphabet.num_states`` and ``alphabet.length`` (``length`` fixes the padding).

    Args:
        size: molecules in the subset.
        seed: seed of the subset, the split and the shuffling.
        length: tokens per molecule (default: the longest molecule of the subset).
        batch_size: molecules per batch.
        val_fraction: fraction held out for validation (0 for none).
        low, high: the one-hot levels.
        num_workers: data loader workers.
    """

    def __init__(
        self,
        size: int = 2000,
        seed: int = 0,
        length: int | None = None,
        batch_size: int = 128,
        val_fraction: float = 0.1,
        low: float = -1.0,
        high: float = 1.0,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if size < 2 or batch_size < 1 or not 0 <= val_fraction < 1:
            raise ValueError(
                f"need size >= 2, batch_size >= 1 and val_fraction in [0, 1); got {size}, {batch_size}, {val_fraction}"
            )
        self.save_hyperparameters()
        self.smiles: list[str] = []
        self.alphabet: SelfiesAlphabet | None = None
        self.data: torch.Tensor | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.data is not None:
            return
        hp = self.hparams
        self.smiles = moses_smiles(hp.size, hp.seed)
        self.alphabet = SelfiesAlphabet.from_smiles(self.smiles, hp.length)
        self.data = self.alphabet.encode(self.smiles, hp.low, hp.high)
        held = int(round(hp.val_fraction * hp.size))
        self.train_set, self.val_set = random_split(
            self.data, [hp.size - held, held], generator=torch.Generator().manual_seed(hp.seed)
        )

    @property
    def metadata(self) -> dict:
        """The subset and its alphabet, saved with a pretrained model (after :meth:`setup`)."""
        if self.alphabet is None:
            raise ValueError("metadata is known after setup()")
        return {"domain": "moses", "size": self.hparams.size, "seed": self.hparams.seed,
                "tokens": self.alphabet.tokens, "length": self.alphabet.length}

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.hparams.seed)
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True, generator=generator,
                          num_workers=self.hparams.num_workers)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size, num_workers=self.hparams.num_workers)
