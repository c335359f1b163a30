import pytest
import torch
from torch import nn

from rewardsde import ControlledSDE, NetworkCorrection
from rewardsde.analytic import BrownianPrior


def test_network_correction_starts_at_exactly_zero():
    prior = BrownianPrior(3)
    correction = NetworkCorrection(hidden=16)
    ControlledSDE(prior, correction)
    x = torch.randn(5, 3)
    drift, control = correction(torch.tensor(0.4), x)
    assert torch.equal(control, torch.zeros_like(x))
    assert torch.equal(drift, prior.drift(torch.tensor(0.4), x))


def test_a_given_network_has_its_last_layer_zeroed():
    network = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))

    class WithTime(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = network

        def forward(self, x, t):
            return self.net(x)

    correction = NetworkCorrection(WithTime())
    ControlledSDE(BrownianPrior(2), correction)
    assert torch.count_nonzero(network[2].weight) == 0 and torch.count_nonzero(network[2].bias) == 0
    assert torch.count_nonzero(network[0].weight) > 0


def test_network_without_a_linear_or_conv_layer_is_refused():
    class Bare(nn.Module):
        def forward(self, x, t):
            return x

    with pytest.raises(ValueError, match="no nn.Linear or nn.Conv layer"):
        ControlledSDE(BrownianPrior(2), NetworkCorrection(Bare()))


def test_a_correction_is_attached_once():
    correction = NetworkCorrection(hidden=8)
    ControlledSDE(BrownianPrior(2), correction)
    with pytest.raises(ValueError, match="already attached"):
        ControlledSDE(BrownianPrior(2), correction)


class _AffineEps(nn.Module):
    """ε(x, s) = W x + b·s: a small network with parameters to copy."""

    def __init__(self, dim):
        super().__init__()
        self.linear = nn.Linear(dim, dim)
        self.time = nn.Parameter(torch.randn(dim))

    def forward(self, x, s):
        return self.linear(x) + self.time * s[:, None]


def test_denoiser_correction_turns_the_reference_into_the_sde_of_its_copy():
    from rewardsde import DenoiserCorrection, PretrainedSDE

    torch.manual_seed(0)
    reference = PretrainedSDE(_AffineEps(3).double(), (3,))
    correction = DenoiserCorrection()
    ControlledSDE(reference, correction)
    t, x = torch.tensor(0.3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    drift, control = correction(t, x)
    assert torch.equal(control, torch.zeros_like(x))
    assert torch.equal(drift, reference.drift(t, x))
    assert all(p.requires_grad for p in correction.network.parameters())
    assert not any(p.requires_grad for p in reference.network.parameters())
    with torch.no_grad():
        correction.network.linear.weight.add_(0.5)
    drift, control = correction(t, x)
    tuned = PretrainedSDE(correction.network, (3,))
    torch.testing.assert_close(drift + reference.diffusion(t) * control, tuned.drift(t, x), rtol=1e-12, atol=1e-12)


def test_a_residual_lets_a_denoiser_correction_learn_on_a_closed_form_eps_with_no_weights():
    from rewardsde import DenoiserCorrection
    from rewardsde.analytic import GaussianMixturePrior

    reference = GaussianMixturePrior([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.0]], [0.3, 0.3]).double()
    assert not list(reference.network.parameters())
    correction = DenoiserCorrection(residual_hidden=8)
    ControlledSDE(reference, correction)
    t, x = torch.tensor(0.4, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    drift, control = correction(t, x)
    assert torch.equal(control, torch.zeros_like(x)) and torch.equal(drift, reference.drift(t, x))
    assert correction.network.parameters() and all(p.requires_grad for p in correction.network.parameters())
    with torch.no_grad():
        correction.network.residual.head.bias.fill_(0.1)
    s = 1.0 - t
    _, control = correction(t, x)
    # ε_θ = ε_pre + 0.1, so a = -√β(s)·0.1/σ_s in every coordinate
    expected = -reference.schedule.beta(s).sqrt() * 0.1 / reference.schedule.sigma(s)
    torch.testing.assert_close(control, expected.expand_as(x), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="residual_hidden"):
        DenoiserCorrection(residual_hidden=0)


def test_denoiser_correction_needs_a_reference_with_a_network():
    from rewardsde import DenoiserCorrection

    with pytest.raises(ValueError, match="DenoiserCorrection copies the ε-network"):
        ControlledSDE(BrownianPrior(2), DenoiserCorrection())
