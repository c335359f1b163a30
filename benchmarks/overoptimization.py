"""Reward collapse on real data: fine-tuning the digits model on an imperfect learned reward.

    .venv/bin/rewardsde fit --config configs/pretrain_digits.yaml     # once: writes pretrained/digits
    .venv/bin/python benchmarks/overoptimization.py [--alphas 0.2 1.0]

The learned reward is log p(8 | x) under a softmax regression fitted to 50 digits;
the genuine reward is log p(8 | x) under an MLP fitted to all 1797. Each run goes
through the CLI with the repository's configs, so the numbers are those a user
sees in TensorBoard:

* ``no KL``: ``configs/no_kl_digits.yaml`` (DRaFT-1, α = 0);
* ``fixed ν``: ``configs/elegant_digits.yaml`` with ``learn_initial=false``;
* ``ELEGANT``: ``configs/elegant_digits.yaml``.

The table gives, at the end of each run, the learned and genuine rewards, the
diversity (mean pairwise L2 distance between samples, and the Vendi score) and
the KL estimate to the pretrained model; the ``pretrained`` row is the model
before fine-tuning. The last columns put each KL-regularised run next to the
no-KL run at the point of its training where it had reached the same learned
reward (interpolated linearly between the pretrained model and its evaluations;
``-`` if it never did). The figure
(``docs/figures/overoptimization.png``) shows genuine against learned reward and
genuine reward against KL over training, and each run's final samples.
With ``--reuse`` the runs already in ``--log-dir`` are read instead of refitted.
"""

from __future__ import annotations

import argparse
import io
import math
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import torch
from _common import markdown_table
from matplotlib.figure import Figure
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rewardsde import DDPMPipelineSDE, sample_reference
from rewardsde.callbacks import Diversity
from rewardsde.images import DigitReward

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
TAGS = {
    "learned": "reward/learned",
    "genuine": "reward/genuine",
    "distance": "diversity/mean_distance",
    "vendi": "diversity/vendi",
    "kl": "kl/total",
}


def run(
    name: str, config: str, overrides: list[str], log_dir: Path, drift_steps: int | None, reuse: bool
) -> dict[str, np.ndarray]:
    """Fit one config through the CLI (unless ``reuse`` finds a finished run) and read
    its evaluation scalars and last sample grid back from TensorBoard."""
    if not (reuse and list((log_dir / name).glob("version_*"))):
        fit(name, config, overrides, log_dir, drift_steps)
    events = EventAccumulator(str(max((log_dir / name).glob("version_*"), key=lambda p: p.stat().st_mtime)))
    events.Reload()
    curves = {key: np.array([e.value for e in events.Scalars(tag)]) for key, tag in TAGS.items()}
    curves["step"] = np.array([e.step for e in events.Scalars(TAGS["learned"])])
    curves["grid"] = matplotlib.image.imread(io.BytesIO(events.Images("samples/grid")[-1].encoded_image_string))
    return curves


def fit(name: str, config: str, overrides: list[str], log_dir: Path, drift_steps: int | None) -> None:
    extra = [f"--model.init_args.drift_steps={drift_steps}"] if drift_steps else []
    command = [
        sys.executable, "-m", "rewardsde", "fit", "--config", str(ROOT / "configs" / config), *overrides, *extra,
        f"--trainer.logger.init_args.save_dir={log_dir}", f"--trainer.logger.init_args.name={name}",
        "--trainer.enable_progress_bar=false",
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{result.stderr[-3000:]}")
    print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def pretrained_row(pipeline: str, samples: int, learned: DigitReward, genuine: DigitReward) -> dict[str, float]:
    """The same scalars for the pretrained model itself (KL 0)."""
    x = sample_reference(DDPMPipelineSDE(pipeline), samples, steps=15, method="midpoint", seed=0)
    diversity = Diversity()
    diversity.update(x)
    spread = diversity.compute()
    return {"learned": learned(x).mean().item(), "genuine": genuine(x).mean().item(),
            "distance": spread["mean_distance"].item(), "vendi": spread["vendi"].item(), "kl": 0.0}


def at_learned_reward(curves: dict[str, np.ndarray], start: dict[str, float], level: float) -> dict[str, float] | None:
    """Interpolate a run's genuine reward and diversity where its learned reward first reaches ``level``,
    on the path from the pretrained model (``start``) through its evaluations."""
    path = {key: np.concatenate([[start[key]], curves[key]]) for key in ("learned", "genuine", "distance")}
    learned = path["learned"]
    above = np.nonzero(learned >= level)[0]
    if not len(above):
        return None
    i = above[0]
    if i == 0:
        return {key: float(path[key][0]) for key in ("genuine", "distance")}
    w = (level - learned[i - 1]) / (learned[i] - learned[i - 1])
    return {key: float((1 - w) * path[key][i - 1] + w * path[key][i]) for key in ("genuine", "distance")}


def figure(runs: dict[str, dict[str, np.ndarray]], pretrained: dict[str, float], path: str) -> None:
    fig = Figure(figsize=(10, 4 + 2.2 * math.ceil(len(runs) / 5)))
    top, bottom = fig.subfigures(2, 1, height_ratios=[4, 2.2 * math.ceil(len(runs) / 5)])
    left, right = top.subplots(1, 2)
    grids = bottom.subplots(math.ceil(len(runs) / 5), 5, squeeze=False).flatten()
    for axis in grids:
        axis.axis("off")
    for axis, (name, curves) in zip(grids, runs.items()):
        axis.imshow(curves["grid"])
        axis.set_title(f"{name}: final samples", fontsize=8)
    for name, curves in runs.items():
        for axis, x in ((left, "learned"), (right, "kl")):
            xs = np.concatenate([[pretrained[x]], curves[x]])
            ys = np.concatenate([[pretrained["genuine"]], curves["genuine"]])
            axis.plot(xs, ys, marker="o", markersize=3, label=name)
    left.set_xlabel("learned reward (optimised)")
    right.set_xlabel("KL estimate to the pretrained model")
    right.set_xscale("symlog", linthresh=1.0)
    for axis in (left, right):
        axis.set_ylabel("genuine reward")
        axis.scatter([pretrained["learned" if axis is left else "kl"]], [pretrained["genuine"]], color="black",
                     zorder=3, label="pretrained" if axis is left else None)
    left.legend(fontsize=8)
    top.suptitle("digits: genuine against learned reward, and against KL, over training")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", default="pretrained/digits")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.2, 1.0], help="KL weights")
    parser.add_argument("--drift-steps", type=int, default=None, help="override the configs' drift_steps")
    parser.add_argument("--log-dir", default="lightning_logs/overoptimization")
    parser.add_argument("--figure", default="docs/figures/overoptimization.png")
    parser.add_argument("--reuse", action="store_true", help="read finished runs in --log-dir instead of refitting")
    args = parser.parse_args()
    log_dir = Path(args.log_dir)
    common = [f"--model.init_args.sde.init_args.path={args.pipeline}"]

    runs = {"no KL": run("no_kl", "no_kl_digits.yaml", common, log_dir, args.drift_steps, args.reuse)}
    for alpha in args.alphas:
        for method, learn in (("fixed ν", "false"), ("ELEGANT", "true")):
            overrides = [*common, f"--model.init_args.alpha={alpha}", f"--model.init_args.learn_initial={learn}"]
            name = f"{method} α={alpha:g}"
            runs[name] = run(name.replace(" ", "_").replace("ν", "nu"), "elegant_digits.yaml", overrides, log_dir,
                             args.drift_steps, args.reuse)

    torch.manual_seed(0)
    pretrained = pretrained_row(args.pipeline, 256, DigitReward(8, train_size=50), DigitReward(8, hidden=64))
    rows = [["pretrained", *(pretrained[k] for k in TAGS), None, None]]
    for name, curves in runs.items():
        final = {key: float(curves[key][-1]) for key in TAGS}
        matched = None if name == "no KL" else at_learned_reward(runs["no KL"], pretrained, final["learned"])
        rows.append([name, *(final[k] for k in TAGS), *(None if matched is None else matched[k] for k in ("genuine", "distance"))])
    header = ["run", "learned reward", "genuine reward", "mean distance", "Vendi", "KL",
              "no KL at this learned reward: genuine", "…: mean distance"]
    print(markdown_table(header, rows))
    figure(runs, pretrained, args.figure)
    print(f"\nsaved {args.figure}")


if __name__ == "__main__":
    main()
