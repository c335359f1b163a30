import pytest
import torch
from torch import nn

from rewardsde import ControlledSDE, NetworkCorrection, PretrainedSDE, VPSchedule, solve


class ScaledIdentity(nn.Module):
    """ε(x, s) = c·x: for c = σ_s it is the exact ε of data N(0, I) under VP."""

    def __init__(self, schedule=None):
        super().__init__()
        self.schedule = schedule

    def forward(self, x, s):
        return self.schedule.sigma(s).reshape(-1, *[1] * (x.dim() - 1)) * x


class Timeless(nn.Module):
    """An ε- or control network that ignores its time input."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x, s):
        return self.inner(x)


def test_drift_is_half_beta_x_minus_beta_eps_over_sigma():
    schedule = VPSchedule(0.1, 20.0)
    network = Timeless(nn.Linear(3, 3))
    sde = PretrainedSDE(network, (3,), schedule)
    x, t = torch.randn(5, 3), torch.tensor(0.3)
    s = torch.tensor(0.7)
    expected = 0.5 * schedule.beta(s) * x - schedule.beta(s) * network.inner(x) / schedule.sigma(s)
    assert torch.allclose(sde.drift(t, x), expected, atol=1e-6)
    assert torch.allclose(sde.diffusion(t), schedule.beta(s).sqrt())


def test_network_is_frozen():
    sde = PretrainedSDE(nn.Linear(3, 3), (3,))
    assert not any(p.requires_grad for p in sde.parameters())


def test_image_shaped_samples_go_through_the_solver():
    schedule = VPSchedule(0.1, 20.0)
    sde = PretrainedSDE(ScaledIdentity(schedule), (1, 4, 4), schedule)
    controlled = ControlledSDE(sde, NetworkCorrection(Timeless(nn.Sequential(nn.Flatten(), nn.Linear(16, 16)))))
    x0 = sde.sample_initial(3)
    assert x0.shape == (3, 1, 4, 4)
    end = solve(controlled, x0, 10, backend="direct", seed=0)
    assert end.x.shape == (3, 1, 4, 4) and end.running_cost.shape == (3,)


def test_data_normal_prior_keeps_the_standard_normal():
    schedule = VPSchedule(0.1, 20.0)
    sde = PretrainedSDE(ScaledIdentity(schedule), (2,), schedule)
    controlled = ControlledSDE(sde, NetworkCorrection())
    n = 4000
    with torch.no_grad():
        end = solve(controlled, sde.sample_initial(n, torch.Generator().manual_seed(0)), 100, seed=1)
    tolerance = 4 * (2 / n) ** 0.5 + 0.02  # 4 standard errors of a variance estimate, plus 100-step bias
    assert end.x.var(0).sub(1).abs().max() < tolerance
    assert end.x.mean(0).abs().max() < 4 / n**0.5


def test_eps_network_with_the_wrong_output_shape_is_named():
    sde = PretrainedSDE(Timeless(nn.Linear(3, 2)), (3,))
    with pytest.raises(ValueError, match=r"eps network returned shape \(4, 2\) for input of shape \(4, 3\)"):
        sde.drift(torch.tensor(0.5), torch.randn(4, 3))


def test_condition_reaches_the_network():
    class Conditional(nn.Module):
        def forward(self, x, s, shift):
            return x + shift

    sde = PretrainedSDE(Conditional(), (2,))
    x = torch.zeros(3, 2)
    with sde.conditioned(shift=torch.ones(3, 2)):
        assert torch.equal(sde.eps(torch.tensor(0.5), x), torch.ones(3, 2))
    assert sde.condition == {}


def test_bad_s_min_is_named():
    with pytest.raises(ValueError, match="s_min"):
        PretrainedSDE(nn.Identity(), (2,), s_min=0.0)
