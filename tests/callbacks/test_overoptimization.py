import math

import pytest
import torch

from rewardsde.callbacks.overoptimization import RewardOveroptimization, average_ranks

KEYS = {"learned", "genuine", "gap", "spearman", "non_finite_learned", "non_finite_genuine"}


def _compute(*batches):
    metric = RewardOveroptimization()
    for batch in batches:
        metric.update(*batch)
    return metric.compute()


def test_average_ranks_share_tied_positions():
    ranks = average_ranks(torch.tensor([3.0, 1.0, 2.0, 2.0, 5.0, 1.0]))
    assert ranks.tolist() == [5.0, 1.5, 3.5, 3.5, 6.0, 1.5]


def test_means_gap_and_spearman_of_monotone_transforms():
    genuine = torch.tensor([0.3, -1.0, 2.0, 0.1, 1.5])
    result = _compute((genuine.exp(), genuine))
    assert result.keys() == KEYS
    assert result["spearman"].item() == pytest.approx(1.0)
    assert result["learned"].item() == pytest.approx(genuine.exp().mean().item())
    assert result["genuine"].item() == pytest.approx(0.58)
    assert result["gap"].item() == pytest.approx(genuine.exp().mean().item() - 0.58)
    assert _compute((-(genuine**3), genuine))["spearman"].item() == pytest.approx(-1.0)


def test_spearman_with_ties_by_hand():
    # Ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4): centred products sum 4.5, squares 4.5 and 5.
    result = _compute((torch.tensor([1.0, 2.0, 2.0, 3.0]), torch.tensor([1.0, 3.0, 2.0, 4.0])))
    assert result["spearman"].item() == pytest.approx(4.5 / math.sqrt(4.5 * 5), abs=1e-12)


def test_spearman_without_ties_matches_the_rank_difference_formula():
    generator = torch.Generator().manual_seed(0)
    learned, genuine = torch.randn(30, generator=generator), torch.randn(30, generator=generator)
    d = average_ranks(learned) - average_ranks(genuine)
    expected = 1 - 6 * d.pow(2).sum().item() / (30 * (30**2 - 1))
    assert _compute((learned, genuine))["spearman"].item() == pytest.approx(expected, abs=1e-12)


def test_several_batches_equal_one():
    generator = torch.Generator().manual_seed(1)
    learned = torch.randint(0, 5, (17,), generator=generator).float()  # many ties
    genuine = learned + torch.randn(17, generator=generator)
    parts = zip(learned.split([6, 1, 10]), genuine.split([6, 1, 10]))
    batched, whole = _compute(*parts), _compute((learned, genuine))
    for key in KEYS:
        torch.testing.assert_close(batched[key], whole[key], rtol=1e-12, atol=1e-12)


def test_non_finite_pairs_are_dropped_and_counted():
    learned = torch.tensor([1.0, float("inf"), 3.0, float("nan"), 5.0])
    genuine = torch.tensor([2.0, 1.0, float("nan"), float("-inf"), 6.0])
    result = _compute((learned, genuine))
    assert result["non_finite_learned"].item() == 2
    assert result["non_finite_genuine"].item() == 2
    assert result["learned"].item() == 3.0 and result["genuine"].item() == 4.0  # pairs (1, 2), (5, 6)
    assert result["spearman"].item() == pytest.approx(1.0)


def test_mismatched_rewards_are_refused():
    with pytest.raises(ValueError, match=r"got \(4,\) and \(3,\)"):
        RewardOveroptimization().update(torch.zeros(4), torch.zeros(3))
    with pytest.raises(ValueError, match=r"got \(2, 2\) and \(2, 2\)"):
        RewardOveroptimization().update(torch.zeros(2, 2), torch.zeros(2, 2))
