"""BonusCoverage: the share of feasible samples whose error the bonus covers, by hand."""

import math

import pytest
import torch

from rewardsde.callbacks import BonusCoverage


def test_coverage_counts_feasible_samples_whose_error_is_within_the_bonus():
    metric = BonusCoverage()
    mean = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    bonus = torch.tensor([0.5, 0.1, 1.0, 0.0, 9.0])
    genuine = torch.tensor([1.4, 2.5, 2.0, 4.0, 0.0])
    feasible = torch.tensor([True, True, True, True, False])  # the last would be covered but has no value
    metric.update(mean[:2], bonus[:2], genuine[:2], feasible[:2])
    metric.update(mean[2:], bonus[2:], genuine[2:], feasible[2:])
    # |error| = 0.4 ≤ 0.5 yes, 0.5 ≤ 0.1 no, 1.0 ≤ 1.0 yes, 0 ≤ 0 yes: 3 of 4 feasible.
    result = metric.compute()
    assert result["coverage"].item() == 0.75
    assert result["bonus"].item() == pytest.approx((0.5 + 0.1 + 1.0 + 0.0) / 4)


def test_no_feasible_sample_gives_nan_and_mismatched_shapes_are_named():
    metric = BonusCoverage()
    metric.update(torch.ones(2), torch.ones(2), torch.ones(2), torch.zeros(2, dtype=torch.bool))
    assert math.isnan(metric.compute()["coverage"].item())
    with pytest.raises(ValueError, match="must share one shape"):
        metric.update(torch.ones(2), torch.ones(3), torch.ones(2), torch.ones(2))
