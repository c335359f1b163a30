import pytest
import torch

from rewardsde import VPSchedule
from rewardsde.domains import GenuineReward, PretrainedSurrogateReward, SequenceEps, SequenceSDE
from tests.helpers.tiny_sequences import save_ehrlich_model, save_moses_model


def test_save_and_load_round_trip_gives_the_same_eps(tmp_path, generator):
    network = SequenceEps(5, 7, channels=8, depth=2)
    torch.nn.init.normal_(network.out.weight, generator=generator)
    network.save_pretrained(tmp_path / "model", VPSchedule(0.2, 15.0), s_min=0.01, metadata={"domain": "ehrlich"})
    sde = SequenceSDE(str(tmp_path / "model"))
    x, s = torch.randn(3, 5, 7, generator=generator), torch.rand(3, generator=generator)
    assert torch.equal(sde.network(x, s), network(x, s))
    assert sde.event_shape == (5, 7) and sde.s_min == 0.01 and sde.metadata == {"domain": "ehrlich"}
    assert (sde.schedule.beta_min, sde.schedule.beta_max) == (0.2, 15.0)


def test_missing_or_incomplete_directory_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist; pretrain one first"):
        SequenceSDE(str(tmp_path / "nowhere"))
    directory = save_ehrlich_model(tmp_path / "model")
    (directory / "model.safetensors").unlink()
    with pytest.raises(ValueError, match="incomplete: model.safetensors missing"):
        SequenceSDE(str(directory))
    (directory / "model.safetensors").write_bytes(b"")
    (directory / "config.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="is not a saved rewardsde.SequenceEps"):
        SequenceSDE(str(directory))


def test_genuine_reward_follows_the_saved_domain(tmp_path):
    ehrlich = GenuineReward(str(save_ehrlich_model(tmp_path / "ehrlich")))
    optimum = torch.nn.functional.one_hot(ehrlich.reward.optimum(), 20).T[None].float()
    assert ehrlich(optimum).item() == 1.0
    molecules = GenuineReward(str(save_moses_model(tmp_path / "moses", num_states=4, length=3)))
    assert molecules.reward.alphabet.num_states == 4 and molecules.reward.prop == "qed"


def test_surrogate_is_fitted_to_labels_of_pretrained_samples(tmp_path):
    path = str(save_moses_model(tmp_path / "moses", num_states=6, length=5))
    reward = PretrainedSurrogateReward(path, train_size=40, steps=5, max_epochs=3)
    x = torch.randn(4, 6, 5, requires_grad=True)
    reward(x).sum().backward()
    assert reward.queries == 40 and x.grad.abs().sum() > 0
    assert 0 < reward.label_mean <= 1, "mean QED of the labelled samples"
    with pytest.raises(ValueError, match="train_size must be at least 10"):
        PretrainedSurrogateReward(path, train_size=3)
