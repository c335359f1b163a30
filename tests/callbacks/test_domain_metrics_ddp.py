"""The domain metrics under a real two-process gloo group equal one process's figures on the union of the shards."""

import torch

from rewardsde.callbacks.best_reward import BestReward
from rewardsde.callbacks.feasibility import FeasibilityRate
from rewardsde.callbacks.hamming import HammingDiversity
from rewardsde.callbacks.molecules import MoleculeMetrics
from rewardsde.domains import decode, one_hot
from tests.helpers.two_ranks import SIZES, assert_ranks_match_the_union

# 12 rows, 9 valid (rows 2, 5 and 9 are not), 6 distinct: ethanol three times (rows 0, 4, 8) and phenol
# twice (rows 1, 11) across the shards; 4 of the 6 are not in the training set
SMILES = ["CCO", "c1ccccc1O", "", "CC(=O)O", "OCC", "C1CC", "CCN", "c1ccncc1", "CCO", "", "CCCl", "Oc1ccccc1"]
TRAINING = ["CCO", "CCN"]


def _feasible(x: torch.Tensor) -> torch.Tensor:
    """A toy rule: the first token is even."""
    return decode(x)[:, 0] % 2 == 0


def _last_token(x: torch.Tensor) -> torch.Tensor:
    """A toy reward: the last token, as a float."""
    return decode(x)[:, -1].double()


def _results(start: int, stop: int) -> dict:
    """Each metric fed rows ``start:stop`` in two updates (none when empty), then computed."""
    sequences = one_hot(torch.randint(0, 5, (sum(SIZES), 7), generator=torch.Generator().manual_seed(0)), 5)
    metrics = {
        "best": BestReward(_last_token),
        "feasibility": FeasibilityRate(_feasible),
        "hamming": HammingDiversity(),
        "molecules": MoleculeMetrics(training_smiles=TRAINING, bits=256),
    }
    for part in (slice(start, start + 2), slice(start + 2, stop)) if stop > start else ():
        metrics["best"].update(sequences[part])
        metrics["feasibility"].update(sequences[part])
        metrics["hamming"].update(sequences[part])
        metrics["molecules"].update(SMILES[part])
    results = {name: metric.compute() for name, metric in metrics.items()}
    return {name: value if isinstance(value, dict) else {"value": value} for name, value in results.items()}


def test_two_ranks_report_the_union_of_uneven_or_empty_shards(tmp_path):
    molecules = assert_ranks_match_the_union(_results, tmp_path)["molecules"]
    assert (molecules["validity"].item(), molecules["uniqueness"].item(), molecules["novelty"].item()) == (9 / 12, 6 / 9, 4 / 6)
