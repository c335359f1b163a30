import math
from dataclasses import asdict

import pytest
import torch

from rewardsde.analytic import GaussianMixture, target_distance
from rewardsde.callbacks.target_distance import TargetDistanceMetric


def _standard_normal(dim=2):
    return GaussianMixture(torch.ones(1), torch.zeros(1, dim), torch.eye(dim)[None])


def _two_modes():
    return GaussianMixture(
        torch.tensor([0.3, 0.7]), torch.tensor([[-2.0, 0.0], [2.0, 1.0]]), 0.5 * torch.eye(2).repeat(2, 1, 1)
    )


def test_moment_errors_by_hand_and_no_weight_tv_for_one_component():
    metric = TargetDistanceMetric(_standard_normal())
    metric.update(torch.tensor([[1.0, 0.0], [3.0, 0.0]]))
    result = metric.compute()
    assert not any(key.startswith("weight_tv") for key in result)
    assert result["mean_error"] == pytest.approx(2.0)  # ‖(2, 0)‖
    assert result["covariance_error"] == pytest.approx(math.sqrt(2))  # ‖diag(2, 0) - I‖_F


def test_batches_of_any_shape_equal_the_wrapped_function_on_all_samples():
    target = _two_modes()
    samples = target.sample(40, torch.Generator().manual_seed(3))
    metric = TargetDistanceMetric(target, seed=7)
    metric.update(samples[:15].float().reshape(15, 1, 2))
    metric.update(samples[15:])
    result = metric.compute()
    seen = torch.cat([samples[:15].float().double(), samples[15:]])
    expected = asdict(target_distance(seen, target, seed=7))
    assert result.keys() == expected.keys() and "weight_tv" in result
    for key, value in expected.items():
        assert isinstance(result[key], float)
        assert result[key] == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="hold 3 numbers.*dimension 2"):
        TargetDistanceMetric(_standard_normal()).update(torch.zeros(4, 3))
    metric = TargetDistanceMetric(_standard_normal())
    metric.update(torch.zeros(1, 2))
    with pytest.raises(ValueError, match="at least 2 samples, got 1"):
        metric.compute()
