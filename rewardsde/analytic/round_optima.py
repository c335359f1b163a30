"""The exact optimum of each SEIKO round for any reward, learned ones included, by reweighting prior draws."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class RoundOptima:
    """Expectations under each round's exact optimum.

    Attributes:
        value: ``E_{p_i}[g]`` for the scored function ``g``, ``(rounds,)``.
        weights: ``p_i``'s self-normalised weights on the prior draws, ``(rounds, n)``.
        effective_size: Kish's effective sample size ``1/Σ_j w_ij²`` of each round, ``(rounds,)``.
    """

    value: Tensor
    weights: Tensor
    effective_size: Tensor


def round_optima(rewards: Tensor, scored: Tensor, alpha: float, beta: float) -> RoundOptima:
    """``E_{p_i}[g]`` for the optima ``p_i`` of rounds ``i = 1..R`` from draws ``x_j ~ p_pre``.

    Round ``i`` maximises ``E_p[r_i] - α·KL(p ‖ p_pre) - β·KL(p ‖ p_{i-1})`` from
    ``p_0 = p_pre``. Its optimum is
    ``p_i ∝ exp(r_i/(α+β))·p_pre^{α/(α+β)}·p_{i-1}^{β/(α+β)} = p_pre·exp(φ_i)``
    with ``φ_i = (r_i + β·φ_{i-1})/(α+β)``, ``φ_0 = 0``; so with ``n`` prior draws,
    ``E_{p_i}[g] ≈ Σ_j w_ij g(x_j)`` with ``w_i = softmax_j φ_i(x_j)``.

    ``r_i`` is whatever round ``i`` optimised (a fitted ``r̂ + ĝ``, or the genuine
    reward for the best any reward model could do). The chain assumes every earlier
    round reached its optimum, so ``p_i`` is the target round ``i`` aims at when
    fine-tuning is exact; the gap between a fine-tuned model and ``p_i`` is
    optimisation error, the gap between ``p_i`` and the genuine reward's optimum is
    reward-model error. The estimate's error scales as ``1/√(effective size)``.

    Args:
        rewards: ``r_i(x_j)``, ``(R, n)``, finite.
        scored: ``g(x_j)``, ``(n,)`` or ``(m, n)`` for ``m`` functions at once (then ``value`` is ``(R, m)``).
        alpha: ``α > 0``; beta: ``β ≥ 0``.
    """
    if rewards.dim() != 2 or scored.shape[-1] != rewards.shape[1] or scored.dim() > 2:
        raise ValueError(f"need rewards (R, n) and scored (n,) or (m, n); got {tuple(rewards.shape)} and {tuple(scored.shape)}")
    if not torch.isfinite(rewards).all():
        raise ValueError("rewards must be finite (label infeasible draws with a finite value first)")
    if not alpha > 0 or not beta >= 0:
        raise ValueError(f"need alpha > 0 and beta >= 0; got alpha={alpha}, beta={beta}")
    phi = torch.zeros_like(rewards[0], dtype=torch.float64)
    weights = []
    for r in rewards.to(torch.float64):
        phi = (r + beta * phi) / (alpha + beta)
        weights.append(torch.softmax(phi, 0))
    weights = torch.stack(weights)
    value = weights @ scored.to(torch.float64).T
    return RoundOptima(value, weights, 1.0 / (weights**2).sum(1))
