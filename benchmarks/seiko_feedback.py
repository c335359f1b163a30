"""SEIKO's reward models at equal query budgets on the analytic task of ``configs/seiko_analytic.yaml``.

    .venv/bin/python benchmarks/seiko_feedback.py

Each variant runs the config (three rounds of 64 oracle queries, 192 in all) with
one override: ``UCB`` (the config), ``bootstrap`` (max over 4 bootstrap heads),
``TS`` (one bootstrap head drawn per round), ``greedy`` (no bonus) and
``non-adaptive`` (one round of all 192 queries from the pretrained model, then as
many fine-tuning steps as the three rounds together). After each round the model's
genuine reward is measured on 512 fresh samples with the oracle's noise-free reward
(``SampleEvaluation.reward_versus_queries``, once before the first round and after each). The table gives the final genuine reward,
mean ± std over seeds, and the exact optimum of the last round with the genuine
reward known (``ModeReward.round_optima``), which no learned reward can beat in
expectation; the figure plots genuine reward against queries. Runs go to
``--workers`` processes of one thread each (about 10 minutes on 2 CPU cores with
the defaults); a progress line per run goes to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "seiko_analytic.yaml"
VARIANTS = {
    "UCB": [],
    "bootstrap": ["--model.init_args.reward_model=rewardsde.rewards.BootstrapReward"],
    "TS": ["--model.init_args.reward_model=rewardsde.rewards.ThompsonReward"],
    "greedy": ["--model.init_args.reward_model=rewardsde.rewards.GreedyReward"],
    "non-adaptive": ["--model.init_args.round_sizes=[192]", "--model.init_args.drift_steps=240",
                     "--model.init_args.value_steps=60", "--model.init_args.initial_steps=60"],
}


def run(variant: str, seed: int, store: Path) -> list[tuple[int, float]]:
    """One SEIKO run of the config with ``variant``'s overrides; its reward-versus-queries curve."""
    import lightning as L
    import torch
    from lightning.pytorch.cli import LightningCLI

    torch.set_num_threads(1)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    args = ["--config", str(CONFIG), *VARIANTS[variant], f"--seed_everything={seed}", f"--model.init_args.seed={seed}",
            f"--model.init_args.oracle.init_args.seed={seed}", f"--model.init_args.label_store={store}"]
    cli = LightningCLI(L.LightningModule, L.LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
                       parser_kwargs={"parser_mode": "omegaconf+"}, args=args, run=False, save_config_callback=None)
    from rewardsde.callbacks import SampleEvaluation

    evaluation = SampleEvaluation(every_n_steps=cli.model.round_length, samples=512, at_start=True)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, max_epochs=-1, default_root_dir=store.parent, callbacks=[evaluation])
    start = time.time()
    trainer.fit(cli.model, cli.datamodule)
    print(f"{variant} seed {seed}: {time.time() - start:.0f}s", file=sys.stderr, flush=True)
    return evaluation.reward_versus_queries()


def exact_optima() -> tuple[list[int], list[float]]:
    """Queries after each round and the expected genuine reward of that round's exact optimum, from the config."""
    import yaml

    from rewardsde.analytic import GaussianMixturePrior, ModeReward

    model = yaml.safe_load(CONFIG.read_text())["model"]["init_args"]
    prior = GaussianMixturePrior(**model["sde"]["init_args"])
    oracle = model["oracle"]["init_args"]
    reward = ModeReward(**oracle["reward"]["init_args"])
    sizes = model["round_sizes"]
    optima = reward.round_optima(prior.terminal_law(), model["alpha"], model["beta"], len(sizes), oracle["infeasible_value"])
    return [sum(sizes[: i + 1]) for i in range(len(sizes))], optima.tolist()


def figure(curves: dict[str, list[list[tuple[int, float]]]], exact: tuple[list[int], list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    for variant, runs in curves.items():
        queries = np.array([q for q, _ in runs[0]])
        values = np.array([[g for _, g in curve] for curve in runs])
        mean, std = values.mean(0), values.std(0)
        ax.plot(queries, mean, marker="o", label=variant)
        ax.fill_between(queries, mean - std, mean + std, alpha=0.15)
    ax.plot(*exact, "k--", label="exact optimum (reward known)")
    ax.set_xlabel("oracle queries")
    ax.set_ylabel("genuine reward")
    ax.set_title("SEIKO on the analytic task (mean ± std over seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    from _common import markdown_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--figure", type=Path, default=Path("docs/figures/seiko_feedback.png"))
    parser.add_argument("--scratch", type=Path, default=Path("lightning_logs") / "seiko_feedback")
    options = parser.parse_args()
    options.scratch.mkdir(parents=True, exist_ok=True)
    jobs = {}
    with ProcessPoolExecutor(options.workers) as pool:
        for variant in VARIANTS:
            for seed in range(options.seeds):
                store = (options.scratch / f"{variant}_{seed}.jsonl").resolve()
                store.unlink(missing_ok=True)
                jobs[variant, seed] = pool.submit(run, variant, seed, store)
    curves = {v: [jobs[v, s].result() for s in range(options.seeds)] for v in VARIANTS}
    exact = exact_optima()
    rows = []
    for variant, runs in curves.items():
        final = [curve[-1][1] for curve in runs]
        mean = sum(final) / len(final)
        std = (sum((f - mean) ** 2 for f in final) / len(final)) ** 0.5
        rows.append([variant, runs[0][-1][0], f"{mean:.3f} ± {std:.3f}", runs[0][0][1]])
    rows.append(["exact optimum", exact[0][-1], f"{exact[1][-1]:.3f}", None])
    print(markdown_table(["method", "queries", f"genuine reward ({options.seeds} seeds)", "pretrained"], rows))
    figure(curves, exact, options.figure)
    print(f"\nfigure: {options.figure}")


if __name__ == "__main__":
    main()
