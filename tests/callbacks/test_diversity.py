import math

import numpy as np
import pytest
import torch

from rewardsde.callbacks.diversity import Diversity

TRIANGLE = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])  # pairwise distances 3, 4, 5


def _compute(x, **kwargs):
    metric = Diversity(**kwargs)
    metric.update(x)
    return metric.compute()


def _vendi(kernel):
    eigenvalues = np.linalg.eigvalsh(np.asarray(kernel, dtype=np.float64) / len(kernel))
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return math.exp(-(eigenvalues * np.log(eigenvalues)).sum())


def test_l2_mean_distance_and_median_bandwidth_vendi_of_a_triangle():
    result = _compute(TRIANGLE)
    assert result["mean_distance"].item() == pytest.approx(4.0, abs=1e-12)
    squared = np.array([[0, 9, 16], [9, 0, 25], [16, 25, 0]], dtype=np.float64)
    h = 4.0  # median of 3, 4, 5
    assert result["vendi"].item() == pytest.approx(_vendi(np.exp(-squared / (2 * h**2))), abs=1e-12)


def test_cosine_mean_distance_by_hand():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])  # cosines 0, 1/√2, 1/√2
    result = _compute(x, distance="cosine")
    assert result["mean_distance"].item() == pytest.approx((3 - math.sqrt(2)) / 3, abs=1e-12)
    kernel = [[1, 0, 2**-0.5], [0, 1, 2**-0.5], [2**-0.5, 2**-0.5, 1]]
    assert result["vendi"].item() == pytest.approx(_vendi(kernel), abs=1e-12)


@pytest.mark.parametrize("distance", ["l2", "cosine"])
def test_identical_points_have_vendi_one_and_no_spread(distance):
    result = _compute(torch.tensor([[1.0, 2.0, 3.0]]).repeat(5, 1), distance=distance)
    assert result["vendi"].item() == pytest.approx(1.0, abs=1e-12)
    assert result["mean_distance"].item() == pytest.approx(0.0, abs=1e-12)


def test_orthogonal_unit_vectors():
    n = 4
    assert _compute(torch.eye(n), distance="cosine")["vendi"].item() == pytest.approx(n, abs=1e-10)
    # L2: all distances √2 = h, so K = (1 - c)I + c·11ᵀ with c = e^{-1/2};
    # eigenvalues of K/n: (1 + (n-1)c)/n once and (1 - c)/n n-1 times.
    c = math.exp(-0.5)
    lam = np.array([(1 + (n - 1) * c) / n] + [(1 - c) / n] * (n - 1))
    result = _compute(torch.eye(n))
    assert result["vendi"].item() == pytest.approx(math.exp(-(lam * np.log(lam)).sum()), abs=1e-12)
    assert result["mean_distance"].item() == pytest.approx(math.sqrt(2), abs=1e-12)


def test_zero_median_distance_uses_the_indicator_kernel():
    # Distances 0, 0, 0, 1, 1, 1: lower median 0, K = 1[x_i = x_j], eigenvalues of K/n: 3/4 and 1/4.
    result = _compute(torch.tensor([[0.0], [0.0], [0.0], [1.0]]))
    assert result["vendi"].item() == pytest.approx(math.exp(-(0.75 * math.log(0.75) + 0.25 * math.log(0.25))))
    assert result["mean_distance"].item() == pytest.approx(0.5)


@pytest.mark.parametrize("distance", ["l2", "cosine"])
def test_several_batches_equal_one(distance):
    x = torch.randn(11, 3, 2, generator=torch.Generator().manual_seed(0))
    metric = Diversity(distance=distance)
    for part in x.split([4, 1, 6]):
        metric.update(part)
    batched, whole = metric.compute(), _compute(x, distance=distance)
    assert batched.keys() == whole.keys() == {"mean_distance", "vendi"}
    for key in whole:
        torch.testing.assert_close(batched[key], whole[key], rtol=1e-12, atol=1e-12)


def test_features_are_applied_before_measuring():
    x = torch.tensor([[0.0, 5.0], [3.0, -1.0], [6.0, 2.0]])
    result = _compute(x, features=lambda batch: batch[:, :1])  # first coordinates 0, 3, 6
    assert result["mean_distance"].item() == pytest.approx(4.0)


def test_errors():
    with pytest.raises(ValueError, match="'manhattan'"):
        Diversity(distance="manhattan")
    with pytest.raises(ValueError, match=r"got shape \(3,\)"):
        Diversity(features=lambda batch: batch.sum(1)).update(TRIANGLE)
    with pytest.raises(ValueError, match=r"got shape \(1, 2\)"):
        Diversity(features=lambda batch: batch[:1]).update(TRIANGLE)
    mixed = Diversity()
    mixed.update(TRIANGLE)
    with pytest.raises(ValueError, match="width 3 after features of width 2"):
        mixed.update(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="zero feature"):
        Diversity(distance="cosine").update(torch.zeros(2, 3))
    single = Diversity()
    single.update(TRIANGLE[:1])
    with pytest.raises(ValueError, match="at least 2 samples, got 1"):
        single.compute()
