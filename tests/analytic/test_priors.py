import math

import pytest
import torch

from rewardsde import ControlledSDE, solve
from rewardsde.analytic import (
    BrownianPrior,
    LinearReward,
    OptimalMixtureControl,
    QuadraticReward,
    target_distance,
)


def test_brownian_tilt_is_the_worked_example():
    target = BrownianPrior(1, c=1.0).tilted(LinearReward([1.0]), 0.5)
    assert target.mean().item() == pytest.approx(4.0)
    assert target.covariance().item() == pytest.approx(2.0)


def test_exact_mixture_eps_is_minus_sigma_times_the_score(mixture_prior):
    x = torch.randn(6, 2, dtype=torch.float64)
    s = torch.full((6,), 0.3, dtype=torch.float64)
    law = mixture_prior.network.law_at(torch.tensor(0.3, dtype=torch.float64))
    x.requires_grad_(True)
    score = torch.autograd.grad(law.log_prob(x).sum(), x)[0]
    eps = mixture_prior.network.double()(x.detach(), s)
    assert torch.allclose(eps, -mixture_prior.schedule.sigma(s)[:, None] * score, atol=1e-8)


def test_mixture_prior_samples_its_terminal_law(mixture_prior):
    sde = ControlledSDE(mixture_prior, OptimalMixtureControl(LinearReward([0.0, 0.0]), 1.0))
    with torch.no_grad():
        end = solve(sde, mixture_prior.sample_initial(4000, torch.Generator().manual_seed(0)), 100, seed=1)
    distance = target_distance(end.x, mixture_prior.terminal_law())
    assert distance.weight_tv < 3 * distance.weight_tv_floor + 0.01
    assert distance.sliced_wasserstein < 2 * distance.sliced_wasserstein_floor


@pytest.mark.parametrize(
    "reward, alpha",
    [(LinearReward([1.0, 0.0]), 2.0), (QuadraticReward([1.5, 1.0], curvature=0.8), 1.0)],
    ids=["linear", "isotropic quadratic"],
)
def test_optimal_control_reaches_the_exact_target(mixture_prior, reward, alpha):
    """The closed-form optimal control, simulated with 100 midpoint steps, lands on the
    exact tilt: its samples are as close to it as an exact sample is, and its running
    cost is the exact KL (the prior is memoryless, so ν needs no learning)."""
    target = mixture_prior.tilted(reward, alpha)
    sde = ControlledSDE(mixture_prior, OptimalMixtureControl(reward, alpha))
    n = 4000
    with torch.no_grad():
        end = solve(sde, mixture_prior.sample_initial(n, torch.Generator().manual_seed(0)), 100, seed=1)
    distance = target_distance(end.x, target)
    assert distance.weight_tv < 3 * distance.weight_tv_floor + 0.01
    assert distance.sliced_wasserstein < 2 * distance.sliced_wasserstein_floor
    cost = end.running_cost.double()
    assert abs(cost.mean() - target.kl_to_prior()) < 4 * cost.std() / math.sqrt(n) + 0.01


@pytest.mark.parametrize("curvature", [[[1.0, 0.0], [0.0, 2.0]], [[-1.0, 0.0], [0.0, -1.0]]], ids=["anisotropic", "convex"])
def test_optimal_control_refuses_rewards_it_is_not_exact_for(curvature):
    with pytest.raises(ValueError, match="curvature a·I with a >= 0"):
        OptimalMixtureControl(QuadraticReward([0.0, 0.0], curvature), 1.0)


@pytest.mark.parametrize("kwargs, message", [({"c": 0.0}, "c must be positive"), ({"initial_std": -1.0}, "initial_std")])
def test_bad_brownian_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BrownianPrior(2, **kwargs)


def test_bad_mixture_arguments_are_named():
    from rewardsde.analytic import GaussianMixturePrior

    with pytest.raises(ValueError, match="stds"):
        GaussianMixturePrior([0.5, 0.5], [[0.0], [1.0]], [0.1])


@pytest.mark.parametrize("reward", [LinearReward([1.0, -0.5]), QuadraticReward([1.5, 1.0], curvature=0.8)],
                         ids=["linear", "isotropic quadratic"])
def test_optimal_control_is_the_score_difference_of_the_noised_tilt(reward):
    """For a memoryless reference the optimal marginal at diffusion time ``s`` is the tilted end
    law noised forward to ``s``, so ``a* = σ(t)·(∇log p̃*_s - ∇log p_s)``. Both scores come here
    from :class:`GaussianMixture` densities built from ``prior.tilted`` (unequal mode widths, so
    that the width-dependent terms of the closed form matter); the two must agree to float64."""
    from rewardsde.analytic import GaussianMixturePrior
    from rewardsde.analytic.mixture import GaussianMixture

    prior = GaussianMixturePrior([0.5, 0.3, 0.2], [[-1.5, 0.0], [1.5, 0.0], [0.0, 2.0]], [0.3, 0.5, 0.7]).double()
    alpha = 0.7
    control = OptimalMixtureControl(reward.double(), alpha)
    ControlledSDE(prior, control)
    end, tilt = prior.terminal_law(), prior.tilted(reward, alpha)
    x = 2 * torch.randn(16, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    eye = torch.eye(2, dtype=torch.float64)
    for t in (0.05, 0.5, 0.9, 0.99):
        t = torch.tensor(t, dtype=torch.float64)
        s = 1 - t
        rho = prior.schedule.alpha_bar(s) / prior.schedule.alpha_bar(torch.tensor(prior.s_min, dtype=torch.float64))

        def noised(law):
            return GaussianMixture(law.weights, rho.sqrt() * law.means, rho * law.covariances + (1 - rho) * eye)

        y = x.clone().requires_grad_(True)
        gap = noised(tilt).log_prob(y).sum() - noised(end).log_prob(y).sum()
        (expected,) = torch.autograd.grad(gap, y)
        assert torch.allclose(control(t, x)[1], prior.diffusion(t) * expected, rtol=1e-7, atol=1e-9)
