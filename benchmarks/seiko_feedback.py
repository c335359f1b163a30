"""SEIKO's reward models at equal query budgets on two analytic tasks, with each round's exact optima.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/seiko_feedback.py --seeds 0 1 2 3 4

Tasks: ``three_modes`` (``configs/seiko_analytic.yaml``: three rounds of 64; the best mode holds 10% of
the prior, so the first batch sees it) and ``explore`` (``configs/seiko_explore.yaml``: four rounds of 32;
the best mode holds 1% and lies off the direction a reward fitted to the other two points).
Methods, each the config with one override: ``UCB`` (the config), ``bootstrap`` (max over the heads),
``TS`` (one bootstrap head per round), ``greedy`` (no bonus) and ``non-adaptive`` (one round with the
whole budget from the pretrained model and as many optimiser steps as all rounds together).

After each round, on 2048 fresh samples of the model (``SampleEvaluation``, the library's one evaluation
path): the genuine reward (the oracle's noise-free value), ``seiko/coverage`` and the mean bonus, and the
share of samples in each mode. Beside them, from 200,000 prior draws reweighted
(:func:`rewardsde.analytic.round_optima`): the exact optimum of the rounds so far with the *learned*
rewards the run optimised (``learned_optimum``: what exact fine-tuning would have reached) and with the
genuine reward (``optimum``: what no reward model can beat in expectation). So
``optimum - learned_optimum`` is reward-model error and ``learned_optimum - genuine`` optimisation error.

The configs' ``C`` and drift steps were chosen with ``--tune`` (UCB on seeds 100-102, never reported;
``seiko_feedback_tuning.json``). Writes ``benchmarks/results/seiko_feedback.json`` (rows ``{task, method, seed, queries, genuine,
optimum}``, one per round and one at 0 queries), ``seiko_feedback_rounds.json`` (the same rows with the
learned optimum, the mode-weight total variation to it, coverage and bonus) and the figure. Runs go to
``--workers`` processes of one thread each; a line per run goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TASKS = {"three_modes": ROOT / "configs" / "seiko_analytic.yaml", "explore": ROOT / "configs" / "seiko_explore.yaml"}
REWARD_MODELS = {
    "UCB": None,
    "bootstrap": "rewardsde.rewards.BootstrapReward",
    "TS": "rewardsde.rewards.ThompsonReward",
    "greedy": "rewardsde.rewards.GreedyReward",
}
METHODS = (*REWARD_MODELS, "non-adaptive")
DRAWS = 200_000
SAMPLES = 2048


def settings(task: str) -> dict:
    """The model's ``init_args`` in the task's config."""
    return yaml.safe_load(TASKS[task].read_text())["model"]["init_args"]


def overrides(task: str, method: str) -> list[str]:
    """Command-line overrides that turn the task's config into ``method``."""
    if method in REWARD_MODELS:
        path = REWARD_MODELS[method]
        return [] if path is None else [f"--model.init_args.reward_model={path}"]
    model = settings(task)
    rounds = len(model["round_sizes"])
    return [f"--model.init_args.round_sizes=[{sum(model['round_sizes'])}]"] + [
        f"--model.init_args.{k}={rounds * model[k]}" for k in ("drift_steps", "value_steps", "initial_steps") if k in model]


def genuine_reward(task: str):
    """The oracle's ``ModeReward``, the prior's exact terminal law and the infeasible label."""
    from rewardsde.analytic import GaussianMixturePrior, ModeReward

    model = settings(task)
    oracle = model["oracle"]["init_args"]
    return (ModeReward(**oracle["reward"]["init_args"]), GaussianMixturePrior(**model["sde"]["init_args"]).terminal_law(),
            oracle["infeasible_value"])


def run(task: str, method: str, seed: int, store: Path, extra: list[str] = ()) -> list[dict]:
    """One SEIKO run; a row per evaluation (0 queries, then after each round)."""
    import lightning as L
    import torch
    from lightning.pytorch.cli import LightningCLI
    from torchmetrics import Metric

    from rewardsde.analytic import round_optima
    from rewardsde.callbacks import SampleEvaluation

    torch.set_num_threads(1)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    reward, law, infeasible = genuine_reward(task)
    regions = len(reward.centers) + 1

    class RegionShares(Metric):
        """Share of the samples in each mode's ball and in the infeasible rest, ``(K + 1,)``."""

        def __init__(self) -> None:
            super().__init__()
            self.add_state("counts", torch.zeros(regions, dtype=torch.float64), dist_reduce_fx="sum")

        def update(self, x):
            self.counts += torch.bincount(reward.regions(x), minlength=regions).double()

        def compute(self):
            return {str(k): v for k, v in enumerate(self.counts / self.counts.sum())}

    class LearnedOptimum(L.Callback):
        """At the end of each round: the round's learned reward on fixed prior draws, and the chain's optimum."""

        def __init__(self, alpha: float, beta: float, round_length: int) -> None:
            self.alpha, self.beta, self.round_length = alpha, beta, round_length
            draws = law.sample(DRAWS, torch.Generator().manual_seed(12345))
            self.x = draws.float()
            genuine = reward(draws).nan_to_num(infeasible)
            shares = torch.nn.functional.one_hot(reward.regions(draws), regions).double().T
            self.scored = torch.cat([genuine[None], shares])
            self.rewards: list = []
            self.rows: list[dict] = []

        @torch.no_grad()
        def on_train_batch_end(self, trainer, module, *args) -> None:
            if trainer.global_step % self.round_length:
                return
            self.rewards.append(torch.cat([module.reward(x) for x in self.x.split(20_000)]).double())
            optima = round_optima(torch.stack(self.rewards), self.scored, self.alpha, self.beta)
            self.rows.append({"learned_optimum": float(optima.value[-1, 0]),
                              "learned_optimum_shares": optima.value[-1, 1:].tolist(),
                              "effective_size": float(optima.effective_size[-1])})

    args = ["--config", str(TASKS[task]), *overrides(task, method), f"--seed_everything={seed}",
            f"--model.init_args.seed={seed}", f"--model.init_args.oracle.init_args.seed={seed}",
            f"--model.init_args.label_store={store}", *(f"--{item}" for item in extra)]
    cli = LightningCLI(L.LightningModule, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
                       parser_kwargs={"parser_mode": "omegaconf+"}, args=args, run=False, save_config_callback=None)
    module = cli.model
    evaluation = SampleEvaluation(every_n_steps=module.round_length, samples=SAMPLES, at_start=True,
                                  metrics={"regions": RegionShares()})
    learned = LearnedOptimum(module.hparams.alpha, module.hparams.beta, module.round_length)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, max_epochs=-1, default_root_dir=store.parent,
                        callbacks=[evaluation, learned])
    start = time.time()
    trainer.fit(module, cli.datamodule)
    rounds = len(module.round.round_sizes)
    exact = reward.round_optima(law, module.hparams.alpha, module.hparams.beta, rounds, infeasible).tolist()
    masses = reward.region_masses(law)
    prior_value = float(masses @ reward.heights + (1 - masses.sum()) * infeasible)
    rows = []
    for index, e in enumerate(evaluation.evaluations):
        shares = [e[f"regions/{k}"] for k in range(regions)]
        row = {"task": task, "method": method, "seed": seed, "queries": int(e["seiko/queries"]),
               "genuine": e["reward/genuine"], "optimum": exact[index - 1] if index else prior_value,
               "shares": shares, "coverage": e.get("seiko/coverage"), "bonus": e.get("seiko/eval_bonus")}
        if index:
            fit = learned.rows[index - 1]
            tv = 0.5 * sum(abs(a - b) for a, b in zip(shares, fit["learned_optimum_shares"]))
            row |= fit | {"tv_to_learned_optimum": tv}
        rows.append(row)
    print(f"{task} {method} seed {seed}: {time.time() - start:.0f}s, genuine "
          + " ".join(f"{r['genuine']:.2f}" for r in rows), file=sys.stderr, flush=True)
    return rows


def optimisation_errors(rows: list[dict]) -> None:
    """Add ``optimisation_error = (learned optimum - genuine) / (learned optimum - pretrained)`` to each row
    after a round: the share of the gain that exact fine-tuning toward the learned rewards would make over
    the pretrained model and that fine-tuning missed (negative: it went past the learned optimum)."""
    start = {(r["task"], r["method"], r["seed"]): r["genuine"] for r in rows if r["queries"] == 0}
    for r in rows:
        if r["queries"]:
            gain = r["learned_optimum"] - start[r["task"], r["method"], r["seed"]]
            r["optimisation_error"] = (r["learned_optimum"] - r["genuine"]) / gain if gain > 0 else None


def table(rows: list[dict], task: str) -> str:
    """Per method at the final budget: genuine reward, the optima, optimisation error, coverage."""
    from _common import markdown_table, mean_se

    final = max(r["queries"] for r in rows if r["task"] == task)
    lines = []
    for method in dict.fromkeys(r["method"] for r in rows if r["task"] == task):
        mine = [r for r in rows if r["task"] == task and r["method"] == method and r["queries"] == final]
        lines.append([method, final, mean_se([r["genuine"] for r in mine]),
                      mean_se([r["learned_optimum"] for r in mine]), mine[0]["optimum"],
                      mean_se([r["optimisation_error"] for r in mine], "{:.2f}"),
                      mean_se([r["tv_to_learned_optimum"] for r in mine], "{:.2f}"),
                      mean_se([r["coverage"] for r in mine], "{:.2f}"), mean_se([r["bonus"] for r in mine], "{:.2f}"),
                      mean_se([r["shares"][-2] for r in mine], "{:.2f}")])
    seeds = len({r["seed"] for r in rows if r["task"] == task})
    return markdown_table(["method", "queries", f"genuine ({seeds} seeds)", "learned optimum", "optimum",
                           "optimisation error", "TV to learned optimum", "coverage", "bonus", "share of best mode"],
                          lines)


def round_table(rows: list[dict], task: str) -> str:
    """Optimisation error and coverage after each round, per adaptive method (mean ± s.e. over seeds)."""
    from _common import markdown_table, mean_se

    budgets = sorted({r["queries"] for r in rows if r["task"] == task and r["method"] in REWARD_MODELS and r["queries"]})
    lines = []
    for method in [m for m in dict.fromkeys(r["method"] for r in rows if r["task"] == task) if m in REWARD_MODELS]:
        mine = [r for r in rows if r["task"] == task and r["method"] == method]
        lines.append([method] + [
            mean_se([r["optimisation_error"] for r in mine if r["queries"] == q], "{:.2f}") + " / "
            + mean_se([r["coverage"] for r in mine if r["queries"] == q], "{:.2f}") for q in budgets])
    return markdown_table(["optimisation error / coverage", *(f"after {q} queries" for q in budgets)], lines)


def figure(rows: list[dict], path: Path) -> None:
    """Genuine reward against queries, mean ± s.e. over seeds, one panel per task, the exact optimum dashed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    fig = Figure(figsize=(5 * len(tasks), 3.8))
    axes = fig.subplots(1, len(tasks), squeeze=False)[0]
    for ax, task in zip(axes, tasks):
        for method in dict.fromkeys(r["method"] for r in rows if r["task"] == task):
            mine = [r for r in rows if r["task"] == task and r["method"] == method]
            queries = sorted({r["queries"] for r in mine})
            values = [[r["genuine"] for r in mine if r["queries"] == q] for q in queries]
            mean = [statistics.fmean(v) for v in values]
            se = [statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else 0.0 for v in values]
            ax.errorbar(queries, mean, yerr=se, marker="o", capsize=3, label=method)
        adaptive = [r for r in rows if r["task"] == task and r["method"] == "greedy"] or \
            [r for r in rows if r["task"] == task]
        optimum = sorted({(r["queries"], r["optimum"]) for r in adaptive})
        ax.plot(*zip(*optimum), "k--", label="exact optimum (reward known)")
        ax.set(xlabel="oracle queries", ylabel="genuine reward", title=f"{task} (mean ± s.e. over seeds)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


TUNING_SEEDS = (100, 101, 102)
TUNING_GRID = [(c, 500) for c in (0.3, 1.0, 3.0, 10.0)] + [(c, 1000) for c in (1.0, 3.0)]


def tune(options) -> None:
    """UCB's ``C`` and the drift steps per round on seeds never reported; the final genuine reward of each."""
    from _common import markdown_table, mean_se

    jobs = {}
    with ProcessPoolExecutor(options.workers) as pool:
        for c, steps in TUNING_GRID:
            for task in options.tasks:
                for seed in TUNING_SEEDS:
                    store = (options.scratch / f"tune_{task}_{c}_{steps}_{seed}.jsonl").resolve()
                    store.unlink(missing_ok=True)
                    extra = [f"model.init_args.reward_model.init_args.c={c}", f"model.init_args.drift_steps={steps}"]
                    jobs[c, steps, task, seed] = pool.submit(run, task, "UCB", seed, store, extra)
    rows = [{"c": c, "drift_steps": steps, **job.result()[-1]} for (c, steps, _, _), job in jobs.items()]
    lines = [[c, steps] + [mean_se([r["genuine"] for r in rows if (r["c"], r["drift_steps"], r["task"]) == (c, steps, t)])
                           for t in options.tasks] for c, steps in TUNING_GRID]
    print(markdown_table(["C", "drift steps per round", *options.tasks], lines))
    if options.out:
        Path(options.out).with_name("seiko_feedback_tuning.json").write_text(json.dumps(rows, indent=1) + "\n")


def report(rows: list[dict], tasks: list[str]) -> None:
    """Print, per task, the final-budget table and the per-round optimisation error and coverage."""
    optimisation_errors(rows)
    for task in tasks:
        print(f"\n{task}\n" + table([r for r in rows if r["queries"] > 0], task))
        print("\n" + round_table(rows, task))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra overrides for every run, e.g. model.init_args.drift_steps=200 (for tuning seeds)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "seiko_feedback.json"),
                        help="rows; the per-round details go beside it with the suffix _rounds; '' writes nothing")
    parser.add_argument("--figure", default=str(ROOT / "docs" / "figures" / "seiko_feedback.png"))
    parser.add_argument("--scratch", type=Path, default=Path("lightning_logs") / "seiko_feedback")
    parser.add_argument("--tune", action="store_true",
                        help=f"instead: UCB's C and drift steps on seeds {TUNING_SEEDS} (seiko_feedback_tuning.json)")
    parser.add_argument("--from-json", type=Path, metavar="ROUNDS_JSON",
                        help="only print the tables and draw the figure from a saved *_rounds.json")
    options = parser.parse_args()
    options.scratch.mkdir(parents=True, exist_ok=True)
    if options.tune:
        return tune(options)
    if options.from_json:
        rows = json.loads(options.from_json.read_text())
        report(rows, sorted({r["task"] for r in rows}, key=list(TASKS).index))
        if options.figure:
            figure(rows, Path(options.figure))
        return None
    jobs = []
    with ProcessPoolExecutor(options.workers) as pool:
        for seed in options.seeds:
            for task in options.tasks:
                for method in options.methods:
                    store = (options.scratch / f"{task}_{method}_{seed}.jsonl").resolve()
                    store.unlink(missing_ok=True)
                    jobs.append(pool.submit(run, task, method, seed, store, options.set))
    rows = [row for job in jobs for row in job.result()]
    report(rows, options.tasks)
    if options.out:
        options.out = Path(options.out)
        keys = ("task", "method", "seed", "queries", "genuine", "optimum")
        options.out.write_text(json.dumps([{k: r[k] for k in keys} for r in rows], indent=1) + "\n")
        options.out.with_name(options.out.stem + "_rounds.json").write_text(json.dumps(rows, indent=1) + "\n")
        print(f"rows: {options.out}")
    if options.figure:
        figure(rows, Path(options.figure))
        print(f"figure: {options.figure}")


if __name__ == "__main__":
    main()
