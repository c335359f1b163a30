"""The greedy reward model: the ensemble mean, with no optimism."""

import torch

from rewardsde.rewards import GreedyReward


def test_greedy_reward_is_the_ensemble_mean_and_recovers_a_linear_function():
    """Labels ``y = 2x₁ - x₂ + 0.5`` without noise: the greedy reward is the fitted function,
    within a tenth of the labels' standard deviation (√5 ≈ 2.2) inside the data's range."""
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    truth = lambda points: 2 * points[:, 0] - points[:, 1] + 0.5  # noqa: E731
    model = GreedyReward(heads=2, hidden=16, epochs=300, patience=300, lr=1e-2)
    model.fit(x, truth(x).double(), seed=0)
    queries = torch.rand(100, 2, generator=torch.Generator().manual_seed(1)) * 2 - 1
    torch.testing.assert_close(model(queries), model.mean(queries))
    error = (model(queries) - truth(queries)).pow(2).mean().sqrt()
    assert error < 0.1 * 5**0.5
