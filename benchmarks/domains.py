"""Sequences and molecules: pretraining, ELEGANT on a surrogate, and a genetic algorithm at equal queries.

    .venv/bin/python benchmarks/domains.py [--reuse] [--drift-steps N]

Each run goes through the CLI with the repository's configs (``pretrain_ehrlich``,
``elegant_ehrlich``, ``seiko_ehrlich``, ``pretrain_moses``, ``elegant_moses``,
``seiko_moses``); the fine-tuned rows are the last evaluation that
``SampleEvaluation`` wrote to TensorBoard. ELEGANT spends ``--queries`` oracle
labels on its surrogate; SEIKO spends its config's budget (512) over its rounds. ``--reuse``
keeps existing ``pretrained/ehrlich`` and ``pretrained/moses`` directories.

* Ehrlich ``v20 L32 c2 k4``: feasibility rate, mean and best genuine value, mean
  pairwise Hamming distance and the KL estimate, for fresh samples of the
  instance's Markov process (the data), the pretrained model and the fine-tuned
  ones; then holo's ``DiscreteEvolution`` (:mod:`genetic_algorithm`): its best and
  mean value after as many oracle queries as one population, as the fine-tuning's
  surrogate had labels, and four times that, started from holo's initial solution
  (its default), from fresh samples of the instance's Markov process (the data the
  diffusion model knows) and from the pretrained model's samples, with holo's
  mutation rate and with one mutation per child on average.
* MOSES: validity, uniqueness, novelty (against the pretraining subset), Tanimoto
  diversity, mean QED and SA of the subset itself, the pretrained model and the
  models fine-tuned toward QED.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import torch
from _common import markdown_table
from genetic_algorithm import genetic_algorithm
from sequence_quality import EHRLICH_HEADER, MOSES_HEADER, MOSES_KEYS, ehrlich_row, moses_row
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rewardsde import sample_reference
from rewardsde.callbacks import MoleculeMetrics
from rewardsde.domains import GenuineReward, SequenceSDE, decode, moses_smiles, one_hot, read_domain

ROOT = Path(__file__).resolve().parents[1]
EHRLICH_TAGS = ["ehrlich/feasibility", "reward/genuine", "ehrlich/best", "ehrlich/hamming", "kl/total"]


def fit(config: str, name: str, log_dir: Path, overrides: list[str]) -> dict[str, float]:
    """Run one config through the CLI; the last value of every scalar it logged."""
    command = [sys.executable, "-m", "rewardsde", "fit", "--config", str(ROOT / "configs" / config), *overrides,
               f"--trainer.logger.init_args.save_dir={log_dir}", f"--trainer.logger.init_args.name={name}",
               "--trainer.enable_progress_bar=false"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{result.stderr[-3000:]}")
    print(f"{config}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    events = EventAccumulator(str(max((log_dir / name).glob("version_*"), key=lambda p: p.stat().st_mtime)))
    events.Reload()
    return {tag: events.Scalars(tag)[-1].value for tag in events.Tags()["scalars"]}


def finetune_overrides(args: argparse.Namespace, path: str) -> list[str]:
    """The pretrained directory, the surrogate's labels (oracle queries) and optionally the drift steps."""
    extra = [f"--model.init_args.drift_steps={args.drift_steps}"] if args.drift_steps else []
    return [f"--model.init_args.sde.init_args.path={path}", f"--model.init_args.reward.init_args.train_size={args.queries}",
            *extra]


def pretrain_and_tune(args: argparse.Namespace, log_dir: Path, domain: str) -> tuple[str, dict, dict]:
    """``pretrained/<domain>`` (pretrained unless ``--reuse`` finds it), and the last scalars of ELEGANT and SEIKO on it."""
    path = f"pretrained/{domain}"
    if not (args.reuse and Path(path).is_dir()):
        fit(f"pretrain_{domain}.yaml", f"pretrain_{domain}", log_dir, [f"--model.init_args.output_dir={path}"])
    tuned = fit(f"elegant_{domain}.yaml", f"elegant_{domain}", log_dir, finetune_overrides(args, path))
    seiko = fit(f"seiko_{domain}.yaml", f"seiko_{domain}", log_dir, [f"--model.init_args.sde.init_args.path={path}"])
    return path, tuned, seiko


def ehrlich_tables(args: argparse.Namespace, log_dir: Path) -> str:
    path, tuned, seiko = pretrain_and_tune(args, log_dir, "ehrlich")
    instance = GenuineReward(path).reward
    data = instance.sample(args.samples, torch.Generator().manual_seed(0))
    pretrained = sample_reference(SequenceSDE(path), args.samples, steps=args.steps, seed=0)
    rows = [["data (DMP samples)", *ehrlich_row(path, one_hot(data, instance.num_states)), 0.0, 0],
            ["pretrained", *ehrlich_row(path, pretrained), 0.0, 0],
            ["ELEGANT (surrogate)", *(tuned[t] for t in EHRLICH_TAGS), args.queries],
            ["SEIKO (UCB ensemble)", *(seiko[t] for t in EHRLICH_TAGS), int(seiko["seiko/queries"])]]
    table = markdown_table(["Ehrlich v20 L32 c2 k4", *EHRLICH_HEADER, "KL", "oracle queries"], rows)
    budgets = [args.particles, args.queries, 4 * args.queries]
    starts = {
        "holo's initial solution": instance.function.initial_solution().long().expand(args.particles, -1),
        "DMP samples (the data)": instance.sample(args.particles, torch.Generator().manual_seed(1)),
        "pretrained samples": decode(sample_reference(SequenceSDE(path), args.particles, steps=args.steps, seed=1)),
    }
    rates = {"0.2 (holo)": 0.2, "1/L": 1.0 / instance.dim}
    ga_rows = [[f"GA from {name}, mutation {rate}", *row] for name, start in starts.items()
               for rate, p in rates.items() for row in genetic_algorithm(instance, start, budgets, p, seed=0)]
    ga_rows.append(["ELEGANT (surrogate), 256 samples", args.queries, tuned["ehrlich/best"], tuned["reward/genuine"]])
    ga_rows.append(["SEIKO, 256 samples", int(seiko["seiko/queries"]), seiko["ehrlich/best"], seiko["reward/genuine"]])
    ga = markdown_table(["method", "oracle queries", "best f so far", "mean f (last population / samples)"], ga_rows)
    return table + "\n\n" + ga


def moses_table(args: argparse.Namespace, log_dir: Path) -> str:
    path, tuned, seiko = pretrain_and_tune(args, log_dir, "moses")
    instance = read_domain(path).instance
    subset = moses_smiles(instance.size, instance.seed)
    data = MoleculeMetrics(training_smiles=subset)
    data.update(subset[: args.samples])
    pretrained = sample_reference(SequenceSDE(path), args.samples, steps=args.steps, seed=0)
    rows = [["MOSES subset", *(data.compute()[k].item() for k in MOSES_KEYS)],
            ["pretrained", *moses_row(path, pretrained)],
            ["ELEGANT toward QED (surrogate)", *(tuned[f"moses/{k}"] for k in MOSES_KEYS)],
            ["SEIKO toward QED (UCB ensemble)", *(seiko[f"moses/{k}"] for k in MOSES_KEYS)]]
    return markdown_table(["molecules", *MOSES_HEADER], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep existing pretrained/ehrlich and pretrained/moses")
    parser.add_argument("--drift-steps", type=int, default=None, help="override the configs' drift_steps")
    parser.add_argument("--samples", type=int, default=256, help="samples per data/pretrained row")
    parser.add_argument("--queries", type=int, default=512, help="oracle queries: the surrogate's labels and the GA's budget")
    parser.add_argument("--particles", type=int, default=128, help="genetic-algorithm population")
    parser.add_argument("--steps", type=int, default=20, help="midpoint steps of the pretrained rows (the configs' steps)")
    parser.add_argument("--log-dir", default="lightning_logs/domains")
    args = parser.parse_args()
    log_dir = Path(args.log_dir)
    print(ehrlich_tables(args, log_dir))
    print()
    print(moses_table(args, log_dir))


if __name__ == "__main__":
    main()
