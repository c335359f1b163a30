"""SEIKO against mol-ga under the PMO protocol: QED, perindopril MPO and sitagliptin MPO at 10,000 oracle calls.

PMO (Gao et al., NeurIPS 2022) judges a molecule optimiser by the area under the curve of the
mean of its 10 best scores so far against oracle calls, up to 10,000 calls
(:func:`rewardsde.domains.pmo_objectives.top_k_auc`). The oracles are guacamol's own scoring
functions (:mod:`rewardsde.domains.pmo_objectives`) and RDKit's QED.

* **mol-ga** (Tripp and Hernández-Lobato 2023; the ``mol_ga`` package's ``default_ga``: graph-GA
  crossover and mutation, quantile sampling, a population of the best 10,000): started from
  ``--start`` molecules of the MOSES subset that ``pretrained/moses`` was trained on (the data the
  diffusion model knows), ``--offspring`` children per generation. A call is a distinct molecule
  scored for the first time; the start molecules are calls too.
* **SEIKO** (``ucb`` or ``greedy``; :class:`rewardsde.SeikoRound` around
  :class:`rewardsde.TiltedDenoisingObjective`, as ``configs/seiko_moses.yaml``): rounds of
  ``--round`` designs sampled from the current model and labelled by the oracle, a reward model
  (4 dilated 1-D CNNs on the decoded SELFIES, or with ``--reward-model morgan`` 4 MLPs on the
  Morgan fingerprint of the decoded molecule) refitted on every label so far, then ``--steps``
  steps of weighted denoising toward ``p_pre·exp((r̂+ĝ)/α)`` (on a pool of pretrained samples, or with
  ``--refresh f`` one whose fraction f is redrawn from the fine-tuned model every round; with
  ``--neighbours k``, ``k`` SELFIES token substitutions of the best labelled molecules added to it every
  round, :class:`rewardsde.domains.PointMutations`; with ``--propose graph-ga`` instead children of
  the best molecules by mol-ga's own crossover and mutation, :class:`rewardsde.domains.GraphGAOffspring`).
  A call is a distinct molecule, as for mol-ga: the figures count each molecule's first label once
  and drop designs of a molecule labelled before (another SELFIES spelling of it; PMO's oracle answers
  those from its cache), whose number the samples file keeps as ``repeated_calls``; with ``--distinct``
  a round buys only designs not labelled before (``SeikoRound(canonical=snap)``: another spelling of a
  labelled molecule is still bought), with ``--distinct-molecules`` only molecules not labelled before
  (:class:`rewardsde.domains.CanonicalMolecule`), so that none of the budget goes to repeats; with
  ``--warm-start`` each refit of the reward model continues the last one's weights (``--fit-steps s``:
  at most ``s`` Adam steps a fit); with ``--same-start`` the first round buys mol-ga's ``--start``
  starting molecules instead of samples of the model, so both methods begin from the same labels;
  with ``--target f`` a fraction ``f`` of every round after the first is drawn from the tilted pool
  itself, without replacement, and the rest from the model (``SeikoRound(target=f)``).

    OMP_NUM_THREADS=1 python benchmarks/pmo.py --methods molga --tasks qed --seeds 1 --out A.json
    python benchmarks/pmo.py --merge A.json B.json         # the table, beside the published figures

Writes rows ``{"method", "task", "seed", "auc_top10", "top1", "top10", "calls"}`` to ``--out``
(default ``benchmarks/results/pmo.json``) and, for SEIKO, the validity, uniqueness and diversity of
the final model's samples to ``<out stem>_samples.json`` (with ``--diagnose`` also the genuine mean score
of those samples, of the last round's target and of its pool's parts: :func:`diagnosis`).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import time

import torch

from rewardsde import DenoiserCorrection, FineTunedSampler, SeikoRound, TiltedDenoisingObjective
from rewardsde.callbacks import MosesMetrics
from rewardsde.domains import (GenuineReward, GraphGAOffspring, MorganFeatures, PointMutations, SequenceSDE,
                               SimplexProjection, moses_smiles, read_domain, scores, snap, top_k_auc)
from rewardsde.domains import CanonicalMolecule, canonical_smiles
from rewardsde.rewards import GreedyReward, Oracle, UCBReward

try:
    from ._common import markdown_table, mean_se, tilted_seiko_rounds
except ImportError:
    from _common import markdown_table, mean_se, tilted_seiko_rounds

RESULTS = pathlib.Path(__file__).parent / "results"
MODEL = dict(heads=4, hidden=32, depth=3, network="cnn", features=SimplexProjection(3.0, straight_through=True),
             lr=1e-3, epochs=200, patience=20, batch_size=128, holdout=0.1)
TASKS = ("qed", "perindopril_mpo", "sitagliptin_mpo")
REWARD_MODELS = ("cnn", "morgan")
UCB_C = 0.1  # UCB's bonus weight unless --c says otherwise; the method's name carries any other value
# AUC top-10 as published (f-RAG, Lee et al., NeurIPS 2024, Table 1), for qed / perindopril_mpo / sitagliptin_mpo
PUBLISHED = {"Mol GA (published)": (0.941, 0.547, 0.582), "Genetic GFN (published)": (0.942, 0.595, 0.634)}


def reward_model(name: str, alphabet, method: str = "greedy", c: float = UCB_C,
                 warm_start: bool = False, max_steps: int | None = None) -> GreedyReward | UCBReward:
    """SEIKO's reward model: ``cnn``, :data:`MODEL` on the SELFIES tokens, or ``morgan``, 4 MLPs (width 64,
    depth 2) on the Morgan fingerprint of the decoded molecule (:class:`MorganFeatures`), fitted as the CNN
    (settings not tuned); ``method`` ``"ucb"`` (bonus weight ``c``) or ``"greedy"``; with ``warm_start``
    each refit continues the last (``RewardModel(warm_start=True)``); ``max_steps`` caps each fit's Adam steps."""
    if name not in REWARD_MODELS:
        raise ValueError(f"reward model must be one of {REWARD_MODELS}, got {name!r}")
    settings = MODEL if name == "cnn" else dict(MODEL, hidden=64, depth=2, network="mlp",
                                                 features=MorganFeatures(alphabet))
    settings = dict(settings, warm_start=warm_start, max_steps=max_steps)
    return UCBReward(c=c, **settings) if method == "ucb" else GreedyReward(**settings)


class BudgetSpent(Exception):
    """Raised by :class:`CountedOracle` when the budget is spent."""


def molecule_key(smiles: str) -> str:
    """What makes two SMILES one molecule in PMO's accounting: RDKit's canonical SMILES (with
    stereochemistry), or the string itself when RDKit cannot parse it."""
    return canonical_smiles(smiles) or smiles


def distinct_calls(smiles: list[str], labels: list[float]) -> dict[str, float]:
    """The label of the first design of each molecule (:func:`molecule_key`), keyed by the molecule,
    in call order: PMO's oracle answers a repeat from its cache, free, and ranks each molecule once."""
    first: dict[str, float] = {}
    for text, label in zip(smiles, labels):
        first.setdefault(molecule_key(text), label)
    return first


class CountedOracle:
    """``SMILES -> score`` that records every distinct molecule's (:func:`molecule_key`) first score
    in call order and raises :class:`BudgetSpent` once ``budget`` molecules are scored (invalid SMILES
    score 0)."""

    def __init__(self, task: str, budget: int) -> None:
        self.task, self.budget, self.seen, self.calls = task, budget, {}, []

    def __call__(self, smiles: str) -> float:
        key = molecule_key(smiles)
        if key not in self.seen:
            if len(self.calls) >= self.budget:
                raise BudgetSpent
            self.seen[key] = scores([smiles], self.task, invalid_value=0.0).item()
            self.calls.append(self.seen[key])
        return self.seen[key]


def result(method: str, task: str, seed: int, calls: list[float], budget: int) -> dict:
    best = sorted(calls, reverse=True)
    return dict(method=method, task=task, seed=seed, auc_top10=top_k_auc(calls, 10, budget), top1=best[0],
                top10=sum(best[:10]) / len(best[:10]), calls=len(calls))


def start_molecules(path: str, seed: int, count: int) -> list[str]:
    """mol-ga's starting population: ``count`` SMILES drawn (seed ``seed``) from the MOSES subset the
    model at ``path`` was trained on."""
    instance = read_domain(path).instance
    return random.Random(seed).sample(moses_smiles(instance.size, instance.seed), count)


def molga(path: str, task: str, seed: int, args) -> dict:
    from mol_ga import default_ga

    start = start_molecules(path, seed, args.start)
    oracle = CountedOracle(task, args.budget)
    try:
        default_ga(starting_population_smiles=start, scoring_function=lambda batch: [oracle(s) for s in batch],
                   max_generations=10**6, offspring_size=args.offspring, rng=random.Random(seed))
    except BudgetSpent:
        pass
    return result("mol-ga", task, seed, oracle.calls, args.budget)


def proposal(args, alphabet):
    """The neighbours' proposal: SELFIES token substitutions or graph-GA children of the best molecules."""
    if args.propose == "graph-ga":
        return GraphGAOffspring(alphabet)
    return PointMutations(args.sites)


def seiko(path: str, task: str, seed: int, method: str, args) -> tuple[dict, dict]:
    """One SEIKO run; its PMO row and the validity, uniqueness and diversity of 1,000 final samples."""
    torch.manual_seed(seed)
    sde = SequenceSDE(path)
    name = f"SEIKO ({method})" if args.reward_model == "cnn" else f"SEIKO ({method}, Morgan reward)"
    name = name if not args.refresh else f"{name[:-1]}, refresh {args.refresh:g})"
    if args.neighbours:
        kind = "neighbours" if args.propose == "mutations" else "graph-GA children"
        name = f"{name[:-1]}, {args.neighbours} {kind} of {args.anchors})"
    name = name if not args.distinct else f"{name[:-1]}, distinct)"
    name = name if not args.distinct_molecules else f"{name[:-1]}, distinct molecules)"
    name = name if not args.target else f"{name[:-1]}, target {args.target:g}, rounds of {args.round})"
    name = name if not args.warm_start else f"{name[:-1]}, warm start)"
    name = name if not args.fit_steps else f"{name[:-1]}, fits of {args.fit_steps} steps)"
    if not 1 <= args.round <= args.budget:
        raise ValueError(f"--round must lie in [1, --budget={args.budget}], got {args.round}")
    if args.same_start and not 2 <= args.start < args.budget:
        raise ValueError(f"--same-start needs --start in [2, --budget={args.budget}), got {args.start}")
    name = name if not args.same_start else f"{name[:-1]}, mol-ga's {args.start} start molecules first)"
    if method == "ucb" and args.c != UCB_C:  # rows without it were run at the default
        name = f"{name[:-1]}, c {args.c:g})"
    alphabet = GenuineReward(path).reward.alphabet
    rounds, first = [args.round] * (args.budget // args.round), None
    if args.same_start:  # round 0 buys mol-ga's starting population (mol-ga scores it as a set: another order)
        first = alphabet.encode(read_domain(path).instance.written(start_molecules(path, seed, args.start)))
        rounds = [len(first)] + [args.round] * ((args.budget - len(first)) // args.round)
    oracle = Oracle(GenuineReward(path, prop=task), budget=sum(rounds), infeasible_value=0.0, seed=seed)
    model = reward_model(args.reward_model, alphabet, method, args.c, args.warm_start,
                         args.fit_steps)
    model.build(tuple(sde.event_shape))
    sampler = FineTunedSampler(sde, DenoiserCorrection(), steps=20, backend="direct", method="midpoint")
    objective = TiltedDenoisingObjective(sampler, model, args.alpha, pool=args.pool, pool_seed=seed,
                                         refresh=args.refresh, neighbours=args.neighbours,
                                         propose=proposal(args, alphabet),
                                         anchors=args.anchors)
    canonical = snap if args.distinct else None
    if args.distinct_molecules:
        canonical = CanonicalMolecule(alphabet, read_domain(path).instance.written)
    loop = SeikoRound(objective, oracle, rounds, seed=seed, canonical=canonical,
                      target=args.target)
    calls, spreads, start = [], [], time.perf_counter()
    for index in tilted_seiko_rounds(loop, objective, len(rounds), args.steps, args.lr, seed, first):
        calls, before = oracle.store.tensors()[1].tolist(), len(calls)
        line = {"method": name, "task": task, "seed": seed, "round": index, "calls": len(calls),
                "top10": sum(sorted(calls)[-10:]) / 10, "seconds": round(time.perf_counter() - start),
                "new": calls[before:]}
        if args.diagnose and method == "ucb":
            line["bonus"] = bonus_spread(model, objective)
            spreads.append({"round": index, "calls": len(calls), **line["bonus"]})
        print(json.dumps(line), flush=True)
    bought, labels, _ = oracle.store.tensors()
    molecules = distinct_calls(alphabet.decode(bought), labels.tolist())
    calls, repeats = list(molecules.values()), len(labels) - len(molecules)
    metrics = MosesMetrics(path)
    final = sampler.rollout(1000, seed=10**6 + seed).x
    metrics.update(final)
    quality = {key: value.item() for key, value in metrics.compute().items()}
    quality["repeated_calls"] = repeats  # designs of a molecule bought before: free in PMO, not counted
    quality["best"] = sorted(molecules.items(), key=lambda item: -item[1])[:20]  # [SMILES, score]
    if args.diagnose:
        quality["diagnosis"] = diagnosis(path, task, objective, final, seed)
        if spreads:
            quality["diagnosis"]["bonus_by_round"] = spreads
        print(json.dumps({"method": name, "task": task, "seed": seed, **quality["diagnosis"]}), flush=True)
    return result(name, task, seed, calls, args.budget), dict(method=name, task=task, seed=seed, **quality)


@torch.no_grad()
def bonus_spread(model: UCBReward, objective: TiltedDenoisingObjective) -> dict:
    """How much UCB's bonus can move the round's target ``∝ exp((r̂ + ĝ)/α)`` over the pool: the standard
    deviation across the pool of the mean ``r̂`` and of the bonus ``ĝ``, each divided by α, the bonus's
    mean, and the target's weight on the pretrained draws (the rest is on the graph-GA children) and
    its effective sample size."""
    x = objective.samples
    mean = torch.cat([model.mean(chunk) for chunk in x.split(objective.chunk)]).double()
    bonus = torch.cat([model.bonus(chunk) for chunk in x.split(objective.chunk)]).double()
    weights = objective.weights()
    return {"mean_sd/alpha": (mean.std() / objective.alpha).item(), "bonus_sd/alpha": (bonus.std() / objective.alpha).item(),
            "bonus_mean": bonus.mean().item(), "weight_on_pool": weights[: objective.pool].sum().item(),
            "ess": (1 / weights.pow(2).sum()).item()}


@torch.no_grad()
def diagnosis(path: str, task: str, objective: TiltedDenoisingObjective, final: torch.Tensor, seed: int) -> dict:
    """Where the last round aimed and what it reached, by the genuine score (outside the oracle's budget):
    its mean on the final model's samples ``final``, on as many draws of the target (the pool resampled by
    its weights ``softmax(r̂/α)``), on the pretrained part of the pool and on its neighbours; and the
    effective size ``1/Σw²`` of the weights."""
    genuine = GenuineReward(path, prop=task)
    weights = objective.log_weights().softmax(0)
    draws = torch.multinomial(weights, len(final), replacement=True, generator=torch.Generator().manual_seed(seed))
    parts = {"model": final, "target": objective.samples[draws], "pretrained pool": objective.samples[:objective.pool],
             "neighbours": objective.samples[objective.pool:]}
    out = {"effective size": (1.0 / weights.square().sum()).item()}
    for part, x in parts.items():
        if len(x):
            out[f"{part} mean"] = torch.cat([genuine(chunk) for chunk in x.split(512)]).mean().item()
    return out


def table(rows: list[dict]) -> str:
    methods = sorted({r["method"] for r in rows})
    out = []
    for method in methods:
        cells = []
        for task in TASKS:
            mine = [r["auc_top10"] for r in rows if r["method"] == method and r["task"] == task]
            if not mine:
                cells.append(None)
                continue
            digits = "{:.4f}" if task == "qed" else "{:.3f}"  # on QED the methods differ in the fourth digit
            cells.append(f"{mean_se(mine, digits, digits)} ({len(mine)})")
        out.append([method, *cells])
    out += [[name, *values] for name, values in PUBLISHED.items()]
    return markdown_table(["method (AUC top-10, mean ± s.e. (seeds))", *TASKS], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default="pretrained/moses")
    parser.add_argument("--methods", nargs="+", default=["molga", "greedy", "ucb"], choices=["molga", "greedy", "ucb"])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--start", type=int, default=1000, help="mol-ga's starting molecules")
    parser.add_argument("--offspring", type=int, default=100, help="mol-ga's children per generation")
    parser.add_argument("--round", type=int, default=1000, help="SEIKO's designs per round")
    parser.add_argument("--steps", type=int, default=200, help="SEIKO's fine-tuning steps per round")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--c", type=float, default=UCB_C, help="UCB's bonus weight")
    parser.add_argument("--pool", type=int, default=8192)
    parser.add_argument("--refresh", type=float, default=0.0,
                        help="fraction of SEIKO's pool redrawn from the fine-tuned model every round")
    parser.add_argument("--neighbours", type=int, default=0,
                        help="designs drawn around SEIKO's best labels (token substitutions) and added to its pool")
    parser.add_argument("--anchors", type=int, default=16, help="how many best labelled designs they are drawn around")
    parser.add_argument("--sites", type=int, default=1, help="substituted SELFIES tokens of each neighbour")
    parser.add_argument("--propose", choices=["mutations", "graph-ga"], default="mutations",
                        help="the neighbours: SELFIES token substitutions or mol-ga's crossover and mutation")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--distinct", action="store_true",
                       help="each round buys designs (SELFIES spellings) not labelled before "
                            "(SeikoRound(canonical=snap))")
    group.add_argument("--distinct-molecules", action="store_true",
                       help="each round buys molecules not labelled before (SeikoRound(canonical=CanonicalMolecule))")
    parser.add_argument("--target", type=float, default=0.0,
                        help="SEIKO: fraction of each round after the first bought from the target (the pool "
                             "resampled by its weights, SeikoRound(target=f)) instead of the model")
    parser.add_argument("--same-start", action="store_true",
                        help="SEIKO: the first round buys mol-ga's --start starting molecules instead of samples of "
                             "the model; the rest are rounds of --round")
    parser.add_argument("--diagnose", action="store_true",
                        help="SEIKO: the genuine score of the final target, pool and samples (not counted as calls); "
                             "with UCB also, each round, how far its bonus spreads over the pool (bonus_spread)")
    parser.add_argument("--reward-model", choices=REWARD_MODELS, default="cnn",
                        help="SEIKO's reward model: a CNN on SELFIES tokens or an MLP on Morgan fingerprints")
    parser.add_argument("--warm-start", action="store_true",
                        help="SEIKO: every refit of the reward model continues the last (RewardModel(warm_start=True))")
    parser.add_argument("--fit-steps", type=int, default=None,
                        help="SEIKO: the most Adam steps of each reward-model fit (default: 200 epochs' worth)")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "pmo.json")
    parser.add_argument("--merge", type=pathlib.Path, nargs="+", help="merge result files into --out")
    args = parser.parse_args()
    samples_out = args.out.with_name(args.out.stem + "_samples.json")
    if args.merge:
        rows = [row for path in args.merge for row in json.loads(path.read_text())]
        samples = [row for path in args.merge if path.with_name(path.stem + "_samples.json").exists()
                   for row in json.loads(path.with_name(path.stem + "_samples.json").read_text())]
    else:
        rows, samples = [], []
        for task in args.tasks:
            for seed in args.seeds:
                for method in args.methods:
                    start = time.perf_counter()
                    if method == "molga":
                        rows.append(molga(args.path, task, seed, args))
                    else:
                        row, quality = seiko(args.path, task, seed, method, args)
                        rows.append(row)
                        samples.append(quality)
                    print(json.dumps({**rows[-1], "seconds": round(time.perf_counter() - start)}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1))
    if samples:
        samples_out.write_text(json.dumps(samples, indent=1))
    print(table(rows))


if __name__ == "__main__":
    main()
