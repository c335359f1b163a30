"""Bootstrap, Thompson and greedy reward models: what each makes optimistic."""

import pytest
import torch

from rewardsde.rewards import BootstrapReward, GreedyReward, ThompsonReward

SETTINGS = dict(heads=4, hidden=16, epochs=60, patience=60)


def _data(n=40):
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    return x, (x[:, 0] ** 2).double()


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


def test_refits_from_the_same_seed_are_identical_and_learn_the_labels():
    x, y = _data()
    a, b = GreedyReward(**SETTINGS), GreedyReward(**SETTINGS)
    report = a.fit(x, y, seed=3)
    b.fit(x, y, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    assert report.holdout_error.max() < y.std()


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


def test_thompson_draws_have_the_ensembles_spread():
    """Each fit draws one head uniformly, so the drawn reward's squared deviation from the
    ensemble mean, ``d = mean_q (r_{h*}(q) - r̂(q))²``, has expectation the ensemble's
    variance ``v = mean_q var_h r_h(q)`` (over heads, uncorrected). Over 24 fits the mean of
    ``d/v`` is 1 within 5 standard errors of that mean (the sample std of ``d/v`` over √24)."""
    x, y = _data()
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


@pytest.mark.parametrize("cls", [BootstrapReward, ThompsonReward])
def test_one_head_is_refused_where_heads_must_disagree(cls):
    with pytest.raises(ValueError, match="heads >= 2"):
        cls(heads=1)


def test_labels_must_be_finite():
    with pytest.raises(ValueError, match="finite labels"):
        GreedyReward(**SETTINGS).fit(torch.zeros(3, 2), torch.tensor([0.0, float("nan"), 1.0]), seed=0)
