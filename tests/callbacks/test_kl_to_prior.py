import math

import pytest
import torch

from rewardsde.callbacks.kl_to_prior import KLToPrior

KEYS = {"total", "total_stderr", "running", "initial", "non_finite"}


def _compute(*batches):
    metric = KLToPrior()
    for batch in batches:
        metric.update(*batch)
    return metric.compute()


def test_means_and_standard_error_by_hand():
    result = _compute((torch.tensor([1.0, 2.0, 6.0]), torch.tensor([0.0, 1.0, 2.0])))
    # Totals 1, 3, 8: mean 4, unbiased variance (9 + 1 + 16)/2 = 13, stderr √(13/3).
    assert result.keys() == KEYS
    assert result["total"].item() == pytest.approx(4.0)
    assert result["total_stderr"].item() == pytest.approx(math.sqrt(13 / 3))
    assert result["running"].item() == pytest.approx(3.0)
    assert result["initial"].item() == pytest.approx(1.0)
    assert result["non_finite"].item() == 0


def test_no_initial_cost_means_zero():
    result = _compute((torch.tensor([1.0, 3.0]),))
    assert result["total"].item() == result["running"].item() == 2.0
    assert result["initial"].item() == 0.0
    assert result["total_stderr"].item() == pytest.approx(1.0)  # variance 2, n = 2


def test_several_batches_equal_one():
    generator = torch.Generator().manual_seed(0)
    running, initial = torch.rand(13, generator=generator), torch.rand(13, generator=generator)
    parts = zip(running.split([5, 1, 7]), initial.split([5, 1, 7]))
    batched, whole = _compute(*parts), _compute((running, initial))
    for key in KEYS:
        torch.testing.assert_close(batched[key], whole[key], rtol=1e-12, atol=1e-12)
    total = running.double() + initial.double()
    assert whole["total_stderr"].item() == pytest.approx((total.std() / math.sqrt(13)).item(), rel=1e-10)


def test_non_finite_paths_are_counted_and_left_out():
    running = torch.tensor([1.0, float("inf"), 3.0, 2.0])
    initial = torch.tensor([0.0, 0.0, float("nan"), 1.0])
    result = _compute((running, initial))
    assert result["non_finite"].item() == 2
    assert result["total"].item() == pytest.approx(2.0)  # totals 1 and 3
    assert result["running"].item() == pytest.approx(1.5)
    assert result["initial"].item() == pytest.approx(0.5)


def test_undefined_figures_are_nan():
    one = _compute((torch.tensor([2.0]),))
    assert one["total"].item() == 2.0 and math.isnan(one["total_stderr"].item())
    none = _compute((torch.tensor([float("nan")]),))
    assert math.isnan(none["total"].item()) and none["non_finite"].item() == 1


def test_shape_errors():
    with pytest.raises(ValueError, match=r"\(4,\).*got \(3,\)"):
        KLToPrior().update(torch.zeros(4), torch.zeros(3))
    with pytest.raises(ValueError, match=r"got \(2, 2\)"):
        KLToPrior().update(torch.zeros(2, 2))
