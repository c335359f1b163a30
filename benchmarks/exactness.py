"""ELEGANT, its fixed-initial-law baseline and reward backprop without KL, against exact targets.

    .venv/bin/python benchmarks/exactness.py

Each row fits one method on one analytic task and measures 4000 of its samples
against the exact fine-tuning target ``p*(x) ∝ p_pre(x)·exp(r(x)/α)``
(:func:`rewardsde.callbacks.exact_report`):

* ``gaussian``: the Brownian prior ``dx = dW`` from ``x_0 ~ N(0, 1)`` with
  ``r(x) = x`` (``configs/elegant_gaussian.yaml``). The end remembers the start, so
  only a learned initial law reaches the target ``N(2/α, 2)``; with ν fixed the
  best reachable mean is ``1/α``.
* ``gmm``: a three-mode VP mixture prior with ``r(x) = x₁``
  (``configs/elegant_gmm.yaml``); the target reweights the modes.

Methods: ``ELEGANT`` (learned initial law), ``fixed ν`` (initial law kept at
``N(0, I)``) and ``no KL`` (DRaFT-1: reward backprop through the last step, no KL).
The no-KL model does not depend on α; it is fitted once per task and measured
against each α's target. Its objective has no maximiser for a linear reward, so
its samples run away (on ``gaussian`` far enough that the float32 running cost
overflows and the KL estimate reads nan). The sliced-W₂ noise floor is the
distance of an independent exact sample of the same size; it is one draw, and a
sample of the target itself lands within about twice it. About 4 minutes on 2 CPU
cores; a progress line per run goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings

import lightning as L
import torch
from _common import markdown_table

from rewardsde import NetworkCorrection
from rewardsde.analytic import BrownianPrior, GaussianMixturePrior, LinearReward
from rewardsde.callbacks import exact_report
from rewardsde.datamodules import FineTuneDataModule
from rewardsde.lightning_modules import ElegantModule, NoKLModule

TASKS = {
    "gaussian": {
        "prior": lambda: BrownianPrior(1, c=1.0),
        "reward": lambda: LinearReward([1.0]),
        "alphas": [0.5, 1.0],
        "solver": {"steps": 20},
        "drift": {"drift_steps": 300, "lr": 1e-2},
        "initial": {"value_steps": 200, "initial_steps": 600, "value_lr": 1e-2, "initial_lr": 1e-2},
    },
    "gmm": {
        "prior": lambda: GaussianMixturePrior([0.5, 0.3, 0.2], [[-1.5, 0.0], [1.5, 0.0], [0.0, 2.0]], [0.5] * 3),
        "reward": lambda: LinearReward([1.0, 0.0]),
        "alphas": [2.0],
        "solver": {"steps": 25, "method": "midpoint", "backend": "direct"},
        "drift": {"drift_steps": 1000, "lr": 5e-3},
        "initial": {"value_steps": 100, "initial_steps": 200, "value_lr": 1e-2, "initial_lr": 1e-2},
    },
}
METHODS = ("ELEGANT", "fixed ν", "no KL")


def build(task: dict, method: str, alpha: float, seed: int) -> L.LightningModule:
    """The module of ``method`` on ``task``, with the task's hyperparameters."""
    torch.manual_seed(seed)
    parts = (task["prior"](), NetworkCorrection(hidden=64), task["reward"]())
    if method == "no KL":
        solver = task["solver"] | {"backend": "truncated", "truncate": 1}
        return NoKLModule(*parts, **solver, **task["drift"], seed=seed)
    return ElegantModule(
        *parts, alpha=alpha, learn_initial=method == "ELEGANT", **task["solver"], **task["drift"], **task["initial"],
        seed=seed,
    )


def fit(module: L.LightningModule) -> L.LightningModule:
    """Train through every phase; the module stops the Trainer itself."""
    trainer = L.Trainer(
        accelerator="cpu", max_epochs=-1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, FineTuneDataModule(batch_size=256))
    return module


def task_alphas(text: str) -> tuple[str, list[float]]:
    """Parse ``TASK=A,B,...``."""
    task, _, values = text.partition("=")
    if task not in TASKS or not values:
        raise argparse.ArgumentTypeError(f"expected TASK=A,B with TASK one of {', '.join(TASKS)}, got {text!r}")
    return task, [float(value) for value in values.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS), help="tasks to run")
    parser.add_argument(
        "--alphas", type=task_alphas, action="append", default=[], metavar="TASK=A,B",
        help="override a task's KL weights, e.g. --alphas gaussian=0.25,0.5 (repeatable)",
    )
    parser.add_argument("--samples", type=int, default=4000, help="samples per report")
    parser.add_argument("--seed", type=int, default=0, help="seed of the networks, the training noise and the reports")
    args = parser.parse_args()
    alphas = {name: task["alphas"] for name, task in TASKS.items()} | dict(args.alphas)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # stderr: one progress line per run
    warnings.filterwarnings("ignore", module="lightning")

    rows = []
    for name in args.tasks:
        task = TASKS[name]
        no_kl = None
        for alpha in alphas[name]:
            for method in METHODS:
                start = time.perf_counter()
                if method != "no KL":
                    module = fit(build(task, method, alpha, args.seed))
                else:
                    if no_kl is None:
                        no_kl = fit(build(task, method, alpha, args.seed))
                    module = no_kl
                report = exact_report(module, samples=args.samples, seed=args.seed, alpha=alpha)
                seconds = time.perf_counter() - start
                print(f"{name} / {method} / α={alpha:g}: {seconds:.0f} s", file=sys.stderr, flush=True)
                rows.append(
                    [
                        name, method, f"{alpha:g}", report["reward"], report["target_reward"],
                        f"{report['kl_estimate']:.3f} ± {report['kl_stderr']:.2g}", report["exact_kl"],
                        report["mean_error"], report["sliced_wasserstein"], report["sliced_wasserstein_floor"],
                        report.get("weight_tv"),
                    ]
                )

    header = [
        "task", "method", "α", "reward", "target reward", "KL estimate", "exact KL", "mean error",
        "sliced W2", "SW2 floor", "weight TV",
    ]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
