"""ModeReward: defined on the modes only; exact region masses and per-round optima."""

import math

import pytest
import torch

from rewardsde.analytic import GaussianMixture, ModeReward

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]


def _law():
    return GaussianMixture(torch.tensor([0.6, 0.3, 0.1]), torch.tensor(MODES), 0.16 * torch.eye(2).expand(3, 2, 2))


def test_reward_is_the_height_on_each_ball_and_nan_elsewhere():
    reward = ModeReward(MODES, [0.0, 1.0, 2.0], radius=1.0)
    x = torch.tensor([[-2.5, 0.0], [2.0, 0.9], [0.0, 3.4], [0.0, 0.0], [5.0, 5.0]])
    value = reward(x)
    assert value[:3].tolist() == [0.0, 1.0, 2.0]
    assert value[3:].isnan().all()


def test_region_masses_match_the_closed_form_and_monte_carlo():
    reward = ModeReward(MODES, [0.0, 1.0, 2.0], radius=1.0)
    law = _law()
    masses = reward.region_masses(law)
    own = 1 - math.exp(-1.0 / (2 * 0.16))
    torch.testing.assert_close(masses, torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64) * own, atol=1e-6, rtol=0)
    x = law.sample(200_000, torch.Generator().manual_seed(0))
    inside = torch.stack([(reward(x) == h).double().mean() for h in (0.0, 1.0, 2.0)])
    torch.testing.assert_close(inside, masses, atol=3e-3, rtol=0)


def test_round_optima_follow_the_geometric_mixing_and_approach_the_alpha_tilt():
    reward = ModeReward(MODES, [0.0, 1.0, 2.0], radius=1.0)
    law = _law()
    one_round = reward.round_optima(law, alpha=0.5, beta=0.0, rounds=1, infeasible_value=-1.0)
    masses = torch.cat([reward.region_masses(law), torch.zeros(1, dtype=torch.float64)])
    masses[-1] = 1 - masses.sum()
    values = torch.tensor([0.0, 1.0, 2.0, -1.0], dtype=torch.float64)
    weights = masses * torch.exp(values / 0.5)
    torch.testing.assert_close(one_round[0], (weights @ values) / weights.sum())
    many = reward.round_optima(law, alpha=0.5, beta=0.5, rounds=40, infeasible_value=-1.0)
    assert (many.diff() > 0).all()
    torch.testing.assert_close(many[-1], one_round[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(radius=2.5), "overlap"),
    (dict(radius=0.0), "radius must be positive"),
    (dict(heights=[0.0, 1.0]), "need centers"),
])
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModeReward(**({"centers": MODES, "heights": [0.0, 1.0, 2.0]} | kwargs))


def test_regions_name_the_ball_or_the_infeasible_rest():
    reward = ModeReward(MODES, [0.0, 1.0, 2.0], radius=1.0)
    x = torch.tensor([[-2.5, 0.0], [2.0, 0.9], [0.0, 3.4], [0.0, 0.0], [5.0, 5.0]])
    assert reward.regions(x).tolist() == [0, 1, 2, 3, 3]
