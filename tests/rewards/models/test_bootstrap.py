"""Bootstrap optimism: heads fitted on resamples, and their max or mean plus k std."""

import pytest
import torch

from rewardsde.rewards import BootstrapReward
from tests.helpers.labels import SETTINGS, quadratic_labels


def test_bootstrap_heads_differ_and_the_reward_is_their_max_or_mean_plus_k_std():
    x, y = quadratic_labels()
    top = BootstrapReward(**SETTINGS)
    top.fit(x, y, seed=0)
    queries = torch.randn(8, 2)
    values = top.per_head(queries)
    assert values.std(0).min() > 0
    torch.testing.assert_close(top(queries), values.max(0).values)
    spread = BootstrapReward(k=2.0, **SETTINGS)
    spread.fit(x, y, seed=0)
    values = spread.per_head(queries)
    torch.testing.assert_close(spread(queries), values.mean(0) + 2.0 * values.std(0, correction=0))


def test_one_head_is_refused():
    with pytest.raises(ValueError, match="heads >= 2"):
        BootstrapReward(heads=1)
