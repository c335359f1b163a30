"""Run a metric computation on two gloo ranks and compare it with one process on the union."""

import socket
from typing import Callable

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

SIZES = (7, 5)  # uneven shards: the gathered "cat" states must be padded and trimmed

Results = Callable[[int, int], dict]


def _worker(rank: int, port: int, directory, results: Results) -> None:
    """Rank ``rank``'s figures for the uneven shards, and for all rows on rank 0 and none on rank 1."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        start, n = sum(SIZES[:rank]), sum(SIZES)
        reported = {"uneven": results(start, start + SIZES[rank]), "one_empty": results(rank * n, n)}
        torch.save(reported, directory / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_ranks_match_the_union(results: Results, directory) -> dict:
    """Spawn two ranks that each call ``results(start, stop)`` on their shards, check that every
    figure they report equals ``results`` on all rows in one process, and return the latter.

    ``results`` must be a module-level function (it is pickled by name) returning
    ``{metric name: {figure: tensor}}``.
    """
    mp.spawn(_worker, args=(_free_port(), directory, results), nprocs=2, join=True)
    union = results(0, sum(SIZES))
    for rank in range(2):
        for split, reported in torch.load(directory / f"rank{rank}.pt").items():
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
    return union
