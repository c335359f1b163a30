"""The reward protocol is structural (any callable ``x -> (batch,)``), and its checks name what is wrong."""

import pytest
import torch
from torch import nn

from rewardsde.rewards import Reward, evaluate_reward


def test_functions_and_modules_are_rewards_and_tensors_are_not():
    assert isinstance(lambda x: x.sum(1), Reward)
    assert isinstance(nn.Linear(2, 1), Reward)
    assert not isinstance(torch.zeros(2), Reward)


def test_a_reward_is_returned_unchanged_when_it_is_well_formed():
    x = torch.arange(6.0).reshape(3, 2)
    assert evaluate_reward(lambda x: x.sum(1), x).tolist() == [1.0, 5.0, 9.0]


@pytest.mark.parametrize(
    ("reward", "message"),
    [
        (lambda x: x, r"shape \(3,\) for this batch, got \(3, 2\)"),
        (lambda x: x.sum(1) + torch.tensor([0.0, float("nan"), float("inf")]), r"2 non-finite value\(s\)"),
        (lambda x: x.detach().sum(1), "not differentiable in x, but ELEGANT"),
    ],
)
def test_bad_rewards_are_named(reward, message):
    x = torch.ones(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match=message):
        evaluate_reward(reward, x, gradient_for="ELEGANT")
