"""SeikoRound: each round freezes the previous control, buys its batch once, and refits on every label."""

import pytest
import torch

from rewardsde import ElegantObjective, FineTunedSampler, NetworkCorrection, SeikoRound
from rewardsde.analytic import GaussianMixturePrior, LinearReward, ModeReward
from rewardsde.rewards import GreedyReward, Oracle

MODES = [[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5]]


def _round(budget=24, sizes=(8, 16), previous=True, reward=None):
    torch.manual_seed(0)
    prior = GaussianMixturePrior([0.6, 0.3, 0.1], MODES, [0.4, 0.4, 0.4])
    sampler = FineTunedSampler(prior, NetworkCorrection(hidden=8), steps=4, backend="direct", method="euler",
                               previous=previous)
    model = reward or GreedyReward(heads=2, hidden=8, epochs=30, patience=5)
    objective = ElegantObjective(sampler, model, alpha=0.5, beta=0.5 if previous else 0.0)
    oracle = Oracle(ModeReward(MODES, [0.0, 1.0, 2.0], 1.0), budget=budget)
    return SeikoRound(objective, oracle, list(sizes), seed=3)


def test_rounds_buy_their_batches_and_fit_on_every_label_so_far():
    seiko = _round()
    first = seiko.begin(0)
    assert first.queries == seiko.oracle.spent == 8 and first.x.shape == (8, 2)
    # Noise-free labels: exactly the genuine reward, infeasible at the oracle's -1.
    assert torch.equal(first.y, seiko.oracle.genuine(first.x)[0].to(first.y.dtype))
    second = seiko.begin(1)
    assert second.queries == 24 and seiko.oracle.calls == 24
    labelled, labels, _ = seiko.oracle.store.tensors()
    assert labelled.shape == (24, 2)
    # The model was refitted on all 24 labels: its label standardisation is theirs.
    assert seiko.model.label_mean.item() == pytest.approx(labels.mean().item(), rel=1e-6)


def test_beginning_a_round_freezes_the_current_control_as_the_previous():
    seiko = _round()
    controlled = seiko.objective.sampler.controlled
    with torch.no_grad():
        for p in controlled.correction.parameters():
            p.add_(0.1)
    seiko.begin(0)
    x, t = torch.randn(5, 2), torch.tensor(0.5)
    assert torch.equal(controlled.previous(t, x), controlled.correction(t, x)[1])


def test_same_seed_same_batch_and_a_repeat_costs_nothing():
    a, b = _round(), _round()
    assert torch.equal(a.begin(0).x, b.begin(0).x)
    spent = b.oracle.spent
    b.begin(0)  # the same batch again: every label is already stored
    assert b.oracle.spent == spent


@pytest.mark.parametrize("kwargs, message", [
    (dict(budget=6), r"oracle budget \(6\) is smaller than the first round \(8 queries\)"),
    (dict(budget=12), r"need 24 queries, more than the oracle budget \(12\)"),
    (dict(sizes=(1,)), "round_sizes must be a non-empty list of sizes >= 2"),
    (dict(reward=LinearReward([1.0, 0.0])), "a SEIKO round refits a RewardModel, not LinearReward"),
])
def test_bad_rounds_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _round(**kwargs)


def test_round_index_out_of_range_is_named():
    with pytest.raises(ValueError, match=r"round index must lie in \[0, 2\), got 2"):
        _round().begin(2)
