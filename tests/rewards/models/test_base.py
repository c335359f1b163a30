"""What every reward model shares: seeded refits, finite labels, heads built before use."""

import pytest
import torch

from rewardsde.rewards import GreedyReward
from tests.helpers.labels import SETTINGS, quadratic_labels


def test_refits_from_the_same_seed_are_identical_and_learn_the_labels():
    x, y = quadratic_labels()
    a, b = GreedyReward(**SETTINGS), GreedyReward(**SETTINGS)
    report = a.fit(x, y, seed=3)
    b.fit(x, y, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert report.holdout_error.max() < y.std()


def test_labels_must_be_finite():
    with pytest.raises(ValueError, match="finite labels"):
        GreedyReward(**SETTINGS).fit(torch.zeros(3, 2), torch.tensor([0.0, float("nan"), 1.0]), seed=0)


def test_a_model_without_heads_is_named():
    with pytest.raises(ValueError, match="GreedyReward has no heads yet"):
        GreedyReward(**SETTINGS).per_head(torch.zeros(3, 2))
