"""Why the pathwise methods under-tilt the five-mode mixture (gmm5), with evidence.

    OMP_NUM_THREADS=1 python benchmarks/mode_weights.py      # about 6 minutes, seed 1 (not a reported seed)

On ``gmm5`` of ``benchmarks/exactness.py`` (five VP modes, quadratic reward, α = 1) the
optimal control is closed form (:class:`rewardsde.analytic.OptimalMixtureControl`), so
each suspect can be tested on its own. Four measurements, each on 16,384 samples of 40
Euler steps (the solver of the exactness rows), against the exact tilt's mode weights:

1. **The solver.** The exact control, sampled on the same grid: if it misses the weights,
   the grid is to blame.
2. **The network.** The control network of the exactness rows (a 2×128 MLP) regressed
   directly onto the exact control along the exact paths: if it misses, capacity is.
3. **Where along the path.** ELEGANT (backprop through the solver) and Adjoint Matching,
   fitted for 1500 steps as in ``benchmarks/exactness_curve.py``; then sampled with the
   learned control inside one window of generation time and the exact one elsewhere.
   Also the objective ``E[r] - α·KL`` of the learned and the exact control on the same
   noise: if the learned one is lower, the optimiser, not the objective, stopped short.
   And Adjoint Matching once more with its regression target replaced by the exact control
   (``exactness_curve.NoiselessMatching``; the target's conditional mean only as the step
   goes to zero, see 5): the same on-policy paths, batch, times and steps.
4. **The training signal.** Both methods learn from the pathwise sensitivity
   ``ã_k = ∏(I + h∂f/∂x)ᵀ∇r(x_N)/α`` (ELEGANT through backprop, Adjoint Matching as its
   regression target ``σã_{k+1}``, whose conditional mean is the optimal control as h → 0). Along
   exact paths: ``E‖σã_{k+1} - a*‖² / E‖a*‖²`` per tenth of the grid, the noise-to-signal
   power of one sample of the target, at 40 and 160 steps.
5. **The target's mean, estimated** (``--offline``, 15 minutes, its own JSON): the same
   MLP regressed onto the pathwise target ``σã_{k+1}`` itself, along exact paths, at the
   40 times of the sampling grid, with 16,384 to 262,144 paths and the target's chain
   refined to 160 and 640 Euler steps. This is one step of Adjoint Matching's fixed-point
   map started at the optimum: if the target's mean were the optimal control (within what
   the data resolve), the fit would land at the floor, as the same fit onto the exact
   control does.

6. **The target's mean, measured without a fit** (``--projection``, about 7 minutes, its own
   JSON). Along exact paths, ``ρ = E[σã_{k+1}·a*] / E[a*·a*]`` per tenth of the 40 sampling
   times: if the target's conditional mean is ``a*``, the error ``σã_{k+1} - a*`` is
   orthogonal to every function of ``x_k`` and ``ρ = 1``. On the 40-step chain with 65,536 and
   262,144 paths, and with the adjoint's chain refined to 160 and 640 steps (the spread of ρ
   over groups of 8,192 paths shows the heavy tail). Then at four fixed states ``x`` on the
   40-step grid (the largest and the median ``‖a*‖`` at steps 8 and 24), 65,536 continuations
   of the exact control on a 640-step chain: the mean of ``σ(t)·ã`` against ``a*(t, x)`` with
   its standard error, the median over 64 groups of the group means (what a batch of 1,024
   sees), and the share of ``Σ‖σã‖`` carried by the largest 0.1% of the samples. ``--float64``
   runs it all in double precision.

7. **A higher-order lean adjoint** (``--rules``, about 4 minutes, its own JSON). If the 40-step bias
   of 6 came from the Euler factor ``I + h∂f/∂x`` standing in for the flow's ``exp(h∂f/∂x)``, a
   better integrator of ``dã/dt = -(∂f/∂x)ᵀã`` on the same path would remove it. ρ per tenth, as in
   6, on 65,536 exact-control paths of 40 and of 160 steps, for three rules of one backward step:
   ``euler`` (the library's :func:`~rewardsde.adjoint_matching.lean_adjoint`), ``heun`` (the
   trapezoid predictor-corrector with the Jacobians at both ends of the step) and ``exp``
   (``exp(h∂f/∂x(t_k, x_k))ᵀ`` by its Taylor series to order 8, the Jacobian frozen at the step's start).

Writes ``benchmarks/results/mode_weights.json`` (``mode_weights_offline.json`` with ``--offline``,
``mode_weights_projection.json`` with ``--projection``, ``mode_weights_rules.json`` with ``--rules``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from exactness import TASKS
from exactness_curve import control_error, train

from rewardsde import ControlledSDE, DriftCorrection, FineTunedSampler, NetworkCorrection, solve
from rewardsde.adjoint_matching import lean_adjoint
from rewardsde.analytic import OptimalMixtureControl
from rewardsde.analytic.distances import mixture_weight_tv
from rewardsde.solve import trajectory

SAMPLES = 16_384
WINDOWS = [(0.0, 0.3), (0.3, 0.5), (0.5, 0.7), (0.7, 0.9), (0.9, 1.0)]


class Windowed(DriftCorrection):
    """The learned control for generation times in ``[lo, hi)`` (fractions of ``[t0, t1]``), the exact one elsewhere."""

    def __init__(self, learned: DriftCorrection, exact: DriftCorrection, lo: float, hi: float) -> None:
        super().__init__()
        self.learned, self.exact, self.lo, self.hi = learned, exact, lo, hi

    def forward(self, t, x):
        fraction = (float(t) - self.reference.t0) / (self.reference.t1 - self.reference.t0)
        inside = self.lo <= fraction < self.hi or (self.hi == 1.0 and fraction >= 1.0)
        drift, control = self.exact(t, x)
        return drift, self.learned(t, x)[1] if inside else control


def measure(sde: ControlledSDE, prior, reward, alpha: float, steps: int = 40) -> dict:
    """Weight TV, weights and ``E[r] - α·KL`` (with its standard error) of ``sde`` on fixed noise."""
    target = prior.tilted(reward, alpha)
    with torch.no_grad():
        end = solve(sde, prior.sample_initial(SAMPLES, torch.Generator().manual_seed(0)), steps, method="euler", seed=1)
    value = reward(end.x).double() - alpha * end.running_cost.double()
    return {"weight_tv": mixture_weight_tv(end.x, target).item(),
            "weights": [round(w, 4) for w in target.responsibilities(end.x).mean(0).tolist()],
            "objective": value.mean().item(), "objective_stderr": (value.std() / SAMPLES ** 0.5).item()}


def exact_paths(prior, exact, steps: int, n: int = 8192):
    """Euler paths under the (attached) exact control and their grid ``(steps + 1,)``."""
    sde = ControlledSDE(prior, OptimalMixtureControl(exact.reward, exact.alpha))
    path, _ = trajectory(sde, prior.sample_initial(n, torch.Generator().manual_seed(2)), steps, seed=3)
    times = prior.t0 + (prior.t1 - prior.t0) * torch.arange(steps + 1, dtype=path.dtype) / steps
    return path, times


def fit_network(x: torch.Tensor, t: torch.Tensor, target: torch.Tensor, prior, hidden: int = 128,
                iterations: int = 3000, seed: int = 1) -> FineTunedSampler:
    """A sampler whose control network (an MLP of width ``hidden``) is regressed onto ``target`` at
    states ``x`` and times ``t``: Adam at 3e-3 with cosine decay, minibatches of 4096."""
    torch.manual_seed(seed)
    sampler = FineTunedSampler(prior, NetworkCorrection(hidden=hidden), steps=40, method="euler", backend="direct")
    network = sampler.controlled.correction
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, iterations)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(iterations):
        rows = torch.randint(0, x.shape[0], (4096,), generator=generator)
        loss = (network.network(x[rows], t[rows]) - target[rows]).pow(2).sum(1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        decay.step()
    return sampler


def regress(prior, exact, hidden: int, iterations: int = 3000, seed: int = 1) -> FineTunedSampler:
    """A sampler whose control network is fitted by plain regression onto the exact control along exact paths."""
    path, times = exact_paths(prior, exact, 40)
    x = path[:-1].reshape(-1, path.shape[-1])
    t = times[:-1].repeat_interleave(path.shape[1])
    with torch.no_grad():
        target = torch.cat([exact(times[k], path[k])[1] for k in range(40)])
    return fit_network(x, t, target, prior, hidden, iterations, seed)


def pathwise_fit(prior, reward, alpha: float, exact, paths: int, chain: int, target: str = "pathwise",
                 iterations: int = 6000, seed: int = 1) -> FineTunedSampler:
    """The control network regressed onto ``σ(t_k)·ã_{k+1}`` (``target="pathwise"``) or onto
    ``a*(t_k, x_k)`` (``"exact"``) at the 40 sampling times, on ``paths`` exact-control Euler
    paths of ``chain`` steps (a multiple of 40; the target's adjoint runs on that finer chain)."""
    if chain % 40 or (paths > 8192 and paths % 8192):
        raise ValueError(f"chain must be a multiple of 40 and paths at most 8192 or a multiple of it, "
                         f"got chain={chain}, paths={paths}")
    sde = ControlledSDE(prior, OptimalMixtureControl(exact.reward, exact.alpha))
    inputs, times_in, targets = [], [], []
    for part in range(max(paths // 8192, 1)):
        n = min(paths, 8192)
        path, _ = trajectory(sde, prior.sample_initial(n, torch.Generator().manual_seed(100 + part)), chain,
                             seed=200 + part)
        times = prior.t0 + (prior.t1 - prior.t0) * torch.arange(chain + 1, dtype=path.dtype) / chain
        adjoint = None
        if target == "pathwise":
            end = path[-1].clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(reward(end).sum(), end)
            adjoint = lean_adjoint(exact.reference_drift, times, path, grad / alpha)
        for k in range(0, chain, chain // 40):
            inputs.append(path[k])
            times_in.append(times[k].expand(n))
            with torch.no_grad():
                targets.append(prior.diffusion(times[k]) * adjoint[k + 1] if adjoint is not None
                               else exact(times[k], path[k])[1])
    x, t, y = torch.cat(inputs), torch.cat(times_in), torch.cat(targets).detach()
    return fit_network(x, t, y, prior, 128, iterations, seed)


OFFLINE = [("exact", 65_536, 40), ("pathwise", 16_384, 40), ("pathwise", 65_536, 40), ("pathwise", 262_144, 40),
           ("pathwise", 65_536, 160), ("pathwise", 65_536, 640)]


def offline(prior, reward, alpha: float, exact, seed: int, out: str) -> None:
    """Measurement 5: the fits of :func:`pathwise_fit`, one row each, to ``out``."""
    rows, start = [], time.perf_counter()
    for target, paths, chain in OFFLINE:
        fitted = pathwise_fit(prior, reward, alpha, exact, paths, chain, target, seed=seed)
        rows.append({"target": target, "paths": paths, "chain": chain} | measure(fitted.controlled, prior, reward, alpha))
        print(json.dumps(rows[-1]), f"({time.perf_counter() - start:.0f} s)", flush=True)
    Path(out).write_text(json.dumps(rows, indent=1) + "\n")
    print("\n| regression target | exact paths | target's Euler chain | weight TV | E[r] − α·KL |\n|---|---|---|---|---|")
    for row in rows:
        name = "σã_{k+1} (Adjoint Matching's)" if row["target"] == "pathwise" else "a* (exact control)"
        print(f"| {name} | {row['paths']:,} | {row['chain']} | {row['weight_tv']:.4f} | {row['objective']:.3f} |")


def _vjps(drift, t, x, v: torch.Tensor, h: float, order: int) -> torch.Tensor:
    """``Σ_{j ≤ order} (h·∂f/∂x(t, x)ᵀ)^j v / j!``: ``order = 1`` is one Euler step of the adjoint."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        f = drift(t, x)
        out = term = v
        for j in range(1, order + 1):
            term = torch.autograd.grad(f, x, grad_outputs=term, retain_graph=j < order)[0] * (h / j)
            out = out + term
    return out.detach()


def adjoint_by_rule(rule: str, drift, times: torch.Tensor, path: torch.Tensor, terminal: torch.Tensor) -> torch.Tensor:
    """The lean adjoint ``(N + 1, n, d)`` along ``path`` by ``rule`` (measurement 7): ``"euler"``
    (:func:`lean_adjoint`), ``"heun"`` or ``"exp"``."""
    if rule == "euler":
        return lean_adjoint(drift, times, path, terminal)
    if rule not in ("heun", "exp"):
        raise ValueError(f"rule must be 'euler', 'heun' or 'exp', got {rule!r}")
    adjoints = [terminal.detach()]
    for k in range(path.shape[0] - 2, -1, -1):
        h, v = float(times[k + 1] - times[k]), adjoints[-1]
        if rule == "exp":
            adjoints.append(_vjps(drift, times[k], path[k], v, h, order=8))
        else:
            slope_end = _vjps(drift, times[k + 1], path[k + 1], v, h, order=1) - v
            slope_start = _vjps(drift, times[k], path[k], v + slope_end, h, order=1) - (v + slope_end)
            adjoints.append(v + (slope_end + slope_start) / 2)
    return torch.stack(adjoints[::-1])


def target_projection(prior, reward, alpha: float, exact, chain: int, parts: int, rule: str = "euler") -> dict:
    """Measurement 6a: ``ρ = Σσã_{k+1}·a* / Σa*·a*`` per tenth of the 40 sampling times, on
    ``parts`` × 8,192 exact-control paths of ``chain`` Euler steps; also per group of 8,192.
    The adjoint is integrated by ``rule`` (:func:`adjoint_by_rule`)."""
    sde = ControlledSDE(prior, OptimalMixtureControl(exact.reward, exact.alpha))
    num, den = torch.zeros(parts, 10, dtype=torch.float64), torch.zeros(parts, 10, dtype=torch.float64)
    for part in range(parts):
        path, _ = trajectory(sde, prior.sample_initial(8192, torch.Generator().manual_seed(100 + part)), chain,
                             seed=200 + part)
        times = prior.t0 + (prior.t1 - prior.t0) * torch.arange(chain + 1, dtype=path.dtype) / chain
        end = path[-1].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(reward(end).sum(), end)
        adjoint = adjoint_by_rule(rule, exact.reference_drift, times, path, grad / alpha)
        with torch.no_grad():
            for k in range(0, chain, chain // 40):
                target, optimal = prior.diffusion(times[k]) * adjoint[k + 1], exact(times[k], path[k])[1]
                num[part, 10 * k // chain] += (target * optimal).sum().item()
                den[part, 10 * k // chain] += optimal.pow(2).sum().item()
    groups = num / den
    return {"rule": rule, "chain": chain, "paths": 8192 * parts, "rho_by_tenth": (num.sum(0) / den.sum(0)).tolist(),
            "rho": (num.sum() / den.sum()).item(), "group_min_by_tenth": groups.min(0).values.tolist(),
            "group_max_by_tenth": groups.max(0).values.tolist()}


def target_at_states(prior, reward, alpha: float, exact, continuations: int = 65_536, chain: int = 640) -> list[dict]:
    """Measurement 6b: at fixed states on the 40-step grid, the mean of ``σ(t)·ã(t)`` over
    ``continuations`` exact-control Euler paths of the rest of a ``chain``-step grid, against ``a*``."""
    path, times = exact_paths(prior, exact, 40, n=4096)
    generator = torch.Generator().manual_seed(11)
    rows = []
    for k in (8, 24):
        with torch.no_grad():
            norms = exact(times[k], path[k])[1].norm(dim=1)
        for which, i in (("largest", int(norms.argmax())), ("median", int(norms.argsort()[len(norms) // 2]))):
            steps = chain * (40 - k) // 40
            h = (prior.t1 - times[k].item()) / steps
            grid = times[k] + h * torch.arange(steps + 1, dtype=path.dtype)
            y = path[k, i].expand(continuations, -1).clone()
            states = [y]
            with torch.no_grad():
                for j in range(steps):
                    drift, control = exact(grid[j], y)
                    sigma = prior.diffusion(grid[j])
                    y = y + h * (drift + sigma * control) + sigma * h**0.5 * torch.randn(
                        y.shape, generator=generator, dtype=y.dtype)
                    states.append(y)
            states = torch.stack(states)
            end = states[-1].clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(reward(end).sum(), end)
            target = prior.diffusion(grid[0]) * lean_adjoint(exact.reference_drift, grid, states, grad / alpha)[1]
            with torch.no_grad():
                optimal = exact(times[k], path[k, i : i + 1])[1][0]
            sizes = target.norm(dim=1).sort().values
            rows.append({"step": k, "state": which, "x": path[k, i].tolist(), "optimal": optimal.tolist(),
                         "mean": target.mean(0).tolist(), "stderr": (target.std(0) / continuations**0.5).tolist(),
                         "median_of_64_group_means": target.reshape(64, -1, target.shape[-1]).mean(1).median(0).values.tolist(),
                         "top_0.1%_share": (sizes[-continuations // 1000 :].sum() / sizes.sum()).item()})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def projection(prior, reward, alpha: float, exact, out: str) -> None:
    """Measurement 6, to ``out``."""
    start = time.perf_counter()
    results = {"projection": []}
    for chain, parts in ((40, 8), (40, 32), (160, 8), (640, 4)):
        results["projection"].append(target_projection(prior, reward, alpha, exact, chain, parts))
        row = results["projection"][-1]
        print(f"chain {chain}, {row['paths']:,} paths: rho {row['rho']:.3f}, by tenth "
              + " ".join(f"{r:.2f}" for r in row["rho_by_tenth"]) + f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    results["states"] = target_at_states(prior, reward, alpha, exact)
    results["seconds"] = time.perf_counter() - start
    Path(out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"saved {out} ({results['seconds']:.0f} s)")


def rules(prior, reward, alpha: float, exact, out: str) -> None:
    """Measurement 7, to ``out``."""
    start, rows = time.perf_counter(), []
    for chain in (40, 160):
        for rule in ("euler", "heun", "exp"):
            rows.append(target_projection(prior, reward, alpha, exact, chain, 8, rule))
            print(f"{rule}, chain {chain}: rho {rows[-1]['rho']:.3f}, by tenth "
                  + " ".join(f"{r:.2f}" for r in rows[-1]["rho_by_tenth"]) + f"  ({time.perf_counter() - start:.0f} s)",
                  flush=True)
    Path(out).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"\n| the adjoint's rule | chain | ρ | ρ in t ∈ [0.7, 0.9) |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row['rule']} | {row['chain']} | {row['rho']:.2f} | "
              + ", ".join(f"{r:.2f}" for r in row["rho_by_tenth"][7:9]) + " |")
    print(f"saved {out} ({time.perf_counter() - start:.0f} s)")


def target_noise(prior, reward, alpha: float, exact, steps: int) -> list[float]:
    """``E‖σã_{k+1} - a*(t_k, x_k)‖² / E‖a*‖²`` per tenth of the grid, on exact paths."""
    path, times = exact_paths(prior, exact, steps)
    end = path[-1].clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(reward(end).sum(), end)
    adjoint = lean_adjoint(exact.reference_drift, times, path, grad / alpha)
    ratios = []
    for tenth in range(10):
        noise = signal = 0.0
        for k in range(tenth * steps // 10, (tenth + 1) * steps // 10):
            optimal = exact(times[k], path[k])[1]
            noise += (prior.diffusion(times[k]) * adjoint[k + 1] - optimal).pow(2).sum().item()
            signal += optimal.pow(2).sum().item()
        ratios.append(noise / signal)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1, help="seed of the fitted networks (not a reported seed)")
    parser.add_argument("--steps", type=int, default=1500, help="training steps of ELEGANT and Adjoint Matching")
    parser.add_argument("--out", default="benchmarks/results/mode_weights.json")
    parser.add_argument("--projection", action="store_true",
                        help="measurement 6 only, to benchmarks/results/mode_weights_projection.json (unless --out is given)")
    parser.add_argument("--float64", action="store_true",
                        help="with --projection: in float64, to mode_weights_projection_float64.json")
    parser.add_argument("--rules", action="store_true",
                        help="measurement 7 only, to benchmarks/results/mode_weights_rules.json (unless --out is given)")
    parser.add_argument("--offline", action="store_true",
                        help="measurement 5 only, to benchmarks/results/mode_weights_offline.json (unless --out is given)")
    args = parser.parse_args()
    if args.float64:
        if not args.projection:
            parser.error("--float64 goes with --projection")
        torch.set_default_dtype(torch.float64)
    task = TASKS["gmm5"]
    prior, reward, alpha = task["prior"](), task["reward"](), task["alphas"][0]
    exact = OptimalMixtureControl(reward, alpha)
    if args.projection:
        exact.attach(prior)
        default = "mode_weights_projection_float64.json" if args.float64 else "mode_weights_projection.json"
        out = args.out if args.out != parser.get_default("out") else f"benchmarks/results/{default}"
        projection(prior, reward, alpha, exact, out)
        return
    if args.rules:
        exact.attach(prior)
        out = args.out if args.out != parser.get_default("out") else "benchmarks/results/mode_weights_rules.json"
        rules(prior, reward, alpha, exact, out)
        return
    if args.offline:
        exact.attach(prior)
        out = args.out if args.out != parser.get_default("out") else "benchmarks/results/mode_weights_offline.json"
        offline(prior, reward, alpha, exact, args.seed, out)
        return
    exact_sde = ControlledSDE(prior, exact)
    target = prior.tilted(reward, alpha)
    results: dict = {"target_weights": [round(w, 4) for w in target.weights.tolist()],
                     "optimum_objective": alpha * target.log_normalizer.item(), "samples": SAMPLES}
    start = time.perf_counter()

    results["solver"] = {f"{steps} Euler steps": measure(exact_sde, prior, reward, alpha, steps) for steps in (40, 100)}
    print(f"1. exact control: {results['solver']}", flush=True)

    fitted = regress(prior, exact, hidden=128, seed=args.seed)
    results["network"] = measure(fitted.controlled, prior, reward, alpha) | {
        "control_error_by_tenth": control_error(fitted, exact)}
    print(f"2. network regressed onto the exact control: {results['network']}  ({time.perf_counter() - start:.0f} s)",
          flush=True)

    results["methods"] = {}
    for method, name, batch, lr in (("elegant", "ELEGANT", 256, 5e-3), ("am", "Adjoint Matching", 512, 1e-2),
                                    ("am-noiseless", "Adjoint Matching, noiseless target", 512, 1e-2)):
        sampler = train(method, steps=args.steps, batch=batch, lr=lr, seed=args.seed)
        learned = sampler.controlled.correction
        row = {"training": {"steps": args.steps, "batch": batch, "lr": lr}, "learned": measure(sampler.controlled, prior, reward, alpha),
               "control_error_by_tenth": control_error(sampler, exact), "learned_only_in": {}}
        for lo, hi in WINDOWS if method != "am-noiseless" else ():
            row["learned_only_in"][f"[{lo}, {hi})"] = measure(
                ControlledSDE(prior, Windowed(learned, exact, lo, hi)), prior, reward, alpha)
        results["methods"][name] = row
        print(f"3. {name}: {json.dumps(row)}  ({time.perf_counter() - start:.0f} s)", flush=True)

    results["target_noise_by_tenth"] = {f"{steps} Euler steps": target_noise(prior, reward, alpha, exact, steps)
                                        for steps in (40, 160)}
    print(f"4. noise-to-signal of the pathwise target: {results['target_noise_by_tenth']}", flush=True)
    results["seconds"] = time.perf_counter() - start

    print("\n| control | weight TV | E[r] - α·KL |\n|---|---|---|")
    print(f"| exact, 40 Euler steps | {results['solver']['40 Euler steps']['weight_tv']:.4f} | "
          f"{results['solver']['40 Euler steps']['objective']:.3f} |")
    print(f"| network regressed onto the exact control | {results['network']['weight_tv']:.4f} | "
          f"{results['network']['objective']:.3f} |")
    for name, row in results["methods"].items():
        print(f"| {name}, learned everywhere | {row['learned']['weight_tv']:.4f} | {row['learned']['objective']:.3f} |")
        for window, cell in row["learned_only_in"].items():
            print(f"| {name}, learned only in t ∈ {window} | {cell['weight_tv']:.4f} | {cell['objective']:.3f} |")
    print("\nnoise-to-signal power of the pathwise target, by tenth of the grid:")
    for grid, ratios in results["target_noise_by_tenth"].items():
        print(f"  {grid}: " + " ".join(f"{r:.0f}" for r in ratios))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nsaved {args.out} ({results['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
