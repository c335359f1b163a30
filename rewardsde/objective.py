"""ELEGANT's objective: the drift, value-regression and initial-law losses with one KL penalty."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from .phases import PHASES
from .rewards import evaluate_reward
from .sampler import FineTunedSampler, derived_seeds
from .solve import Solution


@dataclass
class ValueSkill:
    """How well ``v̂_0`` predicts held-out targets ``y = r(x_T) - c`` better than their mean.

    With ``d_i = (y_i - ȳ)² - (y_i - v̂_0(x_0^i))²`` over ``m`` fresh paths:

    Attributes:
        r2: ``mean(d)/mean((y - ȳ)²)``, the held-out coefficient of determination.
        gain: ``mean(d)``, the reduction of the squared error per path.
        stderr: the standard error of ``gain``, ``std(d)/√m``.
        useful: ``gain > 2·stderr``: the value beats a constant with about 97.5%
            confidence, so tilting the start by ``exp(v̂_0/(α+β))`` rests on signal.
    """

    r2: float
    gain: float
    stderr: float
    useful: bool


@dataclass
class Loss:
    """A scalar to minimise and the detached statistics worth logging beside it.

    Attributes:
        value: the loss, a scalar with a graph.
        logs: named scalars (no graph), e.g. ``reward``, ``kl_running``.
    """

    value: Tensor
    logs: dict[str, Tensor] = field(default_factory=dict)


class ElegantObjective:
    """The three losses of ELEGANT for ``p*(x) ∝ p_pre(x)^{α/(α+β)}·p_prev(x)^{β/(α+β)}·exp(r(x)/(α+β))``.

    With the penalty per path ``c = α∫½‖a‖²dt + β∫½‖a - a_prev‖²dt`` (``β = 0``:
    plain ELEGANT, ``p* ∝ p_pre·exp(r/α)``; ``β > 0``: a SEIKO round, KL to the
    previous round too):

    * :meth:`drift_loss`: ``E[c - r(x_T)]`` from ``x_0 ~ N(0, I)``, differentiated
      through the sampler's back end;
    * :meth:`value_loss`: ``E[(v̂_0(x_0) - (r(x_T) - c))²]`` on detached rollouts;
    * :meth:`initial_loss`: ``E[c_ν - v̂_0(z_1)]`` with ``c_ν`` the same penalty on the
      auxiliary control, so ``ν ∝ exp(v̂_0/(α+β))·N(0, I)`` (and its previous).

    ``alpha`` and ``beta`` are plain attributes: change them between steps and the
    next loss uses them. Each loss takes the batch size ``n`` and a ``seed`` from
    which its start states and Brownian motion are derived, so that a step's noise
    depends on nothing else.

    ``sensitivity_clip=c`` (default ``None``: off) bounds each path's share of the
    drift gradient. With ``ℓ_i = c_i - r(x_T^i)`` and ``ν_i = ‖∂ℓ_i/∂x_0^i‖`` (one extra
    backward pass to the start states; paths are independent, so it is per path),
    the drift loss becomes ``mean_i(w_i·ℓ_i)`` with the detached weights

        w_i = min(1, c·median_j(ν_j)/ν_i).

    The pathwise gradient of a sampler that snaps states to discrete outcomes (one-hot
    sequences) is heavy-tailed: its Jacobian is near zero inside a basin and huge on
    the boundaries, and on the Ehrlich model 1% of the paths carry 99% of the squared
    gradient norm (``benchmarks/ehrlich_gradients.py``). The weights cut that tail. The
    estimator is then *biased*: it no longer sees the paths that cross a decision
    boundary, the good crossings and the bad (loss of feasibility) alike, so the
    stationary point is not the tilted law. Keep it off where exactness matters.

    Args:
        sampler: the fine-tuned model; ``previous=True`` when ``beta > 0``.
        reward: ``r(x) -> (n,)``, differentiable in ``x``.
        alpha: weight of the KL to the pretrained model; non-negative (0: no KL).
        beta: weight of the KL to the previous round; non-negative.
        sensitivity_clip: ``c > 0``, the multiple of the batch's median sensitivity
            above which a path's loss is scaled down; ``None``: the unbiased loss.
            Needs ``backend="direct"`` (the truncated back end cuts the start out of
            the graph).

    Example (one drift step)::

        objective = ElegantObjective(FineTunedSampler(prior, NetworkCorrection()), reward, alpha=0.5)
        loss = objective.drift_loss(256, seed=step)
        loss.value.backward()
    """

    def __init__(
        self,
        sampler: FineTunedSampler,
        reward: Callable[[Tensor], Tensor],
        alpha: float,
        beta: float = 0.0,
        sensitivity_clip: float | None = None,
    ) -> None:
        if sensitivity_clip is not None and not sensitivity_clip > 0:
            raise ValueError(f"sensitivity_clip must be positive or None, got {sensitivity_clip}")
        if sensitivity_clip is not None and sampler.backend != "direct":
            raise ValueError(
                f"sensitivity_clip needs the sampler's backend 'direct' (the path's gradient in its start), "
                f"got {sampler.backend!r}"
            )
        if not alpha >= 0:
            raise ValueError(f"alpha must be non-negative, got {alpha}")
        if not beta >= 0:
            raise ValueError(f"beta must be non-negative, got {beta}")
        if beta > 0 and sampler.controlled.previous is None:
            raise ValueError(f"beta={beta} needs a sampler built with previous=True")
        self.sampler = sampler
        self.reward = reward
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.sensitivity_clip = sensitivity_clip

    @property
    def kl_weight(self) -> float:
        """``α + β``, the temperature of the target and the scale of the value."""
        return self.alpha + self.beta

    def freeze_previous(self) -> None:
        """Freeze the current controls as ``a_prev`` (SEIKO, as a round starts); a no-op without them."""
        if self.sampler.controlled.previous is not None:
            self.sampler.freeze_previous()

    def penalty(self, solution: Solution) -> Tensor:
        """``α∫½‖a‖²dt + β∫½‖a - a_prev‖²dt`` per path, ``(n,)``."""
        cost = self.alpha * solution.running_cost
        if solution.previous_cost is not None:
            cost = cost + self.beta * solution.previous_cost
        return cost

    def _previous_logs(self, solution: Solution, name: str) -> dict[str, Tensor]:
        return {} if solution.previous_cost is None else {name: solution.previous_cost.mean().detach()}

    def drift_loss(self, n: int, seed: int) -> Loss:
        """``E[c - r(x_T)]`` over ``n`` paths from ``x_0 ~ N(0, I)``."""
        start_seed, noise_seed = derived_seeds(seed, 2)
        x0 = self.sampler.start(n, start_seed).requires_grad_(self.sensitivity_clip is not None)
        end = self.sampler.solve(x0, noise_seed)
        reward = evaluate_reward(self.reward, end.x, gradient_for=f"ElegantObjective.drift_loss (alpha={self.alpha})")
        per_path = self.penalty(end) - reward
        logs = {"reward": reward.mean().detach(), "kl_running": end.running_cost.mean().detach()}
        if self.sensitivity_clip is not None:
            weights = self.sensitivity_weights(per_path, x0)
            per_path, logs["clipped"] = weights * per_path, (weights < 1).float().mean()
        return Loss(per_path.mean(), logs | self._previous_logs(end, "kl_previous"))

    def sensitivity_weights(self, per_path: Tensor, x0: Tensor) -> Tensor:
        """``w_i = min(1, c·median(ν)/ν_i)`` with ``ν_i = ‖∂ℓ_i/∂x_0^i‖``, detached, ``(n,)``."""
        (grad,) = torch.autograd.grad(per_path.sum(), x0, retain_graph=True)
        nu = grad.flatten(1).norm(dim=1)
        bound = self.sensitivity_clip * nu.median()
        return torch.where(nu > bound, bound / nu.clamp_min(torch.finfo(nu.dtype).tiny), torch.ones_like(nu)).detach()

    def value_loss(self, n: int, seed: int) -> Loss:
        """``E[(v̂_0(x_0) - (r(x_T) - c))²]``; logs ``value_spread = std(v̂_0)/(α+β)``."""
        law = self._initial_law()
        start_seed, noise_seed = derived_seeds(seed, 2)
        with torch.no_grad():
            x0 = self.sampler.start(n, start_seed)
            end = self.sampler.solve(x0, noise_seed, backend="direct")
            target = evaluate_reward(self.reward, end.x) - self.penalty(end)
        value = law.value_at(x0)
        spread = value.detach().std() / self.kl_weight if self.kl_weight > 0 else value.detach().std()
        return Loss((value - target).pow(2).mean(), {"value_spread": spread})

    @torch.no_grad()
    def value_skill(self, m: int, seed: int) -> ValueSkill:
        """The held-out skill of ``v̂_0`` on ``m`` fresh paths from ``x_0 ~ N(0, I)`` (:class:`ValueSkill`).

        Use a seed that no value step used. Under DDP, give every rank the same seed:
        the parameters are the same, so every rank reaches the same decision.
        """
        if m < 2:
            raise ValueError(f"the skill needs at least 2 paths, got m={m}")
        law = self._initial_law()
        start_seed, noise_seed = derived_seeds(seed, 2)
        x0 = self.sampler.start(m, start_seed)
        end = self.sampler.solve(x0, noise_seed, backend="direct")
        target = (evaluate_reward(self.reward, end.x) - self.penalty(end)).double()
        d = (target - target.mean()).pow(2) - (target - law.value_at(x0).double()).pow(2)
        gain, stderr = d.mean().item(), (d.std() / m**0.5).item()
        spread = (target - target.mean()).pow(2).mean().item()
        return ValueSkill(gain / spread if spread > 0 else 0.0, gain, stderr, gain > 2 * stderr)

    def initial_loss(self, n: int, seed: int) -> Loss:
        """``E[c_ν - v̂_0(z_1)]`` over ``n`` auxiliary paths ``z_1 ~ ν``."""
        law = self._initial_law()
        backend = "direct" if self.sampler.backend == "truncated" else self.sampler.backend
        start = law.sample(n, seed=seed, backend=backend)
        value = law.value_at(start.x)
        logs = {"initial_value": value.mean().detach(), "kl_initial": start.running_cost.mean().detach()}
        return Loss((self.penalty(start) - value).mean(), logs | self._previous_logs(start, "kl_initial_previous"))

    def __call__(self, phase: str, n: int, seed: int) -> Loss:
        """The loss of ``phase`` (``"drift"``, ``"value"`` or ``"initial"``)."""
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        return getattr(self, f"{phase}_loss")(n, seed)

    def _initial_law(self):
        if self.sampler.initial_law is None:
            raise ValueError("the value and initial-law losses need a sampler with an initial_law")
        return self.sampler.initial_law
