"""Adjoint Matching (Domingo-Enrich et al., ICLR 2025): regress the control onto the lean adjoint."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .controlled import ControlledSDE
from .corrections import ZeroCorrection
from .objective import Loss
from .reference import ReferenceSDE
from .rewards import evaluate_reward
from .sampler import FineTunedSampler, derived_seeds
from .solve import solve, trajectory


def lean_adjoint(drift: Callable[[Tensor, Tensor], Tensor], times: Tensor, path: Tensor, terminal: Tensor) -> Tensor:
    """The lean adjoint along an Euler path, backwards from ``ã_N = terminal``:

        ã_k = (I + h_k·∂f/∂x(t_k, x_k))ᵀ ã_{k+1},    h_k = t_{k+1} - t_k,

    the exact discrete adjoint of the *reference* Euler chain
    ``x_{k+1} = x_k + h_k·f(t_k, x_k) + σ ΔW`` (the control's own terms are left
    out: that is what makes it lean). In continuous time ``dã/dt = -(∂f/∂x)ᵀã``.

    Args:
        drift: the reference drift ``f(t, x)``, differentiable in ``x``.
        times: the grid ``(N + 1,)``.
        path: the states ``(N + 1, n, *event_shape)``.
        terminal: ``ã_N`` ``(n, *event_shape)``.

    Returns:
        ``ã`` ``(N + 1, n, *event_shape)``, without a graph.
    """
    if path.shape[0] != times.shape[0] or path.shape[1:] != terminal.shape:
        raise ValueError(
            f"need times (N+1,), path (N+1, *x) and terminal x; got {tuple(times.shape)}, "
            f"{tuple(path.shape)} and {tuple(terminal.shape)}"
        )
    adjoints = [terminal.detach()]
    for k in range(path.shape[0] - 2, -1, -1):
        with torch.enable_grad():
            x = path[k].detach().requires_grad_(True)
            f = drift(times[k], x)
            if f.requires_grad:  # a drift that ignores x (dx = √c dW) has no graph: its Jacobian is 0
                (vjp,) = torch.autograd.grad(f, x, grad_outputs=adjoints[-1], allow_unused=True)
            else:
                vjp = None
            vjp = torch.zeros_like(x) if vjp is None else vjp
        adjoints.append(adjoints[-1] + (times[k + 1] - times[k]) * vjp)
    return torch.stack(adjoints[::-1])


@torch.no_grad()
def end_sensitivity(reference: ReferenceSDE, n: int = 64, steps: int = 20, seed: int = 0) -> float:
    """How much the uncontrolled end remembers the start: ``mean ‖x_T - x'_T‖ / ‖x_0 - x'_0‖``
    for starts ``x'_0 = x_0 + δ`` (``‖δ‖ = 0.1`` per sample) under the same Brownian path.

    1 for ``dx = dW`` (the end moves with the start), about ``√ᾱ(1)`` for a VP SDE run to
    ``s = 1`` (memoryless). Adjoint Matching is exact only for a memoryless reference.
    """
    sde = ControlledSDE(reference, ZeroCorrection())
    generator = torch.Generator(device=reference.device).manual_seed(seed)
    x0 = reference.sample_initial(n, generator)
    delta = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    delta = 0.1 * delta / delta.flatten(1).norm(dim=1).view(-1, *([1] * (x0.dim() - 1)))
    a = solve(sde, x0, steps, backend="direct", seed=seed).x
    b = solve(sde, x0 + delta, steps, backend="direct", seed=seed).x
    return float(((a - b).flatten(1).norm(dim=1) / 0.1).mean())


class AdjointMatchingObjective:
    """Adjoint Matching's regression for ``p*(x) ∝ p_pre(x)·exp(r(x)/α)`` with a memoryless reference.

    On a path ``x_0..x_N`` of the current model (Euler, no gradients) the lean adjoint
    ``ã`` (:func:`lean_adjoint`) starts from ``ã_N = ∇r(x_N)/α``; the optimal control
    of ``dx = (f + σa)dt + σdW`` is ``a*(t, x) = σ(t)·∇_x log E[exp(r(x_T)/α) | x_t = x]``,
    and ``E[σ(t)·ã(t) | x_t] = a*(t, x_t)`` when the reference forgets its start. On the
    Euler chain the control of step ``k``, ``a(t_k, x_k)``, moves ``x_{k+1}`` by ``h·σ(t_k)·a``,
    so its target is the sensitivity to ``x_{k+1}``, ``ã_{k+1}``: the loss is

        L(θ) = (1/|K|) Σ_{k ∈ K} E‖a_θ(t_k, x_k) - σ(t_k)·ã_{k+1}‖²

    over ``time_samples`` grid points ``K`` drawn per step (all ``N`` by default);
    ``ã_k = (I + h·∂f/∂x)ᵀã_{k+1}`` in its place would shrink the target by O(h), about
    ``1 - hβ/2`` for a VP drift at the noisy start, where the modes are chosen. It
    needs no backprop through the solver and no value function, but with a reference
    that remembers ``x_0`` (the Brownian prior) its fixed point is biased exactly like
    ELEGANT's fixed-ν baseline: check with :func:`end_sensitivity`.

    Args:
        sampler: the fine-tuned model (its ``steps``; the paths are Euler paths).
        reward: ``r(x) -> (n,)``, differentiable in ``x``.
        alpha: the KL weight; positive.
        time_samples: grid points per loss, or ``None`` for all.
    """

    def __init__(
        self, sampler: FineTunedSampler, reward: Callable[[Tensor], Tensor], alpha: float,
        time_samples: int | None = None,
    ) -> None:
        if not alpha > 0:
            raise ValueError(f"alpha must be positive for Adjoint Matching, got {alpha}")
        if time_samples is not None and not 1 <= time_samples <= sampler.steps:
            raise ValueError(f"time_samples must lie in [1, steps={sampler.steps}] or be None, got {time_samples}")
        if sampler.initial_law is not None:
            raise ValueError("Adjoint Matching starts from N(0, I): give it a sampler without an initial_law")
        self.sampler, self.reward, self.alpha, self.time_samples = sampler, reward, float(alpha), time_samples

    def drift_loss(self, n: int, seed: int) -> Loss:
        """The regression loss on ``n`` fresh paths."""
        start_seed, noise_seed, time_seed = derived_seeds(seed, 3)
        controlled, reference = self.sampler.controlled, self.sampler.reference
        steps = self.sampler.steps
        path, cost = trajectory(controlled, self.sampler.start(n, start_seed), steps, seed=noise_seed)
        with torch.enable_grad():
            end = path[-1].detach().requires_grad_(True)
            reward = evaluate_reward(self.reward, end, gradient_for=f"AdjointMatchingObjective (alpha={self.alpha})")
            (grad,) = torch.autograd.grad(reward.sum(), end)
        times = reference.t0 + (reference.t1 - reference.t0) * torch.arange(
            steps + 1, dtype=path.dtype, device=path.device) / steps
        adjoint = lean_adjoint(controlled.correction.reference_drift, times, path, grad / self.alpha)
        chosen = torch.arange(steps, device=path.device)
        if self.time_samples is not None:
            generator = torch.Generator().manual_seed(time_seed)
            chosen = torch.randperm(steps, generator=generator)[: self.time_samples].sort().values.to(path.device)
        errors = []
        for k in chosen.tolist():
            control = controlled.correction(times[k], path[k])[1]
            target = reference.diffusion(times[k]) * adjoint[k + 1]
            errors.append((control - target).flatten(1).pow(2).sum(1))
        loss = torch.stack(errors).mean()
        logs = {"reward": reward.mean().detach(), "kl_running": cost.mean().detach()}
        return Loss(loss, logs)

    def __call__(self, phase: str, n: int, seed: int) -> Loss:
        """The loss of ``phase``; Adjoint Matching has only the ``"drift"`` phase."""
        if phase != "drift":
            raise ValueError(f"Adjoint Matching has only the 'drift' phase, got {phase!r}")
        return self.drift_loss(n, seed)
