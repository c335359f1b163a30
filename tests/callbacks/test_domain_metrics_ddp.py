"""The domain metrics under a real two-process gloo group equal one process's figures on the union of the shards."""

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from test_metrics_ddp import SIZES, _free_port

from rewardsde.callbacks.feasibility import FeasibilityRate
from rewardsde.callbacks.hamming import HammingDiversity
from rewardsde.callbacks.molecules import MoleculeMetrics
from rewardsde.domains import decode, one_hot

# 12 rows, 9 valid (rows 2, 5 and 9 are not), 6 distinct: ethanol three times (rows 0, 4, 8) and phenol
# twice (rows 1, 11) across the shards; 4 of the 6 are not in the training set
SMILES = ["CCO", "c1ccccc1O", "", "CC(=O)O", "OCC", "C1CC", "CCN", "c1ccncc1", "CCO", "", "CCCl", "Oc1ccccc1"]
TRAINING = ["CCO", "CCN"]


def _feasible(x: torch.Tensor) -> torch.Tensor:
    """A toy rule: the first token is even."""
    return decode(x)[:, 0] % 2 == 0


def _results(start: int, stop: int) -> dict:
    """Each metric fed rows ``start:stop`` in two updates (none when empty), then computed."""
    sequences = one_hot(torch.randint(0, 5, (sum(SIZES), 7), generator=torch.Generator().manual_seed(0)), 5)
    metrics = {
        "feasibility": FeasibilityRate(_feasible),
        "hamming": HammingDiversity(),
        "molecules": MoleculeMetrics(training_smiles=TRAINING, bits=256),
    }
    for part in (slice(start, start + 2), slice(start + 2, stop)) if stop > start else ():
        metrics["feasibility"].update(sequences[part])
        metrics["hamming"].update(sequences[part])
        metrics["molecules"].update(SMILES[part])
    return {name: metric.compute() for name, metric in metrics.items()}


def _worker(rank: int, port: int, directory) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        start, n = sum(SIZES[:rank]), sum(SIZES)
        reported = {"uneven": _results(start, start + SIZES[rank]), "one_empty": _results(rank * n, n)}
        torch.save(reported, directory / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_two_ranks_report_the_union_of_uneven_or_empty_shards(tmp_path):
    mp.spawn(_worker, args=(_free_port(), tmp_path), nprocs=2, join=True)
    union = _results(0, sum(SIZES))
    molecules = union["molecules"]
    assert (molecules["validity"].item(), molecules["uniqueness"].item(), molecules["novelty"].item()) == (9 / 12, 6 / 9, 4 / 6)
    for rank in range(2):
        for split, reported in torch.load(tmp_path / f"rank{rank}.pt").items():
            for name, expected in union.items():
                got = reported[name]
                expected, got = (expected, got) if isinstance(expected, dict) else ({"": expected}, {"": got})
                assert got.keys() == expected.keys(), name
                for key, value in expected.items():
                    torch.testing.assert_close(
                        torch.as_tensor(got[key]).double(), torch.as_tensor(value).double(), rtol=1e-10, atol=1e-12,
                        msg=lambda m, where=f"rank {rank}, {split}, {name}/{key}": f"{where}: {m}",
                    )
