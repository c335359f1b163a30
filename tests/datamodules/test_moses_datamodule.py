import pytest
import torch

from rewardsde.datamodules import MosesSelfiesDataModule
from rewardsde.domains import MosesSubset, SequenceDomain, moses_smiles


def test_setup_encodes_a_seeded_subset_with_its_alphabet_and_every_molecule_trains():
    data = MosesSelfiesDataModule(size=120, seed=3, batch_size=32)
    data.setup("fit")
    assert data.smiles == moses_smiles(120, seed=3)
    assert data.data.shape == (120, data.alphabet.num_states, data.alphabet.length)
    assert data.alphabet.decode(data.data) == [data.alphabet.to_smiles(data.alphabet.token_ids([s]))[0] for s in data.smiles]
    train = list(data.train_dataloader())
    assert [b.shape[0] for b in train] == [32, 32, 32, 24] and all(isinstance(b, torch.Tensor) for b in train)
    seen = torch.cat(train)
    assert sorted(map(tuple, seen.flatten(1).tolist())) == sorted(map(tuple, data.data.flatten(1).tolist())), \
        "each molecule of the subset trains once per epoch"
    assert "val_dataloader" not in type(data).__dict__, "no validation split: nothing validates"
    assert data.metadata == SequenceDomain(data.alphabet.num_states, data.alphabet.length,
                                           MosesSubset(tuple(data.alphabet.tokens), 120, 3))


def test_a_fixed_length_pads_or_refuses():
    data = MosesSelfiesDataModule(size=50, length=80)
    data.setup()
    assert data.alphabet.length == 80 and data.data.shape[2] == 80
    with pytest.raises(ValueError, match="more than length 5"):
        MosesSelfiesDataModule(size=50, length=5).setup()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="size must be at least 2, got 1"):
        MosesSelfiesDataModule(size=1)
    with pytest.raises(ValueError, match="batch_size must be positive, got 0"):
        MosesSelfiesDataModule(batch_size=0)
    with pytest.raises(ValueError, match="metadata is known after setup"):
        MosesSelfiesDataModule().metadata


def test_rings_first_encodes_the_same_molecules_written_to_close_rings_sooner():
    from rdkit import Chem as chem

    canonical = MosesSelfiesDataModule(size=120, seed=3)
    written = MosesSelfiesDataModule(size=120, seed=3, rings_first=8)
    canonical.setup()
    written.setup()
    assert written.smiles == canonical.smiles, "smiles keeps the subset as given"
    decoded = [chem.CanonSmiles(s) for s in written.alphabet.decode(written.data)]
    assert decoded == [chem.CanonSmiles(s) for s in canonical.smiles]
    assert not torch.equal(written.data, canonical.data), "another writing of the same molecules"
    assert written.metadata.instance.rings_first == 8 and canonical.metadata.instance.rings_first == 0
    with pytest.raises(ValueError, match="rings_first must be non-negative, got -2"):
        MosesSelfiesDataModule(rings_first=-2)
