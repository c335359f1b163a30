"""Thompson sampling: one posterior draw (one head) per fit."""

import pytest
import torch

from rewardsde.rewards import ThompsonReward
from tests.helpers.labels import quadratic_labels


def test_thompson_draws_have_the_ensembles_spread():
    """Each fit draws one head uniformly, so the drawn reward's squared deviation from the
    ensemble mean, ``d = mean_q (r_{h*}(q) - r̂(q))²``, has expectation the ensemble's
    variance ``v = mean_q var_h r_h(q)`` (over heads, uncorrected). Over 24 fits the mean of
    ``d/v`` is 1 within 5 standard errors of that mean (the sample std of ``d/v`` over √24)."""
    x, y = quadratic_labels()
    model = ThompsonReward(heads=4, hidden=8, epochs=15, patience=15)
    queries = torch.randn(32, 2, generator=torch.Generator().manual_seed(1))
    ratios, drawn = [], set()
    for seed in range(24):
        model.fit(x, y, seed=seed)
        values = model.per_head(queries)
        assert any(torch.equal(model(queries), head) for head in values), "the reward is one head"
        drawn.add(int(model.chosen))
        deviation = (model(queries) - values.mean(0)).pow(2).mean()
        ratios.append((deviation / values.var(0, correction=0).mean()).item())
    ratios = torch.tensor(ratios)
    assert abs(ratios.mean().item() - 1) < 5 * ratios.std().item() / len(ratios) ** 0.5
    assert len(drawn) > 1


def test_one_head_is_refused():
    with pytest.raises(ValueError, match="heads >= 2"):
        ThompsonReward(heads=1)
