import lightning as L
import pytest
import torch
from jsonargparse import ArgumentParser

from rewardsde import VPSchedule
from rewardsde.datamodules import EhrlichDataModule
from rewardsde.domains import EhrlichInstance, GenuineReward, SequenceDomain, SequenceEps, decode, read_domain


class _Recorder(L.LightningModule):
    """Keeps every training batch; a single parameter so the loop has something to optimise."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(()))
        self.batches: list[torch.Tensor] = []

    def training_step(self, batch: torch.Tensor, batch_index: int) -> torch.Tensor:
        self.batches.append(batch.clone())
        return self.weight * batch.mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _trained_batches(data: EhrlichDataModule) -> list[torch.Tensor]:
    recorder = _Recorder()
    L.Trainer(max_epochs=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, accelerator="cpu").fit(recorder, datamodule=data)
    return recorder.batches


def test_batches_are_feasible_one_hot_fresh_each_epoch_and_seeded():
    data = EhrlichDataModule(num_states=8, dim=12, num_motifs=1, motif_length=3, batch_size=16, batches_per_epoch=3, seed=5)
    batches = _trained_batches(data)
    assert len(batches) == 6 and all(b.shape == (16, 8, 12) and b.dtype == torch.float32 for b in batches)
    assert all(set(b.unique().tolist()) == {-1.0, 1.0} for b in batches)
    assert all(data.reward.feasible(decode(b)).all() for b in batches)
    assert len({tuple(decode(b).flatten().tolist()) for b in batches}) == 6, "every batch of both epochs is new"
    again = _trained_batches(EhrlichDataModule(8, 12, 1, 3, batch_size=16, batches_per_epoch=3, seed=5))
    assert all(torch.equal(a, b) for a, b in zip(batches, again))
    other = EhrlichDataModule(8, 12, 1, 3, batch_size=16, batches_per_epoch=3, seed=6).train_dataloader()
    assert not torch.equal(next(iter(other)), batches[0])


def test_builds_from_class_path_yaml():
    parser = ArgumentParser()
    parser.add_subclass_arguments(L.LightningDataModule, "data")
    config = parser.parse_string(
        "data:\n  class_path: rewardsde.datamodules.EhrlichDataModule\n"
        "  init_args: {num_states: 6, dim: 10, num_motifs: 1, motif_length: 3, batch_size: 4}\n"
    )
    data = parser.instantiate_classes(config).data
    assert isinstance(data, EhrlichDataModule) and next(iter(data.train_dataloader())).shape == (4, 6, 10)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"batch_size \(0\)"):
        EhrlichDataModule(batch_size=0)
    with pytest.raises(ValueError, match="seed must be non-negative, got -1"):
        EhrlichDataModule(num_states=6, dim=10, num_motifs=1, motif_length=3, seed=-1)


def test_every_instance_parameter_survives_a_save_and_load(tmp_path):
    """The saved domain rebuilds the very instance: the same parameters, and the same values on its data,
    which the epistasis factor changes (so a dropped factor would show)."""
    data = EhrlichDataModule(num_states=8, dim=12, num_motifs=2, motif_length=3, quantization=2,
                             epistasis_factor=0.5, random_seed=7, batch_size=64)
    SequenceEps(8, 12, channels=4, depth=1).save_pretrained(tmp_path / "model", VPSchedule(), metadata=data.metadata)
    assert read_domain(tmp_path / "model") == data.metadata == SequenceDomain(
        8, 12, EhrlichInstance(num_motifs=2, motif_length=3, quantization=2, epistasis_factor=0.5, random_seed=7))
    x = data.draw(torch.Generator().manual_seed(0))
    values = GenuineReward(str(tmp_path / "model"))(x)
    assert torch.equal(values, data.reward(x))
    plain = EhrlichDataModule(num_states=8, dim=12, num_motifs=2, motif_length=3, quantization=2, random_seed=7)
    assert not torch.equal(values, plain.reward(x)), "the epistasis factor changes the values"
