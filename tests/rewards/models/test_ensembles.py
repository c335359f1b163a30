"""Bootstrap, Thompson and greedy reward models: what each makes optimistic."""

import pytest
import torch

from rewardsde.rewards import BootstrapReward, GreedyReward, ThompsonReward

SETTINGS = dict(heads=4, hidden=16, epochs=60, patience=60)


def _data(n=40):
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    return x, (x[:, 0] ** 2).double()


def test_greedy_is_the_ensemble_mean_with_no_bonus():
    x, y = _data()
    model = GreedyReward(**SETTINGS)
    model.fit(x, y, seed=0)
    queries = torch.randn(6, 2)
    assert torch.equal(model.bonus(queries), torch.zeros(6))
    torch.testing.assert_close(model(queries), model.per_head(queries).mean(0))


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


def test_thompson_optimises_one_drawn_head_per_fit():
    x, y = _data()
    model = ThompsonReward(**SETTINGS)
    drawn = set()
    queries = torch.randn(5, 2)
    for seed in range(6):
        model.fit(x, y, seed=seed)
        drawn.add(int(model.chosen))
        torch.testing.assert_close(model(queries), model.per_head(queries)[model.chosen])
        torch.testing.assert_close(model(queries), model.mean(queries) + model.bonus(queries))
    assert len(drawn) > 1


@pytest.mark.parametrize("cls", [BootstrapReward, ThompsonReward])
def test_one_head_is_refused_where_heads_must_disagree(cls):
    with pytest.raises(ValueError, match="heads >= 2"):
        cls(heads=1)


def test_labels_must_be_finite():
    with pytest.raises(ValueError, match="finite labels"):
        GreedyReward(**SETTINGS).fit(torch.zeros(3, 2), torch.tensor([0.0, float("nan"), 1.0]), seed=0)
