"""Bootstrap optimism: heads fitted on resamples, and their max or mean plus k std."""

import pytest
import torch

from rewardsde.rewards import BootstrapReward

SETTINGS = dict(heads=4, hidden=16, epochs=60, patience=60)


def _data(n=40):
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    return x, (x[:, 0] ** 2).double()


def test_bootstrap_heads_differ_and_the_reward_is_their_max_or_mean_plus_k_std():
    x, y = _data()
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
