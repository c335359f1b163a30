import pytest
import torch
from torch import nn

from rewardsde import ControlledSDE, NetworkCorrection, PretrainedSDE, VPSchedule, ZeroCorrection, solve


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


class GaussianEps(nn.Module):
    """The exact ε-predictor of data ``N(m, τ²I)``: the VP marginal at diffusion time ``s`` is
    ``p_s = N(√ᾱ·m, vI)`` with ``v = ᾱτ² + σ_s²``, so ``ε = -σ_s∇log p_s = σ_s(x - √ᾱ·m)/v``."""

    def __init__(self, mean, std, schedule):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float64))
        self.std, self.schedule = std, schedule

    def marginal(self, s):
        """Mean ``(..., D)`` and variance ``(..., 1)`` of ``p_s``."""
        alpha_bar = self.schedule.alpha_bar(s)[..., None]
        return alpha_bar.sqrt() * self.mean, alpha_bar * self.std**2 + 1 - alpha_bar

    def score(self, x, s):
        mean, variance = self.marginal(s)
        return -(x - mean) / variance

    def forward(self, x, s):
        return -self.schedule.sigma(s)[:, None] * self.score(x, s)


@pytest.fixture
def gaussian_model():
    schedule = VPSchedule(0.1, 20.0)
    network = GaussianEps([1.0, -2.0], 0.5, schedule)
    return PretrainedSDE(network, (2,), schedule).double(), network


@pytest.mark.parametrize("t", [0.0, 0.3, 0.9, 0.999])
def test_drift_is_the_reverse_time_drift_of_the_exact_score(gaussian_model, t):
    """Anderson's reverse of ``dx = -½βx ds + √β dB``, in generation time ``t = 1 - s``:
    ``f = ½β(s)x + β(s)∇log p_s(x)`` and ``σ = √β(s)``, with the analytic score of ``p_s``."""
    sde, network = gaussian_model
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    t = torch.tensor(t, dtype=torch.float64)
    s = 1 - t
    beta = 0.1 + 19.9 * s
    expected = 0.5 * beta * x + beta * network.score(x, s.expand(5))
    torch.testing.assert_close(sde.drift(t, x), expected)
    torch.testing.assert_close(sde.diffusion(t), beta.sqrt())


def test_solving_from_the_exact_noise_law_ends_in_the_exact_data_law(gaussian_model):
    """Started from ``p_1``, the reverse SDE ends in ``p_{s_min} = N(√ᾱ·m, vI)``: sample mean and
    variance within 5 standard errors (``√(v/n)`` and ``v·√(2/(n-1))``, for Gaussian samples).
    100 midpoint steps leave a bias far below that (it is not seen at n = 10⁵)."""
    sde, network = gaussian_model
    start_mean, start_variance = network.marginal(torch.tensor(1.0, dtype=torch.float64))
    mean, variance = network.marginal(torch.tensor(sde.s_min, dtype=torch.float64))
    n = 4000
    noise = torch.randn(n, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        end = solve(ControlledSDE(sde, ZeroCorrection()), start_mean + start_variance.sqrt() * noise, 100, seed=1)
    assert ((end.x.mean(0) - mean).abs() < 5 * (variance / n).sqrt()).all()
    assert ((end.x.var(0) - variance).abs() < 5 * variance * (2 / (n - 1)) ** 0.5).all()


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
