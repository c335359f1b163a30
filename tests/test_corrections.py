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
