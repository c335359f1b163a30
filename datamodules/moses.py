"""One-hot SELFIES of a seeded MOSES subset, for pretraining."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader

from rewardsde.domains import MosesSubset, SelfiesAlphabet, SequenceDomain, moses_smiles, rings_first


class MosesSelfiesDataModule(L.LightningDataModule):
    """Batches ``(batch_size, num_states, length)`` of one-hot SELFIES of MOSES training molecules.

    :meth:`setup` reads a seeded uniform subset of ``size`` SMILES from the MOSES
    training set (the ``molsets`` wheel), builds the SELFIES alphabet of that subset
    (``[nop]`` padding first) and encodes every molecule in the ±1 code of
    :func:`rewardsde.domains.one_hot`. Every molecule of the subset trains (no
    validation split: the pretraining module does not validate). After setup,
    :attr:`smiles`, :attr:`alphabet` and :attr:`data` hold the subset, its alphabet
    and its encoding, and :attr:`metadata` describes them; the model's ``num_states``
    and ``length`` must match ``alphabet.num_states`` and ``alphabet.length``
    (``length`` fixes the padding).

    Args:
        size: molecules in the subset.
        seed: seed of the subset and of the shuffling.
        length: tokens per molecule (default: the longest molecule of the subset).
        fragments: SELFIES fragments learned from the subset and added to its alphabet
            (:meth:`rewardsde.domains.SelfiesAlphabet.from_smiles`); 0 keeps single symbols.
        rings_first: random SMILES writings of each molecule searched for the one whose rings
            close soonest (:func:`rewardsde.domains.rings_first`, seeded by ``seed``), which is
            then encoded; 0 encodes the MOSES SMILES as given (RDKit's canonical writing).
            :attr:`smiles` keeps the given SMILES either way.
        batch_size: molecules per batch.
        num_workers: data loader workers.
    """

    def __init__(
        self,
        size: int = 2000,
        seed: int = 0,
        length: int | None = None,
        fragments: int = 0,
        rings_first: int = 0,
        batch_size: int = 128,
        num_workers: int = 0,
    ) -> None:
        super().__init__()
        if size < 2:
            raise ValueError(f"size must be at least 2, got {size}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if fragments < 0:
            raise ValueError(f"fragments must be non-negative, got {fragments}")
        if rings_first < 0:
            raise ValueError(f"rings_first must be non-negative, got {rings_first}")
        self.save_hyperparameters()
        self.smiles: list[str] = []
        self.alphabet: SelfiesAlphabet | None = None
        self.data: torch.Tensor | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.data is not None:
            return
        self.smiles = moses_smiles(self.hparams.size, self.hparams.seed)
        written = self.smiles
        if self.hparams.rings_first:
            written = rings_first(self.smiles, self.hparams.rings_first, self.hparams.seed)
        self.alphabet = SelfiesAlphabet.from_smiles(written, self.hparams.length, self.hparams.fragments)
        self.data = self.alphabet.encode(written)

    @property
    def metadata(self) -> SequenceDomain:
        """The subset and its alphabet, saved with a pretrained model (after :meth:`setup`)."""
        if self.alphabet is None:
            raise ValueError("metadata is known after setup()")
        subset = MosesSubset(tokens=tuple(self.alphabet.tokens), size=self.hparams.size, seed=self.hparams.seed,
                             rings_first=self.hparams.rings_first)
        return SequenceDomain(num_states=self.alphabet.num_states, length=self.alphabet.length, instance=subset)

    def train_dataloader(self) -> DataLoader:
        generator = torch.Generator().manual_seed(self.hparams.seed)
        return DataLoader(self.data, batch_size=self.hparams.batch_size, shuffle=True, generator=generator,
                          num_workers=self.hparams.num_workers)
