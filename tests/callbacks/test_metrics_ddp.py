"""The metrics under a real two-process gloo group equal one process's figures on the union of the shards."""

import torch

from rewardsde.analytic import GaussianMixture
from rewardsde.callbacks.diversity import Diversity
from rewardsde.callbacks.kl_to_prior import KLToPrior
from rewardsde.callbacks.overoptimization import RewardOveroptimization
from rewardsde.callbacks.target_distance import TargetDistanceMetric
from tests.helpers.two_ranks import SIZES, assert_ranks_match_the_union


def _data() -> dict[str, torch.Tensor]:
    """Every rank's rows, 12 in all; rank 0 has a NaN and rank 1 an inf in the per-path figures."""
    generator = torch.Generator().manual_seed(0)
    n = sum(SIZES)
    learned = torch.randint(0, 4, (n,), generator=generator).double()  # ties across the shards
    running, initial = torch.rand(n, generator=generator), torch.rand(n, generator=generator)
    running[2], initial[9] = float("nan"), float("inf")
    genuine = learned + torch.randn(n, generator=generator)
    learned[3], genuine[10] = float("inf"), float("nan")
    return {
        "x": torch.randn(n, 2, 3, generator=generator),
        "samples": torch.randn(n, 2, generator=generator),
        "running": running,
        "initial": initial,
        "learned": learned,
        "genuine": genuine,
    }


def _metrics() -> dict:
    target = GaussianMixture(
        torch.tensor([0.4, 0.6]), torch.tensor([[-1.0, 0.0], [1.0, 0.5]]), torch.eye(2).repeat(2, 1, 1)
    )
    return {
        "diversity_l2": Diversity(),
        "diversity_cosine": Diversity(distance="cosine"),
        "kl": KLToPrior(),
        "overoptimization": RewardOveroptimization(),
        "target": TargetDistanceMetric(target, seed=3),
    }


def _results(start: int, stop: int) -> dict:
    """Each metric fed rows ``start:stop`` of the data in two updates (none when empty), then computed."""
    data, metrics = _data(), _metrics()
    for part in (slice(start, start + 2), slice(start + 2, stop)) if stop > start else ():
        metrics["diversity_l2"].update(data["x"][part])
        metrics["diversity_cosine"].update(data["x"][part])
        metrics["kl"].update(data["running"][part], data["initial"][part])
        metrics["overoptimization"].update(data["learned"][part], data["genuine"][part])
        metrics["target"].update(data["samples"][part])
    return {name: metric.compute() for name, metric in metrics.items()}


def test_two_ranks_report_the_union_of_uneven_or_empty_shards(tmp_path):
    union = assert_ranks_match_the_union(_results, tmp_path)
    assert union["kl"]["non_finite"].item() == 2 and union["overoptimization"]["non_finite_genuine"].item() == 1
