"""How good a saved sequence model's samples are, at the solver steps that fine-tuning and evaluation use.

    .venv/bin/python benchmarks/sequence_quality.py pretrained/ehrlich [--steps 20 50] [--samples 512]

For a model pretrained on an Ehrlich instance: the feasibility rate, the mean and
best genuine value (0 when infeasible) and the mean pairwise Hamming distance. For a
model pretrained on MOSES SELFIES: validity, uniqueness, novelty (against the
pretraining subset), Tanimoto diversity, mean QED and SA. One row per number of
midpoint steps, with the sampling time; :mod:`domains` uses the same rows.
"""

from __future__ import annotations

import argparse
import time

import torch
from _common import markdown_table

from rewardsde import sample_reference
from rewardsde.callbacks import EhrlichFeasibility, HammingDiversity, MosesMetrics
from rewardsde.domains import GenuineReward, SequenceSDE, read_domain

EHRLICH_HEADER = ["feasible", "mean f", "best f", "Hamming"]
MOSES_KEYS = ["validity", "uniqueness", "novelty", "diversity", "qed", "sa"]
MOSES_HEADER = [*MOSES_KEYS[:4], "mean QED", "mean SA"]


def ehrlich_row(path: str, x: torch.Tensor) -> list[float]:
    """Feasibility, mean and best genuine value, Hamming diversity of one-hot samples ``x`` ``(n, states, length)``."""
    feasibility, hamming = EhrlichFeasibility(path), HammingDiversity()
    feasibility.update(x)
    hamming.update(x)
    values = GenuineReward(path)(x)
    return [feasibility.compute().item(), values.mean().item(), values.max().item(), hamming.compute().item()]


def moses_row(path: str, x: torch.Tensor) -> list[float]:
    """The :data:`MOSES_KEYS` of one-hot SELFIES samples ``x`` ``(n, states, length)``."""
    metrics = MosesMetrics(path)
    metrics.update(x)
    values = metrics.compute()
    return [values[key].item() for key in MOSES_KEYS]


def quality(path: str, samples: int, steps: list[int], seed: int = 0) -> str:
    """The table of the model at ``path``: one row per number of solver steps."""
    domain = read_domain(path).domain
    row, header = (ehrlich_row, EHRLICH_HEADER) if domain == "ehrlich" else (moses_row, MOSES_HEADER)
    sde, rows = SequenceSDE(path), []
    for n in steps:
        start = time.perf_counter()
        x = sample_reference(sde, samples, steps=n, seed=seed)
        rows.append([n, *row(path, x), time.perf_counter() - start])
    return markdown_table(["steps", *header, "seconds"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a directory written by SequenceEps.save_pretrained")
    parser.add_argument("--steps", type=int, nargs="+", default=[20, 50], help="midpoint steps")
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(quality(args.path, args.samples, args.steps, args.seed))


if __name__ == "__main__":
    main()
