import pytest
import torch

from rewardsde.datamodules import MosesSelfiesDataModule
from rewardsde.domains import moses_smiles


def test_setup_encodes_a_seeded_subset_with_its_alphabet_and_splits_it():
    data = MosesSelfiesDataModule(size=120, seed=3, batch_size=32, val_fraction=0.25)
    data.setup("fit")
    assert data.smiles == moses_smiles(120, seed=3)
    assert data.data.shape == (120, data.alphabet.num_states, data.alphabet.length)
    assert data.alphabet.decode(data.data) == [data.alphabet.to_smiles(data.alphabet.token_ids([s]))[0] for s in data.smiles]
    train = list(data.train_dataloader())
    assert [b.shape[0] for b in train] == [32, 32, 26] and all(isinstance(b, torch.Tensor) for b in train)
    assert sum(b.shape[0] for b in data.val_dataloader()) == 30
    seen = torch.cat(train + list(data.val_dataloader()))
    assert torch.equal(seen.sum(dim=0), data.data.sum(dim=0)), "the split covers each molecule once"


def test_a_fixed_length_pads_or_refuses():
    data = MosesSelfiesDataModule(size=50, length=80, val_fraction=0.0)
    data.setup()
    assert data.alphabet.length == 80 and data.data.shape[2] == 80
    with pytest.raises(ValueError, match="more than length 5"):
        MosesSelfiesDataModule(size=50, length=5).setup()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="val_fraction in \\[0, 1\\); got 2000, 128, 1.0"):
        MosesSelfiesDataModule(val_fraction=1.0)
