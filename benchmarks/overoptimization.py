"""Reward collapse on real data: ELEGANT, fixed ν, Adjoint Matching and no KL on the digits model.

    .venv/bin/rewardsde fit --config configs/pretrain_digits.yaml     # once: writes pretrained/digits
    .venv/bin/python benchmarks/overoptimization.py [--seeds 0 1 2] [--alphas 0.2] [--jobs 2]

The learned reward is log p(8 | x) under a softmax regression fitted to 50 digits;
the genuine reward is log p(8 | x) under an MLP fitted to all 1797. Each run goes
through the CLI with the repository's configs, so the numbers are those a user
sees in TensorBoard:

* ``no KL``: ``configs/no_kl_digits.yaml`` (DRaFT-1, α = 0);
* ``fixed ν``: ``configs/elegant_digits.yaml`` with ``learn_initial=false``;
* ``ELEGANT``: ``configs/elegant_digits.yaml``;
* ``Adjoint Matching``: ``configs/adjoint_matching_digits.yaml``.

Each method runs once per seed (``seed_everything`` and the module's noise seed; the
learned reward's 50 digits stay the same). At the end of each run the table gives
the learned and genuine rewards, the diversity of 256 samples in the genuine
classifier's hidden layer (:class:`rewardsde.images.DigitFeatures`; pixel distances
do not see the collapse), the KL estimate to the pretrained model, the wall-clock
from the run's first logged event to the first evaluation whose learned reward
reached ``--level``, and the no-KL run's genuine reward where it reached the same
learned reward (interpolated between evaluations). Means ± standard errors over
seeds; every run's row goes to ``benchmarks/results/overoptimization.json``. The
figure (``docs/figures/overoptimization.png``) shows genuine against learned reward
and against KL over training for seed 0, and the final samples. With ``--reuse`` the
runs already in ``--log-dir`` are read instead of refitted; ``--jobs 2`` runs two
fits at once (each on one thread), as the published table was.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import torch
from _common import markdown_table, mean_se
from matplotlib.figure import Figure
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rewardsde import DDPMPipelineSDE, sample_reference
from rewardsde.callbacks import Diversity
from rewardsde.images import DigitFeatures, DigitReward

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
METHODS = {  # method -> (config, overrides)
    "no KL": ("no_kl_digits.yaml", []),
    "fixed ν": ("elegant_digits.yaml", ["--model.init_args.learn_initial=false"]),
    "ELEGANT": ("elegant_digits.yaml", ["--model.init_args.learn_initial=true"]),
    "Adjoint Matching": ("adjoint_matching_digits.yaml", []),
}
TAGS = {
    "learned": "reward/learned",
    "genuine": "reward/genuine",
    "distance": "diversity/mean_distance",
    "vendi": "diversity/vendi",
    "kl": "kl/total",
}


def command(name: str, config: str, overrides: list[str], log_dir: Path, drift_steps: int | None) -> list[str]:
    """The CLI call that fits ``config`` as run ``name`` under ``log_dir``."""
    extra = [f"--model.init_args.drift_steps={drift_steps}"] if drift_steps else []
    return [
        sys.executable, "-m", "rewardsde", "fit", "--config", str(ROOT / "configs" / config), *overrides, *extra,
        f"--trainer.logger.init_args.save_dir={log_dir}", f"--trainer.logger.init_args.name={name}",
        "--trainer.enable_progress_bar=false",
    ]


def fit_all(commands: dict[str, list[str]], jobs: int) -> None:
    """Run the fits, ``jobs`` at a time, each on one torch thread; raise on the first failure."""
    pending, running = list(commands.items()), {}
    environment = os.environ | {"OMP_NUM_THREADS": "1"}
    while pending or running:
        while pending and len(running) < jobs:
            name, call = pending.pop(0)
            running[name] = (subprocess.Popen(call, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                              env=environment), time.perf_counter())
        time.sleep(1.0)
        for name, (process, start) in list(running.items()):
            if process.poll() is None:
                continue
            del running[name]
            if process.returncode != 0:
                raise RuntimeError(f"{name} failed:\n{process.stderr.read()[-3000:]}")
            print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)


def read(log_dir: Path, name: str) -> dict[str, np.ndarray]:
    """A finished run's evaluation scalars (with their wall-clock since the run's first event)
    and last sample grid, from TensorBoard."""
    events = EventAccumulator(str(max((log_dir / name).glob("version_*"), key=lambda p: p.stat().st_mtime)))
    events.Reload()
    curves = {key: np.array([e.value for e in events.Scalars(tag)]) for key, tag in TAGS.items()}
    curves["step"] = np.array([e.step for e in events.Scalars(TAGS["learned"])])
    first = min(events.Scalars(tag)[0].wall_time for tag in events.Tags()["scalars"])
    curves["seconds"] = np.array([e.wall_time - first for e in events.Scalars(TAGS["learned"])])
    curves["grid"] = matplotlib.image.imread(io.BytesIO(events.Images("samples/grid")[-1].encoded_image_string))
    return curves


def pretrained_row(pipeline: str, samples: int, learned: DigitReward, genuine: DigitReward) -> dict[str, float]:
    """The same scalars for the pretrained model itself (KL 0)."""
    x = sample_reference(DDPMPipelineSDE(pipeline), samples, steps=15, method="midpoint", seed=0)
    diversity = Diversity(DigitFeatures(hidden=64))
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


def first_reaching(curves: dict[str, np.ndarray], level: float) -> float | None:
    """Seconds to the first evaluation whose learned reward is at least ``level`` (``None``: never)."""
    reached = np.nonzero(curves["learned"] >= level)[0]
    return float(curves["seconds"][reached[0]]) if len(reached) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", default="pretrained/digits")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.2], help="KL weights")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--level", type=float, default=-1.0, help="learned reward whose first crossing is timed")
    parser.add_argument("--drift-steps", type=int, default=None, help="override the configs' drift_steps")
    parser.add_argument("--jobs", type=int, default=1, help="fits run at once, each on one thread")
    parser.add_argument("--log-dir", default="lightning_logs/overoptimization")
    parser.add_argument("--figure", default="docs/figures/overoptimization.png")
    parser.add_argument("--out", default="benchmarks/results/overoptimization.json")
    parser.add_argument("--reuse", action="store_true", help="read finished runs in --log-dir instead of refitting")
    args = parser.parse_args()
    log_dir = Path(args.log_dir)

    plan = {}  # (method, alpha, seed) -> (run name, config, overrides)
    for seed in args.seeds:
        common = [f"--model.init_args.sde.init_args.path={args.pipeline}", f"--seed_everything={seed}",
                  f"--model.init_args.seed={seed}"]
        for method in args.methods:
            config, extra = METHODS[method]
            for alpha in [0.0] if method == "no KL" else args.alphas:
                overrides = [*common, *extra] + ([f"--model.init_args.alpha={alpha}"] if method != "no KL" else [])
                name = f"{method} α={alpha:g} seed {seed}".replace(" ", "_").replace("ν", "nu").replace("α", "alpha")
                plan[(method, alpha, seed)] = (name, config, overrides)
    todo = {name: command(name, config, overrides, log_dir, args.drift_steps)
            for name, config, overrides in plan.values()
            if not (args.reuse and list((log_dir / name).glob("version_*")))}
    fit_all(todo, args.jobs)
    runs = {key: read(log_dir, name) for key, (name, _, _) in plan.items()}

    torch.manual_seed(0)
    pretrained = pretrained_row(args.pipeline, 256, DigitReward(8, train_size=50), DigitReward(8, hidden=64))
    results = []
    for (method, alpha, seed), curves in runs.items():
        final = {key: float(curves[key][-1]) for key in TAGS}
        no_kl = runs.get(("no KL", 0.0, seed))
        matched = None if method == "no KL" or no_kl is None else at_learned_reward(no_kl, pretrained, final["learned"])
        results.append({"method": method, "alpha": alpha, "seed": seed, **final,
                        "seconds_to_level": first_reaching(curves, args.level), "level": args.level,
                        "seconds": float(curves["seconds"][-1]),
                        "no_kl_genuine_at_learned": None if matched is None else matched["genuine"]})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"pretrained": pretrained, "runs": results}, indent=1) + "\n")

    rows = [["pretrained", "-", *(f"{pretrained[k]:.3g}" for k in TAGS), "-", "-", "-"]]
    for method in args.methods:
        for alpha in [0.0] if method == "no KL" else args.alphas:
            cell = [r for r in results if r["method"] == method and r["alpha"] == alpha]
            rows.append([method if method == "no KL" else f"{method} α={alpha:g}", len(cell),
                         *(mean_se([r[k] for r in cell]) for k in TAGS),
                         mean_se([r["seconds_to_level"] for r in cell]), mean_se([r["seconds"] for r in cell]),
                         mean_se([r["no_kl_genuine_at_learned"] for r in cell])])
    header = ["run", "seeds", "learned reward", "genuine reward", "feature distance", "Vendi (features)", "KL",
              f"seconds to learned ≥ {args.level:g}", "seconds in all", "no KL at this learned reward: genuine"]
    print(markdown_table(header, rows))
    first_seed = {f"{m} α={a:g}" if m != "no KL" else m: c for (m, a, s), c in runs.items() if s == args.seeds[0]}
    figure(first_seed, pretrained, args.figure)
    print(f"\nsaved {args.figure} and {args.out}")


if __name__ == "__main__":
    main()
