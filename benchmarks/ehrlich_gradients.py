"""Why reward backprop stalls on the Ehrlich model: the pathwise gradient is heavy-tailed.

On the shipped ``pretrained/ehrlich`` model (20 midpoint steps, the fine-tuning
solver) and a learned reward (a :class:`PretrainedSurrogateReward`: 4,096 oracle labels
of the model's own samples fitted by 4 dilated 1-D CNNs scored on the decoded vertex,
``SimplexProjection(3, straight_through=True)``), three measurements:

1. ``sensitivity``: for each solver step ``k``, the quantiles over 256 paths of
   ``‖∂r̂(x_T)/∂a_k‖``, the reward's sensitivity to a control applied at step ``k``
   alone (where along the trajectory a control can act);
2. ``snr``: per-path gradients ``g_i`` of ``r̂(x_T^i)`` in the parameters of a fresh
   correction (``SequenceEps``, 32 channels, depth 2), their norm quantiles, the share
   of ``Σ‖g_i‖²`` carried by the top 1% of paths, and the signal-to-noise ratio of a
   batch mean ``‖ḡ‖²/(tr Cov(g)/B)`` for ``B`` = 32 to 2048;
3. ``curves``: fine-tuning runs of :class:`rewardsde.ElegantObjective` (batch 64,
   Adam lr 1e-3, 100 steps) with and without ``sensitivity_clip``, at α = 0
   (no KL) and α > 0: every 20 steps the learned reward, the genuine Ehrlich value,
   feasibility, Hamming diversity and KL of 256 samples.

The settings were explored on seed 0; the default reports seed 1. Writes
``benchmarks/results/ehrlich_gradients.json`` (``{"sensitivity": [...], "snr": [...],
"curves": [{"run", "alpha", "clip", "seed", "step", "learned", "genuine", "feasible",
"hamming", "kl"}]}``) and ``ehrlich_gradients.png``; about 25 minutes on one thread.
The small-α curves between the two were run as

    OMP_NUM_THREADS=1 python benchmarks/ehrlich_gradients.py
    OMP_NUM_THREADS=1 python benchmarks/ehrlich_gradients.py --no-diagnosis --steps 60 \
        --runs clipped:0.002 clipped:0.005 --out benchmarks/results/ehrlich_gradients_small_alpha.json
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import torch

from rewardsde import ControlledSDE, ElegantObjective, FineTunedSampler, NetworkCorrection, solve
from rewardsde.callbacks.hamming import mean_pairwise_hamming
from rewardsde.corrections import DriftCorrection
from rewardsde.domains import GenuineReward, PretrainedSurrogateReward, SequenceEps, SequenceSDE, SimplexProjection
from rewardsde.domains import decode
from rewardsde.rewards import GreedyReward

try:
    from ._common import curves_figure, markdown_table
except ImportError:
    from _common import curves_figure, markdown_table

RESULTS = pathlib.Path(__file__).parent / "results"
RUNS = [("pathwise", 0.0, None), ("pathwise", 0.02, None), ("clipped", 0.0, 1.0), ("clipped", 0.02, 1.0)]


class StepControl(DriftCorrection):
    """``a(t, x) = δ_k`` on solver step ``k`` (a leaf per step), to read ``∂r/∂a_k`` per path."""

    def __init__(self, delta: torch.Tensor, t1: float) -> None:
        super().__init__()
        self.delta, self.t1 = delta, t1

    def forward(self, t, x):
        k = min(int(float(t) / self.t1 * self.delta.shape[0] + 1e-6), self.delta.shape[0] - 1)
        return self.reference.drift(t, x), self.delta[k]


def learned_reward(path: str, labels: int, seed: int) -> PretrainedSurrogateReward:
    model = GreedyReward(heads=4, hidden=32, depth=3, network="cnn", kernel_size=5, pool="max",
                         features=SimplexProjection(3.0, straight_through=True), lr=1e-3, epochs=200, patience=20,
                         batch_size=128, holdout=0.1)
    return PretrainedSurrogateReward(path, train_size=labels, steps=20, seed=seed, reward_model=model)


def sensitivity(sde, reward, paths: int, seed: int, steps: int = 20) -> list[dict]:
    norms = []
    for chunk in range(0, paths, 64):
        delta = torch.zeros(steps, 64, *sde.event_shape, requires_grad=True)
        controlled = ControlledSDE(sde, StepControl(delta, sde.t1))
        x0 = sde.sample_initial(64, torch.Generator().manual_seed(seed + chunk))
        end = solve(controlled, x0, steps, backend="direct", method="midpoint", seed=seed + 10_000 + chunk)
        (grad,) = torch.autograd.grad(reward(end.x).sum(), delta)
        norms.append(grad.flatten(2).norm(dim=2).T)
    table = torch.cat(norms).double()
    q = torch.tensor([0.5, 0.9, 0.99, 1.0], dtype=torch.float64)
    return [dict(step=k, **dict(zip(("median", "p90", "p99", "max"), torch.quantile(table[:, k], q).tolist())))
            for k in range(steps)]


def gradient_snr(sde, reward, paths: int, seed: int) -> list[dict]:
    torch.manual_seed(seed)
    sampler = FineTunedSampler(sde, NetworkCorrection(SequenceEps(sde.event_shape[0], sde.event_shape[1], 32, 2)),
                               steps=20, backend="direct", method="midpoint")
    params = [p for p in sampler.parameters() if p.requires_grad]
    rows = []
    for chunk in range(0, paths, 16):
        end = sampler.solve(sampler.start(16, seed + chunk), seed + 20_000 + chunk)
        r = reward(end.x)
        for j in range(16):
            grads = torch.autograd.grad(r[j], params, retain_graph=j < 15)
            rows.append(torch.cat([g.flatten() for g in grads]))
    g = torch.stack(rows).double()
    mean, trace, norms = g.mean(0), g.var(0).sum().item(), g.norm(dim=1)
    share = norms.pow(2).sort(descending=True).values
    top = (share[: max(1, paths // 100)].sum() / share.sum()).item()
    q = torch.quantile(norms, torch.tensor([0.5, 0.99, 1.0], dtype=torch.float64)).tolist()
    return [dict(batch=b, snr=mean.pow(2).sum().item() / (trace / b), norm_median=q[0], norm_p99=q[1], norm_max=q[2],
                 top1_share=top) for b in (32, 128, 512, 2048)]


@torch.no_grad()
def evaluate(sampler, reward, genuine, samples: int, seed: int) -> dict:
    """The learned reward, genuine value (mean and best), feasibility, Hamming diversity and KL of ``samples`` fine-tuned samples."""
    rollout = sampler.rollout(samples, seed=seed)
    tokens, values = decode(rollout.x), genuine(rollout.x)
    return dict(learned=reward(rollout.x).mean().item(), genuine=values.mean().item(), best=values.max().item(),
                feasible=genuine.reward.feasible(tokens).float().mean().item(),
                hamming=mean_pairwise_hamming(tokens).item(), kl=rollout.kl.mean().item())


def curve(sde, reward, genuine, alpha, clip, seed, steps, batch, evaluate_every, samples):
    torch.manual_seed(seed)
    sampler = FineTunedSampler(sde, NetworkCorrection(SequenceEps(sde.event_shape[0], sde.event_shape[1], 32, 2)),
                               steps=20, backend="direct", method="midpoint")
    objective = ElegantObjective(sampler, reward, alpha=alpha, sensitivity_clip=clip)
    optimiser = torch.optim.Adam([p for p in sampler.parameters() if p.requires_grad], lr=1e-3)
    rows = []
    for step in range(steps + 1):
        if step % evaluate_every == 0:
            rows.append(dict(step=step, **evaluate(sampler, reward, genuine, samples, seed=10**6 + seed)))
            print(json.dumps(rows[-1]), flush=True)
        if step < steps:
            optimiser.zero_grad()
            objective.drift_loss(batch, seed=seed * 10**6 + step).value.backward()
            optimiser.step()
    return rows


def figure(curves: list[dict], path: pathlib.Path) -> None:
    curves_figure(curves, "run", [("learned", "learned"), ("genuine", "genuine"), ("feasible", "feasible")], path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="pretrained/ehrlich")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--labels", type=int, default=4096)
    parser.add_argument("--paths", type=int, default=256)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--runs", nargs="+", default=[f"{k}:{a:g}" for k, a, _ in RUNS],
                        help="fine-tuning runs as kind:alpha, kind 'pathwise' or 'clipped' (c = 1)")
    parser.add_argument("--no-diagnosis", action="store_true", help="only the fine-tuning curves")
    parser.add_argument("--out", default=str(RESULTS / "ehrlich_gradients.json"))
    parser.add_argument("--replot", metavar="JSON", help="only redraw the curves figure of a results file, beside it")
    args = parser.parse_args()
    if args.replot:
        replot = pathlib.Path(args.replot)
        figure(json.loads(replot.read_text())["curves"], replot.with_suffix(".png"))
        return
    torch.set_num_threads(1)
    start = time.perf_counter()
    sde, genuine = SequenceSDE(args.path), GenuineReward(args.path)
    reward = learned_reward(args.path, args.labels, args.seed)
    print(f"reward fitted on {reward.oracle.spent} labels ({time.perf_counter() - start:.0f} s)", flush=True)
    runs = [(kind, float(alpha), None if kind == "pathwise" else 1.0)
            for kind, alpha in (run.split(":") for run in args.runs)]
    result = {"sensitivity": [] if args.no_diagnosis else sensitivity(sde, reward, args.paths, args.seed), "snr": []}
    print(markdown_table(["step", "median", "p90", "p99", "max"],
                         [[r["step"], r["median"], r["p90"], r["p99"], r["max"]] for r in result["sensitivity"]]))
    if not args.no_diagnosis:
        result["snr"] = gradient_snr(sde, reward, args.paths, args.seed)
    print(markdown_table(["batch", "SNR", "median ‖g_i‖", "p99", "max", "top-1% share"],
                         [[r["batch"], r["snr"], r["norm_median"], r["norm_p99"], r["norm_max"], r["top1_share"]]
                          for r in result["snr"]]))
    result["curves"] = []
    for kind, alpha, clip in runs:
        name = f"{kind} α={alpha:g}"
        print(name, flush=True)
        rows = curve(sde, reward, genuine, alpha, clip, args.seed, args.steps, args.batch, 20, 256)
        result["curves"] += [dict(run=name, alpha=alpha, clip=clip, seed=args.seed, **r) for r in rows]
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")  # after each run, so a stopped benchmark keeps its part
    print(markdown_table(["run", "step", "learned", "genuine", "feasible", "hamming", "KL"],
                         [[r["run"], r["step"], r["learned"], r["genuine"], r["feasible"], r["hamming"], r["kl"]]
                          for r in result["curves"] if r["step"] in (0, 20, args.steps)]))
    figure(result["curves"], pathlib.Path(args.out).with_suffix(".png"))
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
