"""The metrics under a real two-process gloo group equal one process's figures on the union of the shards."""

import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from rewardsde.analytic import GaussianMixture
from rewardsde.callbacks.diversity import Diversity
from rewardsde.callbacks.kl_to_prior import KLToPrior
from rewardsde.callbacks.overoptimization import RewardOveroptimization
from rewardsde.callbacks.target_distance import TargetDistanceMetric

SIZES = (7, 5)  # uneven shards: the gathered "cat" states must be padded and trimmed


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


def _worker(rank: int, port: int, directory) -> None:
    """Rank ``rank``'s figures for the uneven shards, and for all rows on rank 0 and none on rank 1."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        start, n = sum(SIZES[:rank]), sum(SIZES)
        reported = {"uneven": _results(start, start + SIZES[rank]), "one_empty": _results(rank * n, n)}
        torch.save(reported, directory / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_ranks_report_the_union_of_uneven_or_empty_shards(tmp_path):
    mp.spawn(_worker, args=(_free_port(), tmp_path), nprocs=2, join=True)
    union = _results(0, sum(SIZES))
    assert union["kl"]["non_finite"].item() == 2 and union["overoptimization"]["non_finite_genuine"].item() == 1
    for rank in range(2):
        for split, reported in torch.load(tmp_path / f"rank{rank}.pt").items():
            assert reported.keys() == union.keys()
            for name, expected in union.items():
                assert reported[name].keys() == expected.keys(), name
                for key, value in expected.items():
                    torch.testing.assert_close(
                        torch.as_tensor(reported[name][key]),
                        torch.as_tensor(value),
                        rtol=1e-10,
                        atol=1e-12,
                        msg=lambda m, where=f"rank {rank}, {split}, {name}/{key}": f"{where}: {m}",
                    )
