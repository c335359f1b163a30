"""ElegantObjective: exact gradients of the drift loss on a constant control, and value regression."""

import math

import pytest
import torch

from rewardsde import ElegantObjective, FineTunedSampler, LearnedInitialLaw, NetworkCorrection
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward
from rewardsde.sampler import derived_seeds
from tests.helpers.controls import ConstantControl

pytestmark = pytest.mark.core


def _objective(alpha=0.5, beta=0.0, value=0.8, previous=False, law=None):
    prior = BrownianPrior(1, c=1.0, initial_std=0.0).double()
    sampler = FineTunedSampler(prior, ConstantControl(value), law, steps=4, backend="direct", method="euler",
                               previous=previous)
    return ElegantObjective(sampler, LinearReward([1.0]).double(), alpha=alpha, beta=beta)


def test_drift_loss_gradient_is_exact_for_a_constant_control():
    """Loss = α·½θ² - mean(θ + W_1): its gradient is α·θ - 1 on every batch, whatever the noise."""
    objective = _objective(alpha=0.5, value=0.8)
    loss = objective.drift_loss(64, seed=3)
    loss.value.backward()
    assert objective.sampler.controlled.correction.theta.grad.item() == pytest.approx(0.5 * 0.8 - 1.0, abs=1e-12)
    assert loss.logs["kl_running"].item() == pytest.approx(0.5 * 0.8**2, abs=1e-12)
    # The reward's mean is θ + mean(W_1): within 5 standard errors of 64 unit-variance draws.
    assert abs(loss.logs["reward"].item() - 0.8) < 5 / math.sqrt(64)


def test_previous_round_penalty_adds_beta_times_the_gap():
    """With a_prev frozen at θ_0 and θ moved to θ_1: gradient α·θ_1 + β·(θ_1 - θ_0) - 1."""
    objective = _objective(alpha=0.5, beta=2.0, value=0.8, previous=True)
    objective.sampler.freeze_previous()
    theta = objective.sampler.controlled.correction.theta
    with torch.no_grad():
        theta.fill_(1.1)
    loss = objective.drift_loss(32, seed=0)
    loss.value.backward()
    assert theta.grad.item() == pytest.approx(0.5 * 1.1 + 2.0 * (1.1 - 0.8) - 1.0, abs=1e-12)
    assert loss.logs["kl_previous"].item() == pytest.approx(0.5 * 0.3**2, abs=1e-12)


def test_alpha_changes_between_steps_reach_the_loss():
    objective = _objective(alpha=0.5, value=0.8)
    objective.alpha = 2.0
    objective.drift_loss(8, seed=0).value.backward()
    assert objective.sampler.controlled.correction.theta.grad.item() == pytest.approx(2.0 * 0.8 - 1.0, abs=1e-12)


def test_value_regression_learns_the_conditional_reward():
    """Brownian prior from x_0 ~ N(0, 1), no control, r(x) = x: E[r(x_1) | x_0] = x_0."""
    torch.manual_seed(0)
    prior = BrownianPrior(1, c=1.0)
    law = LearnedInitialLaw((1,), hidden=16, steps=2)
    sampler = FineTunedSampler(prior, NetworkCorrection(hidden=4), law, steps=2, backend="direct", method="euler")
    objective = ElegantObjective(sampler, LinearReward([1.0]), alpha=1.0)
    optimizer = torch.optim.Adam(law.value.parameters(), lr=1e-2)
    for step in range(300):
        loss = objective.value_loss(256, seed=step)
        optimizer.zero_grad()
        loss.value.backward()
        optimizer.step()
    x0 = torch.linspace(-1.5, 1.5, 7)[:, None]
    # The running cost of the small random correction shifts the target by at most a few 0.01;
    # regression on 300 batches of 256 noisy (unit-variance) targets resolves the slope to ~0.05.
    assert torch.allclose(law.value_at(x0), x0.squeeze(1), atol=0.15)


def test_phase_dispatch_and_errors_are_named():
    objective = _objective()
    with pytest.raises(ValueError, match="phase must be one of"):
        objective("warmup", 4, 0)
    with pytest.raises(ValueError, match="need a sampler with an initial_law"):
        objective("value", 4, 0)
    with pytest.raises(ValueError, match="alpha must be non-negative, got -1"):
        _objective(alpha=-1.0)
    with pytest.raises(ValueError, match="beta=1.0 needs a sampler built with previous=True"):
        _objective(beta=1.0)


def _value_trained(prior, steps=200):
    torch.manual_seed(0)
    law = LearnedInitialLaw(prior.event_shape, hidden=16, steps=2)
    sampler = FineTunedSampler(prior, NetworkCorrection(hidden=4), law, steps=4, backend="direct", method="euler")
    objective = ElegantObjective(sampler, LinearReward([1.0] * prior.event_shape[0]), alpha=1.0)
    optimizer = torch.optim.Adam(law.value.parameters(), lr=1e-2)
    for step in range(steps):
        loss = objective.value_loss(128, seed=step)
        optimizer.zero_grad()
        loss.value.backward()
        optimizer.step()
    return objective


def test_value_skill_is_the_explained_share_when_the_end_remembers_the_start():
    """Brownian prior, x_0 ~ N(0, 1), r(x) = x: y = x_0 + W_1 (+ a tiny running cost), so the
    best held-out R² is Var(x_0)/Var(y) = 1/2, and the value is clearly useful."""
    skill = _value_trained(BrownianPrior(1, c=1.0)).value_skill(4000, seed=10**6)
    # R² on 4000 paths has a standard error of about 0.015; the fit of 200 steps may lose a little more.
    assert 0.42 < skill.r2 < 0.55 and skill.useful


def test_value_skill_is_nil_when_the_end_forgets_the_start():
    """A VP mixture prior run to t = 1 forgets x_0 (ᾱ(1) ≈ 5e-5), so E[r(x_T) | x_0] is constant:
    a value fitted to those targets predicts held-out paths no better than their mean."""
    prior = GaussianMixturePrior([0.5, 0.3, 0.2], [[-1.5, 0], [1.5, 0], [0, 2]], [0.5, 0.5, 0.5])
    skill = _value_trained(prior).value_skill(4000, seed=10**6)
    assert not skill.useful and skill.r2 < 0.02


def _clipped(clip, reward):
    prior = BrownianPrior(1, c=1.0, initial_std=1.0).double()
    sampler = FineTunedSampler(prior, ConstantControl(0.3), steps=4, backend="direct", method="euler")
    return ElegantObjective(sampler, reward, alpha=0.5, sensitivity_clip=clip)


def test_sensitivity_clip_leaves_the_loss_unbiased_when_no_path_stands_out():
    """A linear reward: ∂ℓ_i/∂x_0 = -1 on every path, so no weight is below 1 and the gradient is the exact α·θ - 1."""
    objective = _clipped(1.0, LinearReward([1.0]).double())
    loss = objective.drift_loss(64, seed=3)
    loss.value.backward()
    assert loss.logs["clipped"].item() == 0.0
    assert objective.sampler.controlled.correction.theta.grad.item() == pytest.approx(0.5 * 0.3 - 1.0, abs=1e-12)


def test_sensitivity_clip_bounds_each_paths_sensitivity_by_c_times_the_median():
    """r(x) = x³/3 under x_T = x_0 + θ + W_1: ν_i = x_T,i², so w_i = min(1, c·median(x_T²)/x_T,i²) exactly."""
    def cubic(x):
        return x[:, 0] ** 3 / 3

    clip = 2.0
    objective = _clipped(clip, cubic)
    loss = objective.drift_loss(256, seed=5)
    start_seed, noise_seed = derived_seeds(5, 2)
    with torch.no_grad():
        end = objective.sampler.solve(objective.sampler.start(256, start_seed), noise_seed).x[:, 0]
    nu = end.pow(2)
    weights = torch.clamp(clip * nu.median() / nu, max=1.0)
    expected = (weights * (0.5 * 0.5 * 0.3**2 - cubic(end[:, None]))).mean()
    assert loss.value.item() == pytest.approx(expected.item(), rel=1e-10)
    assert (weights * nu <= clip * nu.median() * (1 + 1e-12)).all()
    assert loss.logs["clipped"].item() == pytest.approx((weights < 1).double().mean().item())
    assert 0 < loss.logs["clipped"].item() < 0.5  # the median path is never clipped when c ≥ 1


@pytest.mark.parametrize("clip", [0.0, -1.0])
def test_sensitivity_clip_must_be_positive(clip):
    with pytest.raises(ValueError, match="sensitivity_clip must be positive"):
        _clipped(clip, LinearReward([1.0]).double())


def test_sensitivity_clip_needs_the_direct_backend():
    prior = BrownianPrior(1, c=1.0, initial_std=1.0).double()
    sampler = FineTunedSampler(prior, ConstantControl(0.3), steps=4, backend="truncated", method="euler", truncate=2)
    with pytest.raises(ValueError, match="sensitivity_clip needs the sampler's backend 'direct'.*'truncated'"):
        ElegantObjective(sampler, LinearReward([1.0]).double(), alpha=0.5, sensitivity_clip=1.0)
