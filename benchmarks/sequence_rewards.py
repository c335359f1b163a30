"""How well learned rewards rank sequences: held-out Spearman correlation with the genuine Ehrlich value.

On the instance of ``configs/pretrain_ehrlich.yaml``, Ehrlich(num_states=20, dim=32,
num_motifs=2, motif_length=4, random_seed=0), built as :class:`EhrlichDataModule`
builds it, each reward model is fitted (as a :class:`GreedyReward`, the ensemble
mean) to ``n`` labelled sequences and scored by the Spearman correlation of its
prediction with the genuine value on a separate held-out sample. Two kinds of data:

* ``dmp``: fresh samples of the instance's Markov process (all feasible), training
  and held-out alike;
* ``mix``: half fresh DMP samples, half DMP samples with 1 to 4 tokens redrawn
  uniformly at random, so that infeasible (value 0) and damaged motifs appear.

Models: ``mlp``, today's ensemble (4 MLPs of width 64 and depth 2 on the flattened
one-hot code, full-batch Adam, the defaults of :class:`RewardModel`), and ``cnn``,
4 dilated 1-D CNNs (:class:`CNNHeads`: 3 convolutions of 32 channels, kernel 5,
dilations 1, 2, 4, max-pooled) on the simplex projection of the sequence
(:class:`SimplexProjection`, τ = 3), Adam on minibatches of 128 at lr 1e-3 with 10%
held out for early stopping (patience 20 epochs, at most 200). The CNN's settings
were chosen on seed 100 of ``dmp`` (not reported) from: 64 or 32 or 128 channels,
depth 1 (kernel 17) to 4, 0 or 1 dense layer after pooling, lr 3e-4 to 3e-3,
minibatch 32 to 256, held-out fraction 0.2 or 0.1, τ = 3 or no projection, 4 or 8
heads, weight decay 0 or 1e-3, patience 20 to 60, kernel 3 with depth 4, log-sum-exp
pooling, and gapped token-pair presence features under MLP heads instead of a CNN;
none of these moved the mean over seeds 100 and 101 by more than about 0.02 at 256
and 1024 labels.

Each JSON row is ``{"model", "data", "labels", "seed", "spearman", "seconds"}``
(``seconds``: the fit's wall time on one thread).
Seed ``s`` draws the training data, the held-out data (from ``s + 1000``) and the fit.
Prints a markdown table of the mean over seeds and writes every row to
``benchmarks/results/sequence_rewards.json``.

    OMP_NUM_THREADS=1 python benchmarks/sequence_rewards.py
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import torch
from torchmetrics.functional import spearman_corrcoef

from rewardsde.domains import EhrlichInstance, SequenceDomain, SimplexProjection, domain_reward, one_hot
from rewardsde.rewards import GreedyReward

try:
    from ._common import markdown_table
except ImportError:
    from _common import markdown_table

DOMAIN = SequenceDomain(20, 32, EhrlichInstance(num_motifs=2, motif_length=4, quantization=None,
                                                epistasis_factor=0.0, random_seed=0))
RESULTS = pathlib.Path(__file__).parent / "results" / "sequence_rewards.json"


def sequences(reward, kind: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` token sequences ``(n, dim)`` of ``kind`` ``"dmp"`` or ``"mix"`` (see the module's docstring)."""
    tokens = reward.sample(n, generator)
    if kind == "dmp":
        return tokens
    mutated = torch.arange(n) % 2 == 1
    mutations = torch.randint(1, 5, (n,), generator=generator)
    scores = torch.rand(n, reward.dim, generator=generator)
    ranks = scores.argsort(1).argsort(1)
    redraw = (ranks < mutations[:, None]) & mutated[:, None]
    fresh = torch.randint(reward.num_states, tokens.shape, generator=generator)
    return torch.where(redraw, fresh, tokens)


def make_model(name: str) -> GreedyReward:
    if name == "mlp":
        return GreedyReward(heads=4, hidden=64, depth=2)
    if name == "cnn":
        return GreedyReward(heads=4, hidden=32, depth=3, network="cnn", kernel_size=5, pool="max",
                            features=SimplexProjection(3.0), lr=1e-3, epochs=200, patience=20, batch_size=128,
                            holdout=0.1)
    raise ValueError(f"unknown model {name!r}")


def run(models, labels, seeds, kind: str, held_out: int) -> list[dict]:
    reward = domain_reward(DOMAIN)
    rows = []
    for seed in seeds:
        test = sequences(reward, kind, held_out, torch.Generator().manual_seed(seed + 1000))
        test_x, test_y = one_hot(test, reward.num_states), reward.value(test).double()
        for n in labels:
            train = sequences(reward, kind, n, torch.Generator().manual_seed(seed))
            x, y = one_hot(train, reward.num_states), reward.value(train).double()
            for name in models:
                model = make_model(name)
                start = time.perf_counter()
                model.fit(x, y, seed=seed)
                seconds = time.perf_counter() - start
                with torch.no_grad():
                    predicted = model(test_x).double()
                rho = spearman_corrcoef(predicted, test_y).item()
                rows.append(dict(model=name, data=kind, labels=n, seed=seed, spearman=rho, seconds=seconds))
                print(f"{name} {kind} n={n} seed={seed}: spearman {rho:.3f} in {seconds:.1f}s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--labels", nargs="+", type=int, default=[256, 1024, 4096])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--data", nargs="+", default=["dmp", "mix"])
    parser.add_argument("--held-out", type=int, default=2000)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows = [row for kind in args.data for row in run(args.models, args.labels, args.seeds, kind, args.held_out)]
    table = []
    for kind in args.data:
        for name in args.models:
            cells = []
            for n in args.labels:
                values = [r["spearman"] for r in rows if (r["model"], r["data"], r["labels"]) == (name, kind, n)]
                cells.append(sum(values) / len(values))
            table.append([name, kind, *cells])
    print(markdown_table(["model", "data", *[f"{n} labels" for n in args.labels]], table))
    print(f"total {time.perf_counter() - start:.0f} s")
    if args.out:
        pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
