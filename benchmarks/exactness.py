"""ELEGANT, its fixed-initial-law baseline, Adjoint Matching and reward backprop without KL, against exact targets.

    .venv/bin/python benchmarks/exactness.py [--tasks gaussian gmm gmm5] [--methods ...]

Each row fits one method on one analytic task and measures 4096 of its samples
against the exact fine-tuning target ``p*(x) ∝ p_pre(x)·exp(r(x)/α)``
(:func:`rewardsde.callbacks.exact_report`):

* ``gaussian``: the Brownian prior ``dx = dW`` from ``x_0 ~ N(0, 1)`` with
  ``r(x) = x`` (``configs/elegant_gaussian.yaml``). The end remembers the start, so
  only a learned initial law reaches the target ``N(2/α, 2)``; with ν fixed, and for
  Adjoint Matching, whose lean adjoint assumes a memoryless reference, the best
  reachable mean is ``1/α``.
* ``gmm``: a three-mode VP mixture prior with ``r(x) = x₁``
  (``configs/elegant_gmm.yaml``, ``configs/adjoint_matching_gmm.yaml``); the target
  reweights the modes.
* ``gmm5``: five modes (weights 0.30/0.25/0.20/0.15/0.10, on a circle of radius
  2.5, std 0.35) and the quadratic reward ``-¼‖x - (2, 0)‖²`` at α = 1: the rarest
  mode becomes the likeliest (0.49), one of weight 0.25 nearly vanishes (0.014).

Methods: ``ELEGANT`` (learned initial law, pathwise gradient), ``ELEGANT, weighted
denoising`` (the same target reached by ``estimator="tilted"``: the pretrained samples
reweighted by ``exp(r/α)`` and denoised, no gradient of the reward; VP tasks only, whose
reference is a denoiser), ``fixed ν`` (initial law kept at ``N(0, I)``), ``Adjoint Matching`` and ``no KL`` (DRaFT-1: reward backprop through
the last step, no KL). The no-KL model does not depend on α; it is fitted once per
task and measured against each α's target. Its objective has no maximiser for a
linear reward, so its samples run away (on ``gaussian`` far enough that the float32
running cost overflows and the KL estimate reads nan). The sliced-W₂ noise floor is
the distance of an independent exact sample of the same size (one draw); the mode
weights' floor is the mean TV of 200 exact samples of the same size. Each row also
gives its training steps and wall-clock. About 30 minutes on one thread (gmm5 takes
two thirds of it); a progress line per run goes to stderr, and the rows go to
``benchmarks/results/exactness.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import logging
import sys
import statistics
import time
import warnings
from pathlib import Path

import lightning as L
import torch
from _common import markdown_table

from rewardsde import DenoiserCorrection, NetworkCorrection
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward, QuadraticReward
from rewardsde.analytic.distances import mixture_weight_tv
from rewardsde.callbacks import exact_report
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import AdjointMatchingModule, ElegantModule, NoKLModule

FIVE_MODES = [[2.5 * math.cos(math.radians(a)), 2.5 * math.sin(math.radians(a))] for a in (90, 162, 234, 306, 18)]
TASKS = {
    "gaussian": {
        "prior": lambda: BrownianPrior(1, c=1.0),
        "reward": lambda: LinearReward([1.0]),
        "alphas": [0.5, 1.0],
        "methods": ["ELEGANT", "fixed ν", "no KL", "Adjoint Matching"],
        "solver": {"steps": 20},
        "drift": {"drift_steps": 300, "lr": 1e-2},
        "initial": {"value_steps": 200, "initial_steps": 600, "value_lr": 1e-2, "initial_lr": 1e-2},
        "matching": {"steps": 20, "method": "euler", "drift_steps": 300, "lr": 1e-2},
    },
    "gmm": {
        "prior": lambda: GaussianMixturePrior([0.5, 0.3, 0.2], [[-1.5, 0.0], [1.5, 0.0], [0.0, 2.0]], [0.5] * 3),
        "reward": lambda: LinearReward([1.0, 0.0]),
        "alphas": [2.0],
        "methods": ["ELEGANT", "ELEGANT, weighted denoising", "fixed ν", "no KL", "Adjoint Matching"],
        "solver": {"steps": 25, "method": "midpoint", "backend": "direct"},
        "drift": {"drift_steps": 1000, "lr": 5e-3},
        "initial": {"value_steps": 100, "initial_steps": 200, "value_lr": 1e-2, "initial_lr": 1e-2},
        "matching": {"steps": 40, "method": "euler", "time_samples": 10, "drift_steps": 1000, "lr": 3e-3},
    },
    "gmm5": {
        "prior": lambda: GaussianMixturePrior([0.3, 0.25, 0.2, 0.15, 0.1], FIVE_MODES, [0.35] * 5),
        "reward": lambda: QuadraticReward([2.0, 0.0], curvature=0.5),
        "alphas": [1.0],
        "methods": ["ELEGANT", "ELEGANT, weighted denoising", "Adjoint Matching"],
        "hidden": 128,
        "batch": {"ELEGANT": 256, "Adjoint Matching": 512, "ELEGANT, weighted denoising": 1024},
        "solver": {"steps": 40, "method": "euler", "backend": "direct"},
        "drift": {"drift_steps": 3000, "lr": 5e-3},
        "initial": {"value_steps": 100, "initial_steps": 200, "value_lr": 1e-2, "initial_lr": 1e-2},
        "matching": {"steps": 40, "method": "euler", "time_samples": 10, "drift_steps": 3000, "lr": 1e-2},
    },
}
# ELEGANT's target reached by weighted denoising (estimator="tilted") on the VP tasks: a residual ε-network of
# width 128 on the exact mixture score, fitted to a pool of 65,536 pretrained samples reweighted by exp(r/α).
# Chosen on seed 1 (benchmarks/mode_weights.py's seed) among 1500-12,000 steps, batches 256/1024, widths 128/256.
WEIGHTED_DENOISING = {"drift_steps": 6000, "lr": 1e-2, "pool": 65_536, "residual_hidden": 128}
METHODS = ("ELEGANT", "ELEGANT, weighted denoising", "fixed ν", "no KL", "Adjoint Matching")


def build(task: dict, method: str, alpha: float, seed: int) -> L.LightningModule:
    """The module of ``method`` on ``task``, with the task's hyperparameters."""
    torch.manual_seed(seed)
    parts = (task["prior"](), NetworkCorrection(hidden=task.get("hidden", 64)), task["reward"]())
    if method == "no KL":
        solver = task["solver"] | {"backend": "truncated", "truncate": 1}
        return NoKLModule(*parts, **solver, **task["drift"], seed=seed)
    if method == "Adjoint Matching":
        return AdjointMatchingModule(*parts, alpha=alpha, **task["matching"], seed=seed)
    if method == "ELEGANT, weighted denoising":
        settings = dict(WEIGHTED_DENOISING)
        correction = DenoiserCorrection(residual_hidden=settings.pop("residual_hidden"))
        return ElegantModule(parts[0], correction, parts[2], alpha=alpha, learn_initial=False, estimator="tilted",
                             **task["solver"], **settings, seed=seed)
    return ElegantModule(
        *parts, alpha=alpha, learn_initial=method == "ELEGANT", **task["solver"], **task["drift"], **task["initial"],
        seed=seed,
    )


def fit(module: L.LightningModule, batch_size: int = 256) -> L.LightningModule:
    """Train through every phase; the module stops the Trainer itself."""
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=-1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, FineTuneDataModule(batch_size=batch_size))
    return module


def task_alphas(text: str) -> tuple[str, list[float]]:
    """Parse ``TASK=A,B,...``."""
    task, _, values = text.partition("=")
    if task not in TASKS or not values:
        raise argparse.ArgumentTypeError(f"expected TASK=A,B with TASK one of {', '.join(TASKS)}, got {text!r}")
    return task, [float(value) for value in values.split(",")]


def expected_weight_tv_floor(target, n: int, draws: int = 200, seed: int = 0) -> float:
    """The mean mode-weight TV of an exact sample of size ``n`` (``draws`` of them): the noise
    floor of the ``weight TV`` column, averaged instead of the one draw ``exact_report`` gives."""
    generator = torch.Generator().manual_seed(seed)
    return statistics.fmean(mixture_weight_tv(target.sample(n, generator), target).item() for _ in range(draws))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS), help="tasks to run")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                        help="methods to run (each task runs those of its own list)")
    parser.add_argument(
        "--alphas", type=task_alphas, action="append", default=[], metavar="TASK=A,B",
        help="override a task's KL weights, e.g. --alphas gaussian=0.25,0.5 (repeatable)",
    )
    parser.add_argument("--samples", type=int, default=4096, help="samples per report")
    parser.add_argument("--seed", type=int, default=0, help="seed of the networks, the training noise and the reports")
    parser.add_argument("--out", default="benchmarks/results/exactness.json", help="where the rows go (JSON)")
    parser.add_argument("--from-json", action="store_true", help="train nothing: print the table of the rows in --out")
    parser.add_argument("--merge", action="store_true",
                        help="keep the rows already in --out and replace only those this run remeasures")
    args = parser.parse_args()
    alphas = {name: task["alphas"] for name, task in TASKS.items()} | dict(args.alphas)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # stderr: one progress line per run
    warnings.filterwarnings("ignore", module="lightning")

    results = []
    for name in args.tasks if not args.from_json else ():
        task = TASKS[name]
        no_kl = None
        for alpha in alphas[name]:
            for method in [m for m in task["methods"] if m in args.methods]:
                start = time.perf_counter()
                if method != "no KL":
                    module = fit(build(task, method, alpha, args.seed), task.get("batch", {}).get(method, 256))
                else:
                    if no_kl is None:
                        no_kl = fit(build(task, method, alpha, args.seed))
                    module = no_kl
                seconds = time.perf_counter() - start
                report = exact_report(module, samples=args.samples, seed=args.seed, alpha=alpha)
                if "weight_tv" in report:
                    target = module.sde.tilted(module.reward, alpha)
                    report["weight_tv_expected_floor"] = expected_weight_tv_floor(target, args.samples, seed=args.seed)
                print(f"{name} / {method} / α={alpha:g}: {seconds:.0f} s", file=sys.stderr, flush=True)
                results.append({"task": name, "method": method, "alpha": alpha, "seed": args.seed,
                                "training_steps": module.schedule.total_steps, "seconds": seconds, **report})

    if args.from_json:
        results = json.loads(Path(args.out).read_text())
    elif args.merge and Path(args.out).exists():
        key = lambda row: (row["task"], row["method"], row["alpha"], row["seed"])  # noqa: E731
        fresh = {key(row) for row in results}
        kept = [row for row in json.loads(Path(args.out).read_text()) if key(row) not in fresh]
        order = {name: i for i, name in enumerate(TASKS)}
        results = sorted(kept + results, key=lambda row: (order[row["task"]], row["alpha"], METHODS.index(row["method"])))
    header = [
        "task", "method", "α", "reward", "target reward", "KL estimate", "exact KL", "mean error",
        "sliced W2", "SW2 floor", "weight TV", "TV floor (mean)", "steps", "time (s)",
    ]
    rows = [
        [r["task"], r["method"], f"{r['alpha']:g}", r["reward"], r["target_reward"],
         f"{r['kl_estimate']:.3f} ± {r['kl_stderr']:.2g}", r["exact_kl"], r["mean_error"], r["sliced_wasserstein"],
         r["sliced_wasserstein_floor"], r.get("weight_tv"), r.get("weight_tv_expected_floor"), r["training_steps"],
         f"{r['seconds']:.0f}"]
        for r in results
    ]
    print(markdown_table(header, rows))
    if not args.from_json:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nsaved {args.out}")


if __name__ == "__main__":
    main()
