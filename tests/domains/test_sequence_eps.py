import json

import pytest
import torch

from rewardsde import PretrainedSDE, VPSchedule
from rewardsde.domains import SequenceBackbone, SequenceEps, SequenceSDE, one_hot


def test_shape_time_dependence_and_use_as_pretrained_network(generator):
    net = SequenceEps(num_states=6, length=10, channels=16, depth=2)
    x = torch.randn(4, 6, 10, generator=generator)
    assert torch.equal(net(x, torch.rand(4)), torch.zeros(4, 6, 10)), "the output layer starts at zero"
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    early, late = net(x, torch.full((4,), 0.1)), net(x, torch.full((4,), 0.9))
    assert early.shape == (4, 6, 10) and not torch.allclose(early, late)
    sde = PretrainedSDE(net, event_shape=(6, 10), schedule=VPSchedule())
    assert sde.drift(torch.tensor(0.3), x).shape == (4, 6, 10)


def test_gradients_reach_every_parameter(generator):
    net = SequenceEps(num_states=3, length=5, channels=8, depth=1)
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    net(torch.randn(2, 3, 5, generator=generator), torch.rand(2)).square().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())


def test_bad_shapes_and_sizes_are_named():
    net = SequenceEps(num_states=4, length=8, channels=8, depth=1)
    with pytest.raises(ValueError, match=r"\(batch, 4, 8\), got \(2, 5, 8\)"):
        net(torch.zeros(2, 5, 8), torch.rand(2))
    with pytest.raises(ValueError, match="odd kernel_size"):
        SequenceEps(4, 8, kernel_size=4)
    with pytest.raises(ValueError, match="num_states >= 2"):
        SequenceEps(1, 8)
    with pytest.raises(ValueError, match="parameterisation must be one of .* got 'logits'"):
        SequenceEps(4, 6, parameterisation="logits")


def test_x0_parameterisation_denoises_inside_the_simplex_and_inverts_the_noising(generator):
    """x̂₀ = (x - σ_s·ε̂)/√ᾱ(s) must be 2·softmax - 1: entries in [-1, 1], columns summing to 2 - K;
    and a network sure of the clean tokens must return the very noise that made x."""
    schedule = VPSchedule(0.2, 15.0)
    net = SequenceEps(num_states=5, length=7, channels=8, depth=1, parameterisation="x0", schedule=schedule)
    torch.nn.init.normal_(net.backbone.out.weight, std=3.0, generator=generator)
    x, s = torch.randn(3, 5, 7, generator=generator), torch.rand(3, generator=generator)
    root, sigma = schedule.alpha_bar(s).sqrt()[:, None, None], schedule.sigma(s)[:, None, None]
    denoised = (x - sigma * net(x, s)) / root
    assert denoised.min() >= -1 - 1e-4 and denoised.max() <= 1 + 1e-4
    assert torch.allclose(denoised.sum(dim=1), torch.full((3, 7), 2.0 - 5), atol=1e-4)
    assert not torch.allclose(denoised, denoised[:1].expand_as(denoised)), "x̂₀ depends on x"
    net.backbone.out.weight.data.zero_()
    with torch.no_grad():
        net.backbone.out.bias.copy_(torch.tensor([50.0, 0, 0, 0, 0]))
    clean = one_hot(torch.zeros(3, 7, dtype=torch.long), 5)
    noise = torch.randn(3, 5, 7, generator=generator)
    assert torch.allclose(net(root * clean + sigma * noise, s), noise, atol=1e-4)


@pytest.mark.parametrize("parameterisation", ["eps", "x0"])
def test_save_and_load_round_trip_keeps_the_network_and_its_schedule(tmp_path, generator, parameterisation):
    schedule = VPSchedule(0.2, 15.0, "scaled_linear")
    net = SequenceEps(4, 6, channels=8, depth=2, kernel_size=3, parameterisation=parameterisation, schedule=schedule)
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    net.save_pretrained(tmp_path / "model", schedule, s_min=0.02)
    loaded = SequenceEps.from_pretrained(tmp_path / "model")
    x, s = torch.randn(2, 4, 6, generator=generator), torch.rand(2, generator=generator)
    assert loaded.parameterisation == parameterisation and repr(loaded.schedule) == repr(schedule)
    assert torch.equal(loaded(x, s), net(x, s))
    assert dict(loaded.backbone.config).items() >= {"num_states": 4, "length": 6, "channels": 8, "depth": 2,
                                                     "kernel_size": 3}.items()
    assert json.loads((tmp_path / "model" / "sequence_model.json").read_text())["s_min"] == 0.02


def test_the_backbone_loads_on_its_own_through_diffusers(tmp_path, generator):
    """The backbone directory is a plain diffusers model: ``ModelMixin.from_pretrained`` reads it."""
    net = SequenceEps(3, 5, channels=8, depth=1)
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    net.save_pretrained(tmp_path / "model", VPSchedule())
    backbone = SequenceBackbone.from_pretrained(str(tmp_path / "model" / "backbone"))
    x, s = torch.randn(2, 3, 5, generator=generator), torch.rand(2, generator=generator)
    assert torch.equal(backbone(x, s), net.backbone(x, s))


def test_x0_network_refuses_another_schedule_and_metadata_of_another_shape(tmp_path):
    net = SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0", schedule=VPSchedule(0.2, 15.0))
    with pytest.raises(ValueError, match=r"computes ε with VPSchedule\(beta_min=0.2, beta_max=15.0"):
        net.save_pretrained(tmp_path / "model", VPSchedule())
    metadata = {"domain": "ehrlich", "num_states": 4, "length": 8, "instance": {"num_motifs": 1, "motif_length": 2}}
    with pytest.raises(ValueError, match=r"describes sequences \(4, 8\), but the network takes \(4, 6\)"):
        net.save_pretrained(tmp_path / "model", VPSchedule(0.2, 15.0), metadata=metadata)
    assert not (tmp_path / "model").exists(), "nothing is written when the arguments are refused"


def test_dilations_cycle_through_powers_of_two_and_survive_a_save(tmp_path, generator):
    net = SequenceEps(4, 12, channels=8, depth=5, kernel_size=3, parameterisation="x0", dilation_cycle=3)
    dilations = [(b.first.dilation[0], b.second.dilation[0]) for b in net.backbone.blocks]
    assert dilations == [(1, 1), (2, 2), (4, 4), (1, 1), (2, 2)]
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    x, s = torch.randn(2, 4, 12, generator=generator), torch.rand(2, generator=generator)
    assert net(x, s).shape == (2, 4, 12)
    net.save_pretrained(tmp_path / "model", net.schedule)
    loaded = SequenceEps.from_pretrained(tmp_path / "model")
    assert loaded.backbone.config.dilation_cycle == 3 and torch.equal(loaded(x, s), net(x, s))
    with pytest.raises(ValueError, match="dilation_cycle must be at least 1, got 0"):
        SequenceEps(4, 12, dilation_cycle=0)


def test_attention_is_a_residual_after_each_block_and_survives_a_save(tmp_path, generator):
    net = SequenceEps(4, 12, channels=8, depth=2, kernel_size=3, parameterisation="x0", attention_heads=2)
    plain = SequenceEps(4, 12, channels=8, depth=2, kernel_size=3, parameterisation="x0")
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    plain.load_state_dict(net.state_dict(), strict=False)  # the same convolutions, no attention
    x, s = torch.randn(3, 4, 12, generator=generator), torch.rand(3, generator=generator)
    assert not torch.allclose(net(x, s), plain(x, s))
    net.save_pretrained(tmp_path / "model", net.schedule)
    loaded = SequenceEps.from_pretrained(tmp_path / "model")
    assert loaded.backbone.config.attention_heads == 2 and torch.equal(loaded(x, s), net(x, s))
    for layer in net.backbone.attention:  # a zero output projection: each attention adds nothing
        torch.nn.init.zeros_(layer.attention.out_proj.weight)
        torch.nn.init.zeros_(layer.attention.out_proj.bias)
    torch.testing.assert_close(net(x, s), plain(x, s))
    with pytest.raises(ValueError, match="attention_heads must be 0 or a positive divisor of channels=8, got 3"):
        SequenceEps(4, 12, channels=8, attention_heads=3)


def test_logits_are_the_backbone_output_of_an_x0_network_only(generator):
    net = SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0")
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    x, s = torch.randn(2, 4, 6, generator=generator), torch.rand(2, generator=generator)
    assert torch.equal(net.logits(x, s), net.backbone(x, s))
    with pytest.raises(ValueError, match="logits need parameterisation='x0', this network has 'eps'"):
        SequenceEps(4, 6, channels=8, depth=1).logits(x, s)


def test_posterior_inputs_are_each_positions_own_posterior_mean_in_the_code(generator):
    """With inputs="posterior" the backbone reads 2·softmax_k(2√ᾱ·x/σ²) - 1: the exact x₀-posterior mean of a
    position on its own under a uniform prior, computed here from the Gaussian likelihoods ‖x_j - √ᾱ·c_k‖²."""
    schedule = VPSchedule(0.2, 15.0)
    net = SequenceEps(3, 4, channels=8, depth=1, parameterisation="x0", schedule=schedule, inputs="posterior")
    seen = []
    net.backbone.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    x, s = torch.randn(2, 3, 4, generator=generator, dtype=torch.float64), torch.tensor([0.2, 0.7], dtype=torch.float64)
    net.double()(x, s)
    codes = one_hot(torch.arange(3)[:, None], 3).double()[:, :, 0]  # (K, K): row k is the code of state k
    root, variance = schedule.alpha_bar(s).sqrt()[:, None, None, None], schedule.sigma(s).square()[:, None, None, None]
    distance = (x[:, None] - root * codes[None, :, :, None]).square().sum(2)  # (batch, K, length)
    posterior = torch.softmax(-distance / (2 * variance[..., 0]), dim=1)
    assert torch.allclose(seen[0], 2 * posterior - 1, atol=1e-12)
    with pytest.raises(ValueError, match="inputs must be one of .* got 'logits'"):
        SequenceEps(3, 4, inputs="logits")


def test_posterior_inputs_survive_a_save_and_need_the_saved_schedule(tmp_path, generator):
    schedule = VPSchedule(0.2, 15.0)
    net = SequenceEps(3, 4, channels=8, depth=1, schedule=schedule, inputs="posterior")
    torch.nn.init.normal_(net.backbone.out.weight, generator=generator)
    net.save_pretrained(tmp_path / "model", schedule)
    loaded = SequenceEps.from_pretrained(tmp_path / "model")
    x, s = torch.randn(2, 3, 4, generator=generator), torch.rand(2, generator=generator)
    assert loaded.inputs == "posterior" and torch.equal(loaded(x, s), net(x, s))
    with pytest.raises(ValueError, match="inputs 'posterior'"):
        net.save_pretrained(tmp_path / "other", VPSchedule())
