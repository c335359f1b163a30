import pytest
import torch

from rewardsde import PretrainedSDE, VPSchedule
from rewardsde.domains import SequenceEps, SequenceSDE


def test_shape_time_dependence_and_use_as_pretrained_network(generator):
    net = SequenceEps(num_states=6, length=10, channels=16, depth=2)
    x = torch.randn(4, 6, 10, generator=generator)
    assert torch.equal(net(x, torch.rand(4)), torch.zeros(4, 6, 10)), "the output layer starts at zero"
    torch.nn.init.normal_(net.out.weight, generator=generator)
    early, late = net(x, torch.full((4,), 0.1)), net(x, torch.full((4,), 0.9))
    assert early.shape == (4, 6, 10) and not torch.allclose(early, late)
    sde = PretrainedSDE(net, event_shape=(6, 10), schedule=VPSchedule())
    assert sde.drift(torch.tensor(0.3), x).shape == (4, 6, 10)


def test_gradients_reach_every_parameter(generator):
    net = SequenceEps(num_states=3, length=5, channels=8, depth=1)
    torch.nn.init.normal_(net.out.weight, generator=generator)
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


def test_x0_parameterisation_denoises_inside_the_simplex_and_inverts_the_noising(generator):
    """x̂₀ = (x - σ_s·ε̂)/√ᾱ(s) must be 2·softmax - 1: entries in [-1, 1], columns summing to 2 - K;
    and a network sure of the clean tokens must return the very noise that made x."""
    schedule = VPSchedule(0.2, 15.0)
    net = SequenceEps(num_states=5, length=7, channels=8, depth=1, parameterisation="x0", schedule=schedule)
    torch.nn.init.normal_(net.out.weight, std=3.0, generator=generator)
    x, s = torch.randn(3, 5, 7, generator=generator), torch.rand(3, generator=generator)
    root, sigma = schedule.alpha_bar(s).sqrt()[:, None, None], schedule.sigma(s)[:, None, None]
    denoised = (x - sigma * net(x, s)) / root
    assert denoised.min() >= -1 - 1e-4 and denoised.max() <= 1 + 1e-4
    assert torch.allclose(denoised.sum(dim=1), torch.full((3, 7), 2.0 - 5), atol=1e-4)
    assert not torch.allclose(denoised, denoised[:1].expand_as(denoised)), "x̂₀ depends on x"
    net.out.weight.data.zero_()
    with torch.no_grad():
        net.out.bias.copy_(torch.tensor([50.0, 0, 0, 0, 0]))
    clean = torch.nn.functional.one_hot(torch.zeros(3, 7, dtype=torch.long), 5).transpose(1, 2) * 2.0 - 1
    noise = torch.randn(3, 5, 7, generator=generator)
    assert torch.allclose(net(root * clean + sigma * noise, s), noise, atol=1e-4)


def test_x0_network_saves_its_parameterisation_and_refuses_another_schedule(tmp_path, generator):
    net = SequenceEps(4, 6, channels=8, depth=1, parameterisation="x0", schedule=VPSchedule(0.2, 15.0))
    torch.nn.init.normal_(net.out.weight, generator=generator)
    with pytest.raises(ValueError, match=r"computes ε with VPSchedule\(beta_min=0.2, beta_max=15.0"):
        net.save_pretrained(tmp_path / "model", VPSchedule())
    net.save_pretrained(tmp_path / "model", VPSchedule(0.2, 15.0))
    sde = SequenceSDE(str(tmp_path / "model"))
    x, s = torch.randn(2, 4, 6, generator=generator), torch.rand(2, generator=generator)
    assert sde.network.parameterisation == "x0" and torch.equal(sde.network(x, s), net(x, s))
    with pytest.raises(ValueError, match="parameterisation must be one of .* got 'logits'"):
        SequenceEps(4, 6, parameterisation="logits")
