"""How well learned rewards rank molecules: held-out Spearman correlation with the genuine property.

On samples of ``pretrained/moses`` (what SEIKO's first round labels), each reward model is
fitted as a :class:`GreedyReward` (the ensemble mean) to ``--labels`` labelled molecules (1,000) and
scored by the Spearman correlation of its prediction with the genuine property on
``--held-out`` other samples (1,000), for QED and PMO's ``perindopril_mpo`` and ``sitagliptin_mpo``.
Invalid molecules are labelled 0, as the PMO benchmark's oracle labels them. Two models:

* ``cnn``: the reward model of ``benchmarks/pmo.py`` and ``configs/seiko_moses.yaml``, 4 dilated
  1-D CNNs on the simplex projection of the SELFIES tokens;
* ``morgan``: 4 MLPs (width 64, depth 2) on the Morgan fingerprint (radius 2, 2048 bits) of the
  decoded molecule (:class:`rewardsde.domains.MorganFeatures`), minibatches of 128 at lr 1e-3
  with 10% held out for early stopping, as the CNN. These settings were not tuned.

Both are ``benchmarks/pmo.py``'s ``reward_model`` (``--reward-model``).

Seed ``s`` draws the training molecules (sampler seed ``s``), the held-out ones (``s + 1000``)
and the fit. Writes rows ``{"model", "task", "labels", "seed", "spearman", "seconds"}`` to
``benchmarks/results/molecule_rewards.json`` and prints the mean over seeds.

    OMP_NUM_THREADS=1 python benchmarks/molecule_rewards.py
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import torch
from torchmetrics.functional import spearman_corrcoef

from rewardsde import DenoiserCorrection, FineTunedSampler
from rewardsde.domains import GenuineReward, SequenceSDE, scores

try:
    from ._common import markdown_table
    from .pmo import REWARD_MODELS, TASKS, reward_model
except ImportError:
    from _common import markdown_table
    from pmo import REWARD_MODELS, TASKS, reward_model

RESULTS = pathlib.Path(__file__).parent / "results" / "molecule_rewards.json"


def run(path: str, models, tasks, labels: int, held_out: int, seeds) -> list[dict]:
    sampler = FineTunedSampler(SequenceSDE(path), DenoiserCorrection(), steps=20, backend="direct", method="midpoint")
    alphabet = GenuineReward(path, "qed").reward.alphabet
    rows = []
    for seed in seeds:
        with torch.no_grad():
            x, test_x = sampler.rollout(labels, seed=seed).x, sampler.rollout(held_out, seed=seed + 1000).x
        smiles, test_smiles = alphabet.decode(x), alphabet.decode(test_x)
        for task in tasks:
            y = scores(smiles, task, invalid_value=0.0)
            test_y = scores(test_smiles, task, invalid_value=0.0)
            for name in models:
                model = reward_model(name, alphabet)
                model.build(tuple(x.shape[1:]))
                start = time.perf_counter()
                model.fit(x, y, seed=seed)
                seconds = time.perf_counter() - start
                with torch.no_grad():
                    rho = spearman_corrcoef(model(test_x).double(), test_y).item()
                rows.append(dict(model=name, task=task, labels=labels, seed=seed, spearman=rho, seconds=seconds))
                print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="pretrained/moses")
    parser.add_argument("--models", nargs="+", default=list(REWARD_MODELS), choices=REWARD_MODELS)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--labels", type=int, default=1000)
    parser.add_argument("--held-out", type=int, default=1000)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    rows = run(args.path, args.models, args.tasks, args.labels, args.held_out, args.seeds)
    pathlib.Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        groups.setdefault((row["task"], row["model"]), []).append(row["spearman"])
    print(markdown_table(["task", "model", "labels", "seeds", "held-out Spearman"],
                         [[task, model, args.labels, len(v), sum(v) / len(v)] for (task, model), v in groups.items()]))


if __name__ == "__main__":
    main()
