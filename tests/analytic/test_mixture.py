import math

import pytest
import torch

from rewardsde.analytic import GaussianMixture, LinearReward, QuadraticReward


def _mixture():
    covariances = torch.stack([torch.tensor([[1.0, 0.3], [0.3, 0.5]]), 0.2 * torch.eye(2)])
    return GaussianMixture(torch.tensor([0.7, 0.3]), torch.tensor([[0.0, 1.0], [2.0, -1.0]]), covariances)


def test_moments_match_a_large_sample(generator):
    mixture = _mixture()
    n = 200_000
    x = mixture.sample(n, generator)
    assert torch.allclose(x.mean(0), mixture.mean(), atol=5 * math.sqrt(2.0 / n))
    assert torch.allclose(torch.cov(x.T), mixture.covariance(), atol=0.02)


def test_log_prob_integrates_to_one_on_a_grid():
    mixture = _mixture()
    axis = torch.linspace(-6, 8, 561, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    mass = mixture.log_prob(grid).exp().sum() * (axis[1] - axis[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("reward", [LinearReward([1.0, -0.5]), QuadraticReward([1.0, 0.0], [[1.0, 0.2], [0.2, 0.5]])])
def test_tilt_matches_importance_weighting(reward, generator):
    """The exact tilt against self-normalised importance weights exp(r/α) on prior draws."""
    mixture, alpha = _mixture(), 0.8
    target = mixture.tilted(reward, alpha)
    x = mixture.sample(400_000, generator)
    log_w = reward(x) / alpha
    weights = torch.softmax(log_w, 0)
    assert torch.allclose((weights[:, None] * x).sum(0), target.mean(), atol=0.02)
    assert target.log_normalizer.item() == pytest.approx((torch.logsumexp(log_w, 0) - math.log(len(x))).item(), abs=0.02)
    assert torch.allclose((weights[:, None] * target.responsibilities(x)).sum(0), target.weights, atol=0.01)


def test_kl_of_a_shifted_gaussian_is_closed_form():
    prior = GaussianMixture(torch.ones(1), torch.zeros(1, 1), 2.0 * torch.ones(1, 1, 1))
    target = prior.tilted(LinearReward([1.0]), 0.5)  # N(4, 2): KL = 4² / (2·2)
    assert target.mean().item() == pytest.approx(4.0)
    assert target.covariance().item() == pytest.approx(2.0)
    assert target.kl_to_prior().item() == pytest.approx(4.0)


def test_kl_matches_monte_carlo(generator):
    mixture, reward = _mixture(), QuadraticReward([1.0, 0.0], 0.7)
    target = mixture.tilted(reward, 1.3)
    x = target.sample(200_000, generator)
    estimate = (target.log_prob(x) - mixture.log_prob(x)).mean()
    assert target.kl_to_prior().item() == pytest.approx(estimate.item(), abs=0.01)


def test_expected_reward_matches_monte_carlo(generator):
    mixture, reward = _mixture(), QuadraticReward([1.0, 0.5], [[1.0, 0.2], [0.2, 0.5]])
    x = mixture.sample(200_000, generator)
    assert mixture.expected(reward).item() == pytest.approx(reward(x.float()).double().mean().item(), abs=0.02)


def test_non_integrable_tilt_is_refused():
    with pytest.raises(ValueError, match="not integrable"):
        _mixture().tilted(QuadraticReward([0.0, 0.0], -5.0), 1.0)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"need weights \(K,\)"):
        GaussianMixture(torch.ones(3), torch.zeros(2, 2), torch.eye(2).expand(2, 2, 2))
