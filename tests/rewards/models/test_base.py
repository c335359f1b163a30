"""What every reward model shares: seeded refits, finite labels, heads built before use, the warm start."""

import math

import pytest
import torch

from rewardsde.rewards import BootstrapReward, GreedyReward, ThompsonReward
from rewardsde.rewards.models import base
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


def test_a_warm_refit_starts_from_the_last_fit_predictions():
    """With the learning rate 0 a warm refit cannot move, so on twice as many labels of another mean and
    spread it predicts exactly what the last fit did: the output layer was mapped to the new
    standardisation. A cold refit starts afresh and does not."""
    x, y = quadratic_labels(80)
    y = y + 5.0 * (torch.arange(80) >= 40)  # the second half shifts the mean and the spread
    warm = GreedyReward(**SETTINGS, warm_start=True)
    warm.fit(x[:40], y[:40], seed=0)
    before = warm.mean(x)
    warm.settings["lr"] = 0.0
    warm.fit(x, y, seed=1)
    assert torch.allclose(warm.mean(x), before, atol=1e-5)
    cold = GreedyReward(**SETTINGS)
    cold.fit(x[:40], y[:40], seed=0)
    cold.settings["lr"] = 0.0
    cold.fit(x, y, seed=1)
    assert not torch.allclose(cold.mean(x), before, atol=1e-2)


def test_the_warm_split_follows_the_designs_not_their_order():
    """A design is held out or not whatever the order and whatever other labels came with it, and about
    the fraction ``holdout`` of 4,000 designs is (within 5 binomial standard errors)."""
    x = torch.randn(4000, 2, generator=torch.Generator().manual_seed(0))
    model = GreedyReward(**SETTINGS, holdout=0.2, warm_start=True)
    held = model.held_out(x)
    order = torch.randperm(4000, generator=torch.Generator().manual_seed(1))
    assert torch.equal(model.held_out(x[order]), held[order])
    assert torch.equal(model.held_out(x[:100]), held[:100])
    assert abs(held.double().mean().item() - 0.2) < 5 * math.sqrt(0.2 * 0.8 / 4000)
    two = model.held_out(x[:2])
    assert two.sum() == 1


def test_a_warm_model_learns_and_resumes_from_its_state():
    """Two warm fits learn the labels; a new warm model that loads the state continues the same fit."""
    x, y = quadratic_labels(80)
    a = GreedyReward(**SETTINGS, warm_start=True)
    a.fit(x[:40], y[:40], seed=0)
    b = GreedyReward(**SETTINGS, warm_start=True)
    b.build((2,))
    b.load_state_dict(a.state_dict())
    assert a.fit(x, y, seed=1).holdout_error.max() < y.std()
    b.fit(x, y, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_warm_fit_holds_out_the_hashed_designs(monkeypatch):
    """The split given to the fit is the designs' hash split, in the first fit and in the continued one."""
    seen = []
    real = base.fit_heads

    def spy(*args, held=None, **kwargs):
        seen.append(held)
        return real(*args, held=held, **kwargs)

    monkeypatch.setattr(base, "fit_heads", spy)
    x, y = quadratic_labels(80)
    model = GreedyReward(**SETTINGS, warm_start=True)
    model.fit(x[:40], y[:40], seed=0)
    model.fit(x, y, seed=1)
    assert torch.equal(seen[0], model.held_out(x[:40])) and torch.equal(seen[1], model.held_out(x))
    assert torch.equal(seen[1][:40], seen[0])


@pytest.mark.parametrize("kind", [BootstrapReward, ThompsonReward])
def test_the_bootstrap_models_refuse_a_warm_start(kind):
    with pytest.raises(ValueError, match=f"warm_start=True would let every head of a {kind.__name__}"):
        kind(**SETTINGS, warm_start=True)
