import pytest
import torch

from rewardsde import VPSchedule
from rewardsde.domains import (
    EhrlichInstance,
    GenuineReward,
    SequenceDomain,
    SequenceEps,
    SequenceSDE,
    one_hot,
    read_domain,
)
from tests.helpers.tiny_sequences import save_ehrlich_model, save_moses_model, save_sequence_model


def test_save_and_load_round_trip_gives_the_same_eps_schedule_and_domain(tmp_path, generator):
    network = SequenceEps(5, 7, channels=8, depth=2)
    torch.nn.init.normal_(network.backbone.out.weight, generator=generator)
    domain = SequenceDomain(5, 7, EhrlichInstance(num_motifs=1, motif_length=3))
    network.save_pretrained(tmp_path / "model", VPSchedule(0.2, 15.0), s_min=0.01, metadata=domain)
    sde = SequenceSDE(str(tmp_path / "model"))
    x, s = torch.randn(3, 5, 7, generator=generator), torch.rand(3, generator=generator)
    assert torch.equal(sde.network(x, s), network(x, s))
    assert sde.event_shape == (5, 7) and sde.s_min == 0.01 and sde.metadata == domain
    assert (sde.schedule.beta_min, sde.schedule.beta_max) == (0.2, 15.0)


def test_a_dict_is_saved_as_the_domain_it_describes(tmp_path):
    domain = SequenceDomain(5, 7, EhrlichInstance(num_motifs=1, motif_length=3, epistasis_factor=0.5))
    SequenceEps(5, 7, channels=4, depth=1).save_pretrained(tmp_path / "model", VPSchedule(), metadata=domain.to_dict())
    assert read_domain(tmp_path / "model") == domain
    SequenceEps(5, 7, channels=4, depth=1).save_pretrained(tmp_path / "bare", VPSchedule())
    assert SequenceSDE(str(tmp_path / "bare")).metadata is None
    with pytest.raises(ValueError, match="saved without metadata"):
        GenuineReward(str(tmp_path / "bare"))


def test_missing_or_incomplete_directory_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist; pretrain one first"):
        SequenceSDE(str(tmp_path / "nowhere"))
    directory = save_ehrlich_model(tmp_path / "model")
    weights = directory / "backbone" / "diffusion_pytorch_model.safetensors"
    weights.unlink()
    with pytest.raises(ValueError, match="incomplete: backbone/diffusion_pytorch_model.safetensors missing"):
        SequenceSDE(str(directory))
    weights.write_bytes(b"")
    with pytest.raises(ValueError, match="could not load the backbone"):
        SequenceSDE(str(directory))
    (directory / "sequence_model.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="is not a saved rewardsde.SequenceEps"):
        SequenceSDE(str(directory))


def test_genuine_reward_follows_the_saved_domain(tmp_path):
    ehrlich = GenuineReward(str(save_ehrlich_model(tmp_path / "ehrlich")))
    assert ehrlich(one_hot(ehrlich.reward.optimum()[None], 20)).item() == 1.0
    molecules = GenuineReward(str(save_moses_model(tmp_path / "moses", num_states=4, length=3)))
    assert molecules.reward.alphabet.num_states == 4 and molecules.reward.prop == "qed"


def test_a_diffusers_pipeline_directory_is_named(tmp_path):
    from tests.helpers.tiny_pipelines import save_ddpm_pipeline

    save_ddpm_pipeline(tmp_path / "digits")
    with pytest.raises(ValueError, match=r"holds a diffusers pipeline \(model_index.json\), not a sequence model"):
        SequenceSDE(str(tmp_path / "digits"))


def test_design_text_gives_a_lab_smiles_or_sequences(tmp_path):
    from rewardsde.domains import DesignText, MosesSubset, SelfiesAlphabet

    ehrlich = DesignText(str(save_ehrlich_model(tmp_path / "ehrlich")))
    states = torch.tensor([[0, 1, 2, 19] * 8])
    assert ehrlich(one_hot(states, 20)) == ["ACDY" * 8]
    tokens = ("[nop]", "[C]", "[O]", "[N]", "[=C]", "[Ring1]", "[=Branch1]")
    domain = SequenceDomain(len(tokens), 12, MosesSubset(tokens, size=100, seed=0))
    molecules = DesignText(str(save_sequence_model(tmp_path / "moses", domain)))
    x = SelfiesAlphabet(tokens, 12).encode(["CCO", "CN"])
    assert molecules(x) == ["CCO", "CN"]
    with pytest.raises(ValueError, match="the ehrlich model"):
        ehrlich(one_hot(states[:, :5], 20))


def test_a_temperature_given_at_load_reaches_the_sampled_network_and_bad_ones_are_named(tmp_path, generator):
    network = SequenceEps(5, 7, channels=8, depth=2, parameterisation="x0", head="chain")
    torch.nn.init.normal_(network.backbone.out.weight, generator=generator)
    network.save_pretrained(tmp_path / "model", network.schedule)
    x, s = torch.randn(3, 5, 7, generator=generator), torch.rand(3, generator=generator)
    sde = SequenceSDE(str(tmp_path / "model"), temperature=0.5)
    network.temperature = 0.5
    assert sde.temperature == 0.5 and torch.equal(sde.network(x, s), network(x, s))
    assert not torch.allclose(sde.network(x, s), SequenceSDE(str(tmp_path / "model")).network(x, s))
    with pytest.raises(ValueError, match="temperature must be positive and finite, got 0"):
        SequenceSDE(str(tmp_path / "model"), temperature=0)
