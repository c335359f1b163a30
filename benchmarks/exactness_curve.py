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

import torch
from exactness import TASKS

from rewardsde import AdjointMatchingObjective, DenoiserCorrection, ElegantObjective, FineTunedSampler, NetworkCorrection, PhaseSchedule
from rewardsde.analytic import OptimalMixtureControl
from rewardsde.analytic.distances import mixture_weight_tv
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("method", choices=["am", "elegant"])
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

    torch.manual_seed(args.seed)
    task = TASKS[args.task]
    prior, reward, alpha = task["prior"](), task["reward"](), task["alphas"][0]
    target = prior.tilted(reward, alpha)
    if args.correction == "network":
        correction = NetworkCorrection(hidden=args.hidden)
    else:
        correction = DenoiserCorrection(residual_hidden=args.hidden)
    sampler = FineTunedSampler(prior, correction, steps=args.solver_steps, method="euler", backend="direct")
    if args.method == "am":
        objective = AdjointMatchingObjective(sampler, reward, alpha, time_samples=args.times)
    else:
        objective = ElegantObjective(sampler, reward, alpha=alpha)
    exact = OptimalMixtureControl(reward, alpha)  # closed form on every task here: compare with it
    exact.attach(prior)
    schedule = PhaseSchedule(drift_steps=args.steps)
    optimizer = torch.optim.AdamW(correction.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    decay = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: schedule.phase_lr_factor("drift", k))
    start = time.perf_counter()
    print(f"target weights {[round(w, 3) for w in target.weights.tolist()]}")
    for step in range(args.steps):
        loss = objective("drift", n=args.batch, seed=10_000 * args.seed + step)
        optimizer.zero_grad()
        loss.value.backward()
        optimizer.step()
        decay.step()
        if (step + 1) % args.every == 0:
            with torch.no_grad():
                x = sampler.sample(4096, seed=99)
            weights = [round(w, 3) for w in target.responsibilities(x).mean(0).tolist()]
            print(f"{args.method} step {step + 1}: weight TV {mixture_weight_tv(x, target).item():.4f}, "
                  f"weights {weights}, {time.perf_counter() - start:.0f} s", flush=True)
            print("  control error ‖a - a*‖/‖a*‖ by tenth of [t0, t1]:",
                  " ".join(f"{e:.2f}" for e in control_error(sampler, exact)), flush=True)


if __name__ == "__main__":
    main()
