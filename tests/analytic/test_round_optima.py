"""round_optima: the exact SEIKO round optima of any reward by reweighting prior draws."""

import math

import pytest
import torch

from rewardsde.analytic import GaussianMixture, ModeReward, round_optima

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]
HEIGHTS = [0.0, 1.0, 2.0]


def _draws(n):
    law = GaussianMixture(torch.tensor([0.6, 0.3, 0.1]), torch.tensor(MODES), 0.16 * torch.eye(2).expand(3, 2, 2))
    return law, law.sample(n, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("alpha, beta", [(0.5, 0.5), (1.0, 0.0), (0.3, 2.0)])
def test_a_region_constant_reward_reproduces_the_closed_form_optima(alpha, beta):
    reward = ModeReward(MODES, HEIGHTS, radius=1.0)
    law, x = _draws(200_000)
    values = reward(x).nan_to_num(-1.0)
    optima = round_optima(values.expand(3, -1), values, alpha, beta)
    exact = reward.round_optima(law, alpha, beta, rounds=3, infeasible_value=-1.0)
    # a self-normalised mean of a reward bounded in [-1, 2]: its standard error is at most 1.5/√ESS
    tolerance = 5 * 1.5 / optima.effective_size.min().sqrt()
    torch.testing.assert_close(optima.value, exact, atol=float(tolerance), rtol=0)
    assert float(tolerance) < 0.05  # tight against optima that differ by 0.1 or more between rounds


def test_changing_rewards_chain_through_the_previous_round():
    # r_1 = 0 leaves round 1 at the prior; with r_2 = r and β: φ_2 = r/(α+β), not r/α
    _, x = _draws(1000)
    r = torch.randn(1000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    optima = round_optima(torch.stack([torch.zeros_like(r), r]), r, alpha=0.5, beta=1.5)
    torch.testing.assert_close(optima.weights[0], torch.full_like(r, 1e-3))
    torch.testing.assert_close(optima.weights[1], torch.softmax(r / 2.0, 0))
    assert math.isclose(float(optima.effective_size[0]), 1000.0, rel_tol=1e-9)


def test_several_scored_functions_at_once():
    _, x = _draws(500)
    r = x[:, 0]
    both = round_optima(r[None], torch.stack([x[:, 0], x[:, 1]]), 1.0, 0.0)
    assert both.value.shape == (1, 2)
    torch.testing.assert_close(both.value[0, 1], round_optima(r[None], x[:, 1], 1.0, 0.0).value[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(rewards=torch.zeros(3)), "need rewards"),
    (dict(rewards=torch.tensor([[0.0, float("nan")]])), "finite"),
    (dict(alpha=0.0), "alpha > 0"),
    (dict(beta=-1.0), "beta >= 0"),
])
def test_bad_input_is_named(kwargs, message):
    args = dict(rewards=torch.zeros(1, 2), scored=torch.zeros(2), alpha=1.0, beta=0.0) | kwargs
    with pytest.raises(ValueError, match=message):
        round_optima(**args)
