"""How fast a method's mode weights approach an exact tilt: the weight TV every ``--every`` steps.

    OMP_NUM_THREADS=1 python benchmarks/exactness_curve.py am --steps 1500 --batch 512 --hidden 128 --lr 1e-2
    OMP_NUM_THREADS=1 python benchmarks/exactness_curve.py am ... --times 40      # regress at every time
    OMP_NUM_THREADS=1 python benchmarks/exactness_curve.py am ... --weight-decay 0

A plain torch loop (no Lightning) on a task of ``benchmarks/exactness.py`` (default
``gmm5``): ``am`` is Adjoint Matching on Euler paths, ``elegant`` is ELEGANT's drift
phase (fixed ν) with direct backprop through the same Euler solver. AdamW with the
schedule's cosine decay; every ``--every`` steps 4096 samples are scored against the
exact tilt (mode-weight TV, and the weights themselves), and the learned control's
relative error against the closed-form optimal control
(:class:`rewardsde.analytic.OptimalMixtureControl`) on the model's own paths, per
tenth of the time grid. This is the exploration behind the gmm5 rows: run it on seeds
you do not report (default seed 1).
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import torch
from exactness import TASKS

from rewardsde import AdjointMatchingObjective, DenoiserCorrection, ElegantObjective, FineTunedSampler, NetworkCorrection, PhaseSchedule
from rewardsde.analytic import OptimalMixtureControl
from rewardsde.analytic.distances import mixture_weight_tv
from rewardsde.objective import Loss
from rewardsde.solve import trajectory


@torch.no_grad()
def control_error(sampler: FineTunedSampler, exact: OptimalMixtureControl, n: int = 2048) -> list[float]:
    """``(E‖a_θ - a*‖² / E‖a*‖²)^½`` on the learned model's own Euler paths, per tenth of the grid."""
    path, _ = trajectory(sampler.controlled, sampler.start(n, seed=7), sampler.steps, seed=8)
    reference = sampler.reference
    steps, errors = sampler.steps, []
    for tenth in range(10):
        ks = range(tenth * steps // 10, (tenth + 1) * steps // 10)
        num = den = 0.0
        for k in ks:
            t = torch.tensor(reference.t0 + (reference.t1 - reference.t0) * k / steps)
            learned, optimal = sampler.controlled.correction(t, path[k])[1], exact(t, path[k])[1]
            num += (learned - optimal).pow(2).sum().item()
            den += optimal.pow(2).sum().item()
        errors.append((num / max(den, 1e-12)) ** 0.5)
    return errors


class NoiselessMatching:
    """Adjoint Matching's regression with its target replaced by the exact control ``a*(t_k, x_k)``
    (the target's conditional mean only as the step goes to zero: ``mode_weights.py --offline``):
    same on-policy Euler paths, same batch and times. A diagnostic only (it needs the answer)."""

    def __init__(self, sampler: FineTunedSampler, exact: OptimalMixtureControl, time_samples: int) -> None:
        self.sampler, self.exact, self.time_samples = sampler, exact, time_samples

    def __call__(self, phase: str, n: int, seed: int) -> Loss:
        sampler, steps = self.sampler, self.sampler.steps
        reference = sampler.reference
        with torch.no_grad():
            path, _ = trajectory(sampler.controlled, sampler.start(n, seed=seed), steps, seed=seed + 1)
        chosen = torch.randperm(steps, generator=torch.Generator().manual_seed(seed + 2))[: self.time_samples]
        errors = []
        for k in chosen.tolist():
            t = torch.tensor(reference.t0 + (reference.t1 - reference.t0) * k / steps)
            with torch.no_grad():
                target = self.exact(t, path[k])[1]
            errors.append((sampler.controlled.correction(t, path[k])[1] - target).pow(2).sum(1))
        return Loss(torch.stack(errors).mean(), {})


def train(method: str, task: str = "gmm5", steps: int = 1500, batch: int = 512, hidden: int = 128, lr: float = 3e-3,
          weight_decay: float = 0.01, solver_steps: int = 40, times: int = 10, seed: int = 1,
          correction: str = "network", every: int = 0,
          report: Callable[[int, FineTunedSampler], None] | None = None) -> FineTunedSampler:
    """Fit ``method`` (``"am"``, ``"elegant"`` or ``"am-noiseless"``, :class:`NoiselessMatching`) on ``task`` with AdamW and the drift phase's
    cosine decay; ``report(step, sampler)`` every ``every`` steps. Returns the fine-tuned sampler."""
    torch.manual_seed(seed)
    spec = TASKS[task]
    prior, reward, alpha = spec["prior"](), spec["reward"](), spec["alphas"][0]
    network = NetworkCorrection(hidden=hidden) if correction == "network" else DenoiserCorrection(residual_hidden=hidden)
    sampler = FineTunedSampler(prior, network, steps=solver_steps, method="euler", backend="direct")
    if method == "am":
        objective = AdjointMatchingObjective(sampler, reward, alpha, time_samples=times)
    elif method == "am-noiseless":
        exact = OptimalMixtureControl(reward, alpha)
        exact.attach(prior)
        objective = NoiselessMatching(sampler, exact, times)
    else:
        objective = ElegantObjective(sampler, reward, alpha=alpha)
    schedule = PhaseSchedule(drift_steps=steps)
    optimizer = torch.optim.AdamW(network.parameters(), lr=lr, weight_decay=weight_decay)
    decay = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: schedule.phase_lr_factor("drift", k))
    for step in range(steps):
        loss = objective("drift", n=batch, seed=10_000 * seed + step)
        optimizer.zero_grad()
        loss.value.backward()
        optimizer.step()
        decay.step()
        if report is not None and every and (step + 1) % every == 0:
            report(step + 1, sampler)
    return sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method", choices=["am", "elegant", "am-noiseless"])
    parser.add_argument("--task", default="gmm5", choices=[name for name in TASKS if name != "gaussian"])
    parser.add_argument("--steps", type=int, default=1500, help="drift steps")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--correction", choices=["network", "denoiser"], default="network",
                        help="a free network for the control, or ε-parameterised (DenoiserCorrection's residual)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--solver-steps", type=int, default=40, help="Euler steps")
    parser.add_argument("--times", type=int, default=10, help="Adjoint Matching's regression times per path")
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    spec = TASKS[args.task]
    prior, reward, alpha = spec["prior"](), spec["reward"](), spec["alphas"][0]
    target = prior.tilted(reward, alpha)
    exact = OptimalMixtureControl(reward, alpha)  # closed form on every task here: compare with it
    exact.attach(prior)
    start = time.perf_counter()
    print(f"target weights {[round(w, 3) for w in target.weights.tolist()]}")

    def report(step: int, sampler: FineTunedSampler) -> None:
        with torch.no_grad():
            x = sampler.sample(4096, seed=99)
        weights = [round(w, 3) for w in target.responsibilities(x).mean(0).tolist()]
        print(f"{args.method} step {step}: weight TV {mixture_weight_tv(x, target).item():.4f}, "
              f"weights {weights}, {time.perf_counter() - start:.0f} s", flush=True)
        print("  control error ‖a - a*‖/‖a*‖ by tenth of [t0, t1]:",
              " ".join(f"{e:.2f}" for e in control_error(sampler, exact)), flush=True)

    train(args.method, args.task, args.steps, args.batch, args.hidden, args.lr, args.weight_decay, args.solver_steps,
          args.times, args.seed, args.correction, args.every, report)


if __name__ == "__main__":
    main()
