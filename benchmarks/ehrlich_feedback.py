"""SEIKO against holo's genetic algorithm on Ehrlich, at equal oracle queries.

SEIKO (:class:`rewardsde.SeikoRound` around :class:`rewardsde.TiltedDenoisingObjective`, the
``estimator: tilted`` of ``SeikoModule``): rounds of ``--rounds`` labels bought on samples of
the current model, a reward model refitted on every label so far (4 dilated 1-D CNNs on the
decoded sequence; ``ucb``: :class:`UCBReward` with C = ``--c``, 0.1 by default, ``bootstrap``:
:class:`BootstrapReward`, each CNN on its own resample of the labels and the optimistic reward
their maximum, ``greedy``: :class:`GreedyReward`),
then ``--steps`` steps of weighted denoising toward ``p_pre·exp((r̂+ĝ)/α)`` on one pool of
pretrained samples (with ``--refresh f``, a fraction f of it redrawn from the fine-tuned model every
round, weighted by multiple importance sampling; with ``--neighbours k``, k mutants (``--sites`` substitutions) of the
``--anchors`` best labelled designs added to it every round, :class:`rewardsde.domains.PointMutations`;
with ``--distinct``, each round buys distinct sequences not labelled before; α = 0.03, the α of ``configs/elegant_ehrlich.yaml``;
batch 128, AdamW 2e-3, cosine decay restarted every round). The GA is holo's ``DiscreteEvolution`` from samples of the
instance's Markov process (the pretraining data), with a population of ``--population`` and
mutation probability 1/L or holo's 0.2 (:mod:`genetic_algorithm`).

After each round (SEIKO) or at each budget (GA): ``best``, the best genuine value among all
labels bought so far; ``mean``, ``feasible`` and ``diversity`` (mean pairwise Hamming distance)
of 256 fresh samples of the current model (for the GA, of its current population). The fresh
samples are scored by the genuine function for the report only; they are not oracle queries.

    OMP_NUM_THREADS=1 python benchmarks/ehrlich_feedback.py --methods ucb --out A.json
    OMP_NUM_THREADS=1 python benchmarks/ehrlich_feedback.py --methods greedy ga --out B.json
    python benchmarks/ehrlich_feedback.py --merge A.json B.json    # the table and the figure

The committed results are seeds 1-5 (``--seeds S``, one process per seed or per method, about
12 minutes of one thread per seed for all four methods), merged with ``--merge``.

Writes rows ``{"method", "seed", "queries", "best", "mean", "feasible", "diversity"}`` to
``--out`` (default ``benchmarks/results/ehrlich_feedback.json``), after every SEIKO round so that a
stopped run keeps its finished rounds, and at the end a best-value-against-queries figure beside it.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import torch

from rewardsde import DenoiserCorrection, FineTunedSampler, SeikoRound, TiltedDenoisingObjective
from rewardsde.callbacks.hamming import mean_pairwise_hamming
from rewardsde.domains import GenuineReward, PointMutations, SequenceSDE, SimplexProjection, decode, one_hot, snap
from rewardsde.rewards import BootstrapReward, GreedyReward, Oracle, UCBReward

try:
    from ._common import markdown_table, tilted_seiko_rounds
    from .ehrlich_gradients import evaluate
    from .genetic_algorithm import genetic_algorithm
except ImportError:
    from _common import markdown_table, tilted_seiko_rounds
    from ehrlich_gradients import evaluate
    from genetic_algorithm import genetic_algorithm

RESULTS = pathlib.Path(__file__).parent / "results"
MODEL = dict(heads=4, hidden=32, depth=3, network="cnn", features=SimplexProjection(3.0, straight_through=True),
             lr=1e-3, epochs=200, patience=20, batch_size=128, holdout=0.1)


def seiko(path: str, method: str, seed: int, args) -> list[dict]:
    torch.manual_seed(seed)
    sde, genuine = SequenceSDE(path), GenuineReward(path)
    oracle = Oracle(GenuineReward(path), budget=sum(args.rounds), infeasible_value=0.0, seed=seed)
    models = {"ucb": lambda: UCBReward(c=args.c, **MODEL), "bootstrap": lambda: BootstrapReward(**MODEL),
              "greedy": lambda: GreedyReward(**MODEL)}
    model = models[method]()
    model.build(tuple(sde.event_shape))
    sampler = FineTunedSampler(sde, DenoiserCorrection(), steps=20, backend="direct", method="midpoint")
    objective = TiltedDenoisingObjective(sampler, model, args.alpha, pool=args.pool, pool_seed=seed,
                                         refresh=args.refresh, neighbours=args.neighbours,
                                         propose=PointMutations(args.sites), anchors=args.anchors)
    rounds = SeikoRound(objective, oracle, list(args.rounds), seed=seed, canonical=snap if args.distinct else None)
    rows = []
    for index in tilted_seiko_rounds(rounds, objective, len(args.rounds), args.steps, args.lr, seed):
        scores = evaluate(sampler, model, genuine, 256, seed=10**6 + seed)
        labels = oracle.store.tensors()[1]
        name = method if method != "ucb" or args.c == 0.1 else f"ucb, C = {args.c:g}"
        name += f", refresh {args.refresh:g}" if args.refresh else ""
        name += f", {args.neighbours} neighbours of {args.anchors}" if args.neighbours else ""
        name += ", distinct" if args.distinct else ""
        rows.append(dict(method=f"SEIKO ({name})", seed=seed, queries=oracle.spent, best=labels.max().item(),
                         mean=scores["genuine"], feasible=scores["feasible"], diversity=scores["hamming"]))
        print(json.dumps(rows[-1]), f"pool ESS {1.0 / objective.weights().pow(2).sum().item():.1f}", flush=True)
        write_rows(args.out, args.done + rows)  # a run stopped later keeps its finished rounds
        if args.mutants:
            args.mutant_rows.append(dict(method=rows[-1]["method"], seed=seed, round=index,
                                         **mutant_report(sampler, model, genuine, oracle, seed)))
            print(json.dumps(args.mutant_rows[-1]), flush=True)
    return rows


@torch.no_grad()
def mutant_report(sampler, model, genuine, oracle, seed: int, designs: int = 16) -> dict:
    """Could this round's reward model lead the search past the best design found so far?

    Every single-site mutant of the (at most ``designs``) labelled designs of the best value is scored
    by the genuine value and the reward model. Returns the best value and how many designs hold it,
    the mutants that are better (count and values), the learned mean and optimistic reward of the best
    designs and of the better mutants, the fraction of better mutants whose optimistic reward is above
    every label's, the Spearman correlation of learned mean and genuine value over all the mutants, and
    the fraction of 256 fresh samples of the model (those of the report) within Hamming distance 2 of a
    best design.
    """
    from torchmetrics.functional import spearman_corrcoef

    x, y, _ = oracle.store.tensors()
    best = y.max().item()
    top = decode(x[y == best])[:designs]
    states, length = x.shape[1:]
    mutants = top[:, None, None, :].repeat(1, length, states, 1)
    for j in range(length):
        mutants[:, j, :, j] = torch.arange(states)
    code = one_hot(mutants.reshape(-1, length), states).float()
    values = genuine(code).double()
    better = values > best
    learned, optimistic = model.mean(code).double(), model(code).double()
    parents = one_hot(top, states).float()
    fresh = decode(sampler.rollout(256, seed=10**6 + seed).x)
    near = ((fresh[:, None, :] != top[None]).sum(-1).amin(1) <= 2).double().mean().item()

    def average(v):
        return v.mean().item() if v.numel() else None

    return dict(queries=oracle.spent, best=best, best_designs=int((y == best).sum()), better=int(better.sum()),
                better_values=sorted(set(values[better].tolist())), learned_best=average(model.mean(parents)),
                learned_better=average(learned[better]), optimistic_best=average(model(parents)),
                optimistic_better=average(optimistic[better]),
                better_above_labels=average((optimistic[better] > model(x.float()).max()).double()),
                local_spearman=spearman_corrcoef(learned, values).item(), fresh_near_best=near)


def write_rows(path: str, rows: list[dict]) -> None:
    pathlib.Path(path).write_text(json.dumps(rows, indent=1) + "\n")


def ga(path: str, rate: float, name: str, seed: int, args) -> list[dict]:
    instance = GenuineReward(path).reward
    budgets = sorted({sum(args.rounds[: k + 1]) for k in range(len(args.rounds))})
    start = instance.sample(args.population, torch.Generator().manual_seed(seed))
    populations: list[torch.Tensor] = []
    rows = []
    for (queries, best, mean), population in zip(
            genetic_algorithm(instance, start, budgets, rate, seed=seed, populations=populations), populations):
        rows.append(dict(method=f"GA (mutation {name})", seed=seed, queries=queries, best=best, mean=mean,
                         feasible=instance.feasible(population).double().mean().item(),
                         diversity=mean_pairwise_hamming(population).item()))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def figure(rows: list[dict], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.6))
    ax = fig.subplots()
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        budgets = sorted({r["queries"] for r in mine})
        means = [sum(r["best"] for r in mine if r["queries"] == q) / sum(r["queries"] == q for r in mine)
                 for q in budgets]
        ax.plot(budgets, means, marker="o", label=method)
    ax.set(xlabel="oracle queries", ylabel="best genuine value (mean over seeds)", xscale="log")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def table(rows: list[dict]) -> str:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["queries"]), []).append(r)

    def mean(values):
        return sum(values) / len(values)

    return markdown_table(
        ["method", "queries", "seeds", "best", "mean", "feasible", "diversity"],
        [[method, queries, len(g), mean([r["best"] for r in g]), mean([r["mean"] for r in g]),
          mean([r["feasible"] for r in g]), mean([r["diversity"] for r in g])]
         for (method, queries), g in sorted(groups.items())])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="pretrained/ehrlich")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--methods", nargs="+", default=["ucb", "greedy", "ga"],
                        choices=["ucb", "bootstrap", "greedy", "ga"])
    parser.add_argument("--rounds", type=int, nargs="+", default=[512, 512, 1024])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--c", type=float, default=0.1, help="UCB's width C (rows other than 0.1 are named with it)")
    parser.add_argument("--alpha", type=float, default=0.03)
    parser.add_argument("--pool", type=int, default=8192)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--refresh", type=float, default=0.0,
                        help="fraction of the pool redrawn from the fine-tuned model every round")
    parser.add_argument("--neighbours", type=int, default=0,
                        help="designs drawn around the best labels and added to the pool every round")
    parser.add_argument("--anchors", type=int, default=16, help="how many best labelled designs they are drawn around")
    parser.add_argument("--sites", type=int, default=1, help="substitutions of each neighbour")
    parser.add_argument("--distinct", action="store_true",
                        help="rounds buy distinct designs not labelled before (SeikoRound(canonical=snap))")
    parser.add_argument("--mutants", metavar="JSON",
                        help="after each SEIKO round, write mutant_report's row (can the reward model see past "
                             "the best design?) to this file")
    parser.add_argument("--population", type=int, default=256)
    parser.add_argument("--out", default=str(RESULTS / "ehrlich_feedback.json"))
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="only merge result files into --out (a later file's row wins for a method, seed and budget)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    args.mutant_rows = []
    if args.merge:
        # A later file's row replaces an earlier one of the same method, seed and budget (a longer
        # run repeats the shorter one's first rounds exactly: the same seeds give the same rounds).
        merged = {}
        for name in args.merge:
            for row in json.loads(pathlib.Path(name).read_text()):
                merged[(row["method"], row["seed"], row["queries"])] = row
        rows = list(merged.values())
    else:
        length = GenuineReward(args.path).reward.dim
        rows = args.done = []
        for seed in args.seeds:
            for method in args.methods:
                if method == "ga":
                    rows += ga(args.path, 1.0 / length, "1/L", seed, args) + ga(args.path, 0.2, "0.2", seed, args)
                else:
                    rows += seiko(args.path, method, seed, args)
                write_rows(args.out, rows)
    if args.mutants:
        pathlib.Path(args.mutants).write_text(json.dumps(args.mutant_rows, indent=1) + "\n")
    print(table(rows))
    out = pathlib.Path(args.out)
    write_rows(out, rows)
    figure(rows, out.with_suffix(".png"))
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
